"""Reading order logs back: the one tolerant reader that the summary, order history, crash recovery and
any log viewer share.

A log file is data from disk, not from us: a crash tears a line, a disk fills mid-write, a person edits
the file, another program appends to it. So every line is parsed on its own and every field is
type-checked against what the logger writes; a line that fails either is skipped and reported with its
line number, never fatal. What comes out of here can be used without further checks.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .records import MAX_PRICE, OrderStatus

LOG_NAME = re.compile(r"^orders-(\d{4}-\d{2}-\d{2})\.jsonl$")

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

# Integers beyond this cannot round-trip through a float (nor be an order id, a quantity or an IB code);
# a larger one in the log is corruption, and would overflow wherever it meets a float.
MAX_INT = 2**53
_BAD_TEXT_CHARS = 200
_STATUSES = frozenset(s.value for s in OrderStatus)

# O_NOFOLLOW: a symlink planted at a day file's path is refused, not followed. O_NONBLOCK: a FIFO there
# must not hang the reader (it is refused as not a regular file right after the open).
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def log_path(log_dir: Path, day: date) -> Path:
    return log_dir / f"orders-{day.isoformat()}.jsonl"


# -- field checks: each returns what is wrong with a value, or None ----------------------------------


def _describe(value: Any) -> str:
    if isinstance(value, str):
        value = value[:40]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        return "a whole number too large to be real"
    text = json.dumps(value) if isinstance(value, str | int | float | bool) or value is None else type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_INT <= value <= MAX_INT


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -MAX_INT <= value <= MAX_INT
    return isinstance(value, float) and math.isfinite(value)


def _is_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check(test: Callable[[Any], bool], expected: str, optional: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if (optional and value is None) or test(value):
            return None
        return f"expected {expected}{' or null' if optional else ''}, got {_describe(value)}"

    return check


_text = _check(lambda v: isinstance(v, str), "text")
_opt_text = _check(lambda v: isinstance(v, str), "text", optional=True)
_nonempty_text = _check(lambda v: isinstance(v, str) and v != "", "non-empty text")
_count = _check(lambda v: _is_int(v) and v >= 0, "a whole number, 0 or more")
_opt_count = _check(lambda v: _is_int(v) and v >= 0, "a whole number, 0 or more", optional=True)
_opt_int = _check(_is_int, "a whole number", optional=True)
_opt_number = _check(_is_number, "a finite number", optional=True)
# Prices and money: finite is not enough (1e308 is finite, and 100 shares of it are not). A price is above
# zero, as validation and the handler require of every order and fill; a commission may be a rebate.
_UP_TO = f"up to {MAX_PRICE:,.0f}"
_price = _check(lambda v: _is_number(v) and 0 < v <= MAX_PRICE, f"a price above zero, {_UP_TO}")
_opt_price = _check(lambda v: _is_number(v) and 0 < v <= MAX_PRICE, f"a price above zero, {_UP_TO}", optional=True)
_avg_price = _check(lambda v: _is_number(v) and 0 <= v <= MAX_PRICE, f"a price, 0 or more, {_UP_TO}")
_opt_money = _check(lambda v: _is_number(v) and abs(v) <= MAX_PRICE, f"an amount of money {_UP_TO}", optional=True)
_flag = _check(lambda v: isinstance(v, bool), "true or false")
_time = _check(_is_time, "an ISO date-time")
_opt_time = _check(_is_time, "an ISO date-time", optional=True)
_status = _check(lambda v: isinstance(v, str) and v in _STATUSES, "an order status", optional=True)
# Fields this version does not know: kept for a viewer, but only flat values (no nesting to recurse into).
_scalar = _check(lambda v: v is None or isinstance(v, str | bool) or _is_number(v), "a plain value")

FIELD_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "timestamp": _time,
    "event_type": _nonempty_text,
    # order_fields(): on every event about an order
    "order_id": _opt_count,
    "symbol": _text,
    "action": _text,
    "quantity": _count,
    "order_type": _text,
    "status": _status,
    "submission_time": _opt_time,
    "filled_quantity": _count,
    "remaining_quantity": _count,
    "avg_fill_price": _avg_price,
    "order_ref": _opt_text,
    "limit_price": _opt_price,
    "stop_price": _opt_price,
    "tif": _text,
    "outside_rth": _flag,
    # attempts
    "attempt": _count,
    "attempt_ref": _opt_text,
    "broker_order_id": _opt_count,
    "perm_id": _opt_count,
    # fills and commissions
    "fill_id": _text,
    "fill_quantity": _count,
    "fill_price": _price,
    "commission": _opt_money,
    "fill_time": _opt_time,
    "corrects": _opt_text,
    # errors, retries, statuses, cancels
    "error_code": _opt_int,
    "error_message": _opt_text,
    "retry_count": _count,
    "retry_scheduled": _flag,
    "delay": _opt_number,
    "max_retries": _count,
    "message": _opt_text,
    "reason": _opt_text,
    "old_status": _opt_text,
    "new_status": _opt_text,
    "requested": _flag,
    "adopted": _flag,
    "carried_from": _opt_text,
    "order_unchanged": _flag,
}
REQUIRED_FIELDS = ("timestamp", "event_type")


def event_problem(event: Any, required: Iterable[str] = REQUIRED_FIELDS) -> str | None:
    """What makes ``event`` unusable as a log event, or None when every field has the type it should."""
    if not isinstance(event, dict):
        return f"not an event (a JSON {type(event).__name__}, not an object)"
    for name in required:
        if name not in event:
            return f"not an event (no {name!r})"
    for name, value in event.items():
        problem = FIELD_CHECKS.get(name, _scalar)(value)
        if problem is not None:
            return f"{name!r}: {problem}"
    return None


# -- reading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadLine:
    line_number: int
    text: str
    reason: str


@dataclass
class LogDay:
    """One day's events in file order, the lines that could not be read, and why the file itself could
    not be read (``problem``) when it could not."""

    day: date
    path: Path
    events: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: list[BadLine] = field(default_factory=list)
    problem: str | None = None

    def for_order(self, order_id: int) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("order_id") == order_id]

    @property
    def bad_line_numbers(self) -> list[int]:
        return [b.line_number for b in self.bad_lines]

    def report(self) -> str | None:
        """One sentence for a trader about what was skipped, or None when the day read cleanly."""
        parts = []
        if self.problem:
            parts.append(self.problem)
        if self.bad_lines:
            numbers = self.bad_line_numbers
            shown = ", ".join(str(n) for n in numbers[:10]) + (", ..." if len(numbers) > 10 else "")
            count = len(numbers)
            parts.append(f"{count} unreadable line{'s' if count != 1 else ''} skipped in {self.path} "
                         f"(line{'s' if count != 1 else ''} {shown})")
        return "; ".join(parts) or None


def parse_line(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """One line of a log: (event, None) or (None, why it cannot be used)."""
    try:
        event = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text: {exc.reason}"
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} (column {exc.colno})"
    except RecursionError:
        return None, "nested too deeply to read"
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        return None, f"not readable JSON: {exc}"
    problem = event_problem(event)
    return (None, problem) if problem is not None else (event, None)


def parse_lines(raw: bytes, day: date, path: Path, first_line: int = 1) -> LogDay:
    result = LogDay(day=day, path=path)
    lines = raw.split(b"\n")
    problem: str | None
    for number, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        if number - first_line == len(lines) - 1:
            # Every line is written with its newline in one write: a last line without one was cut short
            # (a crash, a full disk), even if what is there happens to parse.
            event, problem = None, "torn: the line has no end (its write was cut short)"
        else:
            event, problem = parse_line(line)
        if event is None:
            text = line[: _BAD_TEXT_CHARS * 4].decode("utf-8", "replace")[:_BAD_TEXT_CHARS]
            result.bad_lines.append(BadLine(number, text, problem or "unreadable"))
        else:
            result.events.append(event)
    return result


def read_regular_file(path: Path) -> bytes:
    """The file's bytes, refusing a symlink or anything that is not a regular file (OSError with a
    message naming the path)."""
    try:
        fd = os.open(path, os.O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(exc.errno, f"{path} is a symbolic link; the order log only uses regular files") from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, f"{path} is not a regular file")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_day(log_dir: Path | str, day: date) -> LogDay:
    """A day's log, never raising: an unreadable file is reported in ``problem``, bad lines in
    ``bad_lines``."""
    path = log_path(Path(log_dir), day)
    try:
        raw = read_regular_file(path)
    except FileNotFoundError:
        return LogDay(day=day, path=path)
    except OSError as exc:
        return LogDay(day=day, path=path, problem=f"Could not read the order log {path}: {exc.strerror or exc}")
    return parse_lines(raw, day, path)


def available_days(log_dir: Path | str) -> list[date]:
    """Days that have a log file, newest first."""
    folder = Path(log_dir)
    if not folder.is_dir():
        return []
    days = []
    for entry in folder.iterdir():
        match = LOG_NAME.match(entry.name)
        if match:
            try:
                days.append(date.fromisoformat(match.group(1)))
            except ValueError:
                continue
    return sorted(days, reverse=True)


class DaySummary:
    """``summarize`` one event at a time, for a day too big to hold in memory (the log viewer feeds it
    line by line, and again as a live file grows). ``summarize(events)`` is this fed with ``events``.

    Orders are told apart by their order reference; a correction replaces the fill it corrects (in the
    fill counts, the traded value and the commission), and a late commission report replaces its fill's
    commission. ``events`` are checked events (from this module's reader)."""

    __slots__ = ("_commission", "_complete", "_fills", "_last_status", "_partial", "_value")

    def __init__(self) -> None:
        self._last_status: dict[Any, str] = {}
        self._partial = self._complete = 0
        # fill id -> (quantity x price, commission): what a correction or a late commission replaces.
        self._fills: dict[str, tuple[float, float]] = {}
        self._value = 0.0
        self._commission = 0.0

    def add(self, event: dict[str, Any]) -> None:
        if event.get("order_id") is None:
            return
        key = event.get("order_ref") or event["order_id"]
        status = event.get("status")
        if status:
            self._last_status[key] = _STATUS_NAMES.get(status, status)  # one string per status, not per line
        else:
            self._last_status.setdefault(key, "")
        kind = event.get("event_type")
        if kind == "FILL":
            corrects = event.get("corrects")
            if corrects:
                self._set_fill(corrects, None)
            elif event.get("remaining_quantity", 1) == 0:
                self._complete += 1
            else:
                self._partial += 1
            value = event.get("fill_quantity", 0) * event.get("fill_price", 0.0)
            self._set_fill(event.get("fill_id"), (value, event.get("commission") or 0.0))
        elif kind == "COMMISSION" and event.get("fill_id") is not None:
            value = self._fills.get(event["fill_id"], (0.0, 0.0))[0]
            self._set_fill(event["fill_id"], (value, event.get("commission") or 0.0))

    def _set_fill(self, fill_id: str | None, fill: tuple[float, float] | None) -> None:
        """Put ``fill`` in place of whatever ``fill_id`` held (None: remove it), keeping the sums."""
        old = self._fills.pop(fill_id, None) if fill_id is not None else None
        if old is not None:
            self._value -= old[0]
            self._commission -= old[1]
        if fill is not None:
            if fill_id is not None:
                self._fills[fill_id] = fill
            self._value += fill[0]
            self._commission += fill[1]

    def result(self) -> dict[str, int | float]:
        statuses = list(self._last_status.values())
        return {
            "total_orders": len(self._last_status),
            "filled_orders": statuses.count("Filled"),
            "cancelled_orders": statuses.count("Cancelled"),
            "error_orders": statuses.count("Error"),
            "partial_fills": self._partial,
            "complete_fills": self._complete,
            "total_fills": self._partial + self._complete,
            # Rounded to a hundredth of a cent: running sums of many fills carry float noise beyond that.
            "traded_value": round(self._value, 4) + 0.0,
            "commission": round(self._commission, 4) + 0.0,
        }


_STATUS_NAMES = {name: name for name in _STATUSES}


def summarize(events: Iterable[dict[str, Any]]) -> dict[str, int | float]:
    """Counts for a day, from each order's last known status and from its fill events, plus the traded
    value (quantity x price of every fill) and the commission paid. See ``DaySummary``."""
    summary = DaySummary()
    for event in events:
        summary.add(event)
    return summary.result()
