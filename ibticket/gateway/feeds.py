"""Per-connection subscriptions: streamed quotes and the account, position and P&L pushes; and the
replay of executions (reqExecutions).

Pushes carry only what changed since the last push to that subscription, as TWS's streams do.

Account pushes are coalesced per client. A fill (or, every account_update_interval, the moving market)
only marks the client's account feed dirty; the feed then flushes at the end of the current loop turn if
its last push is at least account_update_interval old, else when that interval is over. A flush sends
each changed position once (position for reqPositions, updatePortfolio for reqAccountUpdates), then the
changed account values, updateAccountTime, accountUpdateMulti and P&L rows. So a burst of executions
costs one push per interval, not one per execution, while an isolated fill is still pushed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from . import messages as msg
from .account import Account
from .book import OrderBook
from .config import GatewayConfig
from .market import Market, Quote
from .messages import Fields
from .records import Execution
from .requests import ExecFilter
from .universe import Instrument, Universe

log = logging.getLogger(__name__)

Send = Callable[[Fields], None]


class FeedSource(Protocol):
    """What the feeds read of the gateway (``server.PaperGateway``)."""

    config: GatewayConfig
    universe: Universe
    market: Market
    account: Account
    book: OrderBook

    def account_rows(self) -> list[tuple[str, str, str]]: ...

    def portfolio_fields(self, symbol: str) -> Fields: ...

    def pnl_fields(self, req_id: int) -> Fields: ...


@dataclass
class MarketDataSub:
    req_id: int
    instrument: Instrument
    # tick type -> last value sent, so that only changes are streamed
    sent: dict[int, float] = field(default_factory=dict)
    # Delayed data travels under its own tick types (see messages.DELAYED_TICK).
    delayed: bool = False


# reqMarketDataType values.
LIVE, FROZEN, DELAYED, DELAYED_FROZEN = 1, 2, 3, 4
NOT_SUBSCRIBED = 354
DELAYED_SHOWN = 10167


class QuoteFeed:
    def __init__(self, gateway: FeedSource, send: Send) -> None:
        self._gw = gateway
        self._send = send
        self.market_data: dict[int, MarketDataSub] = {}
        # What the client asked for with reqMarketDataType; it matters only without a data subscription.
        self.data_type = LIVE

    def subscribe(self, req_id: int, inst: Instrument, snapshot: bool) -> None:
        """Send the current quote; keep streaming changes unless it is a snapshot.

        Without a market-data subscription (config.market_data_subscription False) a live request is
        refused with 354, as TWS does; a client that asked for delayed data gets the quotes as delayed ticks.
        """
        delayed = not self._gw.config.market_data_subscription
        if delayed and self.data_type in (LIVE, FROZEN):
            self._send(msg.error(req_id, NOT_SUBSCRIBED, "Requested market data is not subscribed. Delayed market "
                                 f"data is available.{inst.symbol} {inst.exec_venue}/TOP/ALL"))
            return
        sub = MarketDataSub(req_id, inst, delayed=delayed)
        if delayed:
            self._send(msg.error(req_id, DELAYED_SHOWN, "Requested market data is not subscribed. Displaying "
                                 f"delayed market data.{inst.symbol} {inst.exec_venue}/TOP/ALL"))
        self._send(msg.market_data_type(req_id, DELAYED if delayed else LIVE))
        self._send(msg.tick_req_params(req_id, inst.min_tick, inst.exec_venue))
        self._send_ticks(sub, self._gw.market.quote(inst.symbol), full=True)
        if snapshot:
            self._send(msg.tick_snapshot_end(req_id))
        else:
            self.market_data[req_id] = sub

    def cancel(self, req_id: int) -> bool:
        return self.market_data.pop(req_id, None) is not None

    def on_quotes(self, symbols: set[str]) -> None:
        for sub in list(self.market_data.values()):
            if sub.instrument.symbol in symbols:
                self._send_ticks(sub, self._gw.market.quote(sub.instrument.symbol), full=False)

    def _send_ticks(self, sub: MarketDataSub, q: Quote, full: bool) -> None:
        sent, rid, send = sub.sent, sub.req_id, self._send

        def wire(tick: int) -> int:
            return msg.DELAYED_TICK[tick] if sub.delayed else tick

        def changed(tick: int, value: float) -> bool:
            if full or sent.get(tick) != value:
                sent[tick] = value
                return True
            return False

        for price_tick, size_tick, price, size in ((msg.BID, msg.BID_SIZE, q.bid, q.bid_size),
                                                   (msg.ASK, msg.ASK_SIZE, q.ask, q.ask_size)):
            if changed(price_tick, price):
                changed(size_tick, size)
                send(msg.tick_price(rid, wire(price_tick), price, size))
            elif changed(size_tick, size):
                send(msg.tick_size(rid, wire(size_tick), size))
        if changed(msg.VOLUME, q.volume) or changed(msg.LAST, q.last):
            sent[msg.LAST], sent[msg.VOLUME] = q.last, q.volume
            send(msg.tick_price(rid, wire(msg.LAST), q.last, q.last_size))
            send(msg.tick_size(rid, wire(msg.VOLUME), q.volume))
            send(msg.tick_string(rid, wire(msg.LAST_TIMESTAMP), str(int(time.time()))))
        for tick, value in ((msg.HIGH, q.high), (msg.LOW, q.low), (msg.CLOSE, q.close), (msg.OPEN, q.open)):
            if changed(tick, value):
                send(msg.tick_price(rid, wire(tick), value, 0))


class AccountFeed:
    def __init__(self, gateway: FeedSource, send: Send, on_failure: Callable[[], None]) -> None:
        self._gw = gateway
        self._send = send
        self._on_failure = on_failure
        self.account_updates = False
        self.positions_subscribed = False
        self.multi_subs: set[int] = set()
        self.pnl_subs: set[int] = set()
        self._sent_values: dict[tuple[str, str], str] = {}
        self._sent_multi: dict[int, dict[tuple[str, str], str]] = {}
        self._sent_portfolio: dict[str, Fields] = {}
        self._sent_positions: dict[str, tuple[float, float]] = {}
        self._sent_pnl: dict[int, Fields] = {}
        # Coalescing: what changed since the last flush, and when the last flush sent something.
        self._dirty = False
        self._changed_symbols: set[str] = set()
        self._flush_handle: asyncio.Handle | None = None
        self._last_push = -math.inf

    @property
    def subscribed(self) -> bool:
        return self.account_updates or self.positions_subscribed or bool(self.multi_subs) or bool(self.pnl_subs)

    # --- reqAccountUpdates -------------------------------------------------------------------------
    def start_account_updates(self) -> None:
        self.account_updates = True
        self._sent_values.clear()
        self._sent_portfolio.clear()
        self._push_account_values()
        # Every position of the day, those closed today too (position 0, with their realized P&L): TWS's
        # Account window keeps them until the day ends, and so does reqAccountUpdates.
        for holding in self._gw.account.holdings.values():
            self._push_portfolio(holding.instrument.symbol)
        self._send(msg.account_time(datetime.now()))
        self._send(msg.account_download_end(self._gw.account.account_id))

    def stop_account_updates(self) -> None:
        self.account_updates = False

    def _push_account_values(self) -> bool:
        account_id = self._gw.account.account_id
        changed = _changed_rows(self._sent_values, self._gw.account_rows())
        for key, value, currency in changed:
            self._send(msg.account_value(key, value, currency, account_id))
        return bool(changed)

    def _push_portfolio(self, symbol: str) -> bool:
        fields = self._gw.portfolio_fields(symbol)
        if self._sent_portfolio.get(symbol) == fields:
            return False
        self._sent_portfolio[symbol] = fields
        self._send(fields)
        return True

    # --- reqPositions ------------------------------------------------------------------------------
    def start_positions(self) -> None:
        self.positions_subscribed = True
        account = self._gw.account
        self._sent_positions.clear()
        for symbol, holding in account.holdings.items():
            self._sent_positions[symbol] = (holding.qty, holding.avg_cost)
            if holding.qty:
                self._send(msg.position(account.account_id, holding.instrument, holding.qty, holding.avg_cost))
        self._send(msg.position_end())

    def stop_positions(self) -> None:
        self.positions_subscribed = False

    def _push_position(self, symbol: str) -> bool:
        account = self._gw.account
        holding = account.holdings.get(symbol)
        if holding is None or self._sent_positions.get(symbol) == (holding.qty, holding.avg_cost):
            return False
        self._sent_positions[symbol] = (holding.qty, holding.avg_cost)
        self._send(msg.position(account.account_id, holding.instrument, holding.qty, holding.avg_cost))
        return True

    # --- reqAccountUpdatesMulti --------------------------------------------------------------------
    def start_multi(self, req_id: int) -> None:
        self.multi_subs.add(req_id)
        self._sent_multi[req_id] = {}
        self._push_multi(req_id)
        self._send(msg.account_update_multi_end(req_id))

    def cancel_multi(self, req_id: int) -> None:
        self.multi_subs.discard(req_id)
        self._sent_multi.pop(req_id, None)

    def _push_multi(self, req_id: int) -> bool:
        account_id = self._gw.account.account_id
        changed = _changed_rows(self._sent_multi[req_id], self._gw.account_rows())
        for key, value, currency in changed:
            self._send(msg.account_update_multi(req_id, account_id, key, value, currency))
        return bool(changed)

    # --- reqPnL ------------------------------------------------------------------------------------
    def start_pnl(self, req_id: int) -> None:
        self.pnl_subs.add(req_id)
        self._sent_pnl.pop(req_id, None)
        self._push_pnl(req_id)

    def cancel_pnl(self, req_id: int) -> None:
        self.pnl_subs.discard(req_id)
        self._sent_pnl.pop(req_id, None)

    def _push_pnl(self, req_id: int) -> bool:
        fields = self._gw.pnl_fields(req_id)
        if self._sent_pnl.get(req_id) == fields:
            return False
        self._sent_pnl[req_id] = fields
        self._send(fields)
        return True

    # --- coalesced pushes --------------------------------------------------------------------------
    def on_account_changed(self, symbol: str) -> None:
        """A fill or correction touched `symbol`: push its position and the account at the next flush."""
        if self.subscribed:
            self._changed_symbols.add(symbol)
            self._mark_dirty()

    def prices_moved(self) -> None:
        """Every account_update_interval: valuations may have changed with the prices."""
        if self.account_updates or self.multi_subs or self.pnl_subs:
            self._mark_dirty()

    def _mark_dirty(self) -> None:
        self._dirty = True
        if self._flush_handle is not None:
            return
        loop = asyncio.get_running_loop()
        interval = self._gw.config.account_update_interval
        wait = 0.0 if interval is None else self._last_push + interval - loop.time()
        if wait > 0:
            self._flush_handle = loop.call_later(wait, self._flush)
        else:
            self._flush_handle = loop.call_soon(self._flush)

    def close(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        self._dirty = False
        self._changed_symbols.clear()

    def _flush(self) -> None:
        self._flush_handle = None
        if not self._dirty:
            return
        self._dirty = False
        symbols, self._changed_symbols = self._changed_symbols, set()
        try:
            pushed = self.push(symbols)
        except Exception:
            log.exception("account push failed; disconnecting the client")
            self._on_failure()
            return
        if pushed:
            self._last_push = asyncio.get_running_loop().time()

    def push(self, symbols: set[str]) -> bool:
        """Send what changed since the last push; `symbols` are those whose position may have changed."""
        account = self._gw.account
        pushed = False
        if self.positions_subscribed:
            for symbol in symbols:
                pushed = self._push_position(symbol) or pushed
        if self.account_updates:
            changed = self._push_account_values()
            for symbol, holding in account.holdings.items():
                if holding.qty or symbol in symbols:
                    changed = self._push_portfolio(symbol) or changed
            if changed:
                self._send(msg.account_time(datetime.now()))
                pushed = True
        for req_id in self.multi_subs:
            pushed = self._push_multi(req_id) or pushed
        for req_id in self.pnl_subs:
            pushed = self._push_pnl(req_id) or pushed
        return pushed


def _changed_rows(
    sent: dict[tuple[str, str], str], rows: list[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    changed = []
    for key, value, currency in rows:
        if sent.get((key, currency)) != value:
            sent[(key, currency)] = value
            changed.append((key, value, currency))
    return changed


# --- reqExecutions -----------------------------------------------------------------------------------
def replay_executions(gateway: FeedSource, client_id: int, flt: ExecFilter) -> Iterator[Fields]:
    """The day's executions that `client_id` may see and the filter passes, each with its commission report.

    As in TWS, a client sees the executions of the orders it placed; the master client id sees everyone's.
    A generator: the session sends it in slices, with backpressure, however many executions there are.
    """
    sees_all = client_id == gateway.config.master_client_id
    for execution in gateway.book.executions():
        if (sees_all or execution.client_id == client_id) and _exec_matches(execution, flt):
            inst = gateway.universe.get(execution.symbol)
            yield msg.exec_details(flt.req_id, execution, inst)
            yield msg.commission_report(execution)
    yield msg.exec_details_end(flt.req_id)


def _exec_matches(e: Execution, flt: ExecFilter) -> bool:
    if flt.client_id and e.client_id != flt.client_id:
        return False
    if flt.account and flt.account != e.account:
        return False
    if flt.symbol and flt.symbol != e.symbol:
        return False
    if flt.sec_type and flt.sec_type != "STK":
        return False
    if flt.exchange and flt.exchange not in (e.exchange, "SMART"):
        return False
    if flt.side and {"BUY": "BOT", "SELL": "SLD"}.get(flt.side, flt.side) != e.side:
        return False
    if flt.time:
        since = _parse_filter_time(flt.time)
        if since is not None and e.time.replace(tzinfo=None) < since:
            return False
    return True


def _parse_filter_time(text: str) -> datetime | None:
    compact = text.replace("-", "").strip()[:17]
    for fmt in ("%Y%m%d %H:%M:%S", "%Y%m%d-%H:%M:%S", "%Y%m%d"):
        with contextlib.suppress(ValueError):
            return datetime.strptime(compact if fmt != "%Y%m%d" else compact[:8], fmt)
    return None
