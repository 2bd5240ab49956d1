"""Status messages: only forward moves apply; stale, early or foreign statuses are ignored and noted."""

from __future__ import annotations

import asyncio

import pytest

from ibticket.core import OrderStatus


def _filled(harness, quantity=100):
    record = harness.submit("AAPL", "BUY", quantity)
    harness.handler.handle_fill(record.order_id, quantity, 10.0, exec_id="a.01")
    assert record.status is OrderStatus.FILLED
    return record


@pytest.mark.parametrize("status", ["Submitted", "Pending", "PartiallyFilled", "Error", OrderStatus.SUBMITTED])
def test_stale_status_after_filled_is_ignored_and_noted(harness, status):
    record = _filled(harness)
    changes = []
    logged_changes = len(harness.events("STATUS_CHANGE"))
    harness.handler.register_status_callback(lambda r: changes.append(r.status))
    assert harness.handler.handle_status(record.order_id, status) is False
    assert record.status is OrderStatus.FILLED
    assert changes == []
    notice = harness.events("NOTICE")[-1]
    assert notice["order_id"] == record.order_id
    assert str(OrderStatus(status).value) in notice["message"] and "Filled" in notice["message"]
    assert len(harness.events("STATUS_CHANGE")) == logged_changes


def test_cancelled_after_the_last_share_filled_is_ignored(harness):
    record = _filled(harness)
    assert harness.handler.handle_status(record.order_id, "Cancelled", "too late") is False
    assert harness.handler.handle_error(record.order_id, 202, "Order Canceled - reason:") is False
    assert record.status is OrderStatus.FILLED
    assert harness.events("CANCELLATION") == []


@pytest.mark.parametrize("status", ["Filled", "PartiallyFilled"])
def test_completion_comes_from_fills_not_status(harness, status):
    record = harness.submit("AAPL", "BUY", 100)
    assert harness.handler.handle_status(record.order_id, status) is False
    assert record.status is OrderStatus.SUBMITTED
    assert record.filled_quantity == 0 and record.remaining_quantity == 100
    assert harness.events("NOTICE")[-1]["message"].startswith(f"status {status} ignored")
    assert record in harness.handler.get_active_orders()


def test_submitted_after_partially_filled_is_ignored(harness):
    record = harness.submit("AAPL", "BUY", 100)
    harness.handler.handle_fill(record.order_id, 10, 10.0, exec_id="a.01")
    assert harness.handler.handle_status(record.order_id, "Submitted") is False
    assert harness.handler.handle_status(record.order_id, "Pending") is False
    assert record.status is OrderStatus.PARTIALLY_FILLED
    # "Submitted" with fills is how IB reports a working order: not news; "Pending" is a regression.
    assert [e["message"].split(":")[0] for e in harness.events("NOTICE")] == ["status Pending ignored"]


def test_pending_after_submitted_is_ignored(harness):
    record = harness.submit("AAPL", "BUY", 100)
    assert harness.handler.handle_status(record.order_id, "Pending") is False
    assert record.status is OrderStatus.SUBMITTED


def test_forward_status_applies_and_is_logged(harness):
    record = harness.handler.create_order("AAPL", "BUY", 100)
    changes = []
    harness.handler.register_status_callback(lambda r: changes.append(r.status))
    assert harness.handler.handle_status(record.order_id, "Submitted", "acked") is True
    assert record.status is OrderStatus.SUBMITTED
    assert changes == [OrderStatus.SUBMITTED]
    (event,) = harness.events("STATUS_CHANGE")
    assert (event["old_status"], event["new_status"], event["status"]) == ("Pending", "Submitted", "Submitted")
    # A repeat of the same status is a no-op that logs nothing.
    assert harness.handler.handle_status(record.order_id, "Submitted") is False
    assert len(harness.events("STATUS_CHANGE")) == 1 and harness.events("NOTICE") == []


def test_status_for_unknown_order_is_ignored(harness):
    assert harness.handler.handle_status(42, "Cancelled") is False


def test_status_for_an_earlier_attempt_is_ignored(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        first = record.attempts[0].order_id
        assert h.handle_error(record.order_id, 504, "Not connected") is True
        await harness.advance(1)
        assert len(record.attempts) == 2
        second = record.attempts[1].order_id
        assert second != first and record.status is OrderStatus.SUBMITTED
        assert h.handle_status(record.order_id, "Cancelled", broker_order_id=first) is False
        assert record.status is OrderStatus.SUBMITTED
        assert "earlier attempt" in harness.events("NOTICE")[-1]["message"]
        assert harness.events("CANCELLATION") == []
        # The same status about the live attempt does apply.
        assert h.handle_status(record.order_id, "Cancelled", broker_order_id=second) is True
        assert record.status is OrderStatus.CANCELLED

    asyncio.run(scenario())


def test_cancelled_status_without_request_is_an_ib_cancel(harness):
    record = harness.submit("AAPL", "BUY", 100)
    assert harness.handler.handle_status(record.order_id, "Cancelled") is True
    assert record.status is OrderStatus.CANCELLED
    (event,) = harness.events("CANCELLATION")
    assert event["requested"] is False


def test_pending_status_does_not_strand_an_order_waiting_for_a_retry(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        assert h.handle_error(record.order_id, 504, "Not connected") is True
        assert h.handle_status(record.order_id, "Pending") is False
        assert record.status is OrderStatus.ERROR and h.retry_pending(record.order_id)
        await harness.advance(1)
        assert len(harness.placed) == 2
        assert record.status is OrderStatus.SUBMITTED

    asyncio.run(scenario())


def test_status_times_come_from_the_injected_clock(harness):
    record = harness.submit("AAPL", "BUY", 100)
    harness.handler.handle_error(record.order_id, 200, "No security definition has been found for the request")
    assert record.status is OrderStatus.ERROR
    # The harness's wall clock starts on 2026-02-18, so a real datetime.now() would stand out.
    assert record.last_update_time.date() == harness.wall.start.date()


def test_a_status_ignored_again_and_again_is_noted_in_the_log_once(harness):
    # IB repeats an order's last status at every reconnect; the soak logged the same NOTICE 80 times.
    record = harness.submit("AAPL", "BUY", 100)
    for _ in range(5):
        assert harness.handler.handle_status(record.order_id, "Filled") is False
    assert [e["message"] for e in harness.events("NOTICE")] == [
        "status Filled ignored: completion follows the executions"]
    other = harness.submit("MSFT", "BUY", 100)
    assert harness.handler.handle_status(other.order_id, "Filled") is False
    assert len(harness.events("NOTICE")) == 2  # per order
