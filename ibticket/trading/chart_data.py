"""What the chart draws, Qt-free and numpy-free: price points per symbol, 1-minute candles, order lines, fills.

The window records quotes from the start of the session (cheap: two floats a trade), so the chart, created
only when first shown, draws the session's ticks from the beginning. Times are epoch seconds (floats).

A pause in the data (the connection was down, the machine slept, the history has a hole) must not be drawn as
a straight line: it would read as a trend nobody traded. ``GapRule`` tells a pause from the usual spacing of
the points, and the line is broken there (the chart puts a NaN between the two points).
"""

from __future__ import annotations

import math
import time as _time
from array import array
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..core import OrderRecord, OrderStatus
from ..core.format import TYPE_SHORT, decimals_for_tick, price, qty

DEFAULT_CAPACITY = 200_000  # points per symbol: a day of trades at several a second
MAX_SYMBOLS = 16
CANDLE_SECONDS = 60.0
WORKING = (OrderStatus.PENDING, OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)
# A pause breaks the line when it is longer than GAP_FACTOR times the usual spacing of the points (the median
# of the last USUAL_SPACINGS spacings that were not pauses) and than MIN_GAP_SECONDS. The floor keeps a thinly
# traded symbol in one piece: trades come at random, and a spacing of 10x the median is not rare among many.
GAP_FACTOR = 10.0
MIN_GAP_SECONDS = 30.0
USUAL_SPACINGS = 31


def epoch(when: datetime) -> float:
    """Seconds since the epoch; naive datetimes are local time (as quotes and fills carry them)."""
    return when.timestamp()


class GapRule:
    """Tells, point by point, whether the spacing before a point is a pause in the data (see GAP_FACTOR).

    O(1) memory and about a microsecond a point: the usual spacing is the median of a few recent ones."""

    def __init__(self, factor: float = GAP_FACTOR, floor: float = MIN_GAP_SECONDS,
                 window: int = USUAL_SPACINGS) -> None:
        if factor <= 1 or floor < 0 or window < 1:
            raise ValueError("a gap must be longer than the usual spacing")
        self.factor, self.floor = factor, floor
        self._recent: deque[float] = deque(maxlen=window)
        self._last: float | None = None

    @property
    def usual(self) -> float | None:
        """The usual spacing (the median of the recent ones that were not pauses); None before two points."""
        if not self._recent:
            return None
        ordered = sorted(self._recent)
        return ordered[len(ordered) // 2]

    def is_gap(self, t: float) -> bool:
        """Note the point at ``t``; True when the spacing since the previous point is a pause."""
        last, self._last = self._last, t
        if last is None:
            return False
        spacing = t - last
        usual = self.usual
        if usual is not None and spacing > max(self.factor * usual, self.floor):
            return True  # not noted: a pause says nothing about the usual spacing
        self._recent.append(spacing)
        return False


def segment_starts(times: Iterable[float], factor: float = GAP_FACTOR, floor: float = MIN_GAP_SECONDS) -> list[int]:
    """The indices of the points that begin a new piece of line: the first point after each pause."""
    rule = GapRule(factor, floor)
    return [i for i, t in enumerate(times) if rule.is_gap(t)]


class TickBuffer:
    """The latest ``capacity`` points (time, price), oldest first, readable without reassembling.

    Each point is written twice, at i and at i + size, so the newest points always form one contiguous
    slice of the storage: ``window()`` hands out memoryviews, and numpy wraps them without a copy. The
    storage starts small and doubles up to ``capacity`` (a symbol traded a few times costs kilobytes, not
    the 6 MB of a full buffer). Times never go backwards (a late stamp takes the previous one): the chart's
    clipping needs sorted x. Pauses are noted as they come (``gaps``), so a redraw does not scan the points.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY, initial: int = 1024) -> None:
        if capacity < 1 or initial < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._size = min(initial, capacity)  # the ring's current length
        self._t = array("d", bytes(16 * self._size))
        self._p = array("d", bytes(16 * self._size))
        self._next = 0
        self._count = 0
        self.total = 0  # points ever appended; the chart compares it to what it drew
        self._rule = GapRule()
        self._gaps: deque[int] = deque()  # the ``total`` number of each point that follows a pause

    def __len__(self) -> int:
        return self._count

    def append(self, t: float, p: float) -> None:
        if self._count and t < self.last_time:
            t = self.last_time
        if self._rule.is_gap(t):
            self._gaps.append(self.total)
        if self._count == self._size < self.capacity:
            self._grow()
        i, size = self._next, self._size
        self._t[i] = self._t[i + size] = t
        self._p[i] = self._p[i + size] = p
        self._next = (i + 1) % size
        self._count = min(self._count + 1, size)
        self.total += 1

    def _grow(self) -> None:
        times, prices = (array("d", view) for view in self.window())
        size = min(self._size * 2, self.capacity)
        count = len(times)
        self._t = array("d", bytes(16 * size))
        self._p = array("d", bytes(16 * size))
        for start in (0, size):
            self._t[start:start + count] = times
            self._p[start:start + count] = prices
        self._size, self._next = size, count

    @property
    def last_time(self) -> float:
        return self._t[(self._next - 1) % self._size]

    def last(self) -> tuple[float, float] | None:
        if not self._count:
            return None
        i = (self._next - 1) % self._size
        return self._t[i], self._p[i]

    def window(self) -> tuple[memoryview, memoryview]:
        """Times and prices, oldest first; views into the buffer, valid until the next append."""
        start = self._next if self._count == self._size else 0
        end = start + self._count
        return memoryview(self._t)[start:end], memoryview(self._p)[start:end]

    def gaps(self) -> list[int]:
        """Where the line breaks: the positions in ``window()`` of the points that follow a pause."""
        first = self.total - self._count
        gaps = self._gaps
        while gaps and gaps[0] <= first:  # gone from the ring, or now its first point: nothing to break
            gaps.popleft()
        return [g - first for g in gaps]


class TickStore:
    """Last-price points per symbol since the session started; the least recently used symbol goes first."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, max_symbols: int = MAX_SYMBOLS) -> None:
        self.capacity = capacity
        self.max_symbols = max_symbols
        self._buffers: OrderedDict[str, TickBuffer] = OrderedDict()
        self._seen: dict[str, tuple[float | None, int | None]] = {}

    def buffer(self, symbol: str) -> TickBuffer:
        buf = self._buffers.get(symbol)
        if buf is None:
            buf = self._buffers[symbol] = TickBuffer(self.capacity)
            while len(self._buffers) > self.max_symbols:
                old, _ = self._buffers.popitem(last=False)
                self._seen.pop(old, None)
        else:
            self._buffers.move_to_end(symbol)
        return buf

    def record(self, quote: Any) -> bool:
        """Note a quote; a point is added when a trade happened (the last price or the volume changed)."""
        last = quote.last
        if last is None or not math.isfinite(last) or last <= 0:
            return False
        key = (last, getattr(quote, "volume", None))
        if self._seen.get(quote.symbol) == key:
            return False  # a bid/ask change: nothing for a last-price line
        self._seen[quote.symbol] = key
        self.buffer(quote.symbol).append(epoch(quote.time), last)
        return True

    def clear(self) -> None:
        self._buffers.clear()
        self._seen.clear()


@dataclass
class Candle:
    start: float
    open: float
    high: float
    low: float
    close: float

    def add(self, p: float) -> None:
        self.high = max(self.high, p)
        self.low = min(self.low, p)
        self.close = p


class CandleSeries:
    """Candles of ``period`` seconds: the closed ones, and the one in progress (the only one a tick changes)."""

    def __init__(self, period: float = CANDLE_SECONDS) -> None:
        self.period = period
        self.closed: list[Candle] = []
        self.current: Candle | None = None

    def __len__(self) -> int:
        return len(self.closed) + (self.current is not None)

    def start_of(self, t: float) -> float:
        return math.floor(t / self.period) * self.period

    def add(self, t: float, p: float) -> bool:
        """Add a trade; True when it began a new candle (the previous one is closed now)."""
        c = self.current
        if c is not None and t < c.start + self.period:
            c.add(p)  # in the candle (or a late stamp, which belongs to the newest candle there is)
            return False
        if c is not None:
            self.closed.append(c)
        self.current = Candle(self.start_of(t), p, p, p, p)
        return True

    def extend(self, times: Iterable[float], prices: Iterable[float]) -> None:
        for t, p in zip(times, prices, strict=True):
            self.add(t, p)

    def seed(self, bars: Sequence[Any]) -> None:
        """History bars (``start`` datetime, open/high/low/close) before any tick; the last may still grow."""
        for bar in bars:
            if self.current is not None:
                self.closed.append(self.current)
            self.current = Candle(self.start_of(epoch(bar.start)), bar.open, bar.high, bar.low, bar.close)

    @property
    def history_end(self) -> float:
        """Ticks before this are covered by the candles already there (the seeded history)."""
        return self.current.start if self.current is not None else -math.inf

    def all(self) -> list[Candle]:
        return [*self.closed, self.current] if self.current is not None else list(self.closed)


# -- orders and fills -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLineSpec:
    """One horizontal line: a working order's limit or stop price, labelled "<head> <price>  <tail>"."""

    order_id: int
    kind: str  # "limit" or "stop"
    price: float
    action: str
    head: str  # "BUY 100 LMT"
    tail: str  # "#12", with "(sending)" or "(cancelling)" when so
    decimals: int
    acknowledged: bool  # IB has the order (permId): until then the line is drawn as "sending"
    movable: bool

    @property
    def key(self) -> tuple[int, str]:
        return self.order_id, self.kind

    @property
    def label(self) -> str:
        return self.label_for(self.price)

    def label_for(self, value: float) -> str:
        return f"{self.head} {price(value, self.decimals)}  {self.tail}"


def order_lines(records: Iterable[OrderRecord], symbol: str, tick: float = 0.01) -> list[OrderLineSpec]:
    """The lines for ``symbol``'s working orders: one per limit and stop price (a stop limit has two)."""
    decimals = decimals_for_tick(tick)
    specs: list[OrderLineSpec] = []
    for r in records:
        if r.symbol != symbol or r.status not in WORKING:
            continue
        rest = r.total_quantity - r.filled_quantity
        kind_text = TYPE_SHORT.get(r.order_type, r.order_type)
        movable = r.acknowledged and not r.cancel_requested and r.status is not OrderStatus.PENDING
        tail = f"#{r.order_id}"
        if not r.acknowledged:
            tail += "  (sending)"
        elif r.cancel_requested:
            tail += "  (cancelling)"
        for kind, value in (("limit", r.limit_price), ("stop", r.stop_price)):
            if value is None:
                continue
            what = kind_text if r.order_type != "STOP_LIMIT" else ("STP" if kind == "stop" else "LMT")
            specs.append(OrderLineSpec(r.order_id, kind, value, r.action, f"{r.action} {qty(rest)} {what}", tail,
                                       decimals, r.acknowledged, movable))
    return specs


@dataclass(frozen=True)
class FillMark:
    """A fill on the chart: ▲ bought, ▼ sold, with what a tooltip says."""

    fill_id: str
    order_id: int
    t: float
    price: float
    side: str  # "BUY" / "SELL"
    quantity: int

    def tip(self, decimals: int = 2) -> str:
        side = {"BUY": "Bought", "SELL": "Sold"}.get(self.side, "Filled")
        when = datetime.fromtimestamp(self.t).strftime("%H:%M:%S")
        return f"{side} {qty(self.quantity)} @ {price(self.price, decimals)}\norder #{self.order_id} · {when}"


def fill_marks(record: OrderRecord) -> list[FillMark]:
    """The order's executions as marks (a corrected execution is already swapped for its correction)."""
    return [FillMark(f.fill_id, record.order_id, epoch(f.timestamp), f.price, record.action, f.quantity)
            for f in record.fills if f.quantity > 0]


def now() -> float:
    return _time.time()
