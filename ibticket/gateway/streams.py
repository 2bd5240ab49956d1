"""Live streams of one connection from the live walk: 5-second real-time bars and tick-by-tick data.

Real-time bars come every 5 seconds on the clock, trades or not (a quiet market gives a flat bar at the last
price), as TWS sends them. Tick-by-tick data sends a tick whenever the quote moves: Last and AllLast when a
trade printed (the last price or the volume changed), BidAsk when the bid, ask or their sizes changed,
MidPoint when the midpoint changed.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .market import Quote
from .messages import Fields
from .requests import ContractSpec, Cursor, MalformedRequest, read_contract
from .universe import Instrument

Resolver = Callable[[ContractSpec], Instrument | None]
Quotes = Callable[[str], Quote]
Send = Callable[[Fields], None]
BAR_SECONDS = 5
BAR_WHATS = ("TRADES", "MIDPOINT", "BID", "ASK")
TICK_TYPES = {"LAST": 1, "ALLLAST": 2, "BIDASK": 3, "MIDPOINT": 4}
NO_SECURITY = "No security definition has been found for the request"


def _price(q: Quote, what: str) -> float:
    return {"TRADES": q.last, "BID": q.bid, "ASK": q.ask}.get(what, (q.bid + q.ask) / 2)


@dataclass
class _Bars:
    inst: Instrument
    what: str
    open: float
    high: float
    low: float
    close: float
    volume: int  # the quote's volume when the bar began
    seen: int  # the quote's volume at the last update
    count: int = 0
    notional: float = 0.0
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


@dataclass
class _Ticks:
    inst: Instrument
    tick_type: int
    last: Quote


class LiveStreams:
    def __init__(self, resolve: Resolver, quote: Quotes, send: Send) -> None:
        self._resolve = resolve
        self._quote = quote
        self._send = send
        self._bars: dict[int, _Bars] = {}
        self._ticks: dict[int, _Ticks] = {}

    def _error(self, req_id: int, code: int, text: str) -> None:
        self._send([4, 2, req_id, code, text, ""])

    # --- reqRealTimeBars (50) ------------------------------------------------------------------------
    def req_real_time_bars(self, fields: list[str]) -> None:
        c = Cursor(fields)
        c.skip(1)
        req_id = c.int("reqId")
        try:
            spec = read_contract(c)
            size, what = c.int("barSize"), c.text("whatToShow").strip().upper()
        except MalformedRequest as exc:
            raise MalformedRequest(str(exc), req_id) from None
        inst = self._resolve(spec)
        if inst is None:
            self._error(req_id, 200, NO_SECURITY)
        elif size != BAR_SECONDS:
            self._error(req_id, 321, f"Error validating request.-'bR' : cause - real-time bars are {BAR_SECONDS} "
                                     f"seconds, not {size}")
        elif what not in BAR_WHATS:
            self._error(req_id, 321, f"Error validating request.-'bR' : cause - real-time bars show "
                                     f"{', '.join(BAR_WHATS)}, not {what or '(empty)'}")
        elif req_id in self._bars:
            self._error(req_id, 322, f"Error processing request.-'bR' : cause - Duplicate ticker id {req_id}")
        else:
            price = _price(self._quote(inst.symbol), what)
            volume = self._quote(inst.symbol).volume
            bars = self._bars[req_id] = _Bars(inst, what, price, price, price, price, volume, volume)
            self._schedule(req_id, bars)

    def _schedule(self, req_id: int, bars: _Bars) -> None:
        now = time.time()
        boundary = math.floor(now / BAR_SECONDS) * BAR_SECONDS + BAR_SECONDS
        bars.timer = asyncio.get_running_loop().call_later(boundary - now, self._emit, req_id, boundary)

    def _emit(self, req_id: int, boundary: float) -> None:
        bars = self._bars.get(req_id)
        if bars is None:
            return
        q = self._quote(bars.inst.symbol)
        self._update(bars, q)
        volume = max(0, q.volume - bars.volume)
        trades = bars.what == "TRADES"
        wap = bars.notional / volume if trades and volume > 0 else bars.close
        self._send([50, 3, req_id, int(boundary) - BAR_SECONDS, bars.open, bars.high, bars.low, bars.close,
                    volume if trades else -1, round(wap, 4) if trades else -1, bars.count if trades else -1])
        bars.open = bars.high = bars.low = bars.close
        bars.volume, bars.seen, bars.count, bars.notional = q.volume, q.volume, 0, 0.0
        self._schedule(req_id, bars)

    @staticmethod
    def _update(bars: _Bars, q: Quote) -> None:
        traded = q.volume - bars.seen
        if traded > 0:  # a print since the last quote: it counts for the volume, WAP and trade count
            bars.count += 1
            bars.notional += q.last * traded
        bars.seen = q.volume
        price = _price(q, bars.what)
        bars.high, bars.low, bars.close = max(bars.high, price), min(bars.low, price), price

    def cancel_real_time_bars(self, fields: list[str]) -> None:
        c = Cursor(fields)
        c.skip(1)
        bars = self._bars.pop(c.int("reqId"), None)
        if bars is not None and bars.timer is not None:
            bars.timer.cancel()

    # --- reqTickByTickData (97) ----------------------------------------------------------------------
    def req_tick_by_tick(self, fields: list[str]) -> None:
        c = Cursor(fields)
        req_id = c.int("reqId")
        try:
            spec = read_contract(c)
            kind = c.text("tickType").strip().upper()
        except MalformedRequest as exc:
            raise MalformedRequest(str(exc), req_id) from None
        inst = self._resolve(spec)
        if inst is None:
            self._error(req_id, 200, NO_SECURITY)
        elif kind not in TICK_TYPES:
            self._error(req_id, 321, "Error validating request.-'bT' : cause - the tick type is Last, AllLast, "
                                     f"BidAsk or MidPoint, not {kind or '(empty)'}")
        elif req_id in self._ticks:
            self._error(req_id, 322, f"Error processing request.-'bT' : cause - Duplicate ticker id {req_id}")
        else:
            q = self._quote(inst.symbol)
            stream = self._ticks[req_id] = _Ticks(inst, TICK_TYPES[kind], q)
            self._send_tick(req_id, stream, q)  # TWS starts with the current state

    def cancel_tick_by_tick(self, fields: list[str]) -> None:
        self._ticks.pop(Cursor(fields).int("reqId"), None)

    def _send_tick(self, req_id: int, stream: _Ticks, q: Quote) -> None:
        now, kind = int(time.time()), stream.tick_type
        if kind in (1, 2):
            size = q.last_size if q.volume == stream.last.volume else q.volume - stream.last.volume
            self._send([99, req_id, kind, now, q.last, size, 0, stream.inst.exec_venue, ""])
        elif kind == 3:
            self._send([99, req_id, kind, now, q.bid, q.ask, q.bid_size, q.ask_size, 0])
        else:
            self._send([99, req_id, kind, now, (q.bid + q.ask) / 2])

    # --- both ------------------------------------------------------------------------------------------
    def on_quotes(self, symbols: set[str]) -> None:
        for bars in self._bars.values():
            if bars.inst.symbol in symbols:
                self._update(bars, self._quote(bars.inst.symbol))
        for req_id, stream in self._ticks.items():
            if stream.inst.symbol in symbols:
                q = self._quote(stream.inst.symbol)
                before = stream.last
                moved = {
                    1: q.volume != before.volume or q.last != before.last,
                    3: (q.bid, q.ask, q.bid_size, q.ask_size) != (before.bid, before.ask, before.bid_size,
                                                                  before.ask_size),
                    4: q.bid + q.ask != before.bid + before.ask,
                }[1 if stream.tick_type == 2 else stream.tick_type]
                if moved:
                    self._send_tick(req_id, stream, q)
                stream.last = q

    def close(self) -> None:
        for bars in self._bars.values():
            if bars.timer is not None:
                bars.timer.cancel()
        self._bars.clear()
        self._ticks.clear()
