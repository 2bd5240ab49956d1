"""An exception after the order went out must never mark it failed (issue: reused order ids)."""

from __future__ import annotations

from ibticket import OrderStatus
from ibticket.broker.ib import OrderStatus as LibOrderStatus
from ibticket.broker.ib import Stock, Trade


def test_an_order_id_of_a_finished_trade_from_an_earlier_session_does_not_fail_the_order(broker, watch) -> None:
    # After a gateway restart IB can hand out an order id the library still holds as a finished trade;
    # its placeOrder then asserted after the bytes had gone out, and the order was reported failed.
    first = broker.execute_market_order("AAPL", 5, "buy")  # AAPL's contract is cached from here on
    watch.wait_status(first.order_id, OrderStatus.FILLED)
    ib = broker.core.ib
    next_id = ib.client._reqIdSeq  # the id the next order gets
    done = Trade(Stock("AAPL", "SMART", "USD"), None, LibOrderStatus(orderId=next_id, status="Filled"), [], [])
    ib.wrapper.trades[ib.wrapper.orderKey(ib.wrapper.clientId, next_id, 0)] = done
    order = broker.execute_market_order("AAPL", 10, "buy")
    assert order.status is not OrderStatus.ERROR, order.error_message
    filled = watch.wait_status(order.order_id, OrderStatus.FILLED)
    assert filled.filled_quantity == 10 and not watch.errors


def _placing_raises(broker, monkeypatch, *, after_sending: bool) -> None:
    """Make the place function raise something unforeseen, after the order's bytes went out or before."""
    client = broker.core.ib.client
    real = client.placeOrder

    def place(order_id, contract, order):
        if after_sending:
            real(order_id, contract, order)
        raise RuntimeError("the library's bookkeeping broke")

    monkeypatch.setattr(client, "placeOrder", place)


def _statuses(broker) -> list[tuple[OrderStatus, str | None]]:
    seen: list[tuple[OrderStatus, str | None]] = []
    broker.register_order_status_callback(lambda record: seen.append((record.status, record.error_message)))
    return seen


def test_an_exception_after_the_order_went_out_reconciles_it_to_working(broker, gateway, watch, monkeypatch):
    gateway.set_price("MSFT", 400.0)
    seen = _statuses(broker)
    _placing_raises(broker, monkeypatch, after_sending=True)
    order = broker.execute_limit_order("MSFT", 10, 390.0, "buy")
    assert order.status is OrderStatus.PENDING and order.error_message.startswith("unknown — reconciling")
    watch.wait(lambda: (r := watch.latest.get(order.order_id)) is not None and r.status is OrderStatus.SUBMITTED
               and r.error_message is None, what="IB to say it has the order")
    assert not watch.errors and all(status is not OrderStatus.ERROR for status, _ in seen)
    assert any(message and "RuntimeError: the library's bookkeeping broke" in message for _, message in seen)
    notices = [e["message"] for e in map(eval_json, broker.get_order_history(order.order_id))
               if e["event_type"] == "NOTICE"]
    assert notices[0].startswith("unknown — reconciling") and "IB has the order: it was placed" in notices
    gateway.set_price("MSFT", 389.0)  # and it is the order IB works: it fills
    assert watch.wait_status(order.order_id, OrderStatus.FILLED).filled_quantity == 10


def test_an_exception_before_the_order_went_out_is_an_error_once_ib_says_it_has_none(broker, gateway, watch,
                                                                                     monkeypatch):
    gateway.set_price("MSFT", 400.0)
    seen = _statuses(broker)
    _placing_raises(broker, monkeypatch, after_sending=False)
    order = broker.execute_limit_order("MSFT", 10, 390.0, "buy")
    assert order.status is OrderStatus.PENDING and order.error_message.startswith("unknown — reconciling")
    failed = watch.wait_status(order.order_id, OrderStatus.ERROR)
    assert failed.error_message.startswith("IB does not have this order: placing it failed (RuntimeError")
    assert "it was not sent" in failed.error_message
    assert [status for status, _ in seen] == [OrderStatus.PENDING, OrderStatus.ERROR]


def eval_json(line: str) -> dict:
    import json

    return json.loads(line)
