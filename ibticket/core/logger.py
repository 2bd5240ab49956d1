"""The order log: one JSON object per line, one file per local day.

Every line is handed to the kernel with a single ``write`` on an ``O_APPEND`` descriptor before the call
returns, so a crash of the app loses nothing already logged and can tear at most the last line. A torn
line is fenced off with a newline before the next append, and readers skip and report it.

Two kinds of writes, because an order that has been sent must never be lost or doubled:

- **Write-ahead** (``write_ahead=True``): what the log must hold before an order goes to the broker. If it
  cannot be written, ``OrderLogError`` is raised and the caller sends nothing.
- **After the fact** (everything else: fills, statuses, errors of orders already sent). These never
  raise. A line that cannot be written (disk full, folder gone, permissions) is kept in memory, in order,
  and the log is *degraded*: ``degraded`` / ``last_error`` say so, health callbacks fire, new orders are
  refused (their write-ahead line cannot go before the owed ones), and every later write and every
  ``retry()`` first tries to write what is owed, each line once.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import stat
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from .events import Event
from .logfields import _status_text, order_fields
from .logreader import (
    EVENT_TYPES,
    O_NOFOLLOW,
    O_NONBLOCK,
    log_path,
)
from .logreading import LogReading
from .records import Fill, OrderRecord, OrderStatus
from .validation import OrderValidationError

__all__ = ["EVENT_TYPES", "HealthCallback", "OrderLogError", "OrderLogger", "default_log_dir", "order_fields"]

log = logging.getLogger(__name__)

HealthCallback = Callable[[bool, str], Any]

# One encoder for every line: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(default=str, allow_nan=False)
# Ends a piece of a line whose order was never sent; no JSON object can end with it, so it stays unreadable.
TORN_MARK = b" <torn: not sent>\n"


class OrderLogError(OrderValidationError):
    """The order log cannot be written, so the order was not sent. The message names the folder and
    what to do; nothing reached the broker, so entering the order again once the log is writable is safe."""


def default_log_dir() -> Path:
    from platformdirs import user_log_dir

    return Path(user_log_dir("ibticket", appauthor=False)) / "orders"


@dataclass
class _Line:
    """A line on its way to its day's file. ``sent`` counts bytes already written by a short write."""

    day: date
    data: bytes
    sent: int = 0
    torn_end: int = 0  # the file's size right after that piece


class OrderLogger(LogReading):
    def __init__(
        self,
        log_to_file: bool = True,
        log_dir: str | os.PathLike[str] | None = None,
        log_to_console: bool = True,
        *,
        fsync: bool = False,
        console: TextIO | None = None,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.log_to_file = log_to_file
        self.log_to_console = log_to_console
        self.log_dir = Path(log_dir) if log_dir is not None else default_log_dir()
        self.fsync = fsync  # survive power loss too, at a cost per line; a crash is covered without it
        self._console = console
        self._now = now
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._fd_day: date | None = None
        # The file's size right after our last write to it; any other size means someone else wrote (or a
        # write of ours was short), and only then is the last byte read back for the torn-line fence.
        self._end: int | None = None
        # The file's size right after a piece of a write-ahead line that failed (its order was not sent).
        self._abandoned_end: int | None = None
        # The os.write boundary: tests put a full disk here.
        self._write: Callable[[int, bytes], int] = os.write
        self._owed: deque[_Line] = deque()
        self._degraded = False
        self.last_error: str | None = None
        self._problem = ""
        # (degraded, message) when the log becomes unwritable or writable again.
        self.health_event: Event[[bool, str]] = Event("order log health")
        self._warned_folder = False
        # Today's lines when there is no file; a new day starts a new list.
        self._memory: list[bytes] = []
        self._memory_day: date | None = None
        if log_to_file:
            try:
                self._ensure_dir()
            except OSError as exc:
                # Not fatal here: the first order will be refused with this reason, and a GUI can show it.
                self._failed(exc)

    # -- health --------------------------------------------------------------------------------------

    @property
    def degraded(self) -> bool:
        """True while the log cannot be written: lines are owed, and new orders are refused."""
        return self._degraded

    @property
    def pending_lines(self) -> int:
        """Lines kept in memory until the log can be written again."""
        return len(self._owed)

    def register_health_callback(self, callback: HealthCallback) -> None:
        """``callback(degraded, message)`` on every change between writable and degraded, in the thread
        that noticed it (the broker's loop for the broker's writes)."""
        self.health_event.connect(callback)

    def unregister_health_callback(self, callback: HealthCallback) -> None:
        self.health_event.disconnect(callback)

    def health_message(self) -> str:
        if not self._degraded:
            return f"Order log OK ({self.log_dir})"
        owed = len(self._owed)
        waiting = f"; {owed} line{'s' if owed != 1 else ''} kept in memory until it can be written" if owed else ""
        return f"Order log degraded: {self.last_error}{waiting}. New orders are refused until it can be written."

    def report_unwritable(self, exc: OSError) -> None:
        """Another part found the folder cannot be written (the broker's client-id lock, before any order):
        the log is degraded from now, and the callbacks are told, until a ``retry()`` can open the file."""
        if not self.log_to_file:
            return
        with self._lock:
            was = self._degraded
            self._failed(exc)
        self._announce(was)

    def _failed(self, exc: OSError) -> None:
        self._problem = str(exc.strerror or exc)
        self.last_error = f"cannot write to the order log in {self.log_dir}: {self._problem}"
        self._degraded = True

    def _recovered(self) -> None:
        if not self._owed:
            self._degraded = False

    def _announce(self, was_degraded: bool) -> None:
        """Tell the callbacks about a change; called without the lock held."""
        if self._degraded == was_degraded:
            return
        message = self.health_message() if self._degraded else f"Order log writable again ({self.log_dir})"
        (log.warning if self._degraded else log.info)(message)
        self.health_event.emit(self._degraded, message)

    def retry(self) -> bool:
        """Try again to write what is owed (the broker calls this periodically while degraded). With
        nothing owed, check that today's file can be opened. Returns whether the log is writable."""
        if not self.log_to_file:
            return True
        with self._lock:
            was = self._degraded
            if self._owed:
                self._flush()
            elif self._degraded:
                # Nothing owed: a write-ahead line was refused. Probe without writing to the log.
                try:
                    _check_room(self._open(self._now().date()))
                except OSError as exc:
                    self._failed(exc)
                else:
                    self._recovered()
        self._announce(was)
        return not self._degraded

    # -- the file ------------------------------------------------------------------------------------

    def _ensure_dir(self) -> None:
        """Create missing folders 0700. A folder that already exists is the user's: its mode is left as
        it is (with a warning if others may write to it)."""
        missing = []
        folder = self.log_dir
        while not os.path.lexists(folder) and folder != folder.parent:
            missing.append(folder)
            folder = folder.parent
        for made in reversed(missing):
            try:
                os.mkdir(made, 0o700)
            except FileExistsError:
                continue  # made by someone else meanwhile: not ours to change
            os.chmod(made, 0o700)  # the umask may have taken bits away
        if not self.log_dir.is_dir():
            raise OSError(errno.ENOTDIR, f"{self.log_dir} is not a folder")
        if not missing and not self._warned_folder:
            mode = stat.S_IMODE(os.stat(self.log_dir).st_mode)
            if mode & 0o022:
                self._warned_folder = True
                log.warning("order log folder %s can be written by other users (mode %04o); ibticket leaves "
                            "its mode as you set it", self.log_dir, mode)

    def _open(self, day: date) -> int:
        if self._fd is not None and self._fd_day == day:
            return self._fd
        self._close_fd()
        self._ensure_dir()
        path = log_path(self.log_dir, day)
        if not O_NOFOLLOW and os.path.islink(path):
            raise OSError(errno.ELOOP, _symlink_message(path))
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EMLINK) and os.path.islink(path):
                raise OSError(exc.errno, _symlink_message(path)) from None
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(errno.EINVAL, f"{path} is not a regular file; remove it so a new day file can "
                                            "be made")
            if hasattr(os, "getuid") and info.st_uid != os.getuid():
                raise OSError(errno.EPERM, f"{path} belongs to another user; remove it so a new day file can "
                                           "be made")
            if stat.S_IMODE(info.st_mode) & 0o077:
                os.fchmod(fd, 0o600)  # the day file is ours: private, whatever the umask made of it
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._fd_day, self._end, self._abandoned_end = fd, day, None, None
        return fd

    def _write_line(self, line: _Line) -> None:
        """Append one line to its day's file, or raise OSError with ``line.sent`` saying how much of it
        is already there (a short write: the disk filled up)."""
        fd = self._open(line.day)
        size = os.fstat(fd).st_size
        if line.sent and size != line.torn_end:
            # Someone wrote after our piece. If it lacked only its newline and they ended it, it is whole.
            if line.sent == len(line.data) - 1 and size > line.torn_end and os.pread(fd, 1, line.torn_end) == b"\n":
                line.sent = len(line.data)
                return
            line.sent = 0  # the piece is a torn line now: the fence ends it and the line goes again whole
        fence = b""
        if not line.sent and size and size != self._end and os.pread(fd, 1, size - 1) != b"\n":
            # A crash, a short write or another writer left a torn last line: end it so ours starts fresh. A
            # piece of a write-ahead line whose order was not sent gets a mark, so it never reads as whole.
            fence = TORN_MARK if size == self._abandoned_end else b"\n"
        data = fence + line.data[line.sent:]
        written = self._write(fd, data)
        self._abandoned_end = None
        if written <= len(fence):
            self._end = None
            if fence == TORN_MARK:
                self._abandoned_end = size + written
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        line.sent += written - len(fence)
        if line.sent < len(line.data):
            line.torn_end, self._end = size + written, None
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._end = size + written
        if self.fsync:
            os.fsync(fd)

    def _flush(self) -> bool:
        """Write owed lines in order; stop at the first that fails. Lock held."""
        while self._owed:
            try:
                self._write_line(self._owed[0])
            except OSError as exc:
                self._failed(exc)
                return False
            self._owed.popleft()
        self._recovered()
        return True

    def _close_fd(self) -> None:
        with_fd, self._fd = self._fd, None
        self._end = None
        if with_fd is not None:
            os.close(with_fd)

    def close(self) -> None:
        """Close the day file, after one last try at writing what is owed."""
        with self._lock:
            if self._owed:
                self._flush()
            if self._owed:
                # The last place they can go: whatever collects the app's own log (stderr by default).
                log.error("order log: %d lines could not be written to %s (%s); here they are:\n%s",
                          len(self._owed), self.log_dir, self.last_error,
                          b"".join(line.data for line in self._owed).decode("utf-8", "replace"))
            self._close_fd()

    def __enter__(self) -> OrderLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------------

    def log_event(
        self, event_type: str, order_record: OrderRecord | None = None, *, write_ahead: bool = False, **fields: Any
    ) -> dict[str, Any]:
        """Log one event. ``write_ahead=True``: the line must be on disk before the caller acts on it;
        raises ``OrderLogError`` if it cannot be (and then the line is not kept). Otherwise never raises
        for the disk: an unwritten line is kept and written later, in order."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}; expected one of {', '.join(EVENT_TYPES)}")
        stamp = self._now()
        event: dict[str, Any] = {"timestamp": stamp.isoformat(), "event_type": event_type}
        if order_record is not None:
            event.update(order_fields(order_record))
        event.update(fields)
        line = _Line(stamp.date(), (_ENCODER.encode(event) + "\n").encode("utf-8"))
        refusal: str | None = None
        with self._lock:
            was = self._degraded
            if not self.log_to_file:
                if self._memory_day != line.day:
                    self._memory, self._memory_day = [], line.day
                self._memory.append(line.data)
            elif write_ahead:
                refusal = self._write_ahead(line)
            elif self._owed:
                self._owed.append(line)  # behind the lines still owed, in order
                self._flush()
            else:
                try:
                    self._write_line(line)
                except OSError as exc:
                    self._owed.append(line)
                    self._failed(exc)
                else:
                    self._recovered()
        self._announce(was)
        if refusal is not None:
            raise OrderLogError(refusal)
        if self.log_to_console:
            self._echo(event)
        return event

    def _write_ahead(self, line: _Line) -> str | None:
        """Lock held. None when the line is on disk, else why the order must not be sent."""
        if self._flush():
            try:
                self._write_line(line)
            except OSError as exc:
                self._failed(exc)
                if line.sent:
                    self._abandoned_end = line.torn_end  # a piece is on disk: the next fence marks it
            else:
                return None
        return (
            f"The order was not sent: the order log in {self.log_dir} cannot be written ({self._problem}). "
            "Free some disk space or fix the folder's permissions, then enter the order again"
            + (f"; {len(self._owed)} earlier log lines are waiting to be written." if self._owed else ".")
        )

    def _echo(self, event: dict[str, Any]) -> None:
        stream = self._console or sys.stderr
        parts = [event["timestamp"][11:19], event["event_type"]]
        if "order_id" in event:
            parts.append(f"#{event['order_id']} {event.get('action', '')} {event.get('quantity', '')}")
            parts.append(f"{event.get('symbol', '')} {event.get('order_type', '')} -> {event.get('status', '')}")
        for key in ("fill_quantity", "fill_price", "error_code", "error_message", "delay", "message", "reason"):
            if event.get(key) is not None:
                parts.append(f"{key}={event[key]}")
        with contextlib.suppress(OSError, ValueError):  # a closed or broken console must not fail an order
            print(" ".join(str(p) for p in parts), file=stream)

    def log_submission(self, order_record: OrderRecord, *, write_ahead: bool = False, **fields: Any) -> dict[str, Any]:
        return self.log_event("SUBMISSION", order_record, write_ahead=write_ahead, **fields)

    def log_fill(self, order_record: OrderRecord, fill: Fill, **fields: Any) -> dict[str, Any]:
        return self.log_event(
            "FILL",
            order_record,
            fill_id=fill.fill_id,
            fill_quantity=fill.quantity,
            fill_price=fill.price,
            commission=fill.commission,
            fill_time=fill.timestamp.isoformat(),
            **fields,
        )

    def log_status_change(
        self,
        order_record: OrderRecord,
        old_status: OrderStatus | str | None = None,
        new_status: OrderStatus | str | None = None,
        message: str | None = None,
        *,
        write_ahead: bool = False,
        **fields: Any,
    ) -> dict[str, Any]:
        return self.log_event(
            "STATUS_CHANGE",
            order_record,
            write_ahead=write_ahead,
            old_status=_status_text(old_status),
            new_status=_status_text(new_status) or order_record.status.value,
            message=message,
            **fields,
        )

    def log_cancellation(self, order_record: OrderRecord, reason: str | None = None, **fields: Any) -> dict[str, Any]:
        return self.log_event("CANCELLATION", order_record, reason=reason, **fields)

    def log_error(
        self, order_record: OrderRecord, error_message: str, error_code: int | None = None, **fields: Any
    ) -> dict[str, Any]:
        return self.log_event(
            "ERROR",
            order_record,
            error_code=error_code,
            error_message=error_message,
            retry_count=order_record.retry_count,
            **fields,
        )

    def log_retry(
        self, order_record: OrderRecord, retry_count: int | None = None, delay: float | None = None, **fields: Any
    ) -> dict[str, Any]:
        return self.log_event(
            "RETRY",
            order_record,
            retry_count=order_record.retry_count if retry_count is None else retry_count,
            delay=delay,
            **fields,
        )

# Room a probe wants before it calls a full disk writable again: a few lines' worth.
MIN_ROOM = 16 * 1024


def _check_room(fd: int) -> None:
    if hasattr(os, "fstatvfs"):
        info = os.fstatvfs(fd)
        if info.f_bavail * info.f_frsize < MIN_ROOM:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _symlink_message(path: Path) -> str:
    return (f"{path} is a symbolic link; the order log writes only to a regular file of its own. "
            "Remove the link so a new day file can be made")
