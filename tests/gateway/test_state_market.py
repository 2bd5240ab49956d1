"""The market outlives the gateway with the account: after a restart on the same state file every symbol's
quote continues where it was, so positions are not revalued by a jump and a restored stop does not trigger
from one. (Before, the market restarted from stocks.csv: AAPL 223.80 came back as 230.00, the unrealized
P&L jumped, and a restored SELL stop limit above 230 triggered at once and filled.)
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ib_insync import IB, MarketOrder, StopLimitOrder, Ticker, Trade

from ibticket.gateway import GatewayConfig, GatewayThread, state_market
from ibticket.gateway.universe import Universe

from .helpers import qualified, wait_event, wait_for, wait_status

CLIENT = 4
START_PRICES = {inst.symbol: inst.start_price for inst in Universe.load(None)}


def _quotes(gw: GatewayThread) -> dict[str, tuple[float, float, float]]:
    return {symbol: (q.bid, q.ask, q.last) for symbol in START_PRICES for q in [gw.quote(symbol)]}


async def _connect(port: int) -> IB:
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=CLIENT, timeout=3)
    return ib


def _unrealized(ib: IB) -> float:
    (item,) = [p for p in ib.portfolio() if p.contract.symbol == "AAPL"]
    return item.unrealizedPNL


async def _buy_and_protect(port: int) -> tuple[float, float]:
    """100 AAPL bought at 235.01 and a GTC SELL stop limit below; returns the AAPL mark and unrealized P&L."""
    ib = await _connect(port)
    aapl = await qualified(ib, "AAPL")
    bought = ib.placeOrder(aapl, MarketOrder("BUY", 100))
    await wait_status(bought, "Filled")
    stop = ib.placeOrder(aapl, StopLimitOrder("SELL", 100, 229.00, 232.00, tif="GTC", orderRef="protect"))
    await wait_status(stop, "PreSubmitted")
    await wait_event(ib.updatePortfolioEvent, lambda: any(p.contract.symbol == "AAPL" for p in ib.portfolio()),
                     what="the portfolio")
    (item,) = ib.portfolio()
    ib.disconnect()
    return item.marketPrice, item.unrealizedPNL


async def _after_restart(port: int) -> tuple[Trade, float, float]:
    ib = await _connect(port)
    await wait_event(ib.updatePortfolioEvent, lambda: any(p.contract.symbol == "AAPL" for p in ib.portfolio()),
                     what="the portfolio")
    (stop,) = ib.openTrades()
    (item,) = ib.portfolio()
    ib.disconnect()
    return stop, item.marketPrice, item.unrealizedPNL


def test_every_symbols_price_continues_after_a_restart_and_a_restored_stop_does_not_trigger(tmp_path: Path):
    config = GatewayConfig(tick_interval=None, state_path=tmp_path / "paper-account.json")
    with GatewayThread(config) as gw:
        gw.set_price("AAPL", 235.00, spread=0.02)  # above the 230.00 that stocks.csv starts AAPL at
        for symbol, start in START_PRICES.items():
            if symbol != "AAPL":
                gw.set_price(symbol, round(start * 0.9, 2), spread=0.02)
        mark, unrealized = asyncio.run(_buy_and_protect(gw.port))
        before = _quotes(gw)
    assert mark == 235.00 and unrealized == pytest.approx(100 * (235.00 - 235.01) - 1.0)

    with GatewayThread(config) as gw:
        assert _quotes(gw) == before  # every symbol, not just the ones traded
        stop, mark_after, unrealized_after = asyncio.run(_after_restart(gw.port))
        assert (stop.order.orderRef, stop.orderStatus.status) == ("protect", "PreSubmitted")
        assert (mark_after, unrealized_after) == (mark, pytest.approx(unrealized))
        # The market goes on from there: a step of the walk moves it by cents, and the stop keeps waiting.
        gw.step_market()
        assert abs(gw.quote("AAPL").last - 235.00) < 0.5
        assert [o.status for o in gw.orders() if o.order_ref == "protect"] == ["PreSubmitted"]
        assert len(gw.executions()) == 1


def test_a_ticking_market_resumes_near_where_it_stopped(tmp_path: Path):
    """With the walk running, the restart walks on for the time it took: cents, not back to stocks.csv."""
    config = GatewayConfig(tick_interval=0.01, state_path=tmp_path / "paper-account.json")
    with GatewayThread(config) as gw:
        for symbol, start in START_PRICES.items():
            gw.set_price(symbol, round(start * 0.8, 2), spread=0.02)
    saved = _saved_quotes(config.state_path)
    with GatewayThread(config) as gw:
        gw.freeze_market()
        after = _quotes(gw)
    for symbol, start in START_PRICES.items():
        assert abs(after[symbol][2] / saved[symbol]["last"] - 1) < 0.01, symbol
        assert after[symbol][2] < start * 0.9, symbol  # not where stocks.csv starts it


def _saved_quotes(state: Path) -> dict[str, dict[str, float]]:
    """Each symbol's last saved quote in the journal."""
    quotes: dict[str, dict[str, float]] = {}
    for line in state.read_text().splitlines():
        for q in json.loads(line).get("market", {}).get("quotes", []):
            quotes[q["symbol"]] = q
    return quotes


def test_the_moving_market_is_saved_every_interval_and_a_killed_gateway_resumes_from_the_last_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
):
    state = tmp_path / "paper-account.json"
    config = GatewayConfig(tick_interval=None, state_path=state)
    with GatewayThread(config) as gw:
        for price in (231.00, 232.00, 233.00):
            gw.set_price("AAPL", price)
        # Within the interval only the snapshot holds quotes: a moving market does not write a line per move.
        assert [line for line in state.read_text().splitlines()[1:] if "market" in line] == []
        monkeypatch.setattr(state_market, "SAVE_INTERVAL", 0.0)
        gw.set_price("MSFT", 401.00)
        lines = state.read_text().splitlines()
        # Now due: one line with just what changed since the snapshot.
        assert [q["symbol"] for q in json.loads(lines[-1])["market"]["quotes"]] == ["AAPL", "MSFT"]
        # What a kill -9 now would leave behind (the file as the OS holds it; the lock is not the file's).
        shutil.copy(state, tmp_path / "killed.json")
        gw.set_price("MSFT", 402.00)
    killed = GatewayConfig(tick_interval=None, state_path=tmp_path / "killed.json")
    with GatewayThread(killed) as gw:
        assert (gw.quote("AAPL").last, gw.quote("MSFT").last) == (233.00, 401.00)
    with GatewayThread(config) as gw:  # the clean stop saved the last move too
        assert (gw.quote("AAPL").last, gw.quote("MSFT").last) == (233.00, 402.00)


def test_reset_starts_the_market_over_with_the_account(tmp_path: Path):
    config = GatewayConfig(tick_interval=None, state_path=tmp_path / "paper-account.json")
    with GatewayThread(config) as gw:
        gw.set_price("AAPL", 199.99)
    with GatewayThread(GatewayConfig(tick_interval=None, state_path=config.state_path, reset_state=True)) as gw:
        assert gw.quote("AAPL").last == START_PRICES["AAPL"]


# --- the command ---------------------------------------------------------------------------------------------
def _start(state: Path, tick_interval: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ibticket.gateway", "--port", "0", "--tick-interval", tick_interval,
         "--state", str(state)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if match is None:
        proc.kill()
        raise AssertionError(f"unexpected first line {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}")
    return proc, int(match.group(1))


def _seen(price: float) -> bool:
    return math.isfinite(price) and price > 0  # ib_insync's "not yet" is NaN


async def _watch_until_it_moves(port: int) -> None:
    ib = await _connect(port)
    ticker = ib.reqMktData(await qualified(ib, "AAPL"))
    await wait_event(ticker.updateEvent, lambda: _seen(ticker.last) and ticker.last != START_PRICES["AAPL"],
                     timeout=5, what="AAPL to move away from its start price")
    ib.disconnect()


async def _quote_seen(port: int) -> Ticker:
    ib = await _connect(port)
    ticker = ib.reqMktData(await qualified(ib, "AAPL"))
    await wait_for(lambda: all(_seen(p) for p in (ticker.bid, ticker.ask, ticker.last)), what="AAPL's quote")
    ib.disconnect()
    return ticker


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_the_command_with_state_resumes_the_market(tmp_path: Path):
    state = tmp_path / "paper-account.json"
    proc, port = _start(state, "0.02")
    try:
        asyncio.run(asyncio.wait_for(_watch_until_it_moves(port), 10))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=5)
    saved = _saved_quotes(state)["AAPL"]
    assert saved["last"] != START_PRICES["AAPL"]

    proc, port = _start(state, "none")  # a market that moves only by hand resumes exactly
    try:
        ticker = asyncio.run(asyncio.wait_for(_quote_seen(port), 10))
    finally:
        proc.kill()
        proc.communicate(timeout=5)
    assert (ticker.bid, ticker.ask, ticker.last) == (saved["bid"], saved["ask"], saved["last"])
