"""Rebuilding today's orders from the order log after a restart or a crash.

A busy day is 600,000 lines and 200,000 orders, so the rebuild streams: each event is applied as the reader
hands it over and dropped, and the work per event is constant however many came before it (a late
commission finds its fill by id, not by scanning the order's fills). ``restore_day`` reads and rebuilds in one
pass and touches nothing but the log: BrokerCore runs it in a worker thread, off the GUI loop.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from .logcheck import event_problem
from .records import LOCAL_FILL_MARK, BrokerAttempt, Fill, OrderRecord, OrderStatus, split_exec_id

if TYPE_CHECKING:
    from .logger import OrderLogger

log = logging.getLogger(__name__)

# More attempts than any retry policy makes: an attempt number above this in the log is corruption, and
# filling the gap up to it would allocate without bound.
MAX_ATTEMPTS = 1000
_STATUS = {s.value: s for s in OrderStatus}  # OrderStatus(value) costs a microsecond per event
# What OrderExecutionHandler._ignore_status notes in the log: "status <status> ignored: <why>". IB repeats an
# order's statuses at every connect, so a restart must know which of them the log has already noted.
_IGNORED = re.compile(r"status (\w+) ignored: ")


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


def record_key(record: OrderRecord) -> Any:
    """``order_key`` of a rebuilt record."""
    return record.order_ref or record.order_id


class Rebuilder:
    """One record per order as the log last saw it, fed one event at a time (``add``), in file order."""

    def __init__(self) -> None:
        self._records: dict[Any, OrderRecord] = {}
        # The timestamp of each order's last event, parsed once at the end rather than once per event.
        self._last_time: dict[Any, str] = {}
        # One string object per symbol, side, type and time in force, not one per order.
        self._strings: dict[str, str] = {}
        self.noted: dict[Any, set[str]] = {}  # order key -> the statuses the log notes as ignored
        self.events = 0  # applied or skipped: the count of add() calls
        # Orders whose first line here is not their SUBMISSION (they began on an earlier day): their events,
        # kept so they can be applied again after that day's (see broker/restore.py). Few: midnight, GTC.
        self.partial: dict[Any, list[dict[str, Any]]] = {}
        self._renumbered: set[Any] = set()
        self.max_order_id = 0  # the highest order id any event carries, applied or not (ids continue above)

    def add(self, event: dict[str, Any], checked: bool = True) -> None:
        """Apply one event. ``checked``: it comes from the tolerant reader (every field has its type);
        otherwise it is checked here first. An event that cannot be used is skipped, never fatal."""
        self.events += 1
        order_id = event.get("order_id")
        if not isinstance(order_id, int):
            return  # about no order (a notice of the connection, say)
        if order_id > self.max_order_id:
            self.max_order_id = order_id
        if not checked:
            problem = event_problem(event, required=("event_type",))
            if problem is not None:
                log.warning("order log event %d skipped in recovery: %s", self.events, problem)
                return
        try:
            self._apply(event, order_id)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            log.warning("order log event %d skipped in recovery: %s %s", self.events, type(exc).__name__, exc)

    def records(self) -> list[OrderRecord]:
        """The rebuilt orders by order id (call once, at the end)."""
        records = self._records
        for key in self._renumbered:
            record = records[key]
            for fill in record.fills:
                fill.order_id = record.order_id  # the number the order goes by now (see _apply)
        for key, stamp in self._last_time.items():
            when = _parse_time(stamp)
            if when is not None:
                records[key].last_update_time = when
        self._last_time = {}
        for record in records.values():
            record._journal = None  # the rebuild's index of fill ids; the handler makes its own when needed
        return sorted(records.values(), key=_by_order_id)

    def _intern(self, value: Any) -> str:
        text = str(value)
        return self._strings.setdefault(text, text)

    def _apply(self, event: dict[str, Any], order_id: int) -> None:
        # Every line of a day comes through here: the common cases first, and no work an event does not need.
        kind = event["event_type"]
        if kind == "FILL" and not ("fill_id" in event and "fill_quantity" in event and "fill_price" in event):
            raise KeyError("fill_id, fill_quantity and fill_price")  # checked before anything changes
        get = event.get
        key = get("order_ref") or order_id
        record = self._records.get(key)
        if record is None:
            intern = self._intern
            record = self._records[key] = OrderRecord(
                order_id, intern(event["symbol"]), intern(event["action"]), int(event["quantity"]),
                intern(get("order_type", "MARKET")), _price(get("limit_price")),
                submission_time=_parse_time(get("submission_time")),
                stop_price=_price(get("stop_price")),
                tif=intern(get("tif", "DAY")),
                outside_rth=bool(get("outside_rth", False)),
                order_ref=get("order_ref") or "",
            )
            if kind != "SUBMISSION":
                self.partial[key] = []
        elif record.order_id != order_id:
            # An order carried into a later day under a new number (its old one was taken there) keeps it.
            record.order_id = order_id
            self._renumbered.add(key)
        if key in self.partial:
            self.partial[key].append(event)
        if "quantity" in event:
            # A modify can change the size and prices; every event carries them as they were at that moment.
            limit, stop = get("limit_price"), get("stop_price")
            if event["quantity"] != record.total_quantity or limit != record.limit_price or stop != record.stop_price:
                record.total_quantity = int(event["quantity"])
                record.limit_price = _price(limit)
                record.stop_price = _price(stop)
                record.remaining_quantity = record.total_quantity - record.filled_quantity
        if get("attempt_ref"):
            _apply_attempt(record, event)
        stamp = get("timestamp")
        if kind == "FILL":
            fill = Fill(str(event["fill_id"]), order_id, record.symbol, int(event["fill_quantity"]),
                        float(event["fill_price"]),
                        _parse_time(get("fill_time")) or _parse_time(stamp) or datetime.now(),
                        float(get("commission") or 0.0), record.action)
            corrects = get("corrects")
            if corrects:
                record.replace_fill(corrects, fill)
            else:
                record.add_fill(fill)
            if stamp is None:
                self._last_time.pop(key, None)  # the fill's own time is the last change
        elif kind == "COMMISSION":
            fill_id = get("fill_id")
            fills = record.fills
            if fills and fills[-1].fill_id == fill_id:
                # Most often the fill just before it. No view of the record exists yet: changed in place.
                fills[-1].commission = float(get("commission") or 0.0)
            elif fill_id is not None:
                record.set_fill_commission(fill_id, float(get("commission") or 0.0))
        elif kind == "RETRY":
            record.retry_count = int(get("retry_count", record.retry_count))
        elif kind == "ERROR":
            if get("error_message") and not get("order_unchanged"):
                record.error_message = str(event["error_message"])
        elif kind == "CANCELLATION":
            record.cancel_requested = bool(get("requested", record.cancel_requested))
        elif kind == "NOTICE":
            ignored = _IGNORED.match(get("message") or "")
            if ignored:
                self.noted.setdefault(key, set()).add(ignored.group(1))
        status = get("status")
        if status and kind != "NOTICE":
            record.status = _STATUS[status]
        if isinstance(stamp, str):  # a checked event's timestamp is a time
            self._last_time[key] = stamp


def _by_order_id(record: OrderRecord) -> int:
    return record.order_id


def rebuild_orders(events: Iterable[dict[str, Any]], checked: bool = False) -> list[OrderRecord]:
    """One record per order, as the log last saw it. Events come from the tolerant reader
    (``logreader``); any that still cannot be used (a fill for an order never submitted, a field
    missing) are skipped, never fatal. ``checked``: the events are the reader's own (no need to check again)."""
    rebuilder = Rebuilder()
    for event in events:
        rebuilder.add(event, checked=checked)
    return rebuilder.records()


def _apply_attempt(record: OrderRecord, event: dict[str, Any]) -> None:
    """Attempts are written ahead (their ref, before anything is sent) and the broker's order id follows
    in a later line, once the order went out."""
    ref = event["attempt_ref"]
    attempts = record.attempts
    if attempts:
        if attempts[-1].order_ref == ref:  # the line after the send, most often
            attempts[-1].order_id = event.get("broker_order_id") or attempts[-1].order_id
            attempts[-1].perm_id = event.get("perm_id") or attempts[-1].perm_id
            return
    elif ref.endswith("/1") and ref[:-2] == record.order_ref:  # the first, written ahead
        attempts.append(BrokerAttempt(ref, record.remaining_quantity, event.get("broker_order_id") or 0,
                                      event.get("perm_id") or 0))
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


@dataclass
class RestoredDay:
    """A day's orders rebuilt from its log: what a restart hands the handler (``OrderExecutionHandler.restore``)."""

    records: list[OrderRecord] = field(default_factory=list)
    # Above every order id the day's log holds, of any client sharing it: new orders must not reuse one.
    next_order_id: int = 1
    # Per order reference, the statuses the log already notes as ignored (the handler does not note them again).
    noted: dict[str, set[str]] = field(default_factory=dict)
    report: str | None = None  # what the reader skipped, for the trader; None when the day read cleanly
    events: int = 0  # the events read (applied, or skipped as unusable)


def restore_day(logger: OrderLogger, day: date | None = None) -> RestoredDay:
    """Read a day of ``logger``'s log (today by default) and rebuild its orders, in one streaming pass.

    Pure: it reads the log and changes nothing, so it may run in a worker thread while the loop goes on."""
    rebuilder = Rebuilder()
    read = logger.scan_day(rebuilder.add, day)
    records = rebuilder.records()
    noted = {key: texts for key, texts in rebuilder.noted.items() if isinstance(key, str)}
    return RestoredDay(records, rebuilder.max_order_id + 1, noted, read.report(), rebuilder.events)


@dataclass
class RestorePlan:
    """What ``OrderExecutionHandler.apply_restore`` adds to its indexes, built beforehand (``plan_restore``)."""

    orders: dict[int, OrderRecord]
    fills_by_exec: dict[str, Fill]
    fill_by_exec_base: dict[str, Fill]  # IB's executions by their id up to the last dot (corrections share it)
    attempts_by_ref: dict[str, tuple[OrderRecord, BrokerAttempt]]
    noted: set[tuple[int, str]]  # (order id, status) the log already notes as ignored
    next_order_id: int
    seen_exec_ids: set[str] = field(default_factory=set)  # the keys of fills_by_exec


def plan_restore(
    records: Iterable[OrderRecord], next_order_id: int | None = None, noted: dict[str, set[str]] | None = None
) -> RestorePlan:
    """The handler's indexes for ``records`` (see ``OrderExecutionHandler.restore``). Pure: reads the records
    only, so the work for a big day can be done in a worker thread and handed to the loop in one piece."""
    orders: dict[int, OrderRecord] = {}
    fills: dict[str, Fill] = {}
    bases: dict[str, Fill] = {}
    attempts: dict[str, tuple[OrderRecord, BrokerAttempt]] = {}
    notes: set[tuple[int, str]] = set()
    next_id = next_order_id or 1
    for record in records:
        orders[record.order_id] = record
        if record.order_id >= next_id:
            next_id = record.order_id + 1
        local = record.order_ref + LOCAL_FILL_MARK
        for fill in record.fills:
            fills[fill.fill_id] = fill
            if not fill.fill_id.startswith(local):
                bases[split_exec_id(fill.fill_id)[0]] = fill
        for attempt in record.attempts:
            attempts[attempt.order_ref] = (record, attempt)
        if noted and record.order_ref in noted:
            notes.update((record.order_id, text) for text in noted[record.order_ref])
    return RestorePlan(orders, fills, bases, attempts, notes, next_id, set(fills))
