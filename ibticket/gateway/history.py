"""Historical bars: past days from a seeded walk per (symbol, day), today from the live walk.

* A past trading day (Monday-Friday, up to a year back: the head timestamp) is ``pricepath.day_path``
  seeded by (gateway seed, symbol, date). Its regular-hours close chains to the next day's open through a
  seeded overnight gap, and the last day before today closes at the live quote's previous close, so the
  daily bars run into today without a jump. The same day asked for twice is the same, whatever the bar size.
* Today is a simulated morning from 04:00 New York until the gateway started, ending at the price the live
  walk started from, then the live walk itself, minute by minute (tape.py). The paper market trades around
  the clock, so today's bars include every minute the live walk ran, in the session or not, and the last
  bar ends at the current price.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from .clock import (
    EXTENDED_CLOSE,
    EXTENDED_OPEN,
    at_eastern,
    is_trading_day,
    previous_trading_day,
    session_bounds,
    to_eastern,
    utc_offset_hours,
)
from .market import Market
from .pricepath import (
    DAILY_SIGMA,
    GAP_SIGMA,
    MIDPOINT,
    MINUTES_PER_DAY,
    RTH_END_MINUTE,
    RTH_FIRST_MINUTE,
    TRADES,
    Row,
    Segment,
    as_quotes,
    base_volume,
    plan_segment,
    seconds_of,
    seeded,
    segment_minutes,
)
from .tape import Tape
from .universe import Instrument, Universe

HEAD_DAYS = 365  # how far back history goes
_PATH_CACHE = 64
_SUMMARY_CACHE = 20_000


@dataclass(frozen=True)
class HistBar:
    """One bar. ``day`` is set for daily, weekly and monthly bars (their label); ``t`` is the bar's start."""

    t: float
    day: date | None
    open: float
    high: float
    low: float
    close: float
    volume: int
    wap: float
    count: int


@dataclass(frozen=True)
class Duration:
    count: int
    unit: str  # S D W M Y

    @property
    def seconds(self) -> int:
        return self.count * {"S": 1, "D": 86_400, "W": 7 * 86_400, "M": 30 * 86_400, "Y": 365 * 86_400}[self.unit]


@dataclass(frozen=True)
class BarSize:
    seconds: int  # intraday bars; 0 for the calendar ones
    unit: str = ""  # "" intraday, else day / week / month
    text: str = ""


class History:
    """Bars for every instrument. Not thread-safe: the gateway loop owns it."""

    def __init__(self, universe: Universe, market: Market, seed: int, clock: Callable[[], float] = time.time) -> None:
        self._universe = universe
        self._seed = seed
        self._clock = clock
        self.tape = Tape(universe.symbols(), market, clock)
        self._closes: dict[tuple[str, float, date], dict[date, float]] = {}
        self._plans: OrderedDict[tuple[object, ...], tuple[Segment, ...]] = OrderedDict()
        self._paths: OrderedDict[tuple[object, ...], list[Row]] = OrderedDict()

    def record(self, symbols: Iterable[str]) -> None:
        self.tape.record(symbols)

    # --- the calendar ------------------------------------------------------------------------------
    def now(self) -> float:
        return self._clock()

    @property
    def today(self) -> date:
        self.tape.record([])
        return self.tape.day

    def head_day(self) -> date:
        day = self.today - timedelta(days=HEAD_DAYS)
        while not is_trading_day(day):
            day += timedelta(days=1)
        return day

    def head_timestamp(self, use_rth: bool) -> float:
        """The first moment with data: the oldest day's session start."""
        return session_bounds(self.head_day(), use_rth)[0]

    def has_day(self, day: date) -> bool:
        return day == self.today or (is_trading_day(day) and self.head_day() <= day < self.today)

    # --- the walk of past days -----------------------------------------------------------------------
    def _close(self, inst: Instrument, day: date) -> float:
        """The regular-hours close of a past trading day: a seeded walk back from the previous close."""
        anchor = self.tape.prev_close(inst.symbol)
        last = previous_trading_day(self.today)
        key = (inst.symbol, anchor, last)
        closes = self._closes.get(key)
        if closes is None:
            closes = self._closes[key] = {last: anchor}
        oldest = min(closes)
        while oldest > day:
            daily = seeded(self._seed, inst.symbol, oldest, "return").gauss(0.0, DAILY_SIGMA)
            before = previous_trading_day(oldest)
            closes[before] = closes[oldest] * math.exp(-daily)
            oldest = before
        return closes[day]

    def _after_hours_close(self, inst: Instrument, day: date) -> float:
        return self._close(inst, day) * math.exp(seeded(self._seed, inst.symbol, day, "after").gauss(0.0, 0.003))

    def _plan(self, inst: Instrument, day: date) -> tuple[Segment, ...]:
        """A past day's pre-market, regular and after-hours segments; today's simulated morning (04:00 until
        the gateway started, ending at the price the live walk started from)."""
        today = self.today
        if day == today:
            key: tuple[object, ...] = (inst.symbol, day, self.tape.started)
        else:
            key = (inst.symbol, day, self.tape.prev_close(inst.symbol), previous_trading_day(today))
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        rng = seeded(self._seed, inst.symbol, day, "plan")
        base = base_volume(self._seed, inst.symbol)
        gap = seeded(self._seed, inst.symbol, day, "gap").gauss(0.0, GAP_SIGMA)
        premarket_open = self._after_hours_close(inst, previous_trading_day(day)) * math.exp(gap)
        if day == today:
            started = math.floor(self.tape.started / 60) * 60 - at_eastern(day, EXTENDED_OPEN)
            length = max(0, min(MINUTES_PER_DAY, int(started) // 60)) if is_trading_day(day) else 0
            plan = (plan_segment(inst, rng, 0, length, premarket_open, self.tape.start_price(inst.symbol), base),)
        else:
            close = self._close(inst, day)
            regular_open = premarket_open * math.exp(rng.gauss(0.0, 0.004))
            plan = (
                plan_segment(inst, rng, 0, RTH_FIRST_MINUTE, premarket_open, regular_open, base),
                plan_segment(inst, rng, RTH_FIRST_MINUTE, RTH_END_MINUTE - RTH_FIRST_MINUTE, regular_open, close,
                             base),
                plan_segment(inst, rng, RTH_END_MINUTE, MINUTES_PER_DAY - RTH_END_MINUTE, close,
                             self._after_hours_close(inst, day), base),
            )
        self._plans[key] = plan
        while len(self._plans) > _SUMMARY_CACHE:
            self._plans.popitem(last=False)
        return plan

    def _minutes(self, inst: Instrument, day: date) -> list[Row]:
        """The trade price of every planned minute of a day (cached: intraday requests come in runs)."""
        plan = self._plan(inst, day)
        key = (inst.symbol, day, plan)
        rows = self._paths.get(key)
        if rows is None:
            t0 = at_eastern(day, EXTENDED_OPEN)
            rows = []
            for seg in plan:
                rows += segment_minutes(inst, seg, seeded(self._seed, inst.symbol, day, "minutes", seg.first), t0)
            self._paths[key] = rows
            while len(self._paths) > _PATH_CACHE:
                self._paths.popitem(last=False)
        else:
            self._paths.move_to_end(key)
        return rows

    # --- minutes -------------------------------------------------------------------------------------
    def day_rows(self, inst: Instrument, day: date, what: str, use_rth: bool, start: float, end: float) -> list[Row]:
        """A day's minutes that overlap [start, end): its session's, and today also the live walk's."""
        if not self.has_day(day):
            return []
        first, stop = session_bounds(day, use_rth)
        first, stop = max(first, math.floor(start / 60) * 60), min(stop, end)
        rows = [as_quotes(inst, r, what) for r in self._minutes(inst, day) if first <= r[0] < stop]
        if day == self.today:
            rows += self.tape.rows(inst.symbol, what, math.floor(start / 60) * 60, end)
        return rows

    def minute_rows(self, inst: Instrument, what: str, start: float, end: float, use_rth: bool) -> list[Row]:
        rows: list[Row] = []
        day, last = to_eastern(start).date(), to_eastern(end - 1e-3).date()
        day = max(day, self.head_day())
        while day <= last:
            rows += self.day_rows(inst, day, what, use_rth, start, end)
            day += timedelta(days=1)
        return rows

    def second_rows(self, inst: Instrument, what: str, start: float, end: float, use_rth: bool) -> list[Row]:
        """One-second rows in [start, end), made inside each minute (seconds_of); the current minute has
        the seconds so far, the last at the current price."""
        now = self.now()
        step = inst.min_tick / 2 if what == MIDPOINT else inst.min_tick
        decimals = inst.price_decimals + (1 if what == MIDPOINT else 0)
        rows: list[Row] = []
        for minute in self.minute_rows(inst, what, start, end, use_rth):
            t = minute[0]
            seconds = min(60, int(now - t) + 1) if t + 60 > now else 60
            rng = seeded(self._seed, inst.symbol, int(t), "seconds")
            rows += [r for r in seconds_of(minute, seconds, rng, step, decimals) if start <= r[0] < end]
        return rows

    # --- bars ----------------------------------------------------------------------------------------
    def window(self, end: float | None, duration: Duration, use_rth: bool) -> tuple[float, float]:
        """[start, end) of a request: seconds back from the end, or N trading days ("D"), or calendar spans."""
        now = self.now()
        stop = now if end is None else min(end, now)
        if duration.unit != "D":
            start = stop - duration.seconds
        else:
            day, found = to_eastern(stop).date(), 0
            start = stop
            while found < duration.count and day >= self.head_day():
                if is_trading_day(day) and session_bounds(day, use_rth)[0] < stop:
                    found += 1
                    start = at_eastern(day, datetime.min.time())
                day -= timedelta(days=1)
        return max(start, at_eastern(self.head_day(), datetime.min.time())), stop

    def bars(self, inst: Instrument, start: float, end: float, bar: BarSize, what: str, use_rth: bool) -> list[HistBar]:
        if bar.unit:
            return self._calendar_bars(inst, start, end, bar.unit, what, use_rth)
        if bar.seconds < 60:
            rows = self.second_rows(inst, what, start, end, use_rth)
        else:
            rows = [r for r in self.minute_rows(inst, what, start, end, use_rth) if r[0] + 60 > start]
        return aggregate(rows, bar.seconds, what)

    def _calendar_bars(self, inst: Instrument, start: float, end: float, unit: str, what: str,
                       use_rth: bool) -> list[HistBar]:
        groups: dict[object, list[tuple[date, Row]]] = {}
        day, last = max(to_eastern(start).date(), self.head_day()), to_eastern(end - 1e-3).date()
        while day <= last:
            row = self._day_summary(inst, day, what, use_rth, start, end)
            if row is not None:
                key: object = day if unit == "day" else (
                    day - timedelta(days=day.weekday()) if unit == "week" else (day.year, day.month))
                groups.setdefault(key, []).append((day, row))
            day += timedelta(days=1)
        bars = []
        for members in groups.values():
            bar = aggregate([row for _day, row in members], 0, what)[0]
            bars.append(HistBar(bar.t, members[0][0], bar.open, bar.high, bar.low, bar.close, bar.volume,
                                bar.wap, bar.count))
        return bars

    def _day_summary(self, inst: Instrument, day: date, what: str, use_rth: bool, start: float,
                     end: float) -> Row | None:
        """A day as one row: from its plan when the whole past day is asked for, else from its minutes."""
        if not self.has_day(day):
            return None
        if day < self.today and start <= at_eastern(day, EXTENDED_OPEN) and end >= at_eastern(day, EXTENDED_CLOSE):
            segments = self._plan(inst, day)
            if use_rth:
                segments = segments[1:2]
            first, last = segments[0], segments[-1]
            row: Row = (session_bounds(day, use_rth)[0], first.open, max(s.high for s in segments),
                        min(s.low for s in segments), last.close, sum(s.volume for s in segments),
                        sum(s.count for s in segments))
            return as_quotes(inst, row, what)
        rows = self.day_rows(inst, day, what, use_rth, start, end)
        if not rows:
            return None
        bar = aggregate(rows, 0, what)[0]
        return (bar.t, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.count)


def _offsets() -> Callable[[float], int]:
    cache: dict[int, int] = {}

    def offset(t: float) -> int:
        hour = int(t // 3600)
        if hour not in cache:
            cache[hour] = utc_offset_hours(datetime.fromtimestamp(hour * 3600, UTC)) * 3600
        return cache[hour]

    return offset


def aggregate(rows: list[Row], size: int, what: str) -> list[HistBar]:
    """Rows into bars of `size` seconds aligned to the New York clock (0: all rows into one bar). A bar is
    labelled with its first row's time, so the first hourly bar of the session starts at 09:30."""
    offset = _offsets()
    bars: list[HistBar] = []
    current: list[Row] = []
    bucket = None
    for row in rows:
        key = 0 if size == 0 else int(row[0] - (row[0] + offset(row[0])) % size)
        if key != bucket and current:
            bars.append(_bar(current, what))
            current = []
        bucket = key
        current.append(row)
    if current:
        bars.append(_bar(current, what))
    return bars


def _bar(rows: list[Row], what: str) -> HistBar:
    volume = sum(r[5] for r in rows)
    count = sum(r[6] for r in rows)
    close = rows[-1][4]
    wap = sum((r[2] + r[3] + r[4]) / 3 * r[5] for r in rows) / volume if what == TRADES and volume else close
    return HistBar(rows[0][0], None, rows[0][1], max(r[2] for r in rows), min(r[3] for r in rows), close,
                   volume, round(wap, 4), count)
