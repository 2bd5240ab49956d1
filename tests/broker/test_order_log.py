"""The order log as IBKRBroker uses it: a corrupt log never stops connect()."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from ibticket import OrderStatus

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
