"""Working orders managed from the window: cancel (Delete), cancel all, modify in place, rejects, retries."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from windowkit import until

from ibticket.core import OrderStatus
from ibticket.gui.models.orders import COL
from ibticket.trading.precautions import Precautions


async def _resting(app, line: str):
    app.type_line(line)
    count = len(app.orders())
    await until(lambda: len(app.orders()) > count - 0 and app.orders()[-1].status is OrderStatus.SUBMITTED,
                what=f"{line!r} to rest")
    return app.orders()[-1]


def test_delete_cancels_the_selected_order_and_cancel_all_asks_first(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.settings.set_precautions(Precautions(enabled=False))  # prices far from the market on purpose
        first = await _resting(app, "buy 10 AAPL lmt 1.00")
        second = await _resting(app, "buy 10 MSFT lmt 1.00")
        third = await _resting(app, "sell 10 SPY lmt 9000.00")
        panel = app.window.orders
        assert panel.select_order(first.order_id)
        panel.table.setFocus()
        QTest.keyClick(panel.table, Qt.Key.Key_Delete)
        await until(lambda: first.status is OrderStatus.CANCELLED, what="the cancel")
        await until(lambda: panel.proxy.rowCount() == 2, what="the working filter to drop it")
        model = app.window.orders_model
        assert model.text(model.row_of(first.order_id), "status") == "Cancelled"

        app.window.act_cancel_all.trigger()
        await app.answer("cancelAllPrompt", None)  # Escape: nothing is cancelled
        await until(lambda: app.prompt("cancelAllPrompt") is None, what="the prompt to close")
        assert second.status is OrderStatus.SUBMITTED and third.status is OrderStatus.SUBMITTED

        app.window.act_cancel_all.trigger()
        await app.answer("cancelAllPrompt", "cancelAllButton")
        await until(lambda: second.status is OrderStatus.CANCELLED and third.status is OrderStatus.CANCELLED,
                    what="cancel all")
        await until(lambda: panel.proxy.rowCount() == 0, what="no working orders shown")
        panel.set_filter("all")
        assert panel.proxy.rowCount() == 3

    qt_loop.run_until_complete(scenario())


def test_modify_in_place_and_from_the_order_line(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.settings.set_precautions(Precautions(enabled=False))
        record = await _resting(app, "buy 10 AAPL lmt 1.00")
        model = app.window.orders_model
        row = model.row_of(record.order_id)
        assert model.flags(model.index(row, COL["limit"])) & Qt.ItemFlag.ItemIsEditable
        assert not model.flags(model.index(row, COL["stop"])) & Qt.ItemFlag.ItemIsEditable
        # Editing the cell asks the desk; the row changes only when IB acknowledges the change.
        model.setData(model.index(row, COL["limit"]), "1.05")
        await until(lambda: record.limit_price == 1.05, what="the limit change")
        await until(lambda: model.text(row, "limit") == "1.05", what="the row to show it")
        gw = app.gateway.orders()
        assert any(o.lmt_price == 1.05 for o in gw)
        app.type_line(f"modify {record.order_id} qty 25")
        await until(lambda: record.total_quantity == 25, what="the quantity change")
        await until(lambda: model.text(row, "qty") == "25", what="the row's quantity")
        app.type_line(f"modify {record.order_id} qty 1.5")
        assert "whole" in app.window.order_line.error.text()
        assert record.total_quantity == 25

    qt_loop.run_until_complete(scenario())


def test_a_rejected_order_shows_ibs_reason_in_the_row_the_ticket_and_the_status_bar(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.gateway.faults.reject_next_order(201, "Order rejected - reason:Simulated: not enough shares to short")
        app.type_line("sell 10 AAPL mkt")
        record = await until(lambda: app.orders() and app.orders()[0], what="the row")
        await until(lambda: record.status is OrderStatus.ERROR, what="the reject")
        model = app.window.orders_model
        row = model.row_of(record.order_id)
        await until(lambda: "not enough shares" in model.text(row, "error"), what="the error column")
        assert "not enough shares" in model.data(model.index(row, COL["error"]), Qt.ItemDataRole.ToolTipRole)
        await until(lambda: "not enough shares" in app.window.ticket.message.text(), what="the ticket message")
        assert "not enough shares" in app.window.status.currentMessage()
        app.window.orders.set_filter("errors")
        assert app.window.orders.proxy.rowCount() == 1

    qt_loop.run_until_complete(scenario())
