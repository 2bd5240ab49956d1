"""The duplicate check's cost per order against the number of keys it remembers.

Each order goes through ``OrderExecutionHandler.create_order`` (validation, the duplicate check, remembering
its key) with N other keys already remembered, either all inside the window (60 s) or all past it. The
baseline, measured in the same run, is the guard as it was before keys expired from a queue: it scanned
every key on every check (``ScanningGuard`` below, the old code verbatim), swapped into the same handler.

    .venv/bin/python bench/dedup.py [--keys 1000 10000 100000] [--orders 200] [--repeat 5]
    .venv/bin/python bench/dedup.py --quick    # a smoke run: 100 and 1,000 keys, 20 orders, one run
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from ibticket.core import ManualClock, OrderExecutionHandler
from ibticket.core.clock import Clock
from ibticket.core.dedup import DuplicateGuard, OrderKey

WINDOW = 60.0
STEP = 1e-4  # seconds between remembered keys: 100,000 of them span 10 s, well inside the window


class ScanningGuard:
    """The baseline: DuplicateGuard before the queue (expiry and release scanned every key)."""

    def __init__(self, clock: Clock, window: float = 60.0) -> None:
        self._clock = clock
        self.window = window
        self._seen: dict[OrderKey, tuple[float, int]] = {}

    def _expire(self) -> None:
        now = self._clock.time()
        for key in [k for k, (t, _) in self._seen.items() if now - t >= self.window]:
            del self._seen[key]

    def check(self, key: OrderKey) -> str | None:
        self._expire()
        seen = self._seen.get(key)
        if seen is None:
            return None
        return f"Duplicate order refused: {key.describe()} (order #{seen[1]})"

    def remember(self, key: OrderKey, order_id: int) -> None:
        self._seen[key] = (self._clock.time(), order_id)

    def forget_order(self, order_id: int) -> None:
        for key in [k for k, (_, oid) in self._seen.items() if oid == order_id]:
            del self._seen[key]

    def __len__(self) -> int:
        self._expire()
        return len(self._seen)


def prepared(variant: str, keys: int, expired: bool) -> tuple[OrderExecutionHandler, ManualClock]:
    """A handler whose guard already remembers ``keys`` keys (other symbols than the measured orders')."""
    clock = ManualClock()
    handler = OrderExecutionHandler(clock=clock, duplicate_window=WINDOW)
    guard: Any = DuplicateGuard(clock, WINDOW) if variant == "queue" else ScanningGuard(clock, WINDOW)
    handler._dedup = guard  # the bench swaps the implementation under test; nothing else touches it
    for n in range(keys):
        guard.remember(OrderKey("MSFT", "BUY", n + 1, "LIMIT", 400.0, None), 1_000_000 + n)
        clock.advance(STEP)
    # The handler must really ask this guard: were its attribute renamed, the line above would quietly add
    # a new one and both variants would measure the handler's own guard. A remembered key is refused.
    if keys and handler.create_order("MSFT", "BUY", keys, "LIMIT", 400.0) is not None:
        raise SystemExit(f"dedup bench: the handler does not use the {variant} guard put in as handler._dedup")
    if expired:
        clock.advance(WINDOW)
        handler.create_order("AAPL", "SELL", 1, "LIMIT", 150.0)  # this check expires them all, once
    assert len(guard._seen) == (0 if not expired else 1) + (keys if not expired else 0)
    return handler, clock


def per_order(variant: str, keys: int, expired: bool, orders: int, repeat: int) -> float:
    """Median over ``repeat`` runs of the seconds per order, each run ``orders`` orders."""
    runs = []
    for _ in range(repeat):
        handler, clock = prepared(variant, keys, expired)
        start = time.perf_counter()
        for n in range(orders):
            assert handler.create_order("AAPL", "BUY", n + 1, "LIMIT", 150.0) is not None
            clock.advance(STEP)
        runs.append((time.perf_counter() - start) / orders)
    return statistics.median(runs)


def first_expiry(keys: int, repeat: int) -> float:
    """The one check that expires ``keys`` keys at once (new guard), median seconds."""
    runs = []
    for _ in range(repeat):
        handler, clock = prepared("queue", keys, expired=False)
        clock.advance(WINDOW)
        start = time.perf_counter()
        handler.create_order("AAPL", "SELL", 1, "LIMIT", 150.0)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--orders", type=int, default=200, help="orders timed per run")
    parser.add_argument("--repeat", type=int, default=5, help="runs per point, median reported")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 and 1,000 keys, 20 orders, one run")
    args = parser.parse_args()
    if args.quick:
        args.keys, args.orders, args.repeat = [100, 1000], 20, 1
    print("ibticket duplicate-check benchmark (bench/dedup.py)")
    print(f"  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; nproc={os.cpu_count()}; "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f}")
    print(f"  per order: OrderExecutionHandler.create_order, median of {args.repeat} runs of {args.orders} orders")
    print("  scan = the guard before (every key scanned per check); queue = keys expire in time order")
    print()
    header = (f"{'keys':>8}  {'inside: scan us':>15} {'queue us':>9} {'scan/queue':>10}   "
              f"{'expired: scan us':>16} {'queue us':>9} {'scan/queue':>10}")
    print(header)
    for keys in args.keys:
        row = [f"{keys:>8,}"]
        for expired in (False, True):
            scan = per_order("scan", keys, expired, args.orders, args.repeat)
            queue = per_order("queue", keys, expired, args.orders, args.repeat)
            width = 15 if not expired else 16
            row.append(f"  {us(scan):>{width}} {us(queue):>9} {scan / queue:>9.1f}x")
        print("".join(row))
    print()
    print("  inside: the keys are all inside the window; expired: all past it (expired by one earlier check)")
    for keys in args.keys:
        print(f"  the one check that expires {keys:,} keys at once (queue): {us(first_expiry(keys, args.repeat))} us")


if __name__ == "__main__":
    main()
