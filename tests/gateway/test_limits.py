"""The network limits: one hostile or broken client can neither grow the gateway nor starve the others.

Bounds are asserted through the gateway's own counters (PaperGateway.network_stats()), never through
memory or timing measurements of the process.
"""

from __future__ import annotations

import asyncio
import threading
import time

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
