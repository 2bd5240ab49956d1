"""Completion for the ticket's symbol field: recently traded symbols first, then what the broker knows."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex


class SymbolListModel(QAbstractListModel):
    """Rows show "AAPL  Apple Inc"; completing inserts just the symbol (EditRole)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, str]] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        symbol, name = self._rows[index.row()]
        if role == Qt.ItemDataRole.EditRole:
            return symbol
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{symbol:<6}  {name}" if name else symbol
        if role == Qt.ItemDataRole.ToolTipRole:
            return name or None
        return None

    def set_rows(self, recent: list[str], known: list[tuple[str, str]]) -> None:
        names = dict(known)
        rows = [(s, names.get(s, "")) for s in recent]
        seen = set(recent)
        rows += [(s, n) for s, n in known if s not in seen]
        if rows == self._rows:
            return
        self.beginResetModel()  # a completion list of a few dozen rows, replaced as the trader types
        self._rows = rows
        self.endResetModel()

    def name_of(self, symbol: str) -> str:
        for s, n in self._rows:
            if s == symbol:
                return n
        return ""
