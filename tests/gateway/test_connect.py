"""Handshake, the connect sequence ib_insync performs, contract lookup and client-id rules."""

from __future__ import annotations

import asyncio
import socket
import struct
import time

import pytest
from ib_insync import IB, Stock

from ibticket.gateway import GatewayConfig, PaperGateway
from ibticket.gateway.server import check_loopback

from .helpers import ErrorLog, connect, qualified, run_gateway_test, wait_for


def test_ib_insync_connects_in_well_under_a_second():
    async def body(gw: PaperGateway) -> None:
        ib = IB()
        errors = ErrorLog(ib)
        started = time.perf_counter()
        await ib.connectAsync("127.0.0.1", gw.port, clientId=7, timeout=3)
        elapsed = time.perf_counter() - started
        assert elapsed < 1.0
        assert ib.isConnected()
        assert ib.client.serverVersion() == 176
        assert ib.managedAccounts() == ["DU1234567"]
        # the farm notices TWS sends on every connect
        assert {2104, 2106, 2158} <= set(errors.codes(-1))
        assert gw.connected_client_ids() == [7]
        ib.disconnect()
        await wait_for(lambda: gw.connected_client_ids() == [], what="server to notice the disconnect")

    run_gateway_test(body)


def test_qualify_known_and_unknown_symbols():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        aapl, spy = Stock("AAPL", "SMART", "USD"), Stock("SPY", "SMART", "USD")
        result = await ib.qualifyContractsAsync(aapl, spy)
        assert result == [aapl, spy]
        assert (aapl.conId, aapl.primaryExchange, aapl.exchange) == (265598, "NASDAQ", "SMART")
        assert (spy.conId, spy.primaryExchange) == (756733, "ARCA")
        details = await ib.reqContractDetailsAsync(Stock("MSFT", "SMART", "USD"))
        assert len(details) == 1
        assert details[0].contract.conId == 272093
        assert details[0].longName == "MICROSOFT CORP"
        assert details[0].minTick == 0.01
        by_con_id = await ib.reqContractDetailsAsync(Stock(conId=208813720, exchange="SMART"))
        assert [d.contract.symbol for d in by_con_id] == ["GOOGL"]
        unknown = Stock("NOPE", "SMART", "USD")
        assert await ib.qualifyContractsAsync(unknown) == []
        assert 200 in errors.codes()
        assert errors.text(200) == "No security definition has been found for the request"
        ib.disconnect()

    run_gateway_test(body)


def test_simple_requests_are_answered():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw, client_id=3)
        now = await ib.reqCurrentTimeAsync()
        assert abs(now.timestamp() - time.time()) < 5
        matches = await ib.reqMatchingSymbolsAsync("GOO")
        assert {d.contract.symbol for d in matches} == {"GOOG", "GOOGL"}
        summary = await ib.accountSummaryAsync()
        tags = {v.tag: v.value for v in summary}
        assert float(tags["NetLiquidation"]) == pytest.approx(1_000_000.0)
        assert float(tags["BuyingPower"]) == pytest.approx(4_000_000.0)
        increments = await ib.reqMarketRuleAsync(26)
        assert increments[0].increment == 0.01
        ib.disconnect()

    run_gateway_test(body)


def test_duplicate_client_id_gets_326_and_is_closed():
    async def body(gw: PaperGateway) -> None:
        first = await connect(gw, client_id=5)
        second = IB()
        errors = ErrorLog(second)
        with pytest.raises((ConnectionError, TimeoutError, asyncio.TimeoutError)):
            await second.connectAsync("127.0.0.1", gw.port, clientId=5, timeout=1)
        assert 326 in errors.codes(-1)
        assert "client id is already in use" in errors.text(326)
        assert first.isConnected()
        assert gw.connected_client_ids() == [5]
        assert (await first.reqCurrentTimeAsync()) is not None
        first.disconnect()

    run_gateway_test(body)


def test_several_clients_at_once():
    async def body(gw: PaperGateway) -> None:
        clients = [await connect(gw, client_id=cid) for cid in (1, 2, 3)]
        assert gw.connected_client_ids() == [1, 2, 3]
        contracts = await asyncio.gather(*(qualified(ib, "AAPL") for ib in clients))
        assert all(c.conId == 265598 for c in contracts)
        for ib in clients:
            ib.disconnect()

    run_gateway_test(body)


def test_reconnecting_client_continues_its_order_id_sequence():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw, client_id=9)
        contract = await qualified(ib, "AAPL")
        from ib_insync import LimitOrder

        trade = ib.placeOrder(contract, LimitOrder("BUY", 1, 100.0))
        used = trade.order.orderId
        await wait_for(lambda: trade.orderStatus.status == "Submitted")
        ib.disconnect()
        await wait_for(lambda: gw.connected_client_ids() == [])
        again = await connect(gw, client_id=9)
        assert again.client._reqIdSeq > used
        other = await connect(gw, client_id=10)
        # another client id starts its own sequence, but the open order of 9 bumps ib_insync's counter
        assert other.client._reqIdSeq >= 1
        again.disconnect()
        other.disconnect()

    run_gateway_test(body)


# --- raw protocol --------------------------------------------------------------------------------------
def _raw_hello(port: int, hello: bytes) -> list[list[str]]:
    """Send a handshake and read frames until the server closes or goes quiet."""
    frames: list[list[str]] = []
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"API\0" + struct.pack(">I", len(hello)) + hello)
        data = b""
        sock.settimeout(0.5)
        try:
            while chunk := sock.recv(4096):
                data += chunk
        except TimeoutError:
            pass
    while len(data) >= 4:
        size = struct.unpack(">I", data[:4])[0]
        frames.append(data[4 : 4 + size].decode().split("\0")[:-1])
        data = data[4 + size :]
    return frames


@pytest.mark.parametrize(
    ("hello", "expected"),
    [(b"v157..176", "176"), (b"v100..226", "176"), (b"v157..178 +PACEAPI", "176"), (b"v176", "176")],
)
def test_version_negotiation(hello, expected):
    async def body(gw: PaperGateway) -> list[list[str]]:
        return await asyncio.to_thread(_raw_hello, gw.port, hello)

    frames = run_gateway_test(body)
    assert frames[0][0] == expected
    assert len(frames[0]) == 2


@pytest.mark.parametrize("hello", [b"v100..157", b"v177..200", b"hello", b""])
def test_unservable_or_bad_handshake_is_closed_clearly(hello):
    async def body(gw: PaperGateway) -> tuple[list[list[str]], bool]:
        frames = await asyncio.to_thread(_raw_hello, gw.port, hello)
        # the server is still fine afterwards
        ib = await connect(gw)
        ok = ib.isConnected()
        ib.disconnect()
        return frames, ok

    frames, still_serving = run_gateway_test(body)
    assert still_serving
    assert all(len(f) != 2 for f in frames)  # never a handshake reply
    if hello.startswith(b"v1"):
        assert frames and frames[0][:4] == ["4", "2", "-1", "503"]


def test_only_loopback_addresses_are_accepted():
    assert check_loopback("127.0.0.1") == "127.0.0.1"
    assert check_loopback("127.0.0.5") == "127.0.0.5"
    assert check_loopback("::1") == "::1"
    assert check_loopback("localhost") == "127.0.0.1"
    for host in ("0.0.0.0", "192.168.1.10", "::", "example.com"):
        with pytest.raises(ValueError, match="loopback"):
            check_loopback(host)

    async def start_public() -> None:
        await PaperGateway(GatewayConfig()).start("0.0.0.0", 0)

    with pytest.raises(ValueError, match="loopback"):
        asyncio.run(start_public())
