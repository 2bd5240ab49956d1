"""Checks on an order request before anything is created or sent, with messages a trader understands."""

from __future__ import annotations

import math
import numbers
import re
import string

from .records import ACTIONS, MAX_PRICE, ORDER_TYPES

_SYMBOL = re.compile(r"^[A-Z][A-Z0-9.\- ]{0,11}$")
# What IB symbols are made of ("BRK B", "BF.B"). Checked before any case change: str.upper() turns look-alike
# letters into ASCII ones (long s "\u017fpy" -> "SPY", dotless i "\u0131bm" -> "IBM"): a ticker nobody typed.
_SYMBOL_CHARS = frozenset(string.ascii_letters + string.digits + ".- ")
_TYPE_ALIASES = {
    "MKT": "MARKET",
    "LMT": "LIMIT",
    "STP": "STOP",
    "STP LMT": "STOP_LIMIT",
    "STOP LIMIT": "STOP_LIMIT",
    "STOPLIMIT": "STOP_LIMIT",
}
MAX_QUANTITY = 10_000_000  # above any single stock order a person means to type


class OrderValidationError(ValueError):
    """An order request that cannot be sent as it stands; the message says what to change."""


class CancelledBeforeSend(Exception):
    """Raised by a place function that found the order cancelled before it wrote anything."""


def normalize_symbol(symbol: object) -> str:
    # Only ASCII blanks are trimmed: a no-break or zero-width space pasted along is refused by name below.
    text = symbol.strip(string.whitespace) if isinstance(symbol, str) else ""
    if not text:
        raise OrderValidationError("Symbol is required, e.g. AAPL")
    odd = next((c for c in text if c not in _SYMBOL_CHARS), None)
    if odd is not None:
        raise OrderValidationError(
            f"Symbol {symbol!r} has a character IB symbols never use: {odd!r} (U+{ord(odd):04X})"
        )
    text = text.upper()
    if not _SYMBOL.match(text):
        raise OrderValidationError(f"{symbol!r} is not a stock symbol (letters, digits, '.', '-'; up to 12)")
    return text


def normalize_action(action: object) -> str:
    text = action.strip().upper() if isinstance(action, str) else ""
    if text not in ACTIONS:
        raise OrderValidationError(f"Side must be buy or sell, not {action!r}")
    return text


def _as_float(number: numbers.Real) -> float:
    # An int beyond float range raises OverflowError; as a price or a size it is simply not finite.
    try:
        return float(number)
    except OverflowError:
        return math.inf


def normalize_quantity(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, numbers.Real):
        raise OrderValidationError(f"Quantity must be a whole number of shares, not {quantity!r}")
    value = _as_float(quantity)
    if not math.isfinite(value):
        raise OrderValidationError("Quantity must be a finite number of shares")
    if value != int(value):
        raise OrderValidationError(f"Quantity must be whole shares; {quantity} has a fraction")
    if value < 1:
        raise OrderValidationError("Quantity must be at least 1 share")
    if value > MAX_QUANTITY:
        raise OrderValidationError(f"Quantity {int(value):,} is above the {MAX_QUANTITY:,}-share limit")
    return int(value)


def normalize_price(price: object, what: str) -> float:
    if isinstance(price, bool) or not isinstance(price, numbers.Real):
        raise OrderValidationError(f"{what} must be a number, not {price!r}")
    value = _as_float(price)
    if not math.isfinite(value):
        raise OrderValidationError(f"{what} must be a finite number")
    if value <= 0:
        raise OrderValidationError(f"{what} must be above zero")
    if value > MAX_PRICE:
        raise OrderValidationError(f"{what} {value:g} is beyond any real price")
    return value


def is_money(value: object) -> bool:
    """A commission (or rebate) that can be summed: finite and within MAX_PRICE either way."""
    return (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            and abs(value) <= MAX_PRICE)


def normalize_order_type(order_type: object) -> str:
    text = order_type.strip().upper().replace("-", "_") if isinstance(order_type, str) else ""
    text = _TYPE_ALIASES.get(text, text)
    if text not in ORDER_TYPES:
        raise OrderValidationError(f"Order type must be one of {', '.join(ORDER_TYPES)}, not {order_type!r}")
    return text
