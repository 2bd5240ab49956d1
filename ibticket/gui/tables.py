"""What every blotter table shares: row selection, compact rows, and column widths set once from samples."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractItemModel
from PySide6.QtWidgets import QAbstractItemView, QTableView


def blotter_table(
    name: str,
    model: QAbstractItemModel,
    headers: Sequence[str],
    samples: Sequence[str],
    *,
    edit_triggers: QAbstractItemView.EditTrigger = QAbstractItemView.EditTrigger.NoEditTriggers,
    selection: QAbstractItemView.SelectionMode = QAbstractItemView.SelectionMode.ExtendedSelection,
) -> QTableView:
    table = QTableView(objectName=name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(selection)
    table.setEditTriggers(edit_triggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    table.horizontalHeader().setStretchLastSection(True)
    # Widths from a sample row, set once: resizing to contents on every update is what makes blotters lag.
    metrics = table.fontMetrics()
    for col, (title, sample) in enumerate(zip(headers, samples, strict=True)):
        table.setColumnWidth(col, max(metrics.horizontalAdvance(sample), metrics.horizontalAdvance(title)) + 12)
    return table
