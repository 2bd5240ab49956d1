"""The network limits: one hostile or broken client can neither grow the gateway nor starve the others.

Bounds are asserted through the gateway's own counters (PaperGateway.network_stats()), never through
memory or timing measurements of the process.
"""

from __future__ import annotations

import asyncio
import struct
import threading
import time

import pytest
from ib_insync import IB, LimitOrder, MarketOrder

from ibticket.gateway import GatewayConfig, GatewayThread
from ibticket.gateway.netstats import NetworkStats
from ibticket.gateway.session import REQUESTS_PER_TURN

from .helpers import qualified, wait_status
from .rawclient import RawPeer, frame, place_order_fields, req_executions

CAP = 1 << 20
# The most one request or one loop turn may add above the cap before reading stops: a few replies' worth.
SLACK = 512 << 10


def _stats(gw: GatewayThread) -> NetworkStats:
    return gw.call(gw.gateway.network_stats)


def _until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _hostile_trader(gw: GatewayThread, client_id: int, executions: int) -> RawPeer:
    """A raw client that buys `executions` shares in as many executions and then never reads again."""
    peer = RawPeer(gw.port, timeout=20.0)
    peer.handshake(client_id)
    before = len(gw.executions())
    peer.send(frame(place_order_fields(1, MarketOrder("BUY", executions))))
    _until(lambda: len(gw.executions()) == before + executions, 5.0, "the hostile client's fill")
    return peer


def _flood(peer: RawPeer, requests: int) -> threading.Thread:
    # One write, as in the report; it blocks once the gateway stops reading, hence the thread.
    sender = threading.Thread(target=peer.send, args=(b"".join(req_executions(i) for i in range(requests)),),
                              daemon=True)
    sender.start()
    return sender


async def _keeps_trading(port: int, orders: int) -> None:
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=2, timeout=5)
    try:
        contract = await qualified(ib, "MSFT")
        for n in range(orders):
            trade = ib.placeOrder(contract, LimitOrder("BUY", 1, 100.0 + n / 100))
            await wait_status(trade, "Submitted", timeout=3.0)
    finally:
        ib.disconnect()


def test_a_client_flooding_requests_without_reading_is_bounded_and_cut_and_the_others_keep_trading():
    executions, requests = 100, 3000  # unbounded, that is ~70 MB of replies queued for one client
    config = GatewayConfig(tick_interval=None, partial_fills=executions, max_write_buffer=CAP,
                           slow_reader_timeout=1.0)
    with GatewayThread(config) as gw:
        gw.set_price("AAPL", 150.0)
        gw.set_price("MSFT", 400.0)
        hostile = _hostile_trader(gw, 66, executions)
        sender = _flood(hostile, requests)
        try:
            asyncio.run(asyncio.wait_for(_keeps_trading(gw.port, 10), 20.0))
            _until(lambda: 66 not in gw.connected_client_ids(), 10.0, "the flooding client's disconnect")
            stats = _stats(gw)
        finally:
            hostile.close()
            sender.join(5)
    assert stats.slow_readers_cut == 1
    assert stats.peak_queued_bytes <= CAP + SLACK, f"{stats.peak_queued_bytes >> 10} KiB queued for one client"
    # it stopped reading the flood once over the cap instead of answering all of it
    assert stats.requests < requests


def test_a_client_gets_a_bounded_number_of_requests_handled_per_loop_turn():
    with GatewayThread(GatewayConfig(tick_interval=None)) as gw:
        per_turn: list[int] = []

        def sample(last: list[int]) -> None:
            # Runs once per event-loop turn, as long as the gateway is busy with the burst.
            now = gw.gateway.stats.requests
            per_turn.append(now - last[0])
            last[0] = now
            if len(per_turn) < 10_000 and sum(per_turn) < 2000:
                asyncio.get_running_loop().call_soon(sample, last)

        peer = RawPeer(gw.port)
        try:
            peer.handshake(7)
            peer.drain()
            gw.call(lambda: sample([gw.gateway.stats.requests]))
            peer.send(frame(["49", "1"]) * 2000)  # reqCurrentTime, pipelined in one write
            answers = 0
            while answers < 2000 and (reply := peer.read_frame(5.0)) is not None:
                answers += reply[0] == "49"
        finally:
            peer.close()
    assert answers == 2000
    assert max(per_turn) <= REQUESTS_PER_TURN


# --- connections -----------------------------------------------------------------------------------
def _hello(peer: RawPeer) -> None:
    hello = b"v157..176"
    peer.send(b"API\0" + struct.pack(">I", len(hello)) + hello)


def test_connection_33_is_refused_with_an_error_the_client_can_read_and_a_freed_slot_serves_again():
    with GatewayThread(GatewayConfig(tick_interval=None)) as gw:
        peers = [RawPeer(gw.port) for _ in range(32)]
        try:
            for n, peer in enumerate(peers):
                peer.handshake(100 + n)
            extra = RawPeer(gw.port)
            _hello(extra)
            frames = extra.drain(quiet=0.5)
            assert extra.closed_by_server
            ((msg_id, _version, req_id, code, text, _json),) = frames
            assert (msg_id, req_id, code) == ("4", "-1", "502")
            assert "32 API connections" in text
            extra.close()

            async def refused_then_served() -> tuple[list[tuple[int, str]], bool]:
                ib, errors = IB(), []
                ib.errorEvent += lambda _rid, code, text, _c: errors.append((code, text))
                # ib_insync 0.9.86 reports a close before the handshake as a timeout
                with pytest.raises((ConnectionError, TimeoutError)):
                    await ib.connectAsync("127.0.0.1", gw.port, clientId=1, timeout=1)
                peers.pop().close()
                await asyncio.to_thread(_until, lambda: len(gw.connected_client_ids()) == 31, 3.0, "a free slot")
                served = IB()
                await served.connectAsync("127.0.0.1", gw.port, clientId=1, timeout=3)
                ok = served.isConnected()
                served.disconnect()
                return errors, ok

            errors, served = asyncio.run(refused_then_served())
            assert [code for code, _ in errors] == [502] and served
            stats = _stats(gw)
        finally:
            for peer in peers:
                peer.close()
    assert stats.refused == 2
    assert stats.peak_connections == 32


def test_a_frame_that_does_not_complete_in_time_is_refused_and_an_idle_client_is_not():
    with GatewayThread(GatewayConfig(tick_interval=None, frame_timeout=0.3)) as gw:
        idle, stuck = RawPeer(gw.port), RawPeer(gw.port)
        try:
            idle.handshake(1)
            stuck.handshake(2)
            idle.drain()
            stuck.drain()
            stuck.send(struct.pack(">I", 1000) + b"49\0")  # 3 of the 1000 bytes it announced
            started = time.monotonic()
            frames = stuck.drain(quiet=2.0, limit=3.0)
            assert stuck.closed_by_server and time.monotonic() - started >= 0.3
            assert frames and frames[-1][:4] == ["4", "2", "-1", "320"] and "did not arrive" in frames[-1][4]
            # the idle one, silent for longer than frame_timeout, is still served
            idle.send(frame(["49", "1"]))
            answer = idle.read_frame(2.0)
            assert answer is not None and answer[0] == "49"
            stats = _stats(gw)
        finally:
            idle.close()
            stuck.close()
    assert stats.frame_timeouts == 1


def test_connections_holding_partial_frames_are_capped_and_released():
    # The report: 200 connections each holding most of a 1 MiB frame kept 200 MiB for good. Now at most
    # max_clients are served and each partial frame is dropped after frame_timeout.
    limit = 64 << 10
    config = GatewayConfig(tick_interval=None, max_frame_bytes=limit, frame_timeout=0.5, max_clients=8)
    with GatewayThread(config) as gw:
        peers = [RawPeer(gw.port) for _ in range(20)]
        try:
            served = 0
            for n, peer in enumerate(peers):
                _hello(peer)
                # The refused get error 502, or once max_clients refusals are pending, a bare close.
                reply = peer.read_frame(2.0)
                assert (reply is None and peer.closed_by_server) or reply[0] in ("176", "4")
                if reply is not None and reply[0] == "176":
                    served += 1
                    peer.send(frame(["71", "2", str(n), ""]))
                    peer.send(struct.pack(">I", limit) + b"x" * (limit - 10))
            _until(lambda: _stats(gw).frame_timeouts == served, 5.0, "the partial frames' timeouts")
            _until(lambda: gw.connected_client_ids() == [], 3.0, "no client left")
            stats = _stats(gw)
        finally:
            for peer in peers:
                peer.close()
    assert served == 8
    assert stats.peak_connections == 8
    assert stats.refused == 12


def test_an_oversized_frame_is_refused_from_its_length_and_the_error_arrives_while_the_body_is_sent():
    with GatewayThread(GatewayConfig(tick_interval=None)) as gw:
        peer = RawPeer(gw.port, timeout=5.0)
        try:
            peer.handshake(3)
            peer.drain()
            size = (1 << 20) + 1
            sender = threading.Thread(target=peer.send, args=(struct.pack(">I", size) + b"x" * size,), daemon=True)
            sender.start()
            frames = peer.drain(quiet=2.0, limit=4.0)
            sender.join(5)
            stats = _stats(gw)
        finally:
            peer.close()
    assert frames and frames[-1][:4] == ["4", "2", "-1", "320"] and "exceeds the 1048576 byte limit" in frames[-1][4]
    assert peer.closed_by_server
    assert stats.oversized_frames == 1


def test_the_whole_handshake_must_complete_within_handshake_timeout():
    # Each step in time, the whole too slow: a peer must not hold a slot by dribbling the handshake.
    hello = b"v157..176"
    steps = [b"API\0", struct.pack(">I", len(hello)) + hello, frame(["71", "2", "9", ""])]
    with GatewayThread(GatewayConfig(tick_interval=None, handshake_timeout=0.6)) as gw:
        peer = RawPeer(gw.port)
        try:
            started = time.monotonic()
            for step in steps:
                time.sleep(0.4)  # the peer's own pace, not a wait for the gateway
                peer.send(step)
            frames = peer.drain(quiet=1.0)
            assert peer.closed_by_server and time.monotonic() - started < 3.0
            assert frames == []  # not even the version reply: the time was up before the hello
            stats = _stats(gw)
        finally:
            peer.close()
    assert stats.handshake_timeouts == 1
