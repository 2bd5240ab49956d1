"""Every injected fault, checked through what ib_insync reports for it."""

from __future__ import annotations

import asyncio
import time

import pytest
from ib_insync import IB, LimitOrder, MarketOrder

from ibticket.gateway import PaperGateway

from .helpers import ErrorLog, connect, qualified, run_gateway_test, wait_for, wait_status


def test_reject_next_order_with_code_and_text():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        gw.faults.reject_next_order(201, "Order rejected - reason:Exchange is closed.")
        rejected = ib.placeOrder(contract, MarketOrder("BUY", 1))
        await wait_status(rejected, "Cancelled")
        assert errors.codes(rejected.order.orderId) == [201]
        assert errors.text(201) == "Order rejected - reason:Exchange is closed."
        assert rejected.log[-1].errorCode == 201 or any(e.errorCode == 201 for e in rejected.log)
        # one-shot: the next order trades
        ok = ib.placeOrder(contract, MarketOrder("BUY", 1))
        await wait_status(ok, "Filled")
        (view,) = [o for o in gw.orders() if o.order_id == rejected.order.orderId]
        assert view.status == "Cancelled" and view.filled == 0
        completed = await ib.reqCompletedOrdersAsync(False)
        assert {t.orderStatus.status for t in completed} == {"Cancelled", "Filled"}
        ib.disconnect()

    run_gateway_test(body)


def test_drop_connections_now():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        dropped = []
        ib.disconnectedEvent += lambda: dropped.append(True)
        assert gw.faults.drop_connections() == 1
        await wait_for(lambda: dropped == [True], what="disconnectedEvent")
        assert gw.connected_client_ids() == []
        await ib.connectAsync("127.0.0.1", gw.port, clientId=1, timeout=3)
        assert gw.connected_client_ids() == [1]
        ib.disconnect()

    run_gateway_test(body)


def test_drop_in_the_middle_of_a_partial_fill_then_replay():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw, client_id=21)
        contract = await qualified(ib, "NFLX")
        seen: list[str] = []
        ib.execDetailsEvent += lambda trade, fill: seen.append(fill.execution.execId)
        gw.faults.drop_connections(after_executions=2)
        trade = ib.placeOrder(contract, MarketOrder("BUY", 100, orderRef="split"))
        await wait_for(lambda: not ib.isConnected(), what="the drop")
        assert len(seen) == 2
        assert trade.orderStatus.status != "Filled"
        # the rest of the fill happens in the gateway while the client is away
        await wait_for(lambda: len(gw.executions()) == 4, what="remaining executions")
        assert gw.orders()[0].status == "Filled"
        await ib.connectAsync("127.0.0.1", gw.port, clientId=21, timeout=3)
        replayed = [f.execution.execId for f in ib.fills()]
        assert len(replayed) == 4
        assert replayed[:2] == seen
        assert sum(f.execution.shares for f in ib.fills()) == 100
        (done,) = [t for t in ib.trades() if t.order.orderRef == "split"]
        assert done.orderStatus.status == "Filled"
        ib.disconnect()

    run_gateway_test(body, partial_fills=4, fill_interval=0.05)


def test_drop_before_the_first_execution():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw, client_id=22)
        contract = await qualified(ib, "AAPL")
        seen: list[str] = []
        ib.execDetailsEvent += lambda trade, fill: seen.append(fill.execution.execId)
        gw.faults.drop_connections(after_executions=0)
        ib.placeOrder(contract, MarketOrder("BUY", 10))
        await wait_for(lambda: not ib.isConnected(), what="the drop")
        assert seen == []
        await ib.connectAsync("127.0.0.1", gw.port, clientId=22, timeout=3)
        assert [f.execution.execId for f in ib.fills()] == [e.exec_id for e in gw.executions()]
        assert len(ib.fills()) == 2
        ib.disconnect()

    run_gateway_test(body, partial_fills=2)


def test_refuse_connections_for_a_while():
    async def body(gw: PaperGateway) -> None:
        existing = await connect(gw, client_id=1)
        gw.faults.refuse_connections(0.6)
        started = time.monotonic()
        with pytest.raises(ConnectionRefusedError):
            await IB().connectAsync("127.0.0.1", gw.port, clientId=2, timeout=2)
        assert existing.isConnected()
        late = IB()
        while True:
            try:
                await late.connectAsync("127.0.0.1", gw.port, clientId=2, timeout=2)
                break
            except ConnectionRefusedError:
                assert time.monotonic() - started < 4, "gateway never listened again"
                await asyncio.sleep(0.05)
        assert time.monotonic() - started >= 0.5
        assert gw.connected_client_ids() == [1, 2]
        existing.disconnect()
        late.disconnect()

    run_gateway_test(body)


def test_delay_messages_holds_every_outgoing_message():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        gw.faults.delay_messages(0.4)
        started = time.monotonic()
        await ib.reqCurrentTimeAsync()
        assert time.monotonic() - started >= 0.35
        gw.faults.delay_messages(0)
        started = time.monotonic()
        await ib.reqCurrentTimeAsync()
        assert time.monotonic() - started < 0.3
        ib.disconnect()

    run_gateway_test(body)


def test_send_error_for_an_order_id():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        trade = ib.placeOrder(contract, LimitOrder("BUY", 1, 100.0))
        await wait_status(trade, "Submitted")
        text = "Order TIF was set to DAY based on order preset."
        assert gw.faults.send_error(trade.order.orderId, 10349, text)
        await wait_for(lambda: 10349 in errors.codes(trade.order.orderId), what="error 10349")
        # ib_insync marks the trade Cancelled for any non-warning error, though the order is still live
        assert trade.orderStatus.status == "Cancelled"
        assert gw.orders()[0].status == "Submitted"
        ib.disconnect()

    run_gateway_test(body)


def test_status_before_execution():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        contract = await qualified(ib, "AAPL")
        fills_when_filled: list[int] = []
        gw.faults.status_before_execution()
        trade = ib.placeOrder(contract, MarketOrder("BUY", 10))
        trade.filledEvent += lambda t: fills_when_filled.append(len(t.fills))
        await wait_status(trade, "Filled")
        await wait_for(lambda: len(trade.fills) == 1, what="the late execution")
        assert fills_when_filled == [0]
        ib.disconnect()

    run_gateway_test(body)


def test_stale_submitted_status_after_fill():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        contract = await qualified(ib, "AAPL")
        gw.faults.stale_status_after_fill()
        trade = ib.placeOrder(contract, MarketOrder("BUY", 10))
        await wait_for(lambda: trade.orderStatus.status == "Submitted" and trade.fills, what="stale status")
        statuses = [e.status for e in trade.log if e.message == ""]
        assert statuses[-2:] == ["Filled", "Submitted"]  # ib_insync lets the status go backwards
        assert gw.orders()[0].status == "Filled"
        ib.disconnect()

    run_gateway_test(body)


def test_duplicate_next_status():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        contract = await qualified(ib, "AAPL")
        received: list[tuple[int, str, float]] = []
        original = ib.wrapper.orderStatus

        def spy(orderId, status, filled, *rest):
            received.append((orderId, status, filled))
            original(orderId, status, filled, *rest)

        ib.wrapper.orderStatus = spy
        gw.faults.duplicate_next_status()
        trade = ib.placeOrder(contract, LimitOrder("BUY", 1, 50.0))
        await wait_status(trade, "Submitted")
        await wait_for(lambda: len(received) == 2, what="both copies")
        assert received[0] == received[1] == (trade.order.orderId, "Submitted", 0.0)
        assert [e.status for e in trade.log] == ["PendingSubmit", "Submitted"]  # ib_insync drops the copy
        ib.disconnect()

    run_gateway_test(body)


def test_execution_correction_is_an_additional_execution():
    async def body(gw: PaperGateway) -> None:
        gw.set_quote("AAPL", bid=199.99, ask=200.01, last=200.0)
        ib = await connect(gw)
        contract = await qualified(ib, "AAPL")
        trade = ib.placeOrder(contract, MarketOrder("BUY", 40))
        await wait_status(trade, "Filled")
        (fill,) = trade.fills
        exec_id = fill.execution.execId
        new_id = gw.faults.correct_execution(exec_id, price=199.5)
        assert new_id.rsplit(".", 1)[0] == exec_id.rsplit(".", 1)[0]
        assert int(new_id.rsplit(".", 1)[1]) == int(exec_id.rsplit(".", 1)[1]) + 1
        await wait_for(lambda: len(trade.fills) == 2, what="the correction")
        correction = trade.fills[1]
        assert (correction.execution.execId, correction.execution.price) == (new_id, 199.5)
        assert trade.filled() == 80  # ib_insync sums the correction as another fill (issue #364)
        assert gw.executions()[-1].corrects == exec_id
        (pos,) = gw.positions()
        assert pos.position == 40
        twice = gw.faults.correct_execution(new_id, shares=30)
        assert twice.endswith(".03")
        await wait_for(lambda: len(trade.fills) == 3, what="the second correction")
        assert gw.positions()[0].position == 30
        with pytest.raises(KeyError):
            gw.faults.correct_execution("0000.0000.01.01")
        ib.disconnect()

    run_gateway_test(body)


def test_a_lost_execution_report_is_only_in_req_executions():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        gw.faults.lose_next_execution_report()
        trade = ib.placeOrder(contract, MarketOrder("BUY", 10))
        await wait_status(trade, "Filled")  # the statuses still come
        (execution,) = gw.executions()
        gw.faults.send_error(-1, 1102, "Connectivity between IB and Trader Workstation has been restored - data "
                             "maintained.", client_id=ib.client.clientId)
        await wait_for(lambda: 1102 in errors.codes(-1), what="the 1102")
        assert trade.fills == []  # everything before the 1102 has been read: execDetails never came
        (fill,) = await ib.reqExecutionsAsync()
        assert (fill.execution.execId, fill.execution.shares) == (execution.exec_id, 10)
        assert fill.commissionReport.execId == execution.exec_id
        again = ib.placeOrder(contract, MarketOrder("BUY", 10))  # one-shot: the next fill is reported
        await wait_for(lambda: len(again.fills) == 1, what="the next execution")
        ib.disconnect()

    run_gateway_test(body)


def test_fill_after_cancel_request():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 200.0)
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        trade = ib.placeOrder(contract, LimitOrder("BUY", 10, 190.0))
        await wait_status(trade, "Submitted")
        gw.faults.fill_after_cancel()
        ib.cancelOrder(trade.order)
        await wait_for(lambda: 10148 in errors.codes(trade.order.orderId), what="10148")
        assert errors.text(10148) == (
            f"OrderId {trade.order.orderId} that needs to be cancelled cannot be cancelled, state: Filled.")
        assert trade.orderStatus.status == "Filled"
        assert trade.fills[0].execution.price == 190.0
        assert gw.orders()[0].status == "Filled"
        ib.disconnect()

    run_gateway_test(body)


def test_clear_disarms_pending_faults():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        contract = await qualified(ib, "AAPL")
        gw.faults.reject_next_order()
        gw.faults.delay_messages(5)
        gw.faults.lose_next_execution_report()
        gw.faults.clear()
        trade = ib.placeOrder(contract, MarketOrder("BUY", 1))
        await wait_status(trade, "Filled", timeout=1)
        await wait_for(lambda: trade.fills, what="the execution report")
        ib.disconnect()

    run_gateway_test(body)
