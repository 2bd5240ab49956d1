"""The spec's usage examples, as written, against the embedded gateway with the real client library."""

from __future__ import annotations

import json
import time

import pytest

from ibticket import IBKRBroker, OrderStatus

from .conftest import Watcher, eventually

DONE = [OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.ERROR]


def test_market_order_with_fill_callback(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.set_price("AAPL", 190.0)
    filled = []
    broker.register_order_fill_callback(lambda record: filled.append((record.order_id, record.filled_quantity)))

    order_record = broker.execute_market_order(symbol="AAPL", quantity=100, side="buy")

    assert order_record.status is OrderStatus.SUBMITTED
    assert order_record.order_ref and order_record.broker_order_ids
    done = watch.wait_status(order_record.order_id, OrderStatus.FILLED)
    assert done.filled_quantity == 100 and done.remaining_quantity == 0
    assert done.avg_fill_price == pytest.approx(gateway_price_paid(gateway, order_record.order_ref))
    assert filled[-1] == (order_record.order_id, 100)
    status = broker.get_order_status(order_record.order_id)
    assert f"{status.filled_quantity}/{status.total_quantity}" == "100/100"


def gateway_price_paid(gateway, order_ref: str) -> float:
    executions = [e for e in gateway.executions() if e.order_ref.startswith(order_ref)]
    shares = sum(e.shares for e in executions)
    return sum(e.shares * e.price for e in executions) / shares


def test_limit_order_rests_then_fills_with_callback(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.set_price("GOOGL", 150.0)
    fills = []
    broker.register_order_fill_callback(lambda r: fills.append((r.filled_quantity, r.avg_fill_price)))

    order = broker.execute_limit_order(symbol="GOOGL", quantity=50, limit_price=155.00, side="sell")

    assert order.status is OrderStatus.SUBMITTED
    assert broker.get_order_status(order.order_id).filled_quantity == 0
    gateway.set_price("GOOGL", 156.0)
    done = watch.wait_status(order.order_id, OrderStatus.FILLED)
    assert done.avg_fill_price >= 155.00
    assert fills and fills[-1][0] == 50


@pytest.mark.parametrize("gateway", [{"partial_fills": 4}], indirect=True)
def test_partial_fills_aggregate(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.set_price("MSFT", 400.0)
    seen = []

    def on_fill(order_record):
        seen.append((order_record.status, order_record.filled_quantity, order_record.remaining_quantity))

    broker.register_order_fill_callback(on_fill)
    order = broker.execute_market_order("MSFT", 100, "buy")
    done = watch.wait_status(order.order_id, OrderStatus.FILLED)

    assert len(done.fills) == 4
    assert [s for s, _, _ in seen] == [OrderStatus.PARTIALLY_FILLED] * 3 + [OrderStatus.FILLED]
    assert all(f + r == 100 for _, f, r in seen)
    value = sum(f.quantity * f.price for f in done.fills)
    assert done.avg_fill_price == pytest.approx(value / 100)
    assert len({f.fill_id for f in done.fills}) == 4


def test_polling_loop_sees_fills_arrive(broker: IBKRBroker, gateway) -> None:
    gateway.set_price("AAPL", 190.0)
    order = broker.execute_market_order("AAPL", 100, "buy")
    deadline = time.monotonic() + 10
    while order.status not in DONE and time.monotonic() < deadline:
        time.sleep(0.05)  # the spec's loop sleeps 1 s; the pattern is the point, not the period
        order = broker.get_order_status(order.order_id)
    assert order.status is OrderStatus.FILLED
    assert order.avg_fill_price > 0


def test_batch_orders_and_active_orders(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.set_market_orders_fill(False)  # a halted market: orders stay working
    orders = [broker.execute_market_order(symbol, 100, "buy") for symbol in ["AAPL", "GOOGL", "MSFT"]]
    assert all(o is not None for o in orders)
    assert len({o.order_id for o in orders}) == 3
    active = broker.get_active_orders()
    assert {o.order_id for o in active} == {o.order_id for o in orders}
    gateway.set_market_orders_fill(True)
    for order in orders:
        watch.wait_status(order.order_id, OrderStatus.FILLED)
    assert broker.get_active_orders() == []


def test_history_and_summary(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    filled = broker.execute_market_order("AAPL", 10, "buy")
    watch.wait_status(filled.order_id, OrderStatus.FILLED)
    gateway.set_price("MSFT", 400.0)
    resting = broker.execute_limit_order("MSFT", 5, 300.0, "buy")
    broker.cancel_order(resting.order_id)
    watch.wait_status(resting.order_id, OrderStatus.CANCELLED)

    summary = broker.get_todays_order_summary()
    assert summary["total_orders"] == 2
    assert summary["filled_orders"] == 1
    assert summary["cancelled_orders"] == 1
    assert summary["error_orders"] == 0
    assert summary["complete_fills"] == 1
    history = broker.get_order_history(order_id=filled.order_id)
    events = [json.loads(line)["event_type"] for line in history]
    assert events[0] == "SUBMISSION" and "FILL" in events
    cancel_events = [json.loads(line) for line in broker.get_order_history(resting.order_id)]
    cancellation = [e for e in cancel_events if e["event_type"] == "CANCELLATION"]
    assert len(cancellation) == 1 and cancellation[0]["requested"] is True


def test_manual_retry_of_failed_order(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.faults.reject_next_order(201, "Order rejected - reason:Exchange is closed.")
    order = broker.execute_market_order("AAPL", 100, "buy")
    failed = watch.wait_status(order.order_id, OrderStatus.ERROR)
    assert "Exchange is closed" in failed.error_message
    assert broker.get_order_status(order.order_id).status is OrderStatus.ERROR

    # The spec's manual retry: a new order for the remaining quantity.
    new_order = broker.execute_market_order(
        symbol=failed.symbol, quantity=failed.remaining_quantity, side=failed.action.lower()
    )
    assert new_order is not None and new_order.order_id != order.order_id
    watch.wait_status(new_order.order_id, OrderStatus.FILLED)


def test_duplicate_refused_then_forced(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    first = broker.execute_market_order("AAPL", 100, "buy")
    assert broker.execute_market_order("AAPL", 100, "buy") is None
    assert "Duplicate" in broker.last_error
    forced = broker.place_order("AAPL", 100, "buy", force=True)
    assert forced is not None
    watch.wait_status(first.order_id, OrderStatus.FILLED)
    watch.wait_status(forced.order_id, OrderStatus.FILLED)
    assert len([e for e in gateway.executions() if e.symbol == "AAPL"]) == 2


def test_stop_stop_limit_tif_and_outside_rth(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.set_price("SPY", 500.0)
    stop = broker.execute_stop_order("SPY", 10, 495.0, "sell")
    stop_limit = broker.execute_stop_limit_order("SPY", 10, 505.0, 506.0, "buy", tif="GTC", outside_rth=True)
    assert stop.status is OrderStatus.SUBMITTED and stop_limit.status is OrderStatus.SUBMITTED
    ref = stop_limit.attempts[0].order_ref
    sent = eventually(lambda: {o.order_ref: o for o in gateway.orders() if o.order_ref == ref}, what="order at IB")
    assert sent[ref].tif == "GTC" and sent[ref].order_type == "STP LMT"
    gateway.set_price("SPY", 494.0)
    watch.wait_status(stop.order_id, OrderStatus.FILLED)
    assert broker.get_order_status(stop_limit.order_id).status is OrderStatus.SUBMITTED
    gateway.set_price("SPY", 505.5)
    watch.wait_status(stop_limit.order_id, OrderStatus.FILLED)


def test_ioc_limit_that_cannot_fill_is_cancelled(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.set_price("AAPL", 190.0)
    order = broker.execute_limit_order("AAPL", 10, 150.0, "buy", tif="IOC")
    done = watch.wait_status(order.order_id, OrderStatus.CANCELLED)
    assert done.filled_quantity == 0


def test_modify_price_and_quantity_of_working_order(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.set_price("MSFT", 400.0)
    order = broker.execute_limit_order("MSFT", 10, 390.0, "buy")
    broker.modify_order(order.order_id, quantity=20, limit_price=391.0)
    watch.wait(
        lambda: (r := watch.latest.get(order.order_id)) is not None
        and r.limit_price == 391.0 and r.total_quantity == 20,
        what="modify acknowledged",
    )
    live = {o.order_ref: o for o in gateway.orders()}[order.attempts[0].order_ref]
    assert live.lmt_price == 391.0 and live.total_qty == 20
    gateway.set_price("MSFT", 390.5)
    done = watch.wait_status(order.order_id, OrderStatus.FILLED)
    assert done.filled_quantity == 20 and done.avg_fill_price <= 391.0


def test_batch_orders_with_the_specs_submit_with_retry(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    def submit_with_retry(broker, symbol, quantity, side, max_attempts=3):
        for attempt in range(max_attempts):
            order = broker.execute_market_order(symbol, quantity, side)
            if order:
                return order
            time.sleep(0.01 * 2**attempt)  # the spec sleeps 2 ** attempt seconds
        return None

    symbols = ["AAPL", "GOOGL", "MSFT"]
    orders = []
    for symbol in symbols:
        order = submit_with_retry(broker, symbol, 100, "buy")
        if order:
            orders.append(order)
    assert [o.symbol for o in orders] == symbols
    # the same batch again at once: every order is a duplicate, refused on every attempt
    assert [submit_with_retry(broker, s, 100, "buy") for s in symbols] == [None, None, None]
    for order in orders:
        watch.wait_status(order.order_id, OrderStatus.FILLED)
    assert len(gateway.executions()) == 3


def test_strategy_places_its_next_order_from_the_fill_callback(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    class TradingStrategy:  # the spec's "Integration with Strategy Execution"
        def __init__(self, broker):
            self.broker = broker
            self.pending_orders = {}
            self.broker.register_order_fill_callback(self.on_fill)

        def on_fill(self, order_record):
            if order_record.status is OrderStatus.FILLED and order_record.symbol == "AAPL":
                self.execute_trade("MSFT", 10)  # rebalance: a blocking broker call from the callback

        def execute_trade(self, symbol, quantity):
            order = self.broker.execute_market_order(symbol, quantity, "buy")
            self.pending_orders[order.order_id] = order

    strategy = TradingStrategy(broker)
    strategy.execute_trade("AAPL", 10)
    watch.wait(lambda: any(o.symbol == "MSFT" for o in strategy.pending_orders.values()), what="rebalance order")
    msft = next(o for o in strategy.pending_orders.values() if o.symbol == "MSFT")
    watch.wait_status(msft.order_id, OrderStatus.FILLED)


def test_summary_without_order_logging(make_broker, gateway) -> None:
    broker = make_broker(enable_order_logging=False)
    assert broker.connect(timeout=5)
    watch = Watcher(broker)
    order = broker.execute_market_order("AAPL", 10, "buy")
    watch.wait_status(order.order_id, OrderStatus.FILLED)
    summary = broker.get_todays_order_summary()
    assert summary["total_orders"] == 1 and summary["filled_orders"] == 1 and summary["complete_fills"] == 1
    assert broker.get_order_history(order.order_id) == []
