"""A damaged paper account file: nothing in it can stop the gateway or slip a wrong value into the account.

NaN cash (which switched the margin check off), a line nested 200,000 levels deep (which escaped as a
RecursionError), a bad byte in a middle line (which discarded the whole account), a wrong type in any
field. What is sound is restored, the rest is moved aside and reported (see journal.py for the rule).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from ib_insync import LimitOrder, MarketOrder

from ibticket.gateway import GatewayConfig, GatewayThread, PaperGateway

from .helpers import ErrorLog, connect, qualified, run_gateway_test, wait_status
from .journalkit import CLIENT, DEEP, aside, first_line_with, lines_of, trade_a_day, write


# --- NaN ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["snapshot", "change line"])
def test_nan_cash_never_loads_and_a_two_billion_dollar_order_is_refused(tmp_path: Path, where: str):
    state = tmp_path / "paper-account.json"
    trade_a_day(state)
    lines = lines_of(state)
    if where == "snapshot":
        snapshot = json.loads(lines[0])
        snapshot["cash"] = math.nan
        lines[0] = json.dumps(snapshot).encode()
    else:
        lines.append(b'{"cash":NaN,"realized_pnl":0.0}')
    damaged = write(state, lines)

    async def body(gw: PaperGateway) -> None:
        report = gw.state_report
        assert report is not None and "cash is not a finite number: nan" in str(report)
        assert report.restored is (where == "change line")
        cash = float(gw.account_values()["TotalCashValue"])
        assert math.isfinite(cash) and cash <= 1_000_000
        ib = await connect(gw, client_id=9)
        errors = ErrorLog(ib)
        trade = ib.placeOrder(await qualified(ib, "AAPL"), MarketOrder("BUY", 9_000_000))  # about $2 billion
        await wait_status(trade, "Cancelled")
        assert errors.codes(trade.order.orderId) == [201]
        assert "MUST EXCEED THE INITIAL MARGIN" in errors.text(201)
        assert all(p.position <= 100 for p in gw.positions())
        ib.disconnect()

    run_gateway_test(body, state_path=state)
    assert b"NaN" not in state.read_bytes() and b"Infinity" not in state.read_bytes()
    assert aside(state).read_bytes() == damaged


def test_a_non_finite_number_in_the_account_is_never_written(tmp_path: Path):
    state = tmp_path / "paper-account.json"

    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw, client_id=CLIENT)
        gw.account.cash = math.nan  # as if a bug made one: the file keeps its last good state
        trade = ib.placeOrder(await qualified(ib, "AAPL"), LimitOrder("BUY", 1, 1.00))
        await wait_status(trade, "Cancelled")  # and the margin check refuses rather than waves it through
        ib.disconnect()

    run_gateway_test(body, state_path=state)
    assert b"NaN" not in state.read_bytes()
    assert float(_load_values(state)["TotalCashValue"]) == 1_000_000


def test_the_start_cash_must_be_finite():
    for cash in (math.nan, math.inf, -1.0):
        with pytest.raises(ValueError, match="start_cash"):
            GatewayConfig(start_cash=cash)


def _load_values(state: Path) -> dict[str, str]:
    async def body(gw: PaperGateway) -> dict[str, str]:
        assert gw.state_report is None
        return gw.account_values()

    return run_gateway_test(body, state_path=state)


# --- 200,000 levels --------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["first", "last"])
def test_a_line_nested_200000_deep_is_moved_aside_and_the_gateway_thread_starts(tmp_path: Path, where: str):
    state = tmp_path / "paper-account.json"
    trade_a_day(state)
    lines = lines_of(state)
    lines = [DEEP, *lines[1:]] if where == "first" else [*lines, DEEP]
    damaged = write(state, lines)
    with GatewayThread(GatewayConfig(state_path=state, tick_interval=None)) as gw:
        report = gw.state_report
        assert report is not None and "nested too deeply" in str(report)
        positions = {p.symbol: p.position for p in gw.positions()}
        if where == "first":
            assert not report.restored and positions == {}
            assert "a new account was started with 1,000,000.00 USD cash" in str(report)
        else:
            assert report.restored and positions == {"AAPL": 100, "MSFT": 10} and report.dropped == 1
    assert aside(state).read_bytes() == damaged
    assert b"[[" not in state.read_bytes()


def test_the_command_prints_the_report_and_starts(tmp_path: Path):
    state = tmp_path / "paper-account.json"
    trade_a_day(state)
    write(state, [*lines_of(state), DEEP])
    proc = subprocess.Popen(
        [sys.executable, "-m", "ibticket.gateway", "--port", "0", "--tick-interval", "none", "--state", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert "listening on 127.0.0.1:" in proc.stdout.readline()
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=10)
    assert "Traceback" not in err
    # Printed as well as logged: --log-level may hide the log.
    assert f"ibticket-gateway: The paper account file {state} was damaged (line " in err
    assert "nested too deeply" in err and f"kept as {aside(state)}" in err
    assert proc.returncode == 0


# --- a bad byte in the middle ----------------------------------------------------------------------------
def test_a_bad_byte_in_a_middle_line_restores_the_lines_before_it(tmp_path: Path):
    state = tmp_path / "paper-account.json"
    day = trade_a_day(state)
    lines = lines_of(state)
    bad = first_line_with(lines, "MSFT")
    lines[bad] = lines[bad][:20] + b"\xff" + lines[bad][21:]
    damaged = write(state, lines)

    async def body(gw: PaperGateway) -> None:
        report = gw.state_report
        assert report is not None and report.restored
        assert (report.positions, report.working_orders, report.executions) == (1, 0, 1)
        assert report.dropped == len(lines) - bad
        text = str(report)
        assert f"line {bad + 1}: it is not UTF-8 text" in text
        assert "Restored as of " in text and "1 position, 0 working orders and 1 execution of today" in text
        after = len(lines) - bad - 1  # the resting MSFT order, the MSFT fill, ...: several
        assert f"The unreadable line and the {after} changes after it were dropped" in text
        assert f"kept as {aside(state)}." in text
        assert [(p.symbol, p.position) for p in gw.positions()] == [("AAPL", 100)]
        assert [e.exec_id for e in gw.executions()] == day.aapl_exec_ids
        assert [o.order_ref for o in gw.orders()] == ["aapl"]
        # The dropped lines' ids were seen by the client: new ones continue above them.
        ib = await connect(gw, client_id=CLIENT)
        errors = ErrorLog(ib)
        assert ib.client.getReqId() > max(day.order_ids)
        trade = ib.placeOrder(await qualified(ib, "MSFT"), LimitOrder("BUY", 1, 1.00))
        await wait_status(trade, "Submitted")
        assert trade.order.permId > max(day.perm_ids) and errors.codes() == []
        ib.disconnect()

    run_gateway_test(body, state_path=state)
    assert aside(state).read_bytes() == damaged
    assert float(_load_values(state)["TotalCashValue"]) < 1_000_000  # the rewritten file loads whole


def test_a_torn_last_line_is_not_damage(tmp_path: Path):
    state = tmp_path / "paper-account.json"
    trade_a_day(state)
    state.write_bytes(state.read_bytes() + DEEP[:1000])
    _load_values(state)
    assert list(tmp_path.glob("*.corrupt-*")) == []
