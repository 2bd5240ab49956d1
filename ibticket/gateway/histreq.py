"""History requests of one connection: reqHistoricalData (with keepUpToDate), reqHeadTimeStamp,
reqHistoricalTicks and reqHistogramData, answered on their own ids.

Every request ends: with its data, or with the error TWS sends there (200 unknown contract, 321 a field TWS
would not accept, 162 no data / not simulated / too many bars), on the request's id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .clock import at_eastern, local_text, schedule_text, session_bounds, to_eastern, utc_offset_hours
from .history import BarSize, Duration, HistBar, History
from .histparse import (
    TICK_WHATS,
    Refusal,
    bar_size,
    check_step,
    duration,
    end_time,
    no_data,
    what_to_show,
)
from .messages import Fields
from .requests import ContractSpec, Cursor, MalformedRequest, read_contract
from .universe import Instrument

Resolver = Callable[[ContractSpec], Instrument | None]
Send = Callable[[Fields], None]
MAX_TICKS = 1000
_PERIOD = re.compile(r"([0-9]{1,3}) ?(day|days|week|weeks|month|months)", re.IGNORECASE)


@dataclass
class _Live:
    """A keepUpToDate request: its newest bar is sent again whenever it changes."""

    inst: Instrument
    size: BarSize
    what: str
    use_rth: bool
    format_date: int
    last: tuple[object, ...] | None = None


def _date_text(bar: HistBar, format_date: int) -> str:
    if bar.day is not None:
        return bar.day.strftime("%Y%m%d")
    return str(int(bar.t)) if format_date == 2 else local_text(bar.t)


def _bar_fields(bar: HistBar, what: str, format_date: int) -> Fields:
    trades = what == "TRADES"
    return [_date_text(bar, format_date), bar.open, bar.high, bar.low, bar.close,
            bar.volume if trades else -1, bar.wap if trades else -1, bar.count if trades else -1]


class HistoryRequests:
    def __init__(self, history: History, resolve: Resolver, send: Send) -> None:
        self._history = history
        self._resolve = resolve
        self._send = send
        self._live: dict[int, _Live] = {}

    def _error(self, req_id: int, code: int, text: str) -> None:
        self._send([4, 2, req_id, code, text, ""])

    def _instrument(self, spec: ContractSpec) -> Instrument:
        inst = self._resolve(spec)
        if inst is None:
            raise Refusal(200, "No security definition has been found for the request")
        return inst

    def _answer(self, fields: list[str], reply: Callable[[int, Cursor], None]) -> None:
        c = Cursor(fields)
        req_id = c.int("reqId")
        try:
            reply(req_id, c)
        except Refusal as refusal:
            self._error(req_id, refusal.code, refusal.text)
        except MalformedRequest as exc:
            raise MalformedRequest(str(exc), req_id) from None

    # --- reqHistoricalData (20) -------------------------------------------------------------------------
    def req_historical_data(self, fields: list[str]) -> None:
        self._answer(fields, self._historical_data)

    def _historical_data(self, req_id: int, c: Cursor) -> None:
        spec = read_contract(c)
        c.bool("includeExpired")
        end_text, size_text, span_text = c.text("endDateTime"), c.text("barSizeSetting"), c.text("durationStr")
        use_rth = c.bool("useRTH")
        what_text = c.text("whatToShow")
        format_date = c.int("formatDate", default=1)
        if spec.sec_type == "BAG":
            c.skip(4 * c.int("comboLegsCount"))
        keep_up = c.bool("keepUpToDate") if c.remaining else False
        inst = self._instrument(spec)
        if what_text.strip().upper() == "SCHEDULE":
            self._schedule(req_id, end_time(end_text), duration(span_text), use_rth)
            return
        what = what_to_show(what_text, inst.symbol, spec.exchange)
        size, span, end = bar_size(size_text), duration(span_text), end_time(end_text)
        check_step(span, size)
        if keep_up and end is not None:
            raise Refusal(321, "Error validating request.-'bX' : cause - End date not supported with live updates")
        start, stop = self._history.window(end, span, use_rth)
        bars = self._history.bars(inst, start, stop, size, what, use_rth)
        if not bars:
            raise no_data(inst.symbol, spec.exchange, what)
        message: Fields = [17, req_id, local_text(start), local_text(stop), len(bars)]
        for bar in bars:
            message += _bar_fields(bar, what, format_date)
        self._send(message)
        if keep_up:
            live = self._live[req_id] = _Live(inst, size, what, use_rth, format_date)
            live.last = tuple(_bar_fields(bars[-1], what, format_date))

    def _schedule(self, req_id: int, end: float | None, span: Duration, use_rth: bool) -> None:
        """whatToShow=SCHEDULE (ib_insync's reqHistoricalSchedule): the sessions of the last N days."""
        history = self._history
        start, stop = history.window(end, span, use_rth)
        sessions = []
        day = to_eastern(start).date()
        while day <= to_eastern(stop).date():
            if history.has_day(day) and day.weekday() < 5:
                sessions.append((*session_bounds(day, use_rth), day))
            day += timedelta(days=1)
        if not sessions:
            raise Refusal(162, "Historical Market Data Service error message:HMDS query returned no data: schedule")
        message: Fields = [106, req_id, schedule_text(sessions[0][0]), schedule_text(sessions[-1][1]), "US/Eastern",
                           len(sessions)]
        for opens, closes, day in sessions:
            message += [schedule_text(opens), schedule_text(closes), day.strftime("%Y%m%d")]
        self._send(message)

    def cancel_historical_data(self, fields: list[str]) -> None:
        c = Cursor(fields)
        c.skip(1)
        self._live.pop(c.int("reqId"), None)

    def on_quotes(self, symbols: set[str]) -> None:
        """keepUpToDate: the newest bar again, when a quote of its symbol moved it."""
        now = self._history.now()
        for req_id, live in list(self._live.items()):
            if live.inst.symbol not in symbols:
                continue
            start = _bar_start(now, live.size)
            bars = self._history.bars(live.inst, start, now + 1, live.size, live.what, live.use_rth)
            if not bars:
                continue
            fields = tuple(_bar_fields(bars[-1], live.what, live.format_date))
            if fields != live.last:
                live.last = fields
                date_text, o, h, lo, c, volume, wap, count = fields
                self._send([90, req_id, count, date_text, o, c, h, lo, wap, volume])

    # --- reqHeadTimeStamp (87) ---------------------------------------------------------------------------
    def req_head_timestamp(self, fields: list[str]) -> None:
        self._answer(fields, self._head_timestamp)

    def _head_timestamp(self, req_id: int, c: Cursor) -> None:
        spec = read_contract(c)
        c.bool("includeExpired")
        use_rth = c.bool("useRTH")
        what_text = c.text("whatToShow")
        format_date = c.int("formatDate", default=1)
        inst = self._instrument(spec)
        what_to_show(what_text, inst.symbol, spec.exchange)
        head = self._history.head_timestamp(use_rth)
        self._send([88, req_id, str(int(head)) if format_date == 2 else local_text(head)])

    # --- reqHistoricalTicks (96) -------------------------------------------------------------------------
    def req_historical_ticks(self, fields: list[str]) -> None:
        self._answer(fields, self._historical_ticks)

    def _historical_ticks(self, req_id: int, c: Cursor) -> None:
        spec = read_contract(c)
        c.bool("includeExpired")
        start_text, end_text = c.text("startDateTime"), c.text("endDateTime")
        count = c.int("numberOfTicks")
        what_text = c.text("whatToShow")
        use_rth = c.bool("useRth")
        inst = self._instrument(spec)
        what = what_to_show(what_text, inst.symbol, spec.exchange, TICK_WHATS)
        if bool(start_text.strip()) == bool(end_text.strip()):
            raise Refusal(321, "Error validating request.-'bT' : cause - exactly one of the start and the end "
                               "date/time must be given for historical ticks")
        if not 0 < count <= MAX_TICKS:
            raise Refusal(321, f"Error validating request.-'bT' : cause - the number of ticks must be 1 to "
                               f"{MAX_TICKS}, not {count}")
        forward = bool(start_text.strip())
        edge = end_time(start_text if forward else end_text)
        ticks = _collect_ticks(self._history, inst, what, use_rth, edge, forward, count)
        self._send(_ticks_message(req_id, what, ticks, inst.exec_venue))

    # --- reqHistogramData (88) ---------------------------------------------------------------------------
    def req_histogram_data(self, fields: list[str]) -> None:
        self._answer(fields, self._histogram)

    def _histogram(self, req_id: int, c: Cursor) -> None:
        spec = read_contract(c)
        c.bool("includeExpired")
        use_rth = c.bool("useRTH")
        period = c.text("timePeriod")
        inst = self._instrument(spec)
        match = _PERIOD.fullmatch(period.strip())
        if match is None or int(match.group(1)) == 0:
            raise Refusal(321, f"Error validating request.-'bG' : cause - the histogram period {period!r} is "
                               "invalid; e.g. '3 days', '1 week' or '1 month'")
        unit = {"d": "D", "w": "W", "m": "M"}[match.group(2)[0].lower()]
        start, stop = self._history.window(None, Duration(int(match.group(1)), unit), use_rth)
        sizes: dict[float, int] = {}
        for row in self._history.minute_rows(inst, "TRADES", start, stop, use_rth):
            if row[5]:
                sizes[row[4]] = sizes.get(row[4], 0) + row[5]
        message: Fields = [89, req_id, len(sizes)]
        for price in sorted(sizes):
            message += [price, sizes[price]]
        self._send(message)


def _bar_start(now: float, size: BarSize) -> float:
    """Where the bar that holds `now` begins (New York clock)."""
    if not size.unit:
        offset = utc_offset_hours(datetime.fromtimestamp(now, UTC)) * 3600
        return now - (now + offset) % size.seconds
    day = to_eastern(now).date()
    if size.unit == "week":
        day -= timedelta(days=day.weekday())
    elif size.unit == "month":
        day = day.replace(day=1)
    return at_eastern(day, datetime.min.time())


def _collect_ticks(history: History, inst: Instrument, what: str, use_rth: bool, edge: float | None,
                   forward: bool, count: int) -> list[tuple[float, ...]]:
    """One tick per second (for TRADES: per second with volume), from the edge forward or back to it,
    looking up to a week away an hour at a time."""
    now = history.now()
    edge = now if edge is None else min(edge, now)
    ticks: list[tuple[float, ...]] = []
    hours = 0
    while len(ticks) < count and hours < 24 * 7:
        lo = edge + 3600 * hours if forward else edge - 3600 * (hours + 1)
        hours += 1
        if lo >= now:
            break
        hi = min(lo + 3600, now + 1)
        chunk = _tick_chunk(history, inst, what, use_rth, lo, hi)
        ticks += chunk if forward else []
        if not forward:
            ticks = chunk + ticks
    return ticks[:count] if forward else ticks[-count:]


def _tick_chunk(history: History, inst: Instrument, what: str, use_rth: bool, lo: float,
                hi: float) -> list[tuple[float, ...]]:
    if what == "BID_ASK":
        bids = history.second_rows(inst, "BID", lo, hi, use_rth)
        asks = history.second_rows(inst, "ASK", lo, hi, use_rth)
        return [(b[0], b[4], a[4], 100 * (1 + int(b[0]) % 9), 100 * (1 + int(b[0]) % 7))
                for b, a in zip(bids, asks, strict=False)]
    rows = history.second_rows(inst, what, lo, hi, use_rth)
    if what == "TRADES":
        return [(r[0], r[4], r[5]) for r in rows if r[5]]
    return [(r[0], r[4]) for r in rows]


def _ticks_message(req_id: int, what: str, ticks: list[tuple[float, ...]], venue: str) -> Fields:
    if what == "MIDPOINT":
        message: Fields = [96, req_id, len(ticks)]
        for t, price in ticks:
            message += [int(t), "", price, 0]
    elif what == "BID_ASK":
        message = [97, req_id, len(ticks)]
        for t, bid, ask, bid_size, ask_size in ticks:
            message += [int(t), 0, bid, ask, int(bid_size), int(ask_size)]
    else:
        message = [98, req_id, len(ticks)]
        for t, price, size in ticks:
            message += [int(t), 0, price, int(size), venue, ""]
    message.append(True)
    return message

