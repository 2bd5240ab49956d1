"""The fills blotter: one row per execution, exactly once; a correction replaces the row it corrects.

The handler applies each execution id once (replays after a reconnect change nothing), so a row is
added only for a fill the handler has not reported before. IB corrects an execution by sending the same
id up to its last dot with a higher suffix; that fill takes over the row of the one it corrects.

Rows stay in order: by time unless a header says otherwise. A new execution goes where its sort key puts
it, not at the end: after a restart the day arrives order by order (the bridge replays in slices by order
id), and an execution reported late (a reconnect's replay) belongs where it happened. The list is held
ascending by the sort key and a descending order reads it from the end, so inserting in place needs no
re-sort in either direction. The live flow (every fill of a batch after the last row) is one insert at
the end; a batch that lands in a few places is a few inserts; one scattered over many places (a slice of a
restored day) is appended and merged in one layout change, which timsort does in linear time.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from ...core import Fill
from ...core import format as fmt
from ...core.records import split_exec_id
from ..theme import LIGHT, Colors
from .tables import ListTableModel

Index = QModelIndex | QPersistentModelIndex
HEADERS = ("Time", "Symbol", "Side", "Qty", "Price", "Commission", "Order", "Exec id")
TIME_COLUMN = 0
RIGHT = {3, 4, 5, 6}
# Roles as plain ints and per-column answers computed once: the view asks 7 roles per visible cell on every
# repaint (see orders_model.py).
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole.value
_FOREGROUND = Qt.ItemDataRole.ForegroundRole.value
_USER = Qt.ItemDataRole.UserRole.value
_ALIGNMENTS = tuple(int((Qt.AlignmentFlag.AlignRight if col in RIGHT else Qt.AlignmentFlag.AlignLeft)
                        | Qt.AlignmentFlag.AlignVCenter) for col in range(len(HEADERS)))
# Places one batch may be inserted at one by one; a batch spread wider is merged in a layout change.
MAX_SPOTS = 16

SortKey = Callable[[Fill], Any]


def _by_time(f: Fill) -> Any:
    # Executions carry whole seconds: within one, IB's execution ids (a sequence, then the rest) break the
    # tie, which gives the same order live and after a restart.
    return (f.timestamp, f.fill_id, f.order_id)


# Each column sorts by its value, then by time: a symbol's fills stay in time order within it.
SORT_KEYS: tuple[SortKey, ...] = (
    _by_time,
    lambda f: (f.symbol, f.timestamp, f.fill_id, f.order_id),
    lambda f: (f.side, f.timestamp, f.fill_id, f.order_id),
    lambda f: (f.quantity, f.timestamp, f.fill_id, f.order_id),
    lambda f: (f.price, f.timestamp, f.fill_id, f.order_id),
    lambda f: (f.commission, f.timestamp, f.fill_id, f.order_id),
    lambda f: (f.order_id, f.timestamp, f.fill_id),
    lambda f: (f.fill_id, f.order_id),
)


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
        # ``_rows`` ascending by ``_key``; the view reads it from the end when the order is descending.
        self._key: SortKey = _by_time
        self._column = TIME_COLUMN
        self._ascending = True
        # The fill in each execution's row, by its id up to the last dot (IB's ids; a correction shares it)
        # or, for an id without a dot, by the whole id. Rows are found from it by bisection: no row numbers
        # to keep up to date when a fill goes in above them.
        self._shown: dict[str, Fill] = {}
        # The commission each row added to its symbol's totals: a late commission report brings a new Fill
        # for the row (copy-on-write in the handler); its quantity and price never change, a correction does.
        self._commissions: list[float] = []
        self._colors: Colors = LIGHT
        self._buy, self._sell = QColor(LIGHT.buy), QColor(LIGHT.sell)
        self.totals: dict[str, SymbolTotals] = {}

    # -- Qt model API ------------------------------------------------------------------------------

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if role == _DISPLAY:
            return self._text(self._rows[self._at(index.row())], index.column())
        if role == _ALIGNMENT:
            return _ALIGNMENTS[index.column()]
        if role == _FOREGROUND:
            if index.column() != 2:
                return None
            return self._buy if self._rows[self._at(index.row())].side == "BUY" else self._sell
        if role == _USER:
            return self._rows[self._at(index.row())]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(SORT_KEYS):
            return
        self._resort(column, order == Qt.SortOrder.AscendingOrder)

    @property
    def sort_column(self) -> int:
        return self._column

    @property
    def ascending(self) -> bool:
        return self._ascending

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

    # -- feeding -----------------------------------------------------------------------------------

    def apply(self, fills: list[Fill]) -> None:
        """New fills go in where the order puts them; a correction or a late commission updates its row in
        place (or moves it, when it changes what the rows are sorted by), also when the fill it replaces is
        itself new in this batch (the bridge batches whatever came meanwhile)."""
        new: list[Fill] = []
        new_at: dict[str, int] = {}  # where each new execution is in ``new``, by the same key as _shown
        changed: set[str] = set()
        for f in fills:
            key = _key(f.fill_id)
            at = new_at.get(key)
            if at is not None and new[at].order_id == f.order_id:
                new[at] = f  # corrects a fill not shown yet: one row, the correction's
                continue
            old = self._shown.get(key)
            if old is not None and old.order_id != f.order_id:
                old = None  # another order's execution with the same id: never from IB, shown as its own row
            if old is None:
                new_at[key] = len(new)
                new.append(f)
                continue
            i = self._find(old)
            self._uncount(i)
            self._shown[key] = f
            if self._fits(i, f):
                self._rows[i] = f
                self._commissions[i] = self._count(f)
                changed.add(key)
            else:  # now sorts elsewhere: out of its row, and in again with the new ones
                self._remove(i)
                changed.discard(key)
                new_at[key] = len(new)
                new.append(f)
        if changed:
            rows = [self._view_row(self._find(self._shown[key])) for key in changed]
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(HEADERS) - 1))
        if new:
            self._insert(new)

    def _insert(self, fills: list[Fill]) -> None:
        key, rows = self._key, self._rows
        fills.sort(key=key)
        n = len(rows)
        if not rows or key(fills[0]) > key(rows[-1]):
            self._insert_at(n, fills)  # the live flow: after every row there is
            return
        # Runs of the batch that go in at one place: (where, first, end) in ``fills``. Each goes after the rows
        # that sort before it or equal; the batch is sorted, so each search starts where the last one ended.
        runs: list[tuple[int, int, int]] = []
        at = 0
        last = key(rows[-1])
        for i, f in enumerate(fills):
            k = key(f)
            at = n if k > last else _place(rows, k, at, key)  # after the last row: so are the rest
            if runs and runs[-1][0] == at:
                runs[-1] = (at, runs[-1][1], i + 1)
            else:
                runs.append((at, i, i + 1))
            if at == n:
                runs[-1] = (n, runs[-1][1], len(fills))
                break
        if len(runs) > MAX_SPOTS:
            self._merge(fills, runs)
            return
        for at, first, end in reversed(runs):  # from the end: the places found before stay right
            self._insert_at(at, fills[first:end])

    def _merge(self, fills: list[Fill], runs: list[tuple[int, int, int]]) -> None:
        """Many places: the rows go in at the end (one insert), then to their places in one layout change,
        made of slices of the rows as they are (no sort key computed for the rows already shown)."""
        n = len(self._rows)
        self._insert_at(n, fills)
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        rows, commissions = self._rows, self._commissions
        merged: list[Fill] = rows[:runs[0][0]]
        costs: list[float] = commissions[:runs[0][0]]
        for r, (at, first, end) in enumerate(runs):
            merged += rows[n + first:n + end]
            costs += commissions[n + first:n + end]
            upto = runs[r + 1][0] if r + 1 < len(runs) else n
            merged += rows[at:upto]
            costs += commissions[at:upto]
        places = [at for at, _first, _end in runs]
        firsts = [first for _at, first, _end in runs]

        def moved(i: int) -> int:  # where the row at ``i`` is now
            if i < n:  # after the new ones placed before it
                r = bisect_right(places, i)
                return i + (runs[r - 1][2] if r else 0)
            k = i - n  # the k-th new one: after the rows before its place and the new ones before it
            return runs[bisect_right(firsts, k) - 1][0] + k

        where = [(moved(self._at(index.row())), index.column()) for index in old]
        self._rows, self._commissions = merged, costs
        self.changePersistentIndexList(old, [self.index(self._view_row(i), col) for i, col in where])
        self.layoutChanged.emit()

    def _insert_at(self, at: int, fills: list[Fill]) -> None:
        n, count = len(self._rows), len(fills)
        first = at if self._ascending else n - at
        self.beginInsertRows(QModelIndex(), first, first + count - 1)
        self._rows[at:at] = fills
        self._commissions[at:at] = [self._count(f) for f in fills]
        for f in fills:
            self._shown[_key(f.fill_id)] = f
        self.endInsertRows()

    def _remove(self, i: int) -> None:
        row = self._view_row(i)
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[i]
        del self._commissions[i]
        self.endRemoveRows()

    def _resort(self, column: int | None = None, ascending: bool | None = None) -> None:
        """Sort every row (by ``column``, in that direction, or as they are), keeping the selection (persistent
        indexes) on its fills."""
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        keep = [(self._rows[self._at(i.row())], i.column()) for i in old]
        if column is not None:
            self._column, self._key = column, SORT_KEYS[column]
        if ascending is not None:
            self._ascending = ascending
        key, rows, commissions = self._key, self._rows, self._commissions
        order = sorted(range(len(rows)), key=lambda i: key(rows[i]))
        self._rows = [rows[i] for i in order]
        self._commissions = [commissions[i] for i in order]
        self.changePersistentIndexList(old, [self.index(self._view_row(self._find(f)), col) for f, col in keep])
        self.layoutChanged.emit()

    # -- where a fill is ------------------------------------------------------------------------------

    def _at(self, row: int) -> int:
        """The index in ``_rows`` of a view row."""
        return row if self._ascending else len(self._rows) - 1 - row

    def _view_row(self, i: int) -> int:
        return i if self._ascending else len(self._rows) - 1 - i

    def _find(self, f: Fill) -> int:
        rows, key = self._rows, self._key
        i = bisect_left(rows, key(f), key=key)
        if i < len(rows) and rows[i] is f:
            return i
        # A Fill changed in place after it was shown can be out of its place by the key: look it up whole.
        return next(j for j, row in enumerate(rows) if row is f)

    def _fits(self, i: int, f: Fill) -> bool:
        """``f`` may take row ``i`` and the rows stay sorted."""
        key, rows = self._key, self._rows
        k = key(f)
        return (i == 0 or key(rows[i - 1]) <= k) and (i + 1 == len(rows) or k <= key(rows[i + 1]))

    def row_of(self, fill: Fill) -> int | None:
        """The view row of a fill shown (the one it was given as; a correction takes over its row)."""
        shown = self._shown.get(_key(fill.fill_id))
        if shown is None:
            return None
        return self._view_row(self._find(shown))

    # -- totals ----------------------------------------------------------------------------------------

    def _count(self, f: Fill) -> float:
        self._add(f.side, f.symbol, f.quantity, f.price, f.commission, +1)
        return f.commission

    def _uncount(self, i: int) -> None:
        f = self._rows[i]
        self._add(f.side, f.symbol, f.quantity, f.price, self._commissions[i], -1)

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

    # -- reading -----------------------------------------------------------------------------------

    def fills(self) -> list[Fill]:
        """The rows' fills, top to bottom."""
        return list(self._rows) if self._ascending else self._rows[::-1]

    def fill(self, row: int) -> Fill:
        return self._rows[self._at(row)]

    def side(self, row: int) -> str:
        return self.fill(row).side

    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self._commissions = [], []
        self._shown, self.totals = {}, {}
        self.endResetModel()

    def to_csv_rows(self) -> list[list[str]]:
        rows = [["time", "symbol", "side", "quantity", "price", "commission", "order_id", "exec_id"]]
        for f in self.fills():
            rows.append([f.timestamp.isoformat(), f.symbol, f.side, str(f.quantity), repr(f.price),
                         repr(f.commission), str(f.order_id), f.fill_id])
        return rows


def _place(rows: list[Fill], k: Any, low: int, key: SortKey) -> int:
    """Where a fill of key ``k`` goes in ``rows`` (after the rows that sort before it or equal), at ``low`` or
    later: a galloping search from ``low``, as the places of a sorted batch are near each other."""
    n, step, high = len(rows), 1, low
    while high < n and key(rows[high]) <= k:
        low = high + 1
        high = low + step
        step *= 2
    return bisect_right(rows, k, lo=low, hi=min(high, n), key=key)


def _key(fill_id: str) -> str:
    return split_exec_id(fill_id)[0] if "." in fill_id else fill_id
