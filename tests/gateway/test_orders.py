"""Order entry and matching through ib_insync: every order type and TIF, partial fills, cancel, modify."""

from __future__ import annotations

import pytest
from ib_insync import LimitOrder, MarketOrder, Order, StopLimitOrder, StopOrder

from ibticket.gateway import PaperGateway

from .helpers import ErrorLog, connect, qualified, run_gateway_test, wait_for, wait_status


def test_market_orders_fill_at_the_touch_with_commission_and_order_ref():
    async def body(gw: PaperGateway) -> None:
        gw.set_quote("AAPL", bid=199.98, ask=200.02, last=200.0)
        ib = await connect(gw, client_id=4)
        contract = await qualified(ib, "AAPL")
        commissions = []
        ib.commissionReportEvent += lambda trade, fill, report: commissions.append(report)
        buy = ib.placeOrder(contract, MarketOrder("BUY", 100, orderRef="ticket-1"))
        await wait_status(buy, "Filled")
        await wait_for(lambda: len(commissions) == 1, what="commission report")
        assert buy.orderStatus.avgFillPrice == 200.02
        assert buy.orderStatus.clientId == 4
        assert buy.order.permId > 0
        (fill,) = buy.fills
        assert (fill.execution.side, fill.execution.shares, fill.execution.price) == ("BOT", 100, 200.02)
        assert fill.execution.orderRef == "ticket-1"
        assert fill.execution.clientId == 4
        assert fill.commissionReport.commission == 1.0  # max(1.0, 0.005 * 100)
        assert buy.order.orderRef == "ticket-1"
        sell = ib.placeOrder(contract, MarketOrder("SELL", 300, orderRef="ticket-2"))
        await wait_status(sell, "Filled")
        assert sell.fills[0].execution.price == 199.98
        await wait_for(lambda: len(commissions) == 2, what="second commission report")
        assert commissions[1].commission == 1.5  # 0.005 * 300
        statuses = [entry.status for entry in buy.log]
        assert statuses[:2] == ["PendingSubmit", "PreSubmitted"] and statuses[-1] == "Filled"
        ib.disconnect()

    run_gateway_test(body)


def test_limit_order_rests_then_fills_when_the_price_crosses():
    async def body(gw: PaperGateway) -> None:
        gw.set_quote("MSFT", bid=409.99, ask=410.01, last=410.0)
        ib = await connect(gw)
        contract = await qualified(ib, "MSFT")
        buy = ib.placeOrder(contract, LimitOrder("BUY", 50, 405.0, tif="GTC", orderRef="lmt"))
        await wait_status(buy, "Submitted")
        assert buy.fills == []
        gw.set_price("MSFT", 406.0)
        assert gw.orders()[0].status == "Submitted"
        gw.set_price("MSFT", 404.5)
        await wait_status(buy, "Filled")
        # a resting limit that the market moved through fills at its own price
        assert buy.fills[0].execution.price == 405.0
        sell = ib.placeOrder(contract, LimitOrder("SELL", 50, 404.0))
        await wait_status(sell, "Filled")
        assert sell.fills[0].execution.price == 404.5  # marketable on entry: takes the bid
        ib.disconnect()

    run_gateway_test(body)


def test_stop_order_triggers_on_last_and_fills_at_market():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("TSLA", 250.0)
        ib = await connect(gw)
        contract = await qualified(ib, "TSLA")
        stop = ib.placeOrder(contract, StopOrder("SELL", 10, 245.0))
        await wait_status(stop, "PreSubmitted")
        gw.set_price("TSLA", 246.0)
        assert stop.fills == []
        gw.set_quote("TSLA", bid=244.9, ask=245.1, last=244.95)
        await wait_status(stop, "Filled")
        assert stop.fills[0].execution.price == 244.9
        ib.disconnect()

    run_gateway_test(body)


def test_stop_limit_becomes_a_limit_when_triggered():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("NVDA", 130.0)
        ib = await connect(gw)
        contract = await qualified(ib, "NVDA")
        trade = ib.placeOrder(contract, StopLimitOrder("BUY", 20, 132.0, 131.0))
        await wait_status(trade, "PreSubmitted")
        gw.set_quote("NVDA", bid=132.4, ask=132.6, last=132.5)  # triggers, but the ask is above the limit
        await wait_status(trade, "Submitted")
        assert trade.fills == []
        gw.set_price("NVDA", 131.8)
        await wait_status(trade, "Filled")
        assert trade.fills[0].execution.price == 132.0
        ib.disconnect()

    run_gateway_test(body)


def test_day_and_gtc_orders_rest_and_day_orders_expire_at_end_of_day():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("IBM", 220.0)
        ib = await connect(gw)
        contract = await qualified(ib, "IBM")
        day = ib.placeOrder(contract, LimitOrder("BUY", 5, 210.0, tif="DAY"))
        gtc = ib.placeOrder(contract, LimitOrder("BUY", 5, 209.0, tif="GTC"))
        await wait_status(day, "Submitted")
        await wait_status(gtc, "Submitted")
        assert gw.expire_day_orders() == 1
        await wait_status(day, "Cancelled")
        assert gtc.orderStatus.status == "Submitted"
        assert gtc.order.tif == "GTC"
        ib.disconnect()

    run_gateway_test(body)


def test_ioc_fills_what_it_can_now_and_cancels_the_rest():
    async def body(gw: PaperGateway) -> None:
        gw.set_quote("AMD", bid=149.99, ask=150.01, last=150.0, ask_size=300)
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AMD")
        ioc = ib.placeOrder(contract, LimitOrder("BUY", 1000, 150.05, tif="IOC"))
        await wait_status(ioc, "Cancelled")
        assert sum(f.execution.shares for f in ioc.fills) == 300
        assert ioc.orderStatus.filled == 300
        unmarketable = ib.placeOrder(contract, LimitOrder("BUY", 100, 149.0, tif="IOC"))
        await wait_status(unmarketable, "Cancelled")
        assert unmarketable.fills == []
        assert errors.codes(unmarketable.order.orderId) == [202]
        ib.disconnect()

    run_gateway_test(body)


@pytest.mark.parametrize("parts", [3, 5])
def test_partial_fills_arrive_as_separate_executions(parts):
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        contract = await qualified(ib, "SPY")
        seen = []
        ib.execDetailsEvent += lambda trade, fill: seen.append((trade.orderStatus.status, fill.execution.cumQty))
        trade = ib.placeOrder(contract, MarketOrder("BUY", 100))
        await wait_status(trade, "Filled")
        await wait_for(lambda: all(f.commissionReport.execId for f in trade.fills), what="commission reports")
        assert len(trade.fills) == parts
        assert sum(f.execution.shares for f in trade.fills) == 100
        assert trade.filled() == 100
        assert len({f.execution.execId for f in trade.fills}) == parts
        assert [f.execution.cumQty for f in trade.fills] == sorted(f.execution.cumQty for f in trade.fills)
        assert len(seen) == parts
        assert sum(f.commissionReport.commission for f in trade.fills) == pytest.approx(1.0)
        ib.disconnect()

    run_gateway_test(body, partial_fills=parts, fill_interval=0.01)


def test_cancel_and_cancel_of_unknown_order():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 200.0)
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        trade = ib.placeOrder(contract, LimitOrder("BUY", 10, 190.0))
        await wait_status(trade, "Submitted")
        cancelled = []
        trade.cancelledEvent += cancelled.append
        ib.cancelOrder(trade.order)
        await wait_status(trade, "Cancelled")
        await wait_for(lambda: 202 in errors.codes(trade.order.orderId), what="error 202")
        assert errors.text(202) == "Order Canceled - reason:"
        assert cancelled == [trade]
        # cancelling again: the order is done
        ib.client.cancelOrder(trade.order.orderId)
        await wait_for(lambda: 10148 in errors.codes(), what="10148")
        ib.client.cancelOrder(999_999)
        await wait_for(lambda: 10147 in errors.codes(999_999), what="10147")
        assert errors.text(10147) == "OrderId 999999 that needs to be cancelled is not found."
        ib.disconnect()

    run_gateway_test(body)


def test_modify_changes_price_and_quantity_and_can_make_it_fill():
    async def body(gw: PaperGateway) -> None:
        gw.set_quote("META", bid=559.9, ask=560.1, last=560.0)
        ib = await connect(gw)
        contract = await qualified(ib, "META")
        trade = ib.placeOrder(contract, LimitOrder("BUY", 10, 550.0))
        await wait_status(trade, "Submitted")
        trade.order.totalQuantity = 20
        trade.order.lmtPrice = 551.0
        ib.placeOrder(contract, trade.order)
        await wait_for(lambda: trade.orderStatus.remaining == 20, what="modify ack")
        assert [e.message for e in trade.log if e.message.startswith("Modif")] == ["Modify"]
        (view,) = gw.orders()
        assert (view.total_qty, view.lmt_price, view.status) == (20, 551.0, "Submitted")
        trade.order.lmtPrice = 561.0
        ib.placeOrder(contract, trade.order)
        await wait_status(trade, "Filled")
        assert trade.orderStatus.filled == 20
        assert trade.fills[0].execution.price == 560.1
        ib.disconnect()

    run_gateway_test(body)


def test_reused_order_id_gets_103():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        first = ib.placeOrder(contract, MarketOrder("BUY", 1))
        await wait_status(first, "Filled")
        stale_id = first.order.orderId - 1
        ib.client.placeOrder(stale_id, contract, Order(action="BUY", totalQuantity=1, orderType="MKT"))
        await wait_for(lambda: 103 in errors.codes(stale_id), what="error 103")
        assert errors.text(103) == "Duplicate order id"
        assert len(gw.executions()) == 1
        ib.disconnect()

    run_gateway_test(body)


def test_order_beyond_buying_power_is_rejected_with_201():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("SPY", 500.0)
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "SPY")
        trade = ib.placeOrder(contract, MarketOrder("BUY", 10_000))  # 5M > 4x 1M cash
        await wait_status(trade, "Cancelled")
        assert 201 in errors.codes(trade.order.orderId)
        text = errors.text(201)
        assert text.startswith("Order rejected - reason:YOUR ORDER IS NOT ACCEPTED.")
        assert "EQUITY WITH LOAN VALUE [1000000.00 USD] MUST EXCEED THE INITIAL MARGIN [1250000.00 USD]" in text
        assert gw.executions() == []
        ok = ib.placeOrder(contract, MarketOrder("BUY", 7_000))  # 3.5M: within buying power
        await wait_status(ok, "Filled")
        ib.disconnect()

    run_gateway_test(body, start_cash=1_000_000.0)


def test_invalid_orders_are_refused_like_tws():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        off_tick = ib.placeOrder(contract, LimitOrder("BUY", 1, 100.001))
        zero = ib.placeOrder(contract, LimitOrder("BUY", 0, 100.0))
        relative = ib.placeOrder(contract, Order(action="BUY", totalQuantity=1, orderType="REL", auxPrice=0.01))
        await wait_for(lambda: len(errors.items) >= 3, what="three rejections")
        assert errors.codes(off_tick.order.orderId) == [110]
        assert errors.codes(zero.order.orderId) == [434]
        assert errors.codes(relative.order.orderId) == [387]
        assert gw.orders() == []
        ib.disconnect()

    run_gateway_test(body)


def test_what_if_order_reports_margin_without_trading():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 200.0)
        ib = await connect(gw)
        contract = await qualified(ib, "AAPL")
        state = await ib.whatIfOrderAsync(contract, MarketOrder("BUY", 100))
        assert float(state.initMarginChange) == pytest.approx(0.25 * 100 * 200.0, rel=1e-3)
        assert float(state.equityWithLoanAfter) == pytest.approx(1_000_000.0)
        assert gw.orders() == [] and gw.executions() == []
        ib.disconnect()

    run_gateway_test(body)
