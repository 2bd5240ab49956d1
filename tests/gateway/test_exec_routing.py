"""Who sees which executions: like TWS, a client its own orders' executions, the master client id everyone's."""

from __future__ import annotations

from ib_insync import ExecutionFilter, MarketOrder

from ibticket.gateway import PaperGateway

from .helpers import connect, qualified, run_gateway_test, wait_for, wait_status


def test_a_client_gets_only_its_own_executions_and_commission_reports():
    async def body(gw: PaperGateway) -> None:
        one, two = await connect(gw, client_id=1), await connect(gw, client_id=2)
        reports_to_one: list[str] = []
        one.commissionReportEvent += lambda trade, fill, report: reports_to_one.append(report.execId)
        c1, c2 = await qualified(one, "AAPL"), await qualified(two, "AAPL")
        t1 = one.placeOrder(c1, MarketOrder("BUY", 1, orderRef="one"))
        t2 = two.placeOrder(c2, MarketOrder("BUY", 2, orderRef="two"))
        await wait_status(t1, "Filled")
        await wait_status(t2, "Filled")
        await wait_for(lambda: len(reports_to_one) == 1 and two.fills() and two.fills()[0].commissionReport.execId,
                       what="commission reports")
        (own,) = [e.exec_id for e in gw.executions() if e.client_id == 1]
        assert [f.execution.execId for f in one.fills()] == [own]
        assert reports_to_one == [own]

        replayed = await one.reqExecutionsAsync()
        assert [(f.execution.execId, f.execution.orderRef) for f in replayed] == [(own, "one")]
        # Asking for the other client's executions by filter gets nothing either.
        assert await one.reqExecutionsAsync(ExecutionFilter(clientId=2)) == []

        # A reconnect rebuilds the client's fills from reqExecutions: still only its own.
        one.disconnect()
        await wait_for(lambda: gw.connected_client_ids() == [2], what="disconnect")
        again = await connect(gw, client_id=1)
        assert [f.execution.execId for f in again.fills()] == [own]
        assert [f.commissionReport.execId for f in again.fills()] == [own]
        again.disconnect()
        two.disconnect()

    run_gateway_test(body)


def test_the_master_client_gets_every_clients_executions_live_and_replayed():
    async def body(gw: PaperGateway) -> None:
        master = await connect(gw, client_id=9)
        one, two = await connect(gw, client_id=1), await connect(gw, client_id=2)
        c1, c2 = await qualified(one, "AAPL"), await qualified(two, "MSFT")
        t1 = one.placeOrder(c1, MarketOrder("BUY", 1, orderRef="one"))
        t2 = two.placeOrder(c2, MarketOrder("BUY", 2, orderRef="two"))
        await wait_status(t1, "Filled")
        await wait_status(t2, "Filled")
        everyone = {e.exec_id for e in gw.executions()}
        assert len(everyone) == 2

        # Live: execDetails and the commission report of each fill reach the master, which placed nothing.
        await wait_for(lambda: {f.execution.execId for f in master.fills()} == everyone
                       and all(f.commissionReport.execId for f in master.fills()), what="master's fills")
        assert {f.execution.clientId for f in master.fills()} == {1, 2}
        assert [f.execution.execId for f in one.fills()] == [e.exec_id for e in gw.executions() if e.client_id == 1]

        replayed = await master.reqExecutionsAsync()
        assert {f.execution.execId for f in replayed} == everyone
        only_two = await master.reqExecutionsAsync(ExecutionFilter(clientId=2))
        assert [f.execution.orderRef for f in only_two] == ["two"]
        # The master's own orders still go to the master only once.
        mine = master.placeOrder(await qualified(master, "F"), MarketOrder("SELL", 3))
        await wait_status(mine, "Filled")
        assert len([f for f in master.fills() if f.execution.orderId == mine.order.orderId]) == 1
        for ib in (master, one, two):
            ib.disconnect()

    run_gateway_test(body, master_client_id=9)
