"""Every fault the gateway can inject, seen through IBKRBroker: nothing lost, nothing doubled."""

from __future__ import annotations

import pytest

from ibticket import IBKRBroker, OrderExecutionHandler, OrderStatus

from .conftest import Watcher, eventually


def sent_orders(gateway, order) -> list:
    return [o for o in gateway.orders() if o.order_ref.startswith(order.order_ref + "/")]


def test_margin_reject_is_permanent(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.faults.reject_next_order(
        201, "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR "
        "EQUITY WITH LOAN VALUE [1000 USD] MUST EXCEED THE INITIAL MARGIN [5000 USD]",
    )
    order = broker.execute_market_order("AAPL", 100, "buy")
    failed = watch.wait_status(order.order_id, OrderStatus.ERROR)
    assert "INITIAL MARGIN" in failed.error_message
    assert failed.retry_count == 0
    assert len(sent_orders(gateway, order)) == 1


def test_beyond_buying_power_rejected_by_gateway(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.set_price("AAPL", 200.0)
    order = broker.execute_market_order("AAPL", 1_000_000, "buy")
    failed = watch.wait_status(order.order_id, OrderStatus.ERROR)
    assert "MARGIN" in failed.error_message.upper()
    assert failed.retry_count == 0


def test_transient_error_is_retried_for_the_remaining_quantity(
    broker: IBKRBroker, gateway, watch: Watcher
) -> None:
    gateway.faults.reject_next_order(322, "Error processing request: server busy")
    order = broker.execute_market_order("AAPL", 100, "buy")
    done = watch.wait_status(order.order_id, OrderStatus.FILLED)
    assert done.retry_count == 1
    assert len(done.attempts) == 2 and done.attempts[0].order_id != done.attempts[1].order_id
    assert done.filled_quantity == 100
    assert [e["event_type"] for e in map(eval_json, broker.get_order_history(order.order_id))].count("RETRY") == 1


def eval_json(line: str) -> dict:
    import json

    return json.loads(line)


def test_informational_10349_does_not_cancel_a_live_order(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.set_price("MSFT", 400.0)
    order = broker.execute_limit_order("MSFT", 10, 390.0, "buy")
    text = "Order TIF was set to DAY based on order preset."
    assert gateway.faults.send_error(order.attempts[0].order_id, 10349, text)
    gateway.set_price("MSFT", 389.0)
    done = watch.wait_status(order.order_id, OrderStatus.FILLED, OrderStatus.CANCELLED)
    assert done.status is OrderStatus.FILLED


def test_filled_status_before_executions(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.faults.status_before_execution()
    order = broker.execute_market_order("AAPL", 100, "buy")
    done = watch.wait_status(order.order_id, OrderStatus.FILLED)
    assert done.filled_quantity == 100 and len(done.fills) == 1


def test_stale_status_after_fill_is_ignored(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.faults.stale_status_after_fill()
    order = broker.execute_market_order("AAPL", 100, "buy")
    watch.wait_status(order.order_id, OrderStatus.FILLED)
    events = [eval_json(line) for line in broker.get_order_history(order.order_id)]
    # The stale Submitted arrives after the fill; it must be logged as ignored and change nothing.
    import time

    deadline = time.monotonic() + 5
    while not any(e["event_type"] == "NOTICE" for e in events) and time.monotonic() < deadline:
        time.sleep(0.02)
        events = [eval_json(line) for line in broker.get_order_history(order.order_id)]
    assert any(e["event_type"] == "NOTICE" and "ignored" in e["message"] for e in events)
    assert broker.get_order_status(order.order_id).status is OrderStatus.FILLED


def test_duplicate_status_changes_nothing(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.faults.duplicate_next_status()
    order = broker.execute_market_order("AAPL", 100, "buy")
    done = watch.wait_status(order.order_id, OrderStatus.FILLED)
    assert len(done.fills) == 1
    events = [eval_json(line)["event_type"] for line in broker.get_order_history(order.order_id)]
    assert events.count("FILL") == 1 and events.count("SUBMISSION") == 1


def test_execution_correction_replaces_the_fill(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.set_price("AAPL", 200.0)
    order = broker.execute_market_order("AAPL", 100, "buy")
    done = watch.wait_status(order.order_id, OrderStatus.FILLED)
    exec_id = done.fills[0].fill_id
    new_id = gateway.faults.correct_execution(exec_id, price=199.5)
    assert new_id != exec_id and new_id.rsplit(".", 1)[0] == exec_id.rsplit(".", 1)[0]
    watch.wait(lambda: watch.fills[-1].fills[0].fill_id == new_id, what="correction applied")
    corrected = broker.get_order_status(order.order_id)
    assert corrected.filled_quantity == 100 and len(corrected.fills) == 1
    assert corrected.avg_fill_price == pytest.approx(199.5)


CONNECTIVITY_RESTORED = {
    1101: "Connectivity between IB and Trader Workstation has been restored - data lost.",
    1102: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
}


@pytest.mark.parametrize("code", sorted(CONNECTIVITY_RESTORED))
def test_a_fill_whose_report_was_lost_is_applied_when_ib_connectivity_returns(
    broker: IBKRBroker, gateway, watch: Watcher, code: int
) -> None:
    gateway.set_price("AAPL", 200.0)
    gateway.faults.lose_next_execution_report()  # TWS lost IB while the order traded
    order = broker.execute_market_order("AAPL", 100, "buy")
    # IB's "Filled" came, its execution did not: the order waits for it rather than completing on a status.
    eventually(lambda: any("completion follows the executions" in e.get("message", "")
                           for e in map(eval_json, broker.get_order_history(order.order_id))),
               what="IB's Filled status noted and set aside")
    (execution,) = gateway.executions()
    assert broker.get_order_status(order.order_id).filled_quantity == 0
    assert gateway.faults.send_error(-1, code, CONNECTIVITY_RESTORED[code], client_id=11)
    done = watch.wait_status(order.order_id, OrderStatus.FILLED)
    assert [(f.fill_id, f.quantity, f.price) for f in done.fills] == [(execution.exec_id, 100, 200.0)]
    eventually(lambda: broker.get_order_status(order.order_id).fills[0].commission == execution.commission,
               what="its commission attached")
    events = [eval_json(line)["event_type"] for line in broker.get_order_history(order.order_id)]
    assert events.count("FILL") == 1
    assert watch.errors == []  # the re-sync found nothing else to settle
    assert len(sent_orders(gateway, order)) == 1


def test_fill_after_cancel_request_wins(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.set_price("MSFT", 400.0)
    order = broker.execute_limit_order("MSFT", 10, 390.0, "buy")
    gateway.faults.fill_after_cancel()
    broker.cancel_order(order.order_id)
    done = watch.wait_status(order.order_id, OrderStatus.FILLED, OrderStatus.CANCELLED)
    assert done.status is OrderStatus.FILLED and done.filled_quantity == 10
    # the 10148 "cannot be cancelled" reaches the trader as an error about the cancel, not the order
    watch.wait(lambda: any("cannot be cancelled" in m for _, m in watch.errors), what="10148 reported")
    assert broker.get_order_status(order.order_id).status is OrderStatus.FILLED


def test_commission_attaches_once(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    order = broker.execute_market_order("AAPL", 100, "buy")
    watch.wait_status(order.order_id, OrderStatus.FILLED)
    expected = sum(e.commission for e in gateway.executions() if e.order_ref.startswith(order.order_ref))
    import time

    deadline = time.monotonic() + 5
    while broker.get_order_status(order.order_id).fills[0].commission == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert broker.get_order_status(order.order_id).fills[0].commission == pytest.approx(expected)


def test_delayed_messages_still_arrive_in_order(broker: IBKRBroker, gateway, watch: Watcher) -> None:
    gateway.faults.delay_messages(0.3)
    order = broker.execute_market_order("AAPL", 10, "buy")
    done = watch.wait_status(order.order_id, OrderStatus.FILLED)
    assert done.filled_quantity == 10


def test_client_id_in_use_is_reported(make_broker, broker: IBKRBroker, tmp_path) -> None:
    # Another log folder: the same one is refused before IB is asked (test_identity.py); here IB refuses.
    second = make_broker(client_id=11, reconnect=False, log_dir=str(tmp_path / "other"))
    assert second.connect(timeout=3) is False
    assert second.last_error
    assert broker.is_connected()


def test_transient_error_on_an_acknowledged_order_is_not_resubmitted(
    broker: IBKRBroker, gateway, watch: Watcher
) -> None:
    gateway.set_price("MSFT", 400.0)
    order = broker.execute_limit_order("MSFT", 10, 390.0, "buy")
    eventually(lambda: broker.get_order_status(order.order_id).attempts[0].perm_id, what="IB's acknowledgement")
    assert gateway.faults.send_error(order.attempts[0].order_id, 322, "Error processing request")
    watch.wait(lambda: any("not resubmitted" in m for _, m in watch.errors), what="the error reported")
    assert broker.get_order_status(order.order_id).status is OrderStatus.SUBMITTED
    gateway.set_price("MSFT", 389.0)
    done = watch.wait_status(order.order_id, OrderStatus.FILLED)
    assert done.filled_quantity == 10 and len(done.attempts) == 1
    assert len(sent_orders(gateway, order)) == 1
    assert sum(e.shares for e in gateway.executions()) == 10


def test_refused_modify_leaves_the_order_working_and_cancellable(
    broker: IBKRBroker, gateway, watch: Watcher
) -> None:
    gateway.set_price("MSFT", 400.0)
    order = broker.execute_limit_order("MSFT", 10, 390.0, "buy")
    broker.modify_order(order.order_id, quantity=100_000)  # beyond buying power: IB refuses the change (201)
    watch.wait(lambda: any("Change refused" in m for _, m in watch.errors), what="the refused modify")
    record = broker.get_order_status(order.order_id)
    assert record.status is OrderStatus.SUBMITTED and record.total_quantity == 10
    assert [o.order_id for o in broker.get_active_orders()] == [order.order_id]
    broker.cancel_order(order.order_id)
    watch.wait_status(order.order_id, OrderStatus.CANCELLED)
    assert [o.status for o in sent_orders(gateway, order)] == ["Cancelled"]


def test_cancel_while_a_retry_waits_for_the_connection_sends_nothing(make_broker, gateway) -> None:
    broker = make_broker(handler=OrderExecutionHandler(initial_retry_delay=0.2))
    assert broker.connect(timeout=5)
    watch = Watcher(broker)
    gateway.faults.reject_next_order(322, "Error processing request")
    order = broker.execute_market_order("AAPL", 10, "buy")
    watch.wait_status(order.order_id, OrderStatus.ERROR)
    gateway.faults.refuse_connections(2.0)
    gateway.faults.drop_connections()
    watch.wait_state("Disconnected")
    eventually(lambda: len(broker.get_order_status(order.order_id).attempts) == 2, what="the retry in flight")
    broker.cancel_order(order.order_id)  # nothing of the order is at IB: no error, nothing sent
    done = watch.wait_status(order.order_id, OrderStatus.CANCELLED, timeout=15)
    assert done.filled_quantity == 0
    watch.wait_state("Connected", after=watch.states.index("Disconnected"), timeout=15)
    assert [o.status for o in sent_orders(gateway, order)] == ["Cancelled"]  # only the refused first attempt
    assert gateway.executions() == []
