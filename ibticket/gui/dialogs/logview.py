"""The log viewer's dialogs: an order's history in the day, the day's unreadable lines, and where to save an
export."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.logreader import BadLine
from ...logview.filters import FilterProgress, FilterSpec
from ...logview.index import LineIndex
from ..models.logview import LogTableModel
from ..theme import Colors
from ..widgets.log_events import EventsView

if TYPE_CHECKING:
    from ..docks.logview_jobs import LogJobs


class HistoryDialog(QDialog):
    """One order's events in the day (what ``get_order_history`` returns), live while the day grows."""

    def __init__(self, parent: QWidget, jobs: LogJobs, index: LineIndex, spec: FilterSpec, title: str,
                 colors: Colors) -> None:
        super().__init__(parent)
        self.setObjectName("logHistoryDialog")
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.model = LogTableModel(self)
        self.model.set_colors(colors)
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
        self._jobs = jobs
        self._job = jobs.run("filter", jobs.key, spec, True, on_report=self._on_matches)

    def _on_matches(self, progress: FilterProgress) -> None:
        self.model.add_lines(progress.matches)
        n = self.model.rowCount()
        if progress.caught_up:
            self.done_reading = True
        self.count.setText(f"{n:,} event{'s' if n != 1 else ''}" + ("" if self.done_reading else " so far…"))
        if n and self.view.current_row() is None:
            self.view.select_row(0)

    def closeEvent(self, event: Any) -> None:
        self._jobs.cancel(self._job)
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


def choose_export_file(parent: QWidget, day: date | None, export: Callable[[Path, str], object]) -> None:
    """Ask where to save the rows shown and as what; then ``export(path, kind)`` ("csv" or "jsonl")."""
    stem = f"orders-{day.isoformat()}-export" if day else "orders-export"
    csv_filter, jsonl_filter = "CSV files (*.csv)", "JSON lines (*.jsonl)"
    dialog = QFileDialog(parent, "Export the rows shown", f"{stem}.csv", f"{csv_filter};;{jsonl_filter}")
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
        export(Path(name), kind)

    dialog.filterSelected.connect(chosen_filter)
    dialog.fileSelected.connect(chosen_file)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
