"""The fills dock: the blotter, totals per symbol, export to CSV."""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...core import format as fmt
from ..models.fills import HEADERS, FillsModel
from ..models.tables import blotter_table

SAMPLE = ("23:59:59", "GOOGL", "SELL", "1,000,000", "10,000.00", "1,000.00", "99999", "0000e0d5.6554a1b2.01.01")


class FillsPanel(QWidget):
    exported = Signal(str)

    def __init__(self, model: FillsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.table = blotter_table("fillsTable", model, HEADERS, SAMPLE)
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
