"""The log viewer's widgets: the day list beside the day's heading, filters, summary and progress, the
table of rows below them; and what they show of the open day (``show_state``). What they do when used is
the panel's (``docks/logview.py``), which connects them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.logreader import EVENT_TYPES
from ...logview.days import day_title, human_size, summary_text
from ...logview.filters import UNREADABLE, FilterSpec
from ...logview.index import LineIndex
from ..models.logview import LogTableModel
from ..theme import LIGHT, Colors
from ..widgets.log_events import EventsView

if TYPE_CHECKING:
    from .logview_jobs import LogJobs


class LogViewLayout(QWidget):
    """The log viewer's widgets, laid out; its table's model is ``model``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("logViewPanel")
        self.colors: Colors = LIGHT
        self.model = LogTableModel(self)

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
        self.days.setFixedWidth(self._days_width)
        self.refresh_button = QPushButton("Refresh", objectName="logRefreshDays")
        self.refresh_button.setToolTip("Look again for day files in the order log folder")
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
        folder_row.addWidget(self.refresh_button)
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
        self.symbol_filter = self._filter_edit("logSymbolFilter", "Symbol", 70,
                                               "Only this symbol (exactly; upper or lower case)")
        self.order_filter = self._filter_edit("logOrderFilter", "Order id or ref", 110,
                                              "An order id (42 or #42), or part of an order reference")
        self.text_filter = self._filter_edit("logTextFilter", "Search text", 100,
                                             "Text anywhere in the line as logged, names and values alike "
                                             "(upper or lower case); finds unreadable lines too")
        self.clear_button = QPushButton("Clear", objectName="logClearFilters")
        self.count = QLabel(objectName="logCount")
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.count.setFixedWidth(self.count.fontMetrics().horizontalAdvance("9,999,999 matching so far") + 8)
        filters = QHBoxLayout()
        filters.addWidget(self.type_filter)
        filters.addWidget(self.symbol_filter)
        filters.addWidget(self.order_filter)
        filters.addWidget(self.text_filter, 1)
        filters.addWidget(self.clear_button)

        self.summary = QLabel(objectName="logSummary")
        # Two lines at most, of a fixed height (the whole text is also the tooltip): a label that grew as
        # the numbers do would move the table, and a relayout repaints all of it.
        self.summary.setWordWrap(True)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.summary.setFixedHeight(2 * self.summary.fontMetrics().lineSpacing() + 2)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bad_button = QPushButton(objectName="logBadLines")
        self.bad_button.setFlat(True)
        self.bad_button.hide()
        self.history_button = QPushButton("Order history…", objectName="logHistory")
        self.history_button.setToolTip("Every event of the selected row's order in this day")
        self.history_button.setEnabled(False)
        self.export_button = QPushButton("Export…", objectName="logExport")
        self.export_button.setToolTip("Save the rows shown (with the filters) as CSV or JSON lines")
        self.export_button.setEnabled(False)

        self.progress = QProgressBar(objectName="logProgress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.stop_button = QPushButton("Stop", objectName="logStop")
        self.stop_button.setToolTip("Stop reading this day (the rows read so far stay)")
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
        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self, self._focus_text_filter)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _focus_text_filter(self) -> None:
        self.text_filter.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.text_filter.selectAll()

    def _filter_edit(self, name: str, placeholder: str, width: int, tip: str) -> QLineEdit:
        edit: QLineEdit = QLineEdit(objectName=name)  # typed: the stubs refuse the keyword (see pyproject)
        edit.setPlaceholderText(placeholder)
        edit.setToolTip(tip)
        edit.setClearButtonEnabled(True)
        edit.setMinimumWidth(width)
        return edit

    def filter_spec(self) -> FilterSpec:
        return FilterSpec(
            event_type=str(self.type_filter.currentData() or ""),
            symbol=self.symbol_filter.text().strip(),
            order=self.order_filter.text().strip(),
            text=self.text_filter.text().strip(),
        )

    def show_filter(self, event_type: str, symbol: str, order: str, text: str) -> None:
        """Put every filter's widget at once, without the signals that would apply each."""
        widgets = (self.type_filter, self.symbol_filter, self.order_filter, self.text_filter)
        for widget in widgets:
            widget.blockSignals(True)
        self.type_filter.setCurrentIndex(max(0, self.type_filter.findData(event_type)))
        self.symbol_filter.setText(symbol)
        self.order_filter.setText(order)
        self.text_filter.setText(text)
        for widget in widgets:
            widget.blockSignals(False)

    def show_folder(self, folder: Path) -> None:
        room = self._days_width - self.refresh_button.sizeHint().width() - 8
        self.folder_label.setText(self.folder_label.fontMetrics().elidedText(
            str(folder), Qt.TextElideMode.ElideMiddle, max(40, room)))
        self.folder_label.setToolTip(f"The order log folder: {folder}")

    def show_state(self, index: LineIndex | None, day: date | None, jobs: LogJobs) -> None:
        """The heading, the count, the summary, the unreadable lines and the progress row, as the open day
        (``index``, of ``day``) and its jobs are."""
        progress, check = jobs.progress, jobs.check
        if index is None:
            self.count.setText("")
            self.summary.setText("")
            self.bad_button.hide()
            self.progress_row.setCurrentWidget(self.state)
            self.state.setText("")
            self.export_button.setEnabled(False)
            return
        lines = progress.rows if progress else 0
        today = day == date.today()
        live = " · live" if today and not jobs.stopped else ""
        stopped = " · stopped" if jobs.stopped else ""
        name = day_title(day) if day is not None else index.path.name
        self.title.setText(f"{name} · {human_size(index.size)} · {lines:,} line{'s' if lines != 1 else ''}"
                           f"{live}{stopped}")
        self.title.setToolTip(str(index.path))
        shown = self.model.rowCount()
        if self.model.showing_all:
            self.count.setText(f"{shown:,} line{'s' if shown != 1 else ''}")
        else:
            searching = "" if jobs.filter_done else " so far"
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
        self.export_button.setEnabled(shown > 0 and jobs.export_job is None)
        self._show_progress(*jobs.state(today))

    def _show_progress(self, text: str, done: float | None) -> None:
        if done is None:
            self.state.setText(text)
            self.progress_row.setCurrentWidget(self.state)
            return
        # QProgressBar.setValue repaints at once (the whole window, offscreen): let the next paint do it.
        self.progress.setUpdatesEnabled(False)
        self.progress.setValue(int(1000 * min(1.0, done)))
        self.progress.setFormat(f"{text}… {100 * min(1.0, done):.0f}%")
        self.progress.setUpdatesEnabled(True)
        self.progress_row.setCurrentIndex(1)
