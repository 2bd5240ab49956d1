"""The official IBKR Python client (ibapi, from ibapi-stable) as a second, independent decoder."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

ibapi = pytest.importorskip("ibapi")

from ibapi.client import EClient  # noqa: E402
from ibapi.contract import Contract  # noqa: E402
from ibapi.execution import ExecutionFilter  # noqa: E402
from ibapi.order import Order  # noqa: E402
from ibapi.order_cancel import OrderCancel  # noqa: E402
from ibapi.wrapper import EWrapper  # noqa: E402

from ibticket.gateway import GatewayConfig, GatewayThread  # noqa: E402

Event = tuple[str, tuple[Any, ...]]


class Recorder(EWrapper, EClient):
    """Records every callback in arrival order; tests wait on predicates over the record."""

    def __init__(self) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, wrapper=self)
        self.events: list[Event] = []
        self._cond = threading.Condition()

    def _add(self, name: str, *args: Any) -> None:
        with self._cond:
            self.events.append((name, args))
            self._cond.notify_all()

    def wait(self, predicate: Callable[[list[Event]], bool], timeout: float = 5.0, what: str = "events") -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.events), timeout):
                raise AssertionError(f"timed out waiting for {what}; got {[e[0] for e in self.events][-20:]}")

    def named(self, name: str) -> list[tuple[Any, ...]]:
        with self._cond:
            return [args for n, args in self.events if n == name]

    # --- callbacks --------------------------------------------------------------------------------
    def nextValidId(self, orderId: int) -> None:
        self._add("nextValidId", orderId)

    def managedAccounts(self, accountsList: str) -> None:
        self._add("managedAccounts", accountsList)

    def error(self, reqId, errorTime, errorCode, errorString, advancedOrderRejectJson="") -> None:
        self._add("error", reqId, errorCode, errorString)

    def contractDetails(self, reqId, contractDetails) -> None:
        self._add("contractDetails", reqId, contractDetails)

    def contractDetailsEnd(self, reqId) -> None:
        self._add("contractDetailsEnd", reqId)

    def tickPrice(self, reqId, tickType, price, attrib) -> None:
        self._add("tickPrice", reqId, tickType, price)

    def tickSize(self, reqId, tickType, size) -> None:
        self._add("tickSize", reqId, tickType, size)

    def tickSnapshotEnd(self, reqId) -> None:
        self._add("tickSnapshotEnd", reqId)

    def openOrder(self, orderId, contract, order, orderState) -> None:
        self._add("openOrder", orderId, contract, order, orderState)

    def openOrderEnd(self) -> None:
        self._add("openOrderEnd")

    def orderStatus(self, orderId, status, filled, remaining, avgFillPrice, permId, parentId, lastFillPrice,
                    clientId, whyHeld, mktCapPrice) -> None:
        self._add("orderStatus", orderId, status, filled, remaining, avgFillPrice, permId, clientId)

    def execDetails(self, reqId, contract, execution) -> None:
        self._add("execDetails", reqId, contract, execution)

    def execDetailsEnd(self, reqId) -> None:
        self._add("execDetailsEnd", reqId)

    def commissionAndFeesReport(self, commissionAndFeesReport) -> None:
        self._add("commission", commissionAndFeesReport)

    def completedOrder(self, contract, order, orderState) -> None:
        self._add("completedOrder", contract, order, orderState)

    def completedOrdersEnd(self) -> None:
        self._add("completedOrdersEnd")

    def position(self, account, contract, position, avgCost) -> None:
        self._add("position", account, contract, position, avgCost)

    def positionEnd(self) -> None:
        self._add("positionEnd")

    def updateAccountValue(self, key, val, currency, accountName) -> None:
        self._add("updateAccountValue", key, val, currency, accountName)

    def updatePortfolio(self, contract, position, marketPrice, marketValue, averageCost, unrealizedPNL,
                        realizedPNL, accountName) -> None:
        self._add("updatePortfolio", contract, position, marketPrice)

    def accountDownloadEnd(self, accountName) -> None:
        self._add("accountDownloadEnd", accountName)

    def currentTime(self, time) -> None:
        self._add("currentTime", time)


def has(name: str, where: Callable[[tuple[Any, ...]], bool] = lambda args: True) -> Callable[[list[Event]], bool]:
    return lambda events: any(n == name and where(args) for n, args in events)


def stock(symbol: str) -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = symbol, "STK", "SMART", "USD"
    return c


def order(action: str, qty: int, order_type: str, lmt: float | None = None, ref: str = "") -> Order:
    o = Order()
    o.action, o.totalQuantity, o.orderType, o.orderRef = action, Decimal(qty), order_type, ref
    if lmt is not None:
        o.lmtPrice = lmt
    return o


@pytest.fixture()
def app_and_gateway():
    with GatewayThread(GatewayConfig(tick_interval=None, seed=5)) as gw:
        app = Recorder()
        app.connect("127.0.0.1", gw.port, clientId=42)
        runner = threading.Thread(target=app.run, daemon=True)
        runner.start()
        try:
            app.wait(has("nextValidId"), what="nextValidId")
            yield app, gw
        finally:
            app.disconnect()
            runner.join(5)


def test_connect_and_contract_details(app_and_gateway):
    app, gw = app_and_gateway
    assert app.serverVersion() == 176
    assert app.named("managedAccounts") == [("DU1234567",)]
    assert app.named("nextValidId")[0][0] >= 1
    assert gw.connected_client_ids() == [42]
    app.reqContractDetails(1, stock("AAPL"))
    app.wait(has("contractDetailsEnd", lambda a: a[0] == 1), what="contract details")
    (details,) = [a[1] for a in app.named("contractDetails")]
    assert details.contract.conId == 265598
    assert details.contract.primaryExchange == "NASDAQ"
    assert details.longName == "APPLE INC"
    assert details.minTick == 0.01
    assert details.stockType == "COMMON"
    app.reqContractDetails(2, stock("NOPE"))
    app.wait(has("error", lambda a: a[0] == 2 and a[1] == 200), what="error 200")
    app.reqCurrentTime()
    app.wait(has("currentTime"), what="current time")
    assert abs(app.named("currentTime")[0][0] - time.time()) < 5


def test_snapshot_quotes(app_and_gateway):
    app, gw = app_and_gateway
    gw.set_quote("MSFT", bid=409.5, ask=410.5, last=410.0, bid_size=300, ask_size=400)
    app.reqMktData(7, stock("MSFT"), "", True, False, [])
    app.wait(has("tickSnapshotEnd", lambda a: a[0] == 7), what="snapshot end")
    prices = {tick: price for req_id, tick, price in app.named("tickPrice") if req_id == 7}
    assert (prices[1], prices[2], prices[4]) == (409.5, 410.5, 410.0)
    sizes = {tick: size for req_id, tick, size in app.named("tickSize") if req_id == 7}
    assert (sizes[0], sizes[3]) == (Decimal(300), Decimal(400))


def test_place_fill_and_message_order(app_and_gateway):
    app, gw = app_and_gateway
    gw.set_quote("AAPL", bid=199.9, ask=200.1, last=200.0)
    order_id = app.named("nextValidId")[0][0]
    app.placeOrder(order_id, stock("AAPL"), order("BUY", 10, "MKT", ref="ibapi-ref"))
    app.wait(has("commission"), what="commission report")
    flow = [(n, a) for n, a in app.events if n in ("openOrder", "orderStatus", "execDetails", "commission")]
    names = [n for n, _ in flow]
    assert names == ["openOrder", "orderStatus", "execDetails", "orderStatus", "openOrder", "commission"]
    _, contract, execution = flow[2][1]
    assert contract.conId == 265598
    assert (execution.side, execution.shares, execution.price) == ("BOT", Decimal(10), 200.1)
    assert execution.orderRef == "ibapi-ref" and execution.clientId == 42 and execution.orderId == order_id
    status = flow[3][1]
    assert status[1:5] == ("Filled", Decimal(10), Decimal(0), 200.1) and status[6] == 42
    _, _, placed, state = flow[4][1]
    assert placed.orderRef == "ibapi-ref" and placed.clientId == 42 and state.status == "Filled"
    assert placed.permId == status[5] == execution.permId
    (report,) = app.named("commission")
    assert report[0].execId == execution.execId and report[0].commissionAndFees == 1.0


def test_cancel_and_replays(app_and_gateway):
    app, gw = app_and_gateway
    gw.set_price("IBM", 220.0)
    first_id = app.named("nextValidId")[0][0]
    app.placeOrder(first_id, stock("IBM"), order("BUY", 5, "MKT"))
    app.placeOrder(first_id + 1, stock("IBM"), order("BUY", 5, "LMT", lmt=200.0, ref="rest"))
    app.wait(has("orderStatus", lambda a: a[0] == first_id + 1 and a[1] == "Submitted"), what="resting order")
    app.cancelOrder(first_id + 1, OrderCancel())
    app.wait(has("orderStatus", lambda a: a[0] == first_id + 1 and a[1] == "Cancelled"), what="cancelled")
    app.wait(has("error", lambda a: a[0] == first_id + 1 and a[1] == 202), what="error 202")
    app.placeOrder(first_id, stock("IBM"), order("BUY", 5, "MKT"))  # filled id reused: 104
    app.wait(has("error", lambda a: a[0] == first_id and a[1] == 104), what="error 104")

    app.reqExecutions(9, ExecutionFilter())
    app.wait(has("execDetailsEnd", lambda a: a[0] == 9), what="executions replay")
    replayed = [a[2].execId for a in app.named("execDetails") if a[0] == 9]
    assert replayed == [e.exec_id for e in gw.executions()]
    app.reqCompletedOrders(False)
    app.wait(has("completedOrdersEnd"), what="completed orders")
    completed = {(a[1].orderRef, a[2].status) for a in app.named("completedOrder")}
    assert completed == {("", "Filled"), ("rest", "Cancelled")}
    app.reqPositions()
    app.wait(has("positionEnd"), what="positions")
    ((account, contract, qty, avg_cost),) = app.named("position")
    assert (account, contract.conId, qty) == ("DU1234567", 8314, Decimal(5))
    assert avg_cost == pytest.approx(220.0 + 1.0 / 5)
    app.reqAccountUpdates(True, "DU1234567")
    app.wait(has("accountDownloadEnd"), what="account download")
    values = {(k, c): v for k, v, c, _ in app.named("updateAccountValue")}
    assert float(values[("NetLiquidation", "USD")]) > 0
    assert [a[1] for a in app.named("updatePortfolio")] == [Decimal(5)]
