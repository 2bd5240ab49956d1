"""Wire taps: the supported way to see what the gateway reads and writes (bench/benchgw.py stamps with them).

A real ib_insync client trades against the gateway; the tap must see its placeOrder, and every byte the
client receives must have gone through the tap's `written`, in order.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence

import pytest
from ib_insync import MarketOrder

from ibticket.gateway import GatewayConfig, GatewayThread, PaperGateway
from ibticket.gateway.requests import parse_place_order

from .helpers import connect, qualified, run_gateway_test, wait_for, wait_status


class Recorder:
    def __init__(self) -> None:
        self.requests: list[tuple[int | None, list[str]]] = []
        self.writes: list[tuple[int | None, list[bytes]]] = []

    def request(self, client_id: int | None, fields: list[str]) -> None:
        self.requests.append((client_id, list(fields)))

    def written(self, client_id: int | None, frames: Sequence[bytes]) -> None:
        self.writes.append((client_id, list(frames)))

    def frames(self) -> list[list[str]]:
        out = []
        for _client, frames in self.writes:
            for frame in frames:
                (size,) = struct.unpack(">I", frame[:4])
                assert size == len(frame) - 4, "a tapped frame is one whole frame"
                out.append(frame[4:].decode().split("\0")[:-1])
        return out


def test_a_tap_sees_the_place_order_read_and_every_byte_written():
    tap = Recorder()

    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 150.0)
        gw.add_wire_tap(tap)
        ib = await connect(gw, client_id=5)
        contract = await qualified(ib, "AAPL")
        trade = ib.placeOrder(contract, MarketOrder("BUY", 3, orderRef="tapped"))
        await wait_status(trade, "Filled")
        await wait_for(lambda: len(trade.fills) == 3, what="three fills")
        # Everything the client received went through the tap (the handshake reply too, before startApi).
        written = sum(len(f) for _client, frames in tap.writes for f in frames)
        await wait_for(lambda: ib.client.connectionStats().numBytesRecv
                       == sum(len(f) for _c, frames in tap.writes for f in frames), what="the bytes received")
        assert written > 0
        assert {client for client, _frames in tap.writes} == {None, 5}

        places = [parse_place_order(fields) for client, fields in tap.requests if client == 5 and fields[0] == "3"]
        assert [p.order_ref for p in places] == ["tapped"]
        assert tap.requests[0][0] is None and tap.requests[0][1][0] == "71"  # startApi, before the id is known

        live_execs = [fields for fields in tap.frames() if fields[:2] == ["11", "-1"]]
        assert [fields[14] for fields in live_execs] == [e.exec_id for e in gw.executions()]
        ib.disconnect()

    run_gateway_test(body, partial_fills=3)


def test_a_tap_that_raises_is_removed_and_the_client_is_served(caplog: pytest.LogCaptureFixture):
    class Broken:
        calls = 0

        def request(self, client_id: int | None, fields: list[str]) -> None:
            Broken.calls += 1
            raise ValueError("a bug in the tap")

        def written(self, client_id: int | None, frames: Sequence[bytes]) -> None:
            Broken.calls += 1
            raise ValueError("a bug in the tap")

    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 150.0)
        gw.add_wire_tap(Broken())
        ib = await connect(gw)
        trade = ib.placeOrder(await qualified(ib, "AAPL"), MarketOrder("BUY", 1))
        await wait_status(trade, "Filled")
        ib.disconnect()

    with caplog.at_level(logging.ERROR, logger="ibticket.gateway.wiretap"):
        run_gateway_test(body)
    assert Broken.calls == 1
    assert any("wire tap" in r.getMessage() for r in caplog.records)


def test_a_gateway_thread_takes_and_drops_a_tap_from_another_thread():
    tap = Recorder()
    with GatewayThread(GatewayConfig(tick_interval=None)) as gw:
        gw.add_wire_tap(tap)
        assert gw.call(lambda: bool(gw.gateway.wire_taps))
        gw.remove_wire_tap(tap)
        assert not gw.call(lambda: bool(gw.gateway.wire_taps))
