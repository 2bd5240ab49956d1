"""Real-time bars and tick-by-tick data from the live walk, over the socket with ib_insync."""

from __future__ import annotations

import math
from typing import Any

from ib_insync import IB, Contract, TickByTickAllLast, TickByTickBidAsk, TickByTickMidPoint

from ibticket.gateway import PaperGateway

from .helpers import connect, qualified, run_gateway_test, wait_for


def streams(body, **config):
    async def run(gw: PaperGateway):
        ib = await connect(gw, client_id=4)
        try:
            return await body(ib, await qualified(ib, "MSFT"), gw)
        finally:
            ib.disconnect()

    return run_gateway_test(run, timeout=20.0, **config)


def test_real_time_bars_come_every_five_seconds_with_the_trades_between() -> None:
    async def body(ib: IB, contract: Contract, gw: PaperGateway) -> None:
        bars = ib.reqRealTimeBars(contract, 5, "TRADES", False)
        await wait_for(lambda: len(bars) >= 1, 6.0, "the first bar")
        first, base = len(bars), gw.quote("MSFT").last
        for step in (1.0, 3.5, 2.25):
            gw.set_price("MSFT", base + step)
        await wait_for(lambda: len(bars) > first and bars[-1].close == base + 2.25, 11.0, "the bar of the trades")
        new = bars[first:]  # the three prints, in one bar or (across a 5 s mark) two; a bar opens at the last close
        assert new[0].open_ == base and max(b.high for b in new) == base + 3.5 and min(b.low for b in new) == base
        assert sum(b.count for b in new) == 3 and all(b.volume > 0 for b in new if b.count)
        assert all(b.time.timestamp() % 5 == 0 and b.low <= b.wap <= b.high for b in bars)
        ib.cancelRealTimeBars(bars)

    streams(body)


def test_a_quiet_market_still_gets_flat_bars() -> None:
    async def body(ib: IB, contract: Contract, gw: PaperGateway) -> None:
        last = gw.quote("MSFT").last
        bars = ib.reqRealTimeBars(contract, 5, "TRADES", False)
        await wait_for(lambda: len(bars) >= 1, 6.0, "a bar")
        assert (bars[0].open_, bars[0].high, bars[0].low, bars[0].close, bars[0].volume) == (last, last, last, last, 0)

    streams(body)


def test_tick_by_tick_follows_the_quote() -> None:
    async def body(ib: IB, contract: Contract, gw: PaperGateway) -> None:
        # ib_insync keeps one Ticker per contract: the three streams' ticks arrive in one list.
        ticker = ib.reqTickByTickData(contract, "Last")
        ib.reqTickByTickData(contract, "BidAsk")
        ib.reqTickByTickData(contract, "MidPoint")

        def newest(kind: type) -> Any:
            ticks = [t for t in ticker.tickByTicks if isinstance(t, kind)]
            return ticks[-1] if ticks else None

        kinds = (TickByTickAllLast, TickByTickBidAsk, TickByTickMidPoint)
        await wait_for(lambda: all(newest(k) for k in kinds), 3.0, "the first ticks")
        gw.set_quote("MSFT", 410.10, 410.20, last=410.15)
        await wait_for(lambda: newest(TickByTickBidAsk).bidPrice == 410.10, 3.0, "the new bid/ask")
        await wait_for(lambda: newest(TickByTickAllLast).price == 410.15, 3.0, "the print")
        await wait_for(lambda: math.isclose(newest(TickByTickMidPoint).midPoint, 410.15), 3.0, "the midpoint")
        assert newest(TickByTickBidAsk).askPrice == 410.20

    streams(body)
