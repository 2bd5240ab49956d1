"""What a row of the log viewer shows, and the export of rows; Qt-free (the export runs on the worker)."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..core import format as fmt
from ..core.logreader import parse_line
from .index import LineIndex, Steps, lines_job

# The order reference comes last: it is long, and the message matters more in a narrow dock.
COLUMNS = ("Time", "Event", "Order", "Symbol", "Side", "Qty", "Price", "Status", "Message", "Ref")
UNREADABLE_TEXT = "unreadable"
EXPORT_KINDS = ("csv", "jsonl")


def _number(value: Any, text: Any = fmt.price) -> str:
    return text(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""


def _message(event: dict[str, Any]) -> str:
    kind = event.get("event_type")
    code = event.get("error_code")
    if kind == "FILL":
        parts = [f"filled {fmt.qty(event.get('filled_quantity'))} of {fmt.qty(event.get('quantity'))}"]
        if event.get("commission"):
            parts.append(f"commission {fmt.money(event['commission'])}")
        if event.get("corrects"):
            parts.append(f"corrects exec {event['corrects']}")
        parts.append(f"exec {event.get('fill_id', '?')}")
        return ", ".join(parts)
    if kind == "COMMISSION":
        return f"commission {fmt.money(event.get('commission'))} for exec {event.get('fill_id', '?')}"
    if kind == "ERROR":
        text = str(event.get("error_message") or "")
        return f"{code}: {text}" if code is not None else text
    if kind == "RETRY":
        delay = event.get("delay")
        return f"retry {event.get('retry_count', '?')}" + (f" in {delay:g} s" if delay is not None else "")
    if kind == "CANCELLATION":
        return str(event.get("reason") or event.get("message") or "cancel requested")
    text = str(event.get("message") or "")
    if kind == "STATUS_CHANGE" and not text and event.get("new_status"):
        text = f"{event.get('old_status') or '—'} → {event['new_status']}"
    if kind == "SUBMISSION":
        kind_text = fmt.TYPE_SHORT.get(str(event.get("order_type")), str(event.get("order_type") or ""))
        extras = [f"{kind_text} {event.get('tif') or 'DAY'}".strip()]
        if event.get("outside_rth"):
            extras.append("outside RTH")
        if event.get("adopted"):
            extras.append("adopted (placed by another session)")
        if isinstance(event.get("attempt"), int) and event["attempt"] > 1:
            extras.append(f"attempt {event['attempt']}")
        text = ", ".join([text, *extras] if text else extras)
    return f"{code}: {text}" if code is not None else text


def row_cells(event: dict[str, Any] | None, problem: str | None, line_number: int) -> list[str]:
    """What a row shows, column by column (Qt-free: the CSV export uses it on the worker's thread)."""
    if event is None:
        return ["", UNREADABLE_TEXT, "", "", "", "", "", "", f"line {line_number}: {problem or 'unreadable'}", ""]
    stamp = str(event.get("timestamp", ""))
    clock = stamp[11:23] if len(stamp) >= 23 else stamp[11:19]
    kind = event.get("event_type", "")
    if kind == "FILL":
        qty, price = event.get("fill_quantity"), event.get("fill_price")
    else:
        qty = event.get("quantity")
        price = next((event[k] for k in ("limit_price", "stop_price") if event.get(k) is not None), None)
    order_id = event.get("order_id")
    return [
        clock,
        str(kind),
        "" if order_id is None else str(order_id),
        str(event.get("symbol") or ""),
        str(event.get("action") or ""),
        _number(qty, fmt.qty),
        _number(price),
        str(event.get("status") or ""),
        _message(event),
        str(event.get("order_ref") or ""),
    ]




def export_job(index: LineIndex, lines: Sequence[int], path: Path, kind: str,
               report: Callable[[int, int, int, bool], None]) -> Steps:
    """Write ``lines`` of the day to ``path``: "csv" (the table's columns, after the line number) or
    "jsonl" (each event's line exactly as the order log wrote it). Unreadable lines are left out (a JSON
    lines file of events must hold only events) and counted. Written to a ``.part`` file first, so a
    failed or cancelled export leaves no half file under the name asked for.
    ``report(written, left_out, done, finished)``."""
    if kind not in EXPORT_KINDS:
        raise ValueError(f"cannot export as {kind!r}; choose one of {', '.join(EXPORT_KINDS)}")
    part = path.with_name(path.name + ".part")
    written = left_out = 0
    finished = False
    try:
        with part.open("w", encoding="utf-8", newline="") as out:
            if kind == "csv":
                writer = csv.writer(out)
                writer.writerow(["Line", *COLUMNS])

            def consume(line: int, raw: bytes) -> None:
                nonlocal written, left_out
                event, problem = parse_line(raw)
                if event is None:
                    left_out += 1
                elif kind == "csv":
                    writer.writerow([line + 1, *row_cells(event, problem, line + 1)])
                    written += 1
                else:
                    out.write(raw.decode("utf-8").rstrip("\r") + "\n")
                    written += 1

            yield from lines_job(index, lines, consume, lambda done, _end: report(written, left_out, done, False))
        os.replace(part, path)
        finished = True
    finally:
        if not finished:
            part.unlink(missing_ok=True)
    report(written, left_out, len(lines), True)
