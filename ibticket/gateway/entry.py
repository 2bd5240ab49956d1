"""A request as an order: a new WorkingOrder from placeOrder, and what a modify (placeOrder with the id of an
open order) may change of one.

A modify may change the price, quantity, type, TIF (and good-till date), orderRef and the trailing
attributes; the contract, side, parent and OCA group stay what they were (105 otherwise: TWS does not
allow an OCA group revision either). A trailing stop keeps where it has got to unless the modify changes
the trailing amount or percent (or the type): the trailStopPrice a client sends again with a modify is the
initial one it placed, and going back to it would undo the trailing.
"""

from __future__ import annotations

from datetime import datetime

from .admission import OrderRejected
from .book import WorkingOrder
from .expiry import parse_good_till_date
from .requests import PlaceOrder
from .universe import Instrument

INVALID = "Error validating request.-'bN' : cause - "
NOT_MATCHING = "Order being modified does not match original order"
LATEST_YEAR = 9998  # what the paper account file reads back (journal_records)


def new_order(
    req: PlaceOrder, client_id: int, perm_id: int, inst: Instrument, account: str, placed_at: datetime,
    now: datetime,
) -> WorkingOrder:
    """The order a validated request places (raises OrderRejected for a good-till date TWS refuses)."""
    tail = req.tail
    # A TRAIL LIMIT with both an offset and a limit takes the offset: the limit is then what TWS reports back.
    offset_wins = req.order_type == "TRAIL LIMIT" and tail.lmt_price_offset is not None
    return WorkingOrder(
        order_id=req.order_id, client_id=client_id, perm_id=perm_id, instrument=inst, action=req.action,
        total_qty=float(req.total_qty or 0), order_type=req.order_type,
        lmt_price=None if offset_wins else req.lmt_price, aux_price=req.aux_price, tif=req.tif or "DAY",
        order_ref=req.order_ref, account=account, oca_group=req.oca_group, oca_type=tail.oca_type,
        outside_rth=req.outside_rth, parent_id=req.parent_id, trailing_percent=tail.trailing_percent,
        trail_stop_price=tail.trail_stop_price, lmt_price_offset=tail.lmt_price_offset,
        good_till_date=tail.good_till_date, expires_at=expiry_of(req, now), placed_at=placed_at,
    )


def expiry_of(req: PlaceOrder, now: datetime) -> datetime | None:
    """When a GTD order is cancelled; None for every other TIF."""
    if (req.tif or "DAY") != "GTD":
        return None
    text = req.tail.good_till_date
    if not text:
        raise OrderRejected(321, INVALID + "A GTD order needs a good-till date (goodTillDate), e.g. "
                                           "'20260315 15:30:00 US/Eastern'")
    try:
        when = parse_good_till_date(text, now)
    except ValueError as exc:
        raise OrderRejected(321, f"{INVALID}Good Till Date: {exc}") from None
    if when <= now:
        raise OrderRejected(321, f"{INVALID}The good-till date {text!r} has already passed")
    if when.year > LATEST_YEAR:
        raise OrderRejected(321, f"{INVALID}The good-till date {text!r} is too far ahead")
    return when


def revise(order: WorkingOrder, req: PlaceOrder, inst: Instrument, now: datetime) -> WorkingOrder:
    """The order as the modify asks for it (for the checks), or OrderRejected (105) for what cannot change."""
    if inst is not order.instrument or req.action != order.action:
        raise OrderRejected(105, NOT_MATCHING + ".")
    if (req.parent_id, req.oca_group, req.tail.oca_type) != (order.parent_id, order.oca_group, order.oca_type):
        raise OrderRejected(105, NOT_MATCHING + ": the parent order and the OCA group cannot be changed.")
    if float(req.total_qty or 0) <= order.filled:
        raise OrderRejected(105, NOT_MATCHING + ": quantity is not above the filled quantity.")
    changed = new_order(req, order.client_id, order.perm_id, inst, order.account, order.placed_at, now)
    changed.filled = order.filled
    if req.tif == "":
        changed.tif = order.tif
    return changed


def apply_revision(order: WorkingOrder, changed: WorkingOrder) -> None:
    """Take over what a checked modify changes."""
    trail_changed = (changed.order_type, changed.aux_price, changed.trailing_percent) != (
        order.order_type, order.aux_price, order.trailing_percent)
    if changed.aux_price != order.aux_price:
        order.triggered = False
    if trail_changed or not order.is_trailing:
        order.trail_stop_price = changed.trail_stop_price
        order.lmt_price_offset = changed.lmt_price_offset
        order.lmt_price = changed.lmt_price
    elif changed.lmt_price_offset is not None:
        order.lmt_price_offset = changed.lmt_price_offset  # the limit follows at the next quote
    elif changed.lmt_price is not None and changed.lmt_price != order.lmt_price:
        order.lmt_price, order.lmt_price_offset = changed.lmt_price, None  # a new limit: a new offset
    order.total_qty, order.order_type, order.aux_price = changed.total_qty, changed.order_type, changed.aux_price
    order.trailing_percent = changed.trailing_percent
    order.tif, order.order_ref = changed.tif, changed.order_ref
    order.good_till_date, order.expires_at = changed.good_till_date, changed.expires_at
