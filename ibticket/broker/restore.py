"""Reading the order log back at start: today's orders, each rebuilt whole even when it began on an earlier
day (a GTC order, an order working across midnight), and, for orders IB reports that today's log does not
mention, the earlier days they began on.

The log has one file per local day and every line is stamped with the day it was written, so an order that
lives across midnight has its first lines in one file and its later ones in the next. Its reference names
the day its session started (``ref_day``), so the reader knows how far back to look without scanning every
day the folder holds. Each day is read in one streaming pass (``recovery.Rebuilder``); nothing here touches
the handler, so it runs in a worker thread.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..core.logger import OrderLogger
from ..core.logreader import available_days
from ..core.records import OrderRecord
from ..core.recovery import Rebuilder, order_key, record_key, ref_day


@dataclass
class LogRestore:
    """What today's log holds: ``orders`` (every client's order with a line today, rebuilt from all the days
    it spans), the first order id no line has used, the statuses the log notes as ignored per order reference,
    and what could not be read."""

    orders: list[OrderRecord]
    next_order_id: int
    noted: dict[str, set[str]]
    report: str | None


def _days(logger: OrderLogger, since: date, until: date) -> list[date]:
    """The log's days from ``since`` up to (not including) ``until``, oldest first."""
    if not logger.log_to_file:
        return []
    return sorted(d for d in available_days(logger.log_dir) if since <= d < until)


def _earliest(refs: Iterable[Any], today: date) -> date | None:
    days = [d for d in (ref_day(ref) for ref in refs if isinstance(ref, str)) if d is not None and d < today]
    return min(days, default=None)


def _noted(rebuilder: Rebuilder, into: dict[str, set[str]]) -> dict[str, set[str]]:
    for key, texts in rebuilder.noted.items():
        if isinstance(key, str):
            into.setdefault(key, set()).update(texts)
    return into


def read_today(logger: OrderLogger, today: date) -> LogRestore:
    current = Rebuilder()
    reports = [logger.scan_day(current.add, today).report()]
    records = current.records()
    next_id = current.max_order_id + 1
    noted = _noted(current, {})
    since = _earliest(current.partial, today)
    if since is not None:
        # Orders whose first line today is not their SUBMISSION: their earlier days first, then today's lines.
        wanted = set(current.partial)
        earlier = Rebuilder()

        def feed(event: dict[str, Any]) -> None:
            if order_key(event) in wanted:
                earlier.add(event)

        for day in _days(logger, since, today):
            reports.append(logger.scan_day(feed, day).report())
        for events in current.partial.values():
            for event in events:
                earlier.add(event)
        whole = {record_key(r): r for r in earlier.records()}
        records = [whole.get(record_key(r), r) for r in records]
        next_id = max(next_id, earlier.max_order_id + 1)
        _noted(earlier, noted)
    return LogRestore(records, next_id, noted, "; ".join(r for r in reports if r) or None)


def find_earlier(logger: OrderLogger, order_refs: set[str], today: date) -> dict[str, tuple[OrderRecord, date]]:
    """Orders named by ``order_refs`` (an order's reference, without its attempt) rebuilt from the days
    before ``today``, each with the day of its first line. Orders not in the log are left out."""
    since = _earliest(order_refs, today)
    if since is None:
        return {}
    rebuilder = Rebuilder()
    first_day: dict[Any, date] = {}
    for day in _days(logger, since, today):
        def feed(event: dict[str, Any], day: date = day) -> None:
            key = order_key(event)
            if key in order_refs:
                first_day.setdefault(key, day)
                rebuilder.add(event)

        logger.scan_day(feed, day)
    return {r.order_ref: (r, first_day[r.order_ref]) for r in rebuilder.records() if r.order_ref in order_refs}
