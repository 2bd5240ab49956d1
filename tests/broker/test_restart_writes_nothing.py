"""A start that learns nothing new writes nothing to the order log.

At every connect IB reports today's orders again (open orders, completed orders, executions). An order
rejected by IB, or retried after IB cancelled its first attempt, comes back with a status the app ignores
and notes in the log; each start used to note it again, so a busy day grew by a line per such order per
start (and the next start had more to read).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ibticket import IBKRBroker, OrderStatus

from .conftest import Watcher


def day_lines(log_dir: Path) -> list[bytes]:
    return (log_dir / f"orders-{date.today().isoformat()}.jsonl").read_bytes().splitlines()


def start_and_stop(broker: IBKRBroker) -> None:
    assert broker.connect(timeout=5), broker.last_error
    # IB's whole report once more, as after IB's own connectivity returns: still nothing new.
    broker._call(broker.core.resync())
    broker.close()


def test_a_start_that_finds_nothing_new_appends_nothing(make_broker, gateway, log_dir) -> None:
    gateway.set_price("MSFT", 400.0)
    first = make_broker()
    watch = Watcher(first)
    assert first.connect(timeout=5)
    gateway.faults.reject_next_order()  # 201: rejected for good
    rejected = first.execute_market_order("AAPL", 10, "buy")
    watch.wait_status(rejected.order_id, OrderStatus.ERROR)
    gateway.faults.reject_next_order(code=100, text="Max rate of messages per second has been exceeded")
    retried = first.execute_market_order("AAPL", 11, "buy")  # IB cancels attempt 1; attempt 2 fills
    watch.wait_status(retried.order_id, OrderStatus.FILLED)
    filled = first.execute_market_order("SPY", 5, "buy")
    watch.wait_status(filled.order_id, OrderStatus.FILLED)
    cancelled = first.execute_limit_order("MSFT", 20, 380.0, "buy")
    first.cancel_order(cancelled.order_id)
    watch.wait_status(cancelled.order_id, OrderStatus.CANCELLED)
    working = first.execute_limit_order("MSFT", 30, 390.0, "buy", tif="GTC")
    first.close()
    written = day_lines(log_dir)

    for _ in range(2):
        again = make_broker()
        start_and_stop(again)
        appended = day_lines(log_dir)[len(written):]
        assert appended == [], [line.decode() for line in appended]

    last = make_broker()
    assert last.connect(timeout=5)
    statuses = {o.order_id: o.status for o in last.get_all_orders()}
    assert statuses == {rejected.order_id: OrderStatus.ERROR, retried.order_id: OrderStatus.FILLED,
                        filled.order_id: OrderStatus.FILLED, cancelled.order_id: OrderStatus.CANCELLED,
                        working.order_id: OrderStatus.SUBMITTED}
