"""The log viewer's table: rows read and parsed only when shown, from the day file's line index.

A row is a line of the day file. Its text comes from ``pread`` of that one line and the order log's reader
(``parse_line``), kept in a small cache, so a million-line day costs the index (8 bytes a line) plus the
rows on screen. The model shows either every row of the index or a list of lines (a filter's matches);
both grow at the end as the index, the filter or the live file grows, and never change above.
"""

from __future__ import annotations

import json
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, NamedTuple

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from ...core.logreader import parse_line
from ...logview.index import LineIndex
from ...logview.rows import COLUMNS, row_cells
from ..theme import LIGHT, Colors, status_color

Index = QModelIndex | QPersistentModelIndex
RIGHT = {COLUMNS.index(name) for name in ("Order", "Qty", "Price")}
EVENT, SIDE, STATUS, MESSAGE = (COLUMNS.index(name) for name in ("Event", "Side", "Status", "Message"))
DISPLAY, TOOLTIP, ALIGNMENT, FOREGROUND, FONT, USER = (
    Qt.ItemDataRole.DisplayRole.value, Qt.ItemDataRole.ToolTipRole.value, Qt.ItemDataRole.TextAlignmentRole.value,
    Qt.ItemDataRole.ForegroundRole.value, Qt.ItemDataRole.FontRole.value, Qt.ItemDataRole.UserRole.value)
_HANDLED = frozenset((DISPLAY, TOOLTIP, ALIGNMENT, FOREGROUND, FONT, USER))
_ALIGNMENTS = [
    int((Qt.AlignmentFlag.AlignRight if col in RIGHT else Qt.AlignmentFlag.AlignLeft) | Qt.AlignmentFlag.AlignVCenter)
    for col in range(len(COLUMNS))
]
CACHE_ROWS = 2048


class _Row(NamedTuple):
    event: dict[str, Any] | None
    problem: str | None  # why the line cannot be used, when it cannot
    raw: bytes
    cells: list[str]


class LogTableModel(QAbstractTableModel):
    """Rows of one day file: all of them, or the lines a filter matched."""

    def __init__(self, parent: Any = None, cache_rows: int = CACHE_ROWS) -> None:
        super().__init__(parent)
        self.index_: LineIndex | None = None
        self._lines: array[int] | None = None  # None: every row of the index
        self._count = 0
        self._cache: OrderedDict[int, _Row] = OrderedDict()
        self._cache_rows = cache_rows
        self._colors: Colors = LIGHT
        self._qcolors: dict[str, QColor] = {}
        self._status_colors: dict[str, QColor] = {}
        self._cache_colors()
        self._bold = QFont()
        self._bold.setBold(True)

    # -- what is shown ---------------------------------------------------------------------------------

    def show_all(self, index: LineIndex | None, rows: int) -> None:
        """Every row of ``index``, the first ``rows`` of them known so far."""
        self.beginResetModel()
        if index is not self.index_:
            self._cache.clear()
        self.index_, self._lines, self._count = index, None, rows if index is not None else 0
        self.endResetModel()

    def show_lines(self, index: LineIndex, lines: Sequence[int] = ()) -> None:
        """Only ``lines`` (ascending line numbers of ``index``); more come with ``add_lines``."""
        self.beginResetModel()
        if index is not self.index_:
            self._cache.clear()
        self.index_, self._lines = index, array("Q", lines)
        self._count = len(self._lines)
        self.endResetModel()

    @property
    def showing_all(self) -> bool:
        return self._lines is None

    def grow_to(self, rows: int) -> None:
        """The index has ``rows`` rows now (every-row view only)."""
        if self._lines is None and rows > self._count:
            self.beginInsertRows(QModelIndex(), self._count, rows - 1)
            self._count = rows
            self.endInsertRows()

    def add_lines(self, lines: Sequence[int]) -> None:
        if self._lines is None or not len(lines):
            return
        self.beginInsertRows(QModelIndex(), self._count, self._count + len(lines) - 1)
        self._lines.extend(lines)
        self._count = len(self._lines)
        self.endInsertRows()

    def line_of(self, row: int) -> int:
        if self._lines is not None:
            return self._lines[row]
        assert self.index_ is not None
        return self.index_.row_line(row)

    def row_of_line(self, line: int) -> int | None:
        """The row showing ``line``, if it is shown."""
        if self.index_ is None:
            return None
        if self._lines is not None:
            at = bisect_left(self._lines, line)
            return at if at < self._count and self._lines[at] == line else None
        rows = self.index_.rows
        if rows is None:
            return line if line < self._count else None
        at = bisect_left(rows, line, 0, self._count)
        return at if at < self._count and rows[at] == line else None

    def shown_lines(self) -> tuple[bytes | None, int]:
        """What an export of the rows shown needs: the lines a filter matched (as bytes of an
        ``array('Q')``), or None and how many of the index's rows are shown."""
        if self._lines is not None:
            return self._lines.tobytes(), self._count
        return None, self._count

    def entry(self, row: int) -> _Row:
        """The row's line, read and parsed (kept for the next few thousand rows asked for)."""
        line = self.line_of(row)
        cached = self._cache.get(line)
        if cached is not None:
            self._cache.move_to_end(line)
            return cached
        assert self.index_ is not None
        problem: str | None
        try:
            raw = self.index_.read_line(line)
        except OSError as exc:
            event, problem, raw = None, f"could not be read: {exc.strerror or exc}", b""
        else:
            event, problem = parse_line(raw)
        cached = _Row(event, problem, raw, row_cells(event, problem, line + 1))
        self._cache[line] = cached
        if len(self._cache) > self._cache_rows:
            self._cache.popitem(last=False)
        return cached

    def event_json(self, row: int) -> str:
        """The row as the JSON pane shows it: the event indented, or why the line is unreadable and the
        line itself."""
        entry = self.entry(row)
        if entry.event is not None:
            return json.dumps(entry.event, indent=2, ensure_ascii=False)
        text = entry.raw[:20_000].decode("utf-8", "replace")
        return f"Line {self.line_of(row) + 1} cannot be used: {entry.problem}\n\nAs written:\n{text}"

    def _cache_colors(self) -> None:
        c = self._colors
        self._qcolors = {name: QColor(getattr(c, name)) for name in ("buy", "sell", "error", "muted")}
        self._status_colors = {status: status_color(c, status) for status in
                               ("Pending", "Submitted", "PartiallyFilled", "Filled", "Cancelled", "Error")}

    def set_colors(self, colors: Colors) -> None:
        self._colors = colors
        self._cache_colors()
        if self._count:
            self.dataChanged.emit(self.index(0, 0), self.index(self._count - 1, len(COLUMNS) - 1),
                                  [Qt.ItemDataRole.ForegroundRole])

    # -- Qt ----------------------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        # Called for every role of every cell painted: unasked-for roles leave at once, the rest is cached.
        if role not in _HANDLED:
            return None
        row = index.row()
        if row < 0 or row >= self._count:
            return None
        col = index.column()
        if role == DISPLAY:
            return self.entry(row).cells[col]
        if role == ALIGNMENT:
            return _ALIGNMENTS[col]
        if role == FOREGROUND:
            event = self.entry(row).event
            if event is None:
                return self._qcolors["error"]
            if col == SIDE:
                return self._qcolors["buy" if event.get("action") == "BUY" else "sell"]
            if col == STATUS:
                return self._status_colors.get(str(event.get("status") or ""), self._qcolors["muted"])
            return self._qcolors["error"] if col == EVENT and event.get("event_type") == "ERROR" else None
        if role == FONT:
            if col != EVENT:
                return None
            event = self.entry(row).event
            return self._bold if event is None or event.get("event_type") in ("FILL", "ERROR") else None
        if role == TOOLTIP:
            return self.entry(row).cells[col] if col == MESSAGE else None
        return self.entry(row).event  # UserRole
