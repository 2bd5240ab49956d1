"""Restarts show exactly the orders IB has: an adopted order once, orders working across midnight, GTC
orders from earlier days. The order log's days follow a clock the test sets; the gateway is real."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from ibticket import IBKRBroker, OrderExecutionHandler, OrderStatus
from ibticket.core.logger import OrderLogger
from ibticket.core.logreader import read_day, summarize

from .conftest import Watcher, eventually


class Clock:
    """The local time the handler and the order log see."""

    def __init__(self, now: datetime) -> None:
        self.value = now

    def __call__(self) -> datetime:
        return self.value


def timed_broker(make_broker: Callable[..., IBKRBroker], log_dir: Path, clock: Clock) -> IBKRBroker:
    logger = OrderLogger(log_dir=log_dir, log_to_console=False, now=clock)
    broker = make_broker(handler=OrderExecutionHandler(initial_retry_delay=0.05, logger=logger, now=clock))
    assert broker.connect(timeout=5), broker.last_error
    return broker


def shown(broker: IBKRBroker) -> list[tuple[str, int, int, OrderStatus]]:
    return sorted((o.symbol, o.filled_quantity, o.total_quantity, o.status) for o in broker.get_all_orders())


def test_an_adopted_order_is_adopted_once(make_broker, gateway) -> None:
    gateway.set_price("MSFT", 400.0)
    unlogged = make_broker(enable_order_logging=False)  # stands in for a crash before the log write
    assert unlogged.connect(timeout=5)
    lost = unlogged.execute_limit_order("MSFT", 5, 390.0, "buy")
    unlogged.close()

    for start in range(3):
        broker = make_broker()
        assert broker.connect(timeout=5), broker.last_error
        orders = broker.get_all_orders()
        assert shown(broker) == [("MSFT", 0, 5, OrderStatus.SUBMITTED)], f"start {start + 1}"
        assert orders[0].attempts[-1].order_ref == lost.attempts[0].order_ref
        assert orders[0].attempts[-1].perm_id
        report = broker.core.last_report
        assert report is not None and (report.adopted, report.failed) == (1 if start == 0 else 0, 0)
        broker.close()
    assert len(gateway.orders()) == 1


def test_an_adopted_order_that_fills_is_filled_once(make_broker, gateway, log_dir) -> None:
    gateway.set_price("MSFT", 400.0)
    unlogged = make_broker(enable_order_logging=False)
    assert unlogged.connect(timeout=5)
    unlogged.execute_limit_order("MSFT", 5, 390.0, "buy")
    unlogged.close()

    first = make_broker()
    assert first.connect(timeout=5)
    watch = Watcher(first)
    [adopted] = first.get_all_orders()
    gateway.set_price("MSFT", 389.0)
    watch.wait_status(adopted.order_id, OrderStatus.FILLED)
    first.close()

    for _ in range(2):
        again = make_broker()
        assert again.connect(timeout=5)
        assert shown(again) == [("MSFT", 5, 5, OrderStatus.FILLED)]
        assert [o.status for o in again.get_all_orders()] == [OrderStatus.FILLED]
        again.close()
    events = [json.loads(line) for line in (log_dir / f"orders-{datetime.now():%Y-%m-%d}.jsonl").open()]
    assert [e["event_type"] for e in events].count("FILL") == 1
    assert not [e for e in events if e["event_type"] == "ERROR"]


def test_orders_across_midnight_and_a_gtc_order_from_yesterday(make_broker, gateway, log_dir) -> None:
    day = datetime(2026, 3, 10)
    clock = Clock(day - timedelta(days=1) + timedelta(hours=12))
    for symbol, price in (("MSFT", 400.0), ("AAPL", 230.0), ("IBM", 250.0)):
        gateway.set_price(symbol, price)

    # Yesterday: a GTC order that works for days.
    placed = timed_broker(make_broker, log_dir, clock)
    gtc = placed.execute_limit_order("MSFT", 30, 390.0, "buy", tif="GTC")
    placed.close()

    # A minute before midnight: two more orders; the app runs on past midnight and one of them fills.
    clock.value = day + timedelta(hours=23, minutes=59)
    late = timed_broker(make_broker, log_dir, clock)
    assert shown(late) == [("MSFT", 0, 30, OrderStatus.SUBMITTED)]
    watch = Watcher(late)
    aapl = late.execute_limit_order("AAPL", 8, 225.0, "buy")
    ibm = late.execute_limit_order("IBM", 100, 240.0, "buy")
    clock.value = day + timedelta(days=1, minutes=1)
    gateway.set_price("AAPL", 224.0)
    watch.wait_status(aapl.order_id, OrderStatus.FILLED)
    late.close()

    # While the app is down after midnight, the GTC order fills.
    gateway.set_price("MSFT", 389.0)
    eventually(lambda: sum(e.shares for e in gateway.executions() if e.symbol == "MSFT") == 30,
               what="the GTC order filled")

    clock.value = day + timedelta(days=1, minutes=5)
    for start in range(3):
        broker = timed_broker(make_broker, log_dir, clock)
        assert shown(broker) == [
            ("AAPL", 8, 8, OrderStatus.FILLED),
            ("IBM", 0, 100, OrderStatus.SUBMITTED),
            ("MSFT", 30, 30, OrderStatus.FILLED),
        ], f"start {start + 1}"
        ids = {o.symbol: o.order_id for o in broker.get_all_orders()}
        assert ids == {"MSFT": gtc.order_id, "AAPL": aapl.order_id, "IBM": ibm.order_id}
        report = broker.core.last_report
        assert report is not None and (report.failed, report.adopted) == (0, 0), str(report)
        if start == 2:  # still manageable: the carried order cancels through IB
            watch = Watcher(broker)
            broker.cancel_order(ids["IBM"])
            watch.wait_status(ids["IBM"], OrderStatus.CANCELLED)
        broker.close()

    assert len(gateway.orders()) == 3  # nothing sent twice
    today = read_day(log_dir, (day + timedelta(days=1)).date())
    assert not [e for e in today.events if e["event_type"] == "ERROR"]
    summary = summarize(today.events)
    assert (summary["filled_orders"], summary["cancelled_orders"]) == (2, 1)
    fills = [e for e in today.events if e["event_type"] == "FILL"]
    assert sorted((e["symbol"], e["fill_quantity"]) for e in fills) == [("AAPL", 8), ("MSFT", 30)]


def test_yesterdays_finished_orders_stay_in_yesterday(make_broker, gateway, log_dir) -> None:
    day = datetime(2026, 3, 10, 15, 0)
    clock = Clock(day)
    gateway.set_price("MSFT", 400.0)
    first = timed_broker(make_broker, log_dir, clock)
    watch = Watcher(first)
    done = first.execute_market_order("MSFT", 3, "buy")
    watch.wait_status(done.order_id, OrderStatus.FILLED)
    working = first.execute_limit_order("MSFT", 4, 390.0, "buy")
    first.cancel_order(working.order_id)
    watch.wait_status(working.order_id, OrderStatus.CANCELLED)
    first.close()

    clock.value = day + timedelta(days=1)
    again = timed_broker(make_broker, log_dir, clock)
    assert again.get_all_orders() == []  # IB's completed orders name them; they finished yesterday
    again.close()
    assert not (log_dir / f"orders-{clock.value:%Y-%m-%d}.jsonl").exists()
