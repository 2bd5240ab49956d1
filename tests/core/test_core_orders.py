"""Creating orders: duplicate guard, validation (with a fuzz), callbacks and the order queries."""

from __future__ import annotations

import asyncio
import logging
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ibticket.core import ManualClock, OrderExecutionHandler, OrderRecord, OrderStatus, OrderValidationError

# -- duplicates -----------------------------------------------------------------------------------------


def test_same_order_inside_the_window_is_refused(harness):
    h = harness.handler
    first = h.create_order("AAPL", "BUY", 100, "LIMIT", 150.0)
    assert first is not None and h.last_refusal is None
    harness.clock.advance(30)
    assert h.create_order("aapl", "buy", 100, "LMT", 150.0) is None  # same trade, spelt differently
    assert "Duplicate" in h.last_refusal and f"#{first.order_id}" in h.last_refusal
    assert "force=True" in h.last_refusal
    assert h.get_all_orders() == [first]


def test_refused_duplicate_is_never_placed(harness):
    harness.submit("AAPL", "BUY", 100)
    assert asyncio.run(harness.handler.submit_order("AAPL", "BUY", 100)) is None
    assert len(harness.placed) == 1
    assert len(harness.events("SUBMISSION")) == 1


@pytest.mark.parametrize(
    "changed",
    [
        {"limit_price": 150.01},
        {"quantity": 101},
        {"action": "SELL"},
        {"symbol": "MSFT"},
        {"order_type": "STOP_LIMIT", "stop_price": 149.0},
    ],
)
def test_a_different_trade_is_allowed(harness, changed):
    h = harness.handler
    base = {"symbol": "AAPL", "action": "BUY", "quantity": 100, "order_type": "LIMIT", "limit_price": 150.0}
    assert h.create_order(**base) is not None
    assert h.create_order(**base) is None  # control: the unchanged order is a duplicate
    assert h.create_order(**{**base, **changed}) is not None
    assert h.last_refusal is None
    assert len(h.get_all_orders()) == 2


def test_same_order_after_the_window_is_allowed(harness):
    h = harness.handler
    assert h.create_order("AAPL", "BUY", 100) is not None
    harness.clock.advance(59.9)
    assert h.create_order("AAPL", "BUY", 100) is None
    harness.clock.advance(0.1)
    assert h.create_order("AAPL", "BUY", 100) is not None
    assert h.last_refusal is None


def test_force_sends_a_duplicate(harness):
    h = harness.handler
    first = h.create_order("AAPL", "BUY", 100)
    assert h.create_order("AAPL", "BUY", 100) is None
    second = h.create_order("AAPL", "BUY", 100, force=True)
    assert second is not None and second.order_id != first.order_id
    assert h.last_refusal is None


def test_duplicate_window_is_configurable(make_harness):
    harness = make_harness(duplicate_window=5)
    h = harness.handler
    assert h.create_order("AAPL", "BUY", 100) is not None
    harness.clock.advance(4.9)
    assert h.create_order("AAPL", "BUY", 100) is None
    harness.clock.advance(0.1)
    assert h.create_order("AAPL", "BUY", 100) is not None


def test_zero_window_never_refuses(make_harness):
    h = make_harness(duplicate_window=0).handler
    assert h.create_order("AAPL", "BUY", 100) is not None
    assert h.create_order("AAPL", "BUY", 100) is not None


def test_cancelled_unfilled_order_releases_its_key(harness):
    h = harness.handler
    first = harness.submit("AAPL", "BUY", 100)
    h.handle_status(first.order_id, "Cancelled")
    assert h.create_order("AAPL", "BUY", 100) is not None


def test_cancelled_partly_filled_order_keeps_its_key(harness):
    h = harness.handler
    first = harness.submit("AAPL", "BUY", 100)
    h.handle_fill(first.order_id, 10, 1.0, exec_id="a.01")
    h.handle_status(first.order_id, "Cancelled")
    assert h.create_order("AAPL", "BUY", 100) is None


def test_permanently_rejected_unfilled_order_releases_its_key(harness):
    h = harness.handler
    first = harness.submit("AAPL", "BUY", 100)
    h.handle_error(first.order_id, 201, "Order rejected - reason:Exchange is closed.")
    assert h.create_order("AAPL", "BUY", 100) is not None


# -- validation -----------------------------------------------------------------------------------------

VALID = {"symbol": "AAPL", "action": "BUY", "quantity": 100}

INVALID = [
    ({"symbol": ""}, "Symbol"),
    ({"symbol": "   "}, "Symbol"),
    ({"symbol": None}, "Symbol"),
    ({"symbol": "AAPL!"}, "symbol"),
    ({"symbol": "1ABC"}, "symbol"),
    ({"symbol": "ABCDEFGHIJKLMN"}, "symbol"),
    ({"action": "HOLD"}, "Side"),
    ({"action": ""}, "Side"),
    ({"action": None}, "Side"),
    ({"quantity": 0}, "at least 1"),
    ({"quantity": -1}, "at least 1"),
    ({"quantity": 1.5}, "whole"),
    ({"quantity": math.nan}, "finite"),
    ({"quantity": math.inf}, "finite"),
    ({"quantity": True}, "whole number"),
    ({"quantity": "10"}, "whole number"),
    ({"quantity": None}, "whole number"),
    ({"quantity": 10**9}, "limit"),
    ({"quantity": 10**400}, "Quantity"),
    ({"order_type": "LIMIT"}, "needs a limit price"),
    ({"order_type": "LIMIT", "limit_price": -1.0}, "above zero"),
    ({"order_type": "LIMIT", "limit_price": 0}, "above zero"),
    ({"order_type": "LIMIT", "limit_price": math.nan}, "finite"),
    ({"order_type": "LIMIT", "limit_price": math.inf}, "finite"),
    ({"order_type": "LIMIT", "limit_price": "150"}, "number"),
    ({"order_type": "LIMIT", "limit_price": 10**400}, "Limit price"),
    # Finite, but 100 shares of it are not: the log reader would skip such a line and lose the order.
    ({"order_type": "LIMIT", "limit_price": 1e300}, "Limit price 1e+300 is beyond any real price"),
    ({"order_type": "STOP", "stop_price": 2e12}, "Stop price 2e+12 is beyond any real price"),
    ({"order_type": "MARKET", "limit_price": 150.0}, "takes no limit price"),
    ({"order_type": "MARKET", "stop_price": 150.0}, "takes no stop price"),
    ({"order_type": "STOP"}, "needs a stop price"),
    ({"order_type": "STOP", "stop_price": -3}, "above zero"),
    ({"order_type": "STOP_LIMIT", "limit_price": 10.0}, "needs a stop price"),
    ({"order_type": "TRAIL"}, "Order type"),
    ({"order_type": None}, "Order type"),
    ({"tif": "FOREVER"}, "Time in force"),
    ({"tif": None}, "Time in force"),
    ({"outside_rth": "yes"}, "trading hours"),
]


@pytest.mark.parametrize(("bad", "words"), INVALID, ids=[repr(b)[:40] for b, _ in INVALID])
def test_invalid_order_is_refused_with_a_readable_message_and_nothing_registered(harness, bad, words):
    h = harness.handler
    existing = h.create_order("MSFT", "SELL", 1)
    log_before = harness.log_file.read_bytes() if harness.log_file.exists() else b""
    with pytest.raises(OrderValidationError) as caught:
        h.create_order(**{**VALID, **bad})
    message = str(caught.value)
    assert words.lower() in message.lower()
    assert message.strip() and "Traceback" not in message and len(message) < 200
    assert h.get_all_orders() == [existing]
    assert (harness.log_file.read_bytes() if harness.log_file.exists() else b"") == log_before
    # No order id was used up, and a refusal is not mistaken for a duplicate.
    nxt = h.create_order("AAPL", "BUY", 100)
    assert nxt is not None and nxt.order_id == existing.order_id + 1


def test_invalid_order_through_submit_is_never_placed(harness):
    with pytest.raises(OrderValidationError):
        asyncio.run(harness.handler.submit_order("AAPL", "BUY", 0))
    assert harness.placed == []
    assert not harness.log_file.exists() or harness.events() == []


def test_valid_order_is_normalised(harness):
    record = harness.handler.create_order(" aapl ", "sell", 10.0, "stp lmt", 99, 100, "gtc", True)
    assert (record.symbol, record.action, record.total_quantity, record.order_type) == (
        "AAPL", "SELL", 10, "STOP_LIMIT",
    )
    assert isinstance(record.total_quantity, int)
    assert (record.limit_price, record.stop_price, record.tif, record.outside_rth) == (99.0, 100.0, "GTC", True)
    assert record.status is OrderStatus.PENDING
    assert record.order_ref.endswith(f"-{record.order_id}")
    assert record.submission_time is not None


_anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**309, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=15), st.binary(max_size=5),
    st.lists(st.integers(), max_size=2),
)


def _mostly(valid):
    """Mostly sensible values (4 in 5), so the fuzz gets past the first check and reaches the later ones.
    (``one_of`` would flatten ``_anything`` into many equal branches and drown the sensible ones.)"""
    return st.integers(0, 4).flatmap(lambda pick: _anything if pick == 0 else valid)


_price = st.one_of(st.none(), st.floats(min_value=-10, max_value=1e6),
                   st.integers(min_value=-5, max_value=10**6), st.integers(min_value=10**309, max_value=10**400))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    symbol=_mostly(st.sampled_from(["AAPL", "brk.b", "X", " msft "])),
    action=_mostly(st.sampled_from(["BUY", "sell", "Buy "])),
    quantity=_mostly(st.one_of(st.integers(min_value=-5, max_value=20_000_000),
                               st.integers(min_value=10**309, max_value=10**400),
                               st.floats(min_value=-5, max_value=1e8))),
    order_type=_mostly(st.sampled_from(["MARKET", "LIMIT", "STOP", "STOP_LIMIT", "MKT", "lmt", "stp lmt"])),
    limit_price=_mostly(_price),
    stop_price=_mostly(_price),
    tif=_mostly(st.sampled_from(["DAY", "GTC", "IOC", "day"])),
    outside_rth=_mostly(st.booleans()),
)
def test_create_order_returns_a_record_or_raises_validation_error(
    symbol, action, quantity, order_type, limit_price, stop_price, tif, outside_rth
):
    handler = OrderExecutionHandler(clock=ManualClock())
    try:
        record = handler.create_order(symbol, action, quantity, order_type, limit_price, stop_price, tif,
                                      outside_rth, force=True)
    except OrderValidationError as exc:
        assert str(exc)
        assert handler.get_all_orders() == []
        return
    assert isinstance(record, OrderRecord)
    assert handler.get_all_orders() == [record]
    # What got through is a sendable order.
    assert isinstance(record.total_quantity, int) and not isinstance(record.total_quantity, bool)
    assert 1 <= record.total_quantity <= 10_000_000
    assert record.action in ("BUY", "SELL")
    assert record.symbol == record.symbol.strip().upper() and record.symbol
    assert record.tif in ("DAY", "GTC", "IOC")
    assert isinstance(record.outside_rth, bool)
    for price, needed in ((record.limit_price, record.order_type in ("LIMIT", "STOP_LIMIT")),
                          (record.stop_price, record.order_type in ("STOP", "STOP_LIMIT"))):
        if needed:
            assert isinstance(price, float) and math.isfinite(price) and price > 0
        else:
            assert price is None


# -- callbacks ------------------------------------------------------------------------------------------


def test_register_and_unregister_callbacks(harness):
    h = harness.handler
    calls = []

    def on_fill(r):
        calls.append(("fill", r.order_id))

    def on_status(r):
        calls.append(("status", r.status))

    def on_error(r, msg):
        calls.append(("error", msg))

    h.register_fill_callback(on_fill)
    h.register_status_callback(on_status)
    h.register_error_callback(on_error)
    record = harness.submit("AAPL", "BUY", 100)
    h.handle_fill(record.order_id, 10, 1.0, exec_id="a.01")
    h.handle_error(record.order_id, 105, "Order being modified does not match original order")
    assert calls == [
        ("status", OrderStatus.SUBMITTED),
        ("status", OrderStatus.PARTIALLY_FILLED),
        ("fill", record.order_id),
        ("error", "Order being modified does not match original order"),
    ]

    h.unregister_fill_callback(on_fill)
    h.unregister_status_callback(on_status)
    h.unregister_error_callback(on_error)
    h.unregister_error_callback(on_error)  # unregistering twice is harmless
    calls.clear()
    h.handle_fill(record.order_id, 90, 1.0, exec_id="b.01")
    h.handle_error(record.order_id, 104, "Can't modify a filled order")
    assert calls == []


@pytest.mark.parametrize("kind", ["fill", "status", "error"])
def test_raising_callback_is_logged_and_the_next_one_still_runs(harness, caplog, kind):
    h = harness.handler
    after = []

    def broken(*args):
        raise RuntimeError(f"broken {kind} callback")

    register = getattr(h, f"register_{kind}_callback")
    register(broken)
    register(lambda *args: after.append(args[0].order_id))
    record = h.create_order("AAPL", "BUY", 100)
    with caplog.at_level(logging.ERROR, logger="ibticket.core.handler"):
        if kind == "error":
            h.handle_error(record.order_id, 200, "No security definition")
        else:
            h.handle_fill(record.order_id, 10, 1.0, exec_id="a.01")
    assert after == [record.order_id]
    raised = [r for r in caplog.records if r.exc_info and f"broken {kind} callback" in str(r.exc_info[1])]
    assert len(raised) == 1
    # The order itself was still updated.
    assert record.status in (OrderStatus.PARTIALLY_FILLED, OrderStatus.ERROR)


# -- queries --------------------------------------------------------------------------------------------


def test_get_order_and_get_all_orders(harness):
    h = harness.handler
    a = h.create_order("AAPL", "BUY", 1)
    b = h.create_order("MSFT", "BUY", 1)
    assert h.get_order(a.order_id) is a
    assert h.get_order(b.order_id) is b
    assert h.get_order(999) is None
    assert h.get_all_orders() == [a, b]
    # The list is a copy: changing it does not change the handler.
    h.get_all_orders().clear()
    assert h.get_all_orders() == [a, b]
    assert b.order_id == a.order_id + 1


def test_get_active_orders(harness):
    h = harness.handler
    pending = h.create_order("A", "BUY", 10)
    submitted = harness.submit("B", "BUY", 10)
    partial = harness.submit("C", "BUY", 10)
    h.handle_fill(partial.order_id, 5, 1.0, exec_id="c.01")
    filled = harness.submit("D", "BUY", 10)
    h.handle_fill(filled.order_id, 10, 1.0, exec_id="d.01")
    cancelled = harness.submit("E", "BUY", 10)
    h.handle_status(cancelled.order_id, "Cancelled")
    retrying = harness.submit("F", "BUY", 10)
    h.handle_error(retrying.order_id, 504, "Not connected")
    failed = harness.submit("G", "BUY", 10)
    h.handle_error(failed.order_id, 203, "The security is not available or allowed for this account")
    assert retrying.status is OrderStatus.ERROR and failed.status is OrderStatus.ERROR

    active = h.get_active_orders()
    assert {r.order_id for r in active} == {
        pending.order_id, submitted.order_id, partial.order_id, retrying.order_id,
    }
    assert len(h.get_all_orders()) == 7


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"limit_price": float("nan")}, "finite"),
        ({"limit_price": -1.0}, "above zero"),
        ({"stop_price": float("inf")}, "finite"),
        ({"total_quantity": 2.5}, "whole shares"),
        ({"total_quantity": 0}, "at least 1 share"),
    ],
)
def test_amend_refuses_bad_numbers_and_changes_nothing(harness, change, message):
    record = harness.submit("AAPL", "BUY", 100, "LIMIT", 150.0)
    assert harness.handler.amend(record.order_id, limit_price=151.0) is True  # a good change applies
    before = record.to_dict()
    lines = len(harness.events())
    with pytest.raises(OrderValidationError, match=message):
        harness.handler.amend(record.order_id, **change)
    assert record.to_dict() == before
    assert len(harness.events()) == lines
