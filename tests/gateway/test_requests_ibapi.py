"""The same promise through IB's own client (ibapi, from ibapi-stable, at server version 176): every request
is answered on its own id (or, without an id, with its answer message) within a few seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

ibapi = pytest.importorskip("ibapi")

from ibapi.client import EClient  # noqa: E402
from ibapi.common import WshEventData  # noqa: E402
from ibapi.contract import Contract  # noqa: E402
from ibapi.scanner import ScannerSubscription  # noqa: E402
from ibapi.wrapper import EWrapper  # noqa: E402

from ibticket.gateway import GatewayConfig, GatewayThread  # noqa: E402

LIMIT = 3.0
Event = tuple[str, tuple[Any, ...]]


class Recorder(EWrapper, EClient):
    """Records every callback (by name, with its arguments) in arrival order."""

    def __init__(self) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, wrapper=self)
        self.events: list[Event] = []
        self.cond = threading.Condition()

    def record(self, name: str, *args: Any) -> None:
        with self.cond:
            self.events.append((name, args))
            self.cond.notify_all()

    def error(self, reqId, errorTime, errorCode, errorString, advancedOrderRejectJson="") -> None:
        self.record("error", reqId, errorCode, errorString)

    def wait(self, predicate: Callable[[Event], bool], what: str) -> Event:
        with self.cond:
            found: list[Event] = []

            def seen() -> bool:
                found[:] = [e for e in self.events if predicate(e)]
                return bool(found)

            if not self.cond.wait_for(seen, LIMIT):
                raise AssertionError(f"no {what} within {LIMIT} s; got {[e[0] for e in self.events][-12:]}")
            return found[0]


def _recording(name: str) -> Callable[..., None]:
    def callback(self: Recorder, *args: Any) -> None:
        self.record(name, *args)

    return callback


for _name in dir(EWrapper):
    if not _name.startswith("_") and _name not in ("error", "logAnswer") and callable(getattr(EWrapper, _name)) \
            and "ProtoBuf" not in _name:
        setattr(Recorder, _name, _recording(_name))


def stock() -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = "AAPL", "STK", "SMART", "USD"
    return c


def option() -> Contract:
    c = stock()
    c.secType, c.lastTradeDateOrContractMonth, c.strike, c.right = "OPT", "20261218", 200.0, "C"
    return c


def scan() -> ScannerSubscription:
    s = ScannerSubscription()
    s.instrument, s.locationCode, s.scanCode = "STK", "STK.US.MAJOR", "TOP_PERC_GAIN"
    return s


def wsh() -> WshEventData:
    data = WshEventData()
    data.conId = 265598
    return data


Request = Callable[[Recorder, int], None]
# (request, the callback that answers it (or "error:CODE"), whether that answer carries the request's id)
CASES: dict[str, tuple[Request, str, bool]] = {
    "reqHistoricalData": (lambda a, r: a.reqHistoricalData(r, stock(), "", "1 D", "1 min", "TRADES", 0, 2, False, []),
                          "historicalDataEnd", True),
    "reqHistoricalData SCHEDULE": (lambda a, r: a.reqHistoricalData(r, stock(), "", "2 D", "1 day", "SCHEDULE", 1, 1,
                                                                    False, []), "historicalSchedule", True),
    "reqHeadTimeStamp": (lambda a, r: a.reqHeadTimeStamp(r, stock(), "MIDPOINT", 1, 1), "headTimestamp", True),
    "reqHistoricalTicks": (lambda a, r: a.reqHistoricalTicks(r, stock(), "", "", 10, "MIDPOINT", 0, False, []),
                           "error:321", True),  # neither start nor end
    "reqHistoricalTicks BID_ASK": (lambda a, r: a.reqHistoricalTicks(r, stock(), "", time.strftime("%Y%m%d-%H:%M:%S",
                                   time.gmtime()), 10, "BID_ASK", 0, False, []), "historicalTicksBidAsk", True),
    "reqHistogramData": (lambda a, r: a.reqHistogramData(r, stock(), True, "1 week"), "histogramData", True),
    "reqRealTimeBars": (lambda a, r: a.reqRealTimeBars(r, stock(), 10, "TRADES", False, []), "error:321", True),
    "reqScannerParameters": (lambda a, r: a.reqScannerParameters(), "scannerParameters", False),
    "reqScannerSubscription": (lambda a, r: a.reqScannerSubscription(r, scan(), [], []), "scannerDataEnd", True),
    "reqMktDepthExchanges": (lambda a, r: a.reqMktDepthExchanges(), "mktDepthExchanges", False),
    "reqMktDepth": (lambda a, r: a.reqMktDepth(r, stock(), 5, False, []), "error:354", True),
    "reqTickByTickData": (lambda a, r: a.reqTickByTickData(r, stock(), "BidAsk", 0, False), "tickByTickBidAsk", True),
    "reqSmartComponents": (lambda a, r: a.reqSmartComponents(r, "ISLAND"), "smartComponents", True),
    "reqSecDefOptParams": (lambda a, r: a.reqSecDefOptParams(r, "AAPL", "", "STK", 265598),
                           "securityDefinitionOptionParameterEnd", True),
    "reqMatchingSymbols": (lambda a, r: a.reqMatchingSymbols(r, "MS"), "symbolSamples", True),
    "reqMarketRule": (lambda a, r: a.reqMarketRule(4242), "marketRule", False),
    "calculateImpliedVolatility": (lambda a, r: a.calculateImpliedVolatility(r, option(), 5.0, 230.0, []),
                                   "error:200", True),
    "calculateOptionPrice": (lambda a, r: a.calculateOptionPrice(r, option(), 0.3, 230.0, []), "error:200", True),
    "exerciseOptions": (lambda a, r: a.exerciseOptions(r, option(), 1, 1, "", 0, "", "", False), "error:200", True),
    "reqNewsProviders": (lambda a, r: a.reqNewsProviders(), "newsProviders", False),
    "reqNewsArticle": (lambda a, r: a.reqNewsArticle(r, "BRFG", "BRFG$1", []), "error:10276", True),
    "reqHistoricalNews": (lambda a, r: a.reqHistoricalNews(r, 265598, "BRFG", "", "", 10, []), "error:10276", True),
    "reqWshMetaData": (lambda a, r: a.reqWshMetaData(r), "error:10276", True),
    "reqWshEventData": (lambda a, r: a.reqWshEventData(r, wsh()), "error:10276", True),
    "reqFamilyCodes": (lambda a, r: a.reqFamilyCodes(), "familyCodes", False),
    "reqSoftDollarTiers": (lambda a, r: a.reqSoftDollarTiers(r), "softDollarTiers", True),
    "reqUserInfo": (lambda a, r: a.reqUserInfo(r), "userInfo", True),
    "reqPositionsMulti": (lambda a, r: a.reqPositionsMulti(r, "DU1234567", ""), "positionMultiEnd", True),
    "reqPnLSingle": (lambda a, r: a.reqPnLSingle(r, "DU1234567", "", 265598), "pnlSingle", True),
    "queryDisplayGroups": (lambda a, r: a.queryDisplayGroups(r), "displayGroupList", True),
    "subscribeToGroupEvents": (lambda a, r: a.subscribeToGroupEvents(r, 1), "error:321", True),
    "requestFA": (lambda a, r: a.requestFA(1), "error:321", False),
    "replaceFA": (lambda a, r: a.replaceFA(r, 1, "<ListOfGroups/>"), "error:321", True),
}


@pytest.fixture(scope="module")
def app() -> Iterator[Recorder]:
    with GatewayThread(GatewayConfig(seed=2, tick_interval=None)) as gw:
        recorder = Recorder()
        recorder.connect("127.0.0.1", gw.port, clientId=41)
        thread = threading.Thread(target=recorder.run, daemon=True)
        thread.start()
        recorder.wait(lambda e: e[0] == "nextValidId", "nextValidId")
        assert recorder.serverVersion() == 176
        yield recorder
        recorder.disconnect()
        thread.join(5)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_request_is_answered_through_ibapi(app: Recorder, name: str) -> None:
    request, answer, with_id = CASES[name]
    req_id = 1000 + sorted(CASES).index(name)
    started = time.monotonic()
    request(app, req_id)
    if answer.startswith("error:"):
        code = int(answer.split(":")[1])
        expected_id = req_id if with_id else -1
        app.wait(lambda e: e[0] == "error" and e[1][0] == expected_id and e[1][1] == code, answer)
    else:
        app.wait(lambda e: e[0] == answer and (not with_id or e[1][0] == req_id), answer)
    assert time.monotonic() - started < LIMIT
    unsupported = [e for e in app.events if e[0] == "error" and e[1][1] == 321 and "not supported" in e[1][2]]
    assert unsupported == []
