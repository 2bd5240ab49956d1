"""An account without a market-data subscription: 354 for live requests, delayed ticks after type 3."""

from __future__ import annotations

from ibticket.gateway import PaperGateway

from .helpers import ErrorLog, connect, qualified, run_gateway_test, wait_for


def test_live_request_without_subscription_is_refused_with_354():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        ticker = ib.reqMktData(await qualified(ib, "AAPL"))
        req_id = ib.wrapper.ticker2ReqId["mktData"][ticker]
        await wait_for(lambda: 354 in errors.codes(req_id), what="error 354")
        assert "not subscribed" in errors.text(354)
        assert gw._clients[1].quotes.market_data == {}
        ib.disconnect()

    run_gateway_test(body, market_data_subscription=False)


def test_delayed_request_streams_delayed_ticks():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        ib.reqMarketDataType(3)
        contract = await qualified(ib, "AAPL")
        tick_types: set[int] = set()
        ib.pendingTickersEvent += lambda tickers: tick_types.update(t.tickType for tk in tickers for t in tk.ticks)
        ticker = ib.reqMktData(contract)
        await wait_for(lambda: ticker.bid > 0 and ticker.last > 0, what="delayed quote")
        assert ticker.marketDataType == 3
        assert 0 < ticker.bid <= ticker.ask
        assert {66, 67, 68, 74, 75} <= tick_types <= set(range(66, 77))
        assert 10167 in errors.codes()
        gw.set_price("AAPL", 250.0, spread=0.02)
        await wait_for(lambda: ticker.last == 250.0, what="delayed update")
        ib.disconnect()

    run_gateway_test(body, market_data_subscription=False)


def test_with_a_subscription_a_delayed_request_gets_live_data():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        ib.reqMarketDataType(3)
        ticker = ib.reqMktData(await qualified(ib, "AAPL"))
        await wait_for(lambda: ticker.bid > 0, what="quote")
        assert ticker.marketDataType == 1
        ib.disconnect()

    run_gateway_test(body)


def test_bad_market_data_type_is_refused():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        ib.reqMarketDataType(9)
        await wait_for(lambda: 321 in errors.codes(), what="error 321")
        assert gw._clients[1].quotes.data_type == 1
        ib.disconnect()

    run_gateway_test(body)
