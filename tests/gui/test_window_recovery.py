"""Connection loss, restarts and bursts: what the window shows stays what the handler (and IB) holds."""

from __future__ import annotations

import asyncio

from windowkit import until

from ibticket.core import OrderStatus
from ibticket.core.order import OrderRequest
from ibticket.gateway import GatewayConfig, GatewayThread
from ibticket.trading.connection import ConnectionChoice


def test_a_dropped_connection_shows_reconnecting_and_recovers_with_fills_applied_once(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app(partial_fills=6, fill_interval=0.05).start()
        phases: list[str] = []
        countdowns: list[float | None] = []
        app.session.add_listener(lambda s: (phases.append(s.phase), countdowns.append(s.next_attempt_at)))
        app.gateway.faults.drop_connections(after_executions=3)
        app.type_line("buy 60 AAPL mkt")
        record = await until(lambda: app.orders() and app.orders()[0], what="the order")
        await until(lambda: "reconnecting" in phases, what="the reconnecting state")
        await until(lambda: "Reconnecting" in app.window.status.connection.text(), what="the status bar")
        # The broker's reconnect loop pushes its next attempt: the countdown needs no polling.
        await until(lambda: any(at is not None for at in countdowns), what="a status with the next attempt")
        await until(lambda: app.session.status.phase == "connected", timeout=20, what="the reconnect")
        await until(lambda: record.status is OrderStatus.FILLED, timeout=20, what="the rest of the fills")
        await until(lambda: app.window.fills_model.rowCount() == len(record.fills), what="the fills rows")
        ids = [f.fill_id for f in app.window.fills_model.fills()]
        assert len(ids) == len(set(ids)) == len(record.fills)
        assert sum(f.quantity for f in app.window.fills_model.fills()) == 60
        assert "Connected" in app.window.status.connection.text()

    qt_loop.run_until_complete(scenario())


def test_a_restart_shows_todays_orders_again(make_app, qt_loop, tmp_path) -> None:
    async def scenario() -> None:
        with GatewayThread(GatewayConfig(seed=5, tick_interval=None)) as gw:
            choice = ConnectionChoice("custom", "127.0.0.1", gw.port, client_id=41)
            first = await make_app().start(choice)
            first.type_line("buy 10 AAPL mkt")
            await until(lambda: first.orders() and first.orders()[0].status is OrderStatus.FILLED, what="fill")
            from ibticket.trading.precautions import Precautions

            first.settings.set_precautions(Precautions(enabled=False))
            first.type_line("buy 5 MSFT lmt 1.00 gtc")
            await until(lambda: len(first.orders()) == 2 and first.orders()[1].status is OrderStatus.SUBMITTED,
                        what="the resting order")
            await first.stop()

            second = make_app()
            await second.controller.start(choice)
            # Restored from the log before the connection is made, marked until IB confirms them.
            await until(lambda: second.window.orders_model.rowCount() == 2, what="restored rows")
            await until(lambda: second.session.status.phase == "connected", what="the reconnect")
            model = second.window.orders_model
            await until(lambda: "restored" not in model.text(1, "status"), what="reconciliation")
            rows = {model.record(r).symbol: model.record(r) for r in range(2)}
            assert rows["AAPL"].status is OrderStatus.FILLED and rows["MSFT"].status is OrderStatus.SUBMITTED
            await until(lambda: second.window.fills_model.rowCount() == 1, what="the restored fill")
            second.type_line(f"cancel {rows['MSFT'].order_id}")
            await until(lambda: rows["MSFT"].status is OrderStatus.CANCELLED, what="cancel after restart")
            await second.stop()

    qt_loop.run_until_complete(scenario())


def test_a_burst_of_ten_thousand_fills_leaves_the_models_consistent(make_app, model_tester, qt_loop) -> None:
    async def scenario() -> None:
        # Qt's model tester re-checks every row at each change, too slow for the burst itself: it checks the
        # models once the burst is over (below).
        app = await make_app(partial_fills=100, check_models=False).start()
        core = app.session.core
        flushes: list[int] = []
        delivered: list[str] = []

        def on_fills(fills: list) -> None:
            flushes.append(len(fills))
            delivered.extend(f.fill_id for f in fills)

        app.controller.bridge.fillsChanged.connect(on_fills)
        records = [await core.submit(OrderRequest("AAPL" if i % 2 else "MSFT", "BUY", 100), force=True)
                   for i in range(100)]
        await until(lambda: all(r.status is OrderStatus.FILLED for r in records), timeout=45, what="10,000 fills")
        await asyncio.sleep(0.1)  # one more coalescing tick
        orders, fills = app.window.orders_model, app.window.fills_model
        assert orders.rowCount() == 100
        for row in range(100):
            record = orders.record(row)
            assert orders.text(row, "filled") == f"{record.filled_quantity}/{record.total_quantity}" == "100/100"
            assert orders.text(row, "status") == "Filled"
        shown = {f.fill_id for f in fills.fills()}
        held = {f.fill_id for r in records for f in r.fills}
        assert fills.rowCount() == len(shown) == len(held) == 10_000 and shown == held
        assert fills.totals["AAPL"].bought + fills.totals["MSFT"].bought == 10_000
        # Coalesced: far fewer deliveries than fills. A fill goes out again only when its commission report
        # came in a later batch than its execution (the model updates the row in place).
        assert set(delivered) == held and len(flushes) < 2_000
        assert sum(flushes) - 10_000 <= len(flushes)
        for model in (orders, app.window.orders.proxy, fills, app.window.positions_model):
            model_tester(model)

    qt_loop.run_until_complete(scenario())


def test_the_simulated_account_outlives_the_app(make_app, qt_loop, tmp_path) -> None:
    """A restart in SIMULATED mode continues the same paper account: the resting order is still working."""

    async def scenario() -> None:
        from ibticket.trading.precautions import Precautions

        first = await make_app().start()
        first.settings.set_precautions(Precautions(enabled=False))
        first.type_line("buy 20 AAPL mkt")
        await until(lambda: first.orders() and first.orders()[0].status is OrderStatus.FILLED, what="the fill")
        first.type_line("buy 7 MSFT lmt 1.00 gtc")
        await until(lambda: len(first.orders()) == 2 and first.orders()[1].status is OrderStatus.SUBMITTED,
                    what="the resting order")
        await first.stop()

        second = await make_app().start()
        model = second.window.orders_model
        await until(lambda: model.rowCount() == 2, what="today's orders")
        resting = next(model.record(r) for r in range(2) if model.record(r).symbol == "MSFT")
        assert resting.status is OrderStatus.SUBMITTED  # still working at the (restarted) gateway
        await until(lambda: second.window.positions_model.quantity_of("AAPL") == 20, what="the position")
        gw = second.gateway.orders()
        assert [o.order_ref.split("/")[0] for o in gw if o.status == "Submitted"] == [resting.order_ref]
        second.type_line(f"cancel {resting.order_id}")
        await until(lambda: resting.status is OrderStatus.CANCELLED, what="cancel after restart")

    qt_loop.run_until_complete(scenario())


def test_a_damaged_simulated_account_is_restored_up_to_the_damage_and_the_window_says_so(
    make_app, qt_loop, tmp_path,
) -> None:
    """A bad byte in the line after the AAPL fill: the position is back, and the window tells what was lost."""

    async def scenario() -> None:
        from ibticket.trading.precautions import Precautions

        first = await make_app().start()
        first.settings.set_precautions(Precautions(enabled=False))
        first.type_line("buy 100 AAPL mkt")
        await until(lambda: first.orders() and first.orders()[0].status is OrderStatus.FILLED, what="the fill")
        first.type_line("buy 7 MSFT lmt 1.00 gtc")
        await until(lambda: len(first.orders()) == 2 and first.orders()[1].status is OrderStatus.SUBMITTED,
                    what="the resting order")
        await first.stop()
        state = tmp_path / "data" / "paper-account.json"
        lines = state.read_bytes().split(b"\n")[:-1]
        bad = next(i for i, line in enumerate(lines) if i and b"MSFT" in line)
        lines[bad] = lines[bad][:20] + b"\xff" + lines[bad][21:]
        state.write_bytes(b"".join(line + b"\n" for line in lines))

        second = await make_app().start()
        w = second.window
        assert second.session.core.gateway_report is not None
        notice = w.ticket.message.text()
        # It stays in the notice bar (the status bar shows it too, until the next message: the dropped MSFT
        # order's error may come first).
        assert notice == second.session.core.gateway_report == w.notices.notices()["simulated account"]
        assert f"line {bad + 1}: it is not UTF-8 text" in notice and "1 position" in notice
        assert "dropped" in notice and f"kept as {state}.corrupt-" in notice
        await until(lambda: w.positions_model.quantity_of("AAPL") == 100, what="the restored position")
        await until(lambda: w.fills_model.rowCount() == 1, what="today's fill")

    qt_loop.run_until_complete(scenario())


def test_a_second_window_on_the_same_client_id_and_log_is_refused_clearly(make_app, qt_loop, tmp_path) -> None:
    async def scenario() -> None:
        with GatewayThread(GatewayConfig(seed=5, tick_interval=None)) as gw:
            choice = ConnectionChoice("custom", "127.0.0.1", gw.port, client_id=44)
            await make_app().start(choice)
            second = make_app()
            await second.controller.start(choice)
            await until(lambda: second.session.status.phase == "disconnected" and second.session.status.message,
                        what="the refusal")
            text = second.window.status.connection.text()
            assert "Client id 44 is already in use" in text and "Disconnected" in text
            await until(lambda: second.session._runner.done(), what="the connect loop to give up")
            assert second.session.status.phase == "disconnected"  # no retrying: it cannot help

    qt_loop.run_until_complete(scenario())
