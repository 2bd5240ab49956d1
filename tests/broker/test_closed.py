"""A closed IBKRBroker refuses every call with BrokerClosedError, and leaves nothing half-run behind."""

from __future__ import annotations

import gc
import socket
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest

import ibticket
from ibticket import IBKRBroker
from ibticket.broker import BrokerClosedError

CALLS: list[tuple[str, Callable[[IBKRBroker], Any]]] = [
    ("connect", lambda b: b.connect(timeout=1)),
    ("market order", lambda b: b.execute_market_order("AAPL", 1, "buy")),
    ("limit order", lambda b: b.execute_limit_order("AAPL", 1, 100.0, "buy")),
    ("cancel", lambda b: b.cancel_order(1)),
    ("modify", lambda b: b.modify_order(1, quantity=2)),
    ("status", lambda b: b.get_order_status(1)),
    ("all orders", lambda b: b.get_all_orders()),
    ("active orders", lambda b: b.get_active_orders()),
    ("history", lambda b: b.get_order_history(1)),
    ("summary", lambda b: b.get_todays_order_summary()),
    ("fill callback", lambda b: b.register_order_fill_callback(print)),
]


@pytest.mark.parametrize(("what", "call"), CALLS, ids=[c[0] for c in CALLS])
def test_calls_after_close_raise_broker_closed(broker: IBKRBroker, what: str, call) -> None:
    broker.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(BrokerClosedError, match=r"closed.*new IBKRBroker"):
            call(broker)
        gc.collect()  # an un-awaited coroutine warns when it is collected
    assert [str(w.message) for w in caught] == []
    assert not broker.is_connected()
    broker.close()  # closing again is harmless
    broker.disconnect()


def test_broker_closed_error_is_exported_from_the_package() -> None:
    assert ibticket.BrokerClosedError is BrokerClosedError
    assert "BrokerClosedError" in ibticket.__all__


def test_close_ends_a_call_still_waiting_on_another_thread(tmp_path) -> None:
    # A server that accepts and never answers the handshake: connect() would wait its whole timeout.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        silent.settimeout(10)
        broker = IBKRBroker(port=silent.getsockname()[1], client_id=5, log_dir=str(tmp_path))
        outcome: list[BaseException | bool] = []

        def connect() -> None:
            try:
                outcome.append(broker.connect(timeout=30))
            except BaseException as exc:
                outcome.append(exc)

        caller = threading.Thread(target=connect)
        caller.start()
        connection, _ = silent.accept()  # the connect is under way
        with connection:
            began = time.monotonic()
            broker.close()
            caller.join(10)
        assert not caller.is_alive() and time.monotonic() - began < 5
        assert len(outcome) == 1 and isinstance(outcome[0], BrokerClosedError), outcome
