"""Simulated top-of-book quotes: a seeded random walk per symbol, snapped to the tick."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

from .universe import Instrument, Universe

# Per-step volatility of the walk; small enough that prices stay plausible over a long session.
STEP_SIGMA = 0.0004
LOT = 100


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
