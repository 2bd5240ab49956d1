"""The orders table: an adapter over the handler's records (they stay the truth), fed in batches.

Each row caches its display strings, rebuilt only when its record changes, so ``data()`` is a lookup.
A batch costs one ``beginInsertRows`` for the new rows and one ranged ``dataChanged`` for the rest.
Sorting happens here (not in a proxy, which would re-sort on every change) and keeps the selection
through persistent indexes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from ...core import OrderRecord, OrderStatus
from ...core import format as fmt
from ..theme import LIGHT, Colors, status_color

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft


_RIGHT = Qt.AlignmentFlag.AlignRight
COLUMNS = (
    Column("id", "ID", _RIGHT),
    Column("time", "Time"),
    Column("symbol", "Symbol"),
    Column("side", "Side"),
    Column("qty", "Qty", _RIGHT),
    Column("type", "Type"),
    Column("limit", "Limit", _RIGHT),
    Column("stop", "Stop", _RIGHT),
    Column("tif", "TIF"),
    Column("status", "Status"),
    Column("filled", "Filled", _RIGHT),
    Column("avg", "Avg price", _RIGHT),
    Column("retries", "Retries", _RIGHT),
    Column("error", "Last error"),
)
COL = {c.key: i for i, c in enumerate(COLUMNS)}
EDITABLE = {COL["qty"], COL["limit"], COL["stop"]}
WORKING = (OrderStatus.PENDING, OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)
# The view asks data() for 7 roles of every visible cell on every repaint, and a burst repaints the table 20
# times a second: roles are compared as plain ints and the answers that do not depend on the row are
# computed once (see docs/benchmarks.md, "the orders table's repaint").
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_EDIT = Qt.ItemDataRole.EditRole.value
_FOREGROUND = Qt.ItemDataRole.ForegroundRole.value
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_USER = Qt.ItemDataRole.UserRole.value
_ALIGNMENTS = tuple(int(c.align | Qt.AlignmentFlag.AlignVCenter) for c in COLUMNS)
_STATUS, _SIDE, _LIMIT, _STOP = COL["status"], COL["side"], COL["limit"], COL["stop"]
# What QAbstractTableModel.flags() gives a valid cell, without the call into Qt.
_CELL_FLAGS = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren


def is_working(record: OrderRecord) -> bool:
    return record.status in WORKING


class OrdersModel(QAbstractTableModel):
    # (order id, column key, new value text) when the trader edits a working order in place.
    modifyRequested = Signal(int, str, str)

    def __init__(
        self,
        parent: Any = None,
        decimals: Callable[[str], int] | None = None,
        retrying: Callable[[int], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self._retrying = retrying or (lambda order_id: False)
        self._records: list[OrderRecord] = []
        self._rows: list[tuple[str, ...]] = []
        self._row_of: dict[int, int] = {}
        self._restored: set[int] = set()
        self._working: set[int] = set()
        self._decimals = decimals or (lambda symbol: 2)
        self._colors: Colors = LIGHT
        self._status_colors: dict[str, QColor] = {}
        self._buy, self._sell = QColor(LIGHT.buy), QColor(LIGHT.sell)
        self._sort: tuple[int, Qt.SortOrder] = (COL["id"], Qt.SortOrder.AscendingOrder)

    # -- Qt model API ------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole:
            return int(COLUMNS[section].align | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY:
            return self._rows[index.row()][index.column()]
        if role == _ALIGNMENT:
            return _ALIGNMENTS[index.column()]
        if role == _FOREGROUND:
            col = index.column()
            if col == _STATUS:
                status = self._records[index.row()].status.value
                color = self._status_colors.get(status)
                if color is None:
                    color = self._status_colors[status] = status_color(self._colors, status)
                return color
            if col == _SIDE:
                return self._buy if self._records[index.row()].action == "BUY" else self._sell
            return None
        if role == _EDIT:
            return self._rows[index.row()][index.column()].replace(",", "")
        if role == _TOOLTIP:
            record, col = self._records[index.row()], index.column()
            if col == COL["error"] and record.error_message:
                return record.error_message
            if col == _STATUS and record.order_id in self._restored:
                return "Restored from today's log; waiting for IB to confirm it"
            if col == COL["id"]:
                return f"Order reference {record.order_ref}"
            return None
        if role == _USER:
            return self._records[index.row()]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        col = index.column()
        if col not in EDITABLE:
            return _CELL_FLAGS
        record = self._records[index.row()]
        if not is_working(record) or (col == _LIMIT and record.limit_price is None) or (
                col == _STOP and record.stop_price is None):
            return _CELL_FLAGS
        return _CELL_FLAGS | Qt.ItemFlag.ItemIsEditable

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        # The row changes only when IB acknowledges the change (the handler's amend reaches us then).
        if role != Qt.ItemDataRole.EditRole or index.column() not in EDITABLE:
            return False
        text = str(value).strip()
        if not text or text == self.data(index, Qt.ItemDataRole.EditRole):
            return False
        self.modifyRequested.emit(self._records[index.row()].order_id, COLUMNS[index.column()].key, text)
        return False

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        keep = [(self._records[i.row()].order_id, i.column()) for i in old]
        pairs = sorted(zip(self._records, self._rows, strict=True), key=lambda p: _sort_key(p[0], column),
                       reverse=order == Qt.SortOrder.DescendingOrder)
        self._records = [p[0] for p in pairs]
        self._rows = [p[1] for p in pairs]
        self._row_of = {r.order_id: i for i, r in enumerate(self._records)}
        self.changePersistentIndexList(old, [self.index(self._row_of[oid], col) for oid, col in keep])
        self.layoutChanged.emit()

    # -- feeding -----------------------------------------------------------------------------------

    def set_colors(self, colors: Colors) -> None:
        self._colors = colors
        self._status_colors = {}
        self._buy, self._sell = QColor(colors.buy), QColor(colors.sell)
        if self._records:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._records) - 1, len(COLUMNS) - 1))

    @property
    def working_count(self) -> int:
        return len(self._working)

    def set_retrying(self, retrying: Callable[[int], bool]) -> None:
        """Where the model asks whether an order in Error has a retry scheduled (the session's handler)."""
        self._retrying = retrying

    def retrying(self, order_id: int) -> bool:
        return self._retrying(order_id)

    def apply(self, records: list[OrderRecord]) -> None:
        """One batch from the bridge: new rows in one insert, changed rows in one ranged dataChanged."""
        for r in records:
            if is_working(r):
                self._working.add(r.order_id)
            else:
                self._working.discard(r.order_id)
        new = [r for r in records if r.order_id not in self._row_of]
        changed = [self._row_of[r.order_id] for r in records if r.order_id in self._row_of]
        for row in changed:
            self._rows[row] = self._format(self._records[row])
        if changed:
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), len(COLUMNS) - 1))
        if new:
            newest_first = self._sort[0] in (COL["id"], COL["time"]) and self._sort[1] == Qt.SortOrder.DescendingOrder
            if newest_first:
                new.sort(key=lambda r: r.order_id, reverse=True)
                self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
                self._records[0:0] = new
                self._rows[0:0] = [self._format(r) for r in new]
                self._row_of = {r.order_id: i for i, r in enumerate(self._records)}
            else:
                first = len(self._records)
                self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
                for r in new:
                    self._row_of[r.order_id] = len(self._records)
                    self._records.append(r)
                    self._rows.append(self._format(r))
            self.endInsertRows()

    def mark_restored(self, order_ids: set[int]) -> None:
        self._restored |= order_ids
        self.apply([self._records[self._row_of[i]] for i in order_ids if i in self._row_of])

    def clear_restored(self) -> None:
        ids, self._restored = self._restored, set()
        self.apply([self._records[self._row_of[i]] for i in ids if i in self._row_of])

    def clear(self) -> None:
        self.beginResetModel()
        self._records, self._rows, self._row_of, self._restored, self._working = [], [], {}, set(), set()
        self.endResetModel()

    # -- lookups -----------------------------------------------------------------------------------

    def record(self, row: int) -> OrderRecord:
        return self._records[row]

    def row_of(self, order_id: int) -> int | None:
        return self._row_of.get(order_id)

    def records(self) -> list[OrderRecord]:
        return list(self._records)

    def text(self, row: int, key: str) -> str:
        return self._rows[row][COL[key]]

    def _format(self, r: OrderRecord) -> tuple[str, ...]:
        d = self._decimals(r.symbol)
        status = r.status.value
        if r.order_id in self._restored:
            status += " (restored)"
        elif self._retrying(r.order_id):
            status += " (retrying)"
        return (
            str(r.order_id),
            fmt.clock(r.submission_time),
            r.symbol,
            r.action,
            fmt.qty(r.total_quantity),
            fmt.TYPE_SHORT.get(r.order_type, r.order_type),
            fmt.price(r.limit_price, d),
            fmt.price(r.stop_price, d),
            r.tif + (" ORTH" if r.outside_rth else ""),
            status,
            f"{fmt.qty(r.filled_quantity)}/{fmt.qty(r.total_quantity)}",
            fmt.price(r.avg_fill_price, d) if r.filled_quantity else "",
            str(r.retry_count) if r.retry_count else "",
            (r.error_message or "").splitlines()[0][:120] if r.error_message else "",
        )


def _sort_key(r: OrderRecord, column: int) -> Any:
    key = COLUMNS[column].key
    if key == "id":
        return r.order_id
    if key == "time":
        return (r.submission_time.isoformat() if r.submission_time else "", r.order_id)
    if key in ("qty",):
        return (r.total_quantity, r.order_id)
    if key == "filled":
        return (r.filled_quantity, r.order_id)
    if key == "limit":
        return (r.limit_price or 0.0, r.order_id)
    if key == "stop":
        return (r.stop_price or 0.0, r.order_id)
    if key == "avg":
        return (r.avg_fill_price, r.order_id)
    if key == "retries":
        return (r.retry_count, r.order_id)
    if key == "status":
        return (r.status.value, r.order_id)
    if key == "error":
        return (r.error_message or "", r.order_id)
    return (str(getattr(r, {"symbol": "symbol", "side": "action", "type": "order_type", "tif": "tif"}[key])),
            r.order_id)
