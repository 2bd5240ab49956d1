"""The log viewer dock: the folder's days, one day's events in a table, filters, an order's history, the
day's summary, unreadable lines, export.

All reading through the file happens in a worker process (``logview.worker``): indexing the day,
filtering, checking every line for the summary and the unreadable-line count, following a file that
grows, the day list's counts, exports. Their results come back to this thread through a queued signal, a
small batch at a time, so typing in a filter or scrolling never waits for the file. This thread only reads
the rows it shows (one ``pread`` and one parse each), from its copy of the day's line index.

The panel is what happens when the trader uses it: opening a day, filtering, an order's history. Its
widgets are ``logview_layout``'s, the jobs and their bookkeeping ``logview_jobs``'s, the day list
``logview_days``'s, its dialogs ``dialogs/logview.py``'s.
"""

from __future__ import annotations

import contextlib
import os
from datetime import date
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QTreeWidgetItem, QWidget

from ...core import format as fmt
from ...core.logreader import LOG_NAME, log_path
from ...logview.check import MAX_BAD_LISTED, CheckProgress
from ...logview.days import DayStats, day_title
from ...logview.filters import FilterProgress, FilterSpec
from ...logview.index import FileChanged, IndexProgress, LineIndex
from ..dialogs.logview import BadLinesDialog, HistoryDialog, choose_export_file
from ..theme import Colors
from .logview_days import DayList
from .logview_jobs import LogJobs
from .logview_layout import LogViewLayout

FILTER_DELAY_MS = 150  # typing pauses this long before a filter runs
DAYS_REFRESH_MS = 5000  # the day list looks for new days and sizes while the viewer is shown


class LogViewPanel(LogViewLayout):
    """The log viewer. ``set_folder`` then ``open_day``; everything else follows the trader's clicks."""

    message = Signal(str)  # one line for the status bar (export done, a day that cannot be opened)
    dayOpened = Signal(object)  # the date

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder: Path | None = None
        self.day: date | None = None  # the open day, and its index
        self.index: LineIndex | None = None
        self._spec = FilterSpec()
        self.active = False
        self.jobs = LogJobs(self)
        self.jobs.message.connect(self.message)
        self.jobs.changed.connect(self._update_labels)
        self.folder_days = DayList(self.days, self.jobs, self)
        self._filter_timer = QTimer(self, singleShot=True, interval=FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.apply_filter)
        self._days_timer = QTimer(self, interval=DAYS_REFRESH_MS)
        self._days_timer.timeout.connect(self.refresh_days)
        self._connect()
        self._update_labels()

    def _connect(self) -> None:
        self.days.itemActivated.connect(self._day_clicked)
        self.days.itemClicked.connect(self._day_clicked)
        self.refresh_button.clicked.connect(self.refresh_days)
        self.type_filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        for edit in (self.symbol_filter, self.order_filter, self.text_filter):
            edit.textChanged.connect(lambda _t: self._filter_timer.start())
            edit.returnPressed.connect(self.apply_filter)
        self.clear_button.clicked.connect(self.clear_filters)
        self.bad_button.clicked.connect(self.show_bad_lines)
        self.history_button.clicked.connect(lambda: self.show_history())
        self.export_button.clicked.connect(lambda: choose_export_file(self, self.day, self.export_to))
        self.stop_button.clicked.connect(self.stop)
        self.view.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.view.table.doubleClicked.connect(lambda _i: self.show_history())

    def set_colors(self, colors: Colors) -> None:
        self.colors = colors
        self.model.set_colors(colors)
        self._update_labels()

    def shutdown(self) -> None:
        """Stop every job and the worker process (the window is closing)."""
        self._filter_timer.stop()
        self._days_timer.stop()
        self.jobs.shutdown()
        self.folder_days.stop_counting()

    @property
    def busy(self) -> bool:
        """Something is still being read (the day, a filter, the check)."""
        return self.jobs.busy

    @property
    def settled(self) -> bool:
        """The open day is indexed, filtered and checked up to the end of the file as it is now."""
        return self.index is not None and not self.busy

    # -- the folder and its days ----------------------------------------------------------------------

    def set_folder(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.show_folder(self.folder)
        self.refresh_days()

    def refresh_days(self) -> None:
        """List the folder's days again (new days, new sizes); counts come as each day is read."""
        if self.folder is None:
            return
        self.folder_days.show(self.folder, self.day)
        if self.active:
            self.folder_days.count(self.index.path if self.index is not None else None)

    def day_list(self) -> list[date]:
        return self.folder_days.dates()

    def stats_for(self, day: date) -> DayStats | None:
        return self.folder_days.stats_for(day)

    def set_active(self, active: bool) -> None:
        """Whether the viewer is on screen (the window calls this as its tab comes and goes). While it is,
        the day list is kept fresh and the days' counts are read; while not, only the open day is."""
        self.active = active
        if active:
            self._days_timer.start()
            self.refresh_days()
            self._open_today()
        else:
            self._days_timer.stop()
            self.folder_days.stop_counting()

    def _open_today(self) -> None:
        """Shown with no day open: today's, if it has a log (the day a trader looks at first)."""
        if self.day is None and self.index is None and self.folder is not None:
            today = date.today()
            if log_path(self.folder, today).exists():
                self.open_day(today)

    # -- opening a day ---------------------------------------------------------------------------------

    def _day_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        day = item.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(day, date) and (day != self.day or self.jobs.stopped):
            self.open_day(day)

    def open_day(self, day: date) -> bool:
        """Open ``day`` of the folder; False (and a message saying why) when it cannot be opened."""
        if self.folder is None:
            return False
        return self.open_file(log_path(self.folder, day))

    def open_file(self, path: Path) -> bool:
        """Open a day file (named ``orders-YYYY-MM-DD.jsonl`` for its day to be known)."""
        match = LOG_NAME.match(path.name)
        try:
            day = date.fromisoformat(match.group(1)) if match else None
        except ValueError:
            day = None
        self._close_day()
        self.day = day
        self.folder_days.select(day)
        try:
            index = LineIndex(path)
        except OSError as exc:
            text = (f"No order log for {day_title(day)} in {path.parent}" if day and not path.exists()
                    else str(exc.strerror or exc))
            self.title.setText(text)
            self.message.emit(text)
            self._update_labels()
            return False
        self._start(index)
        self.dayOpened.emit(day)
        return True

    def _start(self, index: LineIndex) -> None:
        self.index = index
        self.view.follow_bottom = False
        self.model.show_all(index, 0)
        self.folder_days.forget(index.path)  # the open day's check counts it now
        self.jobs.open_day(index, self._on_index, self._index_failed, self._on_check)
        self._spec = FilterSpec()
        self.apply_filter()
        self._update_labels()

    def _close_day(self) -> None:
        self.jobs.close_day(self.index is not None)
        self.index = None
        self.model.show_all(None, 0)

    def stop(self) -> None:
        """Stop reading the day (and following it) and any export; what was read stays on screen."""
        self.jobs.stop()
        self._update_labels()
        self.message.emit("Stopped reading the order log; click the day to read it again")

    def _on_index(self, token: int, progress: IndexProgress) -> None:
        if token != self.jobs.token or self.index is None:
            return
        try:
            self.index.absorb(progress)
        except FileChanged as exc:
            self._index_failed(token, exc)
            return
        first = self.jobs.progress is None
        self.jobs.progress = progress
        if self.model.showing_all:
            self.model.grow_to(progress.rows)
        if first and progress.rows and self.view.current_row() is None and self.model.showing_all:
            self.view.table.setCurrentIndex(self.model.index(0, 0))
        if progress.caught_up:
            self.view.follow_bottom = True
        self._update_labels()

    def _index_failed(self, token: int, exc: BaseException) -> None:
        if token != self.jobs.token:
            return
        if isinstance(exc, FileChanged) and self.index is not None:
            self.message.emit(f"{exc}; reading it again")
            self.open_file(self.index.path)
            return
        self.jobs.failed("index", exc)

    def _on_check(self, token: int, progress: CheckProgress) -> None:
        if token != self.jobs.token or self.index is None:
            return
        self.jobs.check = progress
        self.jobs.bad.extend(progress.new_bad)
        if progress.caught_up and self.jobs.progress is not None:
            index = self.index
            with contextlib.suppress(OSError):
                info = os.fstat(index.fd)
                self.folder_days.record(index.path, DayStats(info.st_size, info.st_mtime_ns, progress.events,
                                                             progress.bad + (1 if index.unfinished else 0),
                                                             progress.summary), self.day)
        self._update_labels()

    # -- filters ---------------------------------------------------------------------------------------

    def set_filter(self, event_type: str = "", symbol: str = "", order: str = "", text: str = "") -> None:
        """Set every filter at once and apply them now (no typing delay)."""
        self.show_filter(event_type, symbol, order, text)
        self.apply_filter()

    def clear_filters(self) -> None:
        self.set_filter()

    def apply_filter(self) -> None:
        self._filter_timer.stop()
        spec = self.filter_spec()
        if spec == self._spec and (self.jobs.filter_job is not None or spec.is_empty):
            return
        self._spec = spec
        self.jobs.cancel_filter()
        index = self.index
        if index is None:
            self._update_labels()
            return
        selected = self._selected_line()
        if spec.is_empty:
            progress = self.jobs.progress
            self.model.show_all(index, progress.rows if progress else 0)
            if selected is not None:
                row = self.model.row_of_line(selected)
                if row is not None:
                    self.view.select_row(row)  # back to the row in its context
        else:
            self.model.show_lines(index)
            self.jobs.start_filter(spec, self._on_filter)
        self._update_labels()

    def _on_filter(self, token: int, filter_token: int, progress: FilterProgress) -> None:
        if token != self.jobs.token or filter_token != self.jobs.filter_token:
            return
        self.model.add_lines(progress.matches)
        self.jobs.filter_scanned = progress.scanned
        self.jobs.filter_done = progress.caught_up
        self._update_labels()

    def _selected_line(self) -> int | None:
        row = self.view.current_row()
        return self.model.line_of(row) if row is not None and self.index is not None else None

    def select_line(self, line: int) -> bool:
        """Select the row of file line ``line`` (from 0) if the table shows it."""
        row = self.model.row_of_line(line)
        if row is None:
            return False
        self.view.select_row(row)
        return True

    def _update_labels(self) -> None:
        self.show_state(self.index, self.day, self.jobs)

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        event = self.model.entry(current.row()).event if current.isValid() else None
        self.history_button.setEnabled(event is not None and event.get("order_id") is not None)

    # -- history, unreadable lines, export ----------------------------------------------------------

    def show_history(self, row: int | None = None) -> HistoryDialog | None:
        """Open the history of the order of ``row`` (default: the selected row)."""
        row = self.view.current_row() if row is None else row
        if row is None or self.index is None:
            return None
        event = self.model.entry(row).event
        if not event or event.get("order_id") is None:
            return None
        order_id = event["order_id"]
        ref = event.get("order_ref") or None
        spec = FilterSpec(order=str(order_id), same_ref=ref)
        parts = [f"Order {order_id}", str(event.get("symbol") or ""), str(event.get("action") or ""),
                 fmt.qty(event.get("quantity")) if event.get("quantity") is not None else ""]
        title = " ".join(p for p in parts if p) + (f" · {ref}" if ref else "")
        if self.day is not None:
            title += f" · {day_title(self.day)}"
        dialog = HistoryDialog(self, self.jobs, self.index, spec, title, self.colors)
        dialog.show()
        return dialog

    def show_bad_lines(self) -> BadLinesDialog | None:
        if self.index is None:
            return None
        count = (self.jobs.check.bad if self.jobs.check else 0)
        dialog = BadLinesDialog(self, self.index.path, self.jobs.bad[:MAX_BAD_LISTED], count, self.index.unfinished)
        dialog.lineChosen.connect(self._find_line)
        dialog.show()
        return dialog

    def _find_line(self, line: int) -> None:
        if not self.select_line(line):
            self.clear_filters()
            self.select_line(line)

    def export_to(self, path: Path, kind: str) -> int | None:
        """Export the rows shown (after the filters) as "csv" or "jsonl" in the background; ``message``
        says when it is done."""
        if self.index is None:
            return None
        lines, count = self.model.shown_lines()
        job = self.jobs.export(lines, count, path, kind)
        self._update_labels()
        return job
