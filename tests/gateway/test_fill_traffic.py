"""What a split fill costs on the wire: messages per execution, batched writes, coalesced account pushes,
and a reading client that keeps up with thousands of executions (no slow-reader disconnect).

No timing assertions: the tests count messages and writes, and check that everything arrives.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from ib_insync import IB, MarketOrder, Trade

import ibticket.broker.ib  # noqa: F401  (replaces ib_insync's O(M^2) Trade repr, see docs/benchmarks.md)
from ibticket.gateway import GatewayConfig, GatewayThread, PaperGateway

from .helpers import connect, qualified, run_gateway_test, wait_event, wait_for, wait_status
from .rawclient import RawPeer, frame

MAX_MESSAGES_PER_EXECUTION = 8


def _spy(ib: IB, *names: str) -> Counter[str]:
    """Count the wrapper callbacks `names` (the decoder looks them up on the wrapper at each message)."""
    seen: Counter[str] = Counter()
    for name in names:
        original = getattr(ib.wrapper, name)

        def spy(*args: Any, _name: str = name, _original: Any = original) -> None:
            seen[_name] += 1
            _original(*args)

        setattr(ib.wrapper, name, spy)
    return seen


def _usd(ib: IB, tag: str) -> str | None:
    return next((v.value for v in ib.accountValues() if v.tag == tag and v.currency == "USD"), None)


async def _filled(ib: IB, trade: Trade, executions: int, timeout: float = 6.0) -> None:
    await wait_event(trade.fillEvent, lambda: len(trade.fills) == executions, timeout, f"{executions} fills")
    await wait_status(trade, "Filled")


def test_split_fill_sends_few_messages_per_execution_and_coalesces_account_pushes():
    executions = 200

    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 150.0)
        ib = await connect(gw)  # subscribes to positions, account updates and account updates multi
        contract = await qualified(ib, "AAPL")
        pnl = ib.reqPnL("DU1234567")
        await wait_event(ib.pnlEvent, lambda: pnl.dailyPnL == 0.0, what="first PnL")
        seen = _spy(ib, "updateAccountValue", "accountUpdateMulti", "position", "updatePortfolio", "pnl")
        received_before = ib.client.connectionStats().numMsgRecv
        trade = ib.placeOrder(contract, MarketOrder("BUY", executions))
        await _filled(ib, trade, executions)
        # The last executions' account figures come with the next push (at most one per interval).
        final_cash = gw.account_values()["TotalCashValue"]
        await wait_event(ib.accountValueEvent, lambda: _usd(ib, "TotalCashValue") == final_cash,
                         what="the final account push")
        await wait_event(ib.positionEvent, lambda: [p.position for p in ib.positions()] == [executions],
                         what="the final position")
        await wait_event(ib.updatePortfolioEvent, lambda: [p.position for p in ib.portfolio()] == [executions],
                         what="the final portfolio row")
        await wait_event(ib.pnlEvent, lambda: pnl.unrealizedPnL == pytest.approx(-1.0), what="the final PnL")
        received = ib.client.connectionStats().numMsgRecv - received_before
        assert received <= MAX_MESSAGES_PER_EXECUTION * executions, f"{received / executions:.1f} per execution"
        # leading push (the first turn's executions) and trailing push (the rest), not one per execution
        assert 1 <= seen["position"] <= 3
        assert 1 <= seen["updatePortfolio"] <= 3
        assert 1 <= seen["pnl"] <= 3
        rows = len(gw.account_rows())
        assert seen["updateAccountValue"] <= 3 * rows and seen["accountUpdateMulti"] <= 3 * rows
        assert {f.execution.execId for f in trade.fills} == {e.exec_id for e in gw.executions()}
        ib.disconnect()

    run_gateway_test(body, partial_fills=executions, account_update_interval=1.0)


def test_an_isolated_fill_is_pushed_at_once_and_values_change_only_when_they_changed():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("MSFT", 400.0)
        ib = await connect(gw)
        contract = await qualified(ib, "MSFT")
        seen = _spy(ib, "updateAccountValue")
        trade = ib.placeOrder(contract, MarketOrder("BUY", 10))
        await wait_status(trade, "Filled")
        # well before the 3 s interval: the first push after a quiet period is not held back
        await wait_event(ib.positionEvent, lambda: ib.positions(), timeout=2.0, what="position")
        await wait_event(ib.accountValueEvent,
                         lambda: _usd(ib, "TotalCashValue") == gw.account_values()["TotalCashValue"],
                         timeout=2.0, what="cash")
        # only the figures the fill changed, not all of the account's rows
        assert 0 < seen["updateAccountValue"] < len(gw.account_rows())
        ib.disconnect()

    run_gateway_test(body, account_update_interval=3.0)


class _CountWrites:
    """A wire tap counting the socket writes to each client."""

    def __init__(self) -> None:
        self.writes: Counter[int | None] = Counter()

    def request(self, client_id: int | None, fields: list[str]) -> None:
        pass

    def written(self, client_id: int | None, frames: Sequence[bytes]) -> None:
        self.writes[client_id] += 1


def test_split_fill_output_is_written_in_batches():
    executions = 200
    tap = _CountWrites()

    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 150.0)
        ib = await connect(gw)
        contract = await qualified(ib, "AAPL")
        gw.add_wire_tap(tap)
        received_before = ib.client.connectionStats().numMsgRecv
        trade = ib.placeOrder(contract, MarketOrder("BUY", executions))
        await _filled(ib, trade, executions)
        await wait_event(ib.accountValueEvent,
                         lambda: _usd(ib, "TotalCashValue") == gw.account_values()["TotalCashValue"],
                         what="the final account push")
        received = ib.client.connectionStats().numMsgRecv - received_before
        assert received >= 4 * executions
        # one write per event-loop turn, not one per message
        writes = tap.writes[ib.client.clientId]
        assert writes > 0 and writes * 20 <= received, f"{writes} writes for {received} messages"
        ib.disconnect()

    # None: no periodic push; the fills' account pushes are coalesced per loop turn.
    run_gateway_test(body, partial_fills=executions, account_update_interval=None)


def _no_slow_reader_warning(caplog: pytest.LogCaptureFixture) -> None:
    complaints = [r.getMessage() for r in caplog.records if r.name.startswith("ibticket.gateway")
                  and r.levelno >= logging.WARNING]
    assert complaints == []


async def _big_fill(port: int, executions: int) -> None:
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=1, timeout=3)
    try:
        drops: list[bool] = []
        ib.disconnectedEvent += lambda: drops.append(True)
        contract = await qualified(ib, "AAPL")
        received_before = ib.client.connectionStats().numMsgRecv
        trade = ib.placeOrder(contract, MarketOrder("BUY", executions))
        await _filled(ib, trade, executions, timeout=12.0)
        assert drops == [] and ib.isConnected()
        received = ib.client.connectionStats().numMsgRecv - received_before
        assert received <= MAX_MESSAGES_PER_EXECUTION * executions
        assert len({f.execution.execId for f in trade.fills}) == executions
        assert sum(f.execution.shares for f in trade.fills) == executions
        assert trade.fills[-1].execution.cumQty == executions
    finally:
        ib.disconnect()


def test_5000_executions_reach_a_client_on_the_same_loop_without_a_disconnect(caplog):
    # Before the desk yielded between executions, this order was written in one synchronous burst and the
    # client, sharing the loop, could not read: its buffer passed max_write_buffer and it was cut.
    executions = 5000
    caplog.set_level(logging.WARNING, logger="ibticket.gateway")

    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 150.0)
        await _big_fill(gw.port, executions)
        await wait_for(lambda: gw.connected_client_ids() == [], what="the client's own disconnect")
        assert len(gw.executions()) == executions

    run_gateway_test(body, timeout=15.0, partial_fills=executions, fill_interval=0.0, max_write_buffer=1 << 20)
    _no_slow_reader_warning(caplog)


def test_5000_executions_reach_a_client_on_another_thread_without_a_disconnect(caplog):
    # The benchmark's setup: the gateway on its own thread, the client on the test's loop.
    executions = 5000
    caplog.set_level(logging.WARNING, logger="ibticket.gateway")
    config = GatewayConfig(tick_interval=None, partial_fills=executions, fill_interval=0.0, max_write_buffer=1 << 20)
    with GatewayThread(config) as gw:
        gw.set_price("AAPL", 150.0)
        asyncio.run(asyncio.wait_for(_big_fill(gw.port, executions), 15.0))
        assert len(gw.executions()) == executions
    _no_slow_reader_warning(caplog)


def test_a_client_that_stops_reading_is_disconnected_and_the_others_are_not(caplog):
    executions = 10_000
    caplog.set_level(logging.WARNING, logger="ibticket.gateway")

    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 150.0)
        silent, other = await connect(gw, client_id=1), await connect(gw, client_id=2)
        contract = await qualified(silent, "AAPL")
        silent.client.conn.transport.pause_reading()
        silent.placeOrder(contract, MarketOrder("BUY", executions))
        await wait_for(lambda: gw.connected_client_ids() == [2], timeout=7.0, what="the silent client's drop")
        assert other.isConnected()
        await other.reqCurrentTimeAsync()
        await wait_for(lambda: len(gw.executions()) == executions, timeout=7.0, what="the rest of the fill")
        assert gw.orders()[0].status == "Filled"
        other.disconnect()
        silent.disconnect()

    run_gateway_test(body, timeout=15.0, partial_fills=executions, max_write_buffer=1 << 20, slow_reader_timeout=0.5)
    warnings = [r.getMessage() for r in caplog.records if "does not read its messages" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith("client 1 ")


def test_delayed_messages_keep_their_order_with_batched_output():
    with GatewayThread(GatewayConfig(tick_interval=None)) as gw:
        peer = RawPeer(gw.port)
        try:
            peer.handshake(client_id=5)
            assert [f[0] for f in peer.drain()][:2] == ["15", "9"]  # managedAccounts, nextValidId
            gw.faults.delay_messages(0.3)
            peer.send(frame(["49", "1"]) + frame(["8", "1", "1"]) + frame(["17", "1"]))
            assert peer.read_frame(0.1) is None  # held back
            gw.faults.delay_messages(0)
            peer.send(frame(["49", "1"]))  # not delayed, but queued behind the held messages
            frames = peer.drain(quiet=0.5)
            assert [f[0] for f in frames] == ["49", "9", "15", "49"]
        finally:
            peer.close()
