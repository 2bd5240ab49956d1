"""The log viewer's job control: its worker process (``logview.worker``), the jobs it runs on the open day
and how far each has got.

The worker process is started on first use and again if it stopped. Its reports come back to this thread
through a queued signal, a small batch at a time, to the handler each job was given. A token makes the
reports of an earlier day (or an earlier filter) stale: the handlers compare it with ``token``.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal

from ...core.logreader import BadLine
from ...logview.check import CheckProgress
from ...logview.filters import FilterSpec
from ...logview.index import IndexProgress, LineIndex
from ...logview.worker import RemoteWorker

log = logging.getLogger(__name__)

DOING = {"index": "reading the day", "check": "summing up the day", "filter": "filtering", "export": "exporting"}


class _Relay(QObject):
    """Carries calls from the worker's reader thread to this one (a queued connection).

    It belongs to the application, not to the panel: the thread may post after the panel is gone (a window
    deleted without shutdown()), and posting into a deleted object crashes. A call for a panel that is gone
    is dropped, and that panel's worker stopped; the relay then goes too."""

    call = Signal(object)

    def __init__(self, owner: QObject) -> None:
        super().__init__(QCoreApplication.instance())
        self._owner = weakref.ref(owner)
        self.worker: RemoteWorker | None = None
        self.call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def _run(self, call: Callable[[], None]) -> None:
        owner = self._owner()
        if owner is not None and shiboken6.isValid(owner):
            call()
            return
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop()  # returns once its reader has ended: nothing more is posted here
        self.deleteLater()


class LogJobs(QObject):
    """Runs the viewer's jobs in the worker process and keeps the bookkeeping of the open day's: which run,
    what is indexed, filtered, checked and exported so far."""

    message = Signal(str)  # a job that failed, an export done: one line for the status bar
    changed = Signal()  # the bookkeeping changed in a way the labels show

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker: RemoteWorker | None = None
        self._relay = _Relay(self)
        self.token = 0
        self.filter_token = 0
        self.key = 0  # the open day's index in the worker process
        self.index_job: int | None = None
        self.filter_job: int | None = None
        self.check_job: int | None = None
        self.export_job: int | None = None
        self.export_total = self.export_done = 0
        self.progress: IndexProgress | None = None
        self.filter_scanned = 0
        self.filter_done = True
        self.check: CheckProgress | None = None
        self.bad: list[BadLine] = []
        self.stopped = False

    # -- the worker ----------------------------------------------------------------------------------

    def run(self, op: str, *args: Any, on_report: Callable[..., None],
            on_error: Callable[[BaseException], None] | None = None) -> int | None:
        """Start a job in the worker process (started on first use, and again if it stopped); its reports
        and failure come to the handlers on this thread. None when it could not be started (said why)."""
        if self.worker is not None and not self.worker.alive:
            self._stop_worker()
        try:
            if self.worker is None:
                self.worker = self._relay.worker = RemoteWorker(self._relay.call.emit)
            return self.worker.submit(op, *args, on_report=on_report,
                                      on_error=on_error or partial(self.failed, op))
        except OSError as exc:
            self.failed(op, exc)
            return None

    def cancel(self, *jobs: int | None) -> None:
        if self.worker is not None and self.worker.alive:
            self.worker.cancel(*jobs)

    def failed(self, op: str, exc: BaseException) -> None:
        text = f"Order log viewer: {DOING.get(op, op)} stopped: {getattr(exc, 'strerror', None) or exc}"
        log.warning(text)
        self.message.emit(text)
        self.changed.emit()

    def shutdown(self) -> None:
        """Stop every job and the worker process (the window is closing)."""
        if self.worker is not None:
            self._stop_worker()

    def _stop_worker(self) -> None:
        assert self.worker is not None
        worker, self.worker = self.worker, None
        self._relay.worker = None
        worker.stop()

    # -- the open day ----------------------------------------------------------------------------------

    def open_day(self, index: LineIndex, on_index: Callable[[int, IndexProgress], None],
                 on_index_error: Callable[[int, BaseException], None],
                 on_check: Callable[[int, CheckProgress], None]) -> None:
        """Index and check a day afresh; the handlers get the day's token first."""
        self.token += 1
        token = self.token
        self.stopped = False
        self.progress = None
        self.check = None
        self.bad = []
        self.key = token
        self.index_job = self.run("index", token, str(index.path), on_report=partial(on_index, token),
                                  on_error=partial(on_index_error, token))
        self.check_job = self.run("check", token, on_report=partial(on_check, token))

    def close_day(self, had_index: bool) -> None:
        self.cancel(self.index_job, self.filter_job, self.check_job)
        if had_index and self.worker is not None and self.worker.alive:
            with contextlib.suppress(OSError):
                self.worker.close_index(self.key)
        self.index_job = self.filter_job = self.check_job = None
        self.token += 1

    def stop(self) -> None:
        """Stop reading the day (and following it) and any export."""
        self.cancel(self.index_job, self.filter_job, self.check_job, self.export_job)
        self.index_job = self.filter_job = self.check_job = self.export_job = None
        self.stopped = True
        self.filter_done = True

    def cancel_filter(self) -> None:
        self.cancel(self.filter_job)
        self.filter_job = None
        self.filter_done = True

    def start_filter(self, spec: FilterSpec, on_report: Callable[..., None]) -> None:
        """Filter the open day; ``on_report(token, filter_token, progress)``."""
        self.filter_token += 1
        self.filter_scanned = 0
        self.filter_done = False
        self.filter_job = self.run("filter", self.key, spec, True,
                                   on_report=partial(on_report, self.token, self.filter_token))

    def export(self, lines: bytes | None, count: int, path: Path, kind: str) -> int | None:
        """Write the open day's ``lines`` to ``path`` as "csv" or "jsonl"; ``message`` says when it is done."""
        self.export_total, self.export_done = count, 0
        self.export_job = self.run("export", self.key, lines, count, str(path), kind,
                                   on_report=partial(self._on_export, path),
                                   on_error=partial(self._export_failed, path))
        return self.export_job

    def _on_export(self, path: Path, written: int, left_out: int, done: int, finished: bool) -> None:
        if not finished:
            self.export_done = done
            self.changed.emit()
            return
        self.export_job = None
        note = f" ({left_out:,} unreadable line{'s' if left_out != 1 else ''} left out)" if left_out else ""
        self.message.emit(f"Exported {written:,} event{'s' if written != 1 else ''} to {path}{note}")
        self.changed.emit()

    def _export_failed(self, path: Path, exc: BaseException) -> None:
        self.export_job = None
        self.message.emit(f"Could not export to {path}: {getattr(exc, 'strerror', None) or exc}")
        self.changed.emit()

    # -- how far they have got ---------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Something is still being read (the day, a filter, the check)."""
        return bool(self.working())

    def working(self) -> list[str]:
        working = []
        if self.index_job is not None and not (self.progress and self.progress.caught_up):
            working.append("index")
        if self.filter_job is not None and not self.filter_done:
            working.append("filter")
        if self.export_job is not None:
            working.append("export")
        if self.check_job is not None and not (self.check and self.check.caught_up):
            working.append("check")
        return working

    def state(self, today: bool) -> tuple[str, float | None]:
        """What the progress row says: the work under way and how much of it is done (0 to 1), or only a
        sentence (None) when nothing is. ``today``: the open day is today's, followed as it grows."""
        progress, check = self.progress, self.check
        working = [] if self.stopped else self.working()
        if not working:
            lines = progress.rows if progress else 0
            if self.stopped:
                read = f"{progress.indexed / progress.size:.0%} of the file" if progress and progress.size else "none"
                return f"Stopped: {read} read. Click the day to read it again.", None
            if today:
                return f"All {lines:,} lines read; new events show as they are logged.", None
            return f"All {lines:,} lines read.", None
        if "index" in working:
            done = progress.indexed / progress.size if progress and progress.size else 0.0
            return "Reading the day", done
        if "filter" in working:
            total = progress.lines if progress else 0
            return "Filtering", self.filter_scanned / total if total else 0.0
        if "export" in working:
            return "Exporting", self.export_done / self.export_total if self.export_total else 0.0
        total = progress.lines if progress else 0
        return "Summing up and checking every line", (check.checked / total) if check and total else 0.0
