"""The log viewer's reading, in a process of its own (``python -m ibticket.logview.worker``).

Why a process and not a thread: reading a big day is Python work (a million lines to split, check and sum
up), and while a thread of the window's process does it, it holds the GIL. Every call from Qt into Python
(each cell the table paints, each event of the qasync loop the trading runs on) must then wait for the GIL
to be handed over, about 5 ms each: a paint of the table's few hundred cells took up to a second. A
process has its own GIL, so the window's thread only ever waits for the small messages it reads.

The window (``RemoteWorker``) sends commands down a pipe; the process runs each as a job of its
``logview.jobs.Worker`` and sends the jobs' reports back, each message a pickle framed by its length. It
keeps its own index of each open day; the window keeps a copy (``LineIndex.absorb``) to read the rows it
shows. The process ends when the window closes its end of the pipe.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from array import array
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO, Any

from .check import check_job
from .days import stats_job
from .filters import filter_job
from .index import FileChanged, LineIndex, Steps, index_job
from .jobs import CHECK, EXPORT, FILTER, INDEX, STATS, Job, Worker
from .rows import export_job

log = logging.getLogger(__name__)

FRAME = struct.Struct("!I")
NICE = 10
# How a frozen bundle (no ``python -m``) starts this process: the app's own executable with this flag.
WORKER_FLAG = "--logview-worker"
MAX_FRAME = 1 << 30


def send_frame(out: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=5)
    out.write(FRAME.pack(len(data)) + data)
    out.flush()


def read_frame(stream: IO[bytes]) -> Any | None:
    """The next message, or None at the end of the stream."""
    header = stream.read(FRAME.size)
    if len(header) < FRAME.size:
        return None
    (size,) = FRAME.unpack(header)
    if size > MAX_FRAME:
        raise ValueError(f"a message of {size} bytes is not one of ours")
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)  # only ever from the other end of our own pipe


# -- the process ----------------------------------------------------------------------------------------


class _Server:
    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.worker = Worker(name="ibticket-logview-worker")
        self.indexes: dict[int, LineIndex] = {}
        self.jobs: dict[int, Job] = {}

    def send(self, message: Any) -> None:
        with self.lock:
            send_frame(self.out, message)

    def handle(self, message: tuple[Any, ...]) -> None:
        op = message[0]
        if op == "cancel":
            self.worker.cancel(*(self.jobs.pop(job_id, None) for job_id in message[1]))
            return
        if op == "close":
            self.indexes.pop(message[1], None)
            return
        job_id = message[1]
        try:
            priority, steps = self._job(op, job_id, *message[2:])
        except Exception as exc:
            self._failed(job_id, exc)
            return
        self.jobs[job_id] = self.worker.submit(op, priority, self._finishing(job_id, steps),
                                               on_error=lambda exc: self._failed(job_id, exc))

    def _job(self, op: str, job_id: int, *args: Any) -> tuple[int, Steps]:
        def report(*values: Any) -> None:
            self.send(("report", job_id, values))

        if op == "index":
            key, path = args
            index = LineIndex(Path(path))
            self.indexes[key] = index
            return INDEX, index_job(index, report)
        if op == "filter":
            key, spec, follow = args
            return FILTER, filter_job(self.indexes[key], spec, report, follow)
        if op == "check":
            (key,) = args
            return CHECK, check_job(self.indexes[key], report)
        if op == "stats":
            day, follow = args
            return STATS, stats_job(day, report, follow)
        if op == "export":
            key, lines, count, path, kind = args
            index = self.indexes[key]
            if lines is None:  # every row the window showed
                lines = index.rows[:count] if index.rows is not None else range(count)
            else:
                lines = array("Q", lines)
            return EXPORT, export_job(index, lines, Path(path), kind, report)
        raise ValueError(f"unknown log viewer command {op!r}")

    def _finishing(self, job_id: int, steps: Steps) -> Steps:
        yield from steps
        self.jobs.pop(job_id, None)
        self.send(("finished", job_id))

    def _failed(self, job_id: int, exc: BaseException) -> None:
        self.jobs.pop(job_id, None)
        kind = "FileChanged" if isinstance(exc, FileChanged) else "OSError" if isinstance(exc, OSError) else "Error"
        text = (getattr(exc, "strerror", None) or str(exc)) if kind == "OSError" else str(exc)
        self.send(("failed", job_id, kind, text))


def serve(inp: IO[bytes], out: IO[bytes]) -> None:
    server = _Server(out)
    try:
        while (message := read_frame(inp)) is not None and message[0] != "quit":
            server.handle(message)
    finally:
        server.worker.stop()


def main() -> None:
    # Ctrl+C in the terminal goes to the whole process group: the window decides when this one ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Background reading yields the CPU to the window (and to the trading it runs) when both want it.
    with contextlib.suppress(OSError, AttributeError):
        os.nice(NICE)
    with contextlib.suppress(BrokenPipeError):
        serve(sys.stdin.buffer, sys.stdout.buffer)


# -- the window's end -------------------------------------------------------------------------------------


class RemoteWorker:
    """Runs the log viewer's jobs in a worker process. ``post`` carries a call to the window's thread;
    every report and failure is handed over through it, so the handlers run there. A cancelled job's
    late reports are dropped."""

    def __init__(self, post: Callable[[Callable[[], None]], None]) -> None:
        self._post = post
        self._ids = itertools.count(1)
        self._handlers: dict[int, tuple[Callable[..., None], Callable[[BaseException], None] | None]] = {}
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        command = ([sys.executable, WORKER_FLAG] if getattr(sys, "frozen", False)
                   else [sys.executable, "-m", "ibticket.logview.worker"])
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True,
        )
        self._write_lock = threading.Lock()
        self.lost: str | None = None
        self._reader = threading.Thread(target=self._read, name="ibticket-logview-reader", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self.lost is None and self._process.poll() is None

    def submit(self, op: str, *args: Any, on_report: Callable[..., None],
               on_error: Callable[[BaseException], None] | None = None) -> int:
        job_id = next(self._ids)
        self._handlers[job_id] = (on_report, on_error)
        self._send((op, job_id, *args))
        return job_id

    def cancel(self, *job_ids: int | None) -> None:
        ids = [j for j in job_ids if j is not None and self._handlers.pop(j, None) is not None]
        if ids:
            self._send(("cancel", ids))

    def close_index(self, key: int) -> None:
        self._send(("close", key))

    def stop(self, timeout: float = 2.0) -> None:
        """End the process, and return only once the reader thread has: nothing is posted after this, so
        what ``post`` hands calls through (a panel's QObject) may go as soon as it returns."""
        self._handlers.clear()
        with contextlib.suppress(OSError, ValueError):
            self._send(("quit",))
        with contextlib.suppress(OSError, ValueError):
            assert self._process.stdin is not None
            self._process.stdin.close()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout)
        # The process is gone, so the reader meets the end of the pipe; it posts once more and ends.
        if self._reader is not threading.current_thread():
            self._reader.join(timeout)
            if self._reader.is_alive():
                log.warning("the log viewer's reader thread did not end within %s s", timeout)
        if self._process.stdout is not None and not self._reader.is_alive():
            self._process.stdout.close()

    def _send(self, message: Any) -> None:
        if self.lost is not None:
            raise OSError(self.lost)
        assert self._process.stdin is not None
        try:
            with self._write_lock:
                send_frame(self._process.stdin, message)
        except (BrokenPipeError, ValueError) as exc:
            self.lost = f"the log viewer's reader stopped ({exc})"
            raise OSError(self.lost) from None

    def _read(self) -> None:
        stream = self._process.stdout
        assert stream is not None
        try:
            while (message := read_frame(stream)) is not None:
                self._post(partial(self._dispatch, message))
        except (OSError, ValueError, pickle.UnpicklingError) as exc:
            reason = f"the log viewer's reader sent something unreadable ({exc})"
        else:
            reason = "the log viewer's reader stopped"
        self._post(lambda: self._gone(reason))

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        kind, job_id = message[0], message[1]
        handlers = self._handlers.get(job_id)
        if handlers is None:
            return  # cancelled meanwhile
        on_report, on_error = handlers
        if kind == "report":
            on_report(*message[2])
        elif kind == "finished":
            self._handlers.pop(job_id, None)
        elif kind == "failed":
            self._handlers.pop(job_id, None)
            exc_kind, text = message[2], message[3]
            exc: BaseException = FileChanged(text) if exc_kind == "FileChanged" else OSError(text)
            if on_error is not None:
                on_error(exc)

    def _gone(self, reason: str) -> None:
        if self._handlers and self._process.poll() is not None:
            reason += f" (exit status {self._process.returncode})"
        self.lost = self.lost or reason
        handlers, self._handlers = self._handlers, {}
        for _on_report, on_error in handlers.values():
            if on_error is not None:
                on_error(OSError(self.lost))


if __name__ == "__main__":
    main()
