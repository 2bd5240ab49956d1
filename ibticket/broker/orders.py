"""Translating between the app's order records and IB's orders and statuses."""

from __future__ import annotations

from typing import Any

from ..core.order import OrderRequest
from ..core.records import BrokerAttempt, OrderRecord, OrderStatus
from ..core.validation import OrderValidationError
from .ib import Order

IB_ORDER_TYPES = {"MARKET": "MKT", "LIMIT": "LMT", "STOP": "STP", "STOP_LIMIT": "STP LMT"}
APP_ORDER_TYPES = {v: k for k, v in IB_ORDER_TYPES.items()}


def build_order(
    record: OrderRecord,
    attempt: BrokerAttempt,
    quantity: int | None = None,
    limit_price: float | None = None,
    stop_price: float | None = None,
) -> Order:
    order = Order(
        action=record.action,
        totalQuantity=quantity if quantity is not None else attempt.quantity,
        orderType=IB_ORDER_TYPES[record.order_type],
        tif=record.tif,
        outsideRth=record.outside_rth,
        orderRef=attempt.order_ref,
        transmit=True,
    )
    limit = limit_price if limit_price is not None else record.limit_price
    stop = stop_price if stop_price is not None else record.stop_price
    if limit is not None:
        order.lmtPrice = limit
    if stop is not None:
        order.auxPrice = stop
    if attempt.order_id:
        order.orderId = attempt.order_id
    return order


def request_from_ib(contract: Any, order: Any) -> OrderRequest | None:
    """The app's request for an order IB reports (one placed by this client that the app has lost);
    None when it is not an order the app can show (another order type, a value the app refuses)."""
    kind = APP_ORDER_TYPES.get(order.orderType)
    if kind is None:
        return None
    try:
        return OrderRequest(
            symbol=contract.symbol, action=order.action, quantity=order.totalQuantity, order_type=kind,
            limit_price=order.lmtPrice if kind in ("LIMIT", "STOP_LIMIT") else None,
            stop_price=order.auxPrice if kind in ("STOP", "STOP_LIMIT") else None,
            tif=order.tif or "DAY", outside_rth=bool(order.outsideRth),
        )
    except OrderValidationError:
        return None


def map_status(ib_status: str, why_held: str = "") -> OrderStatus | None:
    """IB's order status as the app's; None for states that say nothing new (not yet acknowledged)."""
    if ib_status in ("PreSubmitted", "Submitted"):
        return OrderStatus.SUBMITTED
    if ib_status in ("Cancelled", "ApiCancelled"):
        return OrderStatus.CANCELLED
    if ib_status == "Filled":
        return OrderStatus.FILLED
    if ib_status == "Inactive":
        # A short sale waiting for a locate is held, not dead.
        return None if why_held == "locate" else OrderStatus.ERROR
    return None  # PendingSubmit, ApiPending, PendingCancel: local or transitional
