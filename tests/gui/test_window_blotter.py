"""The fills blotter and the positions against the embedded gateway: fills in time order after a restart,
sortable headers, the newest fill kept in view unless the trader scrolled away; a position closed today kept
(muted) with its realized P&L, the rows adding up to the day's P&L in the status bar."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from windowkit import until

from ibticket.core import Fill, OrderLogger, OrderRecord, OrderStatus
from ibticket.gui import bridge as bridge_module
from ibticket.trading.precautions import Precautions

CLIENT_ID = 31


def write_day(log_dir: Path, orders: int, client_id: int = CLIENT_ID) -> list[Fill]:
    """A day through the real logger, every order filled: the odd ones at once, the even ones resting until
    later, the later the lower their id (as limit orders placed early and reached late). So order id order
    is not time order. Every time is today and a few seconds before now, lines in the order they happened."""
    now = datetime.now()
    span = min(timedelta(hours=2), now - datetime.combine(date.today(), datetime.min.time()) - timedelta(seconds=10))
    start, step = now - timedelta(seconds=5) - span, span / (2 * orders + 2)
    events: list[tuple[datetime, int, int]] = []  # (when, order id, 0 placed / 1 filled)
    for order_id in range(1, orders + 1):
        placed = start + step * order_id
        events.append((placed, order_id, 0))
        events.append((placed if order_id % 2 else start + step * (2 * orders + 1 - order_id), order_id, 1))
    events.sort()
    clock = [start]
    logger = OrderLogger(log_dir=log_dir, log_to_console=False, now=lambda: clock[0])
    records: dict[int, OrderRecord] = {}
    fills: list[Fill] = []
    for when, order_id, what in events:
        clock[0] = when
        ref = f"ibt-{client_id}-{when:%Y%m%d}-000000-{order_id}"
        if not what:
            record = records[order_id] = OrderRecord(
                order_id, "AAPL" if order_id % 3 else "MSFT", "BUY", 2, order_type="LIMIT", limit_price=100.0,
                order_ref=ref, submission_time=when)
            logger.log_submission(record, write_ahead=True, attempt=1, attempt_ref=ref + "/1")
            record.status = OrderStatus.SUBMITTED
            logger.log_status_change(record, OrderStatus.PENDING, OrderStatus.SUBMITTED, "sent",
                                     broker_order_id=5000 + order_id, attempt=1, attempt_ref=ref + "/1")
            continue
        record = records[order_id]
        fill = Fill(f"{order_id:08x}.6554a1b2.01.01", order_id, record.symbol, 2, 100.0, when, 1.0, "BUY")
        record.add_fill(fill)
        logger.log_fill(record, fill)
        fills.append(fill)
    logger.close()
    return fills


def click_header(table: Any, column: int) -> None:
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(x, header.height() // 2))


def rows_in_view(table: Any) -> range:
    bottom = table.rowAt(table.viewport().height() - 1)
    return range(table.rowAt(0), (bottom if bottom >= 0 else table.model().rowCount() - 1) + 1)


def test_after_a_restart_the_fills_are_in_time_order_and_the_headers_sort(make_app, qt_loop, tmp_path,
                                                                          monkeypatch) -> None:
    monkeypatch.setattr(bridge_module, "REPLAY_SLICE", 7)  # the replay hands the day over in slices by order id
    written = write_day(tmp_path / "log", 40)

    async def scenario() -> None:
        app = await make_app().start()
        w = app.window
        model, table = w.fills_model, w.fills.table
        await until(lambda: model.rowCount() == len(written), what="the restored fills")
        shown = model.fills()
        assert [f.order_id for f in shown] != sorted(f.order_id for f in shown)  # not order id order, but:
        assert [f.timestamp for f in shown] == sorted(f.timestamp for f in written)
        assert [model.data(model.index(row, 0)) for row in (0, len(shown) - 1)] == [
            shown[0].timestamp.strftime("%H:%M:%S"), shown[-1].timestamp.strftime("%H:%M:%S")]
        # The headers sort (and keep the selection); a second click turns the order round.
        w.docks["fills"].raise_()
        await until(lambda: table.isVisible(), what="the blotter on screen")
        table.selectRow(5)
        picked = model.fill(5)
        click_header(table, 6)
        assert [f.order_id for f in model.fills()] == sorted(f.order_id for f in written)
        assert [model.fill(i.row()) for i in table.selectionModel().selectedRows()] == [picked]
        click_header(table, 6)
        assert [f.order_id for f in model.fills()] == sorted((f.order_id for f in written), reverse=True)
        click_header(table, 1)
        assert [f.symbol for f in model.fills()] == sorted(f.symbol for f in written)
        click_header(table, 0)
        assert model.fills() == sorted(written, key=lambda f: f.timestamp)

    qt_loop.run_until_complete(scenario())


def test_the_newest_fill_stays_in_view_unless_the_trader_scrolled_away(make_app, qt_loop, tmp_path) -> None:
    written = write_day(tmp_path / "log", 30)

    async def scenario() -> None:
        app = await make_app().start()
        app.settings.set_precautions(Precautions(enabled=False))
        w = app.window
        panel, model, table = w.fills, w.fills_model, w.fills.table
        bar = table.verticalScrollBar()
        w.docks["fills"].raise_()
        await until(lambda: model.rowCount() == len(written) and table.isVisible(), what="the restored fills")
        await until(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), what="the blotter at its newest")
        sent = [0]

        async def live_fill() -> Fill:
            sent[0] += 1
            before = {f.fill_id for f in model.fills()}
            app.type_line(f"buy {sent[0]} AAPL mkt")
            await until(lambda: model.rowCount() == len(before) + 1, what=f"live fill {sent[0]}")
            (newest,) = [f for f in model.fills() if f.fill_id not in before]
            assert newest.quantity == sent[0] and newest.timestamp >= max(f.timestamp for f in model.fills())
            return newest

        newest = await live_fill()
        assert model.row_of(newest) == model.rowCount() - 1 in rows_in_view(table)  # at the bottom, in view

        bar.setValue(0)  # the trader scrolls up to the morning
        assert not panel.following
        top = model.fill(table.rowAt(0))
        newest = await live_fill()
        assert model.fill(table.rowAt(0)) is top and bar.value() == 0  # nothing moved under the trader
        assert model.row_of(newest) not in rows_in_view(table)

        bar.setValue(bar.maximum())  # back down: following again
        assert panel.following
        newest = await live_fill()
        assert model.row_of(newest) in rows_in_view(table)

        click_header(table, 0)  # newest first
        assert not model.ascending and panel.following and bar.value() == 0
        newest = await live_fill()
        assert model.row_of(newest) == 0 and table.rowAt(0) == 0
        assert 0 in app.controller.fill_alert.flash.rows()  # the fill alert lights the new row where it is
        bar.setValue(4)  # scrolled down a little: a new fill at the top must not push the rows down
        top = model.fill(table.rowAt(0))
        await live_fill()
        assert model.fill(table.rowAt(0)) is top and bar.value() == 5
        assert not panel.following

    qt_loop.run_until_complete(scenario())


def day_pnl_shown(app: Any) -> float | None:
    text = app.window.status.day_pnl.text()  # "Day P&L -4.10"
    return float(text.split()[-1].replace(",", "")) if text else None


def rows_total(model: Any) -> float:
    unrealized, realized = model.totals()
    return round(unrealized + realized, 2)


def test_a_closed_position_stays_muted_with_its_realized_pnl_and_the_rows_add_up_to_the_day(
    make_app, qt_loop, tmp_path,
) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        app.settings.set_precautions(Precautions(enabled=False))
        app.gateway.set_price("AAPL", 200.0, spread=0.02)
        app.gateway.set_price("MSFT", 400.0, spread=0.02)
        w = app.window
        model = w.positions_model

        def row(symbol: str) -> Any:
            return next((model.position(r) for r in range(model.rowCount()) if model.position(r).symbol == symbol),
                        None)

        for line, symbol, held in (("buy 10 AAPL mkt", "AAPL", 10), ("sell 10 AAPL mkt", "AAPL", 0),
                                   ("buy 5 MSFT mkt", "MSFT", 5)):
            app.type_line(line)
            await until(lambda s=symbol, q=held: (p := row(s)) is not None and p.quantity == q
                        and (q or p.realized_pnl), what=f"{symbol} at {held}")
        realized = 10 * (199.99 - (10 * 200.01 + 1.0) / 10) - 1.0  # bought at the ask, sold at the bid
        aapl = row("AAPL")
        assert aapl.realized_pnl == pytest.approx(realized, abs=0.01)
        r = next(r for r in range(model.rowCount()) if model.position(r).symbol == "AAPL")
        muted = QColor(w.positions_model._colors.muted)
        assert all(model.data(model.index(r, c), Qt.ItemDataRole.ForegroundRole) == muted for c in range(7))
        assert [model.data(model.index(r, c)) for c in (1, 6)] == ["0", f"{realized:+,.2f}"]
        assert "closed today" in model.data(model.index(r, 0), Qt.ItemDataRole.ToolTipRole)
        assert w.positions_model.quantity_of("AAPL") == 0
        await until(lambda: day_pnl_shown(app) is not None and abs(day_pnl_shown(app) - rows_total(model)) <= 0.01,
                    what="the status bar's day P&L equal to the rows'")
        assert day_pnl_shown(app) == pytest.approx(realized + row("MSFT").unrealized_pnl, abs=0.011)
        assert "(1 closed today)" in w.positions.totals.text()
        await app.stop()

        again = await make_app().start()  # the simulated account outlives the app: so does the day's closed row
        model = again.window.positions_model
        await until(lambda: (p := row("AAPL")) is not None and p.quantity == 0, what="the closed row after a restart")
        assert row("AAPL").realized_pnl == aapl.realized_pnl and row("MSFT").quantity == 5
        await until(lambda: day_pnl_shown(again) is not None
                    and abs(day_pnl_shown(again) - rows_total(model)) <= 0.01, what="the rows adding up again")

    qt_loop.run_until_complete(scenario())
