"""Positions and account values for the window, as plain records.

The library keeps them up to date from what it subscribes to on every connect: reqPositions (every
account's positions), reqAccountUpdates (one account's values and portfolio rows with market prices) or
reqAccountUpdatesMulti (the values of each of several accounts). ``Portfolio`` adds reqPnL for the day's
P&L, converts everything to records without NaNs, and reports changes coalesced per ``interval``.

A position closed today is kept for the day with its realized P&L (quantity 0), as TWS's Account window
keeps it: IB drops it from ``positions()`` but ``updatePortfolio`` reports it, with position 0, when it
closes and to every new subscription that day. Without it the day's rows would not add up to the day's P&L.

A disconnect wipes the library's copies; until the reconnect has synced (state Connected) the last
records delivered stand, so the window does not flash an empty portfolio.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.events import Event
from .coalesce import CoalescedFeed, Coalescer
from .ib import IB

log = logging.getLogger(__name__)

UNSET = 1e300  # IB marks an unknown double with Double.MAX_VALUE
# Day P&L is subscribed per account; an advisor's hundreds of sub-accounts would be hundreds of streams.
MAX_PNL_ACCOUNTS = 50


@dataclass(frozen=True)
class Position:
    account: str
    symbol: str
    quantity: float  # negative when short
    avg_cost: float  # per share, commissions included (IB's figure)
    market_price: float | None
    market_value: float | None
    unrealized_pnl: float | None
    realized_pnl: float | None
    sec_type: str = "STK"

    @property
    def closed(self) -> bool:
        """Closed today: nothing held, kept for its realized P&L."""
        return not self.quantity


@dataclass(frozen=True)
class AccountValues:
    account: str
    net_liquidation: float | None
    buying_power: float | None
    available_funds: float | None
    day_pnl: float | None
    unrealized_pnl: float | None
    realized_pnl: float | None
    currency: str


class Portfolio(CoalescedFeed):
    def __init__(self, ib: IB, interval: float = 0.05) -> None:
        self._ib = ib
        # On the loop, at most once per ``interval``: the day's positions (open, and closed today) when they
        # change, the default account's values when they change.
        self.positions_event: Event[[list[Position]]] = Event("positions")
        self.account_event: Event[[AccountValues]] = Event("account values")
        self._positions_dirty = False
        self._account_dirty = False
        self._coalescer = Coalescer(interval, self._flush)
        # Copies of what the library reported on this connection. The library wipes its own before it
        # reports the disconnect, so the records shown while away are computed from these.
        self._items: dict[tuple[str, int], Any] = {}  # updatePortfolio rows
        self._closed: dict[tuple[str, int], Any] = {}  # updatePortfolio rows of position 0: closed today
        self._raw_positions: dict[tuple[str, int], Any] = {}  # position rows
        self._values: dict[str, dict[tuple[str, str], str]] = {}  # account -> (tag, currency) -> value
        self._pnl: dict[str, Any] = {}  # account -> the library's PnL record
        # False from a disconnect until BrokerCore is Connected again: the new connection's copies are partial.
        self._synced = False
        self._shown_positions: list[Position] = []  # the day's, open and closed
        self._shown_accounts: dict[str, AccountValues] = {}
        self._sent_positions: list[Position] | None = None
        self._sent_account: AccountValues | None = None
        ib.positionEvent += self._on_position
        ib.updatePortfolioEvent += self._on_portfolio_item
        ib.accountValueEvent += self._on_account_value
        ib.pnlEvent += self._on_pnl
        ib.disconnectedEvent += self._on_disconnected

    # -- reading -------------------------------------------------------------------------------------

    def accounts(self) -> list[str]:
        """The managed accounts (those of the last connection while disconnected)."""
        if self._synced:
            return list(self._ib.managedAccounts())
        return sorted(self._shown_accounts)

    def positions(self, account: str | None = None) -> list[Position]:
        """Open positions (of every account, or of one), by account and symbol."""
        return [p for p in self.day_positions(account) if not p.closed]

    def day_positions(self, account: str | None = None) -> list[Position]:
        """The day's positions (of every account, or of one), by account and symbol: the open ones and those
        closed today (quantity 0, with their realized P&L)."""
        rows = self._read_positions() if self._synced else self._shown_positions
        return [p for p in rows if account is None or p.account == account]

    def account(self, account: str | None = None) -> AccountValues | None:
        """The account's values (the first managed account by default); None until IB has sent them."""
        if not self._synced:
            name = account or next(iter(sorted(self._shown_accounts)), "")
            return self._shown_accounts.get(name)
        name = account or self._default_account()
        return self._read_account(name) if name else None

    def _default_account(self) -> str:
        accounts = self._ib.managedAccounts()
        return accounts[0] if accounts else ""

    def _read_positions(self) -> list[Position]:
        items = dict(self._items)
        rows: dict[tuple[str, int], Position] = {}
        for key, p in self._raw_positions.items():
            item = items.pop(key, None)
            rows[key] = _position(p.account, p.contract, p.position, p.avgCost, item)
        for key, item in items.items():  # rows of reqAccountUpdates that reqPositions has not sent (yet)
            rows[key] = _position(item.account, item.contract, item.position, item.averageCost, item)
        open_rows = [r for r in rows.values() if r.quantity]
        closed = [_position(item.account, item.contract, 0.0, 0.0, item) for key, item in self._closed.items()
                  if key not in self._raw_positions]  # reopened: reqPositions says so before updatePortfolio
        return sorted(open_rows + closed, key=lambda r: (r.account, r.symbol))

    def _read_account(self, account: str) -> AccountValues | None:
        values = self._values.get(account, {})
        currency = next((cur for tag, cur in values if tag == "NetLiquidation"), None)
        if currency is None:
            return None

        def number(tag: str) -> float | None:
            return _number(values.get((tag, currency), values.get((tag, "BASE"))))

        pnl = self._pnl.get(account)
        unrealized, realized = number("UnrealizedPnL"), number("RealizedPnL")
        if pnl is not None:
            # reqPnL is pushed about every second, the account values only every few minutes.
            unrealized = _or(_number(pnl.unrealizedPnL), unrealized)
            realized = _or(_number(pnl.realizedPnL), realized)
        return AccountValues(
            account=account,
            net_liquidation=number("NetLiquidation"),
            buying_power=number("BuyingPower"),
            available_funds=number("AvailableFunds"),
            day_pnl=_number(pnl.dailyPnL) if pnl is not None else None,
            unrealized_pnl=unrealized,
            realized_pnl=realized,
            currency=currency,
        )

    # -- callbacks -----------------------------------------------------------------------------------

    def register_positions_callback(self, callback: Callable[[list[Position]], Any]) -> None:
        """``callback(positions)`` on the loop when the day's positions change (``day_positions()``: closed
        ones included, with quantity 0), at most once per ``interval``."""
        self.positions_event.connect(callback)

    def unregister_positions_callback(self, callback: Callable[[list[Position]], Any]) -> None:
        self.positions_event.disconnect(callback)

    def register_account_callback(self, callback: Callable[[AccountValues], Any]) -> None:
        """``callback(values)`` of the default account when they change, at most once per ``interval``."""
        self.account_event.connect(callback)

    def unregister_account_callback(self, callback: Callable[[AccountValues], Any]) -> None:
        self.account_event.disconnect(callback)

    def _mark(self, positions: bool) -> None:
        self._positions_dirty = self._positions_dirty or positions
        self._account_dirty = True  # positions move the account's P&L too
        if self._synced:
            self._coalescer.mark()

    def _flush(self) -> None:
        if not self._synced:
            return
        if self._positions_dirty:
            self._positions_dirty = False
            positions = self.day_positions()
            if positions != self._sent_positions:
                self._sent_positions = positions
                self.positions_event.emit(list(positions))
        if self._account_dirty:
            self._account_dirty = False
            values = self.account()
            if values is not None and values != self._sent_account:
                self._sent_account = values
                self.account_event.emit(values)

    # -- library events ------------------------------------------------------------------------------

    def _on_position(self, position: Any) -> None:
        key = (position.account, position.contract.conId)
        if position.position:
            self._raw_positions[key] = position
        else:
            self._raw_positions.pop(key, None)
        self._mark(positions=True)

    def _on_portfolio_item(self, item: Any) -> None:
        key = (item.account, item.contract.conId)
        if item.position:
            self._items[key] = item
            self._closed.pop(key, None)
        else:
            self._items.pop(key, None)
            self._closed[key] = item
        self._mark(positions=True)

    def _on_account_value(self, value: Any) -> None:
        if value.modelCode:
            return
        self._values.setdefault(value.account, {})[(value.tag, value.currency)] = value.value
        self._mark(positions=False)

    def _on_pnl(self, pnl: Any) -> None:
        if not pnl.modelCode:
            self._pnl[pnl.account] = pnl
            self._mark(positions=False)

    def _on_disconnected(self) -> None:
        if self._synced:
            # Show the last connection's records until the next one has synced.
            self._shown_positions = self._read_positions()
            self._shown_accounts = {
                name: values
                for name in self._values
                if (values := self._read_account(name)) is not None
            }
        self._synced = False
        self._coalescer.cancel()
        self._items.clear()
        self._closed.clear()
        self._raw_positions.clear()
        self._values.clear()
        self._pnl.clear()

    def connection_changed(self, state: str) -> None:
        """BrokerCore's state callback: once (re)connected and synced, subscribe to P&L and report."""
        if state != "Connected" or not self._ib.isConnected():
            return
        self._synced = True
        for account in self._ib.managedAccounts()[:MAX_PNL_ACCOUNTS]:
            if not self._ib.pnl(account):
                self._ib.reqPnL(account)
        self._positions_dirty = self._account_dirty = True
        self._coalescer.mark()


def _position(account: str, contract: Any, quantity: float, avg_cost: float, item: Any) -> Position:
    sec_type = contract.secType or "STK"
    symbol = contract.symbol if sec_type == "STK" else (contract.localSymbol or contract.symbol)
    return Position(
        account=account,
        symbol=symbol,
        quantity=float(quantity),
        avg_cost=float(item.averageCost if item is not None else avg_cost),
        market_price=_number(item.marketPrice) if item is not None else None,
        market_value=_number(item.marketValue) if item is not None else None,
        unrealized_pnl=_number(item.unrealizedPNL) if item is not None else None,
        realized_pnl=_number(item.realizedPNL) if item is not None else None,
        sec_type=sec_type,
    )


def _or(first: float | None, second: float | None) -> float | None:
    return first if first is not None else second


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or abs(number) >= UNSET:
        return None
    return number
