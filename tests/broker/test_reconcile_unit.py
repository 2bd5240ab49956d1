"""Reconciliation decisions, on real core objects with a synthetic IB snapshot."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from ibticket.broker.reconcile import (
    SyncSnapshot,
    describe_foreign,
    foreign_orders,
    is_our_ref,
    reconcile,
    ref_client_id,
    ref_prefix,
)
from ibticket.core import ManualClock, OrderExecutionHandler, OrderLogger, OrderRecord, OrderStatus, rebuild_orders


def make_handler():
    ids = itertools.count(100)
    placed = []

    async def place(record, attempt):
        attempt.order_id = next(ids)
        placed.append(attempt.quantity)

    clock = ManualClock()
    handler = OrderExecutionHandler(clock=clock, place_order=place, ref_prefix=ref_prefix(7, "20261125-100000"))
    return handler, clock, placed


def run(coro):
    return asyncio.run(coro)


def test_unacknowledged_order_absent_at_ib_is_resubmitted_after_reconnect() -> None:
    async def scenario():
        handler, clock, placed = make_handler()
        record = await handler.submit_order("AAPL", "BUY", 100)
        report = reconcile(handler, SyncSnapshot(), after_restart=False)
        assert report.resubmit == 1
        assert record.status is OrderStatus.ERROR and handler.retry_pending(record.order_id)
        clock.advance(1.0)
        await handler.drain()
        assert record.status is OrderStatus.SUBMITTED and placed == [100, 100]

    run(scenario())


def test_absent_order_after_restart_is_failed_not_resubmitted() -> None:
    async def scenario():
        handler, clock, placed = make_handler()
        record = await handler.submit_order("AAPL", "BUY", 100)
        reconcile(handler, SyncSnapshot(), after_restart=True)
        assert record.status is OrderStatus.ERROR and not handler.retry_pending(record.order_id)
        clock.advance(60)
        await handler.drain()
        assert placed == [100]

    run(scenario())


def test_acknowledged_order_that_vanished_is_not_resubmitted() -> None:
    async def scenario():
        handler, _, _ = make_handler()
        record = await handler.submit_order("AAPL", "BUY", 100)
        record.attempts[-1].perm_id = 123456
        reconcile(handler, SyncSnapshot(), after_restart=False)
        assert record.status is OrderStatus.ERROR and "no longer reports" in record.error_message
        assert not handler.retry_pending(record.order_id)

    run(scenario())


def test_live_order_with_a_pending_retry_is_kept_and_the_retry_dropped() -> None:
    async def scenario():
        handler, clock, placed = make_handler()
        record = await handler.submit_order("AAPL", "BUY", 100)
        handler.handle_error(record.order_id, 504, "Not connected")
        assert handler.retry_pending(record.order_id)
        snapshot = SyncSnapshot(open_status={record.attempts[-1].order_ref: "Submitted"})
        report = reconcile(handler, snapshot, after_restart=False)
        assert report.live == 1
        assert record.status is OrderStatus.SUBMITTED and not handler.retry_pending(record.order_id)
        clock.advance(10)
        await handler.drain()
        assert placed == [100]

    run(scenario())


@pytest.mark.parametrize(("where", "status"), [("open_status", "Submitted"), ("completed_status", "Cancelled"),
                                                ("executed_refs", None)])
def test_an_order_ib_reports_is_not_failed_when_its_sent_line_was_lost(tmp_path, where, status) -> None:
    """A crash between placeOrder and the log line that carries the broker's order id: the restored attempt
    has no broker id, yet IB reports its reference. It reached IB, so it is not "not sent"."""

    async def sent_then_crashed() -> str:
        handler, _, _ = make_handler()
        handler.logger = OrderLogger(log_dir=tmp_path, log_to_console=False)
        record = await handler.submit_order("AAPL", "BUY", 100, "LIMIT", 150.0)
        handler.logger.close()
        return record.order_ref

    order_ref = run(sent_then_crashed())
    (path,) = tmp_path.glob("orders-*.jsonl")
    lines = path.read_text().splitlines(keepends=True)
    assert [line for line in lines if '"broker_order_id": 100' in line], "the sent line, with the broker's id"
    path.write_text("".join(line for line in lines if '"broker_order_id"' not in line))

    events = OrderLogger(log_dir=tmp_path, log_to_console=False).read_day().events
    (record,) = rebuild_orders(events)
    assert record.order_ref == order_ref and record.attempts[-1].order_id == 0
    handler, _, placed = make_handler()
    handler.restore([record])
    ref = record.attempts[-1].order_ref
    snapshot = SyncSnapshot()
    if status is None:
        snapshot.executed_refs.add(ref)
    else:
        getattr(snapshot, where)[ref] = status
    report = reconcile(handler, snapshot, after_restart=True)
    assert (report.failed, report.live + report.done) == (0, 1), str(report)
    assert record.status is not OrderStatus.ERROR and record.error_message is None
    assert not handler.retry_pending(record.order_id) and placed == []


def test_order_reference_ownership() -> None:
    assert is_our_ref(ref_prefix(7, "20261125-100000") + "-3/1", 7)  # an attempt
    assert is_our_ref(ref_prefix(7, "20261125-100000") + "-3", 7)  # its record
    assert not is_our_ref(ref_prefix(7, "20261125-100000") + "-3/", 7)
    assert not is_our_ref(ref_prefix(8, "20261125-100000") + "-3/1", 7)
    assert not is_our_ref("someone-else", 7)
    assert ref_client_id(ref_prefix(31, "20261125-100000") + "-3/2") == 31
    assert ref_client_id("someone-else") is None


def test_foreign_orders_are_the_unfinished_orders_of_other_client_ids() -> None:
    def order(client_id: int, n: int, status: OrderStatus) -> OrderRecord:
        ref = f"{ref_prefix(client_id, '20261125-100000')}-{n}"
        return OrderRecord(order_id=n, symbol="AAPL", action="BUY", total_quantity=1, status=status, order_ref=ref)

    records = [order(7, 1, OrderStatus.SUBMITTED), order(31, 1, OrderStatus.SUBMITTED),
               order(31, 2, OrderStatus.FILLED), order(31, 3, OrderStatus.ERROR), order(5, 1, OrderStatus.PENDING),
               order(44, 1, OrderStatus.PARTIALLY_FILLED)]
    records.append(OrderRecord(order_id=9, symbol="X", action="BUY", total_quantity=1, order_ref="not-ours"))
    found = foreign_orders(records, 7)
    assert found == {5: [records[4].order_ref], 31: [records[1].order_ref, records[3].order_ref],
                     44: [records[5].order_ref]}
    assert foreign_orders(records, 7, managed=lambda owner: owner != 44) == {44: [records[5].order_ref]}
    text = describe_foreign(found, 7)
    assert "1 unfinished order of client id 5" in text and "2 unfinished orders of client id 31" in text
    assert "runs as client id 7" in text
    assert "connect as client id 5 or client id 31 or client id 44" in text
    many = {31: [f"ref-{n}" for n in range(5)]}
    assert "(ref-0, ref-1, ref-2, …)" in describe_foreign(many, 7)
    report = reconcile(OrderExecutionHandler(clock=ManualClock()), SyncSnapshot(), after_restart=True,
                       adopted=2, foreign=found)
    assert (report.adopted, report.foreign) == (2, {5: 1, 31: 2, 44: 1})
    assert str(report).endswith("2 adopted; 1 left to client id 5 (connect as client id 5 to recover them); "
                                "2 left to client id 31 (connect as client id 31 to recover them); "
                                "1 left to client id 44 (connect as client id 44 to recover them)")


def test_reconnect_backoff_doubles_up_to_the_cap() -> None:
    from itertools import islice

    from ibticket.broker.core import backoff_delays

    assert list(islice(backoff_delays(30.0), 8)) == [1, 2, 4, 8, 16, 30, 30, 30]
