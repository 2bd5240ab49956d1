"""Reading a day back from the order log that writes it: the file, and the lines still owed to the disk
(a degraded log keeps them in memory, in order). A mixin of ``OrderLogger`` (its state is the logger's)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .logreader import LogDay, log_path, parse_line, parse_lines, scan_day, summarize


class LogReading:
    log_dir: Path
    log_to_file: bool
    _now: Callable[[], datetime]
    _lock: threading.Lock
    _memory: list[bytes]
    _memory_day: date | None
    _owed: Any  # deque of the writer's lines (day, data) still owed to the disk

    def read_day(self, day: date | None = None) -> LogDay:
        """A day's events through the one tolerant reader, including lines still owed to the disk."""
        events: list[dict[str, Any]] = []
        result = self.scan_day(events.append, day)
        result.events = events
        return result

    def scan_day(self, on_event: Callable[[dict[str, Any]], Any], day: date | None = None) -> LogDay:
        """``read_day`` as a stream (``logreader.scan_day``): each event goes to ``on_event``, the lines still
        owed to the disk last, and the LogDay returned holds no events. The lock is held only to note where
        the file ends and what is owed (a flush cannot move a line from memory to the file unseen), not while
        a big day is read: this session's writes never wait for that."""
        day = day or self._now().date()
        path = log_path(self.log_dir, day)
        if not self.log_to_file:
            with self._lock:
                raw = b"".join(self._memory) if day == self._memory_day else b""
            result = parse_lines(raw, day, path)
            for event in result.events:
                on_event(event)
            result.events = []
            return result
        with self._lock:
            owed = [line.data for line in self._owed if line.day == day]
            try:
                end: int | None = os.stat(path, follow_symlinks=False).st_size
            except OSError:
                end = None  # the reader says why, if it matters
        result = scan_day(self.log_dir, day, on_event, limit=end)
        for data in owed:
            owed_event, _ = parse_line(data.rstrip(b"\n"))
            if owed_event is not None:
                on_event(owed_event)
        return result

    def get_order_history(self, order_id: int, day: date | None = None) -> list[dict[str, Any]]:
        return self.read_day(day).for_order(order_id)

    def get_todays_summary(self) -> dict[str, int | float]:
        return summarize(self.read_day().events)


