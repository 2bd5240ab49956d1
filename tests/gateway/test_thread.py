"""GatewayThread: the gateway on its own loop thread, driven from synchronous code and other loops."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
from ib_insync import IB, LimitOrder, MarketOrder, Stock

from ibticket.gateway import GatewayConfig, GatewayThread

from .helpers import ErrorLog, wait_for, wait_status


def test_thread_runs_the_gateway_and_marshals_every_control():
    with GatewayThread(GatewayConfig(tick_interval=None, seed=2)) as gw:
        assert gw.port > 0 and gw.host == "127.0.0.1"
        gw.set_price("AAPL", 150.0)
        assert gw.quote("AAPL").last == 150.0

        async def client() -> list[str]:
            ib = IB()
            await ib.connectAsync("127.0.0.1", gw.port, clientId=3, timeout=3)
            errors = ErrorLog(ib)
            (contract,) = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            gw.faults.reject_next_order(201, "Order rejected - reason:thread test")
            rejected = ib.placeOrder(contract, MarketOrder("BUY", 1))
            await wait_status(rejected, "Cancelled")
            assert errors.codes(rejected.order.orderId) == [201]
            resting = ib.placeOrder(contract, LimitOrder("BUY", 5, 149.0, orderRef="t"))
            await wait_status(resting, "Submitted")
            gw.set_price("AAPL", 148.5)  # from this (client) thread; matching happens on the gateway loop
            await wait_status(resting, "Filled")
            assert gw.connected_client_ids() == [3]
            ib.disconnect()
            return [f.execution.execId for f in resting.fills]

        exec_ids = asyncio.run(client())
        assert [e.exec_id for e in gw.executions()] == exec_ids
        assert [o.status for o in gw.orders()] == ["Cancelled", "Filled"]
        assert gw.positions()[0].position == 5
        assert float(gw.account_values()["NetLiquidation"]) < 1_000_000.0
        port = gw.port
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_controls_are_safe_from_many_threads():
    with GatewayThread(GatewayConfig(tick_interval=0.01)) as gw:
        failures: list[BaseException] = []

        def hammer(symbol: str) -> None:
            try:
                for i in range(50):
                    gw.set_price(symbol, 100.0 + i)
                    gw.quote(symbol)
                    gw.orders()
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=hammer, args=(s,)) for s in ("AAPL", "MSFT", "IBM", "SPY")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert failures == []
        assert all(not t.is_alive() for t in threads)
        gw.freeze_market(True)
        gw.set_price("IBM", 123.45)
        assert gw.quote("IBM").last == 123.45


def test_blocking_ib_insync_api_against_the_thread():
    with GatewayThread(GatewayConfig(tick_interval=None)) as gw:
        gw.set_price("SPY", 500.0)

        def blocking_client() -> float:
            asyncio.set_event_loop(asyncio.new_event_loop())
            ib = IB()
            ib.connect("127.0.0.1", gw.port, clientId=8, timeout=3)
            (contract,) = ib.qualifyContracts(Stock("SPY", "SMART", "USD"))
            trade = ib.placeOrder(contract, MarketOrder("BUY", 2))
            while not trade.isDone():
                ib.waitOnUpdate(timeout=1)
            ib.disconnect()
            return trade.orderStatus.avgFillPrice

        result: list[float] = []
        worker = threading.Thread(target=lambda: result.append(blocking_client()))
        worker.start()
        worker.join(10)
        assert result == [500.0]


def test_start_errors_surface_in_the_caller():
    with pytest.raises(ValueError, match="loopback"):
        GatewayThread(GatewayConfig(), host="10.0.0.1").start()


def test_wait_helper_sees_thread_side_state():
    with GatewayThread(GatewayConfig(tick_interval=None)) as gw:

        async def body() -> None:
            ib = IB()
            await ib.connectAsync("127.0.0.1", gw.port, clientId=4, timeout=3)
            ib.disconnect()
            await wait_for(lambda: gw.connected_client_ids() == [], what="disconnect seen by the gateway")

        asyncio.run(body())
