"""Quotes: streaming reqMktData from the random walk, snapshots, set_price and cancelMktData."""

from __future__ import annotations

from ib_insync import Stock

from ibticket.gateway import PaperGateway

from .helpers import connect, qualified, run_gateway_test, wait_for


def test_streaming_quotes_follow_the_random_walk_on_the_tick_grid():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        contract = await qualified(ib, "AAPL")
        ticker = ib.reqMktData(contract)
        bids: list[float] = []
        ticker.updateEvent += lambda t: bids.append(t.bid)
        await wait_for(lambda: len(set(bids)) >= 4, what="several distinct bids")
        assert ticker.marketDataType == 1
        assert ticker.minTick == 0.01
        assert 0 < ticker.bid < ticker.ask
        assert ticker.bidSize > 0 and ticker.askSize > 0
        assert ticker.volume > 0 and ticker.last > 0
        for price in (ticker.bid, ticker.ask, ticker.last):
            assert abs(price * 100 - round(price * 100)) < 1e-6
        ib.disconnect()

    run_gateway_test(body, tick_interval=0.02, seed=3)


def test_cancel_market_data_stops_the_stream():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        aapl, msft = await qualified(ib, "AAPL"), await qualified(ib, "MSFT")
        stopped, running = ib.reqMktData(aapl), ib.reqMktData(msft)
        await wait_for(lambda: stopped.bid > 0 and running.bid > 0, what="first quotes")
        ib.cancelMktData(aapl)
        await wait_for(lambda: not gw._clients[1].quotes.market_data.keys() - {running_id(ib, running)},
                       what="server to drop the subscription")
        updates_after_cancel: list[float] = []
        stopped.updateEvent += lambda t: updates_after_cancel.append(t.bid)
        msft_updates: list[float] = []
        running.updateEvent += lambda t: msft_updates.append(t.bid)
        await wait_for(lambda: len(msft_updates) >= 5, what="more MSFT ticks")
        assert updates_after_cancel == []
        ib.disconnect()

    run_gateway_test(body, tick_interval=0.02)


def running_id(ib, ticker) -> int:
    return next(req_id for req_id, t in ib.wrapper.reqId2Ticker.items() if t is ticker)


def test_snapshot_with_req_tickers_ends_with_snapshot_end():
    async def body(gw: PaperGateway) -> None:
        gw.set_quote("SPY", bid=579.98, ask=580.02, last=580.0, bid_size=700, ask_size=900)
        ib = await connect(gw)
        spy, qqq = Stock("SPY", "SMART", "USD"), Stock("QQQ", "SMART", "USD")
        await ib.qualifyContractsAsync(spy, qqq)
        first, second = await ib.reqTickersAsync(spy, qqq)
        assert (first.bid, first.ask, first.last) == (579.98, 580.02, 580.0)
        assert (first.bidSize, first.askSize) == (700, 900)
        expected = gw.quote("QQQ")
        assert (second.bid, second.ask) == (expected.bid, expected.ask)
        # a snapshot leaves no subscription behind
        assert gw._clients[1].quotes.market_data == {}
        ib.disconnect()

    run_gateway_test(body)


def test_set_price_is_streamed_to_subscribers():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        contract = await qualified(ib, "TSLA")
        ticker = ib.reqMktData(contract)
        await wait_for(lambda: ticker.last > 0, what="first quote")
        gw.set_price("TSLA", 321.45)
        await wait_for(lambda: ticker.last == 321.45, what="new last")
        assert ticker.bid == 321.45 and ticker.ask == 321.45
        gw.set_price("TSLA", 300.0, spread=0.1)
        await wait_for(lambda: (ticker.bid, ticker.ask) == (299.95, 300.05), what="new spread")
        ib.disconnect()

    run_gateway_test(body)
