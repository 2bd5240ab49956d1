"""IB error classes and what each does to an order, and the retry machinery behind the retryable ones."""

from __future__ import annotations

import asyncio

import pytest

from ibticket.core import ErrorClass, OrderExecutionHandler, OrderStatus, classify

FUNDS_201 = (
    "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR "
    "EQUITY WITH LOAN VALUE [1000.00 USD] MUST EXCEED THE INITIAL MARGIN [5000.00 USD]"
)
CLOSED_201 = "Order rejected - reason:Exchange is closed."


class Recorder:
    """Error and status callbacks, recorded."""

    def __init__(self, handler: OrderExecutionHandler) -> None:
        self.errors: list[tuple[int, str]] = []
        self.statuses: list[OrderStatus] = []
        handler.register_error_callback(lambda r, msg: self.errors.append((r.order_id, msg)))
        handler.register_status_callback(lambda r: self.statuses.append(r.status))


# -- informational --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (2104, "Market data farm connection is OK:usfarm"),
        (399, "Order Message: Warning: your order will not be placed at the exchange until 2026-02-19 09:30"),
        (404, "Shares for this order are not immediately available for short sale."),
        (2109, "Order Event Warning: Attribute 'Outside Regular Trading Hours' is ignored"),
        (10167, "Requested market data is not subscribed. Displaying delayed market data."),
        (10349, "Order TIF was set to DAY based on order preset."),
        (2137, "Cross Side Warning"),
        (2150, "any code in the 2100-2199 warning range"),
        # Orders keep working at IB through a TWS<->IB outage: resubmitting could double them.
        (1100, "Connectivity between IB and Trader Workstation has been lost."),
        (1101, "Connectivity between IB and TWS has been restored- data lost."),
        (1300, "TWS socket port has been reset and this connection is being dropped."),
    ],
)
def test_informational_codes_never_mark_error(harness, code, message):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    seen = Recorder(h)
    assert classify(code, message) is ErrorClass.INFO
    assert h.handle_error(record.order_id, code, message) is False
    assert record.status is OrderStatus.SUBMITTED
    assert record.error_message is None
    assert harness.clock.pending_delays == []
    assert seen.errors == [] and seen.statuses == []
    assert harness.events("ERROR") == []
    notice = harness.events("NOTICE")[-1]
    assert (notice["error_code"], notice["message"]) == (code, message)
    # The order carries on normally afterwards.
    h.handle_fill(record.order_id, 100, 10.0, exec_id="a.01")
    assert record.status is OrderStatus.FILLED


# -- cancel confirmation --------------------------------------------------------------------------------


def test_202_without_a_request_is_an_ib_cancel(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    reason = "Order Canceled - reason:The order price is too far through the market"
    assert h.handle_error(record.order_id, 202, reason) is False
    assert record.status is OrderStatus.CANCELLED
    assert record.cancel_requested is False
    (event,) = harness.events("CANCELLATION")
    assert event["requested"] is False
    assert event["reason"] == reason
    assert harness.clock.pending_delays == []


def test_202_after_request_cancel_is_a_user_cancel(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    assert h.request_cancel(record.order_id) is True  # live at the broker: the broker must be told
    assert record.status is OrderStatus.SUBMITTED and record.cancel_requested
    assert h.handle_error(record.order_id, 202, "Order Canceled - reason:") is False
    assert record.status is OrderStatus.CANCELLED
    (event,) = harness.events("CANCELLATION")
    assert event["requested"] is True


def test_cancel_of_a_partially_filled_order_keeps_its_fills(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    h.handle_fill(record.order_id, 30, 10.0, exec_id="a.01")
    h.handle_error(record.order_id, 202, "Order Canceled - reason:")
    assert record.status is OrderStatus.CANCELLED
    assert (record.filled_quantity, record.remaining_quantity) == (30, 70)


# -- rejected modify / cancel requests ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (104, "Can't modify a filled order"),
        (105, "Order being modified does not match original order"),
        (161, "Cancel attempted when order is not in a cancellable state"),
        (10147, "OrderId 1001 that needs to be cancelled is not found."),
        (10148, "OrderId 1001 that needs to be cancelled can not be cancelled, state: Filled."),
        (2102, "Unable to modify this order as it is still being processed."),
    ],
)
def test_rejected_request_leaves_the_order_unchanged(harness, code, message):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    h.handle_fill(record.order_id, 10, 10.0, exec_id="a.01")
    seen = Recorder(h)
    assert h.handle_error(record.order_id, code, message) is False
    assert record.status is OrderStatus.PARTIALLY_FILLED
    assert record.error_message is None
    assert harness.clock.pending_delays == []
    assert seen.errors == [(record.order_id, message)]
    assert seen.statuses == []
    (event,) = harness.events("ERROR")
    assert event["order_unchanged"] is True
    assert (event["error_code"], event["error_message"]) == (code, message)
    assert event["status"] == "PartiallyFilled"


# -- permanent rejections -------------------------------------------------------------------------------

PERMANENT = [
    (200, "No security definition has been found for the request"),
    (201, FUNDS_201),
    (201, "Order rejected - reason:Available settled cash 100 USD. Cash needed for this order: 5000 USD"),
    (203, "The security is not available or allowed for this account"),
    (110, "The price does not conform to the minimum price variation for this contract."),
    (103, "Duplicate order id"),
    (98765, "a code nobody has documented"),
]


@pytest.mark.parametrize("retry_rejected", [False, True])
@pytest.mark.parametrize(("code", "message"), PERMANENT)
def test_permanent_rejection_marks_error_without_retry(make_harness, code, message, retry_rejected):
    harness = make_harness(retry_rejected=retry_rejected)
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    seen = Recorder(h)
    assert h.handle_error(record.order_id, code, message) is False
    assert record.status is OrderStatus.ERROR
    assert record.error_message == message
    assert record.retry_count == 0
    assert not h.retry_pending(record.order_id)
    assert harness.clock.pending_delays == []
    assert seen.errors == [(record.order_id, message)]
    assert seen.statuses == [OrderStatus.ERROR]
    assert harness.events("RETRY") == []
    (event,) = harness.events("ERROR")
    assert event["error_code"] == code and event.get("retry_scheduled") is None
    assert record not in h.get_active_orders()


def test_permanent_rejection_is_not_retried_after_time_passes(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        h.handle_error(record.order_id, 200, "No security definition has been found for the request")
        await harness.advance(3600)
        assert len(harness.placed) == 1
        assert record.status is OrderStatus.ERROR

    asyncio.run(scenario())


# -- retryable ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message"),
    [(504, "Not connected"), (100, "Max rate of messages per second has been exceeded"),
     (322, "Error processing request"), (502, "Couldn't connect to TWS")],
)
def test_retryable_error_marks_error_and_schedules_a_retry(harness, code, message):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    seen = Recorder(h)
    assert h.handle_error(record.order_id, code, message) is True
    assert record.status is OrderStatus.ERROR
    assert record.error_message == message
    assert record.retry_count == 1
    assert h.retry_pending(record.order_id)
    assert harness.clock.pending_delays == [1.0]
    assert seen.errors == [(record.order_id, message)]
    assert seen.statuses == [OrderStatus.ERROR]
    (retry,) = harness.events("RETRY")
    assert (retry["delay"], retry["retry_count"], retry["error_code"]) == (1.0, 1, code)
    assert record in h.get_active_orders()


@pytest.mark.parametrize(("retry_rejected", "retried"), [(False, False), (True, True)])
def test_plain_201_is_retried_only_when_asked(make_harness, retry_rejected, retried):
    harness = make_harness(retry_rejected=retry_rejected)
    record = harness.submit("AAPL", "BUY", 100)
    assert harness.handler.handle_error(record.order_id, 201, CLOSED_201) is retried
    assert record.status is OrderStatus.ERROR
    assert harness.clock.pending_delays == ([1.0] if retried else [])
    assert len(harness.events("RETRY")) == (1 if retried else 0)


def test_error_for_unknown_order_is_ignored(harness):
    assert harness.handler.handle_error(77, 504, "Not connected") is False
    assert harness.clock.pending_delays == []


def test_error_after_the_order_is_done_is_only_noted(harness):
    record = harness.submit("AAPL", "BUY", 10)
    harness.handler.handle_fill(record.order_id, 10, 1.0, exec_id="a.01")
    assert harness.handler.handle_error(record.order_id, 504, "Not connected") is False
    assert record.status is OrderStatus.FILLED
    assert harness.clock.pending_delays == []
    assert harness.events("NOTICE")[-1]["error_code"] == 504


def test_error_after_a_cancel_request_is_never_retried(harness):
    record = harness.submit("AAPL", "BUY", 10)
    harness.handler.request_cancel(record.order_id)
    assert harness.handler.handle_error(record.order_id, 504, "Not connected") is False
    assert record.status is OrderStatus.ERROR
    assert harness.clock.pending_delays == []


class SpecCustomHandler(OrderExecutionHandler):
    """The spec's "Custom Retry Logic" example, verbatim in behaviour."""

    def _should_retry(self, error_code, error_message):
        no_retry_codes = [201, 202, 203]
        return error_code not in no_retry_codes

    def handle_error(self, order_id, error_code, error_message):
        if self._should_retry(error_code, error_message):
            return super().handle_error(order_id, error_code, error_message)
        order_record = self.get_order(order_id)
        order_record.update_status(OrderStatus.ERROR, error_message)
        return False


def test_spec_subclass_overriding_should_retry_changes_the_decision(make_harness):
    harness = make_harness(handler_cls=SpecCustomHandler)
    h = harness.handler
    # 200 is permanent by default; the subclass says retry it.
    record = harness.submit("AAPL", "BUY", 100)
    assert h.handle_error(record.order_id, 200, "No security definition has been found") is True
    assert record.status is OrderStatus.ERROR and harness.clock.pending_delays == [1.0]
    # A plain 201 would be retried with retry_rejected=True by default; the subclass refuses it.
    other = harness.submit("MSFT", "BUY", 100)
    assert h.handle_error(other.order_id, 201, CLOSED_201) is False
    assert other.status is OrderStatus.ERROR
    assert harness.clock.pending_delays == [1.0]


def test_subclass_can_refuse_retrying_a_transient_error(make_harness):
    class NoRetry(OrderExecutionHandler):
        def _should_retry(self, error_code, error_message):
            return False

    harness = make_harness(handler_cls=NoRetry)
    record = harness.submit("AAPL", "BUY", 100)
    assert harness.handler.handle_error(record.order_id, 504, "Not connected") is False
    assert record.status is OrderStatus.ERROR
    assert harness.clock.pending_delays == []
    assert harness.events("RETRY") == []


def test_classification_table_spot_checks():
    assert classify(202) is ErrorClass.CANCEL_CONFIRM
    assert classify(2102) is ErrorClass.REQUEST_REJECTED  # a refused modify hiding in the warning range
    assert classify(2104) is ErrorClass.INFO
    assert classify(504) is ErrorClass.RETRYABLE
    assert classify(201, CLOSED_201) is ErrorClass.PERMANENT
    assert classify(-1) is ErrorClass.PERMANENT
    assert classify(123456) is ErrorClass.PERMANENT


# -- the retry machinery --------------------------------------------------------------------------------


def test_retry_delays_back_off_then_give_up(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        delays = []
        for expected in (1.0, 2.0, 4.0):
            assert h.handle_error(record.order_id, 504, "Not connected") is True
            delays.append(harness.clock.pending_delays)
            assert record.status is OrderStatus.ERROR
            # Just before the delay is up nothing has been resent.
            placed = len(harness.placed)
            await harness.advance(expected - 0.01)
            assert len(harness.placed) == placed
            await harness.advance(0.01)
            assert len(harness.placed) == placed + 1
            assert record.status is OrderStatus.SUBMITTED
        assert delays == [[1.0], [2.0], [4.0]]
        assert record.retry_count == 3

        assert h.handle_error(record.order_id, 504, "Not connected") is False
        assert record.status is OrderStatus.ERROR
        assert "gave up after 3 retries" in record.error_message
        assert harness.clock.pending_delays == []
        assert not h.retry_pending(record.order_id)
        assert record not in h.get_active_orders()
        await harness.advance(100)
        assert len(harness.placed) == 4
        assert [e["delay"] for e in harness.events("RETRY")] == [1.0, 2.0, 4.0]
        assert [e["retry_count"] for e in harness.events("RETRY")] == [1, 2, 3]

    asyncio.run(scenario())


def test_retry_settings_are_honoured(make_harness):
    harness = make_harness(max_retries=1, initial_retry_delay=0.5, retry_backoff_factor=3.0)
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        assert h.handle_error(record.order_id, 504, "Not connected") is True
        assert harness.clock.pending_delays == [0.5]
        await harness.advance(0.5)
        assert h.handle_error(record.order_id, 504, "Not connected") is False
        assert record.status is OrderStatus.ERROR and harness.clock.pending_delays == []

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"max_retries": 1.5}, {"max_retries": True}, {"initial_retry_delay": -1},
     {"initial_retry_delay": float("nan")}, {"retry_backoff_factor": float("inf")}, {"duplicate_window": -1}],
)
def test_bad_retry_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        OrderExecutionHandler(**kwargs)


def test_retry_resubmits_only_the_remaining_quantity_as_a_new_attempt(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        first = record.attempts[0]
        assert first.order_ref == record.order_ref + "/1" and first.quantity == 100
        h.handle_fill(record.order_id, 30, 10.0, exec_id="a.01")
        assert h.handle_error(record.order_id, 504, "Not connected") is True
        await harness.advance(1)

        assert harness.placed[-1] == (record.order_id, record.order_ref + "/2", 70)
        assert len(harness.placed) == 2
        assert h.get_order(record.order_id) is record
        assert len(h.get_all_orders()) == 1
        assert len(record.attempts) == 2
        second = record.attempts[1]
        assert second.order_ref == record.order_ref + "/2"
        assert second.quantity == 70
        assert second.order_id and second.order_id != first.order_id
        assert record.broker_order_ids == [first.order_id, second.order_id]
        assert h.find_attempt(second.order_ref) == (record, second)
        assert record.retry_count == 1
        # Thirty shares are filled: the resubmitted order is partially filled, not merely submitted.
        assert record.status is OrderStatus.PARTIALLY_FILLED
        # Written ahead without the broker's id, then the line after the send carries it.
        *_, ahead, resent = harness.events("STATUS_CHANGE")
        assert (ahead["attempt"], ahead["attempt_ref"], ahead.get("broker_order_id")) == (2, second.order_ref, None)
        assert ahead["message"] == "resubmitting 70 (attempt 2)"
        assert (resent["attempt"], resent["attempt_ref"], resent["broker_order_id"]) == (
            2, second.order_ref, second.order_id,
        )
        assert len(harness.events("SUBMISSION")) == 1
        # The new attempt's fills complete the order.
        h.handle_fill(record.order_id, 70, 11.0, exec_id="b.01")
        assert record.status is OrderStatus.FILLED
        assert record.avg_fill_price == pytest.approx((30 * 10.0 + 70 * 11.0) / 100)

    asyncio.run(scenario())


def test_connection_error_from_place_is_retryable(harness):
    h = harness.handler

    async def scenario():
        harness.fail_next = 1
        record = await h.submit_order("AAPL", "BUY", 100)
        assert record is not None
        assert record.status is OrderStatus.ERROR
        assert h.retry_pending(record.order_id)
        assert harness.clock.pending_delays == [1.0]
        (error,) = harness.events("ERROR")
        assert error["error_code"] == 504 and error["retry_scheduled"] is True
        # The attempt was written ahead, and never got a broker order id.
        (ahead,) = harness.events("SUBMISSION")
        assert (ahead["status"], ahead["attempt_ref"], ahead.get("broker_order_id")) == (
            "Pending", record.order_ref + "/1", None,
        )
        await harness.advance(1)
        assert len(harness.placed) == 2
        assert record.status is OrderStatus.SUBMITTED
        assert record.broker_order_ids == [record.attempts[1].order_id]

    asyncio.run(scenario())


def test_connection_errors_every_time_give_up_after_max_retries(harness):
    h = harness.handler

    async def scenario():
        harness.fail_next = 100
        record = await h.submit_order("AAPL", "BUY", 100)
        for delay in (1, 2, 4):
            assert harness.clock.pending_delays == [delay]
            await harness.advance(delay)
        assert len(harness.placed) == 4
        assert record.status is OrderStatus.ERROR
        assert harness.clock.pending_delays == []
        assert [e["delay"] for e in harness.events("RETRY")] == [1.0, 2.0, 4.0]

    asyncio.run(scenario())


def test_unknown_failure_of_place_is_not_retried(harness):
    async def broken(record, attempt):
        raise RuntimeError("something odd")

    h = harness.handler
    h.set_place_function(broken)

    asked: list[int] = []
    h.unknown_event.connect(lambda record: asked.append(record.order_id))

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        # It may have gone out: neither Error nor a retry, but unknown until the broker has asked IB.
        assert record.status is OrderStatus.PENDING and record.error_message.startswith("unknown — reconciling")
        assert harness.clock.pending_delays == []
        assert asked == [record.order_id] and h.placement_unknown() == {record.order_id}
        h.settle_unknown(record.order_id, at_ib=False)
        assert record.status is OrderStatus.ERROR and "IB does not have this order" in record.error_message
        assert h.placement_unknown() == frozenset()

    asyncio.run(scenario())


def test_a_retry_whose_placement_is_unknown_is_pending_and_settles_as_working(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        h.handle_fill(record.order_id, 40, 10.0, exec_id="a.01")
        assert h.handle_error(record.order_id, 504, "Not connected") is True

        async def broken(record, attempt):
            raise RuntimeError("something odd")

        h.set_place_function(broken)
        await harness.advance(1)
        assert record.status is OrderStatus.PARTIALLY_FILLED and record.error_message.startswith("unknown")
        h.settle_unknown(record.order_id, at_ib=True)
        assert record.status is OrderStatus.PARTIALLY_FILLED and record.error_message is None
        notices = [e["message"] for e in harness.events("NOTICE")]
        assert notices[-1] == "IB has the order: it was placed" and notices[-2].startswith("unknown — reconciling")

    asyncio.run(scenario())


def test_no_place_function_fails_the_order(harness):
    harness.handler.set_place_function(None)
    record = asyncio.run(harness.handler.submit_order("AAPL", "BUY", 100))
    assert record.status is OrderStatus.ERROR
    assert harness.clock.pending_delays == []


def test_fill_while_waiting_for_a_retry_cancels_it(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        assert h.handle_error(record.order_id, 504, "Not connected") is True
        assert h.handle_fill(record.order_id, 10, 10.0, exec_id="a.01") is True
        assert record.status is OrderStatus.PARTIALLY_FILLED
        assert not h.retry_pending(record.order_id)
        assert harness.clock.pending_delays == []
        await harness.advance(60)
        assert len(harness.placed) == 1

    asyncio.run(scenario())


def test_submitted_status_while_waiting_for_a_retry_cancels_it(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        assert h.handle_error(record.order_id, 504, "Not connected") is True
        assert h.handle_status(record.order_id, "Submitted") is True
        assert record.status is OrderStatus.SUBMITTED
        assert not h.retry_pending(record.order_id)
        await harness.advance(60)
        assert len(harness.placed) == 1

    asyncio.run(scenario())


def test_request_cancel_while_waiting_for_a_retry_cancels_locally(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        assert h.handle_error(record.order_id, 504, "Not connected") is True
        assert h.request_cancel(record.order_id) is False  # nothing live at the broker to tell
        assert record.status is OrderStatus.CANCELLED
        assert not h.retry_pending(record.order_id)
        await harness.advance(60)
        assert len(harness.placed) == 1
        (event,) = harness.events("CANCELLATION")
        assert event["requested"] is True

    asyncio.run(scenario())


def test_request_cancel_of_a_pending_order_never_sends_it(harness):
    h = harness.handler
    record = h.create_order("AAPL", "BUY", 100)
    assert h.request_cancel(record.order_id) is False
    assert record.status is OrderStatus.CANCELLED
    assert h.request_cancel(record.order_id) is False  # already done
    with pytest.raises(KeyError):
        h.request_cancel(12345)


def test_cancel_all_retries(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        h.handle_error(record.order_id, 504, "Not connected")
        h.cancel_all_retries()
        assert harness.clock.pending_delays == []
        await harness.advance(10)
        assert len(harness.placed) == 1

    asyncio.run(scenario())


def test_cancel_confirmed_twice_is_logged_once(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    statuses = []
    h.register_status_callback(lambda r: statuses.append(r.status))
    h.request_cancel(record.order_id)
    # IB confirms a cancel with an orderStatus Cancelled and an error 202, in either order.
    assert h.handle_status(record.order_id, "Cancelled") is True
    h.handle_error(record.order_id, 202, "Order Canceled - reason:")
    assert record.status is OrderStatus.CANCELLED
    assert len(harness.events("CANCELLATION")) == 1
    assert statuses == [OrderStatus.CANCELLED]

    other = harness.submit("MSFT", "BUY", 100)
    h.handle_error(other.order_id, 202, "Order Canceled - reason:")
    assert h.handle_status(other.order_id, "Cancelled") is False
    assert len(harness.events("CANCELLATION", order_id=other.order_id)) == 1


def test_submitted_status_for_a_partly_filled_order_waiting_for_retry_keeps_partial(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        h.handle_fill(record.order_id, 40, 10.0, exec_id="a.01")
        assert h.handle_error(record.order_id, 504, "Not connected") is True
        assert h.handle_status(record.order_id, "Submitted") is True
        assert record.status is OrderStatus.PARTIALLY_FILLED
        assert not h.retry_pending(record.order_id)
        await harness.advance(10)
        assert len(harness.placed) == 1

    asyncio.run(scenario())


def test_202_after_a_reject_keeps_the_reject(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    h.handle_error(record.order_id, 201, FUNDS_201)
    h.handle_error(record.order_id, 202, "Order Canceled - reason:")
    h.handle_status(record.order_id, "Cancelled")
    assert record.status is OrderStatus.ERROR
    assert record.error_message == FUNDS_201
    assert harness.events("CANCELLATION") == []


def test_202_while_waiting_for_a_retry_does_not_stop_it(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        h.handle_error(record.order_id, 504, "Not connected")
        h.handle_error(record.order_id, 202, "Order Canceled - reason:")  # about nothing IB holds
        assert record.status is OrderStatus.ERROR and h.retry_pending(record.order_id)
        await harness.advance(1)
        assert len(harness.placed) == 2 and record.status is OrderStatus.SUBMITTED

    asyncio.run(scenario())
