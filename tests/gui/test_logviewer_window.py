"""The log viewer in the trading window: opened from the File menu or ``--open-day``, it shows the day the
window is trading, live."""

from __future__ import annotations

from datetime import date

import pytest
from windowkit import until

from ibticket.core import OrderStatus, summarize
from ibticket.gui.app import main
from ibticket.gui.options import parse_options
from ibticket.logview.days import summary_text


def test_open_day_must_be_a_real_day(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_options(["--open-day", "2026-02-18"]).open_day == date(2026, 2, 18)
    assert parse_options([]).open_day is None
    for bad in ("2026-02-30", "18/02/2026", "yesterday"):
        with pytest.raises(SystemExit) as exit_info:
            main(["--open-day", bad])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert f"argument --open-day: {bad!r} is not a day; write it as YYYY-MM-DD" in err


def test_the_log_viewer_follows_the_day_the_window_trades(make_app, qt_loop) -> None:
    async def scenario() -> None:
        app = await make_app().start()
        w = app.window
        viewer = w.logview
        assert viewer.folder == app.root / "log"
        # A tab behind the orders at first, and idle there.
        assert w.docks["logview"] in w.tabifiedDockWidgets(w.docks["orders"])
        assert viewer.visibleRegion().isEmpty() and not w.orders.visibleRegion().isEmpty()
        assert not viewer.active
        app.type_line("buy 30 AAPL")
        first = await until(lambda: app.orders() and app.orders()[0], what="the order")
        await until(lambda: first.status is OrderStatus.FILLED, what="the fill")

        w.act_open_log.trigger()  # File > Open order log…
        await until(lambda: viewer.active and not viewer.visibleRegion().isEmpty(), what="the viewer in front")
        await until(lambda: date.today() in viewer.day_list(), what="today in the day list")
        assert w.open_log_day(date.today())
        await until(lambda: viewer.settled and viewer.model.rowCount() == len(app.log_events()),
                    what="today's events in the viewer")
        assert viewer.model.entry(0).event == app.log_events()[0]
        await until(lambda: viewer.summary.text() == summary_text(summarize(app.log_events())),
                    what="the summary")

        viewer.set_filter(order=str(first.order_id))
        app.type_line("sell 10 MSFT")  # another order: not this filter's
        second = await until(lambda: len(app.orders()) == 2 and app.orders()[-1], what="the second order")
        await until(lambda: second.status is OrderStatus.FILLED, what="its fill")
        await until(lambda: viewer.settled, what="the viewer to catch up")
        mine = [e for e in app.log_events() if e.get("order_id") == first.order_id]
        assert [viewer.model.entry(r).event for r in range(viewer.model.rowCount())] == mine
        viewer.clear_filters()
        await until(lambda: viewer.model.rowCount() == len(app.log_events()), what="the new order's lines, live")
        assert viewer.model.entry(viewer.model.rowCount() - 1).event == app.log_events()[-1]

        assert not w.open_log_day(date(2001, 1, 2))
        assert "No order log for Tue 02 Jan 2001" in w.status.currentMessage()

    qt_loop.run_until_complete(scenario())
