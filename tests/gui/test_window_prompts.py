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


async def working(app, line: str):
    before = {r.order_id for r in app.orders()}
    app.type_line(line)
    record = await until(lambda: next((r for r in app.orders() if r.order_id not in before), None), what=line)
    await until(lambda: record.status is OrderStatus.SUBMITTED and record.acknowledged, what="IB to take " + line)
    return record


def test_cancel_all_typed_on_the_line_cancels_at_once_the_button_still_asks(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        first = await working(app, "buy 10 AAPL lmt 225.00")
        second = await working(app, "buy 5 AAPL lmt 224.00")
        app.window.orders.cancel_all_button.click()
        box = await app.answer("cancelAllPrompt", None)  # the button asks; Escape keeps them
        assert "Cancel all 2 working orders?" in box.text()
        await until(lambda: "Nothing cancelled" in app.window.ticket.message.text(), what="the button's answer")
        assert first.status is second.status is OrderStatus.SUBMITTED

        app.type_line("cancel all")  # typing it is the confirmation
        await until(lambda: first.status is second.status is OrderStatus.CANCELLED, what="both cancelled")
        assert app.prompt("cancelAllPrompt") is None
        assert "Cancel sent for 2 orders" in app.window.status.currentMessage()
        assert all(o.status == "Cancelled" for o in app.gateway.orders())

    qt_loop.run_until_complete(scenario())


def test_an_off_tick_price_is_refused_before_any_prompt(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        # NVDA trades near 130: 12.345 is both far from the market (a precaution) and off its 0.01 tick.
        app.type_line("buy 100 NVDA lmt 12.345")
        error = app.window.order_line.error
        await until(lambda: "tick" in error.text(), what="the refusal under the order line")
        assert error.text() == "Limit price 12.345 is not on NVDA's 0.01 tick; use 12.34 or 12.35"
        assert app.prompt("precautionPrompt") is None
        assert app.handler.get_all_orders() == [] and app.gateway.orders() == []

        # On the tick it asks, and header and body name the same price: the one that is sent.
        app.type_line("buy 100 NVDA lmt 12.35")
        box = await app.answer("precautionPrompt", "overrideButton")
        assert "BUY 100 NVDA LMT 12.35 DAY" in box.text()
        assert "Limit price 12.35 is " in box.informativeText()
        await until(lambda: app.gateway.orders(), what="the order at the gateway")
        assert [o.lmt_price for o in app.gateway.orders()] == [12.35]

    qt_loop.run_until_complete(scenario())


def test_a_stop_that_triggers_at_once_asks_and_escape_sends_nothing(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.gateway.set_price("AAPL", 230.50)
        app.type_line("sell 10 AAPL stp 232.80")
        box = await app.answer("precautionPrompt", None)
        assert "SELL 10 AAPL STP 232.80 DAY" in box.text()
        assert "SELL STP 232.80 is above the market 230.50: it triggers at once" in box.informativeText()
        await until(lambda: "Not sent" in app.window.ticket.message.text(), what="the refusal")
        assert app.handler.get_all_orders() == [] and app.gateway.orders() == []

        app.type_line("sell 10 AAPL stp 228.00")  # below the market: a stop that waits, sent without a prompt
        record = await until(lambda: app.orders() and app.orders()[0], what="the order")
        await until(lambda: record.acknowledged, what="IB to take it")
        assert record.status is OrderStatus.SUBMITTED and app.prompt("precautionPrompt") is None

    qt_loop.run_until_complete(scenario())
