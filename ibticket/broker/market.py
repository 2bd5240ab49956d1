"""Streaming quotes and symbol lookup for the window, as plain records.

The window never sees the library's Ticker: ``MarketData`` keeps one market-data request per symbol
however many views watch it (reference-counted), turns the ticker's NaNs into None, and delivers
``Quote`` records coalesced to at most one per symbol per ``interval``.

Without a market-data subscription TWS answers a live request with error 354 (or 10089/10090); the
request is then repeated as delayed data (market data type 3, which still gives live data wherever the
account has it) and the quotes say ``delayed=True`` with a notice. A reconnect starts every request
again: the library drops its tickers on disconnect.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..core.events import Event
from ..core.validation import OrderValidationError, normalize_symbol
from .coalesce import CoalescedFeed, Coalescer
from .contracts import ContractBook, ContractInfo
from .errors import NotConnectedError
from .ib import IB

log = logging.getLogger(__name__)

# Data types of reqMarketDataType / the marketDataType message.
LIVE, FROZEN, DELAYED, DELAYED_FROZEN = 1, 2, 3, 4
# No (or not enough) subscription for live data: ask again for delayed data.
NO_SUBSCRIPTION = frozenset({354, 10089, 10090})
DELAYED_SHOWN = 10167  # "Displaying delayed market data": a notice, the data flows
DELAYED_DISABLED = 10168  # no subscription and delayed data is not enabled either: nothing will come
# Codes about a market-data request that change nothing (IB's farm notices come without a request id).
QUIET = frozenset({300, 2104, 2106, 2107, 2108, 2119, 2158})

NOTICE_DELAYED = "delayed 15 min: no market data subscription"
NOTICE_DISABLED = "no market data: no subscription, and delayed data is not enabled"
NOTICE_DISCONNECTED = "no market data while disconnected"

US_STOCK_CURRENCY = "USD"
_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9 .&'/-]*")
MAX_PATTERN = 40


@dataclass(frozen=True)
class Quote:
    """Top of book for one symbol. None: not known (yet); never NaN. ``time`` is naive local time."""

    symbol: str
    bid: float | None
    ask: float | None
    last: float | None
    bid_size: int | None
    ask_size: int | None
    last_size: int | None
    close: float | None  # the previous session's close
    time: datetime
    delayed: bool
    volume: int | None = None
    notice: str = ""  # why data is delayed or missing; "" when live


@dataclass(frozen=True)
class SymbolMatch:
    symbol: str
    name: str
    exchange: str  # the primary listing exchange
    sec_type: str


@dataclass
class _Subscription:
    info: ContractInfo
    count: int = 1
    ticker: Any = None
    generation: int = -1  # the connection the request was sent on
    tried_delayed: bool = False
    notice: str = ""
    last: Quote | None = field(default=None, repr=False)


class MarketData(CoalescedFeed):
    def __init__(self, ib: IB, contracts: ContractBook, interval: float = 0.05) -> None:
        self._ib = ib
        self._contracts = contracts
        self._subs: dict[str, _Subscription] = {}
        self._by_con_id: dict[int, str] = {}
        # A symbol's latest quote, on the loop, at most once per symbol per ``interval``.
        self.quote_event: Event[[Quote]] = Event("quote")
        self._dirty: set[str] = set()
        self._coalescer = Coalescer(interval, self._flush)
        # Each connection gets a new generation: requests of an older one are gone at IB and in the library.
        self._generation = 0
        # Once one symbol needed delayed data, every later request of this session asks for type 3 too.
        self._delayed_mode = False
        ib.pendingTickersEvent += self._on_tickers
        ib.errorEvent += self._on_error
        ib.disconnectedEvent += self._on_disconnected

    # -- subscriptions -------------------------------------------------------------------------------

    async def subscribe(self, symbol: str) -> ContractInfo:
        """Stream quotes for ``symbol`` (one more watcher if already streaming); unknown symbols are refused."""
        name = normalize_symbol(symbol)
        sub = self._subs.get(name)
        if sub is not None:
            sub.count += 1
            return sub.info
        if not self._ib.isConnected():

            raise NotConnectedError(f"Not connected to IB: no quotes for {name}")
        info = await self._contracts.resolve(name)
        sub = self._subs.get(name)  # another view may have subscribed while this one resolved
        if sub is not None:
            sub.count += 1
            return sub.info
        sub = self._subs[name] = _Subscription(info)
        self._by_con_id[info.contract.conId] = name
        self._request(sub)
        return info

    def unsubscribe(self, symbol: str) -> None:
        """One watcher fewer; the last one stops the stream. Unknown symbols are ignored."""
        try:
            name = normalize_symbol(symbol)
        except OrderValidationError:
            return
        sub = self._subs.get(name)
        if sub is None:
            return
        sub.count -= 1
        if sub.count > 0:
            return
        del self._subs[name]
        self._by_con_id.pop(sub.info.contract.conId, None)
        self._dirty.discard(name)
        if sub.generation == self._generation and self._ib.isConnected():
            self._ib.cancelMktData(sub.info.contract)

    def subscriptions(self) -> dict[str, int]:
        """Symbol -> number of watchers."""
        return {name: sub.count for name, sub in self._subs.items()}

    def _request(self, sub: _Subscription) -> None:
        sub.generation = self._generation
        sub.ticker = self._ib.reqMktData(sub.info.contract)

    # -- reading -------------------------------------------------------------------------------------

    def quote(self, symbol: str) -> Quote | None:
        """The latest quote; None when not subscribed or nothing is known yet."""
        try:
            name = normalize_symbol(symbol)
        except OrderValidationError:
            return None
        sub = self._subs.get(name)
        return self._build(name, sub) if sub is not None else None

    def notice(self, symbol: str) -> str:
        """Why quotes for ``symbol`` are delayed or missing; "" when they are live (or not subscribed)."""
        quote = self.quote(symbol)
        return quote.notice if quote is not None else ""

    def _build(self, name: str, sub: _Subscription) -> Quote | None:
        ticker = sub.ticker
        live_here = ticker is not None and sub.generation == self._generation and self._ib.isConnected()
        if not live_here or not _has_data(ticker):
            # Keep showing the last values (after a reconnect, until the new request's first ticks).
            if sub.last is not None and sub.last.notice != sub.notice:
                sub.last = replace(sub.last, notice=sub.notice)
            if sub.last is None and sub.notice:
                sub.last = Quote(name, None, None, None, None, None, None, None, datetime.now(), False,
                                 notice=sub.notice)
            return sub.last
        delayed = ticker.marketDataType in (DELAYED, DELAYED_FROZEN)
        notice = sub.notice or (NOTICE_DELAYED if delayed else "")
        quote = Quote(
            symbol=name,
            bid=_price(ticker.bid),
            ask=_price(ticker.ask),
            last=_price(ticker.last),
            bid_size=_size(ticker.bidSize),
            ask_size=_size(ticker.askSize),
            last_size=_size(ticker.lastSize),
            close=_price(ticker.close),
            time=_local(ticker.time),
            delayed=delayed,
            volume=_size(ticker.volume),
            notice=notice,
        )
        sub.last = quote
        return quote

    # -- callbacks -----------------------------------------------------------------------------------

    def register_quote_callback(self, callback: Callable[[Quote], Any]) -> None:
        """``callback(quote)`` on the loop, at most once per symbol per ``interval``, with the latest values."""
        self.quote_event.connect(callback)

    def unregister_quote_callback(self, callback: Callable[[Quote], Any]) -> None:
        self.quote_event.disconnect(callback)

    def _mark(self, name: str) -> None:
        self._dirty.add(name)
        self._coalescer.mark()

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for name in sorted(dirty):
            sub = self._subs.get(name)
            if sub is None:
                continue
            quote = self._build(name, sub)
            if quote is not None:
                self.quote_event.emit(quote)

    # -- library events ------------------------------------------------------------------------------

    def _on_tickers(self, tickers: Any) -> None:
        for ticker in tickers:
            name = self._by_con_id.get(getattr(ticker.contract, "conId", 0))
            sub = self._subs.get(name) if name else None
            if name and sub is not None and sub.ticker is ticker:
                if sub.notice and sub.notice != NOTICE_DELAYED:
                    sub.notice = ""  # data flows again: whatever interrupted it is over
                self._mark(name)

    def _on_error(self, req_id: int, code: int, message: str, contract: Any = None, *rest: Any) -> None:
        if req_id is None or req_id <= 0 or contract is None or code in QUIET:
            return
        name = self._by_con_id.get(getattr(contract, "conId", 0))
        sub = self._subs.get(name) if name else None
        if not name or sub is None or sub.info.contract is not contract:
            return  # an order or contract request, or a request this module no longer holds
        if code in NO_SUBSCRIPTION and not sub.tried_delayed:
            log.info("%s: %s (%s); asking for delayed data", name, message, code)
            sub.tried_delayed = True
            self._use_delayed()
            if code == 10090:  # partial data keeps flowing under the old request: end it first
                self._ib.cancelMktData(sub.info.contract)
            self._request(sub)
            return
        if code == DELAYED_SHOWN:
            sub.notice = NOTICE_DELAYED
        elif code == DELAYED_DISABLED:
            sub.notice = NOTICE_DISABLED
        elif code in NO_SUBSCRIPTION:
            sub.notice = f"no market data: {message}"
        else:
            log.info("market data for %s: error %s: %s", name, code, message)
            sub.notice = f"market data: {message}"
        self._mark(name)

    def _use_delayed(self) -> None:
        if not self._delayed_mode:
            self._delayed_mode = True
            self._ib.reqMarketDataType(DELAYED)

    def _on_disconnected(self) -> None:
        self._generation += 1
        for name, sub in self._subs.items():
            sub.notice = NOTICE_DISCONNECTED
            sub.tried_delayed = False
            self._dirty.add(name)
        if self._subs:
            self._coalescer.mark()

    def connection_changed(self, state: str) -> None:
        """BrokerCore's state callback: once reconnected (and reconciled), request every stream again."""
        if state != "Connected" or not self._ib.isConnected():
            return
        if self._delayed_mode:
            # The market data type is per connection.
            self._ib.reqMarketDataType(DELAYED)
        for name, sub in self._subs.items():
            if sub.generation != self._generation:
                sub.notice = ""
                self._request(sub)
                self._mark(name)

    # -- lookup --------------------------------------------------------------------------------------

    async def lookup(self, prefix: str, limit: int = 10) -> list[SymbolMatch]:
        """US stocks and ETFs whose symbol starts with ``prefix`` (then those whose name contains it).

        [] when nothing matches or IB does not answer; a prefix that cannot be a symbol or name is refused.
        """
        pattern = _check_prefix(prefix)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise OrderValidationError(f"limit must be a whole number, 1 or more, not {limit!r}")
        if not self._ib.isConnected():

            raise NotConnectedError("Not connected to IB: symbol lookup needs the connection")
        descriptions = await self._ib.reqMatchingSymbolsAsync(pattern) or []
        matches: dict[str, SymbolMatch] = {}
        for description in descriptions:
            contract = description.contract
            if contract is None or contract.secType != "STK" or contract.currency != US_STOCK_CURRENCY:
                continue
            symbol = contract.symbol.upper()
            if symbol not in matches:
                name = getattr(contract, "description", "") or ""
                matches[symbol] = SymbolMatch(symbol, name, contract.primaryExchange or "", contract.secType)
        # IB ranks by its own measure; a trader typing a prefix expects the exact symbol, then prefixes.
        ranked = sorted(matches.values(), key=lambda m: (m.symbol != pattern, not m.symbol.startswith(pattern)))
        return ranked[:limit]


def _check_prefix(prefix: str) -> str:
    if not isinstance(prefix, str):
        raise OrderValidationError(f"Search text must be text, not {type(prefix).__name__}")
    pattern = " ".join(prefix.split()).upper()
    if not pattern:
        raise OrderValidationError("Type a symbol or company name to search for")
    if len(pattern) > MAX_PATTERN:
        raise OrderValidationError(f"Search text is too long ({len(pattern)} characters; at most {MAX_PATTERN})")
    if not _PATTERN.fullmatch(pattern):
        raise OrderValidationError(
            f"Search text {prefix.strip()!r} can only hold letters, digits, spaces and . & ' / -"
        )
    return pattern


def _has_data(ticker: Any) -> bool:
    return any(_price(getattr(ticker, name)) is not None for name in ("bid", "ask", "last", "close"))


def _price(value: Any) -> float | None:
    # IB sends -1 for "no bid/ask" and the library starts every field at NaN.
    if value is None or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        return None
    return float(value)


def _size(value: Any) -> int | None:
    if value is None or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    return int(value)


def _local(when: Any) -> datetime:
    if not isinstance(when, datetime):
        return datetime.now()
    if when.tzinfo is not None:
        return when.astimezone().replace(tzinfo=None)
    return when
