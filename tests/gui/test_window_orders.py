"""Orders entered in the window, by keyboard, reach the gateway and come back as rows, fills and log lines."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from windowkit import until

from ibticket.core import OrderStatus


def _fill_ticket(app: Any, symbol: str, side: str, qty: int, kind: str, limit: float | None = None) -> None:
    t = app.window.ticket
    t.symbol.setFocus()
    t.symbol.selectAll()
    QTest.keyClicks(t.symbol, symbol)
    QTest.keyClick(t.symbol, Qt.Key.Key_Return)
    QTest.keyClick(t, Qt.Key.Key_B if side == "BUY" else Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    t.quantity.setFocus()
    t.quantity.selectAll()
    QTest.keyClicks(t.quantity, str(qty))
    t.order_type.setCurrentText(kind)
    if limit is not None:
        t.limit.setFocus()
        t.limit.selectAll()
        QTest.keyClicks(t.limit, f"{limit:.2f}")
        QTest.keyClick(t.limit, Qt.Key.Key_Tab)


def test_an_order_typed_in_the_ticket_fills_in_orders_fills_and_the_log(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        t = app.window.ticket
        _fill_ticket(app, "aapl", "BUY", 30, "MKT")
        await until(lambda: t.instrument is not None and t.instrument.symbol == "AAPL", what="AAPL to load")
        assert t.send.text() == "BUY 30 AAPL MKT DAY"
        assert t.send.isEnabled()
        QTest.keyClick(t.quantity, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        record = await until(lambda: app.orders() and app.orders()[0], what="the order row")
        await until(lambda: record.status is OrderStatus.FILLED, what="the fill")
        await until(lambda: app.window.fills_model.rowCount() == 1, what="the fills row")
        model = app.window.orders_model
        row = model.row_of(record.order_id)
        assert model.text(row, "status") == "Filled"
        assert model.text(row, "filled") == "30/30"
        fill = app.window.fills_model.fills()[0]
        assert (fill.symbol, fill.quantity, fill.order_id) == ("AAPL", 30, record.order_id)
        assert app.window.fills_model.side(0) == "BUY"
        kinds = [e["event_type"] for e in app.log_events() if e.get("order_id") == record.order_id]
        assert kinds[0] == "SUBMISSION" and "FILL" in kinds
        assert "sent: BUY 30 AAPL MKT DAY" in t.message.text()

    qt_loop.run_until_complete(scenario())


def test_the_order_line_sends_on_enter_and_only_fills_the_ticket_on_shift_enter(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.type_line("b 12 msft lmt 1.00 gtc", shift=True)
        t = app.window.ticket
        await until(lambda: t.instrument is not None and t.instrument.symbol == "MSFT", what="MSFT in the ticket")
        assert t.send.text() == "BUY 12 MSFT LMT 1.00 GTC"
        assert app.orders() == []  # Shift+Enter sends nothing
        app.type_line("s 5 msft mkt")
        record = await until(lambda: app.orders() and app.orders()[0], what="the sell row")
        assert (record.action, record.total_quantity, record.order_type) == ("SELL", 5, "MARKET")
        await until(lambda: record.status is OrderStatus.FILLED, what="the sell to fill")
        edit = app.window.order_line.edit
        QTest.keyClick(edit, Qt.Key.Key_Up)
        assert edit.text() == "s 5 msft mkt"

    qt_loop.run_until_complete(scenario())


def test_a_word_the_order_line_cannot_read_is_marked_and_nothing_is_sent(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.type_line("buy ten AAPL")
        bar = app.window.order_line
        assert bar.error.isVisible()
        assert "ten" in bar.error.text() and "quantity" in bar.error.text()
        assert bar.edit.selectedText() == "ten"
        assert bar.edit.text() == "buy ten AAPL"  # kept for correction
        assert app.orders() == []

    qt_loop.run_until_complete(scenario())


def test_partial_fills_update_one_row(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app(partial_fills=4).start()
        app.type_line("buy 40 AAPL mkt")
        record = await until(lambda: app.orders() and app.orders()[0], what="the row")
        await until(lambda: app.window.fills_model.rowCount() == 4, what="four executions")
        model = app.window.orders_model
        assert model.rowCount() == 1
        assert model.text(0, "filled") == "40/40" and model.text(0, "status") == "Filled"
        assert sum(f.quantity for f in app.window.fills_model.fills()) == 40
        assert {f.order_id for f in app.window.fills_model.fills()} == {record.order_id}
        totals = app.window.fills_model.totals["AAPL"]
        assert totals.bought == 40 and totals.fills == 4

    qt_loop.run_until_complete(scenario())


def test_an_order_whose_placement_raised_after_it_went_out_shows_unknown_then_working(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        client = app.session.core.ib.client
        real = client.placeOrder

        def place(order_id: int, contract: Any, order: Any) -> None:
            client.placeOrder = real  # once
            real(order_id, contract, order)
            raise RuntimeError("the library's bookkeeping broke")

        client.placeOrder = place
        app.gateway.set_price("AAPL", 223.80)
        app.type_line("b 12 aapl lmt 223.00")
        t = app.window.ticket
        await until(lambda: "unknown — reconciling" in t.message.text() or t.message.text().startswith("#"),
                    what="the ticket's answer")
        assert "unknown — reconciling" in t.message.text(), t.message.text()
        assert "Could not" not in t.message.text()
        record = app.orders()[0]
        model = app.window.orders_model
        await until(lambda: record.status is OrderStatus.SUBMITTED and record.error_message is None,
                    what="IB to say it has the order")
        await until(lambda: model.text(model.row_of(record.order_id), "status") == "Submitted", what="the row")

    qt_loop.run_until_complete(scenario())
