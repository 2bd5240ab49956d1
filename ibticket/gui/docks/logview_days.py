"""The log viewer's day list: the folder's day files with their size, events and orders.

The counts come from reading each day through in the worker process, behind everything else; today's
file is followed (it grows while the window trades), another day is read again only if it changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from ...logview.days import DayFile, DayStats, day_title, human_size, list_days, summary_text
from .logview_jobs import LogJobs

log = logging.getLogger(__name__)


class DayList(QObject):
    """What ``tree`` lists: the folder's days, newest first, and what is known of each."""

    def __init__(self, tree: QTreeWidget, jobs: LogJobs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tree = tree
        self._jobs = jobs
        self._days: list[DayFile] = []
        self._stats: dict[Path, DayStats] = {}
        self._stats_jobs: dict[Path, int | None] = {}

    def dates(self) -> list[date]:
        return [d.day for d in self._days]

    def stats_for(self, day: date) -> DayStats | None:
        for d in self._days:
            if d.day == day:
                return self._stats.get(d.path)
        return None

    def show(self, folder: Path, current: date | None) -> None:
        """List the folder's days again (new days, new sizes); ``current`` is the open day."""
        days = list_days(folder)
        tree = self.tree
        if [d.path for d in days] == [d.path for d in self._days] and tree.topLevelItemCount() == len(days):
            # The same days: only sizes and counts change; the list keeps its selection and scroll.
            self._days = days
            for day, item in zip(days, self._items(), strict=True):
                item.setText(1, human_size(day.size))
                self._show_stats(item, day)
        else:
            self._days = days
            tree.clear()
            for day in days:
                item = QTreeWidgetItem([day_title(day.day), human_size(day.size), "…", "…"])
                item.setData(0, Qt.ItemDataRole.UserRole, day.day)
                for col in (1, 2, 3):
                    item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                tree.addTopLevelItem(item)
                self._show_stats(item, day)
                if day.day == current:
                    tree.setCurrentItem(item)
            if not days:
                placeholder = QTreeWidgetItem(["No day files yet"])
                placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
                tree.addTopLevelItem(placeholder)

    def _items(self) -> Iterator[QTreeWidgetItem]:
        """The list's rows, in order (a row below topLevelItemCount() always has its item)."""
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            if item is not None:
                yield item

    def select(self, day: date | None) -> None:
        for item in self._items():
            if day is not None and item.data(0, Qt.ItemDataRole.UserRole) == day:
                self.tree.setCurrentItem(item)

    def record(self, path: Path, stats: DayStats, day: date | None) -> None:
        """The open day's own check has read it through: its counts, without reading it again."""
        self._stats[path] = stats
        if day is not None:
            self.update_item(day)

    def update_item(self, day: date) -> None:
        for item in self._items():
            if item.data(0, Qt.ItemDataRole.UserRole) == day:
                for d in self._days:
                    if d.day == day:
                        self._show_stats(item, d)

    def _valid_stats(self, day: DayFile) -> DayStats | None:
        stats = self._stats.get(day.path)
        return stats if stats is not None and (stats.size, stats.mtime_ns) == (day.size, day.mtime_ns) else None

    def _show_stats(self, item: QTreeWidgetItem, day: DayFile) -> None:
        item.setToolTip(0, str(day.path))
        stats = self._stats.get(day.path)
        if stats is None:
            return
        item.setText(2, f"{stats.events:,}" + (" ⚠" if stats.bad else ""))
        item.setText(3, f"{stats.orders:,}")
        tip = summary_text(stats.summary) if stats.summary else ""
        if stats.bad:
            tip += f"\n{stats.bad:,} unreadable line{'s' if stats.bad != 1 else ''}"
        for col in range(4):
            item.setToolTip(col, f"{day.path}\n{tip}".strip())

    # -- counting ----------------------------------------------------------------------------------------

    def count(self, open_path: Path | None) -> None:
        """Read the days whose counts are not known yet, newest first, behind everything else. Today's
        file is followed (it grows while the window trades); another day is read again if it changed.
        ``open_path``: the open day, which its own check counts."""
        today = date.today()
        for day in self._days:
            if day.path in self._stats_jobs:
                continue
            if open_path is not None and day.path == open_path:
                continue  # the open day's check counts it
            follow = day.day == today
            if not follow and self._valid_stats(day) is not None:
                continue
            self._stats_jobs[day.path] = self._jobs.run("stats", day, follow, on_report=self._on_stats,
                                                        on_error=partial(self._stats_failed, day))

    def forget(self, path: Path) -> None:
        """Stop counting the day at ``path`` (it is being opened: its check counts it)."""
        self._jobs.cancel(self._stats_jobs.pop(path, None))

    def stop_counting(self) -> None:
        self._jobs.cancel(*self._stats_jobs.values())
        self._stats_jobs.clear()

    def _on_stats(self, day: DayFile, stats: DayStats | str) -> None:
        if day.day != date.today():
            self._stats_jobs.pop(day.path, None)  # done (today's job goes on following the file)
        if isinstance(stats, str):
            self._stats_jobs.pop(day.path, None)
            log.info("order log viewer: cannot count %s: %s", day.path, stats)
            return
        self._stats[day.path] = stats
        self.update_item(day.day)

    def _stats_failed(self, day: DayFile, exc: BaseException) -> None:
        # The day list's counts are a convenience: say nothing in the status bar, count again later.
        self._stats_jobs.pop(day.path, None)
        log.info("order log viewer: could not count %s: %s", day.path, exc)
