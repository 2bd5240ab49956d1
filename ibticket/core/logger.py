"""The order log: one JSON object per line, one file per local day.

Every line is handed to the kernel with a single ``write`` on an ``O_APPEND`` descriptor before the call
returns, so a crash of the app loses nothing already logged and can tear at most the last line. A torn
line is fenced off with a newline before the next append, and readers skip and report it.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from .logreader import LogDay, log_path, read_day, summarize
from .records import Fill, OrderRecord, OrderStatus

EVENT_TYPES = (
    "SUBMISSION",
    "FILL",
    "STATUS_CHANGE",
    "CANCELLATION",
    "ERROR",
    "RETRY",
    # Beyond the seed: a commission that arrives after its fill, and broker notices that change nothing.
    "COMMISSION",
    "NOTICE",
)


def default_log_dir() -> Path:
    from platformdirs import user_log_dir

    return Path(user_log_dir("ibticket", appauthor=False)) / "orders"


def order_fields(record: OrderRecord) -> dict[str, Any]:
    """The keys every event about an order carries, so any single line can be read on its own."""
    fields: dict[str, Any] = {
        "order_id": record.order_id,
        "symbol": record.symbol,
        "action": record.action,
        "quantity": record.total_quantity,
        "order_type": record.order_type,
        "status": record.status.value,
        "submission_time": record.submission_time.isoformat() if record.submission_time else None,
        "filled_quantity": record.filled_quantity,
        "remaining_quantity": record.remaining_quantity,
        "avg_fill_price": record.avg_fill_price,
        "order_ref": record.order_ref,
    }
    if record.limit_price is not None:
        fields["limit_price"] = record.limit_price
    if record.stop_price is not None:
        fields["stop_price"] = record.stop_price
    if record.tif != "DAY":
        fields["tif"] = record.tif
    if record.outside_rth:
        fields["outside_rth"] = True
    return fields


class OrderLogger:
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
        # Today's events when there is no file to read back; a new day starts a new list.
        self._memory: list[dict[str, Any]] = []
        self._memory_day: date | None = None
        if log_to_file:
            self._ensure_dir()

    # -- writing -------------------------------------------------------------------------------------

    def _ensure_dir(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.log_dir, 0o700)

    def _open(self, day: date) -> int:
        if self._fd is not None and self._fd_day == day:
            return self._fd
        self.close()
        self._ensure_dir()
        path = log_path(self.log_dir, day)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        self._fd, self._fd_day = fd, day
        return fd

    @staticmethod
    def _fence(fd: int) -> None:
        # A crash, a short write (disk full) or another writer may have left a torn last line: end it so
        # the next event starts on a line of its own. Checked before every append, not only at open.
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            os.write(fd, b"\n")

    def close(self) -> None:
        with_fd, self._fd = self._fd, None
        if with_fd is not None:
            os.close(with_fd)

    def __enter__(self) -> OrderLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log_event(self, event_type: str, order_record: OrderRecord | None = None, **fields: Any) -> dict:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}; expected one of {', '.join(EVENT_TYPES)}")
        stamp = self._now()
        event: dict[str, Any] = {"timestamp": stamp.isoformat(), "event_type": event_type}
        if order_record is not None:
            event.update(order_fields(order_record))
        event.update(fields)
        line = json.dumps(event, default=str, allow_nan=False) + "\n"
        with self._lock:
            if self.log_to_file:
                fd = self._open(stamp.date())
                self._fence(fd)
                os.write(fd, line.encode("utf-8"))
                if self.fsync:
                    os.fsync(fd)
            else:
                if self._memory_day != stamp.date():
                    self._memory, self._memory_day = [], stamp.date()
                self._memory.append(event)
        if self.log_to_console:
            self._echo(event)
        return event

    def _echo(self, event: dict[str, Any]) -> None:
        stream = self._console or sys.stderr
        parts = [event["timestamp"][11:19], event["event_type"]]
        if "order_id" in event:
            parts.append(f"#{event['order_id']} {event.get('action', '')} {event.get('quantity', '')}")
            parts.append(f"{event.get('symbol', '')} {event.get('order_type', '')} -> {event.get('status', '')}")
        for key in ("fill_quantity", "fill_price", "error_code", "error_message", "delay", "message", "reason"):
            if event.get(key) is not None:
                parts.append(f"{key}={event[key]}")
        print(" ".join(str(p) for p in parts), file=stream)

    def log_submission(self, order_record: OrderRecord, **fields: Any) -> dict:
        return self.log_event("SUBMISSION", order_record, **fields)

    def log_fill(self, order_record: OrderRecord, fill: Fill, **fields: Any) -> dict:
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
        **fields: Any,
    ) -> dict:
        return self.log_event(
            "STATUS_CHANGE",
            order_record,
            old_status=_status_text(old_status),
            new_status=_status_text(new_status) or order_record.status.value,
            message=message,
            **fields,
        )

    def log_cancellation(self, order_record: OrderRecord, reason: str | None = None, **fields: Any) -> dict:
        return self.log_event("CANCELLATION", order_record, reason=reason, **fields)

    def log_error(
        self, order_record: OrderRecord, error_message: str, error_code: int | None = None, **fields: Any
    ) -> dict:
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
    ) -> dict:
        return self.log_event(
            "RETRY",
            order_record,
            retry_count=order_record.retry_count if retry_count is None else retry_count,
            delay=delay,
            **fields,
        )

    # -- reading -------------------------------------------------------------------------------------

    def read_day(self, day: date | None = None) -> LogDay:
        day = day or self._now().date()
        if self.log_to_file:
            return read_day(self.log_dir, day)
        events = self._memory if day == self._memory_day else []
        return LogDay(day=day, path=log_path(self.log_dir, day), events=list(events))

    def get_order_history(self, order_id: int, day: date | None = None) -> list[dict[str, Any]]:
        return self.read_day(day).for_order(order_id)

    def get_todays_summary(self) -> dict[str, int]:
        return summarize(self.read_day().events)


def _status_text(status: OrderStatus | str | None) -> str | None:
    if status is None:
        return None
    return status.value if isinstance(status, OrderStatus) else str(status)
