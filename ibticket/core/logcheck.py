"""The order log's field checks: what every field of a line must hold to be used (Qt-free).

A log line is data from disk, not from us, so ``logreader`` checks every field of every line against what the
logger writes before anything uses it. Each check returns what is wrong with a value, or None; the reason
names the field and the value, for the trader.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .records import MAX_PRICE, OrderStatus

# Integers beyond this cannot round-trip through a float (nor be an order id, a quantity or an IB code);
# a larger one in the log is corruption, and would overflow wherever it meets a float.
MAX_INT = 2**53
_STATUSES = frozenset(s.value for s in OrderStatus)


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
_number = _check(_is_number, "a finite number")
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

# What the logger writes in each field, as one of the checks above. The checks word the reason a value is
# refused; event_problem first tries the fast tables derived from this below, which only ever accept.
FIELD_KINDS: dict[str, str] = {
    "timestamp": "time",
    "event_type": "nonempty_text",
    # order_fields(): on every event about an order
    "order_id": "opt_count",
    "symbol": "text",
    "action": "text",
    "quantity": "count",
    "order_type": "text",
    "status": "status",
    "submission_time": "opt_time",
    "filled_quantity": "count",
    "remaining_quantity": "count",
    "avg_fill_price": "avg_price",
    "order_ref": "opt_text",
    "limit_price": "opt_price",
    "stop_price": "opt_price",
    "tif": "text",
    "outside_rth": "flag",
    # attempts
    "attempt": "count",
    "attempt_ref": "opt_text",
    "broker_order_id": "opt_count",
    "perm_id": "opt_count",
    # fills and commissions
    "fill_id": "text",
    "fill_quantity": "count",
    "fill_price": "price",
    "commission": "opt_money",
    "fill_time": "opt_time",
    "corrects": "opt_text",
    # errors, retries, statuses, cancels
    "error_code": "opt_int",
    "error_message": "opt_text",
    "retry_count": "count",
    "retry_scheduled": "flag",
    "delay": "opt_number",
    "max_retries": "count",
    "message": "opt_text",
    "reason": "opt_text",
    "old_status": "opt_text",
    "new_status": "opt_text",
    "requested": "flag",
    "adopted": "flag",
    "carried_from": "opt_text",
    "order_unchanged": "flag",
}
_CHECKS_BY_KIND = {
    "time": _time, "opt_time": _opt_time, "text": _text, "opt_text": _opt_text, "nonempty_text": _nonempty_text,
    "count": _count, "opt_count": _opt_count, "opt_int": _opt_int, "number": _number, "opt_number": _opt_number,
    "flag": _flag, "status": _status, "scalar": _scalar, "price": _price, "opt_price": _opt_price,
    "avg_price": _avg_price, "opt_money": _opt_money,
}
FIELD_CHECKS: dict[str, Callable[[Any], str | None]] = {
    name: _CHECKS_BY_KIND[kind] for name, kind in FIELD_KINDS.items()
}
REQUIRED_FIELDS = ("timestamp", "event_type")

# Every line of a day passes through event_problem (600,000 lines for a big day), and a call to a check per
# field costs about as much as parsing the line. Lines come in a few shapes (the same fields, the same types of
# value), so what a shape needs checked is worked out once: which values are whole numbers that must be in
# range, which floats must be finite, which texts must be times or statuses. A line is then checked with a
# few C-level calls (itemgetter, min, max, sum) plus a parse of its times. Anything the shape does not accept
# goes to the per-field checks, which word the reason (or accept it after all); so the fast path only ever
# accepts what the checks accept.
_COUNT_KINDS = frozenset({"count", "opt_count"})
_SIGNED_KINDS = frozenset({"opt_int", "number", "opt_number", "scalar"})
_FLOAT_KINDS = frozenset({"number", "opt_number", "scalar"})
_ANY_TEXT_KINDS = frozenset({"text", "opt_text", "scalar"})
_NONE_KINDS = frozenset({"opt_count", "opt_int", "opt_number", "opt_text", "opt_time", "status", "scalar",
                         "opt_price", "opt_money"})
# Numbers that must be finite and in range (see accepts): prices and money.
_RANGES = frozenset({"price", "opt_price", "avg_price", "opt_money"})
_MAX_SHAPES = 4096


def _getter(names: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]] | None:
    if not names:
        return None
    return operator.itemgetter(*names, names[0])  # always a tuple, even for one name


@dataclass(frozen=True)
class _Shape:
    counts: Callable[[dict[str, Any]], tuple[Any, ...]] | None  # whole numbers, 0 to MAX_INT
    signed: Callable[[dict[str, Any]], tuple[Any, ...]] | None  # whole numbers, -MAX_INT to MAX_INT
    floats: Callable[[dict[str, Any]], tuple[Any, ...]] | None  # finite
    statuses: Callable[[dict[str, Any]], tuple[Any, ...]] | None  # order statuses
    nonempty: Callable[[dict[str, Any]], tuple[Any, ...]] | None  # not ""
    times: tuple[str, ...]  # ISO date-times
    # Prices above zero / from zero / money from -MAX_PRICE, each up to MAX_PRICE
    positive: Callable[[dict[str, Any]], tuple[Any, ...]] | None = None
    from_zero: Callable[[dict[str, Any]], tuple[Any, ...]] | None = None
    money: Callable[[dict[str, Any]], tuple[Any, ...]] | None = None


def _shape_of(key: tuple[Any, ...]) -> _Shape | None:
    """What a line with these fields and these types of value needs checked; None: ask the checks."""
    half = len(key) // 2
    names, types = key[:half], key[half:]
    if any(name not in names for name in REQUIRED_FIELDS):
        return None
    counts, signed, floats, statuses, nonempty, times = [], [], [], [], [], []
    ranged: dict[str, list[str]] = {"price": [], "opt_price": [], "avg_price": [], "opt_money": []}
    for name, kind in zip(names, types, strict=True):
        field_kind = FIELD_KINDS.get(name, "scalar")
        if field_kind in _RANGES and kind in (int, float):
            ranged[field_kind].append(name)
            continue
        if kind is str and field_kind in _ANY_TEXT_KINDS:
            continue
        if kind is str and field_kind in ("time", "opt_time"):
            times.append(name)
        elif kind is str and field_kind == "status":
            statuses.append(name)
        elif kind is str and field_kind == "nonempty_text":
            nonempty.append(name)
        elif kind is int and field_kind in _COUNT_KINDS:
            counts.append(name)
        elif kind is int and field_kind in _SIGNED_KINDS:
            signed.append(name)
        elif kind is float and field_kind in _FLOAT_KINDS:
            floats.append(name)
        elif not ((kind is type(None) and field_kind in _NONE_KINDS)
                  or (kind is bool and field_kind in ("flag", "scalar"))):
            return None
    return _Shape(_getter(counts), _getter(signed), _getter(floats), _getter(statuses), _getter(nonempty),
                  tuple(times), _getter(ranged["price"] + ranged["opt_price"]), _getter(ranged["avg_price"]),
                  _getter(ranged["opt_money"]))


_shapes: dict[tuple[Any, ...], _Shape | None] = {}
_fromisoformat = datetime.fromisoformat


def accepts(event: dict[str, Any]) -> bool:
    """True only when ``event_problem(event)`` is None, decided from the event's shape (its fields and the
    types of their values) with a few C-level calls; False: ask event_problem (which says why, or accepts)."""
    key = (*event, *map(type, event.values()))
    try:
        shape = _shapes[key]
    except KeyError:
        if len(_shapes) >= _MAX_SHAPES:  # a file of random fields: do not grow without bound
            _shapes.clear()
        shape = _shapes[key] = _shape_of(key)
    if shape is None:
        return False
    if shape.counts is not None:
        values = shape.counts(event)
        if min(values) < 0 or max(values) > MAX_INT:
            return False
    if shape.signed is not None:
        values = shape.signed(event)
        if min(values) < -MAX_INT or max(values) > MAX_INT:
            return False
    if shape.floats is not None:
        total = sum(shape.floats(event))
        if total - total != 0.0:  # an inf or a nan among them (or a sum too big: the checks decide)
            return False
    for getter, low, low_ok in ((shape.positive, 0.0, False), (shape.from_zero, 0.0, True),
                                (shape.money, -MAX_PRICE, True)):
        if getter is not None:
            values = getter(event)
            total = sum(values)
            if total - total != 0.0 or max(values) > MAX_PRICE:  # an inf or a nan among them, or too big
                return False
            least = min(values)
            if least < low or (least == low and not low_ok):
                return False
    if shape.statuses is not None and not _STATUSES.issuperset(shape.statuses(event)):
        return False
    if shape.nonempty is not None and not all(shape.nonempty(event)):
        return False
    try:
        for name in shape.times:
            _fromisoformat(event[name])
    except ValueError:
        return False
    return True


def event_problem(event: Any, required: Iterable[str] = REQUIRED_FIELDS) -> str | None:
    """What makes ``event`` unusable as a log event, or None when every field has the type it should."""
    if not isinstance(event, dict):
        return f"not an event (a JSON {type(event).__name__}, not an object)"
    for name in required:
        if name not in event:
            return f"not an event (no {name!r})"
    if accepts(event):
        return None
    for name, value in event.items():
        problem = FIELD_CHECKS.get(name, _scalar)(value)
        if problem is not None:
            return f"{name!r}: {problem}"
    return None
