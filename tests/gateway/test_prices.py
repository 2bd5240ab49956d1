"""Prices and numbers on the wire: parsed strictly as TWS writes them, and an order with a price that is not
finite, not positive where it must be, or absurdly large is refused with an error for that order id.

Before, a limit of 1e308 overflowed in the tick check and the error went out with reqId -1, leaving the
Trade PendingSubmit forever; '1_000' was read as 1000 and 1e-320 counted as "on tick".
"""

from __future__ import annotations

import math
import string

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ib_insync import LimitOrder, StopOrder

from ibticket.gateway import GatewayConfig, GatewayThread, PaperGateway
from ibticket.gateway.protocol import UNSET_DOUBLE
from ibticket.gateway.requests import MalformedRequest, parse_float, parse_int

from .helpers import ErrorLog, connect, qualified, run_gateway_test, wait_for, wait_status
from .rawclient import LMT_PRICE_FIELD, RawPeer, frame, place_order_fields

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])
NON_ASCII_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: c not in string.digits)


# --- the live gateway, through ib_insync ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("order", "code", "words"),
    [
        (LimitOrder("BUY", 1, 1e308), 321, "out of range"),
        (LimitOrder("SELL", 1, 2e7), 321, "out of range"),
        (StopOrder("SELL", 1, 1e300), 321, "out of range"),
        (LimitOrder("BUY", 1, 1e-320), 110, "minimum price variation"),
        (LimitOrder("BUY", 1, 0.001), 110, "minimum price variation"),
        (LimitOrder("BUY", 1, -5.0), 321, "positive"),
    ],
    ids=["limit-1e308", "limit-2e7", "stop-1e300", "limit-1e-320", "below-one-tick", "negative"],
)
def test_an_order_with_an_impossible_price_gets_an_error_for_its_order_id(order, code, words):
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        trade = ib.placeOrder(contract, order)
        await wait_for(lambda: errors.items, what="the order's error")
        ((req_id, got, text),) = errors.items
        assert (req_id, got) == (trade.order.orderId, code)
        assert words in text
        if code != 110:  # ib_insync treats 110 as a warning and leaves the Trade alone
            await wait_status(trade, "Cancelled")
        assert gw.orders() == []
        ib.disconnect()

    run_gateway_test(body)


def test_a_modify_to_an_absurd_price_is_refused_and_the_order_keeps_working():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 150.0)
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        trade = ib.placeOrder(contract, LimitOrder("BUY", 1, 100.0))
        await wait_status(trade, "Submitted")
        trade.order.lmtPrice = 1e308
        ib.placeOrder(contract, trade.order)
        await wait_for(lambda: errors.items, what="the modify's error")
        assert [(rid, code) for rid, code, _ in errors.items] == [(trade.order.orderId, 321)]
        assert [o.lmt_price for o in gw.orders()] == [100.0]
        ib.disconnect()

    run_gateway_test(body)


# --- the live gateway, raw -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trader():
    """One gateway and one raw client for the module; the client places orders with hand-written prices."""
    with GatewayThread(GatewayConfig(tick_interval=None)) as gw:
        gw.set_price("AAPL", 150.0)
        peer = RawPeer(gw.port)
        peer.handshake(11)
        peer.drain()
        try:
            yield gw, peer, iter(range(1, 1 << 30))
        finally:
            peer.close()


def _answer(peer: RawPeer, order_id: int) -> list[str]:
    """The gateway's answer to an order: its openOrder (accepted) or an error. Fails on an error for
    reqId -1 (the order would stay PendingSubmit) or on no answer at all. Late answers to the previous
    order's cancel are skipped."""
    while True:
        fields = peer.read_frame(3.0)
        assert fields is not None, "no answer to the order"
        if fields[0] == "4":
            assert fields[2] != "-1", f"an order's error without its order id: {fields}"
            if fields[2] == str(order_id):
                return fields
        if fields[0] == "5" and fields[1] == str(order_id):
            return fields


def _place(gw: GatewayThread, peer: RawPeer, order_id: int, price_text: str) -> list[str]:
    fields = place_order_fields(order_id, LimitOrder("SELL", 1, 150.0))
    fields[LMT_PRICE_FIELD] = price_text
    peer.send(frame(fields))
    answer = _answer(peer, order_id)
    peer.send(frame(["4", "1", str(order_id)]))  # cancel, so that orders do not pile up
    peer.drain(quiet=0.01)
    return answer


@pytest.mark.parametrize(
    "text",
    ["1_000", "\u0661\u0665\u0660", "\uff11\uff15\uff10", "150\u00a0", " 150", "150 ", "nan", "NaN", "inf", "-inf",
     "Infinity", "Infinite", "0x96", "1e-320", "1e999", "+", "1.5.0", "", "1e308"],
)
def test_a_price_the_wire_never_carries_is_refused_for_its_order(trader, text):
    gw, peer, ids = trader
    order_id = next(ids)
    answer = _place(gw, peer, order_id, text)
    assert answer[0] == "4", f"{text!r} was accepted as {answer}"
    assert answer[3] in ("110", "320", "321")
    assert "internal error" not in answer[4]


@FUZZ
@given(price=st.one_of(st.floats(), st.floats(-1e-300, 1e-300), st.floats(1e6, 1e309)).map(repr))
def test_any_float_price_is_accepted_or_refused_for_its_order_never_with_an_internal_error(trader, price):
    gw, peer, ids = trader
    order_id = next(ids)
    answer = _place(gw, peer, order_id, price)
    if answer[0] == "4":
        assert answer[3] in ("110", "201", "320", "321") and "internal error" not in answer[4]
    else:
        value = float(price)
        assert 0.01 <= value <= 1e7 and math.isclose(round(value * 100), value * 100, abs_tol=1e-6)


@FUZZ
@given(text=st.text(max_size=12))
def test_any_price_text_is_accepted_only_as_an_ascii_number(trader, text):
    gw, peer, ids = trader
    order_id = next(ids)
    text = text.replace("\0", "")
    answer = _place(gw, peer, order_id, text)
    if answer[0] == "5":
        assert text.isascii() and text.strip() == text and "_" not in text and float(text) > 0
    else:
        assert "internal error" not in answer[4]


# --- the parsers alone -----------------------------------------------------------------------------
@FUZZ
@given(st.integers(-(2**63), 2**63 - 1))
def test_integers_read_back_exactly(n):
    assert parse_int(str(n), "n") == n


@FUZZ
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_read_back_exactly_as_python_and_java_write_them(x):
    assume(x != UNSET_DOUBLE)  # TWS's "unset", read as None
    assert parse_float(repr(x), "x") == x
    assert parse_float(f"{x:E}", "x") == float(f"{x:E}")


@FUZZ
@given(st.text(min_size=1, max_size=6, alphabet=NON_ASCII_DIGITS), st.text(max_size=3, alphabet=string.digits))
def test_non_ascii_digits_are_not_numbers(digits, ascii_digits):
    for text in (digits, ascii_digits + digits, digits + ascii_digits):
        with pytest.raises(MalformedRequest):
            parse_int(text, "n")
        with pytest.raises(MalformedRequest):
            parse_float(text, "x")


@FUZZ
@given(st.text(max_size=16))
def test_parsers_accept_only_ascii_decimal_numbers(text):
    for parse in (parse_int, parse_float):
        try:
            value = parse(text, "field")
        except MalformedRequest:
            continue
        assert text.isascii() and "_" not in text and text.strip() == text
        assert value is None or not isinstance(value, float) or not math.isnan(value)


@pytest.mark.parametrize("text", ["1_000", "nan", "NaN", "inf", "-inf", "infinity", " 1", "1 ", "0x10", "1e", "."])
def test_what_python_would_read_is_not_a_wire_number(text):
    with pytest.raises(MalformedRequest):
        parse_float(text, "x")
    with pytest.raises(MalformedRequest):
        parse_int(text, "n")


def test_wire_spellings_that_are_numbers():
    assert parse_float("", "x") is None
    assert parse_float("1.7976931348623157E308", "x") is None  # TWS's "unset"
    assert parse_float("Infinite", "x") == math.inf  # ib_insync's spelling; validation refuses it as a price
    assert parse_float("150", "x") == 150.0 and parse_float("-0.5", "x") == -0.5 and parse_float(".5", "x") == 0.5
    assert parse_float("1e-320", "x") == 1e-320  # a number, but not on any tick (validation's business)
    assert parse_int("", "n") == 0 and parse_int("-1", "n") == -1 and parse_int("3.0", "n") == 3
    with pytest.raises(MalformedRequest):
        parse_int("3.5", "n")
    with pytest.raises(MalformedRequest):
        parse_int("9" * 30, "n")
