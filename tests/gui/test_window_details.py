"""The rest of what a trader relies on: sorting that keeps the selection, corrections, export, positions,
retry, settings that persist, the LIVE badge, and a start-up that imports nothing heavy before the window."""

from __future__ import annotations

import csv
import subprocess
import sys

from PySide6.QtCore import Qt
from windowkit import until

from ibticket.core import OrderStatus
from ibticket.gui.dialogs.settings import SettingsChoice
from ibticket.gui.models.orders import COL
from ibticket.trading.precautions import Precautions
from ibticket.trading.session import ConnectionStatus


def test_sorting_keeps_the_selected_order_selected(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        for line in ("buy 10 AAPL mkt", "buy 20 MSFT mkt", "buy 30 SPY mkt"):
            app.type_line(line)
        await until(lambda: len(app.orders()) == 3 and all(r.status is OrderStatus.FILLED for r in app.orders()),
                    what="three fills")
        panel = app.window.orders
        panel.set_filter("all")
        msft = next(r for r in app.orders() if r.symbol == "MSFT")
        assert panel.select_order(msft.order_id)
        header = panel.table.horizontalHeader()
        header.setSortIndicator(COL["qty"], Qt.SortOrder.DescendingOrder)
        assert [app.window.orders_model.record(r).symbol for r in range(3)] == ["SPY", "MSFT", "AAPL"]
        assert panel.selected_ids() == [msft.order_id]
        header.setSortIndicator(COL["symbol"], Qt.SortOrder.AscendingOrder)
        assert [app.window.orders_model.record(r).symbol for r in range(3)] == ["AAPL", "MSFT", "SPY"]
        assert panel.selected_ids() == [msft.order_id]

    qt_loop.run_until_complete(scenario())


def test_a_correction_replaces_its_fill_row_and_export_round_trips(make_app, qt_loop, tmp_path) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.type_line("buy 10 AAPL mkt")
        record = await until(lambda: app.orders() and app.orders()[0], what="the order")
        await until(lambda: app.window.fills_model.rowCount() == 1, what="the fill row")
        exec_id = app.window.fills_model.fills()[0].fill_id
        new_id = app.gateway.faults.correct_execution(exec_id, price=201.5)
        await until(lambda: app.window.fills_model.fills()[0].fill_id == new_id, what="the corrected row")
        fills = app.window.fills_model
        assert fills.rowCount() == 1 and fills.fills()[0].price == 201.5
        assert fills.totals["AAPL"].bought == 10 and fills.totals["AAPL"].fills == 1
        assert record.filled_quantity == 10
        path = tmp_path / "fills.csv"
        assert app.window.fills.export_csv(path) == 1
        rows = list(csv.DictReader(path.open()))
        assert rows[0]["exec_id"] == new_id and float(rows[0]["price"]) == 201.5
        assert rows[0]["side"] == "BUY" and int(rows[0]["order_id"]) == record.order_id

    qt_loop.run_until_complete(scenario())


def test_a_position_loads_the_closing_order_into_the_ticket(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.type_line("buy 70 NVDA mkt")
        model = app.window.positions_model
        await until(lambda: model.quantity_of("NVDA") == 70, timeout=15, what="the NVDA position")
        row = next(r for r in range(model.rowCount()) if model.position(r).symbol == "NVDA")
        app.window.positions.table.doubleClicked.emit(model.index(row, 0))
        t = app.window.ticket
        await until(lambda: t.instrument is not None and t.instrument.symbol == "NVDA", what="NVDA in the ticket")
        await until(lambda: t.send.text() == "SELL 70 NVDA MKT DAY", what="the closing order")
        assert t.side == "SELL" and t.position.text() == "Position 70"

    qt_loop.run_until_complete(scenario())


def test_an_errored_order_can_be_sent_again_as_a_new_order(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.gateway.faults.reject_next_order(201, "Order rejected - reason:Simulated")
        app.type_line("buy 10 AAPL mkt")
        record = await until(lambda: app.orders() and app.orders()[0], what="the order")
        await until(lambda: record.status is OrderStatus.ERROR, what="the reject")
        app.window.orders.retryRequested.emit(record.order_id)
        await until(lambda: len(app.orders()) == 2, what="the new order")
        again = app.orders()[1]
        await until(lambda: again.status is OrderStatus.FILLED, what="its fill")
        assert (again.symbol, again.total_quantity, again.action) == ("AAPL", 10, "BUY")

    qt_loop.run_until_complete(scenario())


def test_settings_persist_in_the_isolated_file(make_app, qt_loop, tmp_path) -> None:
    async def scenario() -> None:
        app = make_app()
        app.controller._apply_settings(SettingsChoice(
            Precautions(size_limit=77, value_limit=9_000.0, percent_from_market=2.5), 25, {"AAPL": 300}, "dark",
            lot=10, lots={"BRK.A": 1}, fill_alert=False))
        from ibticket.gui.appsettings import AppSettings

        again = AppSettings(tmp_path / "settings.ini")
        p = again.precautions()
        assert (p.size_limit, p.value_limit, p.percent_from_market) == (77, 9_000.0, 2.5)
        assert again.default_quantity() == 25 and again.default_quantities() == {"AAPL": 300}
        assert again.theme() == "dark"
        assert (again.default_lot(), again.lots(), again.fill_alert()) == (10, {"BRK.A": 1}, False)
        assert app.window.ticket._colors.buy == app.controller.colors.buy

    qt_loop.run_until_complete(scenario())


def test_a_live_account_is_unmistakable(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = make_app()
        status = ConnectionStatus("connected", "127.0.0.1:7496", "LIVE", "U1234567")
        app.controller._on_connection(status)
        w = app.window
        assert "LIVE" in w.windowTitle() and w.windowTitle().startswith("⚠ LIVE")
        assert "LIVE" in w.status.badge.text() and "#d50000" in w.status.badge.styleSheet()

    qt_loop.run_until_complete(scenario())


def test_the_window_imports_nothing_heavy_before_it_is_painted() -> None:
    # What app.run imports before window.show(): Qt, the core and the window's own modules, not the broker
    # (ib_insync pulls numpy) nor pyqtgraph.
    code = (
        "import sys\n"
        "import ibticket.gui.app, ibticket.gui.appsettings, ibticket.gui.controller, ibticket.gui.mainwindow\n"
        "heavy = [m for m in ('numpy', 'ib_insync', 'ib_async', 'pyqtgraph', 'ibticket.broker') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_delayed_quotes_are_labelled_in_the_ticket(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app(market_data_subscription=False, tick_interval=0.05).start()
        app.type_line("b 1 aapl mkt", shift=True)  # loads AAPL into the ticket without sending
        t = app.window.ticket
        await until(lambda: t.instrument is not None and t.instrument.symbol == "AAPL", what="AAPL")
        await until(lambda: "delayed" in t.quote_note.text(), what="the delayed note")
        await until(lambda: t.bid.text() != "—", what="a (delayed) bid")

    qt_loop.run_until_complete(scenario())
