"""The fills dock: the blotter, totals per symbol, export to CSV.

The table sorts by any header (by time at first). Sorted by time, it keeps the newest fill in view: at the
bottom when ascending, at the top when descending, for as long as the trader leaves the table there. Once
the trader scrolls away (or sorts by another column), new rows do not move what is on screen: a fill that
goes in above the top row pushes nothing down.
"""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...core import Fill
from ...core import format as fmt
from ..models.fills import HEADERS, TIME_COLUMN, FillsModel
from ..models.tables import blotter_table

SAMPLE = ("23:59:59", "GOOGL", "SELL", "1,000,000", "10,000.00", "1,000.00", "99999", "0000e0d5.6554a1b2.01.01")


class FillsPanel(QWidget):
    exported = Signal(str)

    def __init__(self, model: FillsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.table = blotter_table("fillsTable", model, HEADERS, SAMPLE)
        header = self.table.horizontalHeader()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(model.sort_column, Qt.SortOrder.AscendingOrder if model.ascending
                                else Qt.SortOrder.DescendingOrder)
        header.sortIndicatorChanged.connect(self._sort)
        # Whether the newest fill is to be kept in view; the trader's scrolling says (see _scrolled).
        self.following = True
        self._scrolling = False  # the panel is scrolling the table: not the trader
        self._sorting = False
        self._anchor: Fill | None = None  # the fill at the top of the view while rows go in
        scroll = self.table.verticalScrollBar()
        scroll.valueChanged.connect(self._scrolled)
        scroll.rangeChanged.connect(self._range_changed)
        model.rowsAboutToBeInserted.connect(self._hold)
        model.layoutAboutToBeChanged.connect(self._hold)
        model.rowsInserted.connect(self._keep)
        model.layoutChanged.connect(self._keep)
        model.modelReset.connect(self._follow)
        self.totals = QLabel(objectName="fillsTotals")
        self.totals.setTextFormat(Qt.TextFormat.PlainText)
        self.totals.setWordWrap(True)
        export = QPushButton("Export CSV…", objectName="fillsExport")
        export.clicked.connect(self._export_dialog)
        bar = QHBoxLayout()
        bar.addWidget(self.totals, 1)
        bar.addWidget(export, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table)
        layout.addLayout(bar)
        for signal in (model.rowsInserted, model.dataChanged, model.modelReset):
            signal.connect(self._update_totals)
        self._update_totals()

    # -- sorting and scrolling ---------------------------------------------------------------------------

    def _sort(self, column: int, order: Qt.SortOrder) -> None:
        self._sorting = True
        try:
            self.model.sort(column, order)
        finally:
            self._sorting = False
        if column == TIME_COLUMN:
            self._follow()
        else:
            self.following = False
            self._scroll_to(self.table.verticalScrollBar().minimum())

    def at_newest(self) -> bool:
        """The view shows the newest end of a table sorted by time (the bottom, or the top when descending)."""
        if self.model.sort_column != TIME_COLUMN:
            return False
        bar = self.table.verticalScrollBar()
        return bar.value() >= bar.maximum() if self.model.ascending else bar.value() <= bar.minimum()

    def _follow(self, *_args: object) -> None:
        self.following = self.model.sort_column == TIME_COLUMN
        self._to_newest()

    def _to_newest(self) -> None:
        bar = self.table.verticalScrollBar()
        self._scroll_to(bar.maximum() if self.model.ascending else bar.minimum())

    def _scroll_to(self, value: int) -> None:
        self._scrolling = True
        try:
            self.table.verticalScrollBar().setValue(value)
        finally:
            self._scrolling = False

    def _scrolled(self, _value: int) -> None:
        if not self._scrolling:
            self.following = self.at_newest()

    def _range_changed(self, _low: int, _high: int) -> None:
        # New rows (and a resize, or the dock shown again) change the range after the view's delayed layout.
        if self.following:
            self._to_newest()

    def _hold(self, *_args: object) -> None:
        if self._sorting or self.following:
            return
        top = self.table.rowAt(0)
        self._anchor = self.model.fill(top) if top >= 0 else None

    def _keep(self, *_args: object) -> None:
        if self._sorting:
            return
        self.table.executeDelayedItemsLayout()  # the scroll range as it is with the new rows
        if self.following:
            self._to_newest()
            return
        anchor, self._anchor = self._anchor, None
        row = self.model.row_of(anchor) if anchor is not None else None
        if row is None or row == self.table.rowAt(0):
            return
        per_item = self.table.verticalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerItem
        self._scroll_to(row if per_item else self.table.verticalHeader().sectionPosition(row))

    # -- totals and export ---------------------------------------------------------------------------

    def _update_totals(self, *_args: object) -> None:
        # Totals are kept incrementally by the model; this only formats the few symbols traded.
        parts = []
        commission = 0.0
        for symbol in sorted(self.model.totals):
            t = self.model.totals[symbol]
            if not t.fills:
                continue
            commission += t.commission
            parts.append(f"{symbol} +{fmt.qty(t.bought)}/−{fmt.qty(t.sold)} (net {t.net:+,})")
        count = self.model.rowCount()
        head = f"{count} fill{'s' if count != 1 else ''}, commission {fmt.money(commission)}"
        self.totals.setText(head + (" · " + " · ".join(parts[:12]) if parts else ""))
        self.totals.setToolTip("\n".join(parts))

    def export_csv(self, path: Path) -> int:
        rows = self.model.to_csv_rows()
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
        return len(rows) - 1

    def _export_dialog(self) -> None:
        dialog = QFileDialog(self, "Export fills", "fills.csv", "CSV files (*.csv)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(self._export_to)
        dialog.open()

    def _export_to(self, name: str) -> None:
        try:
            count = self.export_csv(Path(name))
        except OSError as exc:
            self.exported.emit(f"Could not export fills to {name}: {exc.strerror or exc}")
            return
        self.exported.emit(f"Exported {count} fills to {name}")
