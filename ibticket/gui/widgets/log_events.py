"""The log viewer's table of rows with the selected event's whole JSON below it (the dock's and an order's
history's)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFontDatabase, QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QPlainTextEdit, QSplitter, QTableView, QWidget

from ...logview.rows import COLUMNS
from ..models.logview import LogTableModel

SAMPLE = ("23:59:59.999", "STATUS_CHANGE", "99999", "GOOGL", "SELL", "1,000,000", "10,000.00", "PartiallyFilled",
          "exec 0000e0d5.6554a1b2.01.01, commission 1.00, filled")


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

