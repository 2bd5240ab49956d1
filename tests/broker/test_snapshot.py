"""Snapshots: the record a callback or a query gets is the order as it was then, whatever happens after.

A snapshot shares the order's fills list instead of copying it (O(1) per callback, see FillsView); these
tests hold it to what a copy gave, and more: later fills, late commissions and corrections never show in
a snapshot already handed out, nor in a Fill taken from it.
"""

from __future__ import annotations

import copy
import pickle
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ibticket import IBKRBroker, OrderRecord
from ibticket.broker.dispatch import snapshot
from ibticket.core import Fill, ManualClock, OrderExecutionHandler
from ibticket.core.records import FillsView


@pytest.fixture
def handler() -> OrderExecutionHandler:
    return OrderExecutionHandler(clock=ManualClock())


def new_order(handler: OrderExecutionHandler, quantity: int = 100) -> OrderRecord:
    record = handler.create_order("AAPL", "BUY", quantity)
    assert record is not None
    return record


def fill(
    handler: OrderExecutionHandler, record: OrderRecord, exec_id: str, qty: int = 10, price: float = 150.0
) -> None:
    assert handler.handle_fill(record.order_id, qty, price, exec_id=exec_id)


def test_later_fills_do_not_show_in_a_snapshot(handler: OrderExecutionHandler) -> None:
    record = new_order(handler)
    fill(handler, record, "a.01")
    seen = snapshot(record)
    fill(handler, record, "b.01", price=151.0)
    assert len(seen.fills) == 1 and [f.fill_id for f in seen.fills] == ["a.01"]
    assert seen.filled_quantity == 10 and seen.avg_fill_price == 150.0
    assert seen.to_dict()["fills"] == [record.fills[0].to_dict()]
    assert len(record.fills) == 2 and len(snapshot(record).fills) == 2


def test_a_late_commission_does_not_show_in_a_snapshot_nor_in_a_fill_taken_from_it(
    handler: OrderExecutionHandler,
) -> None:
    record = new_order(handler)
    fill(handler, record, "a.01")
    seen = snapshot(record)
    kept = seen.fills[0]
    assert handler.handle_commission("a.01", 1.25)
    assert record.fills[0].commission == 1.25
    assert seen.fills[0].commission == 0.0 and kept.commission == 0.0
    assert [f.commission for f in seen.fills] == [0.0]
    assert snapshot(record).fills[0].commission == 1.25
    # The handler's own index follows the new Fill: the same commission again changes nothing.
    assert handler.fill_for_exec("a.01") is record.fills[0]
    assert handler.handle_commission("a.01", 1.25) is False


def test_each_snapshot_keeps_the_commission_it_saw(handler: OrderExecutionHandler) -> None:
    record = new_order(handler)
    fill(handler, record, "a.01")
    fill(handler, record, "b.01")
    views = [snapshot(record)]
    for commission in (1.0, 2.0, 3.0):
        handler.handle_commission("a.01", commission)
        views.append(snapshot(record))
        handler.handle_commission("b.01", commission / 2)
        views.append(snapshot(record))
    fill(handler, record, "c.01")
    handler.handle_commission("c.01", 9.0)
    got = [[f.commission for f in v.fills] for v in views]
    assert got == [[0, 0], [1, 0], [1, 0.5], [2, 0.5], [2, 1], [3, 1], [3, 1.5]]
    assert [f.commission for f in record.fills] == [3.0, 1.5, 9.0]


def test_a_correction_does_not_show_in_an_earlier_snapshot(handler: OrderExecutionHandler) -> None:
    record = new_order(handler)
    fill(handler, record, "a.01")
    fill(handler, record, "b.01")
    handler.handle_commission("a.01", 1.0)
    before = snapshot(record)
    fill(handler, record, "a.02", qty=20, price=149.0)  # corrects a.01
    handler.handle_commission("a.02", 2.0)
    handler.handle_commission("b.01", 0.5)
    assert [(f.fill_id, f.quantity, f.commission) for f in before.fills] == [("a.01", 10, 1.0), ("b.01", 10, 0.0)]
    assert before.filled_quantity == 20
    after = snapshot(record)
    assert [(f.fill_id, f.quantity, f.commission) for f in after.fills] == [("b.01", 10, 0.5), ("a.02", 20, 2.0)]
    assert after.filled_quantity == 30 and record.filled_quantity == 30


def test_a_commission_still_attaches_when_the_fills_list_was_changed_behind_the_records_back(
    handler: OrderExecutionHandler,
) -> None:
    record = new_order(handler)
    fill(handler, record, "a.01")
    snapshot(record)
    record.fills.insert(0, Fill("x", record.order_id, "AAPL", 1, 1.0, record.fills[0].timestamp))
    assert handler.handle_commission("a.01", 1.5)
    assert [(f.fill_id, f.commission) for f in record.fills] == [("x", 0.0), ("a.01", 1.5)]


def test_a_snapshots_fills_behave_like_a_read_only_list(handler: OrderExecutionHandler) -> None:
    record = new_order(handler)
    for k in range(4):
        fill(handler, record, f"e{k}.01", price=150.0 + k)
    seen = snapshot(record)
    fills = seen.fills
    live = list(record.fills)
    assert isinstance(fills, FillsView)
    assert len(fills) == 4 and fills[0] is live[0] and fills[-1] is live[-1]
    assert fills[1:3] == live[1:3] and fills[::-1] == live[::-1]
    assert list(fills) == live and fills == live and live == fills and fills == tuple(live)
    assert fills != live[:3] and fills != "not fills"
    assert live[2] in fills and fills.index(live[2]) == 2
    assert repr(fills) == repr(live)
    with pytest.raises(IndexError, match="fill index out of range"):
        fills[4]
    with pytest.raises(IndexError):
        fills[-5]
    with pytest.raises(AttributeError):
        fills.append(live[0])  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        fills[0] = live[0]  # type: ignore[index]
    # A snapshot of a snapshot is the same snapshot.
    assert snapshot(seen).fills is fills
    # A deep copy and a pickled copy are records of their own, equal to the snapshot.
    for other in (copy.deepcopy(seen), pickle.loads(pickle.dumps(seen))):
        assert other == seen and other.to_dict() == seen.to_dict()
        assert other.fills[0] is not live[0] and other.fills[0] == live[0]
    assert seen == copy.deepcopy(record)
    # What a snapshot carries does not grow with the order's later fills (the record keeps bookkeeping for
    # its views from the first snapshot on: a later snapshot must not take it along).
    later = snapshot(record)
    size = len(pickle.dumps(later))
    for k in range(4, 40):
        fill(handler, record, f"e{k}.01", qty=1)
    assert len(pickle.dumps(later)) == size and len(copy.deepcopy(later).fills) == 4


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("fill"), st.integers(1, 5)),
        st.tuples(st.just("commission"), st.integers(0, 30), st.sampled_from([0.0, 0.5, 1.0, 2.5])),
        st.tuples(st.just("correct"), st.integers(0, 30), st.integers(1, 5)),
        st.tuples(st.just("snapshot")),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(OPS)
def test_every_snapshot_equals_a_deep_copy_made_at_the_time(ops: list[tuple]) -> None:
    handler = OrderExecutionHandler(clock=ManualClock())
    record = handler.create_order("AAPL", "BUY", 10_000)
    assert record is not None
    bases: list[str] = []
    versions: dict[str, int] = {}
    taken: list[tuple[OrderRecord, dict]] = []
    for op in ops:
        if op[0] == "fill":
            base = f"e{len(bases)}"
            bases.append(base)
            versions[base] = 1
            handler.handle_fill(record.order_id, op[1], 100.0 + len(bases), exec_id=f"{base}.01")
        elif op[0] == "commission" and bases:
            base = bases[op[1] % len(bases)]
            handler.handle_commission(f"{base}.{versions[base]:02d}", op[2])
        elif op[0] == "correct" and bases:
            base = bases[op[1] % len(bases)]
            versions[base] += 1
            handler.handle_fill(record.order_id, op[2], 99.0, exec_id=f"{base}.{versions[base]:02d}")
        elif op[0] == "snapshot":
            taken.append((snapshot(record), copy.deepcopy(record).to_dict()))
    taken.append((snapshot(record), copy.deepcopy(record).to_dict()))
    for seen, then in taken:
        assert seen.to_dict() == then
    assert taken[-1][0].fills == record.fills


@pytest.mark.parametrize("gateway", [{"partial_fills": 20, "min_commission": 0.0}], indirect=True)
def test_records_kept_from_fill_callbacks_stay_as_they_were(broker: IBKRBroker, gateway) -> None:
    """The real path: each execution's commission report comes after its fill callback was queued, so
    the record for fill k shows fill k without its commission, however late the script reads it."""
    kept: list[OrderRecord] = []
    done = threading.Event()
    charged: set[str] = set()
    all_charged = threading.Event()

    def on_fill(record: OrderRecord) -> None:
        kept.append(record)  # no copy: the broker's snapshot is the script's to keep
        if record.filled_quantity == 20:
            done.set()

    def on_commission(record: OrderRecord, fill: Fill) -> None:  # on the broker's loop thread
        charged.add(fill.fill_id)
        if len(charged) == 20:
            all_charged.set()

    broker.order_handler.register_commission_callback(on_commission)
    broker.register_order_fill_callback(on_fill)
    order = broker.execute_market_order("AAPL", 20, "buy")
    assert order is not None, broker.last_error
    assert done.wait(10) and all_charged.wait(10)
    expected = {e.exec_id: e.commission for e in gateway.executions()}
    assert len(expected) == 20 and all(expected.values())
    final = broker.get_order_status(order.order_id)
    assert {f.fill_id: f.commission for f in final.fills} == pytest.approx(expected)  # as sent on the wire
    broker.close()  # every callback delivered
    assert [len(r.fills) for r in kept] == list(range(1, 21))
    for k, record in enumerate(kept, start=1):
        assert record.filled_quantity == k
        # Earlier executions' commissions had arrived; this one's had not.
        charged_then = [expected[f.fill_id] for f in record.fills[:-1]] + [0.0]
        assert [f.commission for f in record.fills] == pytest.approx(charged_then)
