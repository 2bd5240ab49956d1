"""A big day restored at start-up reaches the window in slices, in order, and the start writes nothing.

The day's orders used to reach the models in one batch once connected: with 200,000 orders that held the GUI
loop for seconds. Now the window fills in a slice per loop pass while it stays live.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from windowkit import until

from ibticket.core import Fill, OrderLogger, OrderRecord, OrderStatus
from ibticket.gui import bridge as bridge_module
from ibticket.trading.connection import ConnectionChoice

ORDERS, SLICE = 1_200, 200


def write_day(log_dir: Path, orders: int, client_id: int) -> Path:
    """A day of filled and cancelled orders of ``client_id`` through the real logger (none left working: the
    gateway knows none of them, so a working one would be news at the next start)."""
    now = datetime.combine(date.today(), datetime.min.time()) + timedelta(hours=9, minutes=30)

    def clock() -> datetime:
        return now

    logger = OrderLogger(log_dir=log_dir, log_to_console=False, now=clock)
    for order_id in range(1, orders + 1):
        now += timedelta(milliseconds=10)
        ref = f"ibt-{client_id}-{now:%Y%m%d}-093000-{order_id}"
        record = OrderRecord(order_id, "AAPL", "BUY", 2, order_type="LIMIT", limit_price=100.0, order_ref=ref,
                             submission_time=now)
        logger.log_submission(record, write_ahead=True, attempt=1, attempt_ref=ref + "/1")
        record.status = OrderStatus.SUBMITTED
        logger.log_status_change(record, OrderStatus.PENDING, OrderStatus.SUBMITTED, "sent",
                                 broker_order_id=5000 + order_id, attempt=1, attempt_ref=ref + "/1")
        if order_id % 5 == 0:
            record.cancel_requested = True
            record.status = OrderStatus.CANCELLED
            logger.log_cancellation(record, reason="cancelled by you", requested=True)
            continue
        for part in range(2):
            fill = Fill(f"0000e0d5.{order_id:06x}{part}.01.01", order_id, "AAPL", 1, 100.0, now, 1.0)
            record.add_fill(fill)
            logger.log_fill(record, fill)
    logger.close()
    return log_dir / f"orders-{date.today().isoformat()}.jsonl"


def test_a_restored_day_fills_in_by_slices_and_the_start_appends_nothing(make_app, qt_loop, tmp_path,
                                                                         monkeypatch) -> None:
    monkeypatch.setattr(bridge_module, "REPLAY_SLICE", SLICE)
    day_file = write_day(tmp_path / "log", ORDERS, client_id=31)
    written = day_file.read_bytes()

    async def scenario() -> None:
        app = make_app()
        await app.controller.start(ConnectionChoice("sim", client_id=31))
        batches: list[list[int]] = []
        app.controller.bridge.ordersChanged.connect(lambda records: batches.append([r.order_id for r in records]))
        model, fills = app.window.orders_model, app.window.fills_model
        await until(lambda: model.rowCount() == ORDERS, timeout=30, what="the restored rows")
        await until(lambda: app.session.status.phase == "connected", what="the connection")
        await until(lambda: fills.rowCount() == 2 * (ORDERS - ORDERS // 5), what="the restored fills")
        assert len(batches) >= ORDERS // SLICE and max(len(b) for b in batches) <= SLICE
        assert [oid for batch in batches for oid in batch] == list(range(1, ORDERS + 1))  # each once, in order
        assert [model.record(row).order_id for row in range(ORDERS)] == list(range(1, ORDERS + 1))
        assert model.text(4, "status") == "Cancelled" and model.text(0, "filled") == "2/2"
        await app.stop()

    qt_loop.run_until_complete(scenario())
    assert day_file.read_bytes() == written  # nothing new at IB: nothing written
