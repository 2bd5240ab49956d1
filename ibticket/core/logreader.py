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
import json.scanner
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .logcheck import _STATUSES, accepts, event_problem
from .logcheck import FIELD_CHECKS as FIELD_CHECKS  # re-exported: the checks are part of the reader's contract
from .logcheck import FIELD_KINDS as FIELD_KINDS
from .logcheck import MAX_INT as MAX_INT
from .logcheck import REQUIRED_FIELDS as REQUIRED_FIELDS
from .summary import completes_order, day_counts

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

_BAD_TEXT_CHARS = 200

# O_NOFOLLOW: a symlink planted at a day file's path is refused, not followed. O_NONBLOCK: a FIFO there
# must not hang the reader (it is refused as not a regular file right after the open).
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def log_path(log_dir: Path, day: date) -> Path:
    return log_dir / f"orders-{day.isoformat()}.jsonl"


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


# json.loads without its Python-level wrapper: the scanner parses a line that is one JSON value from its first
# character to its last; anything else (whitespace around it, an error) goes through json.loads itself, so
# what is accepted and every error message stay json.loads'.
_scan_once = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # a decoder is what it takes
_BLANK = " \t\n\r\x0b\x0c"  # what bytes.strip() strips: a line of only these is blank
BLOCK = 1 << 20  # bytes read (and decoded) at a time: a big day streams, it is never all in memory


def _loads(text: str) -> Any:
    try:
        value, end = _scan_once(text, 0)
        if end == len(text):
            return value
    except (StopIteration, ValueError, RecursionError):
        pass
    return json.loads(text)


def _parse_text(text: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        event = _loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} (column {exc.colno})"
    except RecursionError:
        return None, "nested too deeply to read"
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        return None, f"not readable JSON: {exc}"
    problem = event_problem(event)
    return (None, problem) if problem is not None else (event, None)


def parse_line(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """One line of a log: (event, None) or (None, why it cannot be used)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text: {exc.reason}"
    return _parse_text(text)


TORN = "torn: the line has no end (its write was cut short)"


class LineScanner:
    """Lines fed in blocks of bytes, each checked on its own: the events go to ``on_event`` in file order, the
    lines that cannot be used to ``result.bad_lines``. ``close()`` at the end of the data: every line is written
    with its newline in one write, so a last line without one was cut short (a crash, a full disk), even if
    what is there happens to parse."""

    def __init__(self, result: LogDay, on_event: Callable[[dict[str, Any]], Any], first_line: int = 1) -> None:
        self.result = result
        self._on_event = on_event
        self._number = first_line - 1  # of the last line seen
        # The start of a line whose end is in a later block, in pieces: a line of any length costs one copy.
        self._tail: list[bytes] = []

    def feed(self, block: bytes) -> None:
        cut = block.rfind(b"\n")
        if cut < 0:
            self._tail.append(block)
            return
        data = b"".join((*self._tail, block[:cut])) if self._tail else block[:cut]
        self._tail = [block[cut + 1:]] if cut + 1 < len(block) else []
        try:
            # One decode per block, not per line: a newline byte is never part of a UTF-8 character.
            lines: list[str] | list[bytes] = data.decode("utf-8").split("\n")
        except UnicodeDecodeError:
            lines = data.split(b"\n")  # some line is not UTF-8: each line for itself, as parse_line
        on_event, bad, scan = self._on_event, self.result.bad_lines, _scan_once
        number = self._number
        for line in lines:
            number += 1
            if isinstance(line, str):
                # The common case inline (a call per line costs as much as its check): one JSON object from
                # the first character to the last, of a shape the checks accept. Anything else goes the long
                # way, which says why.
                try:
                    event, end = scan(line, 0)
                    if end == len(line) and type(event) is dict and accepts(event):
                        on_event(event)
                        continue
                except (StopIteration, ValueError, RecursionError):
                    pass
                if not line.strip(_BLANK):
                    continue
                event, problem = _parse_text(line)
            else:
                if not line.strip():
                    continue
                event, problem = parse_line(line)
            if event is None:
                bad.append(BadLine(number, _bad_text(line), problem or "unreadable"))
            else:
                on_event(event)
        self._number = number

    def close(self) -> None:
        self._number += 1
        tail, self._tail = b"".join(self._tail), []
        if tail.strip():
            self.result.bad_lines.append(BadLine(self._number, _bad_text(tail), TORN))


def _bad_text(line: str | bytes) -> str:
    if isinstance(line, str):
        return line[:_BAD_TEXT_CHARS]
    return line[: _BAD_TEXT_CHARS * 4].decode("utf-8", "replace")[:_BAD_TEXT_CHARS]


def parse_lines(raw: bytes, day: date, path: Path, first_line: int = 1) -> LogDay:
    result = LogDay(day=day, path=path)
    scanner = LineScanner(result, result.events.append, first_line)
    view = memoryview(raw)
    for start in range(0, len(raw), BLOCK):
        scanner.feed(bytes(view[start:start + BLOCK]))
    scanner.close()
    return result


def open_regular_file(path: Path) -> int:
    """A file descriptor for reading ``path``, refusing a symlink or anything that is not a regular file
    (OSError with a message naming the path)."""
    try:
        fd = os.open(path, os.O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(exc.errno, f"{path} is a symbolic link; the order log only uses regular files") from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, f"{path} is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular_file(path: Path) -> bytes:
    """The file's bytes, refusing a symlink or anything that is not a regular file (see open_regular_file)."""
    fd = open_regular_file(path)
    try:
        chunks = []
        while chunk := os.read(fd, BLOCK):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def scan_day(log_dir: Path | str, day: date, on_event: Callable[[dict[str, Any]], Any],
             limit: int | None = None) -> LogDay:
    """``read_day`` as a stream: each event goes to ``on_event`` as it is read, and the LogDay returned holds
    no events, only what was skipped; the file is read a block at a time, so a day of any size costs
    memory for one block. ``limit``: read no further than that many bytes (where the file ended when the
    caller looked)."""
    path = log_path(Path(log_dir), day)
    result = LogDay(day=day, path=path)
    try:
        fd = open_regular_file(path)
    except FileNotFoundError:
        return result
    except OSError as exc:
        result.problem = f"Could not read the order log {path}: {exc.strerror or exc}"
        return result
    scanner = LineScanner(result, on_event)
    left = limit
    try:
        while left is None or left > 0:
            block = os.read(fd, BLOCK if left is None else min(BLOCK, left))
            if not block:
                break
            if left is not None:
                left -= len(block)
            scanner.feed(block)
    except OSError as exc:
        result.problem = f"Could not read the order log {path}: {exc.strerror or exc}"
    finally:
        os.close(fd)
    scanner.close()
    return result


def read_day(log_dir: Path | str, day: date) -> LogDay:
    """A day's log, never raising: an unreadable file is reported in ``problem``, bad lines in
    ``bad_lines``."""
    events: list[dict[str, Any]] = []
    result = scan_day(log_dir, day, events.append)
    result.events = events
    return result


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
            elif completes_order(event.get("remaining_quantity", 1)):
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
        return day_counts(self._last_status.values(), self._partial, self._complete, self._value, self._commission)


_STATUS_NAMES = {name: name for name in _STATUSES}


def summarize(events: Iterable[dict[str, Any]]) -> dict[str, int | float]:
    """Counts for a day, from each order's last known status and from its fill events, plus the traded
    value (quantity x price of every fill) and the commission paid. See ``DaySummary``."""
    summary = DaySummary()
    for event in events:
        summary.add(event)
    return summary.result()
