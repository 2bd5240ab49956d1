"""Reading the order log back at start: today's orders, each rebuilt whole even when it began on an earlier
day (a GTC order, an order working across midnight), and, for orders IB reports that today's log does not
mention, the earlier days they began on.

The log has one file per local day and every line is stamped with the day it was written, so an order that
lives across midnight has its first lines in one file and its later ones in the next. Its reference names
the day its session started (``ref_day``), so the reader knows how far back to look without scanning every
day the folder holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..core.logger import OrderLogger
from ..core.logreader import LogDay, available_days
from ..core.records import OrderRecord
from ..core.recovery import begun_before, order_key, rebuild_orders, record_key, ref_day


@dataclass
class LogRestore:
    """What today's log holds: ``orders`` (every client's order with a line today, rebuilt from all the days
    it spans), the first order id no line has used, and what could not be read."""

    orders: list[OrderRecord]
    next_order_id: int
    report: str | None
    days: list[date]


def read_days(logger: OrderLogger, since: date, until: date) -> list[LogDay]:
    """The log's days from ``since`` up to (not including) ``until``, oldest first."""
    if not logger.log_to_file:
        return []
    return [logger.read_day(day) for day in sorted(d for d in available_days(logger.log_dir) if since <= d < until)]


def read_today(logger: OrderLogger, today: date) -> LogRestore:
    current = logger.read_day(today)
    since = begun_before(current.events)
    earlier = read_days(logger, since, today) if since is not None and since < today else []
    events: list[dict[str, Any]] = [event for day in earlier for event in day.events]
    events += current.events
    today_keys = {order_key(event) for event in current.events}
    orders = [record for record in rebuild_orders(events) if record_key(record) in today_keys]
    used = max((e["order_id"] for e in events if isinstance(e.get("order_id"), int)), default=0)
    reports = [day.report() for day in (*earlier, current)]
    return LogRestore(
        orders=orders,
        next_order_id=used + 1,
        report="; ".join(r for r in reports if r) or None,
        days=[day.day for day in (*earlier, current)],
    )


def find_earlier(logger: OrderLogger, order_refs: set[str], today: date) -> dict[str, tuple[OrderRecord, date]]:
    """Orders named by ``order_refs`` (an order's reference, without its attempt) rebuilt from the days
    before ``today``, each with the day of its first line. Orders not in the log are left out."""
    days = [d for d in (ref_day(ref) for ref in order_refs) if d is not None and d < today]
    if not days:
        return {}
    earlier = read_days(logger, min(days), today)
    first_day: dict[Any, date] = {}
    for day in earlier:
        for event in day.events:
            first_day.setdefault(order_key(event), day.day)
    rebuilt = rebuild_orders([event for day in earlier for event in day.events])
    return {r.order_ref: (r, first_day[r.order_ref]) for r in rebuilt if r.order_ref in order_refs}
