"""The paper account: cash, positions with IB-style average cost, realized P&L and margin figures."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .records import PositionView
from .universe import Instrument

Marks = Callable[[str], float]


@dataclass
class Holding:
    instrument: Instrument
    qty: float = 0.0
    # IB's avgCost includes the commissions paid to open the position.
    avg_cost: float = 0.0
    realized: float = 0.0


class Account:
    def __init__(self, account_id: str, start_cash: float, margin_rate: float) -> None:
        self.account_id = account_id
        self.cash = float(start_cash)
        self.margin_rate = margin_rate
        self.realized_pnl = 0.0
        self.holdings: dict[str, Holding] = {}

    def restore(self, cash: float, realized_pnl: float, holdings: Iterable[Holding]) -> None:
        """Take over a saved account (the state file's cash, realized P&L and positions)."""
        self.cash = float(cash)
        self.realized_pnl = float(realized_pnl)
        self.holdings = {h.instrument.symbol: h for h in holdings}

    def apply_fill(self, inst: Instrument, sign: int, shares: float, price: float, commission: float) -> float | None:
        """Book an execution; returns its realized P&L, or None when it only opened or added (as IB reports)."""
        h = self.holdings.setdefault(inst.symbol, Holding(inst))
        self.cash -= sign * shares * price + commission
        delta = sign * shares
        realized: float | None = None
        if h.qty == 0 or (h.qty > 0) == (delta > 0):
            new_qty = h.qty + delta
            h.avg_cost = (abs(h.qty) * h.avg_cost + shares * price + commission) / abs(new_qty)
            h.qty = new_qty
        else:
            closing = min(abs(delta), abs(h.qty))
            # The commission is charged to the closing part first; an opened remainder starts clean.
            realized = closing * (price - h.avg_cost) * (1 if h.qty > 0 else -1) - commission * closing / shares
            h.qty += delta
            if abs(h.qty) < 1e-9:
                h.qty = 0.0
                h.avg_cost = 0.0
            elif (h.qty > 0) == (delta > 0):
                h.avg_cost = price + commission * (1 - closing / shares) / abs(h.qty)
            h.realized += realized
            self.realized_pnl += realized
        return realized

    def adjust_cash(self, amount: float) -> None:
        self.cash += amount

    def position(self, symbol: str) -> float:
        h = self.holdings.get(symbol)
        return h.qty if h else 0.0

    def positions(self) -> list[PositionView]:
        return [
            PositionView(h.instrument.symbol, h.instrument.con_id, h.qty, h.avg_cost, h.realized)
            for h in self.holdings.values()
        ]

    # --- valuation ---------------------------------------------------------------------------------
    def stock_value(self, marks: Marks) -> float:
        return sum(h.qty * marks(sym) for sym, h in self.holdings.items())

    def gross_value(self, marks: Marks) -> float:
        return sum(abs(h.qty) * marks(sym) for sym, h in self.holdings.items())

    def net_liquidation(self, marks: Marks) -> float:
        return self.cash + self.stock_value(marks)

    def unrealized(self, marks: Marks) -> float:
        return sum(h.qty * marks(sym) - h.qty * h.avg_cost for sym, h in self.holdings.items() if h.qty)

    def init_margin(self, marks: Marks) -> float:
        return self.margin_rate * self.gross_value(marks)

    def margin_after(self, exposure: dict[str, tuple[float, float]], marks: Marks) -> float:
        """Initial margin with positions replaced by projected quantities {symbol: (qty, price)}."""
        total = 0.0
        for sym, h in self.holdings.items():
            if sym not in exposure:
                total += abs(h.qty) * marks(sym)
        total += sum(abs(qty) * price for qty, price in exposure.values())
        return self.margin_rate * total

    def values(self, marks: Marks) -> list[tuple[str, str, str]]:
        """(key, value, currency) the way updateAccountValue/accountSummary report them."""
        nlv = self.net_liquidation(marks)
        gross = self.gross_value(marks)
        init = self.margin_rate * gross
        available = nlv - init
        money = {
            "NetLiquidation": nlv, "TotalCashValue": self.cash, "SettledCash": self.cash,
            "CashBalance": self.cash, "TotalCashBalance": self.cash, "AccruedCash": 0.0,
            "EquityWithLoanValue": nlv, "PreviousDayEquityWithLoanValue": nlv, "RegTEquity": nlv,
            "GrossPositionValue": gross, "StockMarketValue": self.stock_value(marks),
            "InitMarginReq": init, "MaintMarginReq": init, "FullInitMarginReq": init, "FullMaintMarginReq": init,
            "RegTMargin": gross * 0.5, "AvailableFunds": available, "FullAvailableFunds": available,
            "ExcessLiquidity": available, "FullExcessLiquidity": available, "SMA": max(0.0, available),
            "LookAheadInitMarginReq": init, "LookAheadMaintMarginReq": init,
            "LookAheadAvailableFunds": available, "LookAheadExcessLiquidity": available,
            "BuyingPower": max(0.0, available) / self.margin_rate,
            "UnrealizedPnL": self.unrealized(marks), "RealizedPnL": self.realized_pnl,
        }
        out = [("AccountCode", self.account_id, ""), ("AccountType", "INDIVIDUAL", ""),
               ("AccountReady", "true", ""), ("Currency", "USD", "USD"), ("ExchangeRate", "1.00", "USD"),
               ("Cushion", f"{(available / nlv) if nlv else 0.0:.6f}", ""),
               ("Leverage-S", f"{(gross / nlv) if nlv else 0.0:.4f}", ""),
               ("DayTradesRemaining", "-1", ""), ("LookAheadNextChange", "0", ""), ("HighestSeverity", "0", "")]
        out += [(key, f"{value:.2f}", "USD") for key, value in money.items()]
        # TWS repeats the cash figures in the BASE pseudo-currency.
        out += [(key, f"{self.cash:.2f}", "BASE") for key in ("CashBalance", "TotalCashBalance")]
        return out


def corrected_holding(h: Holding, sign: int, old: tuple[float, float], new: tuple[float, float]) -> None:
    """Rebook an execution correction: (shares, price) old -> new, keeping the position's cost basis."""
    old_shares, old_price = old
    new_shares, new_price = new
    old_qty = h.qty
    h.qty += sign * (new_shares - old_shares)
    if abs(h.qty) < 1e-9:
        h.qty, h.avg_cost = 0.0, 0.0
    elif old_qty:
        cost = abs(old_qty) * h.avg_cost + sign * (new_shares * new_price - old_shares * old_price) * (
            1 if old_qty > 0 else -1)
        h.avg_cost = cost / abs(h.qty)
    else:
        h.avg_cost = new_price
