"""TRAIL and TRAIL LIMIT through ib_insync: the stop follows the best price, never moves back, and is
reported in openOrder (trailStopPrice), as TWS does."""

from __future__ import annotations

import itertools

import pytest
from ib_insync import IB, LimitOrder, Order

from ibticket.gateway import PaperGateway

from .helpers import ErrorLog, connect, qualified, run_gateway_test, wait_for, wait_status

_watchers = itertools.count(50)


async def reported(gw: PaperGateway, order_id: int) -> Order:
    """The order as a client that has never seen it decodes it from openOrder (reqAllOpenOrders).

    ib_insync copies only price, quantity and type from later openOrders onto a Trade it knows, so each
    look is taken by a new client."""
    watcher = await connect(gw, client_id=next(_watchers))
    try:
        (trade,) = [t for t in await watcher.reqAllOpenOrdersAsync() if t.order.orderId == order_id]
        return trade.order
    finally:
        watcher.disconnect()


def trail(action: str, qty: int, **fields: object) -> Order:
    return Order(action=action, totalQuantity=qty, orderType="TRAIL", **fields)


def stop_of(gw: PaperGateway, order_id: int) -> float | None:
    return next(v.trail_stop_price for v in gw.orders() if v.order_id == order_id)


def test_a_sell_trail_rises_with_the_bid_never_falls_and_fills_at_market():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 100.0)
        ib = await connect(gw)
        contract = await qualified(ib, "AAPL")
        announced: list[int] = []
        trade = ib.placeOrder(contract, trail("SELL", 10, auxPrice=1.0))
        oid = trade.order.orderId
        await wait_status(trade, "PreSubmitted")  # after its openOrder
        ib.openOrderEvent += lambda t: announced.append(t.order.orderId)
        assert (await reported(gw, oid)).trailStopPrice == 99.0
        gw.set_price("AAPL", 102.0)
        assert stop_of(gw, oid) == 101.0
        await wait_for(lambda: announced == [oid], what="openOrder with the new stop")
        assert (await reported(gw, oid)).trailStopPrice == 101.0
        gw.set_price("AAPL", 101.5)  # falls back: the stop stays
        assert stop_of(gw, oid) == 101.0
        gw.set_price("AAPL", 103.0)
        assert stop_of(gw, oid) == 102.0
        gw.set_price("AAPL", 101.9)  # last <= stop: a market order now
        await wait_status(trade, "Filled")
        assert trade.fills[0].execution.price == 101.9
        assert len(announced) == 3  # the moves to 101 and 102, then the openOrder of the fill
        ib.disconnect()

    run_gateway_test(body)


def test_a_buy_trail_by_percent_falls_with_the_ask_and_never_rises():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("MSFT", 200.0)
        ib = await connect(gw)
        contract = await qualified(ib, "MSFT")
        trade = ib.placeOrder(contract, trail("BUY", 5, trailingPercent=1.0))
        oid = trade.order.orderId
        await wait_status(trade, "PreSubmitted")
        assert stop_of(gw, oid) == 202.0
        gw.set_price("MSFT", 190.0)
        assert stop_of(gw, oid) == 191.9
        gw.set_price("MSFT", 191.5)
        assert stop_of(gw, oid) == 191.9  # the stop of a buy only falls
        order = await reported(gw, oid)
        assert (order.trailStopPrice, order.trailingPercent) == (191.9, 1.0)
        gw.set_price("MSFT", 192.0)
        await wait_status(trade, "Filled")
        assert trade.fills[0].execution.price == 192.0
        ib.disconnect()

    run_gateway_test(body)


def test_an_initial_trail_stop_price_holds_until_the_trail_passes_it():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("IBM", 100.0)
        ib = await connect(gw)
        contract = await qualified(ib, "IBM")
        trade = ib.placeOrder(contract, trail("SELL", 5, auxPrice=2.0, trailStopPrice=99.0))
        oid = trade.order.orderId
        await wait_status(trade, "PreSubmitted")
        assert stop_of(gw, oid) == 99.0  # above bid - 2 = 98: kept
        gw.set_price("IBM", 100.5)
        assert stop_of(gw, oid) == 99.0
        gw.set_price("IBM", 101.5)
        assert stop_of(gw, oid) == 99.5
        ib.disconnect()

    run_gateway_test(body)


def test_a_trail_limit_carries_its_limit_at_the_offset_and_keeps_it_after_the_trigger():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("NVDA", 100.0)
        ib = await connect(gw)
        contract = await qualified(ib, "NVDA")
        order = Order(action="SELL", totalQuantity=10, orderType="TRAIL LIMIT", auxPrice=1.0, lmtPriceOffset=0.5)
        trade = ib.placeOrder(contract, order)
        oid = trade.order.orderId
        await wait_status(trade, "PreSubmitted")
        seen = await reported(gw, oid)
        assert (seen.trailStopPrice, seen.lmtPrice, seen.lmtPriceOffset) == (99.0, 98.5, 0.5)
        gw.set_price("NVDA", 102.0)
        await wait_for(lambda: trade.order.lmtPrice == 100.5, what="the limit moved (openOrder)")
        assert stop_of(gw, oid) == 101.0
        gw.set_price("NVDA", 100.0)  # gapped through the stop: a limit at 100.5, which the bid does not reach
        await wait_status(trade, "Submitted")
        assert trade.fills == []
        gw.set_price("NVDA", 100.4)
        assert stop_of(gw, oid) == 101.0 and trade.fills == []
        gw.set_price("NVDA", 100.6)
        await wait_status(trade, "Filled")
        assert trade.fills[0].execution.price >= 100.5
        ib.disconnect()

    run_gateway_test(body)


def test_a_trail_limit_with_a_limit_price_keeps_that_distance():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AMD", 100.0)
        ib = await connect(gw)
        contract = await qualified(ib, "AMD")
        order = Order(action="BUY", totalQuantity=10, orderType="TRAIL LIMIT", auxPrice=0.5, lmtPrice=101.0)
        trade = ib.placeOrder(contract, order)
        oid = trade.order.orderId
        await wait_status(trade, "PreSubmitted")
        assert stop_of(gw, oid) == 100.5
        gw.set_price("AMD", 98.0)
        await wait_for(lambda: trade.order.lmtPrice == 99.0, what="the limit followed the stop")
        seen = await reported(gw, oid)
        assert (seen.trailStopPrice, seen.lmtPriceOffset) == (98.5, 0.5)
        ib.disconnect()

    run_gateway_test(body)


def test_a_modify_keeps_the_stop_unless_it_changes_the_trail():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("SPY", 500.0)
        ib = await connect(gw)
        contract = await qualified(ib, "SPY")
        trade = ib.placeOrder(contract, trail("SELL", 10, auxPrice=5.0))
        oid = trade.order.orderId
        await wait_status(trade, "PreSubmitted")
        gw.set_price("SPY", 510.0)
        gw.set_price("SPY", 506.0)
        assert stop_of(gw, oid) == 505.0
        trade.order.totalQuantity = 20
        ib.placeOrder(contract, trade.order)
        await wait_for(lambda: trade.orderStatus.remaining == 20, what="the modify")
        assert stop_of(gw, oid) == 505.0  # not back to the market: a trailing stop never moves back
        trade.order.auxPrice = 2.0
        ib.placeOrder(contract, trade.order)
        await wait_for(lambda: stop_of(gw, oid) == 504.0, what="a new trail from the market")
        ib.disconnect()

    run_gateway_test(body)


def test_a_held_bracket_child_starts_trailing_when_the_parent_fills():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("QQQ", 100.0)
        ib = await connect(gw)
        contract = await qualified(ib, "QQQ")
        parent = LimitOrder("BUY", 10, 99.0, orderId=ib.client.getReqId(), transmit=False)
        child = trail("SELL", 10, auxPrice=2.0, orderId=ib.client.getReqId(), parentId=parent.orderId)
        parent_trade, child_trade = ib.placeOrder(contract, parent), ib.placeOrder(contract, child)
        await wait_status(child_trade, "PreSubmitted")
        gw.set_price("QQQ", 103.0)
        assert stop_of(gw, child.orderId) is None  # held: it does not trail yet
        gw.set_price("QQQ", 98.5)
        await wait_status(parent_trade, "Filled")
        assert stop_of(gw, child.orderId) == 96.5
        gw.set_price("QQQ", 96.0)
        await wait_status(child_trade, "Filled")
        ib.disconnect()

    run_gateway_test(body)


@pytest.mark.parametrize(("fields", "code", "says"), [
    ({"orderType": "TRAIL", "auxPrice": 1.0, "trailingPercent": 1.0}, 321, "not both"),
    ({"orderType": "TRAIL"}, 321, "needs either a trailing amount"),
    ({"orderType": "TRAIL", "trailingPercent": 150.0}, 321, "must be above 0 and below 100"),
    ({"orderType": "TRAIL", "auxPrice": 0.005}, 110, "minimum price variation"),
    ({"orderType": "TRAIL", "auxPrice": 1.0, "trailStopPrice": -5.0}, 321, "trailing stop price"),
    ({"orderType": "TRAIL LIMIT", "auxPrice": 1.0}, 321, "limit price offset"),
])
def test_trailing_orders_tws_refuses(fields: dict[str, object], code: int, says: str):
    async def body(gw: PaperGateway) -> None:
        ib: IB = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        trade = ib.placeOrder(contract, Order(action="SELL", totalQuantity=1, **fields))
        await wait_for(lambda: errors.codes(trade.order.orderId), what="the refusal")
        assert errors.codes(trade.order.orderId) == [code]
        assert says in errors.text(code)
        assert gw.orders() == []
        ib.disconnect()

    run_gateway_test(body)


def test_a_trailing_stop_is_margin_checked_at_the_market_not_at_its_trailing_amount():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 200.0)
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        # 20,000 short at 200 is 4M against 100k: a trail amount of 1.00 is no price to value it at
        trade = ib.placeOrder(contract, trail("SELL", 20_000, auxPrice=1.0))
        await wait_status(trade, "Cancelled")
        assert errors.codes(trade.order.orderId) == [201]
        ib.disconnect()

    run_gateway_test(body, start_cash=100_000.0)
