"""The chart's history: the day's bars from the embedded gateway and over a socket (as from TWS), [] at once
from an old paper gateway without history, and the library's bars as local-time records."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, date, datetime

from ibticket.broker import BrokerCore
from ibticket.broker.history import Bar, bars_from, day_bars
from ibticket.broker.ib import _lib
from ibticket.gateway import session as gateway_session

from .corerun import in_thread, run_core


def test_the_embedded_gateway_gives_the_days_bars_ending_at_the_live_price() -> None:
    async def scenario(core: BrokerCore) -> tuple[list[Bar], float]:
        assert core.gateway is not None
        await in_thread(core.gateway.set_price, "AAPL", 231.37)
        started = time.monotonic()
        bars = await day_bars(core, "AAPL", timeout=20)
        assert time.monotonic() - started < 3
        return bars, (await in_thread(core.gateway.quote, "AAPL")).last

    bars, last = run_core(scenario, None, gateway_options={"seed": 3, "tick_interval": None})
    assert len(bars) >= 1 and bars[-1].close == last == 231.37
    assert all(b.start < c.start for b, c in itertools.pairwise(bars))
    assert all(b.start.tzinfo is None and b.low <= min(b.open, b.close) for b in bars)


def test_a_gateway_over_a_socket_is_asked_like_tws(gateway) -> None:
    async def scenario(core: BrokerCore) -> list[Bar]:
        assert core.gateway is None
        return await day_bars(core, "MSFT", timeout=20)

    bars = run_core(scenario, gateway.port)
    assert bars and bars[-1].close == gateway.quote("MSFT").last


def test_an_old_paper_gateway_says_unsupported_and_the_answer_is_empty_at_once(gateway, monkeypatch) -> None:
    # A gateway of a version without history: message id 20 gets "not supported" on id -1.
    monkeypatch.delitem(gateway_session._HANDLERS, 20)

    async def scenario(core: BrokerCore) -> list[Bar]:
        started = time.monotonic()
        bars = await day_bars(core, "AAPL", timeout=20)
        assert time.monotonic() - started < 3, "the 'not supported' error must end the wait, not the timeout"
        assert core.is_connected
        return bars

    assert run_core(scenario, gateway.port) == []


def test_no_answer_is_given_up_after_the_timeout(gateway) -> None:
    async def scenario(core: BrokerCore) -> list[Bar]:
        await core.contracts.resolve("AAPL")
        await in_thread(gateway.faults.delay_messages, 5.0)  # the refusal comes too late
        started = time.monotonic()
        bars = await day_bars(core, "AAPL", timeout=0.5)
        assert 0.4 < time.monotonic() - started < 3
        await in_thread(gateway.faults.delay_messages, 0)
        return bars

    assert run_core(scenario, gateway.port) == []


def test_an_unknown_symbol_has_no_history(gateway) -> None:
    async def scenario(core: BrokerCore) -> list[Bar]:
        return await day_bars(core, "ZZZZQ", timeout=5)

    assert run_core(scenario, gateway.port) == []


def test_the_library_bars_become_local_time_bars_without_empty_ones() -> None:
    utc = datetime(2025, 3, 14, 14, 30, tzinfo=UTC)
    items = [
        _lib.BarData(date=utc, open=10.0, high=10.5, low=9.9, close=10.2, volume=1200),
        _lib.BarData(date=utc.replace(minute=31), open=-1, high=-1, low=-1, close=-1, volume=0),  # no trades
        _lib.BarData(date=date(2025, 3, 14), open=10.2, high=11, low=10, close=10.8, volume=-1),
    ]
    bars = bars_from(items)
    assert bars == [
        Bar(utc.astimezone().replace(tzinfo=None), 10.0, 10.5, 9.9, 10.2, 1200.0),
        Bar(datetime(2025, 3, 14), 10.2, 11.0, 10.0, 10.8, 0.0),
    ]
    assert bars[0].start.tzinfo is None
