"""Precaution and duplicate prompts: Escape sends nothing; an explicit override sends exactly once."""

from __future__ import annotations

from windowkit import until

from ibticket.core import OrderStatus
from ibticket.trading.precautions import Precautions


def test_a_size_breach_asks_escape_sends_nothing_override_sends_once(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.settings.set_precautions(Precautions(size_limit=50))
        app.type_line("buy 60 AAPL mkt")
        box = await app.answer("precautionPrompt", None)
        assert "size limit of 50" in box.informativeText()
        assert "BUY 60 AAPL MKT DAY" in box.text()
        await until(lambda: "Not sent" in app.window.ticket.message.text(), what="the refusal")
        assert app.handler.get_all_orders() == [] and app.gateway.orders() == []

        app.type_line("buy 60 AAPL mkt")
        await app.answer("precautionPrompt", "overrideButton")
        record = await until(lambda: app.orders() and app.orders()[0], what="the order")
        await until(lambda: record.status is OrderStatus.FILLED, what="the fill")
        assert len(app.handler.get_all_orders()) == 1 and len(app.gateway.orders()) == 1

    qt_loop.run_until_complete(scenario())


def test_a_value_breach_names_the_total_value_limit(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.settings.set_precautions(Precautions(value_limit=1_000.0))
        app.type_line("buy 10 AAPL lmt 500.00")  # 5,000 USD
        box = await app.answer("precautionPrompt", None)
        assert "total value limit of 1,000.00 USD" in box.informativeText()
        assert app.gateway.orders() == []

    qt_loop.run_until_complete(scenario())


def test_the_same_order_twice_asks_and_send_anyway_sends_once(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.type_line("buy 10 AAPL mkt")
        first = await until(lambda: app.orders() and app.orders()[0], what="the first order")
        await until(lambda: first.status is OrderStatus.FILLED, what="its fill")
        app.type_line("buy 10 AAPL mkt")
        box = await app.answer("duplicatePrompt", None)
        assert "BUY 10 AAPL MKT DAY" in box.text()
        await until(lambda: "Not sent" in app.window.ticket.message.text(), what="the refusal")
        assert len(app.gateway.orders()) == 1
        app.type_line("buy 10 AAPL mkt")
        await app.answer("duplicatePrompt", "sendAnywayButton")
        await until(lambda: len(app.orders()) == 2, what="the second order")
        await until(lambda: app.orders()[1].status is OrderStatus.FILLED, what="its fill")
        assert len(app.gateway.orders()) == 2 and len(app.handler.get_all_orders()) == 2

    qt_loop.run_until_complete(scenario())


def test_a_limit_far_from_the_market_is_a_percent_breach_even_for_a_symbol_not_in_the_ticket(make_app, qt_loop):
    async def scenario() -> None:
        app = await make_app().start()
        assert app.window.ticket.instrument is None or app.window.ticket.instrument.symbol != "MSFT"
        app.type_line("sell 10 MSFT lmt 600.00")  # MSFT trades near 420 on the embedded gateway
        box = await app.answer("precautionPrompt", None)
        assert "from the market" in box.informativeText() and "5%" in box.informativeText()
        assert app.gateway.orders() == []

    qt_loop.run_until_complete(scenario())
