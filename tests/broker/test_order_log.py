"""The order log as IBKRBroker uses it: a corrupt log never stops connect(), and a log that fills up
mid-run never fails an order that went out, nor lets one go out that it could not log."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from pathlib import Path

import pytest

from ibticket import OrderLogError, OrderStatus
from ibticket.core import read_day

from ..core.diskfull import FullDisk, install, small_tmpfs
from .conftest import Watcher


def _today_file(log_dir: Path) -> Path:
    log_dir.mkdir(parents=True, exist_ok=True)
    return log_dir / f"orders-{date.today().isoformat()}.jsonl"


def test_connect_survives_corrupt_lines_and_restores_the_good_ones(make_broker, log_dir: Path) -> None:
    ref = f"ibt-11-{datetime.now():%Y%m%d-%H%M%S}-1"
    good = {"timestamp": datetime.now().isoformat(), "event_type": "SUBMISSION", "order_id": 1, "symbol": "AAPL",
            "action": "BUY", "quantity": 10, "order_type": "LIMIT", "limit_price": 1.0, "status": "Submitted",
            "filled_quantity": 0, "remaining_quantity": 10, "avg_fill_price": 0.0, "order_ref": ref,
            "attempt": 1, "attempt_ref": ref + "/1", "broker_order_id": 0}
    lines = [
        json.dumps(good),
        '{"timestamp": "2026-02-18T10:00:00", "event_type": "SUBMISSION", "order_id": 2, "symbol": "X", '
        '"action": "BUY", "quantity": Infinity, "order_ref": "y"}',
        json.dumps({**good, "order_id": 3, "attempt_ref": 5}),
        json.dumps({**good, "order_id": 4, "order_ref": ["x"]}),
        "[" * 200_000 + "]" * 200_000,
    ]
    _today_file(log_dir).write_text("\n".join(lines) + "\n")
    broker = make_broker()
    assert broker.connect(timeout=5), broker.last_error
    report = broker.core.restore_report
    assert report is not None and "4 unreadable lines skipped" in report and "lines 2, 3, 4, 5" in report
    (restored,) = broker.get_all_orders()
    assert (restored.order_id, restored.order_ref) == (1, ref)
    # Ids continue after the restored order, and trading works.
    watch = Watcher(broker)
    order = broker.execute_market_order("AAPL", 5, "buy")
    assert order.order_id == 2
    watch.wait_status(order.order_id, OrderStatus.FILLED)


# -- a crash on either side of the send ------------------------------------------------------------


def test_a_crash_after_the_write_ahead_line_but_before_the_send(make_broker, gateway, log_dir: Path) -> None:
    ref = f"ibt-11-{datetime.now():%Y%m%d-%H%M%S}-1"
    ahead = {"timestamp": datetime.now().isoformat(), "event_type": "SUBMISSION", "order_id": 1, "symbol": "AAPL",
             "action": "BUY", "quantity": 10, "order_type": "MARKET", "status": "Pending",
             "filled_quantity": 0, "remaining_quantity": 10, "avg_fill_price": 0.0, "order_ref": ref,
             "attempt": 1, "attempt_ref": ref + "/1"}
    _today_file(log_dir).write_text(json.dumps(ahead) + "\n")
    broker = make_broker()
    assert broker.connect(timeout=5), broker.last_error
    record = broker.get_order_status(1)
    assert record.status is OrderStatus.ERROR and "not sent" in record.error_message
    assert gateway.orders() == []  # and nothing was sent on restart either


def test_a_crash_after_the_send_but_before_the_line_that_says_so(make_broker, gateway, log_dir: Path) -> None:
    gateway.set_price("MSFT", 400.0)
    first = make_broker()
    assert first.connect(timeout=5)
    order = first.execute_limit_order("MSFT", 30, 390.0, "buy")
    first.close()
    path = _today_file(log_dir)
    lines = path.read_text().splitlines()
    assert [json.loads(line)["event_type"] for line in lines][:2] == ["SUBMISSION", "STATUS_CHANGE"]
    path.write_text(lines[0] + "\n")  # as if the app died right after placeOrder

    second = make_broker()
    assert second.connect(timeout=5)
    watch = Watcher(second)
    record = second.get_order_status(order.order_id)
    assert record.status is OrderStatus.SUBMITTED  # found at IB by its order reference
    assert record.attempts[0].order_id == order.attempts[0].order_id
    assert len(gateway.orders()) == 1
    second.cancel_order(order.order_id)
    watch.wait_status(order.order_id, OrderStatus.CANCELLED)


# -- a log that fills up mid-run ------------------------------------------------------------------


class LogHealth:
    """What the order log's health callback reported, to wait on instead of sleeping."""

    def __init__(self, logger) -> None:
        self.cond = threading.Condition()
        self.calls: list[tuple[bool, str]] = []
        logger.register_health_callback(self._on)

    def _on(self, degraded: bool, message: str) -> None:
        with self.cond:
            self.calls.append((degraded, message))
            self.cond.notify_all()

    def wait(self, degraded: bool, timeout: float = 10.0) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: self.calls and self.calls[-1][0] is degraded, timeout), self.calls


@pytest.fixture(params=["simulated", "tmpfs"])
def filling_disk(request, tmp_path: Path):
    """(log folder, make the disk full once the broker's logger exists, free it). "simulated" runs
    everywhere (a full disk at the logger's os.write); "tmpfs" is a real 48 KiB filesystem (root only)."""
    if request.param == "simulated":
        folder = tmp_path / "orders"
        disk = FullDisk(float("inf"))

        def fill(logger) -> None:
            install(logger, disk)
            disk.free(20_000)  # a few orders' worth, then full

        yield folder, fill, disk.free
        return
    with small_tmpfs(tmp_path / "small") as where:
        filler = where / "filler"
        filler.write_bytes(b"x" * 28 * 1024)  # 20 KiB left for the log; freed later
        yield where / "orders", lambda logger: None, filler.unlink


@pytest.mark.parametrize("gateway", [{"partial_fills": 3}], indirect=True)
def test_a_log_that_fills_up_mid_run(make_broker, gateway, filling_disk) -> None:
    folder, fill_disk, free_disk = filling_disk
    broker = make_broker(log_dir=str(folder))
    try:
        assert broker.connect(timeout=5), broker.last_error
        broker.core.log_retry_interval = 0.05
        health = LogHealth(broker.logger)
        watch = Watcher(broker)
        fill_disk(broker.logger)

        sent, refused = [], []
        for i in range(150):
            try:
                sent.append(broker.execute_market_order("AAPL", 10 + i, "buy"))
            except OrderLogError as exc:  # the only exception any call may raise
                refused.append(str(exc))
        assert sent and refused, (len(sent), len(refused))
        assert all(r is not None for r in sent)
        assert all(str(folder) in m and "not sent" in m and "No space left on device" in m for m in refused)
        # Nothing refused reached the gateway; everything sent did, once.
        at_gateway = sorted(o.order_ref for o in gateway.orders())
        assert at_gateway == sorted(r.order_ref + "/1" for r in sent)

        # Every order that went out fills, and every one of its fill callbacks runs.
        for record in sent:
            watch.wait_status(record.order_id, OrderStatus.FILLED)
        watch.wait(lambda: len(watch.fills) == 3 * len(sent), what="every fill callback")
        assert broker.log_degraded and "No space left on device" in broker.log_status
        health.wait(True)
        assert broker.get_todays_order_summary()["filled_orders"] == len(sent)  # owed lines count meanwhile

        # Space again: the broker's periodic retry writes what is owed, in order, once each.
        free_disk()
        health.wait(False)
        assert not broker.log_degraded
        day = read_day(folder, date.today())
        by_order: dict[str, list[str]] = {}
        for event in day.events:
            if event["event_type"] != "COMMISSION":  # one may follow its fill, or not: the gateway's timing
                by_order.setdefault(event["order_ref"], []).append(event["event_type"])
        assert sorted(by_order) == sorted(r.order_ref for r in sent)
        assert {tuple(k) for k in by_order.values()} == {("SUBMISSION", "STATUS_CHANGE", "FILL", "FILL", "FILL")}
        fill_ids = [e["fill_id"] for e in day.events if e["event_type"] == "FILL"]
        assert len(fill_ids) == len(set(fill_ids)) == 3 * len(sent)
        assert len(day.bad_lines) <= 1  # at most the piece of the first refused submission, marked as such
        # And new orders go again.
        after = broker.execute_market_order("MSFT", 5, "buy")
        watch.wait_status(after.order_id, OrderStatus.FILLED)
    finally:
        broker.close()
