"""reqMarketDataType: which data a client asks for (live, frozen, delayed, delayed-frozen).

It only matters for a paper account configured without a market-data subscription (see QuoteFeed).
"""

from __future__ import annotations

from typing import Protocol

from .feeds import DELAYED_FROZEN, LIVE, QuoteFeed
from .requests import versioned_ints


class Asker(Protocol):
    """The connection that asked (``session.ClientSession``)."""

    quotes: QuoteFeed

    def error(self, req_id: int, code: int, text: str) -> None: ...


def req_market_data_type(session: Asker, fields: list[str]) -> None:
    (data_type,) = versioned_ints(fields, "marketDataType")
    if not LIVE <= data_type <= DELAYED_FROZEN:
        session.error(-1, 321, f"Error validating request: market data type {data_type} is not 1, 2, 3 or 4")
        return
    session.quotes.data_type = data_type
