"""Restoring a day grows with the day, no faster: counted in lines of the core run, never timed.

A busy day is 600,000 lines; anything quadratic in it (a late commission that scans its order's fills, for an
order filled in thousands of executions) turns a start of seconds into minutes. The restore also streams:
what it holds is the rebuilt orders, never the day's events.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import ibticket.core
from ibticket.core import (
    Fill,
    ManualClock,
    OrderExecutionHandler,
    OrderLogger,
    OrderRecord,
    OrderStatus,
    logreader,
    read_day,
    rebuild_orders,
)
from ibticket.core.recovery import plan_restore, restore_day

CORE = str(Path(ibticket.core.__file__).parent)
START = datetime(2026, 2, 18, 9, 30)


def core_lines_run(action: Callable[[], Any]) -> int:
    """Lines of ibticket/core executed while ``action`` runs (a loop body counts once per pass)."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename.startswith(CORE) else None

    sys.settrace(tracer)
    try:
        action()
    finally:
        sys.settrace(None)
    return count


class Day:
    """A day's log written through the real OrderLogger, on a clock that moves a second per line."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.now = START
        self.logger = OrderLogger(log_dir=folder, log_to_console=False, now=self._tick)
        self.exec_no = 0

    def _tick(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def order(self, order_id: int, quantity: int) -> OrderRecord:
        ref = f"ibt-11-20260218-093000-{order_id}"
        record = OrderRecord(order_id, "AAPL", "BUY", quantity, order_ref=ref, submission_time=self.now)
        self.logger.log_submission(record, write_ahead=True, attempt=1, attempt_ref=ref + "/1")
        record.status = OrderStatus.SUBMITTED
        self.logger.log_status_change(record, OrderStatus.PENDING, OrderStatus.SUBMITTED, "sent",
                                      broker_order_id=1000 + order_id, attempt=1, attempt_ref=ref + "/1")
        return record

    def fill(self, record: OrderRecord, commission: float = 0.0) -> Fill:
        self.exec_no += 1
        fill = Fill(f"0000e0d5.{self.exec_no:08x}.01.01", record.order_id, record.symbol, 1, 100.0, self.now,
                    commission)
        record.add_fill(fill)
        self.logger.log_fill(record, fill)
        return fill

    def commission(self, record: OrderRecord, fill: Fill) -> None:
        self.logger.log_event("COMMISSION", record, fill_id=fill.fill_id, commission=1.0)

    def close(self) -> None:
        self.logger.close()


def one_huge_order(folder: Path, executions: int) -> Day:
    """One order filled in ``executions`` executions, every commission reported after the last fill."""
    day = Day(folder)
    record = day.order(1, executions)
    fills = [day.fill(record) for _ in range(executions)]
    for fill in fills:  # oldest first: the farthest from the end of the order's fills
        day.commission(record, fill)
    day.close()
    return day


def many_orders(folder: Path, orders: int) -> Day:
    day = Day(folder)
    for order_id in range(1, orders + 1):
        record = day.order(order_id, 3)
        first = day.fill(record)
        day.fill(record, commission=1.0)
        day.commission(record, first)
        day.fill(record, commission=1.0)
    day.close()
    return day


def test_late_commissions_of_one_huge_order_cost_the_same_each(tmp_path: Path) -> None:
    small, large = 100, 400
    counts = {}
    for n in (small, large):
        day = read_day(one_huge_order(tmp_path / str(n), n).folder, START.date())
        (record,) = rebuild_orders(day.events)
        assert len(record.fills) == n and all(f.commission == 1.0 for f in record.fills)
        counts[n] = core_lines_run(lambda events=day.events: rebuild_orders(events))
    # Linear: four times the executions, about four times the lines (a scan per commission made it 16).
    assert counts[large] / counts[small] < 4.5, counts


@pytest.mark.parametrize("small", [200])
def test_restoring_a_day_is_linear_in_its_orders(tmp_path: Path, small: int) -> None:
    large = 4 * small
    counts, orders = {}, {}
    for n in (small, large):
        logger = OrderLogger(log_dir=many_orders(tmp_path / str(n), n).folder, log_to_console=False,
                             now=lambda: START)

        def restore(logger: OrderLogger = logger, n: int = n) -> None:
            day = restore_day(logger)
            handler = OrderExecutionHandler(clock=ManualClock())
            handler.apply_restore(plan_restore(day.records, day.next_order_id, day.noted))
            orders[n] = handler.get_all_orders()

        counts[n] = core_lines_run(restore)
    assert len(orders[large]) == large and all(r.status is OrderStatus.FILLED for r in orders[large])
    assert all(sum(f.commission for f in r.fills) == 3.0 for r in orders[large])
    assert counts[large] / counts[small] < 4.5, counts


def test_the_restore_streams_the_day_a_block_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = many_orders(tmp_path, 50).folder
    whole = read_day(folder, START.date())
    reads: list[int] = []
    real_read = logreader.os.read

    def read(fd: int, size: int) -> bytes:
        reads.append(size)
        return real_read(fd, size)

    monkeypatch.setattr(logreader, "BLOCK", 512)
    monkeypatch.setattr(logreader.os, "read", read)
    day = restore_day(OrderLogger(log_dir=folder, log_to_console=False, now=lambda: START))
    assert max(reads) <= 512 and len(reads) > 20
    assert [r.to_dict() for r in day.records] == [r.to_dict() for r in rebuild_orders(whole.events)]
    assert day.events == len(whole.events) and day.report is None and day.next_order_id == 51
