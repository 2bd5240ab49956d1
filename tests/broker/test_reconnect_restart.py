"""Connection loss, reconnect with reconciliation, and a restart that loses and doubles nothing."""

from __future__ import annotations

import json

import pytest

from ibticket import IBKRBroker, OrderStatus
from ibticket.gateway import GatewayConfig, GatewayThread

from .conftest import Watcher, eventually


def orders_at_gateway(gateway, record) -> list:
    return [o for o in gateway.orders() if o.order_ref.startswith(record.order_ref + "/")]


@pytest.mark.parametrize("gateway", [{"partial_fills": 4, "fill_interval": 0.05}], indirect=True)
def test_drop_in_the_middle_of_a_partial_fill(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.faults.drop_connections(after_executions=2)
    order = broker.execute_market_order("AAPL", 100, "buy")
    watch.wait_state("Disconnected")
    watch.wait_state("Connected", after=watch.states.index("Disconnected"))
    done = watch.wait_status(order.order_id, OrderStatus.FILLED)
    assert done.filled_quantity == 100
    assert len(done.fills) == 4 and len({f.fill_id for f in done.fills}) == 4
    assert {f.fill_id for f in done.fills} == {e.exec_id for e in gateway.executions()}
    assert len(orders_at_gateway(gateway, order)) == 1  # reconciled, not resubmitted
    events = [json.loads(line)["event_type"] for line in broker.get_order_history(order.order_id)]
    assert events.count("FILL") == 4
    # The reconnect replays the day's commission reports too: each attaches once, to its own fill.
    expected = {e.exec_id: e.commission for e in gateway.executions()}
    eventually(
        lambda: {f.fill_id: f.commission for f in broker.get_order_status(order.order_id).fills} == expected,
        what="every commission attached",
    )
    events = [json.loads(line) for line in broker.get_order_history(order.order_id)]
    charged = [exec_id for exec_id, commission in expected.items() if commission]
    assert sorted(e["fill_id"] for e in events if e["event_type"] == "COMMISSION") == sorted(charged)
    assert not any(e["event_type"] == "NOTICE" and "Submitted" in e["message"] for e in events)


def test_reconnect_waits_out_refused_connections(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.faults.refuse_connections(1.5)
    gateway.faults.drop_connections()
    watch.wait_state("Disconnected")
    watch.wait_state("Connected", after=watch.states.index("Disconnected"), timeout=20)
    assert broker.is_connected()
    order = broker.execute_market_order("AAPL", 10, "buy")
    watch.wait_status(order.order_id, OrderStatus.FILLED)


def test_restart_applies_fills_that_happened_while_down(make_broker, gateway) -> None:
    gateway.set_price("MSFT", 400.0)
    first = make_broker()
    assert first.connect(timeout=5)
    order = first.execute_limit_order("MSFT", 30, 390.0, "buy")
    first.close()

    gateway.set_price("MSFT", 389.0)  # fills while the app is down
    assert sum(e.shares for e in gateway.executions()) == 30

    second = make_broker()
    assert second.connect(timeout=5), second.last_error
    restored = second.get_order_status(order.order_id)
    assert restored is not None and restored.order_ref == order.order_ref
    assert restored.status is OrderStatus.FILLED and restored.filled_quantity == 30
    assert len(orders_at_gateway(gateway, order)) == 1
    summary = second.get_todays_order_summary()
    assert summary["total_orders"] == 1 and summary["filled_orders"] == 1

    follow_up = second.execute_market_order("AAPL", 1, "buy")
    assert follow_up.order_id == order.order_id + 1


def test_restart_keeps_a_working_order_manageable(make_broker, gateway) -> None:
    gateway.set_price("MSFT", 400.0)
    first = make_broker()
    assert first.connect(timeout=5)
    order = first.execute_limit_order("MSFT", 30, 390.0, "buy")
    first.close()

    second = make_broker()
    assert second.connect(timeout=5)
    watch = Watcher(second)
    assert second.get_order_status(order.order_id).status is OrderStatus.SUBMITTED
    assert [o.order_id for o in second.get_active_orders()] == [order.order_id]
    second.cancel_order(order.order_id)
    watch.wait_status(order.order_id, OrderStatus.CANCELLED)


def test_restart_after_losing_the_sent_line_keeps_the_working_order(make_broker, gateway, log_dir) -> None:
    """The crash came between placeOrder and the line that carries the broker's order id: the log has the
    attempt (written ahead) and nothing more, and IB has the order working."""
    gateway.set_price("MSFT", 400.0)
    first = make_broker()
    assert first.connect(timeout=5)
    order = first.execute_limit_order("MSFT", 30, 390.0, "buy")
    first.close()
    (path,) = log_dir.glob("orders-*.jsonl")
    kept = [line for line in path.read_text().splitlines(keepends=True) if '"broker_order_id"' not in line]
    assert [json.loads(line)["event_type"] for line in kept] == ["SUBMISSION"]
    path.write_text("".join(kept))

    second = make_broker()
    assert second.connect(timeout=5), second.last_error
    report = second.core.last_report
    assert report is not None and (report.live, report.failed, report.adopted) == (1, 0, 0), str(report)
    restored = second.get_order_status(order.order_id)
    assert restored.status is OrderStatus.SUBMITTED and restored.error_message is None
    (at_ib,) = orders_at_gateway(gateway, order)
    assert [a.order_id for a in restored.attempts] == [at_ib.order_id]  # IB's open order filled it in
    watch = Watcher(second)
    second.cancel_order(order.order_id)
    watch.wait_status(order.order_id, OrderStatus.CANCELLED)
    assert [o.status for o in orders_at_gateway(gateway, order)] == ["Cancelled"]


def test_order_placed_but_never_logged_is_adopted(make_broker, gateway, log_dir) -> None:
    gateway.set_price("MSFT", 400.0)
    unlogged = make_broker(enable_order_logging=False)  # stands in for a crash before the log write
    assert unlogged.connect(timeout=5)
    lost = unlogged.execute_limit_order("MSFT", 5, 390.0, "buy")
    unlogged.close()

    second = make_broker()
    assert second.connect(timeout=5)
    lost_ref = lost.attempts[0].order_ref
    adopted = [o for o in second.get_all_orders() if o.attempts and o.attempts[0].order_ref == lost_ref]
    assert len(adopted) == 1
    assert adopted[0].status is OrderStatus.SUBMITTED and adopted[0].total_quantity == 5
    assert adopted[0].limit_price == 390.0


def test_restart_does_not_resubmit_an_order_unknown_to_ib(make_broker, gateway) -> None:
    first = make_broker()
    assert first.connect(timeout=5)
    gateway.set_market_orders_fill(False)
    order = first.execute_market_order("AAPL", 10, "buy")
    first.close()
    # The gateway restarts with its state gone (as after IB's nightly reset); the log still says Submitted.
    with GatewayThread(GatewayConfig(seed=7, tick_interval=None)) as fresh:
        second = make_broker(port=fresh.port)
        assert second.connect(timeout=5)
        record = second.get_order_status(order.order_id)
        assert record.status is OrderStatus.ERROR and "not resubmitted" in record.error_message
        assert fresh.orders() == []
        second.close()


def test_clients_sharing_a_log_keep_their_orders_apart(make_broker, gateway) -> None:
    gateway.set_price("MSFT", 400.0)
    first = make_broker(client_id=31)
    second = make_broker(client_id=32)
    assert first.connect(timeout=5) and second.connect(timeout=5)
    working = first.execute_limit_order("MSFT", 10, 390.0, "buy")
    watch = Watcher(second)
    filled = second.execute_market_order("AAPL", 5, "buy")
    watch.wait_status(filled.order_id, OrderStatus.FILLED)
    assert working.order_id == filled.order_id == 1  # each process numbers its own orders
    assert second.get_todays_order_summary()["total_orders"] == 2
    history = [json.loads(line) for line in second.get_order_history(filled.order_id)]
    assert {e["symbol"] for e in history} == {"AAPL"}  # nothing of client 31's order 1 mixed in
    assert [e["event_type"] for e in history][:3] == ["SUBMISSION", "STATUS_CHANGE", "FILL"]
    first.close()

    again = make_broker(client_id=31)
    assert again.connect(timeout=5)
    restored = again.get_all_orders()
    assert [(o.symbol, o.total_quantity, o.status) for o in restored] == [("MSFT", 10, OrderStatus.SUBMITTED)]
    assert again.execute_market_order("SPY", 1, "buy").order_id == 2  # past every id used in the log

    other = make_broker(client_id=33)  # a different client id must leave client 31's working order alone
    assert other.connect(timeout=5)
    assert other.get_all_orders() == []
    assert {o.order_ref: o.status for o in gateway.orders()}[working.attempts[0].order_ref] == "Submitted"
    assert again.get_order_status(working.order_id).status is OrderStatus.SUBMITTED


def test_reconcile_report_counts_adopted_orders(make_broker, gateway) -> None:
    gateway.set_price("MSFT", 400.0)
    unlogged = make_broker(enable_order_logging=False)  # stands in for a crash before the log write
    assert unlogged.connect(timeout=5)
    unlogged.execute_limit_order("MSFT", 5, 390.0, "buy")
    unlogged.execute_limit_order("MSFT", 6, 380.0, "buy")
    unlogged.close()

    second = make_broker()
    assert second.connect(timeout=5)
    report = second.core.last_report
    assert report is not None and report.adopted == 2
    assert "2 adopted" in second.core.last_reconcile
