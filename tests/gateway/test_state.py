"""The paper account outlives the gateway: a restart on the same state file continues the same account.

The same two client sessions run against a gateway that is stopped cleanly (in-process) and against one
that is killed with SIGKILL (a subprocess running the command), so nothing is written at exit.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from ib_insync import IB, LimitOrder, MarketOrder, Trade

from ibticket.gateway import PaperGateway

from .helpers import ErrorLog, qualified, run_gateway_test, wait_event, wait_for, wait_status

CLIENT = 7


@dataclass
class Before:
    """What the client saw in its first session."""

    exec_ids: list[str]
    commission: float
    perm_ids: dict[str, int]  # orderRef -> permId
    order_ids: list[int]
    position: tuple[float, float]  # MSFT qty, avgCost
    cash: float


def _value(ib: IB, tag: str) -> float:
    return float(next(v.value for v in ib.accountValues() if v.tag == tag and v.currency == "USD"))


async def _connect(port: int) -> IB:
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=CLIENT, timeout=3)
    return ib


async def first_session(port: int) -> tuple[IB, Before]:
    """Two resting limits (GTC and DAY) and a filled market order; returns once the client has seen it all."""
    ib = await _connect(port)
    aapl, msft = await qualified(ib, "AAPL"), await qualified(ib, "MSFT")
    gtc = ib.placeOrder(aapl, LimitOrder("BUY", 10, 1.00, orderRef="rest-gtc", tif="GTC"))
    day = ib.placeOrder(aapl, LimitOrder("BUY", 5, 2.00, orderRef="rest-day"))
    filled = ib.placeOrder(msft, MarketOrder("BUY", 20, orderRef="filled"))
    await wait_status(gtc, "Submitted")
    await wait_status(day, "Submitted")
    await wait_status(filled, "Filled")
    await wait_for(lambda: filled.fills and filled.fills[0].commissionReport.execId, what="commission report")
    await wait_event(ib.positionEvent, lambda: ib.positions(), what="position")
    await wait_event(ib.accountValueEvent, lambda: _value(ib, "TotalCashValue") < 1_000_000, what="cash")
    (pos,) = ib.positions()
    before = Before(
        exec_ids=[f.execution.execId for f in filled.fills], commission=filled.fills[0].commissionReport.commission,
        perm_ids={t.order.orderRef: t.order.permId for t in (gtc, day, filled)},
        order_ids=[t.order.orderId for t in (gtc, day, filled)], position=(pos.position, pos.avgCost),
        cash=_value(ib, "TotalCashValue"),
    )
    assert all(before.perm_ids.values())
    return ib, before


async def second_session(port: int, before: Before) -> tuple[IB, Trade]:
    """The same client id after the restart sees the same account; returns the DAY order, still working."""
    ib = await _connect(port)
    errors = ErrorLog(ib)
    working = {t.order.orderRef: t for t in ib.openTrades()}
    assert set(working) == {"rest-gtc", "rest-day"}
    assert {ref: t.order.permId for ref, t in working.items()} == {
        ref: before.perm_ids[ref] for ref in working}
    assert {t.orderStatus.status for t in working.values()} == {"Submitted"}
    # Today's execution, exactly once, with its execId and commission (from connect's reqExecutions).
    assert [f.execution.execId for f in ib.fills()] == before.exec_ids
    assert [f.commissionReport.commission for f in ib.fills()] == [before.commission]
    replayed = await ib.reqExecutionsAsync()
    assert [f.execution.execId for f in replayed] == before.exec_ids
    assert [f.execution.orderRef for f in replayed] == ["filled"]
    (done,) = [t for t in ib.trades() if t.orderStatus.status == "Filled"]
    assert (done.order.orderRef, done.order.permId) == ("filled", before.perm_ids["filled"])
    (pos,) = ib.positions()
    assert (pos.contract.symbol, pos.position, pos.avgCost) == ("MSFT", *before.position)
    assert _value(ib, "TotalCashValue") == pytest.approx(before.cash)

    # The restored order can be cancelled as any working order.
    gtc = working["rest-gtc"]
    ib.cancelOrder(gtc.order)
    await wait_status(gtc, "Cancelled")
    # New orders: an order id the client has not used, a permId not seen before, no "Duplicate order id".
    aapl = await qualified(ib, "AAPL")
    new = ib.placeOrder(aapl, LimitOrder("BUY", 1, 1.50, orderRef="after-restart"))
    await wait_status(new, "Submitted")
    assert new.order.orderId > max(before.order_ids)
    assert new.order.permId not in before.perm_ids.values()
    assert errors.codes(new.order.orderId) == []
    return ib, working["rest-day"]


def test_a_clean_restart_continues_the_same_account(tmp_path: Path):
    state = tmp_path / "paper-account.json"

    async def day_one(gw: PaperGateway) -> Before:
        ib, before = await first_session(gw.port)
        ib.disconnect()
        return before

    before = run_gateway_test(day_one, state_path=state)

    async def after_restart(gw: PaperGateway) -> None:
        ib, day = await second_session(gw.port, before)
        # Still working in the matcher, not just listed: the market reaches the limit and it fills.
        gw.set_price("AAPL", 1.99)
        await wait_status(day, "Filled")
        assert day.fills[0].execution.execId not in before.exec_ids
        ib.disconnect()

    run_gateway_test(after_restart, state_path=state)

    async def third_start(gw: PaperGateway) -> None:
        # The fill after the restart was saved too; ids stay unique across all three runs.
        ids = [e.exec_id for e in gw.executions()]
        assert len(ids) == len(set(ids)) == 2 and ids[0] == before.exec_ids[0]
        assert sorted(o.order_ref for o in gw.orders() if o.status == "Submitted") == ["after-restart"]

    run_gateway_test(third_start, state_path=state)


def _start_command(state: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ibticket.gateway", "--port", "0", "--tick-interval", "none", "--state", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if match is None:
        proc.kill()
        raise AssertionError(f"unexpected first line {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}")
    return proc, int(match.group(1))


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_a_killed_gateway_loses_nothing_it_had_sent(tmp_path: Path):
    state = tmp_path / "paper-account.json"
    proc, port = _start_command(state)
    try:
        before = asyncio.run(asyncio.wait_for(_first_then_kill(port, proc), 10))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=5)
    assert proc.returncode == -signal.SIGKILL

    proc, port = _start_command(state)
    try:
        asyncio.run(asyncio.wait_for(_second(port, before), 10))
    finally:
        proc.kill()
        proc.communicate(timeout=5)


async def _first_then_kill(port: int, proc: subprocess.Popen[str]) -> Before:
    ib, before = await first_session(port)
    # No clean stop: whatever the client has been sent must already be in the file.
    proc.send_signal(signal.SIGKILL)
    await wait_for(lambda: not ib.isConnected(), what="the client to see the gateway die")
    ib.disconnect()
    return before


async def _second(port: int, before: Before) -> None:
    ib, _day = await second_session(port, before)
    ib.disconnect()
