"""Bad input is refused before anything reaches IB, with a message a trader understands."""

from __future__ import annotations

import math
import re

import pytest

from ibticket import IBKRBroker, OrderValidationError
from ibticket.broker.contracts import ContractInfo, check_order
from ibticket.broker.ib import Stock
from ibticket.core.order import OrderRequest


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b: b.execute_market_order("NOSUCH", 10, "buy"), "Unknown symbol NOSUCH"),
        (lambda b: b.execute_market_order("", 10, "buy"), "Symbol is required"),
        (lambda b: b.execute_market_order("AAPL", 0, "buy"), "at least 1 share"),
        (lambda b: b.execute_market_order("AAPL", -5, "buy"), "at least 1 share"),
        (lambda b: b.execute_market_order("AAPL", 1.5, "buy"), "whole shares"),
        (lambda b: b.execute_market_order("AAPL", math.nan, "buy"), "finite"),
        (lambda b: b.execute_market_order("AAPL", "100", "buy"), "whole number"),
        (lambda b: b.execute_market_order("AAPL", 10, "hold"), "buy or sell"),
        (lambda b: b.execute_limit_order("AAPL", 10, 150.005, "buy"), "tick"),
        (lambda b: b.execute_limit_order("AAPL", 10, -1.0, "buy"), "above zero"),
        (lambda b: b.execute_limit_order("AAPL", 10, math.inf, "buy"), "finite"),
        (lambda b: b.execute_limit_order("AAPL", 10, None, "buy"), "needs a limit price"),
        (lambda b: b.execute_stop_order("AAPL", 10, 0.0, "sell"), "above zero"),
        (lambda b: b.place_order("AAPL", 10, "buy", tif="FOK"), "Time in force"),
        (lambda b: b.place_order("AAPL", 10, "buy", order_type="TRAIL"), "Order type"),
    ],
)
def test_bad_order_refused_and_nothing_sent(broker: IBKRBroker, gateway, call, message: str) -> None:
    with pytest.raises(OrderValidationError, match=message):
        call(broker)
    assert gateway.orders() == []
    assert broker.get_all_orders() == []
    assert broker.get_todays_order_summary()["total_orders"] == 0


def test_tick_error_names_the_neighbouring_prices(broker: IBKRBroker) -> None:
    with pytest.raises(OrderValidationError) as info:
        broker.execute_limit_order("AAPL", 10, 150.005, "buy")
    assert "150.00" in str(info.value) and "150.01" in str(info.value)


def test_unknown_order_and_finished_order_operations(broker: IBKRBroker, gateway) -> None:
    with pytest.raises(OrderValidationError, match="no order #999"):
        broker.cancel_order(999)
    order = broker.execute_market_order("AAPL", 1, "buy")
    import time

    deadline = time.monotonic() + 10
    while broker.get_order_status(order.order_id).status.value != "Filled" and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(OrderValidationError, match="already Filled"):
        broker.cancel_order(order.order_id)
    with pytest.raises(OrderValidationError, match="only working orders"):
        broker.modify_order(order.order_id, limit_price=100.0)


def test_order_while_disconnected_is_refused_not_queued(make_broker, gateway) -> None:
    broker = make_broker(reconnect=False)
    assert broker.connect(timeout=5)
    broker.disconnect()
    with pytest.raises(ConnectionError, match="not sent"):
        broker.execute_market_order("AAPL", 10, "buy")
    assert gateway.orders() == []


def test_execution_disabled(make_broker) -> None:
    broker = make_broker(enable_order_execution=False)
    with pytest.raises(RuntimeError, match="disabled"):
        broker.execute_market_order("AAPL", 10, "buy")


def test_failed_connect_does_not_reconnect_behind_the_callers_back(make_broker) -> None:
    import socket
    import time

    # A port that accepts TCP but never answers the API handshake: the client times out.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        broker = make_broker(port=silent.getsockname()[1])
        states: list[str] = []
        broker.core.register_state_callback(lambda state: states.append(str(state)))
        assert broker.connect(timeout=0.5) is False
        assert "Could not connect" in broker.last_error
        attempts = states.count("Connecting")
        time.sleep(1.5)  # past the first reconnect delay (1 s): a stray reconnect would show by now
        assert states.count("Connecting") == attempts == 1
        assert not broker.is_connected()
    finally:
        silent.close()


@pytest.mark.parametrize(("quantity", "message"), [
    (150, "LOT trades in lots of 100 shares, not 150; use 100 or 200"),
    (50, "LOT trades in lots of 100 shares, not 50; use 100"),
    (1_250, "LOT trades in lots of 100 shares, not 1,250; use 1,200 or 1,300"),
])
def test_a_size_off_the_instruments_lot_is_refused(quantity: int, message: str) -> None:
    info = ContractInfo("LOT", Stock("LOT", "SMART", "USD"), 0.01, "LOT CORP", "NYSE", size_increment=100)
    with pytest.raises(OrderValidationError, match=f"^{re.escape(message)}$"):
        check_order(info, OrderRequest("LOT", "BUY", quantity))
    check_order(info, OrderRequest("LOT", "SELL", 300, "LIMIT", 12.34))
    with pytest.raises(OrderValidationError, match=re.escape("Stop price 12.345 is not on LOT's 0.01 tick")):
        check_order(info, OrderRequest("LOT", "SELL", 300, "STOP_LIMIT", 12.30, 12.345))
