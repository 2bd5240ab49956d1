"""Trailing stops (TRAIL, TRAIL LIMIT): where the stop starts, how it follows the market, the limit it carries.

As TWS does it: a SELL trailing stop sits the trailing amount (auxPrice, or trailingPercent of the price)
below the best bid, rises with the bid and never falls back; a BUY trailing stop sits the amount above the
best ask and only ever falls. A trailStopPrice given with the order is the initial stop; it moves once the
market has moved far enough that the trailing stop would be better. Once reached (on the last price, like
every stop here) a TRAIL trades as a market order and a TRAIL LIMIT as a limit order at its limit, which
moves with the stop at lmtPriceOffset beyond it (below a sell's stop). Given an explicit lmtPrice instead
of an offset, the offset is the distance from the initial stop to that price.

The stop starts when the order starts to work: an untransmitted order or a bracket child waiting for its
parent does not trail yet.
"""

from __future__ import annotations

from .book import WorkingOrder
from .market import Quote


def follow(order: WorkingOrder, quote: Quote) -> bool:
    """Start or move the stop (and a TRAIL LIMIT's limit) for this quote; True when either changed."""
    before = (order.trail_stop_price, order.lmt_price)
    candidate = _candidate(order, quote)
    stop = order.trail_stop_price
    if stop is None:
        stop = candidate
    elif candidate is not None:
        stop = max(stop, candidate) if order.action == "SELL" else min(stop, candidate)
    order.trail_stop_price = stop
    if order.order_type == "TRAIL LIMIT" and stop is not None:
        if order.lmt_price_offset is None and order.lmt_price is not None:
            gap = stop - order.lmt_price if order.action == "SELL" else order.lmt_price - stop
            order.lmt_price_offset = _snap(max(0.0, gap), order, floor=0.0)
        order.lmt_price = limit_for(order, stop)
    return (order.trail_stop_price, order.lmt_price) != before


def limit_for(order: WorkingOrder, stop: float) -> float:
    offset = order.lmt_price_offset or 0.0
    return _snap(stop - offset if order.action == "SELL" else stop + offset, order)


def _candidate(order: WorkingOrder, quote: Quote) -> float | None:
    """Where the stop would be from this quote: the trailing amount beyond the best price on the order's side."""
    price = quote.bid if order.action == "SELL" else quote.ask
    if price <= 0:
        price = quote.last
    if price <= 0:
        return None
    percent = order.trailing_percent
    amount = price * percent / 100.0 if percent is not None else (order.aux_price or 0.0)
    return _snap(price - amount if order.action == "SELL" else price + amount, order)


def _snap(price: float, order: WorkingOrder, floor: float | None = None) -> float:
    """The nearest tick; a stop or limit is at least one tick (a 0 offset stays 0)."""
    inst = order.instrument
    ticks = round(price / inst.min_tick)
    lowest = 1 if floor is None else 0
    return round(max(lowest, ticks) * inst.min_tick, inst.price_decimals)
