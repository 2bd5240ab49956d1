"""The log viewer dock: the folder's days, one day's events in a table, filters, an order's history, the
day's summary, unreadable lines, export.

All reading through the file happens in a worker process (``logview_worker``): indexing the day,
filtering, checking every line for the summary and the unreadable-line count, following a file that
grows, the day list's counts, exports. Their results come back to this thread through a queued signal, a
small batch at a time, so typing in a filter or scrolling never waits for the file. This thread only reads
the rows it shows (one ``pread`` and one parse each), from its copy of the day's line index.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core import format as fmt
from ...core.logreader import EVENT_TYPES, LOG_NAME, BadLine, log_path
from ...logview.check import MAX_BAD_LISTED, CheckProgress
from ...logview.days import DayFile, DayStats, list_days
from ...logview.filters import UNREADABLE, FilterProgress, FilterSpec
from ...logview.index import FileChanged, IndexProgress, LineIndex
from ...logview.rows import COLUMNS
from ...logview.worker import RemoteWorker
from ..models.logview import LogTableModel
from ..theme import LIGHT, Colors

log = logging.getLogger(__name__)

FILTER_DELAY_MS = 150  # typing pauses this long before a filter runs
DAYS_REFRESH_MS = 5000  # the day list looks for new days and sizes while the viewer is shown
SAMPLE = ("23:59:59.999", "STATUS_CHANGE", "99999", "GOOGL", "SELL", "1,000,000", "10,000.00", "PartiallyFilled",
          "exec 0000e0d5.6554a1b2.01.01, commission 1.00, filled")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def day_title(day: date) -> str:
    return day.strftime("%a %d %b %Y")


def summary_text(summary: dict[str, int | float]) -> str:
    s = summary
    return (f"{s['total_orders']:,} orders: {s['filled_orders']:,} filled, {s['cancelled_orders']:,} cancelled, "
            f"{s['error_orders']:,} in error · {s['total_fills']:,} fills ({s['partial_fills']:,} partial, "
            f"{s['complete_fills']:,} complete) · traded {fmt.money(float(s['traded_value']))} · "
            f"commission {fmt.money(float(s['commission']))}")


class _Relay(QObject):
    """Carries calls from the worker's thread to this one (a queued connection)."""

    call = Signal(object)


class EventsView(QSplitter):
    """A table of log rows with the selected event's full JSON below it."""

    def __init__(self, model: LogTableModel, name: str, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setObjectName(f"{name}Split")
        self.model = model
        self.table = QTableView(objectName=f"{name}Table")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        vertical = self.table.verticalHeader()
        vertical.setVisible(False)
        # Fixed row heights: a million rows are laid out without asking each row for its size.
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        bold = self.table.font()
        bold.setBold(True)
        metrics = QFontMetrics(bold)  # the event column shows fills and errors in bold
        for col, sample in enumerate(SAMPLE):
            self.table.setColumnWidth(col, max(metrics.horizontalAdvance(sample),
                                               metrics.horizontalAdvance(COLUMNS[col])) + 14)
        self.json = QPlainTextEdit(objectName=f"{name}Json")
        self.json.setReadOnly(True)
        self.json.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.json.setPlaceholderText("Select a row to see the whole event.")
        self.addWidget(self.table)
        self.addWidget(self.json)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 1)
        self.follow_bottom = False  # keep the newest row in view as rows arrive, when it was in view
        self._was_at_bottom = False
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        model.modelReset.connect(lambda: self.json.setPlainText(""))
        model.rowsAboutToBeInserted.connect(self._before_insert)
        model.rowsInserted.connect(self._after_insert)

    def _before_insert(self, *_args: object) -> None:
        bar = self.table.verticalScrollBar()
        self._was_at_bottom = self.follow_bottom and bar.maximum() > 0 and bar.value() >= bar.maximum()

    def _after_insert(self, *_args: object) -> None:
        if self._was_at_bottom:
            self.table.scrollToBottom()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.json.setPlainText(self.model.event_json(current.row()) if current.isValid() else "")

    def current_row(self) -> int | None:
        current = self.table.currentIndex()
        return current.row() if current.isValid() else None

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)


class HistoryDialog(QDialog):
    """One order's events in the day (what ``get_order_history`` returns), live while the day grows."""

    def __init__(self, panel: LogViewPanel, index: LineIndex, spec: FilterSpec, title: str) -> None:
        super().__init__(panel)
        self.setObjectName("logHistoryDialog")
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.model = LogTableModel(self)
        self.model.set_colors(panel.colors)
        self.model.show_lines(index)
        self.view = EventsView(self.model, "logHistory")
        self.view.follow_bottom = True
        self.heading = QLabel(title, objectName="logHistoryHeading")
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.count = QLabel("Reading the day…", objectName="logHistoryCount")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.view, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count, 1)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)
        self.resize(1000, 520)
        self.done_reading = False
        self._panel = panel
        self._job = panel._run("filter", panel._key, spec, True, on_report=self._on_matches)

    def _on_matches(self, progress: FilterProgress) -> None:
        self.model.add_lines(progress.matches)
        n = self.model.rowCount()
        if progress.caught_up:
            self.done_reading = True
        self.count.setText(f"{n:,} event{'s' if n != 1 else ''}" + ("" if self.done_reading else " so far…"))
        if n and self.view.current_row() is None:
            self.view.select_row(0)

    def closeEvent(self, event: Any) -> None:
        self._panel._cancel(self._job)
        super().closeEvent(event)


class BadLinesDialog(QDialog):
    """The day's unreadable lines: line number, why, and the start of the line as written."""

    lineChosen = Signal(int)

    def __init__(self, parent: QWidget, path: Path, bad: list[BadLine], count: int, unfinished: int) -> None:
        super().__init__(parent)
        self.setObjectName("logBadLinesDialog")
        self.setWindowTitle("Unreadable lines")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        notes = [f"{count:,} line{'s' if count != 1 else ''} of {path} cannot be used and "
                 f"{'are' if count != 1 else 'is'} left out of the summary and exports. Double-click one "
                 "to find it in the table."]
        if count > len(bad):
            notes.append(f"The first {len(bad):,} are listed.")
        if unfinished:
            notes.append(f"The last line has no end yet ({unfinished:,} bytes): it is being written, or a "
                         "crash cut it short.")
        text = QLabel(" ".join(notes), objectName="logBadLinesNote")
        text.setWordWrap(True)
        self.table = QTableWidget(len(bad), 3, objectName="logBadLinesTable")
        self.table.setHorizontalHeaderLabels(["Line", "Why", "As written"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for row, item in enumerate(bad):
            number = QTableWidgetItem(f"{item.line_number:,}")
            number.setData(Qt.ItemDataRole.UserRole, item.line_number)
            self.table.setItem(row, 0, number)
            self.table.setItem(row, 1, QTableWidgetItem(item.reason))
            self.table.setItem(row, 2, QTableWidgetItem(item.text))
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(1, 360)
        self.table.cellDoubleClicked.connect(
            lambda row, _col: self.lineChosen.emit(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole) - 1))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(900, 400)


class LogViewPanel(QWidget):
    """The log viewer. ``set_folder`` then ``open_day``; everything else follows the trader's clicks."""

    message = Signal(str)  # one line for the status bar (export done, a day that cannot be opened)
    dayOpened = Signal(object)  # the date

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logViewPanel")
        self.folder: Path | None = None
        self.colors: Colors = LIGHT
        self._worker: RemoteWorker | None = None
        self._relay = _Relay(self)
        self._relay.call.connect(lambda call: call())
        # The open day and what runs on it; a token makes reports of an earlier day (or filter) stale.
        self.day: date | None = None
        self.index: LineIndex | None = None
        self._token = 0
        self._filter_token = 0
        self._key = 0  # the open day's index in the worker process
        self._index_job: int | None = None
        self._filter_job: int | None = None
        self._check_job: int | None = None
        self._export_job: int | None = None
        self._export_total = self._export_done = 0
        self._progress: IndexProgress | None = None
        self._filter_scanned = 0
        self._filter_done = True
        self._check: CheckProgress | None = None
        self._bad: list[BadLine] = []
        self._stopped = False
        self._spec = FilterSpec()
        self._stats: dict[Path, DayStats] = {}
        self._stats_jobs: dict[Path, int | None] = {}
        self._days: list[DayFile] = []
        self.active = False

        self.model = LogTableModel(self)
        self._build()
        self._filter_timer = QTimer(self, singleShot=True, interval=FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.apply_filter)
        self._days_timer = QTimer(self, interval=DAYS_REFRESH_MS)
        self._days_timer.timeout.connect(self.refresh_days)

    # -- layout ------------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.days = QTreeWidget(objectName="logDays")
        self.days.setHeaderLabels(["Day", "Size", "Events", "Orders"])
        self.days.setRootIsDecorated(False)
        self.days.setUniformRowHeights(True)
        self.days.setAlternatingRowColors(True)
        for col in (1, 2, 3):
            self.days.headerItem().setTextAlignment(col, Qt.AlignmentFlag.AlignRight)
        metrics = self.days.fontMetrics()
        widths = [metrics.horizontalAdvance(sample) + 14 for sample in ("Wed 18 Feb 2026", "999.9 MB", "1,000,000 ⚠",
                                                                        "999,999")]
        for col, width in enumerate(widths):
            self.days.setColumnWidth(col, width)
        self.days.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._days_width = (sum(widths) + self.days.frameWidth() * 2 + 4
                            + self.days.verticalScrollBar().sizeHint().width())
        self.days.itemActivated.connect(self._day_clicked)
        self.days.itemClicked.connect(self._day_clicked)
        self.days.setFixedWidth(self._days_width)
        refresh = QPushButton("Refresh", objectName="logRefreshDays")
        refresh.setToolTip("Look again for day files in the order log folder")
        refresh.clicked.connect(self.refresh_days)
        self.folder_label = QLabel(objectName="logFolder")
        self.folder_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        left = QWidget()
        left.setFixedWidth(self._days_width)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(2)
        left_layout.addWidget(self.days, 1)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(refresh)
        left_layout.addLayout(folder_row)

        # Labels whose text changes as the day is read do not ask for more room (Ignored width): a label
        # that grows makes the panel lay itself out and repaint all of it, tens of milliseconds each time.
        self.title = QLabel("Choose a day.", objectName="logTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)

        self.type_filter = QComboBox(objectName="logTypeFilter")
        self.type_filter.addItem("All events", "")
        for kind in EVENT_TYPES:
            self.type_filter.addItem(kind.replace("_", " ").capitalize(), kind)
        self.type_filter.addItem("Unreadable lines", UNREADABLE)
        self.type_filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.symbol_filter = self._filter_edit("logSymbolFilter", "Symbol", 70,
                                               "Only this symbol (exactly; upper or lower case)")
        self.order_filter = self._filter_edit("logOrderFilter", "Order id or ref", 110,
                                              "An order id (42 or #42), or part of an order reference")
        self.text_filter = self._filter_edit("logTextFilter", "Search text", 100,
                                             "Text anywhere in the line as logged, names and values alike "
                                             "(upper or lower case); finds unreadable lines too")
        clear = QPushButton("Clear", objectName="logClearFilters")
        clear.clicked.connect(self.clear_filters)
        self.count = QLabel(objectName="logCount")
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.count.setFixedWidth(self.count.fontMetrics().horizontalAdvance("9,999,999 matching so far") + 8)
        filters = QHBoxLayout()
        filters.addWidget(self.type_filter)
        filters.addWidget(self.symbol_filter)
        filters.addWidget(self.order_filter)
        filters.addWidget(self.text_filter, 1)
        filters.addWidget(clear)

        self.summary = QLabel(objectName="logSummary")
        # Two lines at most, of a fixed height (the whole text is also the tooltip): a label that grew as
        # the numbers do would move the table, and a relayout repaints all of it.
        self.summary.setWordWrap(True)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.summary.setFixedHeight(2 * self.summary.fontMetrics().lineSpacing() + 2)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bad_button = QPushButton(objectName="logBadLines")
        self.bad_button.setFlat(True)
        self.bad_button.clicked.connect(self.show_bad_lines)
        self.bad_button.hide()
        self.history_button = QPushButton("Order history…", objectName="logHistory")
        self.history_button.setToolTip("Every event of the selected row's order in this day")
        self.history_button.setEnabled(False)
        self.history_button.clicked.connect(lambda: self.show_history())
        self.export_button = QPushButton("Export…", objectName="logExport")
        self.export_button.setToolTip("Save the rows shown (with the filters) as CSV or JSON lines")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self._export_dialog)

        self.progress = QProgressBar(objectName="logProgress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.stop_button = QPushButton("Stop", objectName="logStop")
        self.stop_button.setToolTip("Stop reading this day (the rows read so far stay)")
        self.stop_button.clicked.connect(self.stop)
        working = QWidget()
        progress_layout = QHBoxLayout(working)
        progress_layout.setContentsMargins(0, 0, 0, 0)
        progress_layout.addWidget(self.progress, 1)
        progress_layout.addWidget(self.stop_button)
        self.state = QLabel(objectName="logState")
        self.state.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # One row for both, of one height: switching between them never moves the table (a relayout
        # repaints all of it).
        self.progress_row = QStackedWidget(objectName="logProgressRow")
        self.progress_row.addWidget(self.state)
        self.progress_row.addWidget(working)
        self.progress_row.setFixedHeight(max(working.sizeHint().height(), self.state.sizeHint().height()))

        self.view = EventsView(self.model, "log")
        self.view.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.view.table.doubleClicked.connect(lambda _i: self.show_history())

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.count)
        actions = QHBoxLayout()
        actions.addWidget(self.progress_row, 1)
        actions.addWidget(self.bad_button)
        actions.addWidget(self.history_button)
        actions.addWidget(self.export_button)
        right_layout.addLayout(heading)
        right_layout.addLayout(filters)
        right_layout.addWidget(self.summary)
        right_layout.addLayout(actions)
        right_layout.addStretch(1)

        # The days beside the day's heading, filters and summary; the table below them has all the width
        # (a dock shares the window with the ticket and the orders: its columns need the room).
        top = QWidget(objectName="logTop")
        top_layout = QHBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(left)
        top_layout.addWidget(right, 1)
        split = QSplitter(Qt.Orientation.Vertical, objectName="logSplit")
        split.addWidget(top)
        split.addWidget(self.view)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setCollapsible(1, False)
        row = self.days.fontMetrics().height() + 4
        split.setSizes([max(right.sizeHint().height(), 7 * row + 2 * self.days.frameWidth() + 8), 10_000])
        self.split = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        self._update_labels()
        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self, self._focus_text_filter)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _focus_text_filter(self) -> None:
        self.text_filter.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.text_filter.selectAll()

    def _filter_edit(self, name: str, placeholder: str, width: int, tip: str) -> QLineEdit:
        edit = QLineEdit(objectName=name)
        edit.setPlaceholderText(placeholder)
        edit.setToolTip(tip)
        edit.setClearButtonEnabled(True)
        edit.setMinimumWidth(width)
        edit.textChanged.connect(lambda _t: self._filter_timer.start())
        edit.returnPressed.connect(self.apply_filter)
        return edit

    def set_colors(self, colors: Colors) -> None:
        self.colors = colors
        self.model.set_colors(colors)
        self._update_labels()

    # -- the worker ----------------------------------------------------------------------------------

    def _run(self, op: str, *args: Any, on_report: Callable[..., None],
             on_error: Callable[[BaseException], None] | None = None) -> int | None:
        """Start a job in the worker process (started on first use, and again if it stopped); its reports
        and failure come to the handlers on this thread. None when it could not be started (said why)."""
        if self._worker is not None and not self._worker.alive:
            self._worker.stop()
            self._worker = None
        try:
            if self._worker is None:
                self._worker = RemoteWorker(self._relay.call.emit)
            return self._worker.submit(op, *args, on_report=on_report,
                                       on_error=on_error or partial(self._job_failed, op))
        except OSError as exc:
            self._job_failed(op, exc)
            return None

    def _cancel(self, *jobs: int | None) -> None:
        if self._worker is not None and self._worker.alive:
            self._worker.cancel(*jobs)

    def _job_failed(self, op: str, exc: BaseException) -> None:
        doing = {"index": "reading the day", "check": "summing up the day", "filter": "filtering",
                 "export": "exporting"}.get(op, op)
        text = f"Order log viewer: {doing} stopped: {getattr(exc, 'strerror', None) or exc}"
        log.warning(text)
        self.message.emit(text)
        self._update_labels()

    def shutdown(self) -> None:
        """Stop every job and the worker process (the window is closing)."""
        self._filter_timer.stop()
        self._days_timer.stop()
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        self._stats_jobs.clear()

    @property
    def busy(self) -> bool:
        """Something is still being read (the day, a filter, the check)."""
        return bool(self._working_jobs())

    def _working_jobs(self) -> list[str]:
        working = []
        if self._index_job is not None and not (self._progress and self._progress.caught_up):
            working.append("index")
        if self._filter_job is not None and not self._filter_done:
            working.append("filter")
        if self._export_job is not None:
            working.append("export")
        if self._check_job is not None and not (self._check and self._check.caught_up):
            working.append("check")
        return working

    @property
    def settled(self) -> bool:
        """The open day is indexed, filtered and checked up to the end of the file as it is now."""
        return self.index is not None and not self.busy

    # -- the folder and its days ----------------------------------------------------------------------

    def set_folder(self, folder: Path) -> None:
        self.folder = Path(folder)
        room = self._days_width - self.findChild(QPushButton, "logRefreshDays").sizeHint().width() - 8
        self.folder_label.setText(self.folder_label.fontMetrics().elidedText(
            str(self.folder), Qt.TextElideMode.ElideMiddle, max(40, room)))
        self.folder_label.setToolTip(f"The order log folder: {self.folder}")
        self.refresh_days()

    def refresh_days(self) -> None:
        """List the folder's days again (new days, new sizes); counts come as each day is read."""
        if self.folder is None:
            return
        days = list_days(self.folder)
        if [d.path for d in days] == [d.path for d in self._days] and self.days.topLevelItemCount() == len(days):
            # The same days: only sizes and counts change; the list keeps its selection and scroll.
            self._days = days
            for row, day in enumerate(days):
                item = self.days.topLevelItem(row)
                item.setText(1, human_size(day.size))
                self._show_stats(item, day)
        else:
            self._days = days
            self.days.clear()
            for day in days:
                item = QTreeWidgetItem([day_title(day.day), human_size(day.size), "…", "…"])
                item.setData(0, Qt.ItemDataRole.UserRole, day.day)
                for col in (1, 2, 3):
                    item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.days.addTopLevelItem(item)
                self._show_stats(item, day)
                if day.day == self.day:
                    self.days.setCurrentItem(item)
            if not days:
                placeholder = QTreeWidgetItem(["No day files yet"])
                placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
                self.days.addTopLevelItem(placeholder)
        if self.active:
            self._count_days()

    def day_list(self) -> list[date]:
        return [d.day for d in self._days]

    def stats_for(self, day: date) -> DayStats | None:
        for d in self._days:
            if d.day == day:
                return self._stats.get(d.path)
        return None

    def _valid_stats(self, day: DayFile) -> DayStats | None:
        stats = self._stats.get(day.path)
        return stats if stats is not None and (stats.size, stats.mtime_ns) == (day.size, day.mtime_ns) else None

    def _show_stats(self, item: QTreeWidgetItem, day: DayFile) -> None:
        item.setToolTip(0, str(day.path))
        stats = self._stats.get(day.path)
        if stats is None:
            return
        item.setText(2, f"{stats.events:,}" + (" ⚠" if stats.bad else ""))
        item.setText(3, f"{stats.orders:,}")
        tip = summary_text(stats.summary) if stats.summary else ""
        if stats.bad:
            tip += f"\n{stats.bad:,} unreadable line{'s' if stats.bad != 1 else ''}"
        for col in range(4):
            item.setToolTip(col, f"{day.path}\n{tip}".strip())

    def _count_days(self) -> None:
        """Read the days whose counts are not known yet, newest first, behind everything else. Today's
        file is followed (it grows while the window trades); another day is read again if it changed."""
        today = date.today()
        for day in self._days:
            if day.path in self._stats_jobs:
                continue
            if self.index is not None and day.path == self.index.path:
                continue  # the open day's check counts it
            follow = day.day == today
            if not follow and self._valid_stats(day) is not None:
                continue
            self._stats_jobs[day.path] = self._run("stats", day, follow, on_report=self._on_stats,
                                                   on_error=partial(self._stats_failed, day))

    def _on_stats(self, day: DayFile, stats: DayStats | str) -> None:
        if day.day != date.today():
            self._stats_jobs.pop(day.path, None)  # done (today's job goes on following the file)
        if isinstance(stats, str):
            self._stats_jobs.pop(day.path, None)
            log.info("order log viewer: cannot count %s: %s", day.path, stats)
            return
        self._stats[day.path] = stats
        self._update_day_item(day.day)

    def _stats_failed(self, day: DayFile, exc: BaseException) -> None:
        # The day list's counts are a convenience: say nothing in the status bar, count again later.
        self._stats_jobs.pop(day.path, None)
        log.info("order log viewer: could not count %s: %s", day.path, exc)

    def _update_day_item(self, day: date) -> None:
        for row in range(self.days.topLevelItemCount()):
            item = self.days.topLevelItem(row)
            if item.data(0, Qt.ItemDataRole.UserRole) == day:
                for d in self._days:
                    if d.day == day:
                        self._show_stats(item, d)

    def set_active(self, active: bool) -> None:
        """Whether the viewer is on screen (the window calls this as its tab comes and goes). While it is,
        the day list is kept fresh and the days' counts are read; while not, only the open day is."""
        self.active = active
        if active:
            self._days_timer.start()
            self.refresh_days()
        else:
            self._days_timer.stop()
            self._cancel(*self._stats_jobs.values())
            self._stats_jobs.clear()

    # -- opening a day ---------------------------------------------------------------------------------

    def _day_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        day = item.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(day, date) and (day != self.day or self._stopped):
            self.open_day(day)

    def open_day(self, day: date) -> bool:
        """Open ``day`` of the folder; False (and a message saying why) when it cannot be opened."""
        if self.folder is None:
            return False
        return self.open_file(log_path(self.folder, day))

    def open_file(self, path: Path) -> bool:
        """Open a day file (named ``orders-YYYY-MM-DD.jsonl`` for its day to be known)."""
        match = LOG_NAME.match(path.name)
        try:
            day = date.fromisoformat(match.group(1)) if match else None
        except ValueError:
            day = None
        self._close_day()
        self.day = day
        for row in range(self.days.topLevelItemCount()):
            item = self.days.topLevelItem(row)
            if day is not None and item.data(0, Qt.ItemDataRole.UserRole) == day:
                self.days.setCurrentItem(item)
        try:
            index = LineIndex(path)
        except OSError as exc:
            text = (f"No order log for {day_title(day)} in {path.parent}" if day and not path.exists()
                    else str(exc.strerror or exc))
            self.title.setText(text)
            self.message.emit(text)
            self._update_labels()
            return False
        self._start(index)
        self.dayOpened.emit(day)
        return True

    def _start(self, index: LineIndex) -> None:
        self.index = index
        self._token += 1
        token = self._token
        self._stopped = False
        self._progress = None
        self._check = None
        self._bad = []
        self.view.follow_bottom = False
        self.model.show_all(index, 0)
        stats = self._stats_jobs.pop(index.path, None)
        self._cancel(stats)
        self._key = token
        self._index_job = self._run("index", token, str(index.path), on_report=partial(self._on_index, token),
                                    on_error=partial(self._index_failed, token))
        self._check_job = self._run("check", token, on_report=partial(self._on_check, token))
        self._spec = FilterSpec()
        self.apply_filter()
        self._update_labels()

    def _close_day(self) -> None:
        self._cancel(self._index_job, self._filter_job, self._check_job)
        if self.index is not None and self._worker is not None and self._worker.alive:
            with contextlib.suppress(OSError):
                self._worker.close_index(self._key)
        self._index_job = self._filter_job = self._check_job = None
        self.index = None
        self._token += 1
        self.model.show_all(None, 0)

    def stop(self) -> None:
        """Stop reading the day (and following it) and any export; what was read stays on screen."""
        self._cancel(self._index_job, self._filter_job, self._check_job, self._export_job)
        self._index_job = self._filter_job = self._check_job = self._export_job = None
        self._stopped = True
        self._filter_done = True
        self._update_labels()
        self.message.emit("Stopped reading the order log; click the day to read it again")

    def _on_index(self, token: int, progress: IndexProgress) -> None:
        if token != self._token or self.index is None:
            return
        try:
            self.index.absorb(progress)
        except FileChanged as exc:
            self._index_failed(token, exc)
            return
        first = self._progress is None
        self._progress = progress
        if self.model.showing_all:
            self.model.grow_to(progress.rows)
        if first and progress.rows and self.view.current_row() is None and self.model.showing_all:
            self.view.table.setCurrentIndex(self.model.index(0, 0))
        if progress.caught_up:
            self.view.follow_bottom = True
        self._update_labels()

    def _index_failed(self, token: int, exc: BaseException) -> None:
        if token != self._token:
            return
        if isinstance(exc, FileChanged) and self.index is not None:
            self.message.emit(f"{exc}; reading it again")
            self.open_file(self.index.path)
            return
        self._job_failed("index", exc)

    def _on_check(self, token: int, progress: CheckProgress) -> None:
        if token != self._token or self.index is None:
            return
        self._check = progress
        self._bad.extend(progress.new_bad)
        if progress.caught_up and self._progress is not None:
            index = self.index
            with contextlib.suppress(OSError):
                info = os.fstat(index.fd)
                self._stats[index.path] = DayStats(info.st_size, info.st_mtime_ns, progress.events,
                                                   progress.bad + (1 if index.unfinished else 0), progress.summary)
                if self.day is not None:
                    self._update_day_item(self.day)
        self._update_labels()

    # -- filters ---------------------------------------------------------------------------------------

    def filter_spec(self) -> FilterSpec:
        return FilterSpec(
            event_type=str(self.type_filter.currentData() or ""),
            symbol=self.symbol_filter.text().strip(),
            order=self.order_filter.text().strip(),
            text=self.text_filter.text().strip(),
        )

    def set_filter(self, event_type: str = "", symbol: str = "", order: str = "", text: str = "") -> None:
        """Set every filter at once and apply them now (no typing delay)."""
        widgets = (self.type_filter, self.symbol_filter, self.order_filter, self.text_filter)
        for widget in widgets:
            widget.blockSignals(True)
        self.type_filter.setCurrentIndex(max(0, self.type_filter.findData(event_type)))
        self.symbol_filter.setText(symbol)
        self.order_filter.setText(order)
        self.text_filter.setText(text)
        for widget in widgets:
            widget.blockSignals(False)
        self.apply_filter()

    def clear_filters(self) -> None:
        self.set_filter()

    def apply_filter(self) -> None:
        self._filter_timer.stop()
        spec = self.filter_spec()
        if spec == self._spec and (self._filter_job is not None or spec.is_empty):
            return
        self._spec = spec
        self._cancel(self._filter_job)
        self._filter_job = None
        self._filter_done = True
        index = self.index
        if index is None:
            self._update_labels()
            return
        selected = self._selected_line()
        if spec.is_empty:
            self.model.show_all(index, self._progress.rows if self._progress else 0)
            if selected is not None:
                row = self.model.row_of_line(selected)
                if row is not None:
                    self.view.select_row(row)  # back to the row in its context
        else:
            self._filter_token += 1
            self._filter_scanned = 0
            self._filter_done = False
            self.model.show_lines(index)
            self._filter_job = self._run("filter", self._key, spec, True,
                                         on_report=partial(self._on_filter, self._token, self._filter_token))
        self._update_labels()

    def _on_filter(self, token: int, filter_token: int, progress: FilterProgress) -> None:
        if token != self._token or filter_token != self._filter_token:
            return
        self.model.add_lines(progress.matches)
        self._filter_scanned = progress.scanned
        self._filter_done = progress.caught_up
        self._update_labels()

    def _selected_line(self) -> int | None:
        row = self.view.current_row()
        return self.model.line_of(row) if row is not None and self.index is not None else None

    def select_line(self, line: int) -> bool:
        """Select the row of file line ``line`` (from 0) if the table shows it."""
        row = self.model.row_of_line(line)
        if row is None:
            return False
        self.view.select_row(row)
        return True

    # -- labels ----------------------------------------------------------------------------------------

    def _update_labels(self) -> None:
        index, progress, check = self.index, self._progress, self._check
        if index is None:
            self.count.setText("")
            self.summary.setText("")
            self.bad_button.hide()
            self.progress_row.setCurrentWidget(self.state)
            self.state.setText("")
            self.export_button.setEnabled(False)
            return
        lines = progress.rows if progress else 0
        live = " · live" if self.day == date.today() and not self._stopped else ""
        stopped = " · stopped" if self._stopped else ""
        name = day_title(self.day) if self.day is not None else index.path.name
        self.title.setText(f"{name} · {human_size(index.size)} · {lines:,} line{'s' if lines != 1 else ''}"
                           f"{live}{stopped}")
        self.title.setToolTip(str(index.path))
        shown = self.model.rowCount()
        if self.model.showing_all:
            self.count.setText(f"{shown:,} line{'s' if shown != 1 else ''}")
        else:
            searching = "" if self._filter_done else " so far"
            self.count.setText(f"{shown:,} matching{searching}")
        if check is not None and check.checked:
            self.summary.setText(summary_text(check.summary) + ("" if check.caught_up else " (so far)"))
        else:
            self.summary.setText("Summing up the day…")
        self.summary.setToolTip(self.summary.text())
        bad = (check.bad if check else 0) + (1 if index.unfinished and progress and progress.caught_up else 0)
        if bad:
            self.bad_button.setText(f"⚠ {bad:,} unreadable line{'s' if bad != 1 else ''}…")
            self.bad_button.setStyleSheet(f"color: {self.colors.error};")
            self.bad_button.show()
        else:
            self.bad_button.hide()
        self.export_button.setEnabled(shown > 0 and self._export_job is None)
        self._update_progress(progress, check)

    def _update_progress(self, progress: IndexProgress | None, check: CheckProgress | None) -> None:
        working = [] if self._stopped else self._working_jobs()
        if not working:
            lines = progress.rows if progress else 0
            if self._stopped:
                read = f"{progress.indexed / progress.size:.0%} of the file" if progress and progress.size else "none"
                text = f"Stopped: {read} read. Click the day to read it again."
            elif self.day == date.today():
                text = f"All {lines:,} lines read; new events show as they are logged."
            else:
                text = f"All {lines:,} lines read."
            self.state.setText(text)
            self.progress_row.setCurrentWidget(self.state)
            return
        if "index" in working:
            done = progress.indexed / progress.size if progress and progress.size else 0.0
            text = "Reading the day"
        elif "filter" in working:
            total = progress.lines if progress else 0
            done = self._filter_scanned / total if total else 0.0
            text = "Filtering"
        elif "export" in working:
            done = self._export_done / self._export_total if self._export_total else 0.0
            text = "Exporting"
        else:
            total = progress.lines if progress else 0
            done = (check.checked / total) if check and total else 0.0
            text = "Summing up and checking every line"
        # QProgressBar.setValue repaints at once (the whole window, offscreen): let the next paint do it.
        self.progress.setUpdatesEnabled(False)
        self.progress.setValue(int(1000 * min(1.0, done)))
        self.progress.setFormat(f"{text}… {100 * min(1.0, done):.0f}%")
        self.progress.setUpdatesEnabled(True)
        self.progress_row.setCurrentIndex(1)

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        event = self.model.entry(current.row()).event if current.isValid() else None
        self.history_button.setEnabled(bool(event) and event.get("order_id") is not None)

    # -- history, unreadable lines, export ----------------------------------------------------------

    def show_history(self, row: int | None = None) -> HistoryDialog | None:
        """Open the history of the order of ``row`` (default: the selected row)."""
        row = self.view.current_row() if row is None else row
        if row is None or self.index is None:
            return None
        event = self.model.entry(row).event
        if not event or event.get("order_id") is None:
            return None
        order_id = event["order_id"]
        ref = event.get("order_ref") or None
        spec = FilterSpec(order=str(order_id), same_ref=ref)
        parts = [f"Order {order_id}", str(event.get("symbol") or ""), str(event.get("action") or ""),
                 fmt.qty(event.get("quantity")) if event.get("quantity") is not None else ""]
        title = " ".join(p for p in parts if p) + (f" · {ref}" if ref else "")
        if self.day is not None:
            title += f" · {day_title(self.day)}"
        dialog = HistoryDialog(self, self.index, spec, title)
        dialog.show()
        return dialog

    def show_bad_lines(self) -> BadLinesDialog | None:
        if self.index is None:
            return None
        count = (self._check.bad if self._check else 0)
        dialog = BadLinesDialog(self, self.index.path, self._bad[:MAX_BAD_LISTED], count, self.index.unfinished)
        dialog.lineChosen.connect(self._find_line)
        dialog.show()
        return dialog

    def _find_line(self, line: int) -> None:
        if not self.select_line(line):
            self.clear_filters()
            self.select_line(line)

    def _export_dialog(self) -> None:
        stem = f"orders-{self.day.isoformat()}-export" if self.day else "orders-export"
        csv_filter, jsonl_filter = "CSV files (*.csv)", "JSON lines (*.jsonl)"
        dialog = QFileDialog(self, "Export the rows shown", f"{stem}.csv", f"{csv_filter};;{jsonl_filter}")
        dialog.setObjectName("logExportDialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")

        def chosen_filter(name_filter: str) -> None:
            suffix = "jsonl" if name_filter == jsonl_filter else "csv"
            dialog.setDefaultSuffix(suffix)
            dialog.selectFile(f"{stem}.{suffix}")

        def chosen_file(name: str) -> None:
            # The name's extension decides; a name without one goes by the type chosen in the dialog.
            lowered = name.lower()
            kind = ("jsonl" if lowered.endswith(".jsonl") else "csv" if lowered.endswith(".csv")
                    else "jsonl" if dialog.selectedNameFilter() == jsonl_filter else "csv")
            self.export_to(Path(name), kind)

        dialog.filterSelected.connect(chosen_filter)
        dialog.fileSelected.connect(chosen_file)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def export_to(self, path: Path, kind: str) -> int | None:
        """Export the rows shown (after the filters) as "csv" or "jsonl" in the background; ``message``
        says when it is done."""
        if self.index is None:
            return None
        lines, count = self.model.shown_lines()
        self._export_total, self._export_done = count, 0
        self._export_job = self._run("export", self._key, lines, count, str(path), kind,
                                     on_report=partial(self._on_export, path),
                                     on_error=partial(self._export_failed, path))
        self._update_labels()
        return self._export_job

    def _on_export(self, path: Path, written: int, left_out: int, done: int, finished: bool) -> None:
        if not finished:
            self._export_done = done
            self._update_labels()
            return
        self._export_job = None
        note = f" ({left_out:,} unreadable line{'s' if left_out != 1 else ''} left out)" if left_out else ""
        self.message.emit(f"Exported {written:,} event{'s' if written != 1 else ''} to {path}{note}")
        self._update_labels()

    def _export_failed(self, path: Path, exc: BaseException) -> None:
        self._export_job = None
        self.message.emit(f"Could not export to {path}: {getattr(exc, 'strerror', None) or exc}")
        self._update_labels()
