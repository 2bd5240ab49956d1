"""Per-connection subscriptions: streamed quotes and the account, position and P&L pushes.

Pushes carry only what changed since the last push to that subscription, as TWS's streams do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from . import messages as msg
from .market import Quote
from .messages import Fields
from .universe import Instrument

if TYPE_CHECKING:
    from .server import PaperGateway

Send = Callable[[Fields], None]


@dataclass
class MarketDataSub:
    req_id: int
    instrument: Instrument
    # tick type -> last value sent, so that only changes are streamed
    sent: dict[int, float] = field(default_factory=dict)


class QuoteFeed:
    def __init__(self, gateway: PaperGateway, send: Send) -> None:
        self._gw = gateway
        self._send = send
        self.market_data: dict[int, MarketDataSub] = {}

    def subscribe(self, req_id: int, inst: Instrument, snapshot: bool) -> None:
        """Send the current quote; keep streaming changes unless it is a snapshot."""
        sub = MarketDataSub(req_id, inst)
        self._send(msg.market_data_type(req_id, 1))
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

        def changed(tick: int, value: float) -> bool:
            if full or sent.get(tick) != value:
                sent[tick] = value
                return True
            return False

        for price_tick, size_tick, price, size in ((msg.BID, msg.BID_SIZE, q.bid, q.bid_size),
                                                   (msg.ASK, msg.ASK_SIZE, q.ask, q.ask_size)):
            if changed(price_tick, price):
                changed(size_tick, size)
                send(msg.tick_price(rid, price_tick, price, size))
            elif changed(size_tick, size):
                send(msg.tick_size(rid, size_tick, size))
        if changed(msg.VOLUME, q.volume) or changed(msg.LAST, q.last):
            sent[msg.LAST], sent[msg.VOLUME] = q.last, q.volume
            send(msg.tick_price(rid, msg.LAST, q.last, q.last_size))
            send(msg.tick_size(rid, msg.VOLUME, q.volume))
            send(msg.tick_string(rid, msg.LAST_TIMESTAMP, str(int(time.time()))))
        for tick, value in ((msg.HIGH, q.high), (msg.LOW, q.low), (msg.CLOSE, q.close), (msg.OPEN, q.open)):
            if changed(tick, value):
                send(msg.tick_price(rid, tick, value, 0))


class AccountFeed:
    def __init__(self, gateway: PaperGateway, send: Send) -> None:
        self._gw = gateway
        self._send = send
        self.account_updates = False
        self.positions_subscribed = False
        self.multi_subs: set[int] = set()
        self.pnl_subs: set[int] = set()
        self._sent_values: dict[tuple[str, str], str] = {}
        self._sent_multi: dict[int, dict[tuple[str, str], str]] = {}
        self._sent_portfolio: dict[str, Fields] = {}
        self._sent_pnl: dict[int, Fields] = {}

    # --- reqAccountUpdates -------------------------------------------------------------------------
    def start_account_updates(self) -> None:
        self.account_updates = True
        self._sent_values.clear()
        self._sent_portfolio.clear()
        self._push_account_values()
        for holding in self._gw.account.holdings.values():
            if holding.qty:
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
        for holding in account.holdings.values():
            if holding.qty:
                self._send(msg.position(account.account_id, holding.instrument, holding.qty, holding.avg_cost))
        self._send(msg.position_end())

    def stop_positions(self) -> None:
        self.positions_subscribed = False

    # --- reqAccountUpdatesMulti --------------------------------------------------------------------
    def start_multi(self, req_id: int) -> None:
        self.multi_subs.add(req_id)
        self._sent_multi[req_id] = {}
        self._push_multi(req_id)
        self._send(msg.account_update_multi_end(req_id))

    def cancel_multi(self, req_id: int) -> None:
        self.multi_subs.discard(req_id)
        self._sent_multi.pop(req_id, None)

    def _push_multi(self, req_id: int) -> None:
        account_id = self._gw.account.account_id
        for key, value, currency in _changed_rows(self._sent_multi[req_id], self._gw.account_rows()):
            self._send(msg.account_update_multi(req_id, account_id, key, value, currency))

    # --- reqPnL ------------------------------------------------------------------------------------
    def start_pnl(self, req_id: int) -> None:
        self.pnl_subs.add(req_id)
        self._sent_pnl.pop(req_id, None)
        self._push_pnl(req_id)

    def cancel_pnl(self, req_id: int) -> None:
        self.pnl_subs.discard(req_id)
        self._sent_pnl.pop(req_id, None)

    def _push_pnl(self, req_id: int) -> None:
        fields = self._gw.pnl_fields(req_id)
        if self._sent_pnl.get(req_id) != fields:
            self._sent_pnl[req_id] = fields
            self._send(fields)

    # --- pushes ------------------------------------------------------------------------------------
    def on_account_changed(self, symbol: str) -> None:
        """After a fill: the position message, then every changed account figure."""
        account = self._gw.account
        if self.positions_subscribed:
            holding = account.holdings.get(symbol)
            if holding is not None:
                self._send(msg.position(account.account_id, holding.instrument, holding.qty, holding.avg_cost))
        if self.account_updates and symbol in account.holdings:
            self._push_portfolio(symbol)
        self.refresh()

    def refresh(self) -> None:
        """Push changed account values, portfolio rows and P&L (also called periodically as prices move)."""
        account = self._gw.account
        if self.account_updates:
            changed = self._push_account_values()
            for symbol, holding in account.holdings.items():
                if holding.qty:
                    changed = self._push_portfolio(symbol) or changed
            if changed:
                self._send(msg.account_time(datetime.now()))
        for req_id in self.multi_subs:
            self._push_multi(req_id)
        for req_id in self.pnl_subs:
            self._push_pnl(req_id)


def _changed_rows(
    sent: dict[tuple[str, str], str], rows: list[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    changed = []
    for key, value, currency in rows:
        if sent.get((key, currency)) != value:
            sent[(key, currency)] = value
            changed.append((key, value, currency))
    return changed
