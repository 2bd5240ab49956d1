"""One journal line, read strictly: every field of every record is type- and range-checked.

The state file (state.py) is read back into a trading account, so a value that the gateway itself could
never have written must not load: NaN cash switches the margin check off (every comparison with NaN is
false), a string where a number belongs fails deep inside the desk, a NUL in a text field breaks the wire
protocol (fields are NUL-separated). What loads is what the desk accepts from a client:

* money (cash, realized P&L, average cost) is any finite number. Cash may be negative: this is a margin
  account (25 % initial margin), and a debit balance is what buying on margin looks like at IB.
* quantities are whole numbers; an order's quantity is positive, its filled quantity between 0 and it;
  an execution's shares are positive. A position may be short (negative).
* prices are finite; a limit or stop price the order type uses is positive and at most MAX_PRICE, as the
  desk requires; an execution's price is positive; commissions are not negative.
* ids are integers in the range the wire protocol reads (64-bit); order ids and permIds are positive.
* quotes (a line's "market") have positive prices within MAX_PRICE, an ask not below the bid, a low not
  above the high and a whole, non-negative volume.
* times are ISO 8601 and between the years 2000 and 9998; text is text without NUL or lone surrogates;
  choices (action, order type, TIF, status, side) are one of the values the desk writes.

Unknown keys are ignored (and are not written back: the file is rewritten from the account).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .account import Holding
from .book import LIVE_STATUSES, WorkingOrder
from .market import Quote, SavedQuote
from .matching import MAX_PRICE, SUPPORTED_ORDER_TYPES, SUPPORTED_TIFS
from .records import Execution

INT_LIMIT = 2**63  # the wire protocol's integers (requests.py) are 64-bit
ORDER_STATUSES = frozenset({*LIVE_STATUSES, "Cancelled", "Filled"})
EARLIEST_YEAR, LATEST_YEAR = 2000, 9998  # astimezone() fails near the ends of datetime's range


class CorruptState(Exception):
    """A journal line (or the file) cannot be read back; the message says which field and why."""


@dataclass(frozen=True)
class SavedHolding:
    symbol: str
    qty: float
    avg_cost: float
    realized: float

    def holding(self, instrument: Any) -> Holding:
        return Holding(instrument, self.qty, self.avg_cost, self.realized)


@dataclass(frozen=True)
class SavedOrder:
    """A WorkingOrder without its instrument (looked up by symbol once the whole journal is read)."""

    symbol: str
    fields: dict[str, Any]

    @property
    def perm_id(self) -> int:
        return int(self.fields["perm_id"])

    def order(self, instrument: Any) -> WorkingOrder:
        return WorkingOrder(instrument=instrument, **self.fields)


@dataclass
class Change:
    """One journal line, checked: the snapshot (line 1) or a change set."""

    cash: tuple[float, float] | None = None  # (cash, realized P&L)
    holdings: list[SavedHolding] = field(default_factory=list)
    orders: list[SavedOrder] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)
    order_ids: dict[int, int] = field(default_factory=dict)
    sequences: tuple[int, int] | None = None  # (permId, execId sequence)
    at: datetime | None = None  # when the line was written ("saved" of a snapshot, "at" of a change)
    market: list[SavedQuote] = field(default_factory=list)  # the quotes, where the line holds them


def read_change(r: dict[str, Any], *, snapshot: bool) -> Change:
    """The checked content of one line; a snapshot must hold the whole account."""
    change = Change()
    if snapshot or "cash" in r:
        change.cash = (finite(r, "cash"), finite(r, "realized_pnl"))
    change.holdings = [read_holding(x) for x in records(r, "holdings")]
    change.orders = [read_order(x) for x in records(r, "orders")]
    change.executions = [read_execution(x) for x in records(r, "executions")]
    order_ids = r.get("order_ids", {})
    if not isinstance(order_ids, dict):
        raise CorruptState(f"order_ids is not a mapping: {show(order_ids)}")
    for key in order_ids:
        change.order_ids[_client_id(key)] = integer(order_ids, key, low=0)
    if snapshot or "perm_id" in r:
        change.sequences = (integer(r, "perm_id", low=0), integer(r, "exec_seq", low=0))
    change.market = read_market(r)
    when = "saved" if snapshot else "at"
    change.at = None if r.get(when) is None else timestamp(r, when)
    return change


# --- records -------------------------------------------------------------------------------------------
def holding_record(h: Holding) -> dict[str, Any]:
    return {"symbol": h.instrument.symbol, "qty": h.qty, "avg_cost": h.avg_cost, "realized": h.realized}


def read_holding(r: dict[str, Any]) -> SavedHolding:
    return SavedHolding(symbol(r), finite(r, "qty", whole=True), finite(r, "avg_cost"), finite(r, "realized"))


def order_record(o: WorkingOrder) -> dict[str, Any]:
    return {
        "order_id": o.order_id, "client_id": o.client_id, "perm_id": o.perm_id, "symbol": o.instrument.symbol,
        "action": o.action, "total_qty": o.total_qty, "order_type": o.order_type, "lmt_price": o.lmt_price,
        "aux_price": o.aux_price, "tif": o.tif, "order_ref": o.order_ref, "account": o.account,
        "oca_group": o.oca_group, "outside_rth": o.outside_rth, "parent_id": o.parent_id,
        "placed_at": o.placed_at.isoformat(), "status": o.status, "filled": o.filled,
        "avg_fill_price": o.avg_fill_price, "last_fill_price": o.last_fill_price, "triggered": o.triggered,
        "commission_paid": o.commission_paid,
        "completed_at": o.completed_at.isoformat() if o.completed_at else None,
        "completed_status": o.completed_status,
        "oca_type": o.oca_type, "trailing_percent": o.trailing_percent, "trail_stop_price": o.trail_stop_price,
        "lmt_price_offset": o.lmt_price_offset, "good_till_date": o.good_till_date,
        "expires_at": o.expires_at.isoformat() if o.expires_at else None,
    }


def read_order(r: dict[str, Any]) -> SavedOrder:
    order_type = choice(r, "order_type", SUPPORTED_ORDER_TYPES)
    needs = {"LMT": ("lmt_price",), "STP": ("aux_price",), "STP LMT": ("lmt_price", "aux_price"),
             "LOC": ("lmt_price",)}.get(order_type, ())
    total_qty = finite(r, "total_qty", whole=True, above=0)
    filled = finite(r, "filled", whole=True, low=0)
    if filled > total_qty:
        raise CorruptState(f"filled {filled:g} is more than the order's quantity {total_qty:g}")
    fields: dict[str, Any] = {
        "order_id": integer(r, "order_id", low=1), "client_id": integer(r, "client_id"),
        "perm_id": integer(r, "perm_id", low=1), "action": choice(r, "action", ("BUY", "SELL")),
        "total_qty": total_qty, "order_type": order_type,
        "lmt_price": _order_price(r, "lmt_price", "lmt_price" in needs),
        "aux_price": _order_price(r, "aux_price", "aux_price" in needs),
        "tif": choice(r, "tif", SUPPORTED_TIFS), "order_ref": text(r, "order_ref"), "account": text(r, "account"),
        "oca_group": text(r, "oca_group"), "outside_rth": flag(r, "outside_rth"),
        "parent_id": integer(r, "parent_id"), "placed_at": timestamp(r, "placed_at"),
        "status": choice(r, "status", ORDER_STATUSES), "filled": filled,
        "avg_fill_price": finite(r, "avg_fill_price", low=0), "last_fill_price": finite(r, "last_fill_price", low=0),
        "triggered": flag(r, "triggered"), "commission_paid": finite(r, "commission_paid", low=0),
        "completed_at": None if r.get("completed_at") is None else timestamp(r, "completed_at"),
        "completed_status": text(r, "completed_status"),
    }
    fields.update(_linked_and_timed(r, order_type, fields["tif"], fields["aux_price"]))
    return SavedOrder(symbol(r), fields)


def _linked_and_timed(r: dict[str, Any], order_type: str, tif: str, aux_price: float | None) -> dict[str, Any]:
    """The OCA, trailing and good-till-date fields; a file written before they existed has none of them."""
    def maybe(key: str, read: Any) -> Any:
        return None if r.get(key) is None else read(key)

    fields = {
        "oca_type": integer(r, "oca_type", low=0, high=3) if "oca_type" in r else 0,
        "trailing_percent": maybe("trailing_percent", lambda k: finite(r, k, above=0)),
        "trail_stop_price": maybe("trail_stop_price", lambda k: _order_price(r, k, True)),
        "lmt_price_offset": maybe("lmt_price_offset", lambda k: finite(r, k, low=0)),
        "good_till_date": text(r, "good_till_date") if "good_till_date" in r else "",
        "expires_at": maybe("expires_at", lambda k: timestamp(r, k)),
    }
    percent = fields["trailing_percent"]
    if percent is not None and percent >= 100:
        raise CorruptState(f"trailing_percent {percent:g} is not below 100")
    if (fields["lmt_price_offset"] or 0) > MAX_PRICE:
        raise CorruptState(f"lmt_price_offset {fields['lmt_price_offset']:g} is above the highest price")
    if order_type in ("TRAIL", "TRAIL LIMIT") and (aux_price is None) == (percent is None):
        raise CorruptState(f"a {order_type} order needs either a trailing amount or a trailing percent")
    if tif == "GTD" and fields["expires_at"] is None:
        raise CorruptState("a GTD order has no expires_at")
    return fields


def _order_price(r: dict[str, Any], key: str, used: bool) -> float | None:
    # As the desk checks a new order: a price the type uses is positive, any price stays within MAX_PRICE.
    if r.get(key) is None and not used:
        return None
    price = finite(r, key, above=0 if used else None, low=None if used else -MAX_PRICE)
    if price > MAX_PRICE:
        raise CorruptState(f"{key} {price:g} is above the highest price the gateway accepts ({MAX_PRICE:,.0f})")
    return price


def execution_record(e: Execution) -> dict[str, Any]:
    return {
        "exec_id": e.exec_id, "order_id": e.order_id, "perm_id": e.perm_id, "client_id": e.client_id,
        "symbol": e.symbol, "con_id": e.con_id, "side": e.side, "shares": e.shares, "price": e.price,
        "cum_qty": e.cum_qty, "avg_price": e.avg_price, "order_ref": e.order_ref, "time": e.time.isoformat(),
        "account": e.account, "exchange": e.exchange, "commission": e.commission, "realized_pnl": e.realized_pnl,
        "corrects": e.corrects,
    }


def read_execution(r: dict[str, Any]) -> Execution:
    return Execution(
        exec_id=text(r, "exec_id", empty=False), order_id=integer(r, "order_id", low=1),
        perm_id=integer(r, "perm_id", low=1), client_id=integer(r, "client_id"), symbol=symbol(r),
        con_id=integer(r, "con_id", low=1), side=choice(r, "side", ("BOT", "SLD")),
        shares=finite(r, "shares", whole=True, above=0), price=finite(r, "price", above=0),
        cum_qty=finite(r, "cum_qty", whole=True, low=0), avg_price=finite(r, "avg_price"),
        order_ref=text(r, "order_ref"), time=timestamp(r, "time"), account=text(r, "account"),
        exchange=text(r, "exchange"), commission=finite(r, "commission", low=0),
        realized_pnl=None if r.get("realized_pnl") is None else finite(r, "realized_pnl"),
        corrects=None if r.get("corrects") is None else text(r, "corrects", empty=False),
    )


QUOTE_PRICES = ("bid", "ask", "last", "open", "high", "low", "close")


def market_record(quotes: dict[str, Quote], at: datetime) -> dict[str, Any]:
    """The quotes as a line's "market": when they were taken, and each symbol's prices and volume."""
    return {"at": at.isoformat(timespec="milliseconds"), "quotes": [
        {"symbol": symbol, **{key: getattr(q, key) for key in QUOTE_PRICES}, "volume": q.volume}
        for symbol, q in quotes.items()]}


def read_market(r: dict[str, Any]) -> list[SavedQuote]:
    value = r.get("market")
    if value is None:
        return []
    if not isinstance(value, dict):
        raise CorruptState(f"market is not a JSON object: {show(value)}")
    at = timestamp(value, "at")
    return [read_quote(q, at) for q in records(value, "quotes")]


def read_quote(r: dict[str, Any], at: datetime) -> SavedQuote:
    # As the gateway quotes: positive prices within MAX_PRICE, the ask not below the bid, the day's low not
    # above its high.
    prices = {key: finite(r, key, above=0) for key in QUOTE_PRICES}
    for key, price in prices.items():
        if price > MAX_PRICE:
            raise CorruptState(f"{key} {price:g} is above the highest price the gateway accepts ({MAX_PRICE:,.0f})")
    if prices["ask"] < prices["bid"]:
        raise CorruptState(f"ask {prices['ask']:g} is below bid {prices['bid']:g}")
    if prices["high"] < prices["low"]:
        raise CorruptState(f"high {prices['high']:g} is below low {prices['low']:g}")
    return SavedQuote(symbol(r), volume=integer(r, "volume", low=0), at=at, **prices)


# --- fields --------------------------------------------------------------------------------------------
def show(value: Any) -> str:
    """A value for an error message, cut short: a damaged field may be megabytes long."""
    text_ = repr(value)
    return text_ if len(text_) <= 40 else text_[:37] + "..."


def _get(r: Any, key: str) -> Any:
    if not isinstance(r, dict):
        raise CorruptState(f"a record is not a JSON object: {show(r)}")
    if key not in r:
        raise CorruptState(f"missing field {key!r}")
    return r[key]


def integer(r: dict[str, Any], key: str, *, low: int = -INT_LIMIT, high: int = INT_LIMIT - 1) -> int:
    value = _get(r, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CorruptState(f"{key} is not an integer: {show(value)}")
    if not low <= value <= high:
        raise CorruptState(f"{key} {show(value)} is out of range ({low} to {high})")
    return value


def finite(
    r: dict[str, Any], key: str, *, whole: bool = False, low: float | None = None, above: float | None = None,
) -> float:
    """A finite number (JSON's int or float; NaN, Infinity and 1e400 are refused), optionally whole and bounded."""
    value = _get(r, key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CorruptState(f"{key} is not a number: {show(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise CorruptState(f"{key} is too large: {show(value)}") from None
    if not math.isfinite(number):
        raise CorruptState(f"{key} is not a finite number: {show(value)}")
    if whole and not number.is_integer():
        raise CorruptState(f"{key} is not a whole number: {show(value)}")
    if low is not None and number < low:
        raise CorruptState(f"{key} {number:g} is below {low:g}")
    if above is not None and not number > above:
        raise CorruptState(f"{key} {number:g} is not above {above:g}")
    return number


def text(r: dict[str, Any], key: str, *, empty: bool = True) -> str:
    value = _get(r, key)
    if not isinstance(value, str):
        raise CorruptState(f"{key} is not text: {show(value)}")
    if not empty and not value:
        raise CorruptState(f"{key} is empty")
    if "\0" in value:
        raise CorruptState(f"{key} holds a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CorruptState(f"{key} holds a lone surrogate: {show(value)}") from None
    return value


def symbol(r: dict[str, Any]) -> str:
    return text(r, "symbol", empty=False)


def choice(r: dict[str, Any], key: str, allowed: tuple[str, ...] | frozenset[str]) -> str:
    value = _get(r, key)
    if not isinstance(value, str) or value not in allowed:
        raise CorruptState(f"{key} is not one of {', '.join(sorted(allowed))}: {show(value)}")
    return value


def flag(r: dict[str, Any], key: str) -> bool:
    value = _get(r, key)
    if not isinstance(value, bool):
        raise CorruptState(f"{key} is not true or false: {show(value)}")
    return value


def timestamp(r: dict[str, Any], key: str) -> datetime:
    """An ISO 8601 time; one without a zone is local time (as files of earlier versions may hold)."""
    value = text(r, key)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise CorruptState(f"{key} is not a time: {show(value)}") from None
    if not EARLIEST_YEAR <= when.year <= LATEST_YEAR:
        raise CorruptState(f"{key} is not a plausible time: {show(value)}")
    return when if when.tzinfo is not None else when.astimezone()


def records(r: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = r.get(key, [])
    if not isinstance(value, list):
        raise CorruptState(f"{key} is not a list: {show(value)}")
    return value


def _client_id(key: str) -> int:
    """A key of order_ids, as str(int) writes it: '-3', '12' (not ' 12', '1_0', '012' or '٣' that int() takes)."""
    digits = key[1:] if key.startswith("-") else key
    if 0 < len(digits) <= 19 and digits.isascii() and digits.isdigit() and str(int(key)) == key:
        value = int(key)
        if -INT_LIMIT <= value < INT_LIMIT:
            return value
    raise CorruptState(f"order_ids has a key that is not a client id: {show(key)}")
