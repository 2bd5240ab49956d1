"""Broker tests: the real IBKRBroker and client library against the embedded gateway on loopback."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ibticket import IBKRBroker, OrderExecutionHandler, OrderRecord, OrderStatus
from ibticket.gateway import GatewayConfig, GatewayThread


@pytest.fixture(autouse=True)
def _no_tws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A developer's own TWS settings must not leak into tests, nor tests into the developer's settings.
    for name in ("IBTICKET_TWS_HOST", "IBTICKET_TWS_PORT", "IBTICKET_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IBTICKET_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def gateway(request: pytest.FixtureRequest) -> Iterator[GatewayThread]:
    options = {"seed": 7, "tick_interval": None, **getattr(request, "param", {})}
    with GatewayThread(GatewayConfig(**options)) as gw:
        yield gw


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "orders"


@pytest.fixture
def make_broker(gateway: GatewayThread, log_dir: Path) -> Iterator[Callable[..., IBKRBroker]]:
    brokers: list[IBKRBroker] = []

    def make(**options: Any) -> IBKRBroker:
        options.setdefault("port", gateway.port)
        options.setdefault("log_dir", str(log_dir))
        options.setdefault("client_id", 11)
        # Retries after 50 ms instead of 1 s: the schedule itself is tested in the core suite.
        options.setdefault("handler", OrderExecutionHandler(initial_retry_delay=0.05))
        broker = IBKRBroker(**options)
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        broker.close()


@pytest.fixture
def broker(make_broker: Callable[..., IBKRBroker]) -> IBKRBroker:
    broker = make_broker()
    assert broker.connect(timeout=5), broker.last_error
    return broker


class Watcher:
    """Collects what the broker's callbacks report, so tests wait on events instead of sleeping."""

    def __init__(self, broker: IBKRBroker) -> None:
        self.cond = threading.Condition()
        self.latest: dict[int, OrderRecord] = {}
        self.fills: list[OrderRecord] = []
        self.errors: list[tuple[int, str]] = []
        self.states: list[str] = []
        broker.register_order_fill_callback(self._on_fill)
        broker.register_order_status_callback(self._on_status)
        broker.register_order_error_callback(self._on_error)
        broker.core.register_state_callback(self._on_state)

    def _on_fill(self, record: OrderRecord) -> None:
        with self.cond:
            snapshot = copy.deepcopy(record)
            self.fills.append(snapshot)
            self.latest[record.order_id] = snapshot
            self.cond.notify_all()

    def _on_status(self, record: OrderRecord) -> None:
        with self.cond:
            self.latest[record.order_id] = copy.deepcopy(record)
            self.cond.notify_all()

    def _on_error(self, record: OrderRecord, message: str) -> None:
        with self.cond:
            self.errors.append((record.order_id, message))
            self.latest[record.order_id] = copy.deepcopy(record)
            self.cond.notify_all()

    def _on_state(self, state: Any) -> None:
        with self.cond:
            self.states.append(str(state))
            self.cond.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout), f"timed out waiting for {what}"

    def wait_status(self, order_id: int, *statuses: OrderStatus, timeout: float = 10.0) -> OrderRecord:
        def reached() -> bool:
            record = self.latest.get(order_id)
            return record is not None and record.status in statuses

        self.wait(reached, timeout, f"order {order_id} to reach {[s.value for s in statuses]}")
        return self.latest[order_id]

    def wait_state(self, state: str, after: int = 0, timeout: float = 15.0) -> None:
        self.wait(lambda: state in self.states[after:], timeout, f"connection state {state}")


@pytest.fixture
def watch(broker: IBKRBroker) -> Watcher:
    return Watcher(broker)


def eventually(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll state that offers no event to wait on (the gateway's side of the socket)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)
