"""Robustness: malformed frames, bad lengths, non-numeric fields, truncated messages, random bytes and
wrong handshakes get an error or a closed connection, never a crashed or hung server; a well-behaved
client connected alongside keeps working."""

from __future__ import annotations

import contextlib
import struct
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ibticket.gateway import GatewayConfig, GatewayThread
from ibticket.gateway.protocol import ProtocolError, parse_hello, split_fields
from ibticket.gateway.requests import (
    MalformedRequest,
    parse_cancel_order,
    parse_place_order,
    parse_req_contract_details,
    parse_req_executions,
    parse_req_mkt_data,
)

from .rawclient import MAX_FRAME, RawPeer, frame
from .test_ibapi_client import Recorder, has

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
GOOD_CLIENT_ID = 42

field_text = st.one_of(
    st.text(max_size=12),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "0", "1", "-1", "2147483647", "1.7976931348623157E308", "Infinite", "nan", "BUY",
                     "SELL", "STK", "SMART", "USD", "AAPL", "LMT", "MKT", "STP LMT", "IOC", "BAG", "v176"]),
)
known_ids = st.sampled_from(["1", "2", "3", "4", "5", "6", "7", "8", "9", "15", "16", "17", "49", "58", "59",
                             "61", "62", "63", "64", "71", "76", "77", "81", "91", "92", "93", "99"])
message = st.tuples(st.one_of(known_ids, field_text), st.lists(field_text, max_size=60)).map(
    lambda t: [t[0], *t[1]])


@pytest.fixture(scope="module")
def served():
    """One gateway for the module, with an ibapi client that must survive everything."""
    with GatewayThread(GatewayConfig(tick_interval=0.05, handshake_timeout=0.5)) as gw:
        good = Recorder()
        good.connect("127.0.0.1", gw.port, clientId=GOOD_CLIENT_ID)
        runner = threading.Thread(target=good.run, daemon=True)
        runner.start()
        good.wait(has("nextValidId"), what="good client connect")
        try:
            yield gw, good
        finally:
            good.disconnect()
            runner.join(5)


def assert_still_serving(gw: GatewayThread, good: Recorder) -> None:
    before = len(good.named("currentTime"))
    good.reqCurrentTime()
    good.wait(lambda events: len([e for e in events if e[0] == "currentTime"]) > before, timeout=3,
              what="the well-behaved client's answer")
    deadline = time.monotonic() + 3
    while gw.connected_client_ids() != [GOOD_CLIENT_ID]:
        assert time.monotonic() < deadline, f"leaked sessions: {gw.connected_client_ids()}"
        time.sleep(0.01)


# --- the parsers alone ---------------------------------------------------------------------------------
@FUZZ
@given(st.lists(field_text, max_size=130))
def test_request_parsers_raise_only_malformed_request(fields):
    for parse in (parse_place_order, parse_cancel_order, parse_req_contract_details, parse_req_mkt_data,
                  parse_req_executions):
        with contextlib.suppress(MalformedRequest):
            parse(["0", *fields])


@FUZZ
@given(st.binary(max_size=64))
def test_frame_and_hello_parsers_raise_only_protocol_errors(data):
    assert isinstance(split_fields(data), list)
    try:
        low, high, _ = parse_hello(data)
        assert low <= high
    except ProtocolError:
        pass


# --- the live server -----------------------------------------------------------------------------------
@FUZZ
@given(messages=st.lists(message, min_size=1, max_size=8), client_id=st.integers(1000, 10**6))
def test_random_requests_after_a_valid_handshake(served, messages, client_id):
    gw, good = served
    peer = RawPeer(gw.port)
    try:
        peer.handshake(client_id)
        for fields in messages:
            peer.send(frame(fields))
        peer.drain(quiet=0.02)
    finally:
        peer.close()
    assert_still_serving(gw, good)


@FUZZ
@given(data=st.binary(min_size=1, max_size=300), after_handshake=st.booleans())
def test_random_bytes(served, data, after_handshake):
    gw, good = served
    peer = RawPeer(gw.port)
    try:
        if after_handshake:
            peer.handshake(5000)
        peer.send(data)
        peer.drain(quiet=0.02)
    finally:
        peer.close()
    assert_still_serving(gw, good)


@FUZZ
@given(hello=st.one_of(st.binary(max_size=40), st.from_regex(r"v\d{1,4}(\.\.\d{1,4})?( \+[A-Z]{0,8})?",
                                                                 fullmatch=True).map(str.encode)))
def test_wrong_handshakes(served, hello):
    gw, good = served
    peer = RawPeer(gw.port)
    try:
        peer.send(b"API\0" + struct.pack(">I", len(hello)) + hello)
        frames = peer.drain(quiet=0.05)
    finally:
        peer.close()
    try:
        low, high, _ = parse_hello(hello)
        servable = low <= 176 <= high
    except ProtocolError:
        servable = False
    if servable:
        assert frames and frames[0][0] == "176"
    else:
        assert all(len(f) != 2 for f in frames)
    assert_still_serving(gw, good)


@settings(max_examples=20, deadline=None)
@given(size=st.integers(MAX_FRAME + 1, 2**32 - 1))
def test_oversized_frame_closes_the_connection(served, size):
    gw, good = served
    peer = RawPeer(gw.port)
    try:
        peer.handshake(6000)
        peer.drain(quiet=0.02)
        peer.send(struct.pack(">I", size) + b"x" * 16)
        frames = peer.drain(quiet=0.2)
        assert peer.closed_by_server
        assert frames and frames[-1][:4] == ["4", "2", "-1", "320"] and "exceeds" in frames[-1][4]
    finally:
        peer.close()
    assert_still_serving(gw, good)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        (["abc"], "320"),  # non-numeric message id
        (["12345"], "321"),  # unknown message id
        ([], "320"),  # empty frame
        (["3", "77", "265598"], "320"),  # truncated placeOrder
        (["9", "8", "not-a-number"], "320"),  # non-numeric reqId
        (["1", "11", "5", "x"], "320"),  # non-numeric conId
    ],
)
def test_malformed_messages_get_an_error_and_the_session_continues(served, fields, code):
    gw, good = served
    peer = RawPeer(gw.port)
    try:
        peer.handshake(7000)
        peer.drain(quiet=0.05)
        peer.send(frame(fields) if fields else struct.pack(">I", 0))
        (error,) = peer.drain(quiet=0.1)
        assert error[0] == "4" and error[3] == code
        peer.send(frame(["49", "1"]))  # reqCurrentTime still answered on the same connection
        (answer,) = peer.drain(quiet=0.1)
        assert answer[0] == "49"
    finally:
        peer.close()
    assert_still_serving(gw, good)


def test_a_silent_peer_is_disconnected_after_the_handshake_timeout(served):
    gw, good = served
    peer = RawPeer(gw.port)
    try:
        started = time.monotonic()
        assert peer.read_frame(3.0) is None
        assert peer.closed_by_server
        assert 0.3 < time.monotonic() - started < 2.5
    finally:
        peer.close()
    assert_still_serving(gw, good)
