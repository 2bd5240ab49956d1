"""The log viewer dock on its own (pytest-qt): days, a day in the table, filters, an order's history, the
summary, unreadable lines, a file another process appends to, export."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from logdays import DAY, DayWriter, write_day
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from ibticket.core import OrderLogger, read_day, summarize
from ibticket.core.logreader import parse_line
from ibticket.gui.dialogs.logview import HistoryDialog
from ibticket.gui.docks.logview import LogViewPanel
from ibticket.logview.days import summary_text
from ibticket.logview.rows import COLUMNS, row_cells

WAIT_MS = 15000


@pytest.fixture
def panel(qtbot, keep, model_tester, tmp_path: Path) -> Iterator[LogViewPanel]:
    widget = keep(LogViewPanel())
    model_tester(widget.model)
    widget.resize(1200, 700)
    yield widget
    widget.shutdown()


def _settle(qtbot, panel: LogViewPanel) -> None:
    qtbot.waitUntil(lambda: panel.settled, timeout=WAIT_MS)


def _shown(panel: LogViewPanel) -> list[list[str]]:
    model = panel.model
    return [[model.data(model.index(r, c)) for c in range(len(COLUMNS))] for r in range(model.rowCount())]


def _rows_of(path: Path, keep) -> list[list[str]]:
    rows = []
    for number, line in enumerate(path.read_bytes().split(b"\n")[:-1], start=1):
        if not line.strip():
            continue
        event, problem = parse_line(line)
        if keep(event, line):
            rows.append(row_cells(event, problem, number))
    return rows


def test_lists_the_days_newest_first_with_their_counts(qtbot, panel: LogViewPanel, tmp_path: Path) -> None:
    write_day(tmp_path, 8, date(2026, 2, 13))
    write_day(tmp_path, 30, DAY)
    write_day(tmp_path, 12, date(2026, 2, 17))
    panel.set_folder(tmp_path)
    panel.show()
    panel.set_active(True)  # on screen: the days are counted
    assert panel.day_list() == [DAY, date(2026, 2, 17), date(2026, 2, 13)]
    items = [panel.days.topLevelItem(r) for r in range(3)]
    assert [i.text(0) for i in items] == ["Wed 18 Feb 2026", "Tue 17 Feb 2026", "Fri 13 Feb 2026"]
    for day, item in zip(panel.day_list(), items, strict=True):
        expected = read_day(tmp_path, day)
        qtbot.waitUntil(lambda item=item: item.text(2) != "…", timeout=WAIT_MS)
        assert item.text(2) == f"{len(expected.events):,}"
        assert item.text(3) == f"{summarize(expected.events)['total_orders']:,}"
        assert item.text(1).endswith(("KB", "bytes"))


def test_todays_counts_in_the_day_list_follow_the_file(qtbot, panel: LogViewPanel, tmp_path: Path) -> None:
    today = date.today()
    writer = DayWriter(tmp_path, today)
    writer.trade(4)
    write_day(tmp_path, 3, date(2026, 2, 13))
    panel.set_folder(tmp_path)
    panel.set_active(True)
    item = panel.days.topLevelItem(0)
    assert item.data(0, Qt.ItemDataRole.UserRole) == today

    def counts() -> tuple[str, str]:
        expected = read_day(tmp_path, today)
        return f"{len(expected.events):,}", f"{summarize(expected.events)['total_orders']:,}"

    qtbot.waitUntil(lambda: (item.text(2), item.text(3)) == counts(), timeout=WAIT_MS)
    writer.trade(3)  # the window trades on: today's counts follow the file
    qtbot.waitUntil(lambda: (item.text(2), item.text(3)) == counts(), timeout=WAIT_MS)
    assert item.text(3) == "7"
    writer.close()


def test_opens_a_day_in_the_table_with_its_json_and_summary(qtbot, panel: LogViewPanel, tmp_path: Path) -> None:
    path = write_day(tmp_path, 30)
    panel.set_folder(tmp_path)
    panel.show()
    panel.days.setFocus()
    item = panel.days.topLevelItem(0)
    QTest.mouseClick(panel.days.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.days.visualItemRect(item).center())
    _settle(qtbot, panel)
    assert panel.day == DAY
    assert _shown(panel) == _rows_of(path, lambda e, _r: True)
    assert panel.title.text().startswith("Wed 18 Feb 2026 · ")
    assert panel.count.text() == f"{panel.model.rowCount():,} lines"
    # The first row is selected: its whole event is below the table.
    assert json.loads(panel.view.json.toPlainText()) == read_day(tmp_path, DAY).events[0]
    panel.view.select_row(5)
    assert json.loads(panel.view.json.toPlainText()) == read_day(tmp_path, DAY).events[5]
    summary = summarize(read_day(tmp_path, DAY).events)
    assert panel.summary.text() == summary_text(summary)
    assert "traded" in panel.summary.text() and "commission" in panel.summary.text()
    assert not panel.bad_button.isVisible()


def test_a_day_without_a_file_says_so(qtbot, panel: LogViewPanel, tmp_path: Path) -> None:
    panel.set_folder(tmp_path)
    messages: list[str] = []
    panel.message.connect(messages.append)
    assert not panel.open_day(date(2026, 1, 5))
    assert messages == [f"No order log for Mon 05 Jan 2026 in {tmp_path}"]
    assert panel.title.text() == messages[0]


def test_filters_each_way_and_combined(qtbot, panel: LogViewPanel, tmp_path: Path) -> None:
    path = write_day(tmp_path, 30)
    panel.set_folder(tmp_path)
    assert panel.open_day(DAY)
    _settle(qtbot, panel)
    total = panel.model.rowCount()
    events = read_day(tmp_path, DAY).events
    ref = next(e["order_ref"] for e in events if e.get("order_id") == 4)

    def typed(edit, text: str) -> None:
        edit.setFocus()
        edit.clear()
        QTest.keyClicks(edit, text)  # the filter runs once typing pauses

    checks = [
        (lambda: typed(panel.order_filter, "4"), lambda e, _r: e is not None and e.get("order_id") == 4),
        (lambda: typed(panel.order_filter, "#12"), lambda e, _r: e is not None and e.get("order_id") == 12),
        (lambda: typed(panel.order_filter, ref[-10:]), lambda e, _r: e is not None and ref[-10:] in e["order_ref"]),
        (lambda: (panel.order_filter.clear(), typed(panel.symbol_filter, "msft")),
         lambda e, _r: e is not None and e.get("symbol") == "MSFT"),
        (lambda: panel.type_filter.setCurrentIndex(panel.type_filter.findData("FILL")),
         lambda e, _r: e is not None and e.get("symbol") == "MSFT" and e["event_type"] == "FILL"),
        (lambda: (panel.symbol_filter.clear(), panel.type_filter.setCurrentIndex(0),
                  typed(panel.text_filter, "Insufficient")),
         lambda _e, r: b"insufficient" in r.lower()),
    ]
    for act, keep in checks:
        act()
        expected = _rows_of(path, keep)
        qtbot.waitUntil(lambda expected=expected: panel.settled and _shown(panel) == expected, timeout=WAIT_MS)
        assert expected, "each filter should find something in the test day"
        assert panel.count.text() == f"{len(expected):,} matching"
    panel.clear_filters()
    assert panel.model.rowCount() == total and panel.count.text() == f"{total:,} lines"


def test_typing_in_a_filter_replaces_the_search_under_way(qtbot, panel: LogViewPanel, tmp_path: Path) -> None:
    path = write_day(tmp_path, 60)
    panel.set_folder(tmp_path)
    assert panel.open_day(DAY)
    _settle(qtbot, panel)
    panel.order_filter.setFocus()
    for key in "1234":
        QTest.keyClicks(panel.order_filter, key)  # each key starts (and the next cancels) a search
    QTest.keyClick(panel.order_filter, Qt.Key.Key_Backspace)
    QTest.keyClick(panel.order_filter, Qt.Key.Key_Backspace)  # "12"
    expected = _rows_of(path, lambda e, _r: e is not None and e.get("order_id") == 12)
    qtbot.waitUntil(lambda: panel.settled and _shown(panel) == expected, timeout=WAIT_MS)


def test_shows_an_orders_whole_history(qtbot, panel: LogViewPanel, tmp_path: Path) -> None:
    writer = DayWriter(tmp_path)
    writer.trade(20)
    panel.set_folder(tmp_path)
    assert panel.open_day(DAY)
    _settle(qtbot, panel)
    panel.set_filter(event_type="FILL", symbol="IBM")
    qtbot.waitUntil(lambda: panel.settled and panel.model.rowCount() > 0, timeout=WAIT_MS)
    panel.view.select_row(0)
    order_id = panel.model.entry(0).event["order_id"]
    assert panel.history_button.isEnabled()
    QTest.mouseClick(panel.history_button, Qt.MouseButton.LeftButton)
    dialog = panel.findChild(HistoryDialog, "logHistoryDialog")
    assert dialog is not None and dialog.isVisible()
    history = writer.logger.get_order_history(order_id)
    assert [e["event_type"] for e in history][:2] == ["SUBMISSION", "STATUS_CHANGE"]
    qtbot.waitUntil(lambda: dialog.done_reading and dialog.model.rowCount() == len(history), timeout=WAIT_MS)
    assert [dialog.model.entry(r).event for r in range(dialog.model.rowCount())] == history
    assert dialog.count.text() == f"{len(history)} events"
    assert f"Order {order_id} IBM" in dialog.windowTitle()
    # The order goes on while its history is open: the new event shows up in it.
    writer.handler.handle_status(order_id, "Filled")
    writer.logger.log_event("NOTICE", writer.handler.get_order(order_id), message="a late notice")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == len(history) + 1, timeout=WAIT_MS)
    dialog.close()
    writer.close()


def test_survives_torn_and_corrupt_lines(qtbot, panel: LogViewPanel, tmp_path: Path) -> None:
    writer = DayWriter(tmp_path)
    writer.trade(5)
    with writer.path.open("ab") as f:
        f.write(b'{"timestamp": "2026-02-18T10:00:00", "event_type": "FILL", "ord')  # torn by a crash
    writer.trade(2)  # the logger fences the torn line off
    with writer.path.open("ab") as f:
        f.write(b"\xff\xfe garbage\n")
        f.write(b'{"timestamp": "2026-02-18T10:00:01", "event_type": "FILL", "order_id": 1.5}\n')
        f.write(b"\n")
    writer.trade(1)
    writer.close()
    with writer.path.open("ab") as f:
        f.write(b'{"timestamp": "2026-02-18T10:00:02", "event_')  # the last line has no end
    day = read_day(tmp_path, DAY)
    assert len(day.bad_lines) == 4

    panel.set_folder(tmp_path)
    assert panel.open_day(DAY)
    _settle(qtbot, panel)
    assert panel.bad_button.isVisibleTo(panel) and panel.bad_button.text() == "⚠ 4 unreadable lines…"
    assert panel.summary.text() == summary_text(summarize(day.events))
    unreadable = [r for r, row in enumerate(_shown(panel)) if row[1] == "unreadable"]
    assert [panel.model.line_of(r) + 1 for r in unreadable] == day.bad_line_numbers[:3]
    assert "not JSON" in panel.model.data(panel.model.index(unreadable[0], COLUMNS.index("Message")))
    panel.view.select_row(unreadable[1])
    assert panel.view.json.toPlainText().startswith(f"Line {day.bad_line_numbers[1]} cannot be used: not UTF-8")
    assert not panel.history_button.isEnabled()

    dialog = panel.show_bad_lines()
    assert dialog is not None
    listed = [dialog.table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(dialog.table.rowCount())]
    assert listed == day.bad_line_numbers[:3]
    assert "The last line has no end yet" in dialog.findChild(type(panel.title), "logBadLinesNote").text()
    panel.set_filter(event_type="FILL")
    _settle(qtbot, panel)
    dialog.lineChosen.emit(day.bad_line_numbers[2] - 1)  # double-click: found in the table, filters cleared
    assert panel.model.showing_all
    assert panel.model.line_of(panel.view.current_row()) == day.bad_line_numbers[2] - 1
    dialog.close()
    panel.set_filter(event_type="UNREADABLE")
    qtbot.waitUntil(lambda: panel.settled and panel.model.rowCount() == 3, timeout=WAIT_MS)


WRITER = textwrap.dedent("""
    import sys, time
    from ibticket.core import OrderLogger, OrderRecord, OrderStatus
    logger = OrderLogger(log_dir=sys.argv[1], log_to_console=False)
    for k in range(int(sys.argv[2])):
        record = OrderRecord(100 + k, "AAPL", "BUY", 10, status=OrderStatus.SUBMITTED, order_ref=f"other-{k}")
        logger.log_submission(record)
        sys.stdout.write("wrote\\n"); sys.stdout.flush()
        sys.stdin.readline()
    logger.close()
""")


def test_tails_a_file_that_another_process_appends_to(qtbot, panel: LogViewPanel, tmp_path: Path) -> None:
    today = date.today()
    mine = OrderLogger(log_dir=tmp_path, log_to_console=False)
    mine.log_event("NOTICE", None, message="start of the day")
    panel.set_folder(tmp_path)
    assert panel.open_day(today)
    _settle(qtbot, panel)
    assert panel.model.rowCount() == 1 and panel.title.text().endswith(" · live")
    panel.set_filter(symbol="AAPL")
    _settle(qtbot, panel)
    assert panel.model.rowCount() == 0
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), "3"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        for k in range(3):
            assert writer.stdout.readline() == "wrote\n"
            # Within a second (the worker looks every 0.2 s), without reading the file again.
            qtbot.waitUntil(lambda k=k: panel.model.rowCount() == k + 1, timeout=1500)
            assert panel.model.entry(k).event["order_ref"] == f"other-{k}"
            writer.stdin.write("\n")
            writer.stdin.flush()
        assert writer.wait(10) == 0
    finally:
        writer.kill()
    panel.clear_filters()
    assert panel.model.rowCount() == 4
    qtbot.waitUntil(lambda: panel.settled and panel.summary.text().startswith("3 orders"), timeout=WAIT_MS)
    mine.close()


def test_export_round_trips(qtbot, panel: LogViewPanel, tmp_path: Path) -> None:
    path = write_day(tmp_path / "log", 30)
    panel.set_folder(tmp_path / "log")
    assert panel.open_day(DAY)
    _settle(qtbot, panel)
    panel.set_filter(symbol="AAPL")
    _settle(qtbot, panel)
    shown = _shown(panel)
    messages: list[str] = []
    panel.message.connect(messages.append)

    panel.export_to(tmp_path / "aapl.csv", "csv")
    qtbot.waitUntil(lambda: bool(messages), timeout=WAIT_MS)
    assert messages[-1] == f"Exported {len(shown)} events to {tmp_path / 'aapl.csv'}"
    with (tmp_path / "aapl.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Line", *COLUMNS]
    assert [row[1:] for row in rows[1:]] == shown

    panel.export_to(tmp_path / "aapl.jsonl", "jsonl")
    qtbot.waitUntil(lambda: len(messages) == 2, timeout=WAIT_MS)
    exported = [json.loads(line) for line in (tmp_path / "aapl.jsonl").read_text().splitlines()]
    assert exported == [e for e in read_day(path.parent, DAY).events if e.get("symbol") == "AAPL"]

    panel.export_to(tmp_path / "missing" / "x.csv", "csv")
    qtbot.waitUntil(lambda: len(messages) == 3, timeout=WAIT_MS)
    assert messages[-1].startswith(f"Could not export to {tmp_path / 'missing' / 'x.csv'}: ")


def test_a_reader_that_dies_is_said_and_the_day_opens_again(qtbot, panel: LogViewPanel, tmp_path: Path) -> None:
    import os
    import signal

    write_day(tmp_path, 10)
    panel.set_folder(tmp_path)
    assert panel.open_day(DAY)
    _settle(qtbot, panel)
    messages: list[str] = []
    panel.message.connect(messages.append)
    os.kill(panel.jobs.worker.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: bool(messages), timeout=WAIT_MS)
    assert "the log viewer's reader stopped" in messages[0]
    assert panel.model.rowCount() > 0  # what was read stays on screen
    assert panel.open_day(DAY)  # a new reader
    _settle(qtbot, panel)
    panel.set_filter(symbol="AAPL")
    qtbot.waitUntil(lambda: panel.settled and panel.model.rowCount() > 0, timeout=WAIT_MS)


def test_every_button_and_the_find_key_do_what_they_say(qtbot, panel: LogViewPanel, tmp_path: Path) -> None:
    """The widgets are laid out apart from what they do (``logview_layout``): each must still reach it."""
    from PySide6.QtWidgets import QFileDialog, QLineEdit, QPushButton

    from ibticket.gui.dialogs.logview import BadLinesDialog

    path = write_day(tmp_path, 20)
    with path.open("ab") as f:
        f.write(b"not an event\n")
    panel.set_folder(tmp_path)
    panel.show()
    qtbot.waitExposed(panel)
    messages: list[str] = []
    panel.message.connect(messages.append)

    def button(name: str) -> QPushButton:
        found = panel.findChild(QPushButton, name)
        assert found is not None, name
        return found

    write_day(tmp_path, 3, date(2026, 2, 17))
    QTest.mouseClick(button("logRefreshDays"), Qt.MouseButton.LeftButton)
    assert panel.day_list() == [DAY, date(2026, 2, 17)]
    assert panel.open_day(DAY)
    button("logStop").click()  # shown only while reading: clicked as the trader would, it may already be done
    assert messages[-1].startswith("Stopped reading the order log")
    assert panel.title.text().endswith(" · stopped")
    QTest.mouseClick(panel.days.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.days.visualItemRect(panel.days.topLevelItem(0)).center())  # read it again
    _settle(qtbot, panel)
    assert not panel.title.text().endswith(" · stopped")

    panel.set_filter(symbol="AAPL")
    qtbot.waitUntil(lambda: panel.settled and not panel.model.showing_all, timeout=WAIT_MS)
    QTest.mouseClick(button("logClearFilters"), Qt.MouseButton.LeftButton)
    assert panel.model.showing_all and panel.symbol_filter.text() == ""

    QTest.mouseClick(button("logBadLines"), Qt.MouseButton.LeftButton)
    bad = panel.findChild(BadLinesDialog, "logBadLinesDialog")
    assert bad is not None and bad.isVisible() and bad.table.rowCount() == 1
    bad.close()

    panel.view.select_row(0)
    panel.view.table.setFocus()
    QTest.keyClick(panel.view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert panel.findChild(QLineEdit, "logTextFilter").hasFocus()

    QTest.mouseClick(button("logExport"), Qt.MouseButton.LeftButton)
    dialog = panel.findChild(QFileDialog, "logExportDialog")
    assert dialog is not None and dialog.isVisible()
    target = tmp_path / "out"
    target.mkdir()
    dialog.setDirectory(str(target))
    dialog.selectFile("all.jsonl")
    dialog.accept()
    qtbot.waitUntil(lambda: messages[-1].startswith("Exported "), timeout=WAIT_MS)
    events = read_day(tmp_path, DAY).events
    assert messages[-1] == f"Exported {len(events)} events to {target / 'all.jsonl'} (1 unreadable line left out)"
    assert [json.loads(line) for line in (target / "all.jsonl").read_text().splitlines()] == events


def test_a_panel_deleted_without_shutdown_leaves_its_reader_thread_nothing_deleted_to_post_to(
        qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker's reader thread posts through a QObject: one of the panel's, it outlived a panel deleted
    # without shutdown() (a window deleted with it), and posted into freed memory when the process ended.
    import os
    import signal
    import threading

    from PySide6.QtCore import QCoreApplication, QEvent

    crashed: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashed.append(args.exc_value))
    write_day(tmp_path, 10, DAY)
    panel = LogViewPanel()
    panel.set_folder(tmp_path)
    assert panel.open_day(DAY)
    _settle(qtbot, panel)
    worker = panel.jobs.worker
    assert worker is not None and worker.alive
    panel.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    os.kill(worker.pid, signal.SIGKILL)  # the reader meets the end of the pipe and posts once more
    worker._reader.join(10)
    assert not worker._reader.is_alive() and crashed == []
    QCoreApplication.processEvents()  # that last post finds the panel gone: dropped, the worker stopped
    assert not worker.alive
