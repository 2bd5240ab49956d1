"""Simulated top-of-book quotes: a seeded random walk per symbol, snapped to the tick.

With a state file the market outlives the gateway as the account does: the quotes are saved (state.py) and
a restart resumes every symbol where it was (resume()), moved by the walk it would have made while the
gateway was away, instead of starting again from stocks.csv. A restart must not look like a price jump to
the account's positions and stops.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from .universe import Instrument, Universe

# Per-step volatility of the walk; small enough that prices stay plausible over a long session.
STEP_SIGMA = 0.0004
LOT = 100
# The walk "while away" has the running walk's volatility for the time that passed, but at most GAP_SIGMA
# (about a US stock's daily move), and is cut at GAP_LIMIT of those: a month away moves a price by 5 % at
# the very most, where the running walk's volatility would give it 2,000 %.
GAP_SIGMA = 0.02
GAP_LIMIT = 2.5


@dataclass
class Quote:
    bid: float
    ask: float
    last: float
    bid_size: int
    ask_size: int
    last_size: int
    volume: int
    open: float
    high: float
    low: float
    close: float  # the previous session's close


@dataclass(frozen=True)
class SavedQuote:
    """What a state file keeps of a symbol's quote, and when it was saved."""

    symbol: str
    bid: float
    ask: float
    last: float
    volume: int
    open: float
    high: float
    low: float
    close: float
    at: datetime


def gap_move(seed: int, symbol: str, saved_at: datetime, seconds: float, tick_interval: float | None) -> float:
    """The factor a price moved by while the gateway was away for `seconds` (1.0 for a market that only
    moves by hand). Deterministic: the same seed, symbol, save time and absence give the same move."""
    if tick_interval is None or not seconds > 0:
        return 1.0
    steps = int(seconds / tick_interval)
    sigma = min(GAP_SIGMA, STEP_SIGMA * math.sqrt(steps))
    rng = random.Random(f"{seed}/{symbol}/{saved_at.isoformat()}/{steps}")
    z = max(-GAP_LIMIT, min(GAP_LIMIT, rng.gauss(0.0, 1.0)))
    return math.exp(sigma * z)


def snap(price: float, tick: float, decimals: int) -> float:
    return round(max(tick, round(price / tick) * tick), decimals)


class Market:
    """Quotes for every instrument. Not thread-safe: the gateway loop owns it."""

    def __init__(self, universe: Universe, seed: int) -> None:
        self._universe = universe
        self._rng = random.Random(seed)
        self.frozen = False
        self._quotes: dict[str, Quote] = {}
        for inst in universe:
            price = snap(inst.start_price, inst.min_tick, inst.price_decimals)
            bid, ask = self._spread_around(inst, price)
            self._quotes[inst.symbol] = Quote(
                bid=bid, ask=ask, last=price,
                bid_size=self._lot_size(), ask_size=self._lot_size(), last_size=LOT,
                volume=self._rng.randint(1_000, 50_000) * LOT,
                open=price, high=price, low=price, close=price,
            )

    def quote(self, symbol: str) -> Quote:
        return replace(self._quotes[symbol])

    def quotes(self) -> dict[str, Quote]:
        """A copy of every quote, for the state file."""
        return {symbol: replace(q) for symbol, q in self._quotes.items()}

    def resume(
        self, saved: Iterable[SavedQuote], seed: int, now: datetime, tick_interval: float | None,
    ) -> list[str]:
        """Continue from a state file's quotes, each moved by gap_move() for the time since it was saved.

        The day's open, high, low and volume carry on within the same calendar day; on a later day the saved
        last becomes the close and a new session opens at the resumed price. The walk goes on with a
        generator seeded from the seed and the save time, so that a restart does not replay the steps of
        the first launch. Symbols the instrument list no longer has are ignored; returns the resumed ones.
        """
        resumed: list[str] = []
        latest: datetime | None = None
        for s in saved:
            inst = self._universe.by_symbol(s.symbol)
            if inst is None:
                continue
            factor = gap_move(seed, s.symbol, s.at, (now - s.at).total_seconds(), tick_interval)
            tick, decimals = inst.min_tick, inst.price_decimals
            if factor == 1.0:
                bid, ask, last = snap(s.bid, tick, decimals), snap(s.ask, tick, decimals), snap(s.last, tick, decimals)
                ask = max(ask, bid)
            else:
                bid, ask = self._spread_around(inst, (s.bid + s.ask) / 2 * factor)
                last = snap(s.last * factor, tick, decimals)
            if s.at.astimezone().date() == now.astimezone().date():
                session = (snap(s.open, tick, decimals), max(s.high, last), min(s.low, last), s.close, s.volume)
            else:
                session = (last, last, last, s.last, 0)
            q = self._quotes[inst.symbol]
            q.bid, q.ask, q.last = bid, ask, last
            q.open, q.high, q.low, q.close, q.volume = session
            resumed.append(inst.symbol)
            latest = s.at if latest is None or s.at > latest else latest
        if latest is not None:
            self._rng = random.Random(f"{seed}/resumed/{latest.isoformat()}")
        return resumed

    def step(self) -> list[str]:
        """One random-walk step for every symbol; returns the symbols whose quote changed."""
        if self.frozen:
            return []
        changed = []
        for inst in self._universe:
            q = self._quotes[inst.symbol]
            mid = (q.bid + q.ask) / 2
            new_mid = mid * math.exp(self._rng.gauss(0.0, STEP_SIGMA))
            bid, ask = self._spread_around(inst, new_mid)
            q.bid, q.ask = bid, ask
            q.bid_size, q.ask_size = self._lot_size(), self._lot_size()
            # A print at the touch on roughly every other step keeps last and volume moving.
            if self._rng.random() < 0.5:
                self._trade(q, bid if self._rng.random() < 0.5 else ask, self._rng.randint(1, 5) * LOT)
            changed.append(inst.symbol)
        return changed

    def set_price(self, inst: Instrument, price: float, spread: float = 0.0) -> None:
        """Move bid, ask and last to a price (a locked market unless a spread is given)."""
        if not math.isfinite(price) or price <= 0:
            raise ValueError(f"invalid price {price!r}")
        q = self._quotes[inst.symbol]
        last = snap(price, inst.min_tick, inst.price_decimals)
        half = max(0.0, spread) / 2
        q.bid = snap(price - half, inst.min_tick, inst.price_decimals)
        q.ask = max(q.bid, snap(price + half, inst.min_tick, inst.price_decimals))
        self._trade(q, last, q.last_size or LOT)

    def set_quote(
        self,
        inst: Instrument,
        bid: float,
        ask: float,
        last: float | None = None,
        bid_size: int | None = None,
        ask_size: int | None = None,
    ) -> None:
        if not (math.isfinite(bid) and math.isfinite(ask)) or bid <= 0 or ask < bid:
            raise ValueError(f"invalid quote {bid!r}/{ask!r}")
        q = self._quotes[inst.symbol]
        q.bid = snap(bid, inst.min_tick, inst.price_decimals)
        q.ask = snap(ask, inst.min_tick, inst.price_decimals)
        if bid_size is not None:
            q.bid_size = max(0, int(bid_size))
        if ask_size is not None:
            q.ask_size = max(0, int(ask_size))
        if last is not None:
            self._trade(q, snap(last, inst.min_tick, inst.price_decimals), q.last_size or LOT)

    def _trade(self, q: Quote, price: float, size: int) -> None:
        q.last = price
        q.last_size = size
        q.volume += size
        q.high = max(q.high, price)
        q.low = min(q.low, price)

    def _spread_around(self, inst: Instrument, mid: float) -> tuple[float, float]:
        ticks = max(1, round(mid * 0.0001 / inst.min_tick))
        bid = snap(mid - ticks * inst.min_tick / 2, inst.min_tick, inst.price_decimals)
        ask = round(bid + ticks * inst.min_tick, inst.price_decimals)
        return bid, ask

    def _lot_size(self) -> int:
        return self._rng.randint(1, 20) * LOT
