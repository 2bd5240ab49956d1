"""No request hangs: every request method of ib_insync's IB, over the socket, ends within a few seconds,
with data where the gateway simulates it, or with the error TWS sends on the request's own id."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from ib_insync import IB, Contract, LimitOrder, Option, RequestError, ScannerSubscription, Stock, WshEventData

from ibticket.gateway import PaperGateway

from .helpers import connect, qualified, run_gateway_test, wait_for

LIMIT = 3.0  # seconds any request may take
OPTION = Option("AAPL", "20261218", 200.0, "C", "SMART", currency="USD")
MAJOR = ScannerSubscription(instrument="STK", locationCode="STK.US.MAJOR", scanCode="MOST_ACTIVE")


class Errors:
    def __init__(self, ib: IB) -> None:
        self.items: list[tuple[int, int, str]] = []
        ib.errorEvent += lambda req_id, code, text, _contract: self.items.append((req_id, code, text))

    async def on_own_id(self, code: int) -> None:
        """This error arrives, on a request's id (an error on -1 would end no request)."""
        await wait_for(lambda: any(c == code and r > 0 for r, c, _t in self.items), LIMIT, f"error {code}")

    def unsupported(self) -> list[tuple[int, int, str]]:
        return [e for e in self.items if e[1] == 321 and "not supported" in e[2]]


Case = Callable[[IB, Contract, Errors, PaperGateway], Awaitable[None]]


async def ends(awaitable: Awaitable[Any]) -> Any:
    return await asyncio.wait_for(awaitable, LIMIT)


async def refused(awaitable: Awaitable[Any], code: int) -> None:
    with pytest.raises(RequestError) as info:
        await ends(awaitable)
    assert info.value.code == code and info.value.reqId > 0


async def served_in_order(ib: IB, errors: Errors) -> None:
    """A request without an answer was read and not refused: the next request's answer follows it."""
    await ends(ib.reqCurrentTimeAsync())
    assert errors.unsupported() == []


def _now() -> datetime:
    return datetime.now(UTC)


CASES: dict[str, Case] = {
    # --- history ---
    "reqHistoricalData": lambda ib, c, e, gw: _non_empty(ib.reqHistoricalDataAsync(c, "", "1 D", "5 mins", "TRADES",
                                                                                   True)),
    "reqHistoricalSchedule": lambda ib, c, e, gw: _schedule(ib, c),
    "reqHistoricalTicks": lambda ib, c, e, gw: _non_empty(ib.reqHistoricalTicksAsync(c, "", _now(), 50, "TRADES",
                                                                                     False)),
    "reqHeadTimeStamp": lambda ib, c, e, gw: _head(ib, c),
    "reqHistogramData": lambda ib, c, e, gw: _non_empty(ib.reqHistogramDataAsync(c, True, "3 days")),
    "reqRealTimeBars": lambda ib, c, e, gw: _real_time_bars(ib, c),
    # --- scanners ---
    "reqScannerData": lambda ib, c, e, gw: _non_empty(ib.reqScannerDataAsync(MAJOR)),
    "reqScannerSubscription": lambda ib, c, e, gw: _scanner_subscription(ib),
    "reqScannerParameters": lambda ib, c, e, gw: _xml(ib),
    # --- market data ---
    "reqMktData": lambda ib, c, e, gw: _ticker(ib, c),
    "reqTickers": lambda ib, c, e, gw: _non_empty(ib.reqTickersAsync(c)),
    "reqMarketDataType": lambda ib, c, e, gw: _quiet(ib, e, ib.reqMarketDataType, 1),
    "reqMktDepth": lambda ib, c, e, gw: _subscription(e, 354, ib.reqMktDepth, c),
    "reqMktDepthExchanges": lambda ib, c, e, gw: _equal(ib.reqMktDepthExchangesAsync(), []),
    "reqTickByTickData": lambda ib, c, e, gw: _tick_by_tick(ib, c),
    "reqSmartComponents": lambda ib, c, e, gw: _non_empty(ib.reqSmartComponentsAsync("ISLAND")),
    # --- contracts ---
    "qualifyContracts": lambda ib, c, e, gw: _non_empty(ib.qualifyContractsAsync(Stock("MSFT", "SMART", "USD"))),
    "reqContractDetails": lambda ib, c, e, gw: _non_empty(ib.reqContractDetailsAsync(c)),
    "reqMatchingSymbols": lambda ib, c, e, gw: _non_empty(ib.reqMatchingSymbolsAsync("AA")),
    "reqMarketRule": lambda ib, c, e, gw: _market_rules(ib),
    "reqSecDefOptParams": lambda ib, c, e, gw: _equal(ib.reqSecDefOptParamsAsync("AAPL", "", "STK", c.conId), []),
    "calculateImpliedVolatility": lambda ib, c, e, gw: refused(ib.calculateImpliedVolatilityAsync(OPTION, 5.0, 230.0),
                                                               200),
    "calculateOptionPrice": lambda ib, c, e, gw: refused(ib.calculateOptionPriceAsync(OPTION, 0.3, 230.0), 200),
    "exerciseOptions": lambda ib, c, e, gw: _subscription(e, 200, ib.exerciseOptions, OPTION, 1, 1, "", 0),
    # --- news, fundamentals, WSH ---
    "reqNewsProviders": lambda ib, c, e, gw: _equal(ib.reqNewsProvidersAsync(), []),
    "reqNewsArticle": lambda ib, c, e, gw: refused(ib.reqNewsArticleAsync("BRFG", "BRFG$1"), 10276),
    "reqHistoricalNews": lambda ib, c, e, gw: refused(ib.reqHistoricalNewsAsync(c.conId, "BRFG", "", "", 10), 10276),
    "reqNewsBulletins": lambda ib, c, e, gw: _quiet(ib, e, ib.reqNewsBulletins, True),
    "reqFundamentalData": lambda ib, c, e, gw: refused(ib.reqFundamentalDataAsync(c, "ReportsFinSummary"), 430),
    "reqWshMetaData": lambda ib, c, e, gw: _subscription(e, 10276, ib.reqWshMetaData),
    "reqWshEventData": lambda ib, c, e, gw: _subscription(e, 10276, ib.reqWshEventData, WshEventData(conId=c.conId)),
    "getWshMetaData": lambda ib, c, e, gw: refused(ib.getWshMetaDataAsync(), 10276),
    "getWshEventData": lambda ib, c, e, gw: refused(ib.getWshEventDataAsync(WshEventData(conId=c.conId)), 10276),
    # --- account, orders, FA ---
    "reqCurrentTime": lambda ib, c, e, gw: _non_empty(ib.reqCurrentTimeAsync()),
    "reqUserInfo": lambda ib, c, e, gw: ends(ib.reqUserInfoAsync()),
    "reqAccountUpdates": lambda ib, c, e, gw: ends(ib.reqAccountUpdatesAsync(ib.wrapper.accounts[0])),
    "reqAccountUpdatesMulti": lambda ib, c, e, gw: ends(ib.reqAccountUpdatesMultiAsync(ib.wrapper.accounts[0])),
    "reqAccountSummary": lambda ib, c, e, gw: ends(ib.reqAccountSummaryAsync()),
    "reqPositions": lambda ib, c, e, gw: ends(ib.reqPositionsAsync()),
    "reqPnL": lambda ib, c, e, gw: _pnl(ib.reqPnL(ib.wrapper.accounts[0]), "dailyPnL"),
    "reqPnLSingle": lambda ib, c, e, gw: _pnl(ib.reqPnLSingle(ib.wrapper.accounts[0], "", c.conId), "value"),
    "reqOpenOrders": lambda ib, c, e, gw: ends(ib.reqOpenOrdersAsync()),
    "reqAllOpenOrders": lambda ib, c, e, gw: ends(ib.reqAllOpenOrdersAsync()),
    "reqAutoOpenOrders": lambda ib, c, e, gw: _quiet(ib, e, ib.reqAutoOpenOrders, True),
    "reqCompletedOrders": lambda ib, c, e, gw: ends(ib.reqCompletedOrdersAsync(False)),
    "reqExecutions": lambda ib, c, e, gw: ends(ib.reqExecutionsAsync()),
    "reqGlobalCancel": lambda ib, c, e, gw: _quiet(ib, e, ib.reqGlobalCancel),
    "whatIfOrder": lambda ib, c, e, gw: _non_empty(ib.whatIfOrderAsync(c, LimitOrder("BUY", 1, 100.0))),
    "requestFA": lambda ib, c, e, gw: _request_fa(ib, e),
    "replaceFA": lambda ib, c, e, gw: _subscription(e, 321, ib.replaceFA, 1, "<ListOfGroups/>"),
}


async def _non_empty(awaitable: Awaitable[Any]) -> None:
    assert await ends(awaitable)


async def _equal(awaitable: Awaitable[Any], expected: Any) -> None:
    assert await ends(awaitable) == expected


async def _subscription(errors: Errors, code: int, request: Callable[..., Any], *args: Any) -> None:
    """A request the library does not wait for: its refusal comes on its own id."""
    request(*args)
    await errors.on_own_id(code)


async def _quiet(ib: IB, errors: Errors, request: Callable[..., Any], *args: Any) -> None:
    request(*args)
    await served_in_order(ib, errors)


async def _schedule(ib: IB, contract: Contract) -> None:
    schedule = await ends(ib.reqHistoricalScheduleAsync(contract, 3))
    assert schedule.timeZone == "US/Eastern" and len(schedule.sessions) == 3


async def _head(ib: IB, contract: Contract) -> None:
    head = await ends(ib.reqHeadTimeStampAsync(contract, "TRADES", True, 2))
    assert isinstance(head, datetime) and head < _now()


async def _scanner_subscription(ib: IB) -> None:
    data = ib.reqScannerSubscription(MAJOR)
    await wait_for(lambda: len(data) > 0, LIMIT, "scanner rows")
    ib.cancelScannerSubscription(data)


async def _xml(ib: IB) -> None:
    assert (await ends(ib.reqScannerParametersAsync())).startswith("<?xml")


async def _ticker(ib: IB, contract: Contract) -> None:
    ticker = ib.reqMktData(contract)
    await wait_for(lambda: ticker.last == ticker.last and ticker.last > 0, LIMIT, "a last price")
    ib.cancelMktData(contract)


async def _real_time_bars(ib: IB, contract: Contract) -> None:
    bars = ib.reqRealTimeBars(contract, 5, "MIDPOINT", False)
    await wait_for(lambda: len(bars) > 0, 5.5, "a 5-second bar")  # bars come on the clock's 5 seconds
    ib.cancelRealTimeBars(bars)


async def _tick_by_tick(ib: IB, contract: Contract) -> None:
    ticker = ib.reqTickByTickData(contract, "BidAsk")
    await wait_for(lambda: len(ticker.tickByTicks) > 0, LIMIT, "a bid/ask tick")
    ib.cancelTickByTickData(contract, "BidAsk")


async def _market_rules(ib: IB) -> None:
    (increment,) = await ends(ib.reqMarketRuleAsync(26))
    assert increment.increment == 0.01
    started = time.monotonic()
    assert await ends(ib.reqMarketRuleAsync(9999)) == []  # answered: the library's 1 s timeout gives None
    assert time.monotonic() - started < 0.5


async def _pnl(record: Any, field: str) -> None:
    await wait_for(lambda: not math.isnan(getattr(record, field)), LIMIT, f"{type(record).__name__}.{field}")


async def _request_fa(ib: IB, errors: Errors) -> None:
    """requestFA has no id: TWS refuses it on -1 at once; ib_insync gives up after its own 4 s."""
    task = asyncio.ensure_future(ib.requestFAAsync(1))
    await wait_for(lambda: any(r == -1 and c == 321 and "non FA" in t for r, c, t in errors.items), LIMIT, "321")
    task.cancel()


def _request_methods() -> set[str]:
    names = {n for n in dir(IB) if n.startswith(("req", "calculate", "getWsh")) and not n.endswith("Async")}
    return names | {"exerciseOptions", "requestFA", "replaceFA", "whatIfOrder", "qualifyContracts"}


def test_the_table_has_every_request_method_of_the_library() -> None:
    assert _request_methods() - set(CASES) == set()


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_request_ends_within_a_few_seconds(name: str) -> None:
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw, client_id=5)
        ib.RaiseRequestErrors = True
        errors = Errors(ib)
        try:
            contract = await qualified(ib, "AAPL")
            started = time.monotonic()
            await CASES[name](ib, contract, errors, gw)
            assert time.monotonic() - started < LIMIT + 2.5  # real-time bars wait for the clock's next 5 s
            assert errors.unsupported() == [], "no request may get 'unknown message id' on id -1"
        finally:
            ib.disconnect()

    run_gateway_test(body, timeout=15.0)
