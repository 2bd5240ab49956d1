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
