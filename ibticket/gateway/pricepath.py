"""Synthetic price paths for the past: a day's sessions, their minutes, and the seconds inside a minute.

Everything here is a pure function of its arguments and a string seed (random.Random hashes a str seed
with SHA-512, so it does not depend on PYTHONHASHSEED): the same day asked for twice is the same day.

A day is planned first, cheaply: open, high, low, close and volume of its three segments (pre-market
04:00-09:30, regular hours 09:30-16:00, after hours 16:00-20:00). A daily bar is made from the plan alone.
The minutes are drawn only when intraday bars are asked for: a bridge through the segment's open, its high,
its low and its close, so minute bars always add up to the day's bar. Seconds are drawn the same way
inside a minute. Bid, ask and midpoint follow the trade price with the live walk's spread.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from .universe import Instrument

MINUTES_PER_DAY = 960  # 04:00-20:00
RTH_FIRST_MINUTE = 330  # 09:30
RTH_END_MINUTE = 720  # 16:00
# Per-minute volatility in and outside regular hours; a regular session of it is about 1.5 %.
RTH_SIGMA = 0.0007
EXTENDED_SIGMA = 0.00025
DAILY_SIGMA = 0.015
GAP_SIGMA = 0.004
AVERAGE_TRADE = 150  # shares per print, for the bars' trade counts

# Row: one bar's worth of one price series: (start epoch, open, high, low, close, volume, trade count).
Row = tuple[float, float, float, float, float, int, int]
TRADES, BID, ASK, MIDPOINT = "TRADES", "BID", "ASK", "MIDPOINT"


def seeded(*parts: object) -> random.Random:
    return random.Random("|".join(str(p) for p in parts))


def snapper(inst: Instrument, step: float | None = None, decimals: int | None = None) -> Callable[[float], float]:
    tick = step or inst.min_tick
    places = inst.price_decimals if decimals is None else decimals
    return lambda price: round(max(tick, round(price / tick) * tick), places)


def sigma_at(minute: int) -> float:
    return RTH_SIGMA if RTH_FIRST_MINUTE <= minute < RTH_END_MINUTE else EXTENDED_SIGMA


def volume_profile(minute: int) -> float:
    """U-shaped in regular hours (busy open and close), thin before and after."""
    if not RTH_FIRST_MINUTE <= minute < RTH_END_MINUTE:
        return 0.04
    m = minute - RTH_FIRST_MINUTE
    return 1.0 + 2.0 * math.exp(-m / 20) + 1.5 * math.exp(-(RTH_END_MINUTE - RTH_FIRST_MINUTE - m) / 20)


_PROFILE = [volume_profile(i) for i in range(MINUTES_PER_DAY)]
_VARIANCE = [sigma_at(i) ** 2 for i in range(MINUTES_PER_DAY)]


def base_volume(seed: int, symbol: str) -> float:
    """Shares per regular-hours minute, a fixed trait of the symbol."""
    return seeded(seed, symbol, "volume").uniform(3_000, 40_000)


@dataclass(frozen=True)
class Segment:
    """A stretch of a day: minutes first..first+length-1 counted from 04:00, and what they add up to."""

    first: int
    length: int
    open: float
    high: float
    low: float
    close: float
    volume: int  # shares, a multiple of 100
    count: int


def plan_segment(inst: Instrument, rng: random.Random, first: int, length: int, open_: float, close: float,
                 base: float) -> Segment:
    """A segment's open/high/low/close/volume, drawn in a few steps (no minutes)."""
    snap = snapper(inst)
    o, c = snap(open_), snap(close)
    reach = math.sqrt(sum(_VARIANCE[first:first + length])) * 0.6
    high = snap(max(o, c) * math.exp(abs(rng.gauss(0.0, reach))))
    low = snap(min(o, c) * math.exp(-abs(rng.gauss(0.0, reach))))
    lots = int(base * sum(_PROFILE[first:first + length]) * rng.uniform(0.6, 1.4)) // 100
    return Segment(first, length, o, max(high, o, c), min(low, o, c), c, lots * 100, lots * 100 // AVERAGE_TRADE)


def segment_minutes(inst: Instrument, seg: Segment, rng: random.Random, t0: float) -> list[Row]:
    """The segment's minutes (trade prices), starting at t0 + 60 * seg.first: they open at its open, close
    at its close, reach exactly its high and low, and their volumes and counts add up to its own."""
    n = seg.length
    if n == 0:
        return []
    snap = snapper(inst)
    points = bridge_points(seg.open, seg.high, seg.low, seg.close, n, rng,
                           lambda k: sigma_at(seg.first + k), snap)
    weights = [volume_profile(seg.first + k) * (0.4 + 1.2 * rng.random()) for k in range(n)]
    volumes = split(seg.volume // 100, weights)
    counts = split(seg.count, weights)
    rows: list[Row] = []
    gauss = rng.gauss
    for k in range(n):
        a, b = points[k], points[k + 1]
        wick = abs(gauss(0.0, sigma_at(seg.first + k) * 0.5))
        high = min(seg.high, max(a, b, snap(max(a, b) * math.exp(wick))))
        low = max(seg.low, min(a, b, snap(min(a, b) * math.exp(-wick * rng.random()))))
        rows.append((t0 + 60 * (seg.first + k), a, high, low, b, volumes[k] * 100, counts[k]))
    if n < 3:  # too few points for both extremes: the wicks go on the first minute
        t, a, high, low, b, v, m = rows[0]
        rows[0] = (t, a, seg.high, seg.low, b, v, m)
    return rows


def split(total: int, weights: list[float]) -> list[int]:
    """`total` in whole parts in proportion to the weights, adding up exactly."""
    whole = sum(weights) or 1.0
    parts, running, given = [], 0.0, 0
    for w in weights:
        running += w
        upto = int(total * running / whole + 1e-9)
        parts.append(upto - given)
        given = upto
    if parts:
        parts[-1] += total - given
    return parts


def bridge_points(o: float, h: float, lo: float, c: float, n: int, rng: random.Random,
                  sigma: Callable[[int], float], snap: Callable[[float], float]) -> list[float]:
    """n+1 prices from o to c that touch h and lo (when n allows): Brownian bridges between those anchors
    in log price. A bridge that would leave [lo, h] is folded back at the edge (clipping it would draw
    plateaus at the extremes, shrinking it straight lines)."""
    anchors = {0: o, n: c}
    if n >= 3:
        at_high, at_low = rng.sample(range(1, n), 2)
        anchors[at_high], anchors[at_low] = h, lo
    keys = sorted(anchors)
    points = [o] * (n + 1)
    gauss = rng.gauss
    bottom = math.log(lo)
    width = math.log(h) - bottom
    for left, right in itertools.pairwise(keys):
        start, end = math.log(anchors[left]), math.log(anchors[right])
        walk, w = [], 0.0
        for k in range(left, right):
            w += gauss(0.0, sigma(k))
            walk.append(w)
        span = right - left
        miss = walk[-1] - (end - start)
        for j in range(1, span):
            x = start + walk[j - 1] - miss * j / span
            if width > 0:
                folded = (x - bottom) % (2 * width)
                x = bottom + (folded if folded <= width else 2 * width - folded)
            points[left + j] = min(h, max(lo, snap(math.exp(x))))
        points[left], points[right] = anchors[left], anchors[right]
    return points


def quote_of(inst: Instrument, price: float, what: str) -> float:
    """The bid, ask or midpoint that goes with a trade price (the live walk's spread: 1 bp, at least a tick)."""
    if what == TRADES:
        return price
    tick, decimals = inst.min_tick, inst.price_decimals
    ticks = max(1, round(price * 0.0001 / tick))
    bid = round(max(tick, round((price - ticks * tick / 2) / tick) * tick), decimals)
    if what == BID:
        return bid
    ask = round(bid + ticks * tick, decimals)
    return ask if what == ASK else round((bid + ask) / 2, decimals + 1)


def as_quotes(inst: Instrument, row: Row, what: str) -> Row:
    """A trade-price row as the bid, ask or midpoint row that goes with it."""
    if what == TRADES:
        return row
    t, *prices, volume, count = row
    o, h, lo, c = (quote_of(inst, p, what) for p in prices)
    return (t, o, max(o, h, lo, c), min(o, h, lo, c), c, volume, count)


def seconds_of(row: Row, seconds: int, rng: random.Random, step: float, decimals: int) -> list[Row]:
    """The first `seconds` one-second rows of a minute row, consistent with it: they open at its open,
    close at its close (of the seconds given), and their high and low are its high and low."""
    t, o, h, lo, c, volume, count = row
    n = max(1, min(60, seconds))
    size = max(step, (h - lo) / 8)

    def snap(price: float) -> float:
        return round(round(price / step) * step, decimals)

    points = bridge_points(o, h, lo, c, n, rng, lambda _k: size / max(o, 1e-9), snap) if h > lo else [o] * (n + 1)
    points[n] = c
    volumes = split(volume, [1.0] * n)
    counts = split(count, [1.0] * n)
    rows: list[Row] = [(t + k, points[k], max(points[k], points[k + 1]), min(points[k], points[k + 1]),
                        points[k + 1], volumes[k], counts[k]) for k in range(n)]
    if n < 3:
        first = rows[0]
        rows[0] = (first[0], first[1], max(first[2], h), min(first[3], lo), first[4], first[5], first[6])
    return rows

