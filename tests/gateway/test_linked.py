"""Attached orders (brackets), transmit=False/True and OCA groups, through ib_insync over the socket."""

from __future__ import annotations

from ib_insync import LimitOrder, MarketOrder, PriceCondition, StopOrder, Trade

from ibticket.gateway import PaperGateway

from .helpers import ErrorLog, connect, qualified, run_gateway_test, wait_for, wait_status


def _statuses(trade: Trade) -> list[str]:
    """The statuses the trade went through (ib_insync also logs each fill under the current status)."""
    seen: list[str] = []
    for entry in trade.log:
        if not seen or seen[-1] != entry.status:
            seen.append(entry.status)
    return seen


def test_bracket_children_wait_for_the_parent_then_the_take_profit_cancels_the_stop():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 200.0)
        ib = await connect(gw)
        contract = await qualified(ib, "AAPL")
        parent, take_profit, stop_loss = (
            ib.placeOrder(contract, o) for o in ib.bracketOrder("BUY", 100, 199.0, 205.0, 195.0))
        await wait_status(stop_loss, "PreSubmitted")
        await wait_status(parent, "Submitted")
        assert take_profit.orderStatus.status == "PreSubmitted"  # held: the parent has not filled
        assert take_profit.orderStatus.parentId == stop_loss.orderStatus.parentId == parent.order.orderId
        gw.set_price("AAPL", 205.5)  # the take-profit's price, but it is held
        assert gw.executions() == []
        gw.set_price("AAPL", 198.5)
        await wait_status(parent, "Filled")
        await wait_status(take_profit, "Submitted")  # now working; the stop waits for its price
        assert stop_loss.orderStatus.status == "PreSubmitted"
        gw.set_price("AAPL", 205.5)
        await wait_status(take_profit, "Filled")
        await wait_status(stop_loss, "Cancelled")
        assert take_profit.fills[0].execution.price == 205.0
        assert [p.position for p in gw.positions() if p.symbol == "AAPL"] == [0]
        gw.set_price("AAPL", 190.0)
        assert len(gw.executions()) == 2  # the cancelled stop never trades
        ib.disconnect()

    run_gateway_test(body)


def test_untransmitted_orders_are_inactive_until_the_last_of_the_group_transmits():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("MSFT", 400.0)
        ib = await connect(gw)
        contract = await qualified(ib, "MSFT")
        parent, take_profit, stop_loss = ib.bracketOrder("BUY", 10, 401.0, 410.0, 390.0)  # a marketable parent
        parent_trade = ib.placeOrder(contract, parent)
        tp_trade = ib.placeOrder(contract, take_profit)
        await wait_status(tp_trade, "Inactive")
        assert parent_trade.orderStatus.status == "Inactive"
        gw.set_price("MSFT", 399.0)
        assert gw.executions() == []  # not transmitted: it cannot trade
        sl_trade = ib.placeOrder(contract, stop_loss)
        await wait_status(parent_trade, "Filled")
        await wait_status(tp_trade, "Submitted")
        await wait_status(sl_trade, "PreSubmitted")
        assert parent_trade.fills[0].execution.price == 399.0
        assert _statuses(parent_trade) == ["PendingSubmit", "Inactive", "Submitted", "Filled"]
        assert _statuses(tp_trade) == ["PendingSubmit", "Inactive", "PreSubmitted", "Submitted"]
        ib.disconnect()

    run_gateway_test(body)


def test_an_untransmitted_order_can_be_cancelled_or_transmitted_by_itself():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("IBM", 220.0)
        ib = await connect(gw)
        contract = await qualified(ib, "IBM")
        draft = ib.placeOrder(contract, LimitOrder("BUY", 5, 221.0, transmit=False))
        dropped = ib.placeOrder(contract, LimitOrder("BUY", 5, 210.0, transmit=False))
        await wait_status(dropped, "Inactive")
        open_ids = {t.order.orderId for t in await ib.reqOpenOrdersAsync()}
        assert {draft.order.orderId, dropped.order.orderId} <= open_ids  # open orders list them, as TWS does
        ib.cancelOrder(dropped.order)
        await wait_for(lambda: gw.orders()[1].status == "Cancelled", what="the cancel")
        draft.order.transmit = True
        ib.placeOrder(contract, draft.order)
        await wait_status(draft, "Filled")
        ib.disconnect()

    run_gateway_test(body)


def test_cancelling_the_parent_cancels_its_children():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("NVDA", 130.0)
        ib = await connect(gw)
        contract = await qualified(ib, "NVDA")
        trades = [ib.placeOrder(contract, o) for o in ib.bracketOrder("BUY", 20, 125.0, 140.0, 120.0)]
        await wait_status(trades[2], "PreSubmitted")
        ib.cancelOrder(trades[0].order)
        for trade in trades:
            await wait_status(trade, "Cancelled")
        assert {v.status for v in gw.orders()} == {"Cancelled"}
        ib.disconnect()

    run_gateway_test(body)


def test_a_parent_cancelled_after_a_partial_fill_leaves_children_for_what_it_filled():
    async def body(gw: PaperGateway) -> None:
        gw.set_quote("AMD", bid=149.99, ask=150.01, last=150.0, ask_size=30)
        ib = await connect(gw)
        contract = await qualified(ib, "AMD")
        parent, take_profit, stop_loss = ib.bracketOrder("BUY", 100, 150.05, 160.0, 145.0)
        parent.tif = "IOC"  # fills the 30 shown, the rest is cancelled
        trades = [ib.placeOrder(contract, o) for o in (parent, take_profit, stop_loss)]
        await wait_status(trades[0], "Cancelled")
        await wait_for(lambda: trades[2].orderStatus.remaining == 30, what="the stop reduced to 30")
        assert trades[0].orderStatus.filled == 30
        assert trades[1].order.totalQuantity == trades[2].order.totalQuantity == 30  # openOrder reported it
        assert trades[1].orderStatus.status == "Submitted"
        gw.set_price("AMD", 144.5)
        await wait_status(trades[2], "Filled")
        await wait_status(trades[1], "Cancelled")
        assert trades[2].orderStatus.filled == 30
        assert [p.position for p in gw.positions() if p.symbol == "AMD"] == [0]
        ib.disconnect()

    run_gateway_test(body)


def test_children_never_trade_more_than_the_parent_has_filled():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("SPY", 500.0)
        ib = await connect(gw)
        contract = await qualified(ib, "SPY")
        sequence: list[tuple[int, float]] = []
        ib.execDetailsEvent += lambda trade, fill: sequence.append((trade.order.orderId, fill.execution.shares))
        # a marketable parent filled in 4 executions, and a take-profit that is marketable at once
        parent, take_profit, stop_loss = ib.bracketOrder("BUY", 100, 500.0, 499.0, 450.0)
        trades = [ib.placeOrder(contract, o) for o in (parent, take_profit, stop_loss)]
        await wait_status(trades[1], "Filled")
        await wait_status(trades[2], "Cancelled")
        bought = sold = 0.0
        for order_id, shares in sequence:
            if order_id == parent.orderId:
                bought += shares
            else:
                assert order_id == take_profit.orderId
                sold += shares
            assert sold <= bought
        assert (bought, sold) == (100, 100)
        assert sequence[0][0] == parent.orderId and sequence[-1][0] == take_profit.orderId
        ib.disconnect()

    run_gateway_test(body, partial_fills=4, fill_interval=0.01)


def test_an_attached_order_needs_an_existing_parent_and_a_working_one():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 200.0)
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        orphan = ib.placeOrder(contract, LimitOrder("SELL", 5, 210.0, parentId=987_654))
        await wait_for(lambda: 135 in errors.codes(orphan.order.orderId), what="error 135")
        assert errors.text(135) == "Can't find order with id = 987654"
        parent = ib.placeOrder(contract, LimitOrder("BUY", 5, 190.0))
        await wait_status(parent, "Submitted")
        ib.cancelOrder(parent.order)
        await wait_status(parent, "Cancelled")
        late = ib.placeOrder(contract, LimitOrder("SELL", 5, 210.0, parentId=parent.order.orderId))
        await wait_for(lambda: 201 in errors.codes(late.order.orderId), what="error 201")
        assert "Parent order is being cancelled" in errors.text(201)
        assert [v.order_id for v in gw.orders()] == [parent.order.orderId, late.order.orderId]
        ib.disconnect()

    run_gateway_test(body)


def test_other_clients_see_the_links_in_open_and_completed_orders():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 200.0)
        ib = await connect(gw, client_id=1)
        contract = await qualified(ib, "AAPL")
        bracket = ib.bracketOrder("BUY", 10, 199.0, 205.0, 195.0)
        trades = [ib.placeOrder(contract, o) for o in bracket]
        oca = ib.oneCancelsAll([LimitOrder("SELL", 5, 230.0), LimitOrder("SELL", 5, 240.0)], "exit-1", 2)
        oca_trades = [ib.placeOrder(contract, o) for o in oca]
        await wait_status(oca_trades[1], "Submitted")
        await wait_status(trades[2], "PreSubmitted")
        watcher = await connect(gw, client_id=2)
        seen = {t.order.orderId: t for t in await watcher.reqAllOpenOrdersAsync()}
        parent_id = bracket.parent.orderId
        assert seen[bracket.takeProfit.orderId].order.parentId == parent_id
        assert seen[bracket.stopLoss.orderId].order.parentId == parent_id
        assert seen[parent_id].order.parentId == 0
        assert (seen[oca[0].orderId].order.ocaGroup, seen[oca[0].orderId].order.ocaType) == ("exit-1", 2)
        ib.cancelOrder(bracket.parent)
        await wait_status(trades[2], "Cancelled")
        completed = {t.order.permId: t for t in await watcher.reqCompletedOrdersAsync(apiOnly=False)}
        parent_perm = trades[0].order.permId
        assert completed[trades[1].order.permId].order.parentPermId == parent_perm
        assert completed[parent_perm].order.parentPermId in (0, 2**63 - 1)
        watcher.disconnect()
        ib.disconnect()

    run_gateway_test(body)


# --- OCA groups ------------------------------------------------------------------------------------------
def test_oca_type_1_a_fill_cancels_the_rest_of_the_group():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("TSLA", 250.0)
        ib = await connect(gw)
        contract = await qualified(ib, "TSLA")
        group = ib.oneCancelsAll([LimitOrder("SELL", 10, 260.0), StopOrder("SELL", 10, 240.0),
                                  LimitOrder("SELL", 10, 270.0)], "exit-tsla", 1)
        trades = [ib.placeOrder(contract, o) for o in group]
        await wait_status(trades[2], "Submitted")
        gw.set_price("TSLA", 261.0)
        await wait_status(trades[0], "Filled")
        await wait_status(trades[1], "Cancelled")
        await wait_status(trades[2], "Cancelled")
        gw.set_price("TSLA", 280.0)
        gw.set_price("TSLA", 230.0)
        assert len(gw.executions()) == 1  # the sibling no longer works after one fills
        errors = ErrorLog(ib)
        late = ib.placeOrder(contract, LimitOrder("SELL", 10, 300.0, ocaGroup="exit-tsla", ocaType=1))
        await wait_for(lambda: 201 in errors.codes(late.order.orderId), what="error 201")
        assert "OCA group 'exit-tsla' has already been filled" in errors.text(201)
        ib.disconnect()

    run_gateway_test(body)


def test_oca_type_2_a_partial_fill_reduces_the_others_in_proportion():
    async def body(gw: PaperGateway) -> None:
        gw.set_quote("AMD", bid=149.99, ask=150.01, last=150.0, bid_size=40)
        ib = await connect(gw)
        contract = await qualified(ib, "AMD")
        resting = ib.placeOrder(contract, LimitOrder("SELL", 200, 160.0, ocaGroup="amd-exit", ocaType=2))
        await wait_status(resting, "Submitted")
        ioc = ib.placeOrder(contract, LimitOrder("SELL", 100, 149.0, tif="IOC", ocaGroup="amd-exit", ocaType=2))
        await wait_status(ioc, "Cancelled")
        assert ioc.orderStatus.filled == 40
        await wait_for(lambda: resting.orderStatus.remaining == 120, what="a 40 % reduction")
        assert resting.order.totalQuantity == 120
        assert resting.orderStatus.status == "Submitted"
        ib.disconnect()

    run_gateway_test(body)


def _race(oca_type: int) -> tuple[Trade, Trade]:
    """Two members that become marketable on the same quote, with fills that take a while (4 executions)."""

    async def body(gw: PaperGateway) -> tuple[Trade, Trade]:
        gw.set_price("QQQ", 480.0)
        ib = await connect(gw)
        contract = await qualified(ib, "QQQ")
        first, second = (ib.placeOrder(contract, o) for o in ib.oneCancelsAll(
            [LimitOrder("SELL", 100, 481.0), LimitOrder("SELL", 100, 481.0)], f"race-{oca_type}", oca_type))
        await wait_status(second, "Submitted")
        gw.set_price("QQQ", 482.0)
        await wait_for(lambda: first.isDone() and second.isDone(), what="both members done")
        ib.disconnect()
        return first, second

    return run_gateway_test(body, partial_fills=4, fill_interval=0.02)


def test_oca_with_block_lets_one_member_fill_at_a_time():
    first, second = _race(2)
    assert first.orderStatus.filled == 100
    assert second.fills == [] and second.orderStatus.status == "Cancelled"


def test_oca_type_3_without_block_lets_members_fill_at_the_same_time():
    first, second = _race(3)
    assert first.fills and second.fills  # both traded while the other's fill ran: no block
    # each execution reduced the other member at once, so the group still traded its size in all
    assert first.orderStatus.filled + second.orderStatus.filled == 100


def test_an_order_of_the_group_is_refused_a_change_of_group():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 200.0)
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        trade = ib.placeOrder(contract, LimitOrder("BUY", 5, 190.0, ocaGroup="a", ocaType=1))
        await wait_status(trade, "Submitted")
        trade.order.ocaGroup = "b"
        ib.placeOrder(contract, trade.order)
        await wait_for(lambda: 105 in errors.codes(trade.order.orderId), what="error 105")
        assert "OCA group cannot be changed" in errors.text(105)
        assert gw.orders()[0].oca_group == "a"
        ib.disconnect()

    run_gateway_test(body)


def test_a_market_order_in_an_oca_group_cancels_its_resting_sibling_at_once():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("SPY", 500.0)
        ib = await connect(gw)
        contract = await qualified(ib, "SPY")
        resting = ib.placeOrder(contract, LimitOrder("BUY", 10, 490.0, ocaGroup="spy", ocaType=1))
        await wait_status(resting, "Submitted")
        now = ib.placeOrder(contract, MarketOrder("BUY", 10, ocaGroup="spy", ocaType=1))
        await wait_status(now, "Filled")
        await wait_status(resting, "Cancelled")
        ib.disconnect()

    run_gateway_test(body)


def test_an_unknown_oca_type_and_order_conditions_are_refused():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        odd = ib.placeOrder(contract, LimitOrder("BUY", 1, 100.0, ocaGroup="x", ocaType=5))
        conditional = ib.placeOrder(contract, LimitOrder(
            "BUY", 1, 100.0, conditions=[PriceCondition(price=5.0, conId=265598, exch="SMART")]))
        await wait_for(lambda: errors.codes(conditional.order.orderId), what="the refusals")
        assert errors.codes(odd.order.orderId) == [321] and "Invalid OCA type 5" in errors.items[0][2]
        assert errors.codes(conditional.order.orderId) == [321]
        assert "conditions are not supported" in errors.items[1][2]
        assert gw.orders() == []
        ib.disconnect()

    run_gateway_test(body)
