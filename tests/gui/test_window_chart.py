"""The chart dock against the embedded gateway: points, fill markers, order lines, a drag that re-prices an order,
the lazy creation, the pacing of redraws and the themes."""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from windowkit import until

from ibticket.broker.market import Quote
from ibticket.core import OrderStatus
from ibticket.gui.controller import WindowController
from ibticket.gui.theme import DARK, LIGHT

MARKET = 100.50


@pytest.fixture
def ticks_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests of the session's own ticks, candles and drags set AAPL to 100.50, far from the gateway's simulated
    day around its start price: the chart's history would widen the fitted view to the whole day. They run
    without it; test_the_chart_opens_with_the_days_history covers the history."""

    async def no_history(_controller: Any, _symbol: str) -> list[Any]:
        return []

    monkeypatch.setattr(WindowController, "_day_bars", no_history)


async def chart_app(make_app: Any, **options: Any) -> Any:
    """A connected window whose ticket shows AAPL at MARKET, with the chart dock shown."""
    app = await make_app(**options).start()
    app.gateway.set_price("AAPL", MARKET, spread=0.02)
    t = app.window.ticket
    t.symbol.setFocus()
    t.symbol.selectAll()
    QTest.keyClicks(t.symbol, "AAPL")
    QTest.keyClick(t.symbol, Qt.Key.Key_Return)
    await until(lambda: t.instrument is not None and t.instrument.symbol == "AAPL", what="AAPL in the ticket")
    app.window.docks["chart"].show()
    app.window.docks["chart"].raise_()
    view = await until(lambda: app.window.chart_holder.view, what="the chart to be created")
    await until(lambda: view.symbol == "AAPL", what="the chart to show AAPL")
    return app


def view_of(app: Any) -> Any:
    return app.window.chart_holder.view


async def working_limit(app: Any, line: str) -> Any:
    before = {r.order_id for r in app.orders()}
    app.type_line(line)
    record = await until(lambda: next((r for r in app.orders() if r.order_id not in before), None), what="the order")
    await until(lambda: record.status is OrderStatus.SUBMITTED and record.acknowledged, what="IB to take the order")
    return record


def in_view(view: Any, x: float, y: float) -> bool:
    (x0, x1), (y0, y1) = view.vb.viewRange()
    return x0 <= x <= x1 + 2 and y0 <= y <= y1


def viewport_point(view: Any, x: float, y: float) -> QPoint:
    return view.plot.mapFromScene(view.vb.mapViewToScene(QPointF(x, y)))


async def drag(view: Any, line: Any, to_price: float, escape: bool = False) -> None:
    """A real mouse drag of ``line`` to ``to_price`` on the chart's viewport (Escape before releasing if asked)."""
    await until(lambda: view.isVisible() and view.plot.width() > 100, what="the chart on screen")
    # The view fits a new line on its next paint: aim only once the range holds still, as a trader would.
    previous = None
    for _ in range(100):
        current = view.vb.viewRange()
        if current == previous and current[1][0] < line.value() < current[1][1]:
            break
        previous = current
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"the chart's range never settled around the line: {view.vb.viewRange()}")
    (x0, x1), _ = view.vb.viewRange()
    x = x0 + (x1 - x0) * 0.6
    viewport = view.plot.viewport()
    start = viewport_point(view, x, line.value())
    end = viewport_point(view, x, to_price)
    QTest.mouseMove(viewport, start)
    await asyncio.sleep(0.03)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 7):  # pyqtgraph drops moves closer together than 10 ms
        await asyncio.sleep(0.03)
        QTest.mouseMove(viewport, QPoint(start.x(), start.y() + (end.y() - start.y()) * i // 6))
    await asyncio.sleep(0.03)
    assert line.moving, "the drag did not take the line"
    if escape:
        QTest.keyClick(view.plot, Qt.Key.Key_Escape)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    await asyncio.sleep(0.03)


def gateway_order(app: Any, record: Any) -> Any:
    broker_id = record.attempts[-1].order_id
    return next(o for o in app.gateway.orders() if o.order_id == broker_id)


def test_the_chart_draws_the_sessions_trades_from_before_it_was_shown(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        t = app.window.ticket
        t.symbol.setText("AAPL")
        QTest.keyClick(t.symbol, Qt.Key.Key_Return)
        await until(lambda: t.instrument is not None, what="AAPL in the ticket")
        store = app.controller.chart.store
        for i in range(5):  # trades while the chart is a tab nobody looked at
            app.gateway.set_price("AAPL", 100.0 + i / 10)
            await until(lambda i=i: (last := store.buffer("AAPL").last()) and last[1] == 100.0 + i / 10,
                        what=f"trade {i} recorded")
        assert app.window.chart_holder.view is None
        assert "pyqtgraph" not in sys.modules or app.window.chart_holder.view is None
        app.window.docks["chart"].raise_()
        view = await until(lambda: view_of(app), what="the chart to be created when shown")
        await until(lambda: view.point_count() >= 5, what="the session's trades on the chart")
        x, y = view.points()
        assert list(y[-5:]) == [100.0, 100.1, 100.2, 100.3, 100.4]
        assert all(b >= a for a, b in itertools.pairwise(x))
        app.gateway.set_price("AAPL", 101.0)
        await until(lambda: view.points()[1][-1] == 101.0, what="a new trade on the chart")
        assert view.title.text() == "AAPL  101.00"
        await until(lambda: in_view(view, time.time() - 1, 100.5), what="the line in view")
        (x0, x1), _ = view.vb.viewRange()
        assert x1 - x0 >= 59, "a few seconds of trades still show a minute (the axis would count milliseconds)"
        assert abs(view.points()[0][-1] - time.time()) < 30

    qt_loop.run_until_complete(scenario())


def test_the_chart_opens_with_the_days_history_on_the_embedded_gateway(make_app, qt_loop) -> None:
    async def scenario() -> None:
        started = time.time()
        app = await chart_app(make_app)
        view = view_of(app)
        bars = await until(lambda: view._history.get("AAPL"), what="the day's bars from the gateway")
        assert bars[0].start.timestamp() < started - 60, "the history reaches back before the session"
        assert bars[-1].close == MARKET, "the history ends at the live price"
        assert view.history_curve.isVisible()
        assert sum(len(x) for x, _y in view.pieces(history=True)) == len(bars)  # a pause breaks it: no point lost
        view.mode_box.setCurrentIndex(view.mode_box.findData("candles"))
        await until(lambda: len(view.candles()) >= len(bars) - 1, what="the history as candles")
        assert view.candles()[0].start <= bars[0].start.timestamp() + 60

    qt_loop.run_until_complete(scenario())


def test_candles_build_from_the_ticks_and_the_mode_is_remembered(make_app, qt_loop, ticks_only) -> None:
    async def scenario() -> None:
        app = await chart_app(make_app)
        view = view_of(app)
        view.mode_box.setCurrentIndex(view.mode_box.findData("candles"))
        for p in (101.0, 99.0, 100.0):
            app.gateway.set_price("AAPL", p)
            await until(lambda p=p: view.candles() and view.candles()[-1].close == p, what=f"the candle at {p}")
        last = view.candles()[-1]
        assert last.high >= 101.0 and last.low <= 99.0
        await until(lambda: in_view(view, time.time() - 1, 100.0), what="the candles in view")
        (x0, x1), (y0, y1) = view.vb.viewRange()
        assert x1 - x0 < 600 and 90 < y0 < y1 < 110, view.vb.viewRange()
        assert not view.curve.isVisible() and view.last_candle.isVisible()
        assert app.settings.chart_mode() == "candles"

    qt_loop.run_until_complete(scenario())


def test_redraws_are_paced_not_per_tick(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await chart_app(make_app)
        view, feed = view_of(app), app.controller.chart
        await asyncio.sleep(0.1)
        before, points = view.redraws, view.point_count()
        started = time.monotonic()
        for i in range(2000):
            feed.quote(Quote("AAPL", None, None, 100.0 + (i % 50) / 100, None, None, 1, None, datetime.now(),
                             False, volume=10_000 + i))
        await until(lambda: view.point_count() == points + 2000, what="2000 trades drawn")
        await asyncio.sleep(0.1)
        elapsed = time.monotonic() - started
        assert view.redraws - before <= 30 * elapsed + 2, (view.redraws - before, elapsed)
        # Only what is in view is drawn, downsampled to what the screen can show.
        assert view.curve.opts["clipToView"] and view.curve.opts["autoDownsample"]
        assert view.curve.opts["downsampleMethod"] == "peak"

    qt_loop.run_until_complete(scenario())


def test_fills_appear_as_buy_and_sell_markers(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await chart_app(make_app)
        view = view_of(app)
        app.type_line("buy 30 aapl mkt")
        await until(lambda: len(view.marks()) == 1, what="the buy marker")
        app.type_line("sell 10 aapl mkt")
        await until(lambda: len(view.marks()) == 2, what="the sell marker")
        buy, sell = view.marks()
        fills = {f.fill_id: f for f in app.window.fills_model.fills()}
        assert (buy.side, buy.quantity, buy.price) == ("BUY", 30, fills[buy.fill_id].price)
        assert (sell.side, sell.quantity) == ("SELL", 10)
        await until(lambda: len(view.fills.points()) == 2, what="two markers drawn")
        spots = view.fills.points()
        assert [s.symbol() for s in spots] == ["t1", "t"]  # ▲ bought, ▼ sold
        assert spots[0].brush().color().name() == LIGHT.buy and spots[1].brush().color().name() == LIGHT.sell
        assert spots[0].pos().y() == buy.price
        tip = view._tip(0, 0, spots[1].data())
        assert tip.startswith(f"Sold 10 @ {sell.price:.2f}\norder #{sell.order_id} · ")

    qt_loop.run_until_complete(scenario())


def test_a_working_order_has_a_line_marked_until_ib_acknowledges_it_and_gone_when_cancelled(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await chart_app(make_app)
        view = view_of(app)
        app.gateway.faults.delay_messages(1.0)  # IB's acknowledgement takes a second
        app.type_line("buy 25 aapl lmt 99.50")
        record = await until(lambda: app.orders() and app.orders()[0], what="the order row")
        line = await until(lambda: view.order_line(record.order_id), what="the order's line")
        assert not record.acknowledged
        assert line.value() == 99.50 and not line.movable
        assert line.pen.style() == Qt.PenStyle.DashLine
        assert line.label.toPlainText() == f"BUY 25 LMT 99.50  #{record.order_id}  (sending)"
        await until(lambda: line.movable, what="the line to become draggable once IB has the order")
        app.gateway.faults.delay_messages(0)
        assert record.acknowledged and line.pen.style() == Qt.PenStyle.SolidLine
        assert line.pen.color().name() == LIGHT.buy
        assert line.label.toPlainText() == f"BUY 25 LMT 99.50  #{record.order_id}"
        stop = await working_limit(app, "sell 5 aapl stp lmt 98.00 97.90")
        assert {(ln.spec.kind, ln.value()) for ln in view.order_lines() if ln.spec.order_id == stop.order_id} == {
            ("stop", 98.00), ("limit", 97.90)}
        # Every working order's price is in view, the farthest too.
        await until(lambda: view.vb.viewRange()[1][0] <= 97.90 and view.vb.viewRange()[1][1] >= MARKET,
                    what="the orders in view")
        app.type_line(f"cancel {record.order_id}")
        await until(lambda: view.order_line(record.order_id) is None, what="the line to go with the order")
        assert record.status is OrderStatus.CANCELLED
        assert view.order_line(stop.order_id, "stop") is not None

    qt_loop.run_until_complete(scenario())


def test_dragging_an_order_line_modifies_the_order_at_the_gateway(make_app, qt_loop, ticks_only) -> None:
    async def scenario() -> None:
        app = await chart_app(make_app)
        view = view_of(app)
        record = await working_limit(app, "buy 25 aapl lmt 99.50")
        line = await until(lambda: view.order_line(record.order_id), what="the order's line")
        await drag(view, line, 100.013)
        await until(lambda: app.prompt("modifyPrompt"), what="the confirmation")
        # Meanwhile the line waits at the new price (on the tick), dotted, and cannot be dragged again. The drop
        # lands on a pixel (about a cent here), so the price is the tick nearest to that pixel.
        price = line.pending
        assert abs(price - 100.013) < 0.03 and abs(price * 100 - round(price * 100)) < 1e-9
        assert line.value() == price and not line.movable
        assert line.pen.style() == Qt.PenStyle.DotLine and line.label.toPlainText().endswith("→ confirm?")
        box = await app.answer("modifyPrompt", "modifyButton")
        assert f"Change #{record.order_id} to BUY 25 AAPL LMT {price:.2f}" in box.text()  # on the tick
        await until(lambda: gateway_order(app, record).lmt_price == price, what="the new price at the gateway")
        await until(lambda: record.limit_price == price and line.pending is None, what="IB's acknowledgement")
        assert line.value() == price and line.movable
        assert record.status is OrderStatus.SUBMITTED
        # A stop limit's stop line changes the stop price only.
        stop = await working_limit(app, "sell 5 aapl stp lmt 99.00 98.90")
        stop_line = await until(lambda: view.order_line(stop.order_id, "stop"), what="the stop line")
        await drag(view, stop_line, 99.204)
        # A mouse drop lands on a pixel, a pixel is about a cent here: the price is the nearest tick to it.
        new_stop = stop_line.pending
        assert abs(new_stop - 99.204) < 0.03 and abs(new_stop * 100 - round(new_stop * 100)) < 1e-9
        app.gateway.faults.delay_messages(1.0)  # IB takes a second to acknowledge the change
        await app.answer("modifyPrompt", "modifyButton")
        await until(lambda: stop_line.label.toPlainText().endswith("→ change sent"), what="the line waiting for IB")
        assert stop_line.value() == new_stop and stop_line.pen.style() == Qt.PenStyle.DotLine
        await until(lambda: gateway_order(app, stop).aux_price == new_stop, what="the new stop at the gateway")
        app.gateway.faults.delay_messages(0)
        await until(lambda: stop.stop_price == new_stop and stop_line.pending is None, what="IB's acknowledgement")
        assert stop_line.pen.style() == Qt.PenStyle.SolidLine
        assert gateway_order(app, stop).lmt_price == 98.90 and stop.limit_price == 98.90

    qt_loop.run_until_complete(scenario())


def test_escape_during_a_drag_and_a_declined_change_put_the_line_back(make_app, qt_loop, ticks_only) -> None:
    async def scenario() -> None:
        app = await chart_app(make_app)
        view = view_of(app)
        record = await working_limit(app, "buy 25 aapl lmt 99.50")
        line = await until(lambda: view.order_line(record.order_id), what="the order's line")
        await drag(view, line, 99.90, escape=True)
        assert line.value() == 99.50 and not line.moving and line.pending is None
        await asyncio.sleep(0.2)
        assert app.prompt("modifyPrompt") is None
        await drag(view, line, 99.80)
        await app.answer("modifyPrompt", None)  # Escape on the confirmation: leave it
        await until(lambda: line.value() == 99.50 and line.movable, what="the line back at the order's price")
        # Through the same precautions as any change: far from the market asks first, and no is no.
        await drag(view, line, 90.00)
        await app.answer("precautionPrompt", "precautionPromptCancel")
        await until(lambda: line.value() == 99.50 and line.movable, what="the line back after the precaution")
        assert gateway_order(app, record).lmt_price == 99.50 and record.limit_price == 99.50

    qt_loop.run_until_complete(scenario())


def test_view_theme_menu_recolours_the_chart_and_is_remembered(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await chart_app(make_app)
        view = view_of(app)
        record = await working_limit(app, "sell 5 aapl lmt 101.00")
        line = await until(lambda: view.order_line(record.order_id), what="the order's line")
        app.window.theme_actions["dark"].trigger()
        assert app.controller.colors is DARK and app.settings.theme() == "dark"
        assert app.window.theme_actions["dark"].isChecked()
        assert view.plot.backgroundBrush().color().name() == DARK.chart_background
        assert line.pen.color().name() == DARK.sell
        assert app.window.ticket._colors is DARK
        app.window.theme_actions["light"].trigger()
        assert view.plot.backgroundBrush().color().name() == LIGHT.chart_background
        assert not app.window.theme_actions["dark"].isChecked()
        assert app.settings.theme() == "light"

    qt_loop.run_until_complete(scenario())


def test_a_layout_saved_before_the_chart_is_kept_and_the_chart_joins_the_orders_tab(qt_loop, tmp_path) -> None:
    from ibticket.gui.appsettings import AppSettings
    from ibticket.gui.mainwindow import MainWindow

    async def scenario() -> None:
        settings = AppSettings(tmp_path / "settings.ini")
        old = MainWindow(settings)
        old.show()
        old.docks["positions"].raise_()
        old.removeDockWidget(old.docks["chart"])  # what a window without the chart saved
        settings.set_window_state(old.saveGeometry(), old.saveState(1))
        old.hide()
        window = MainWindow(settings)
        window.show()
        # The trader's layout survived (positions on top), and the chart is a tab behind Orders.
        await until(lambda: not window.docks["positions"].visibleRegion().isEmpty(), what="the saved layout")
        assert window.docks["orders"] in window.tabifiedDockWidgets(window.docks["chart"])
        assert window.docks["chart"].visibleRegion().isEmpty()
        window.hide()

    qt_loop.run_until_complete(scenario())


def test_a_chart_left_showing_is_created_after_start_not_with_the_window(make_app, qt_loop, tmp_path) -> None:
    async def scenario() -> None:
        first = make_app(tmp_path / "a")
        first.window.docks["chart"].raise_()
        await until(lambda: not first.window.docks["chart"].visibleRegion().isEmpty(), what="the chart tab shown")
        first.window.save_layout()
        first.window.hide()
        app = make_app(tmp_path / "a")  # the same settings file: the chart tab is up from the start
        await asyncio.sleep(0.1)
        assert not app.window.docks["chart"].visibleRegion().isEmpty()
        assert app.window.chart_holder.view is None  # not before the session starts (the broker import)
        await app.start()
        view = await until(lambda: app.window.chart_holder.view, what="the chart, once started")
        assert view.isVisible()

    qt_loop.run_until_complete(scenario())


def test_a_pause_in_the_trades_or_the_history_breaks_the_line(keep) -> None:
    """Five minutes without trades (a dropped connection) and an hour missing from the history are drawn as
    breaks, not as straight lines that would read as a trend."""
    import numpy as np

    from ibticket.gui.widgets.chart import ChartView
    from ibticket.trading.chart_data import TickStore

    @dataclass
    class Bar:
        start: datetime
        close: float

    store = TickStore()
    t0 = time.time() - 3600
    buf = store.buffer("AAPL")
    for i in range(20):
        buf.append(t0 + i, 100.0 + i / 100)
    for i in range(20):
        buf.append(t0 + 319 + i, 102.0 + i / 100)
    view = keep(ChartView(store))
    view.resize(800, 400)
    view.show()
    view.set_symbol("AAPL")
    view.redraw()
    pieces = view.pieces()
    assert [len(x) for x, _y in pieces] == [20, 20] and view.point_count() == 40
    assert pieces[0][1][-1] == 100.19 and pieces[1][1][0] == 102.0
    x, _y = view.curve.getOriginalDataset()
    assert np.all(np.diff(x) >= 0), "the times stay sorted for the clipping to the view"
    day = datetime.fromtimestamp(t0 - 7200).replace(second=0, microsecond=0)
    bars = [Bar(day + timedelta(minutes=m), 99.0) for m in [*range(30), *range(90, 110)]]
    view.set_history("AAPL", bars)
    assert [len(x) for x, _y in view.pieces(history=True)] == [30, 20]
    # Clipped to a range that holds the pause, and painted: the curve leaves it open.
    view.vb.setXRange(t0 + 10, t0 + 330, padding=0)
    assert not view.grab().isNull()
    assert view.curve.curve.opts["connect"] == "finite"
