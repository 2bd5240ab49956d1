"""Duplicate-order guard.

The seed keyed duplicates on ``symbol_action_quantity_timestamp``; a timestamp makes every key unique, so
it never caught a double click. The key here is what makes two orders the same trade: symbol, side,
quantity, type and prices. A key lives for ``window`` seconds after its last submission.

Keys expire in time order, from a queue of submissions: checking an order costs O(1) amortised however many
keys are inside the window (scanning every key per order cost 2 ms at 100,000 keys, see docs/benchmarks.md).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .clock import Clock
from .format import TYPE_SHORT


@dataclass(frozen=True)
class OrderKey:
    symbol: str
    action: str
    quantity: int
    order_type: str
    limit_price: float | None
    stop_price: float | None

    def describe(self) -> str:
        """As the window's Send button writes an order: BUY 1,000 AAPL LMT 185, STP LMT stop then limit."""
        prices = [p for p in (self.stop_price, self.limit_price) if p is not None]
        kind = TYPE_SHORT.get(self.order_type, self.order_type)
        return " ".join([self.action, f"{self.quantity:,}", self.symbol, kind, *(f"{p:,.10g}" for p in prices)])


class DuplicateGuard:
    def __init__(self, clock: Clock, window: float = 60.0) -> None:
        if window < 0:
            raise ValueError("duplicate window must be zero or more seconds")
        self._clock = clock
        self.window = window
        # Per key, its last submission: (time, order id).
        self._seen: dict[OrderKey, tuple[float, int]] = {}
        # Every submission in time order, so expiry only looks at the oldest. An entry whose key was sent
        # again since, or released, no longer matches ``_seen`` and is dropped without touching the key.
        self._queue: deque[tuple[float, OrderKey, int]] = deque()
        # The key each order holds, so releasing an order does not scan every key.
        self._key_of: dict[int, OrderKey] = {}

    def _expire(self) -> None:
        now = self._clock.time()
        queue = self._queue
        while queue and now - queue[0][0] >= self.window:
            sent, key, order_id = queue.popleft()
            holder = self._seen.get(key)
            if holder == (sent, order_id):
                del self._seen[key]
                holder = None
            if (holder is None or holder[1] != order_id) and self._key_of.get(order_id) == key:
                del self._key_of[order_id]

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
        sent = self._clock.time()
        self._seen[key] = (sent, order_id)
        self._queue.append((sent, key, order_id))
        self._key_of[order_id] = key

    def forget_order(self, order_id: int) -> None:
        """Release an order's key: once it is cancelled or refused unfilled, sending it again is no double."""
        key = self._key_of.pop(order_id, None)
        if key is not None:
            holder = self._seen.get(key)
            if holder is not None and holder[1] == order_id:
                del self._seen[key]

    def __len__(self) -> int:
        self._expire()
        return len(self._seen)
