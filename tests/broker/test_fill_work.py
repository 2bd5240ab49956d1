"""The work per execution must not grow with the number of executions an order already has.

Counted, never timed (the machine is shared, timings are noise): one market order filled in M one-share
executions, end to end (embedded gateway -> loopback socket -> client library -> BrokerCore -> handler ->
the script's callbacks), with M = 10 and M = 1,000. Per execution the test counts

- items read from the order's own fills list: a snapshot that copies the list reads every fill so far, for
  every callback, which makes the fill path quadratic in the order's executions;
- Fill objects made (a snapshot that copied the fills themselves);
- characters formatted by the library's ``Trade`` repr, which the library logs eagerly on every order
  status: its own dataclass repr formats every fill of the trade.

Each count per execution at M = 1,000 may not exceed the one at M = 10 (plus a little slack for the
end of the order, commission reports still in flight).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, SupportsIndex

import pytest

from ibticket import IBKRBroker, OrderExecutionHandler, OrderRecord
from ibticket.broker import ib as ib_module
from ibticket.core import Fill
from ibticket.gateway import GatewayConfig, GatewayThread

SMALL, LARGE = 10, 1000
SLACK = 1.0  # per execution


class Counts:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values = {"fill items read": 0, "Fill objects made": 0, "trade repr chars": 0}

    def add(self, name: str, n: int) -> None:
        with self.lock:
            self.values[name] += n

    def take(self) -> dict[str, int]:
        with self.lock:
            taken = dict(self.values)
            for name in self.values:
                self.values[name] = 0
            return taken


class CountingList(list[Fill]):
    """The order's fills list, counting every item read through it (iteration, indexing, slices, copies)."""

    counts: Counts

    def __iter__(self) -> Iterator[Fill]:
        for item in super().__iter__():
            self.counts.add("fill items read", 1)
            yield item

    def __reversed__(self) -> Iterator[Fill]:
        for item in super().__reversed__():
            self.counts.add("fill items read", 1)
            yield item

    def __getitem__(self, index: Any) -> Any:
        item = super().__getitem__(index)
        self.counts.add("fill items read", len(item) if isinstance(index, slice) else 1)
        return item

    def copy(self) -> list[Fill]:
        self.counts.add("fill items read", len(self))
        return list(super().__iter__())

    def __add__(self, other: Any) -> Any:
        self.counts.add("fill items read", len(self))
        return super().__add__(other)

    def __mul__(self, n: SupportsIndex) -> Any:
        self.counts.add("fill items read", len(self))
        return super().__mul__(n)


class CountingHandler(OrderExecutionHandler):
    """Gives each new order a counting fills list before any execution reaches it."""

    def __init__(self, counts: Counts) -> None:
        super().__init__()
        self.counts = counts

    def create_order(self, *args: Any, **kwargs: Any) -> OrderRecord | None:
        record = super().create_order(*args, **kwargs)
        if record is not None:
            fills = CountingList(record.fills)
            fills.counts = self.counts
            record.fills = fills
        return record


@pytest.fixture
def counts(monkeypatch: pytest.MonkeyPatch) -> Counts:
    counts = Counts()
    real_init = Fill.__init__

    def counting_init(self: Fill, *args: Any, **kwargs: Any) -> None:
        counts.add("Fill objects made", 1)
        real_init(self, *args, **kwargs)

    def counting_reduce_ex(self: Fill, protocol: SupportsIndex) -> Any:
        counts.add("Fill objects made", 1)
        return object.__reduce_ex__(self, protocol)

    # The constructor and dataclasses.replace run __init__; copy, deepcopy and pickle go through __reduce_ex__.
    monkeypatch.setattr(Fill, "__init__", counting_init)
    monkeypatch.setattr(Fill, "__reduce_ex__", counting_reduce_ex, raising=False)
    trade = ib_module.Trade
    real_repr: Callable[[Any], str] = trade.__repr__

    def counting_repr(self: Any) -> str:
        text = real_repr(self)
        counts.add("trade repr chars", len(text))
        return text

    monkeypatch.setattr(trade, "__repr__", counting_repr)
    return counts


def fill_one_order(m: int, counts: Counts, log_dir: Path, client_id: int) -> dict[str, float]:
    """Counts per execution for one market order of m shares filled in m one-share executions."""
    # No minimum commission: every execution of either order carries a commission report that changes it.
    config = GatewayConfig(seed=7, tick_interval=None, partial_fills=m, fill_interval=0.0, min_commission=0.0)
    with GatewayThread(config) as gateway:
        broker = IBKRBroker(port=gateway.port, client_id=client_id, log_dir=str(log_dir),
                            handler=CountingHandler(counts))
        try:
            assert broker.connect(timeout=10), broker.last_error
            done = threading.Event()
            callbacks = [0]

            def on_fill(record: OrderRecord) -> None:
                # Reads no fill itself: what is counted is the broker's work, not the script's.
                callbacks[0] += 1
                if record.filled_quantity == m:
                    done.set()

            broker.register_order_fill_callback(on_fill)
            broker.register_order_status_callback(lambda record: None)
            counts.take()
            order = broker.execute_market_order("AAPL", m, "buy")
            assert order is not None, broker.last_error
            assert done.wait(60), f"order of {m} executions not filled; {callbacks[0]} fill callbacks"
            taken = counts.take()
            assert callbacks[0] == m
        finally:
            broker.close()
    return {name: value / m for name, value in taken.items()}


def test_work_per_execution_does_not_grow_with_the_orders_executions(counts: Counts, tmp_path: Path) -> None:
    small = fill_one_order(SMALL, counts, tmp_path / "small", client_id=21)
    large = fill_one_order(LARGE, counts, tmp_path / "large", client_id=22)
    report = ", ".join(f"{name}: {small[name]:.1f} -> {large[name]:.1f}" for name in small)
    # Each fill is made at least once: proof the counters see the path at all.
    assert large["Fill objects made"] >= 1 and small["Fill objects made"] >= 1, report
    assert large["trade repr chars"] > 0, report
    for name in small:
        assert large[name] <= small[name] + SLACK, f"per execution, M={SMALL} -> M={LARGE}: {report}"
