"""Precautionary settings, as in TWS: a second look at orders that are larger or further from the market
than the trader usually means.

A breach does not refuse the order; the window shows the messages and offers "Override and send". No Qt here,
so the rules are tested without a QApplication; docs/orderline.md describes them for the user.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from ibticket.core.records import ACTIONS, ORDER_TYPES

# Values within this relative distance of a percent limit count as on it: 105 against 100 at 5% is not a
# breach because a float division made it 5.000000000000001%.
_PERCENT_SLACK = 1e-9


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _positive_finite(value: object) -> bool:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (OverflowError, TypeError, ValueError):  # an int too large for a float is no usable limit either
        return False
    return _is_number(value) and math.isfinite(number) and number > 0


def _price_text(price: float) -> str:
    # Sub-dollar stocks tick in hundredths of a cent; two decimals would print them all as 0.00. A price is
    # never rounded away either: the message must show the price the order carries (its header does).
    places = 2 if price >= 1 else 4
    while places < 6 and round(price, places) != price:
        places += 1
    return f"{price:,.{places}f}"


@dataclass
class Precautions:
    size_limit: int = 5000  # shares per order
    value_limit: float = 250_000.0  # USD per order
    percent_from_market: float = 5.0  # how far a limit or stop price may be from the market, in percent
    enabled: bool = True

    def __post_init__(self) -> None:
        if not (_positive_finite(self.size_limit) and float(self.size_limit).is_integer()):
            raise ValueError(f"Size limit must be a whole number of shares above 0, not {self.size_limit!r}")
        if not _positive_finite(self.value_limit):
            raise ValueError(f"Total value limit must be an amount above 0, not {self.value_limit!r}")
        if not _positive_finite(self.percent_from_market):
            raise ValueError(f"Percent from market must be a percentage above 0, not {self.percent_from_market!r}")
        if not isinstance(self.enabled, bool):
            raise ValueError(f"Precautions on/off must be true or false, not {self.enabled!r}")
        self.size_limit = int(self.size_limit)
        self.value_limit = float(self.value_limit)
        self.percent_from_market = float(self.percent_from_market)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: object, on_bad: Callable[[str, object, str], Any] | None = None) -> Precautions:
        """Settings as stored; a value that is missing or unusable falls back to its default on its own
        (``on_bad(name, value, reason)`` is told about an unusable one).

        Stored values may come back as strings (QSettings in INI files keeps no types), so "5000", "2.5"
        and "true"/"false" are read as what they say.
        """
        stored = data if isinstance(data, dict) else {}
        result = cls()
        for f in fields(cls):
            if f.name not in stored:
                continue
            raw = stored[f.name]
            value = _from_stored(raw, getattr(result, f.name))
            candidate: dict[str, Any] = {f.name: raw if value is None else value}
            try:
                cls(**candidate)  # a value that cannot be read is tried as it is, for its reason
                if value is None:
                    raise ValueError(f"{f.name} cannot be read from {raw!r}")
            except ValueError as exc:
                if on_bad is not None:
                    on_bad(f.name, raw, str(exc))
                continue
            setattr(result, f.name, type(getattr(result, f.name))(value))
        return result


def _from_stored(value: object, default: object) -> object | None:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
            return value.strip().lower() in ("true", "1")
        return None
    if _is_number(value):
        return value
    if isinstance(value, str) and value.strip().isascii():
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class Breach:
    rule: str  # size, value, percent or stop
    limit: float
    value: float
    message: str


def _market_value(value: float | None) -> float | None:
    # IB sends -1 and ib_insync nan for "no data"; neither is a price to compare against.
    if value is None or not _is_number(value) or not math.isfinite(value) or value <= 0:
        return None
    return float(value)


def _check_kind(action: str, order_type: str) -> str:
    side = action.upper() if isinstance(action, str) else ""
    if side not in ACTIONS:
        raise ValueError(f"Side must be BUY or SELL, not {action!r}")
    if order_type not in ORDER_TYPES:
        raise ValueError(f"Order type must be one of {', '.join(ORDER_TYPES)}, not {order_type!r}")
    return side


def market_reference(*, action: str, bid: float | None, ask: float | None, last: float | None) -> float | None:
    """The market price an order is measured against: the touch it would trade at (ask for a buy, bid for a
    sell), else the last trade; None when there is no market data, and then there is no percent check."""
    side = _check_kind(action, "MARKET")
    touch = _market_value(ask if side == "BUY" else bid)
    return touch if touch is not None else _market_value(last)


def estimated_value(*, action: str, quantity: int, order_type: str, limit_price: float | None,
                    stop_price: float | None, bid: float | None, ask: float | None,
                    last: float | None) -> float | None:
    """Quantity times the price the order is expected to trade at, in USD; None when that price is unknown.

    The price is the limit price for LMT and STP LMT, the stop price for STP, and for MKT the market
    reference (see :func:`market_reference`).
    """
    _check_kind(action, order_type)
    if order_type in ("LIMIT", "STOP_LIMIT"):
        price = _market_value(limit_price)
    elif order_type == "STOP":
        price = _market_value(stop_price)
    else:
        price = market_reference(action=action, bid=bid, ask=ask, last=last)
    return None if price is None else quantity * price


def _percent_text(distance: float, limit: float) -> str:
    # One decimal, unless that would print a breach as sitting exactly on the limit ("5.0%; the limit is 5%").
    for places in (1, 2, 3, 4):
        text = f"{distance:.{places}f}"
        if float(text) > limit:
            return text
    return f"{distance:g}"


def _stop_reference(*, action: str, bid: float | None, ask: float | None, last: float | None) -> float | None:
    """The price a stop is triggered by: the last trade (IB's default trigger for US stocks, and the
    embedded gateway's), else the touch the order would trade at; None without market data."""
    traded = _market_value(last)
    return traded if traded is not None else market_reference(action=action, bid=bid, ask=ask, last=None)


def _stop_breach(side: str, order_type: str, stop_price: float | None, bid: float | None, ask: float | None,
                 last: float | None) -> Breach | None:
    # A buy stop triggers when the market trades at or above it, a sell stop at or below: one already on the
    # far side of the market triggers the moment it arrives, which is seldom what a stop is for.
    stop = _market_value(stop_price) if order_type in ("STOP", "STOP_LIMIT") else None
    reference = _stop_reference(action=side, bid=bid, ask=ask, last=last)
    if stop is None or reference is None:
        return None
    if side == "BUY" and stop <= reference:
        where = "below" if stop < reference else "at"
    elif side == "SELL" and stop >= reference:
        where = "above" if stop > reference else "at"
    else:
        return None
    kind = "STP LMT" if order_type == "STOP_LIMIT" else "STP"
    return Breach("stop", reference, stop,
                  f"{side} {kind} {_price_text(stop)} is {where} the market {_price_text(reference)}: "
                  "it triggers at once")


def check(p: Precautions, *, action: str, quantity: int, order_type: str, limit_price: float | None,
          stop_price: float | None, bid: float | None, ask: float | None, last: float | None,
          symbol: str = "") -> list[Breach]:
    """Every precaution the order breaks, in the order size, value, percent, stop; empty when it breaks none
    or precautions are off. Exactly at a limit is within it; a stop exactly at the market triggers at once."""
    side = _check_kind(action, order_type)
    if not p.enabled:
        return []
    breaches: list[Breach] = []
    if quantity > p.size_limit:
        breaches.append(Breach("size", p.size_limit, quantity,
                               f"Size {quantity:,} exceeds the size limit of {p.size_limit:,} shares"))
    value = estimated_value(action=action, quantity=quantity, order_type=order_type, limit_price=limit_price,
                            stop_price=stop_price, bid=bid, ask=ask, last=last)
    # Compared in cents, as shown: a value that prints as the limit is not over it.
    if value is not None and round(value, 2) > round(p.value_limit, 2):
        breaches.append(Breach("value", p.value_limit, value,
                               f"Value {value:,.2f} USD exceeds the total value limit of {p.value_limit:,.2f} USD"))
    breaches.extend(_percent_breaches(p, side, order_type, limit_price, stop_price, bid, ask, last, symbol))
    stop = _stop_breach(side, order_type, stop_price, bid, ask, last)
    if stop is not None:
        breaches.append(stop)
    return breaches


def _percent_breaches(p: Precautions, side: str, order_type: str, limit_price: float | None,
                      stop_price: float | None, bid: float | None, ask: float | None, last: float | None,
                      symbol: str) -> list[Breach]:
    reference = market_reference(action=side, bid=bid, ask=ask, last=last)
    if reference is None:
        return []
    breaches: list[Breach] = []
    prices = []
    if order_type in ("STOP", "STOP_LIMIT"):
        prices.append(("Stop price", stop_price))
    if order_type in ("LIMIT", "STOP_LIMIT"):
        prices.append(("Limit price", limit_price))
    market = f"{symbol} {_price_text(reference)}" if symbol else _price_text(reference)
    for label, price in prices:
        price = _market_value(price)
        if price is None:
            continue
        distance = abs(price - reference) / reference * 100
        if distance > p.percent_from_market * (1 + _PERCENT_SLACK):
            breaches.append(Breach(
                "percent", p.percent_from_market, distance,
                f"{label} {_price_text(price)} is {_percent_text(distance, p.percent_from_market)}% from the market "
                f"({market}); the limit is {p.percent_from_market:g}%",
            ))
    return breaches
