"""The chart's history: [] at once from paper gateways (embedded or over a socket), bars from TWS's answer."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from ibticket.broker import BrokerCore
from ibticket.broker.history import Bar, bars_from, day_bars
from ibticket.broker.ib import _lib

from .corerun import in_thread, run_core


def test_the_embedded_gateway_gives_no_history_and_is_not_asked() -> None:
    async def scenario(core: BrokerCore) -> list[Bar]:
        assert core.gateway is not None
        started = time.monotonic()
        bars = await day_bars(core, "AAPL", timeout=20)
        assert time.monotonic() - started < 0.5
        return bars

    assert run_core(scenario, None, gateway_options={"seed": 3, "tick_interval": None}) == []


def test_a_paper_gateway_over_a_socket_says_unsupported_and_the_answer_is_empty_at_once(gateway) -> None:
    async def scenario(core: BrokerCore) -> list[Bar]:
        assert core.gateway is None  # as with TWS: the request is sent
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
