"""What each order type needs from a request, and the checks of the attributes the newer types carry
(trailing amounts, limit offsets, the close, OCA types), each refusal with the code and text TWS sends."""

from __future__ import annotations

import math

from .book import WorkingOrder
from .market import Quote
from .matching import MAX_PRICE, on_tick
from .requests import PlaceOrder

# The prices an order type uses: "lmt" (lmtPrice) and "aux" (auxPrice, the stop price). A trailing stop's
# auxPrice is its trailing amount, checked below with the alternatives to it.
PRICES_USED: dict[str, tuple[str, ...]] = {
    "MKT": (), "LMT": ("lmt",), "STP": ("aux",), "STP LMT": ("lmt", "aux"), "TRAIL": (), "TRAIL LIMIT": (),
    "MOC": (), "LOC": ("lmt",),
}
AT_THE_CLOSE = frozenset({"MOC", "LOC"})
OCA_TYPES = (0, 1, 2, 3)
Problem = tuple[int, str]


def _invalid(cause: str) -> Problem:
    return 321, f"Error validating request.-'bN' : cause - {cause}"


def request_problem(req: PlaceOrder, min_tick: float) -> Problem | None:
    """Why TWS would refuse the request's type-specific attributes, or None."""
    tail = req.tail
    if tail.conditions:
        return _invalid("Order conditions are not supported by the paper gateway")
    if tail.oca_type not in OCA_TYPES:
        return _invalid(f"Invalid OCA type {tail.oca_type}: use 1 (cancel), 2 (reduce with block) or 3 "
                        "(reduce without block)")
    if req.order_type in AT_THE_CLOSE and (req.tif or "DAY") != "DAY":
        return _invalid(f"{req.order_type} orders execute at the close and must be DAY orders, not {req.tif}")
    if req.order_type in ("TRAIL", "TRAIL LIMIT"):
        return _trailing_problem(req, min_tick)
    return None


def _trailing_problem(req: PlaceOrder, min_tick: float) -> Problem | None:
    tail = req.tail
    amount, percent = req.aux_price, tail.trailing_percent
    if (amount is None) == (percent is None):
        return _invalid("A trailing stop needs either a trailing amount (auxPrice) or a trailing percent "
                        "(trailingPercent), not both")
    if percent is not None and not (math.isfinite(percent) and 0 < percent < 100):
        return _invalid(f"The trailing percent {percent:g} must be above 0 and below 100")
    if amount is not None and not (math.isfinite(amount) and 0 < amount <= MAX_PRICE):
        return _invalid(f"The trailing amount {amount:g} must be a positive price")
    if amount is not None and not on_tick(amount, min_tick):
        return 110, "The price does not conform to the minimum price variation for this contract."
    stop = tail.trail_stop_price
    if stop is not None:
        if not (math.isfinite(stop) and 0 < stop <= MAX_PRICE):
            return _invalid(f"The trailing stop price {stop:g} must be a positive price up to {MAX_PRICE:,.0f}")
        if not on_tick(stop, min_tick):
            return 110, "The price does not conform to the minimum price variation for this contract."
    if req.order_type == "TRAIL LIMIT":
        offset = tail.lmt_price_offset
        if (offset is None) == (req.lmt_price is None):
            return _invalid("A TRAIL LIMIT order needs either a limit price offset (lmtPriceOffset) or a limit "
                            "price (lmtPrice), not both")
        if offset is not None:
            if not (math.isfinite(offset) and 0 <= offset <= MAX_PRICE):
                return _invalid(f"The limit price offset {offset:g} must be 0 or a positive price")
            if offset and not on_tick(offset, min_tick):
                return 110, "The price does not conform to the minimum price variation for this contract."
        elif req.lmt_price is not None and not (req.lmt_price > 0 and on_tick(req.lmt_price, min_tick)):
            return 110, "The price does not conform to the minimum price variation for this contract."
    return None


def closing_price(order: WorkingOrder, quote: Quote) -> float | None:
    """What an at-the-close order trades at when the day closes: the closing print (the last price) for a
    MOC, and for a LOC only when that print is within its limit."""
    price = quote.last
    if price <= 0:
        return None
    if order.order_type == "LOC":
        limit = order.lmt_price
        if limit is None or (price > limit if order.action == "BUY" else price < limit):
            return None
    return price
