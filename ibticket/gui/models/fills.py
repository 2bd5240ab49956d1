"""The fills blotter: one row per execution, exactly once; a correction replaces the row it corrects.

The handler applies each execution id once (replays after a reconnect change nothing), so a row is
added only for a fill the handler has not reported before. IB corrects an execution by sending the same
id up to its last dot with a higher suffix; that fill takes over the row of the one it corrects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from ...core import Fill
from ...core import format as fmt
from ...core.handler import split_exec_id
from ..theme import LIGHT, Colors
from .tables import ListTableModel

Index = QModelIndex | QPersistentModelIndex
HEADERS = ("Time", "Symbol", "Side", "Qty", "Price", "Commission", "Order", "Exec id")
RIGHT = {3, 4, 5, 6}
# Roles as plain ints and per-column answers computed once: the view asks 7 roles per visible cell on every
# repaint (see orders_model.py).
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole.value
_FOREGROUND = Qt.ItemDataRole.ForegroundRole.value
_USER = Qt.ItemDataRole.UserRole.value
_ALIGNMENTS = tuple(int((Qt.AlignmentFlag.AlignRight if col in RIGHT else Qt.AlignmentFlag.AlignLeft)
                        | Qt.AlignmentFlag.AlignVCenter) for col in range(len(HEADERS)))


@dataclass
class SymbolTotals:
    bought: int = 0
    sold: int = 0
    bought_value: float = 0.0
    sold_value: float = 0.0
    commission: float = 0.0
    fills: int = 0

    @property
    def net(self) -> int:
        return self.bought - self.sold


class FillsModel(ListTableModel[Fill]):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(HEADERS, parent)
        # Row of each execution, by its id up to the last dot (IB's ids; a correction shares it) or, for an
        # id without a dot, by the whole id. One index, not two: 200,000 fills cost 83 MB with two.
        self._row_of: dict[str, int] = {}
        # The commission each row added to its symbol's totals: a late commission report brings a new Fill
        # for the row (copy-on-write in the handler); its quantity and price never change, a correction does.
        self._commissions: list[float] = []
        self._colors: Colors = LIGHT
        self._buy, self._sell = QColor(LIGHT.buy), QColor(LIGHT.sell)
        self.totals: dict[str, SymbolTotals] = {}

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY:
            row = index.row()
            return self._text(self._rows[row], index.column())
        if role == _ALIGNMENT:
            return _ALIGNMENTS[index.column()]
        if role == _FOREGROUND:
            if index.column() != 2:
                return None
            return self._buy if self._rows[index.row()].side == "BUY" else self._sell
        if role == _USER:
            return self._rows[index.row()]
        return None

    @staticmethod
    def _text(f: Fill, col: int) -> str:
        if col == 0:
            return fmt.clock(f.timestamp)
        if col == 1:
            return f.symbol
        if col == 2:
            return f.side
        if col == 3:
            return fmt.qty(f.quantity)
        if col == 4:
            return fmt.price(f.price, 2 if f.price >= 1 else 4)
        if col == 5:
            return fmt.money(f.commission) if f.commission else ""
        if col == 6:
            return str(f.order_id)
        return f.fill_id

    def set_colors(self, colors: Colors) -> None:
        self._colors = colors
        self._buy, self._sell = QColor(colors.buy), QColor(colors.sell)

    def apply(self, fills: list[Fill]) -> None:
        """New fills append in one insert; a correction or a late commission updates its row in place, also
        when the fill it replaces is itself new in this batch (the bridge batches whatever came meanwhile)."""
        new: list[Fill] = []
        new_at: dict[str, int] = {}  # where each new execution is in ``new``, by the same key as _row_of
        changed: list[int] = []
        for f in fills:
            key = _key(f.fill_id)
            row = self._row_of.get(key)
            if row is not None and self._rows[row].order_id != f.order_id:
                row = None  # another order's execution with the same id: never from IB, shown as its own row
            if row is None:
                at = new_at.get(key)
                if at is not None and new[at].order_id == f.order_id:
                    new[at] = f  # corrects a fill not yet shown: one row, the correction's
                else:
                    new_at[key] = len(new)
                    new.append(f)
                continue
            self._uncount(row)
            self._rows[row] = f
            self._commissions[row] = self._count(f)
            changed.append(row)
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), len(HEADERS) - 1))
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for f in new:
                self._row_of[_key(f.fill_id)] = len(self._rows)
                self._rows.append(f)
                self._commissions.append(self._count(f))
            self.endInsertRows()

    def _count(self, f: Fill) -> float:
        self._add(f.side, f.symbol, f.quantity, f.price, f.commission, +1)
        return f.commission

    def _uncount(self, row: int) -> None:
        f = self._rows[row]
        self._add(f.side, f.symbol, f.quantity, f.price, self._commissions[row], -1)

    def _add(self, side: str, symbol: str, quantity: int, price: float, commission: float, sign: int) -> None:
        t = self.totals.setdefault(symbol, SymbolTotals())
        t.fills += sign
        t.commission += sign * commission
        if side == "BUY":
            t.bought += sign * quantity
            t.bought_value += sign * quantity * price
        else:
            t.sold += sign * quantity
            t.sold_value += sign * quantity * price

    def fills(self) -> list[Fill]:
        return list(self._rows)

    def side(self, row: int) -> str:
        return self._rows[row].side

    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self._commissions = [], []
        self._row_of, self.totals = {}, {}
        self.endResetModel()

    def to_csv_rows(self) -> list[list[str]]:
        rows = [["time", "symbol", "side", "quantity", "price", "commission", "order_id", "exec_id"]]
        for f in self._rows:
            rows.append([f.timestamp.isoformat(), f.symbol, f.side, str(f.quantity), repr(f.price),
                         repr(f.commission), str(f.order_id), f.fill_id])
        return rows


def _key(fill_id: str) -> str:
    return split_exec_id(fill_id)[0] if "." in fill_id else fill_id
