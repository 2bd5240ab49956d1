"""The tradable instruments: a fixed list of US stocks and ETFs read from resources/stocks.csv."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..resources import STOCKS_FILE, find_resources_dir

__all__ = ["STOCKS_FILE", "Instrument", "Universe", "find_resources_dir"]


# What SMART routing can reach; contract details list these, and a request may name any of them.
VALID_EXCHANGES = (
    "SMART", "AMEX", "NYSE", "CBOE", "PHLX", "ISE", "CHX", "ARCA", "ISLAND", "DRCTEDGE", "BEX", "BATS",
    "EDGEA", "BYX", "IEX", "EDGX", "FOXRIVER", "PEARL", "NYSENAT", "LTSE", "MEMX", "IBEOS", "OVERNIGHT",
    "TPLUS0", "PSX",
)
# TWS lists NASDAQ stocks under the venue name ISLAND, and clients use either spelling.
EXCHANGE_ALIASES = {"ISLAND": "NASDAQ", "NASDAQ": "NASDAQ", "NYSE": "NYSE", "ARCA": "ARCA", "AMEX": "AMEX"}
# Market rule 26 is the plain "0.01 everywhere" US stock rule.
MARKET_RULE_ID = 26


@dataclass(frozen=True)
class Instrument:
    symbol: str
    con_id: int
    sec_type: str
    currency: str
    primary_exchange: str
    long_name: str
    industry: str
    category: str
    stock_type: str
    min_tick: float
    start_price: float

    @property
    def trading_class(self) -> str:
        # TWS reports NASDAQ-listed stocks with trading class NMS and others with their symbol.
        return "NMS" if self.primary_exchange == "NASDAQ" and self.stock_type != "ETF" else self.symbol

    @property
    def exec_venue(self) -> str:
        # Executions name the venue, and TWS spells NASDAQ's venue ISLAND.
        return "ISLAND" if self.primary_exchange == "NASDAQ" else self.primary_exchange

    @property
    def price_decimals(self) -> int:
        text = f"{self.min_tick:.10f}".rstrip("0")
        return len(text.split(".")[1]) if "." in text else 0


class Universe:
    """Lookup of instruments by symbol or conId."""

    def __init__(self, instruments: list[Instrument]) -> None:
        if not instruments:
            raise ValueError("the instrument universe is empty")
        self._by_symbol = {i.symbol: i for i in instruments}
        self._by_con_id = {i.con_id: i for i in instruments}
        if len(self._by_symbol) != len(instruments) or len(self._by_con_id) != len(instruments):
            raise ValueError("duplicate symbol or conId in the instrument universe")

    @classmethod
    def load(cls, resources_dir: Path | None = None) -> Universe:
        path = (resources_dir or find_resources_dir()) / STOCKS_FILE
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        instruments = [
            Instrument(
                symbol=row["symbol"].strip().upper(),
                con_id=int(row["con_id"]),
                sec_type=row["sec_type"].strip() or "STK",
                currency=row["currency"].strip() or "USD",
                primary_exchange=row["primary_exchange"].strip(),
                long_name=row["long_name"].strip(),
                industry=row.get("industry", "").strip(),
                category=row.get("category", "").strip(),
                stock_type=row.get("stock_type", "").strip() or "COMMON",
                min_tick=float(row["min_tick"]),
                start_price=float(row["start_price"]),
            )
            for row in rows
        ]
        return cls(instruments)

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_symbol.values())

    def __len__(self) -> int:
        return len(self._by_symbol)

    def symbols(self) -> list[str]:
        return list(self._by_symbol)

    def by_symbol(self, symbol: str) -> Instrument | None:
        return self._by_symbol.get(symbol.strip().upper())

    def by_con_id(self, con_id: int) -> Instrument | None:
        return self._by_con_id.get(con_id)

    def get(self, symbol: str) -> Instrument:
        inst = self.by_symbol(symbol)
        if inst is None:
            raise KeyError(f"unknown symbol {symbol!r}")
        return inst

    def resolve(
        self,
        *,
        con_id: int = 0,
        symbol: str = "",
        sec_type: str = "",
        currency: str = "",
        exchange: str = "",
        primary_exchange: str = "",
    ) -> Instrument | None:
        """The one instrument a contract description means, or None (TWS answers that with error 200)."""
        if con_id > 0:
            inst = self.by_con_id(con_id)
            if inst is None or (symbol and symbol.upper() != inst.symbol):
                return None
        else:
            inst = self.by_symbol(symbol) if symbol else None
            if inst is None:
                return None
        if sec_type and sec_type.upper() != inst.sec_type:
            return None
        if currency and currency.upper() != inst.currency:
            return None
        if primary_exchange and EXCHANGE_ALIASES.get(primary_exchange.upper()) != inst.primary_exchange:
            return None
        if exchange and exchange.upper() not in VALID_EXCHANGES and exchange.upper() != inst.primary_exchange:
            return None
        return inst

    def search(self, pattern: str, limit: int = 16) -> list[Instrument]:
        """reqMatchingSymbols: symbols starting with the pattern first, then long names containing it."""
        needle = pattern.strip().upper()
        if not needle:
            return []
        first = [i for i in self if i.symbol.startswith(needle)]
        rest = [i for i in self if i not in first and needle in i.long_name.upper()]
        return (first + rest)[:limit]
