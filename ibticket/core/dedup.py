"""Duplicate-order guard.

The seed keyed duplicates on ``symbol_action_quantity_timestamp``; a timestamp makes every key unique, so
it never caught a double click. The key here is what makes two orders the same trade: symbol, side,
quantity, type and prices. A key lives for ``window`` seconds after its last submission.
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import Clock


@dataclass(frozen=True)
class OrderKey:
    symbol: str
    action: str
    quantity: int
    order_type: str
    limit_price: float | None
    stop_price: float | None

    def describe(self) -> str:
        price = ""
        if self.limit_price is not None:
            price += f" limit {self.limit_price:g}"
        if self.stop_price is not None:
            price += f" stop {self.stop_price:g}"
        return f"{self.action} {self.quantity} {self.symbol} {self.order_type}{price}"


class DuplicateGuard:
    def __init__(self, clock: Clock, window: float = 60.0) -> None:
        if window < 0:
            raise ValueError("duplicate window must be zero or more seconds")
        self._clock = clock
        self.window = window
        self._seen: dict[OrderKey, tuple[float, int]] = {}

    def _expire(self) -> None:
        now = self._clock.time()
        for key in [k for k, (t, _) in self._seen.items() if now - t >= self.window]:
            del self._seen[key]

    def check(self, key: OrderKey) -> str | None:
        """The reason the order is a duplicate, or None when it may go."""
        self._expire()
        seen = self._seen.get(key)
        if seen is None:
            return None
        age = self._clock.time() - seen[0]
        wait = self.window - age
        return (
            f"Duplicate order refused: {key.describe()} was sent {age:.0f} s ago as order #{seen[1]}. "
            f"Send it again with force=True, or wait {wait:.0f} s."
        )

    def remember(self, key: OrderKey, order_id: int) -> None:
        self._seen[key] = (self._clock.time(), order_id)

    def forget_order(self, order_id: int) -> None:
        """Release an order's key: once it is cancelled or refused unfilled, sending it again is no double."""
        for key in [k for k, (_, oid) in self._seen.items() if oid == order_id]:
            del self._seen[key]

    def __len__(self) -> int:
        self._expire()
        return len(self._seen)
