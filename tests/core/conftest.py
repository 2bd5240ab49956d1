"""Shared set-up for the core tests: a handler wired to a real order log in a temp dir and a manual clock."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ibticket.core import ManualClock, OrderExecutionHandler, OrderLogger
from ibticket.core.records import BrokerAttempt, OrderRecord

START = datetime(2026, 2, 18, 10, 30, 0)


class WallClock:
    """Wall time derived from the manual clock, so log timestamps and day files never depend on the host."""

    def __init__(self, clock: ManualClock, start: datetime = START) -> None:
        self.clock = clock
        self.start = start
        self._ticks = itertools.count()

    def __call__(self) -> datetime:
        # A microsecond per call keeps timestamps strictly increasing at one manual-clock instant.
        return self.start + timedelta(seconds=self.clock.time(), microseconds=next(self._ticks))


class Harness:
    """An OrderExecutionHandler with a file logger in ``tmp_path`` and a scriptable place function."""

    def __init__(self, tmp_path: Path, handler_cls: type[OrderExecutionHandler] = OrderExecutionHandler,
                 **handler_kwargs: Any) -> None:
        self.clock = ManualClock()
        self.wall = WallClock(self.clock)
        self.log_dir = tmp_path / "orders"
        self.logger = OrderLogger(log_dir=self.log_dir, log_to_console=False, now=self.wall)
        self._ids = itertools.count(1001)
        # (app order id, attempt order_ref, quantity asked for) per call of the place function
        self.placed: list[tuple[int, str, int]] = []
        self.fail_next = 0  # how many of the next place calls raise ConnectionError
        self.handler = handler_cls(
            logger=self.logger, clock=self.clock, place_order=self.place, now=self.wall, **handler_kwargs
        )

    async def place(self, record: OrderRecord, attempt: BrokerAttempt) -> None:
        self.placed.append((record.order_id, attempt.order_ref, attempt.quantity))
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ConnectionError("Not connected")
        attempt.order_id = next(self._ids)

    # -- driving -------------------------------------------------------------------------------------

    def submit(self, *args: Any, **kwargs: Any) -> OrderRecord:
        """Create and place an order (outside any running loop); the order must not be refused."""
        record = asyncio.run(self.handler.submit_order(*args, **kwargs))
        assert record is not None, self.handler.last_refusal
        return record

    async def advance(self, seconds: float) -> None:
        """Move time on and let the retries it started finish."""
        self.clock.advance(seconds)
        await self.handler.drain()

    # -- reading the log file directly (not through the reader under test) ----------------------------

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"orders-{START.date().isoformat()}.jsonl"

    def events(self, event_type: str | None = None, order_id: int | None = None) -> list[dict[str, Any]]:
        if not self.log_file.exists():
            return []
        lines = self.log_file.read_text(encoding="utf-8").splitlines()
        out = [json.loads(line) for line in lines]
        return [
            e for e in out
            if (event_type is None or e["event_type"] == event_type)
            and (order_id is None or e.get("order_id") == order_id)
        ]

    def counts(self, order_id: int | None = None) -> Counter[str]:
        return Counter(e["event_type"] for e in self.events(order_id=order_id))


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


@pytest.fixture
def make_harness(tmp_path: Path):
    made = itertools.count()

    def make(**kwargs: Any) -> Harness:
        folder = tmp_path / f"h{next(made)}"
        folder.mkdir()
        return Harness(folder, **kwargs)

    return make
