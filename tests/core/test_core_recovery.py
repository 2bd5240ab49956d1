"""Handler + logger wiring (each event logged once) and rebuilding the orders from the log after a restart."""

from __future__ import annotations

import asyncio

import pytest

from ibticket.core import OrderExecutionHandler, OrderLogger, OrderStatus, read_day, rebuild_orders

# -- wiring ---------------------------------------------------------------------------------------------


def test_partial_fill_lifecycle_logs_each_event_once(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    h.handle_status(record.order_id, "Submitted")  # IB's duplicate status
    h.handle_fill(record.order_id, 40, 150.0, exec_id="a.01")
    h.handle_status(record.order_id, "Submitted")  # stale
    h.handle_fill(record.order_id, 60, 151.0, exec_id="b.01")
    h.handle_fill(record.order_id, 60, 151.0, exec_id="b.01")  # replay
    h.handle_status(record.order_id, "Filled")  # done
    counts = harness.counts(record.order_id)
    assert counts["SUBMISSION"] == 1
    assert counts["FILL"] == 2
    assert counts["STATUS_CHANGE"] == 1  # Pending -> Submitted when sent; the fills carry the rest, once
    assert counts["ERROR"] == counts["CANCELLATION"] == counts["RETRY"] == 0
    fills = harness.events("FILL")
    assert [(e["status"], e["filled_quantity"], e["remaining_quantity"]) for e in fills] == [
        ("PartiallyFilled", 40, 60), ("Filled", 100, 0),
    ]
    # Written ahead, before anything was sent: the broker's order id follows in the next line.
    submission, sent = harness.events()[:2]
    assert (submission["event_type"], submission["status"]) == ("SUBMISSION", "Pending")
    assert submission["attempt_ref"] == record.order_ref + "/1" and "broker_order_id" not in submission
    assert (sent["event_type"], sent["old_status"], sent["new_status"]) == ("STATUS_CHANGE", "Pending", "Submitted")
    assert sent["broker_order_id"] == record.attempts[0].order_id
    assert sent["attempt_ref"] == record.order_ref + "/1"


def test_cancel_lifecycle_logs_each_event_once(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100, "LIMIT", 10.0)
    assert h.request_cancel(record.order_id) is True
    h.handle_status(record.order_id, "Cancelled")
    h.handle_error(record.order_id, 202, "Order Canceled - reason:")
    counts = harness.counts(record.order_id)
    assert (counts["SUBMISSION"], counts["CANCELLATION"], counts["STATUS_CHANGE"]) == (1, 1, 1)


def test_retry_lifecycle_logs_each_event_once(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        h.handle_error(record.order_id, 504, "Not connected")
        await harness.advance(1)
        h.handle_fill(record.order_id, 100, 1.0, exec_id="a.01")
        return record

    record = asyncio.run(scenario())
    counts = harness.counts(record.order_id)
    # STATUS_CHANGE: sent; the retry written ahead; resent.
    assert counts == {"SUBMISSION": 1, "ERROR": 1, "RETRY": 1, "STATUS_CHANGE": 3, "FILL": 1}
    (error,) = harness.events("ERROR")
    assert error["retry_scheduled"] is True and error["status"] == "Error"


# -- recovery -------------------------------------------------------------------------------------------


def _scripted_day(harness):
    """A day with corrections, late and early commissions, a retried remainder, a cancel and a reject."""
    h = harness.handler

    async def scenario():
        filled = await h.submit_order("AAPL", "BUY", 100, "LIMIT", 150.0)
        h.handle_commission("f2.01", 0.4)  # before its fill
        h.handle_fill(filled.order_id, 40, 150.0, exec_id="f1.01")
        h.handle_fill(filled.order_id, 40, 149.5, exec_id="f1.02")  # correction: price
        h.handle_fill(filled.order_id, 60, 149.0, exec_id="f2.01")
        h.handle_commission("f1.02", 1.0)  # after its fill

        retried = await h.submit_order("MSFT", "SELL", 100)
        h.handle_fill(retried.order_id, 30, 400.0, exec_id="r1.01")
        h.handle_error(retried.order_id, 504, "Not connected")
        await harness.advance(1)
        h.handle_fill(retried.order_id, 20, 401.0, exec_id="r2.01")
        h.handle_fill(retried.order_id, 10, 401.0, exec_id="r2.02")  # correction: shares

        cancelled = await h.submit_order("IBM", "BUY", 10, "LIMIT", 100.0)
        h.handle_fill(cancelled.order_id, 3, 99.0, exec_id="c1.01")
        h.request_cancel(cancelled.order_id)
        h.handle_error(cancelled.order_id, 202, "Order Canceled - reason:")

        harness.fail_next = 1
        rejected = await h.submit_order("XYZ", "BUY", 5)  # transport failure first ...
        await harness.advance(1)
        h.handle_error(rejected.order_id, 201, "Order rejected - reason:Exchange is closed.")  # ... then refused

        waiting = await h.submit_order("QQQ", "BUY", 7, "STOP", None, 300.0, "GTC", True)
        h.handle_error(waiting.order_id, 504, "Not connected")  # crash while waiting to retry
        return filled, retried, cancelled, rejected, waiting

    return asyncio.run(scenario())


def _comparable(record):
    data = record.to_dict()
    data.pop("last_update_time")  # the time of the last change, not part of the order's state
    data["fills"] = sorted(data["fills"], key=lambda f: f["fill_id"])
    return data


def test_rebuild_reproduces_every_order(harness):
    live = _scripted_day(harness)
    filled, retried, cancelled, rejected, waiting = live
    # Sanity of the script itself, so the comparison below compares something.
    assert filled.status is OrderStatus.FILLED and filled.avg_fill_price == pytest.approx(149.2)
    assert {f.fill_id: f.commission for f in filled.fills} == {"f1.02": 1.0, "f2.01": 0.4}
    assert (retried.status, retried.filled_quantity, len(retried.attempts), retried.retry_count) == (
        OrderStatus.PARTIALLY_FILLED, 40, 2, 1,
    )
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.cancel_requested
    assert rejected.status is OrderStatus.ERROR and len(rejected.attempts) == 2
    assert waiting.status is OrderStatus.ERROR and waiting.retry_count == 1

    day = read_day(harness.log_dir, harness.wall().date())
    assert day.bad_lines == []
    rebuilt = rebuild_orders(day.events)
    assert [r.order_id for r in rebuilt] == [r.order_id for r in live]
    for before, after in zip(live, rebuilt, strict=True):
        assert _comparable(after) == _comparable(before), before.order_id
    assert all(isinstance(r.status, OrderStatus) for r in rebuilt)


def test_rebuild_survives_a_torn_and_a_corrupt_line(harness):
    live = _scripted_day(harness)
    text = harness.log_file.read_bytes().split(b"\n")
    text.insert(3, b"garbage {")
    harness.log_file.write_bytes(b"\n".join(text) + b'{"event_type": "FILL", "order_id": 1, "fill_')
    day = read_day(harness.log_dir, harness.wall().date())
    assert len(day.bad_lines) == 2
    rebuilt = rebuild_orders(day.events)
    assert [_comparable(r) for r in rebuilt] == [_comparable(r) for r in live]


def test_rebuild_skips_events_it_cannot_use():
    events = [
        {"event_type": "NOTICE", "message": "connected"},  # no order
        {"event_type": "SUBMISSION", "order_id": "1", "symbol": "A"},  # order id not an int
        {"event_type": "SUBMISSION", "order_id": 2},  # no symbol
        {"event_type": "SUBMISSION", "order_id": 3, "symbol": "AAPL", "action": "BUY", "quantity": 10,
         "status": "Submitted"},
        {"event_type": "FILL", "order_id": 3, "fill_quantity": "x"},  # unreadable fill
        {"event_type": "STATUS_CHANGE", "order_id": 3, "status": "NotAStatus"},
    ]
    (record,) = rebuild_orders(events)
    assert (record.order_id, record.symbol, record.status, record.fills) == (3, "AAPL", OrderStatus.SUBMITTED, [])


def test_restore_makes_replays_no_ops_and_continues_ids(harness, tmp_path):
    live = _scripted_day(harness)
    rebuilt = rebuild_orders(read_day(harness.log_dir, harness.wall().date()).events)

    placed = []

    async def place(record, attempt):
        placed.append(attempt.quantity)
        attempt.order_id = 5000 + len(placed)

    fresh = OrderExecutionHandler(
        logger=OrderLogger(log_dir=tmp_path / "after-restart", log_to_console=False),
        clock=harness.clock, place_order=place, now=harness.wall,
    )
    fresh.restore(rebuilt)
    assert [r.order_id for r in fresh.get_all_orders()] == [r.order_id for r in live]
    filled, retried = fresh.get_order(live[0].order_id), fresh.get_order(live[1].order_id)

    # IB replays today's executions on reconnect: all no-ops.
    assert fresh.handle_fill(filled.order_id, 60, 149.0, exec_id="f2.01") is False
    assert fresh.handle_fill(retried.order_id, 30, 400.0, exec_id="r1.01") is False
    assert fresh.handle_fill(retried.order_id, 20, 401.0, exec_id="r2.01") is False  # corrected away
    assert (filled.filled_quantity, retried.filled_quantity) == (100, 40)
    # A replay carrying the commission that the log never saw attaches it.
    assert fresh.handle_fill(retried.order_id, 30, 400.0, commission=2.0, exec_id="r1.01") is False
    assert fresh.fill_for_exec("r1.01").commission == 2.0
    # A new execution and a new correction still apply.
    assert fresh.handle_fill(retried.order_id, 10, 402.0, exec_id="r3.01") is True
    assert fresh.handle_fill(retried.order_id, 30, 402.0, exec_id="r3.02") is True
    assert retried.filled_quantity == 70
    # Statuses about attempts are matched again through the order refs.
    attempt = retried.attempts[-1]
    assert fresh.find_attempt(attempt.order_ref) == (retried, attempt)

    new = fresh.create_order("AMD", "BUY", 1)
    assert new.order_id == max(r.order_id for r in live) + 1
    assert placed == []


def test_rebuild_keeps_an_amended_quantity(harness):
    if not hasattr(OrderExecutionHandler, "amend"):
        pytest.skip("no amend in this handler")
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100, "LIMIT", 10.0)
    h.handle_fill(record.order_id, 30, 10.0, exec_id="a.01")
    assert h.amend(record.order_id, total_quantity=50, limit_price=10.5) is True
    h.handle_fill(record.order_id, 10, 10.5, exec_id="b.01")
    (rebuilt,) = rebuild_orders(read_day(harness.log_dir, harness.wall().date()).events)
    assert (rebuilt.total_quantity, rebuilt.filled_quantity, rebuilt.remaining_quantity) == (50, 40, 10)
    assert rebuilt.limit_price == 10.5
    assert _comparable(rebuilt) == _comparable(record)


def test_attempt_refs_continue_after_a_restore(harness, tmp_path):
    live = _scripted_day(harness)
    rejected = live[3]
    assert [a.order_id != 0 for a in rejected.attempts] == [False, True]  # /1 never reached IB
    rebuilt = rebuild_orders(read_day(harness.log_dir, harness.wall().date()).events)

    async def place(record, attempt):
        attempt.order_id = 9001

    fresh = OrderExecutionHandler(logger=None, clock=harness.clock, place_order=place, now=harness.wall)
    fresh.restore(rebuilt)
    record = fresh.get_order(rejected.order_id)
    asyncio.run(fresh.place(record))
    refs = [a.order_ref for a in record.attempts]
    assert refs == [rejected.order_ref + "/1", rejected.order_ref + "/2", rejected.order_ref + "/3"]
    assert fresh.find_attempt(rejected.order_ref + "/2")[1].order_id == rejected.attempts[1].order_id


def test_ref_day_reads_the_sessions_start_from_an_order_reference() -> None:
    from datetime import date

    from ibticket.core.recovery import ref_day

    assert ref_day("ibt-11-20261205-235901-7") == date(2026, 12, 5)
    assert ref_day("ibt-11-20261205-235901-7/3") == date(2026, 12, 5)
    assert ref_day("ibt-20261205-235901-7") == date(2026, 12, 5)  # the handler's own prefix, no client id
    assert ref_day("ibt-11-20261341-235901-7") is None  # no such day
    assert ref_day("") is None and ref_day("manual order") is None


def test_begun_before_names_the_earliest_day_an_unfinished_story_began() -> None:
    from datetime import date

    from ibticket.core.recovery import begun_before

    whole = {"event_type": "SUBMISSION", "order_id": 1, "order_ref": "ibt-11-20261206-080000-1"}
    later = {"event_type": "FILL", "order_id": 1, "order_ref": "ibt-11-20261206-080000-1"}
    crossed = {"event_type": "FILL", "order_id": 2, "order_ref": "ibt-11-20261205-235900-2"}
    older = {"event_type": "NOTICE", "order_id": 3, "order_ref": "ibt-11-20261201-090000-3"}
    assert begun_before([whole, later]) is None
    assert begun_before([whole, later, crossed]) == date(2026, 12, 5)
    assert begun_before([crossed, older, whole]) == date(2026, 12, 1)
    assert begun_before([{"event_type": "FILL", "order_id": 4}]) is None  # no reference: nothing to go on
