"""The order log folder's day files, and what the day list says of each once it is read through (its counts,
and the words for a day, its size and its summary); Qt-free."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..core import format as fmt
from ..core.logreader import LOG_NAME
from .check import CheckState
from .index import IDLE, WORKED, FileChanged, LineIndex, Steps


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def day_title(day: date) -> str:
    return day.strftime("%a %d %b %Y")


def summary_text(summary: dict[str, int | float]) -> str:
    s = summary
    return (f"{s['total_orders']:,} orders: {s['filled_orders']:,} filled, {s['cancelled_orders']:,} cancelled, "
            f"{s['error_orders']:,} in error · {s['total_fills']:,} fills ({s['partial_fills']:,} partial, "
            f"{s['complete_fills']:,} complete) · traded {fmt.money(float(s['traded_value']))} · "
            f"commission {fmt.money(float(s['commission']))}")


@dataclass
class DayFile:
    day: date
    path: Path
    size: int
    mtime_ns: int
    stats: DayStats | None = None


@dataclass
class DayStats:
    """What the day list shows about a day once it has been read through."""

    size: int
    mtime_ns: int
    events: int
    bad: int
    summary: dict[str, int | float] = field(default_factory=dict)

    @property
    def orders(self) -> int:
        return int(self.summary.get("total_orders", 0))


def list_days(folder: Path) -> list[DayFile]:
    """The folder's day files, newest first (a name that is not a real date is left out)."""
    days = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = LOG_NAME.match(entry.name)
        if not match:
            continue
        try:
            day = date.fromisoformat(match.group(1))
            info = entry.stat(follow_symlinks=False)
        except (ValueError, OSError):
            continue
        if stat.S_ISREG(info.st_mode):
            days.append(DayFile(day, Path(entry.path), info.st_size, info.st_mtime_ns))
    return sorted(days, key=lambda d: d.day, reverse=True)


def stats_job(day: DayFile, report: Callable[[DayFile, DayStats | str], None],
              follow: bool = False) -> Steps:
    """Read a whole day file for the day list: its events, unreadable lines and summary. ``follow``: then
    keep reading what is appended (today's file), reporting again each time it has caught up."""
    try:
        index = LineIndex(day.path)
        state = CheckState()
        reported: tuple[int, int] | None = None
        while True:
            index.step()
            if index.scanned < index.size:
                yield WORKED  # more of the file to index
            elif state.checked < index.line_count:
                state.check(index, index.chunk_end(state.checked))
                yield WORKED
            else:
                if (index.size, state.checked) != reported:
                    reported = (index.size, state.checked)
                    bad = state.bad + (1 if index.unfinished else 0)  # no end: torn (as read_day says)
                    report(day, DayStats(index.size, os.fstat(index.fd).st_mtime_ns, state.events, bad,
                                         state.summary.result()))
                if not follow:
                    return
                index.check_same_file()
                yield IDLE
    except (OSError, FileChanged) as exc:
        report(day, str(getattr(exc, "strerror", None) or exc))
