"""The chart's data without Qt: the ring buffer, the tick store, 1-minute candles, order lines and fill marks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ibticket.core import Fill, OrderRecord, OrderStatus
from ibticket.core.records import BrokerAttempt
from ibticket.trading.chart_data import (
    GAP_FACTOR,
    MIN_GAP_SECONDS,
    CandleSeries,
    GapRule,
    TickBuffer,
    TickStore,
    epoch,
    fill_marks,
    order_lines,
    segment_starts,
)

T0 = datetime(2025, 3, 14, 10, 0, 0)


@dataclass(frozen=True)
class Q:
    symbol: str
    last: float | None
    time: datetime
    volume: int | None = None
    bid: float | None = None


def expected_window(points: list[tuple[float, float]], capacity: int) -> list[tuple[float, float]]:
    fixed: list[tuple[float, float]] = []
    for t, p in points:
        fixed.append((max(t, fixed[-1][0]) if fixed else t, p))
    return fixed[-capacity:]


@given(st.integers(1, 7), st.integers(1, 9),
       st.lists(st.tuples(st.floats(0, 1e6), st.floats(0.01, 1e4)), max_size=40))
def test_the_ring_buffer_window_is_the_newest_points_oldest_first_with_times_never_going_back(
        capacity: int, initial: int, points: list[tuple[float, float]]) -> None:
    buf = TickBuffer(capacity, initial)
    for t, p in points:
        buf.append(t, p)
    times, prices = buf.window()
    assert list(zip(times.tolist(), prices.tolist(), strict=True)) == expected_window(points, capacity)
    assert len(buf) == min(len(points), capacity) and buf.total == len(points)
    assert buf.last() == (expected_window(points, capacity)[-1] if points else None)


def test_the_window_is_one_contiguous_view_numpy_can_wrap() -> None:
    np = pytest.importorskip("numpy")
    buf = TickBuffer(4)
    for i in range(10):
        buf.append(float(i), 100.0 + i)
    times, prices = buf.window()
    assert np.frombuffer(times, dtype=float).tolist() == [6.0, 7.0, 8.0, 9.0]
    assert np.frombuffer(prices, dtype=float).tolist() == [106.0, 107.0, 108.0, 109.0]
    with pytest.raises(ValueError):
        TickBuffer(0)


def test_the_storage_grows_to_the_capacity_and_no_further() -> None:
    buf = TickBuffer(capacity=1000, initial=4)
    sizes = []
    for i in range(5000):
        buf.append(float(i), float(i))
        stored = buf._t.buffer_info()[1] // 2  # each point is kept twice
        if not sizes or sizes[-1] != stored:
            sizes.append(stored)
    assert sizes == [4, 8, 16, 32, 64, 128, 256, 512, 1000]
    assert len(buf) == 1000 and buf.total == 5000
    assert buf.window()[1].tolist() == [float(i) for i in range(4000, 5000)]


def test_a_pause_of_more_than_n_times_the_usual_spacing_breaks_the_line() -> None:
    # Trades a second apart, then 5 minutes without data (a dropped connection), then trades again.
    times = [float(i) for i in range(20)] + [319.0 + i for i in range(20)]
    assert segment_starts(times) == [20]
    # Thinner trading (every 40 s): a 5-minute pause is under 10x the usual spacing, and is drawn joined.
    assert segment_starts([40.0 * i for i in range(10)] + [660.0, 700.0]) == []
    # The floor: 20 s is 20x a second's spacing, but too short to read as a trend.
    assert segment_starts([float(i) for i in range(10)] + [29.0, 30.0]) == []
    assert segment_starts([float(i) for i in range(10)] + [9.0 + MIN_GAP_SECONDS + 0.5]) == [10]
    # History bars, one a minute, with an hour missing: one break; a few minutes missing: none.
    bars = [60.0 * i for i in range(30)] + [60.0 * i for i in range(90, 100)] + [60.0 * i for i in range(103, 110)]
    assert segment_starts(bars) == [30]
    assert segment_starts([]) == [] and segment_starts([5.0]) == []


@given(st.lists(st.floats(0.01, 100), min_size=2, max_size=60))
def test_a_pause_is_judged_on_the_spacings_before_it_not_on_itself(spacings: list[float]) -> None:
    rule = GapRule()
    t, gaps = 0.0, []
    rule.is_gap(t)
    for spacing in spacings:
        usual = rule.usual
        t += spacing
        if rule.is_gap(t):
            gaps.append(spacing)
            assert usual is not None and spacing > max(GAP_FACTOR * usual, MIN_GAP_SECONDS)
    assert len(gaps) < len(spacings)  # the first spacing has nothing to be compared with
    with pytest.raises(ValueError):
        GapRule(factor=1.0)


def test_the_ring_buffer_notes_where_its_window_breaks() -> None:
    buf = TickBuffer(capacity=30, initial=4)
    for i in range(10):
        buf.append(float(i), 100.0)
    for i in range(10):
        buf.append(100.0 + i, 101.0)  # after a pause of 91 s
    assert buf.gaps() == [10]
    for i in range(15):
        buf.append(200.0 + i, 102.0)  # another pause; the oldest five points leave the ring
    assert len(buf) == 30 and buf.gaps() == [5, 15]
    for i in range(20):
        buf.append(215.0 + i, 103.0)
    assert buf.gaps() == []  # both pauses are behind the oldest point kept


def test_the_store_keeps_a_point_per_trade_not_per_quote() -> None:
    store = TickStore(capacity=100)
    assert store.record(Q("AAPL", 230.0, T0, volume=100))
    assert not store.record(Q("AAPL", 230.0, T0 + timedelta(seconds=1), volume=100, bid=229.9))  # bid moved only
    assert store.record(Q("AAPL", 230.0, T0 + timedelta(seconds=2), volume=200))  # a trade at the same price
    assert store.record(Q("AAPL", 230.5, T0 + timedelta(seconds=3), volume=None))
    assert not store.record(Q("AAPL", None, T0 + timedelta(seconds=4)))
    assert not store.record(Q("AAPL", math.nan, T0 + timedelta(seconds=4)))
    assert not store.record(Q("AAPL", -1.0, T0 + timedelta(seconds=4)))
    assert store.record(Q("MSFT", 410.0, T0))
    times, prices = store.buffer("AAPL").window()
    assert prices.tolist() == [230.0, 230.0, 230.5]
    assert times.tolist() == [epoch(T0), epoch(T0) + 2, epoch(T0) + 3]


def test_the_store_forgets_the_least_recently_used_symbol() -> None:
    store = TickStore(capacity=10, max_symbols=2)
    store.record(Q("A", 1.0, T0))
    store.record(Q("B", 2.0, T0))
    store.buffer("A")  # A is in use again
    store.record(Q("C", 3.0, T0))
    assert len(store.buffer("A")) == 1 and len(store.buffer("C")) == 1
    assert len(store.buffer("B")) == 0  # B was dropped (and starts afresh)


def brute_candles(points: list[tuple[float, float]]) -> list[tuple[float, float, float, float, float]]:
    groups: dict[float, list[float]] = {}
    for t, p in points:
        groups.setdefault(math.floor(t / 60) * 60, []).append(p)
    return [(k, v[0], max(v), min(v), v[-1]) for k, v in sorted(groups.items())]


@given(st.lists(st.tuples(st.floats(0, 600), st.floats(1, 500)), max_size=60).map(sorted))
def test_candles_match_a_grouping_by_minute(points: list[tuple[float, float]]) -> None:
    series = CandleSeries()
    new = [series.add(t, p) for t, p in points]
    got = [(c.start, c.open, c.high, c.low, c.close) for c in series.all()]
    assert got == brute_candles(points)
    assert sum(new) == len(got)
    assert len(series) == len(got)


def test_a_late_stamp_goes_into_the_newest_candle_and_history_seeds_the_candles() -> None:
    @dataclass
    class Bar:
        start: datetime
        open: float
        high: float
        low: float
        close: float

    series = CandleSeries()
    series.seed([Bar(T0, 10, 11, 9, 10.5), Bar(T0 + timedelta(minutes=1), 10.5, 10.8, 10.1, 10.2)])
    assert series.history_end == epoch(T0) + 60
    assert not series.add(epoch(T0) + 75, 12.0)  # the last history bar is still growing
    assert not series.add(epoch(T0) + 30, 9.5)  # late: kept in the newest candle
    assert series.add(epoch(T0) + 120, 11.0)
    assert [(c.open, c.high, c.low, c.close) for c in series.all()] == [
        (10, 11, 9, 10.5), (10.5, 12.0, 9.5, 9.5), (11.0, 11.0, 11.0, 11.0)]


def record(order_id: int, **kw) -> OrderRecord:
    base = dict(symbol="AAPL", action="BUY", total_quantity=100, order_type="LIMIT", limit_price=229.5,
                status=OrderStatus.SUBMITTED)
    base.update(kw)
    r = OrderRecord(order_id, **base)
    r.attempts.append(BrokerAttempt(order_id=order_id + 100, order_ref=f"ref{order_id}", quantity=r.total_quantity,
                                    perm_id=9000 + order_id))
    return r


def test_order_lines_for_the_symbols_working_orders() -> None:
    limit = record(1)
    stop_limit = record(2, action="SELL", order_type="STOP_LIMIT", limit_price=225.0, stop_price=225.5,
                        total_quantity=50, filled_quantity=20)
    unacked = record(3, order_type="STOP", limit_price=None, stop_price=240.0)
    unacked.attempts[-1].perm_id = 0
    cancelling = record(4, limit_price=228.0)
    cancelling.cancel_requested = True
    done = record(5, status=OrderStatus.FILLED)
    other = record(6, symbol="MSFT")
    market = record(7, order_type="MARKET", limit_price=None, status=OrderStatus.PENDING)
    lines = order_lines([limit, stop_limit, unacked, cancelling, done, other, market], "AAPL")
    assert [(s.order_id, s.kind, s.price, s.movable, s.acknowledged) for s in lines] == [
        (1, "limit", 229.5, True, True),
        (2, "limit", 225.0, True, True), (2, "stop", 225.5, True, True),
        (3, "stop", 240.0, False, False),
        (4, "limit", 228.0, False, True),
    ]
    labels = [s.label for s in lines]
    assert labels[0] == "BUY 100 LMT 229.50  #1"
    assert labels[1] == "SELL 30 LMT 225.00  #2" and labels[2] == "SELL 30 STP 225.50  #2"
    assert labels[3] == "BUY 100 STP 240.00  #3  (sending)"
    assert labels[4].endswith("(cancelling)")
    assert order_lines([record(8, limit_price=1.2345)], "AAPL", tick=0.0001)[0].label.startswith("BUY 100 LMT 1.2345")


def test_fill_marks_carry_side_quantity_price_and_order() -> None:
    r = record(1, action="SELL")
    r.add_fill(Fill("e1", 1, "AAPL", 40, 229.5, T0))
    r.add_fill(Fill("e2", 1, "AAPL", 60, 229.6, T0 + timedelta(seconds=5)))
    marks = fill_marks(r)
    assert [(m.side, m.quantity, m.price, m.t) for m in marks] == [
        ("SELL", 40, 229.5, epoch(T0)), ("SELL", 60, 229.6, epoch(T0) + 5)]
    assert marks[0].tip() == "Sold 40 @ 229.50\norder #1 · 10:00:00"
