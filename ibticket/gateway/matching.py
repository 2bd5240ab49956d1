"""Matching rules: when an order can trade against the simulated quote, at what price and how much."""

from __future__ import annotations

from .book import WorkingOrder
from .market import Quote

SUPPORTED_ORDER_TYPES = ("MKT", "LMT", "STP", "STP LMT", "TRAIL", "TRAIL LIMIT", "MOC", "LOC")
SUPPORTED_TIFS = ("DAY", "GTC", "IOC", "GTD")
# No US stock trades anywhere near this: a price above it is a typo or garbage, and is refused before it
# reaches any arithmetic (1e308 / tick overflows).
MAX_PRICE = 10_000_000.0


def on_tick(price: float, tick: float) -> bool:
    """Whether a finite price is a whole number of ticks, at least one: 1e-320 is zero ticks, not on tick."""
    steps = price / tick
    nearest = round(steps)
    return nearest >= 1 and abs(steps - nearest) < 1e-6


def stop_triggered(order: WorkingOrder, quote: Quote) -> bool:
    """Stops trigger on the last price, as IB's default trigger method does for US stocks."""
    stop = order.stop_price
    if stop is None:
        return False
    if order.action == "BUY":
        return quote.last >= stop
    return quote.last <= stop


def acts_as_market(order: WorkingOrder) -> bool:
    return order.order_type == "MKT" or (order.order_type in ("STP", "TRAIL") and order.triggered)


def fill_price(order: WorkingOrder, quote: Quote, resting: bool) -> float | None:
    """The price the order trades at now, or None when it cannot trade.

    Marketable orders take the touch (BUY at the ask, SELL at the bid). A resting limit that the market
    moved through fills at its own limit price: it was first in line at that price.
    """
    if order.is_stop and not order.triggered:
        return None
    if acts_as_market(order):
        touch = quote.ask if order.action == "BUY" else quote.bid
        return touch if touch > 0 else None
    limit = order.lmt_price
    if limit is None:
        return None
    if order.action == "BUY":
        if quote.ask <= 0 or quote.ask > limit:
            return None
        return limit if resting else quote.ask
    if quote.bid <= 0 or quote.bid < limit:
        return None
    return limit if resting else quote.bid


def displayed_size(order: WorkingOrder, quote: Quote) -> float:
    """What an IOC order can take now: the size shown at the touch it trades against."""
    return float(quote.ask_size if order.action == "BUY" else quote.bid_size)


def reference_price(order: WorkingOrder, quote: Quote) -> float:
    """The price the margin check values an order at: where it will likely fill, as IB checks it.

    A marketable order at the touch (a SELL LMT 1.11 with the bid at 229.85 fills at 229.85, and must be
    checked there); a limit that rests at its limit; a stop that has not triggered at its stop, or a stop
    limit at its limit where it would rest there (a buy limit below its stop, a sell limit above it).
    """
    buy = order.action == "BUY"
    touch = quote.ask if buy else quote.bid
    if touch <= 0:
        touch = quote.last
    if order.is_stop and not order.triggered and order.stop_price and not stop_triggered(order, quote):
        trigger = order.stop_price  # a trailing stop's auxPrice is its trailing amount, not a price
        if order.order_type == "STP LMT" and order.lmt_price:
            return min(order.lmt_price, trigger) if buy else max(order.lmt_price, trigger)
        return trigger
    if order.order_type in ("LMT", "STP LMT") and order.lmt_price:
        return min(order.lmt_price, touch) if buy else max(order.lmt_price, touch)
    return touch


def split_quantity(qty: float, parts: int) -> list[float]:
    """Split a fill into at most `parts` executions of whole shares (fractions go to the last one)."""
    whole = int(qty)
    parts = max(1, min(parts, whole)) if whole >= 1 else 1
    if parts == 1:
        return [qty]
    base, extra = divmod(whole, parts)
    chunks = [float(base + (1 if i < extra else 0)) for i in range(parts)]
    chunks[-1] += qty - whole
    return chunks


def commission_for(total_shares: float, per_share: float, minimum: float) -> float:
    """IB-style fixed commission for an order's cumulative shares (the minimum applies per order)."""
    return max(minimum, per_share * total_shares)
