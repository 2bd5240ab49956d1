"""Account state: positions, average cost, account values, and what survives a reconnect."""

from __future__ import annotations

import pytest
from ib_insync import ExecutionFilter, LimitOrder, MarketOrder

from ibticket.gateway import PaperGateway

from .helpers import connect, qualified, run_gateway_test, wait_event, wait_for, wait_status


def _value(ib, tag: str) -> float:
    return float(next(v.value for v in ib.accountValues() if v.tag == tag and v.currency == "USD"))


def test_positions_average_cost_and_account_values_follow_fills():
    # Account pushes are coalesced (at most one per account_update_interval): the second fill's figures
    # come with the next push, which the waits below wake up on.
    async def body(gw: PaperGateway) -> None:
        gw.set_quote("AAPL", bid=199.99, ask=200.01, last=200.0)
        ib = await connect(gw)
        contract = await qualified(ib, "AAPL")
        assert _value(ib, "NetLiquidation") == 1_000_000.0
        assert _value(ib, "BuyingPower") == 4_000_000.0
        buy = ib.placeOrder(contract, MarketOrder("BUY", 200))
        await wait_status(buy, "Filled")
        await wait_event(ib.positionEvent, lambda: ib.positions(), what="position update")
        (pos,) = ib.positions()
        assert pos.contract.conId == 265598 and pos.position == 200
        assert pos.avgCost == pytest.approx((200 * 200.01 + 1.0) / 200)
        await wait_event(ib.accountValueEvent,
                         lambda: _value(ib, "TotalCashValue") == pytest.approx(1_000_000 - 200 * 200.01 - 1.0)
                         and _value(ib, "GrossPositionValue") == pytest.approx(200 * 200.0), what="cash update")
        assert _value(ib, "GrossPositionValue") == pytest.approx(200 * 200.0)
        await wait_event(ib.updatePortfolioEvent, lambda: ib.portfolio(), what="portfolio row")
        (item,) = ib.portfolio()
        assert item.position == 200 and item.marketPrice == 200.0
        gw.set_quote("AAPL", bid=209.99, ask=210.01, last=210.0)
        sell = ib.placeOrder(contract, MarketOrder("SELL", 50))
        await wait_status(sell, "Filled")
        await wait_for(lambda: sell.fills and sell.fills[0].commissionReport.execId, what="commission report")
        realized = sell.fills[0].commissionReport.realizedPNL
        assert realized == pytest.approx(50 * (209.99 - (200 * 200.01 + 1.0) / 200) - 1.0)
        await wait_event(ib.positionEvent, lambda: ib.positions() and ib.positions()[0].position == 150,
                         what="reduced position")
        (view,) = gw.positions()
        assert view.position == 150 and view.realized_pnl == pytest.approx(realized)
        fresh = await ib.reqPositionsAsync()
        assert [p.position for p in fresh] == [150]
        ib.disconnect()

    run_gateway_test(body, account_update_interval=0.2)


def test_short_position_and_flip():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("F", 10.0)
        ib = await connect(gw)
        contract = await qualified(ib, "F")
        short = ib.placeOrder(contract, MarketOrder("SELL", 100))
        await wait_status(short, "Filled")
        assert gw.positions()[0].position == -100
        cover = ib.placeOrder(contract, MarketOrder("BUY", 300))
        await wait_status(cover, "Filled")
        (view,) = gw.positions()
        assert view.position == 200
        assert view.avg_cost == pytest.approx(10.0 + 1.5 * (200 / 300) / 200)
        ib.disconnect()

    run_gateway_test(body)


def test_reconnect_replays_the_same_executions_and_orders():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw, client_id=11)
        contract = await qualified(ib, "MSFT")
        filled = ib.placeOrder(contract, MarketOrder("BUY", 30, orderRef="keep-me"))
        working = ib.placeOrder(contract, LimitOrder("BUY", 5, 1.0, orderRef="working"))
        await wait_status(filled, "Filled")
        await wait_status(working, "Submitted")
        exec_ids = {f.execution.execId for f in ib.fills()}
        assert len(exec_ids) == 3
        ib.disconnect()
        await wait_for(lambda: gw.connected_client_ids() == [], what="disconnect")

        again = await connect(gw, client_id=11)
        new_fills = []
        again.execDetailsEvent += lambda trade, fill: new_fills.append(fill)
        assert {f.execution.execId for f in again.fills()} == exec_ids
        replayed = await again.reqExecutionsAsync()
        assert {f.execution.execId for f in replayed} == exec_ids
        assert {f.execution.orderRef for f in replayed} == {"keep-me"}
        # ib_insync keeps its first Fill per execId; the replayed commission reports update those
        kept = again.fills()
        assert all(f.commissionReport.execId == f.execution.execId for f in kept)
        assert sum(f.commissionReport.commission for f in kept) == pytest.approx(1.0)
        assert new_fills == []
        assert {e.exec_id for e in gw.executions()} == exec_ids
        open_refs = {t.order.orderRef for t in again.openTrades()}
        assert open_refs == {"working"}
        done = [t for t in again.trades() if t.orderStatus.status == "Filled"]
        assert [t.order.orderRef for t in done] == ["keep-me"]
        again.disconnect()

    run_gateway_test(body, partial_fills=3)


def test_server_side_drop_then_reconnect_rebuilds_state_from_the_gateway():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw, client_id=12)
        contract = await qualified(ib, "AAPL")
        trade = ib.placeOrder(contract, MarketOrder("BUY", 10, orderRef="before-drop"))
        await wait_status(trade, "Filled")
        exec_ids = {f.execution.execId for f in ib.fills()}
        assert gw.faults.drop_connections() == 1
        await wait_for(lambda: not ib.isConnected(), what="client to see the drop")
        assert ib.fills() == []  # ib_insync resets its state when the server drops the socket
        await ib.connectAsync("127.0.0.1", gw.port, clientId=12, timeout=3)
        assert {f.execution.execId for f in ib.fills()} == exec_ids
        (completed,) = [t for t in ib.trades() if t.order.orderRef == "before-drop"]
        assert completed.orderStatus.status == "Filled"
        ib.disconnect()

    run_gateway_test(body)


def test_exec_filter_client_id_and_all_open_orders():
    async def body(gw: PaperGateway) -> None:
        one, two = await connect(gw, client_id=1), await connect(gw, client_id=2)
        c1, c2 = await qualified(one, "AAPL"), await qualified(two, "AAPL")
        t1 = one.placeOrder(c1, MarketOrder("BUY", 1))
        t2 = two.placeOrder(c2, MarketOrder("BUY", 2))
        r1 = one.placeOrder(c1, LimitOrder("BUY", 1, 1.0))
        r2 = two.placeOrder(c2, LimitOrder("BUY", 1, 1.0))
        for t in (t1, t2):
            await wait_status(t, "Filled")
        for t in (r1, r2):
            await wait_status(t, "Submitted")
        mine = await one.reqExecutionsAsync(ExecutionFilter(clientId=1))
        assert [f.execution.shares for f in mine] == [1]
        # As in TWS, a client sees the executions of its own orders only (see test_exec_routing.py)
        unfiltered = await one.reqExecutionsAsync()
        assert [f.execution.shares for f in unfiltered] == [1]
        own_open = await one.reqOpenOrdersAsync()
        assert [(t.order.clientId, t.order.orderId) for t in own_open] == [(1, r1.order.orderId)]
        all_open = await one.reqAllOpenOrdersAsync()
        assert sorted(t.order.clientId for t in all_open) == [1, 2]
        completed = await one.reqCompletedOrdersAsync(False)
        assert sorted(t.order.totalQuantity for t in completed) == [1, 2]
        one.disconnect()
        two.disconnect()

    run_gateway_test(body)


def test_global_cancel_cancels_every_client_order():
    async def body(gw: PaperGateway) -> None:
        one, two = await connect(gw, client_id=1), await connect(gw, client_id=2)
        c1, c2 = await qualified(one, "IBM"), await qualified(two, "IBM")
        r1 = one.placeOrder(c1, LimitOrder("BUY", 1, 1.0))
        r2 = two.placeOrder(c2, LimitOrder("SELL", 1, 9999.0))
        await wait_status(r1, "Submitted")
        await wait_status(r2, "Submitted")
        one.reqGlobalCancel()
        await wait_status(r1, "Cancelled")
        await wait_status(r2, "Cancelled")
        assert {o.status for o in gw.orders()} == {"Cancelled"}
        one.disconnect()
        two.disconnect()

    run_gateway_test(body)


def test_pnl_subscription_updates_after_fills():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("GLD", 240.0)
        ib = await connect(gw)
        contract = await qualified(ib, "GLD")
        pnl = ib.reqPnL("DU1234567")
        await wait_event(ib.pnlEvent, lambda: pnl.dailyPnL == 0.0, what="first PnL")
        trade = ib.placeOrder(contract, MarketOrder("BUY", 100))
        await wait_status(trade, "Filled")
        await wait_event(ib.pnlEvent, lambda: pnl.unrealizedPnL == pytest.approx(-1.0),
                         what="PnL after the fill (commission)")
        ib.disconnect()

    run_gateway_test(body)


def test_account_values_and_portfolio_follow_prices_between_fills():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("QQQ", 500.0)
        ib = await connect(gw)
        contract = await qualified(ib, "QQQ")
        trade = ib.placeOrder(contract, MarketOrder("BUY", 100))
        await wait_status(trade, "Filled")
        await wait_event(ib.updatePortfolioEvent, lambda: ib.portfolio() and ib.portfolio()[0].marketPrice == 500.0,
                         what="portfolio row")
        net_before = _value(ib, "NetLiquidation")
        gw.set_price("QQQ", 510.0)  # no fill: the periodic push must carry the new valuation
        await wait_event(ib.updatePortfolioEvent, lambda: ib.portfolio()[0].marketPrice == 510.0,
                         what="repriced portfolio row")
        await wait_event(ib.accountValueEvent,
                         lambda: _value(ib, "NetLiquidation") == pytest.approx(net_before + 1000.0),
                         what="repriced NetLiquidation")
        assert ib.portfolio()[0].unrealizedPNL == pytest.approx(100 * 510.0 - (100 * 500.0 + 1.0))
        ib.disconnect()

    run_gateway_test(body, account_update_interval=0.05)


def test_a_position_closed_today_is_reported_with_its_realized_pnl_also_to_a_new_subscription():
    """As TWS's Account window: a position closed today stays (position 0, its realized P&L) in what
    reqAccountUpdates reports, live and to a client that subscribes later; the day's P&L counts it."""

    async def body(gw: PaperGateway) -> None:
        gw.set_quote("AAPL", bid=199.99, ask=200.01, last=200.0)
        ib = await connect(gw)
        contract = await qualified(ib, "AAPL")
        for action in ("BUY", "SELL"):
            await wait_status(ib.placeOrder(contract, MarketOrder(action, 10)), "Filled")
        realized = 10 * (199.99 - (10 * 200.01 + 1.0) / 10) - 1.0
        closed: list = []
        ib.updatePortfolioEvent += closed.append
        await wait_for(lambda: any(i.position == 0 and i.realizedPNL for i in closed), what="the closed row")
        assert ib.portfolio() == []  # ib_insync drops a row of position 0 from its own list
        ib.disconnect()

        later = await connect(gw, client_id=2)
        rows: list = []
        later.updatePortfolioEvent += rows.append
        await later.reqAccountUpdatesAsync("DU1234567")
        (row,) = [r for r in rows if r.contract.symbol == "AAPL"]
        assert row.position == 0 and row.realizedPNL == pytest.approx(realized, abs=0.01)
        assert row.unrealizedPNL == 0.0
        pnl = later.reqPnL("DU1234567")
        await wait_event(later.pnlEvent, lambda: pnl.dailyPnL == pytest.approx(realized, abs=0.01),
                         what="the day's P&L, the closed position's realized P&L")
        assert pnl.realizedPnL == pnl.dailyPnL
        later.disconnect()

    run_gateway_test(body)
