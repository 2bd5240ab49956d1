"""The window keeps its size and its layout whatever it says, and says it in the trader's words.

A long message once widened the window from 1,280 to about 1,500 px for good (Cancel all… and the status
bar's right cells went off-screen), and the order line's message row came and went under the trader's
pointer. Measured on the real window connected to the embedded gateway.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QGridLayout
from windowkit import until

from ibticket.core import OrderStatus
from ibticket.gui.theme import DARK, LIGHT
from ibticket.gui.widgets.ticket import OrderTicket
from ibticket.trading.orderline import OrderLineError
from ibticket.trading.precautions import Precautions
from ibticket.trading.session import ConnectionStatus

SCREEN = 1280
LONG = "X" * 300  # one word: nothing to wrap at
LONG_WORDS = ("A long refusal that says a great deal " * 8)[:300]


def _settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def _fits(app, what: str) -> None:
    _settle()
    w = app.window
    assert w.minimumSizeHint().width() <= SCREEN, f"{what}: the window asks for {w.minimumSizeHint().width()} px"
    assert w.width() <= SCREEN, f"{what}: the window grew to {w.width()} px"


def test_a_300_character_message_in_any_label_leaves_the_window_within_the_screen(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        w = app.window
        w.resize(SCREEN, 800)
        _fits(app, "at start")
        for text in (LONG, LONG_WORDS):
            w.status.showMessage(text)
            _fits(app, "status message")
            w.ticket.show_message(text, error=True)
            _fits(app, "ticket message")
            w.order_line.edit.set_error(OrderLineError(text, 0, 0, ""))
            _fits(app, "order line message")
            w.ticket.quote_note.setText(text)
            _fits(app, "quote note")
            w.notices.add("test", text)
            _fits(app, "notice")
            w.status.set_connection(ConnectionStatus("disconnected", "127.0.0.1:7497", "PAPER", text, text))
            _fits(app, "connection and account")
        # What is cut short is whole in the label's text and its tooltip.
        assert w.status.message.text() == LONG_WORDS and w.status.message.toolTip() == LONG_WORDS
        assert w.order_line.error.text() == LONG_WORDS and w.order_line.error.toolTip() == LONG_WORDS
        assert w.ticket.message.text() == LONG_WORDS

    qt_loop.run_until_complete(scenario())


def test_a_duplicate_refusal_keeps_the_line_selected_and_speaks_of_send_anyway(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        w = app.window
        w.resize(SCREEN, 800)
        app.type_line("buy 6000 AAPL lmt 1.00 gtc")  # far below the market: it rests
        await app.answer("precautionPrompt", "overrideButton")
        first = await until(lambda: app.orders() and app.orders()[0], what="the first order")
        await until(lambda: first.status is OrderStatus.SUBMITTED, what="it to work")
        assert w.order_line.edit.text() == ""  # a line that went through is cleared
        line = "buy 6000 AAPL lmt 1.00 gtc"
        app.type_line(line)
        await app.answer("precautionPrompt", "overrideButton")
        await app.answer("duplicatePrompt", None)
        await until(lambda: "Not sent" in w.ticket.message.text(), what="the refusal")
        said = w.ticket.message.text()
        assert "force=True" not in said and "Send anyway" in said, said
        assert "BUY 6,000 AAPL LMT 1 was sent" in said, said  # not "LIMIT limit 1"
        edit = w.order_line.edit
        await until(lambda: edit.selectedText() == line, what="the refused line selected")
        assert edit.text() == line and "Send anyway" in w.order_line.error.text()
        _fits(app, "the duplicate refusal")

    qt_loop.run_until_complete(scenario())


@pytest.mark.parametrize("line, says", [
    ("buy 10 ZZZQX mkt", "ZZZQX"),  # a symbol IB does not know
    ("buy 10 AAPL lmt 230.005", "tick"),  # a price off the tick
    ("buy 6000 AAPL mkt", "Not sent"),  # a precaution's prompt answered Cancel
])
def test_a_refused_line_stays_selected_for_editing(make_app, qt_loop, line: str, says: str) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        w = app.window
        edit = w.order_line.edit
        asks = line.startswith("buy 6000")
        if not asks:
            app.settings.set_precautions(Precautions(enabled=False))  # the refusal comes from IB's side
        app.type_line(line)
        if asks:
            await app.answer("precautionPrompt", None)
        await until(lambda: w.order_line.error.text(), what="the refusal under the line")
        assert says in w.order_line.error.text(), w.order_line.error.text()
        assert edit.text() == line and edit.selectedText() == line
        assert app.gateway.orders() == []
        assert w.ticket.message.styleSheet() == f"color: {app.controller.colors.error};"
        # The next success clears the stale red message, under the line and in the ticket.
        app.type_line("buy 1 AAPL mkt")
        await until(lambda: "sent" in w.ticket.message.text() and "Not" not in w.ticket.message.text(),
                    what="the next order sent")
        assert w.order_line.error.text() == "" and edit.text() == ""
        assert w.ticket.message.styleSheet() != f"color: {app.controller.colors.error};"

    qt_loop.run_until_complete(scenario())


def test_a_message_under_the_order_line_moves_nothing(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        w = app.window
        w.resize(SCREEN, 800)
        _settle()
        targets = [w.ticket.send, w.orders.cancel_all_button, w.ticket.symbol]

        def places() -> list[object]:
            _settle()
            return [t.mapTo(w, t.rect().topLeft()) for t in targets]

        before = places()
        app.type_line("buy x AAPL")  # cannot be read: the reason appears under the line
        assert w.order_line.error.text() and places() == before
        w.order_line.edit.setText("buy 1 AAPL mkt")
        w.order_line.edit.textEdited.emit("buy 1 AAPL mkt")  # typing clears the reason
        assert not w.order_line.error.text() and places() == before

    qt_loop.run_until_complete(scenario())


def test_a_new_symbol_clears_the_tickets_stale_red_message(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        t = app.window.ticket
        t.symbol.setText("AAPL")
        t.symbol.returnPressed.emit()
        await until(lambda: t.instrument and t.instrument.symbol == "AAPL", what="AAPL loaded")
        t.show_message("#3 BUY 10 AAPL: rejected", error=True)
        t.symbol.setText("MSFT")
        t.symbol.returnPressed.emit()
        await until(lambda: t.instrument.symbol == "MSFT", what="MSFT loaded")
        assert t.message.text() == ""

    qt_loop.run_until_complete(scenario())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio."""

    def luminance(color: QColor) -> float:
        channels = [v / 255 for v in (color.red(), color.green(), color.blue())]
        r, g, b = (v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


_RULE = re.compile(r"(QPushButton#ticket\w+(?::\w+)?) \{ background: ([#\w]+); color: ([#\w]+);")


@pytest.mark.parametrize("colors", [LIGHT, DARK], ids=["light", "dark"])
@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_text_on_buy_sell_and_send_meets_wcag_aa(keep, colors, side: str) -> None:
    from ibticket.gui.widgets.ticket import Instrument

    ticket = keep(OrderTicket())
    ticket.set_colors(colors)
    ticket.resize(360, 600)
    ticket.show()
    ticket.set_instrument(Instrument("AAPL", "Apple", 0.01))
    ticket.limit.setValue(230.0)
    chosen = ticket.buy if side == "BUY" else ticket.sell
    chosen.click()
    _settle()
    assert ticket.send.isEnabled()
    rules = {selector: (background, text) for selector, background, text in _RULE.findall(ticket.styleSheet())}
    name = "ticketBuy" if side == "BUY" else "ticketSell"
    for button, selector in ((chosen, f"QPushButton#{name}:checked"), (ticket.send, "QPushButton#ticketSend")):
        declared, text = rules[selector]
        # The background as painted (a style may draw its own gradient over a declared colour).
        image = button.grab().toImage()
        painted = image.pixelColor(image.width() // 12, image.height() // 2)
        ratio = contrast(painted, QColor(text))
        assert ratio >= 4.5, f"{selector} on {side}: {text} on {painted.name()} ({declared} declared) is {ratio:.2f}:1"


def test_the_ticket_reads_as_the_send_button(keep) -> None:
    from ibticket.gui.widgets.ticket import Instrument

    ticket = keep(OrderTicket())
    ticket.resize(360, 600)
    ticket.show()
    ticket.set_instrument(Instrument("AAPL", "Apple", 0.01))
    assert ticket.quantity.singleStep() == 100  # a stock's round lot by default
    ticket.set_lots(100, {"AAPL": 25})
    assert ticket.quantity.singleStep() == 25
    ticket.quantity.setValue(10_000)
    ticket.order_type.setCurrentText("STP LMT")
    ticket.stop.setValue(231.0)
    ticket.limit.setValue(231.5)
    assert ticket.send.text() == "BUY 10,000 AAPL STP LMT 231.00 231.50 DAY"
    form = next(lay for lay in ticket.findChildren(QGridLayout) if lay.indexOf(ticket.stop) >= 0)
    row = {box: form.getItemPosition(form.indexOf(box))[0] for box in (ticket.stop, ticket.limit)}
    assert row[ticket.stop] < row[ticket.limit]  # stop above limit, as the button reads
    # The longest order still fits the ticket's width: on two lines, never cut.
    ticket.quantity.setValue(10_000_000)
    ticket.outside_rth.setChecked(True)
    ticket.tif.setCurrentText("GTC")
    ticket.stop.setValue(999_999.0)
    ticket.limit.setValue(999_999.5)
    assert ticket.minimumSizeHint().width() <= 360
    assert ticket.send.text() == "BUY 10,000,000 AAPL STP LMT 999,999.00 999,999.50 GTC ORTH"


def test_counts_have_thousands_separators(make_app) -> None:
    w = make_app().window
    w.status.set_counts(1234, 10_000)
    assert (w.status.working.text(), w.status.fills.text()) == ("Working 1,234", "Fills today 10,000")


def test_the_log_viewer_opens_on_today(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.type_line("buy 1 AAPL mkt")
        await until(lambda: app.orders() and app.orders()[0].status is OrderStatus.FILLED, what="a fill")
        app.window.show_log_viewer()
        await until(lambda: app.window.logview.day == date.today(), what="today opened")

    qt_loop.run_until_complete(scenario())


def test_closing_with_working_simulated_orders_says_they_do_not_work_meanwhile(make_app, qt_loop) -> None:
    async def scenario() -> None:
        from ibticket.core.order import OrderRequest

        app = await make_app().start()
        w = app.window
        closed: list[bool] = []
        w.closing.connect(lambda: closed.append(True))
        record = await app.session.core.submit(OrderRequest("AAPL", "BUY", 5, "LIMIT", 1.0, tif="GTC"))
        await until(lambda: record.status is OrderStatus.SUBMITTED, what="the order working")
        w.close()
        box = await until(lambda: app.prompt("closePrompt"), what="the question")
        assert "1 working order in the simulated account cannot fill while ibticket is closed" in box.text()
        await app.answer("closePrompt", None)  # Escape keeps it open
        await until(lambda: app.prompt("closePrompt") is None, what="the question gone")
        assert w.isVisible() and not closed
        w.close()
        await app.answer("closePrompt", "closeAnywayButton")
        await until(lambda: closed, what="the window closing")

    qt_loop.run_until_complete(scenario())
