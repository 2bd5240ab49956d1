"""Reading order logs back: tolerant of torn and corrupt lines, which are skipped and reported.

The log viewer, the daily summary and crash recovery all read through here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

LOG_NAME = re.compile(r"^orders-(\d{4}-\d{2}-\d{2})\.jsonl$")


def log_path(log_dir: Path, day: date) -> Path:
    return log_dir / f"orders-{day.isoformat()}.jsonl"


@dataclass(frozen=True)
class BadLine:
    line_number: int
    text: str
    reason: str


@dataclass
class LogDay:
    """One day's events in file order, and the lines that could not be read."""

    day: date
    path: Path
    events: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: list[BadLine] = field(default_factory=list)

    def for_order(self, order_id: int) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("order_id") == order_id]


def read_day(log_dir: Path | str, day: date) -> LogDay:
    path = log_path(Path(log_dir), day)
    result = LogDay(day=day, path=path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return result
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            result.bad_lines.append(BadLine(number, line.decode("utf-8", "replace")[:200], str(exc)))
            continue
        if not isinstance(event, dict) or "event_type" not in event:
            result.bad_lines.append(BadLine(number, line.decode("utf-8", "replace")[:200], "not an event"))
            continue
        result.events.append(event)
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


def summarize(events: list[dict[str, Any]]) -> dict[str, int]:
    """Counts for a day, from each order's last known status and from its fill events. Orders are told
    apart by their order reference; a correction replaces a fill and is not counted as another."""
    last_status: dict[Any, str] = {}
    partial = complete = 0
    for event in events:
        if event.get("order_id") is None:
            continue
        key = event.get("order_ref") or event["order_id"]
        if event.get("status"):
            last_status[key] = event["status"]
        else:
            last_status.setdefault(key, "")
        if event.get("event_type") == "FILL" and not event.get("corrects"):
            if event.get("remaining_quantity", 1) == 0:
                complete += 1
            else:
                partial += 1
    statuses = list(last_status.values())
    return {
        "total_orders": len(last_status),
        "filled_orders": statuses.count("Filled"),
        "cancelled_orders": statuses.count("Cancelled"),
        "error_orders": statuses.count("Error"),
        "partial_fills": partial,
        "complete_fills": complete,
        "total_fills": partial + complete,
    }
