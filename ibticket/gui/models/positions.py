"""Positions: one row per symbol held, or closed today: a closed position stays for the day, muted, with its
realized P&L, so the rows add up to the day's P&L (``totals``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from ...core import format as fmt
from ..theme import LIGHT, Colors
from .tables import ListTableModel

if TYPE_CHECKING:  # Types only: the window is painted before the broker (and ib_insync, numpy) is imported.
    from ...broker.portfolio import Position

Index = QModelIndex | QPersistentModelIndex
HEADERS = ("Symbol", "Position", "Avg cost", "Last", "Market value", "Unrealized P&L", "Realized P&L")


class PositionsModel(ListTableModel["Position"]):
    """Rows are the broker layer's ``Position`` records (symbol, quantity, avg_cost, market_price,
    market_value, unrealized_pnl, realized_pnl), the day's: a closed one has quantity 0. A new snapshot
    updates rows in place (a position that closes keeps its row)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(HEADERS, parent)
        self._colors: Colors = LIGHT

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        p = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if not p.quantity:  # closed today: what it made is all there is to say
                return (p.symbol, "0", "", fmt.price(p.market_price), "", "",
                        fmt.signed_money(p.realized_pnl))[col]
            return (
                p.symbol, fmt.qty(p.quantity), fmt.price(p.avg_cost, 4 if abs(p.avg_cost) < 1 else 2),
                fmt.price(p.market_price), fmt.money(p.market_value), fmt.signed_money(p.unrealized_pnl),
                fmt.signed_money(p.realized_pnl),
            )[col]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align = Qt.AlignmentFlag.AlignLeft if col == 0 else Qt.AlignmentFlag.AlignRight
            return int(align | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if not p.quantity:
                return QColor(self._colors.muted)
            if col in (5, 6):
                value = p.unrealized_pnl if col == 5 else p.realized_pnl
                if value:
                    return QColor(self._colors.gain if value > 0 else self._colors.loss)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if not p.quantity:
                return (f"{p.symbol}: closed today, realized P&L {fmt.signed_money(p.realized_pnl)}; "
                        "kept until the day ends, as it counts in the day's P&L")
            return "Double-click: load the closing order into the ticket"
        if role == Qt.ItemDataRole.UserRole:
            return p
        return None

    def set_colors(self, colors: Colors) -> None:
        self._colors = colors

    def totals(self) -> tuple[float, float]:
        """(unrealized, realized) P&L of the rows, open and closed: together, the day's P&L."""
        unrealized = sum(p.unrealized_pnl or 0.0 for p in self._rows)
        return unrealized, sum(p.realized_pnl or 0.0 for p in self._rows)

    def apply(self, positions: list[Position]) -> None:
        incoming = {p.symbol: p for p in positions}
        current = [p.symbol for p in self._rows]
        for row in reversed(range(len(current))):
            if current[row] not in incoming:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        index_of = {p.symbol: i for i, p in enumerate(self._rows)}
        for symbol, row in index_of.items():
            self._rows[row] = incoming[symbol]
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(HEADERS) - 1))
        new = sorted((p for s, p in incoming.items() if s not in index_of), key=lambda p: p.symbol)
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._rows.extend(new)
            self.endInsertRows()

    def position(self, row: int) -> Position:
        return self._rows[row]

    def quantity_of(self, symbol: str) -> float:
        for p in self._rows:
            if p.symbol == symbol:
                return p.quantity
        return 0.0

    def clear(self) -> None:
        self.beginResetModel()
        self._rows = []
        self.endResetModel()
