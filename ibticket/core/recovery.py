"""Rebuilding today's orders from the order log after a restart or a crash."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from .logreader import event_problem
from .records import BrokerAttempt, Fill, OrderRecord, OrderStatus

log = logging.getLogger(__name__)

# More attempts than any retry policy makes: an attempt number above this in the log is corruption, and
# filling the gap up to it would allocate without bound.
MAX_ATTEMPTS = 1000


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _price(value: Any) -> float | None:
    return None if value is None else float(value)


def order_key(event: dict[str, Any]) -> Any:
    """Which order an event is about. The order reference is unique per client and session; the order
    id alone is not when several clients (or a script and the app) share one day's log."""
    return event.get("order_ref") or event.get("order_id")


# Every order reference ends "-<yyyymmdd>-<hhmmss>-<order id>" (and "/<attempt>"): the day and time the
# session that placed the order started, so its first line is in that day's log or a later one.
_REF_DAY = re.compile(r"-(\d{8})-\d{6}-\d+(?:/\d+)?$")


def ref_day(order_ref: str) -> date | None:
    """The day the session that placed an order started, read from the order's reference."""
    match = _REF_DAY.search(order_ref or "")
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d").date()
    except ValueError:
        return None


def begun_before(events: Iterable[dict[str, Any]]) -> date | None:
    """How far back the log must be read so every order in ``events`` is whole: the earliest day a session
    that placed one of them started, among the orders whose first line here is not their SUBMISSION (an
    order working across midnight, a GTC order from an earlier day). None when every order begins here."""
    seen: set[Any] = set()
    earliest: date | None = None
    for event in events:
        key = order_key(event)
        if key is None or key in seen:
            continue
        seen.add(key)
        if event.get("event_type") == "SUBMISSION":
            continue
        day = ref_day(event.get("order_ref") or "")
        if day is not None and (earliest is None or day < earliest):
            earliest = day
    return earliest


def record_key(record: OrderRecord) -> Any:
    """``order_key`` of a rebuilt record."""
    return record.order_ref or record.order_id


def rebuild_orders(events: list[dict[str, Any]]) -> list[OrderRecord]:
    """One record per order, as the log last saw it. Events come from the tolerant reader
    (``logreader``); any that still cannot be used (a fill for an order never submitted, a field
    missing) are skipped, never fatal."""
    records: dict[Any, OrderRecord] = {}
    for index, event in enumerate(events):
        problem = event_problem(event, required=("event_type",))
        if problem is not None:
            log.warning("order log event %d skipped in recovery: %s", index + 1, problem)
            continue
        try:
            _apply(records, event)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            log.warning("order log event %d skipped in recovery: %s %s", index + 1, type(exc).__name__, exc)
            continue
    for record in records.values():
        for fill in record.fills:
            fill.order_id = record.order_id  # the number the order goes by now (see _apply)
    return sorted(records.values(), key=lambda r: r.order_id)


# What an event of a kind must carry to be applied at all; checked before anything changes, so a bad
# event leaves the record as it was.
_NEEDS = {"FILL": ("fill_id", "fill_quantity", "fill_price")}


def _apply(records: dict[Any, OrderRecord], event: dict[str, Any]) -> None:
    order_id = event.get("order_id")
    if not isinstance(order_id, int):
        return
    for name in _NEEDS.get(event["event_type"], ()):
        if name not in event:
            raise KeyError(name)
    record = records.get(order_key(event))
    if record is None:
        record = OrderRecord(
            order_id=order_id,
            symbol=str(event["symbol"]),
            action=str(event["action"]),
            total_quantity=int(event["quantity"]),
            order_type=str(event.get("order_type", "MARKET")),
            limit_price=_price(event.get("limit_price")),
            stop_price=_price(event.get("stop_price")),
            tif=str(event.get("tif", "DAY")),
            outside_rth=bool(event.get("outside_rth", False)),
            submission_time=_parse_time(event.get("submission_time")),
            order_ref=event.get("order_ref") or "",
        )
        records[order_key(event)] = record
    else:
        # An order carried into a later day under a new number (its old one was taken there) keeps it.
        record.order_id = order_id
        if "quantity" in event:
            # A modify can change the size and prices; every event carries them as they were at that moment.
            record.total_quantity = int(event["quantity"])
            record.limit_price = _price(event.get("limit_price"))
            record.stop_price = _price(event.get("stop_price"))
            record.remaining_quantity = record.total_quantity - record.filled_quantity
    kind = event.get("event_type")
    _apply_attempt(record, event)
    if kind == "FILL":
        fill = Fill(
            fill_id=str(event["fill_id"]),
            order_id=order_id,
            symbol=record.symbol,
            quantity=int(event["fill_quantity"]),
            price=float(event["fill_price"]),
            timestamp=_parse_time(event.get("fill_time")) or _parse_time(event["timestamp"]) or datetime.now(),
            commission=float(event.get("commission") or 0.0),
            side=record.action,
        )
        corrects = event.get("corrects")
        if corrects:
            record.replace_fill(corrects, fill)
        else:
            record.add_fill(fill)
    elif kind == "COMMISSION":
        for fill in record.fills:
            if fill.fill_id == event.get("fill_id"):
                fill.commission = float(event.get("commission") or 0.0)
    if kind == "RETRY":
        record.retry_count = int(event.get("retry_count", record.retry_count))
    if kind == "ERROR" and event.get("error_message") and not event.get("order_unchanged"):
        record.error_message = str(event["error_message"])
    if kind == "CANCELLATION":
        record.cancel_requested = bool(event.get("requested", record.cancel_requested))
    status = event.get("status")
    if status and kind != "NOTICE":
        record.status = OrderStatus(status)
    record.last_update_time = _parse_time(event.get("timestamp")) or record.last_update_time


def _apply_attempt(record: OrderRecord, event: dict[str, Any]) -> None:
    """Attempts are written ahead (their ref, before anything is sent) and the broker's order id follows
    in a later line, once the order went out."""
    ref = event.get("attempt_ref")
    if not ref:
        return
    base, _, number = ref.rpartition("/")
    plausible = number.isascii() and number.isdigit() and len(number) <= 4 and 1 <= int(number) <= MAX_ATTEMPTS
    if base != record.order_ref or not plausible:
        return  # not an attempt of this order: a corrupt or foreign ref
    broker_order_id = event.get("broker_order_id") or 0
    perm_id = event.get("perm_id") or 0
    for attempt in record.attempts:
        if attempt.order_ref == ref:
            attempt.order_id = broker_order_id or attempt.order_id
            attempt.perm_id = perm_id or attempt.perm_id
            return
    # An attempt whose line never made it (a log written by an older version, or lost) keeps its number
    # taken, so the next attempt after a restart cannot reuse the ref of one that may have reached IB.
    for missing in range(len(record.attempts) + 1, int(number)):
        record.attempts.append(BrokerAttempt(order_ref=f"{base}/{missing}", quantity=record.remaining_quantity))
    record.attempts.append(
        BrokerAttempt(order_ref=ref, quantity=record.remaining_quantity, order_id=broker_order_id, perm_id=perm_id)
    )
