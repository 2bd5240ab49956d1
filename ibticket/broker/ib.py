"""The one module that imports the IB client library: ib_async when installed, else ib_insync.

Both expose the same API. They cannot share a virtualenv (both ship ``eventkit``), so exactly one is
present. Everything else in ibticket imports IB names from here.
"""

from __future__ import annotations

import datetime
import importlib.util
import logging

if importlib.util.find_spec("ib_async") is not None:
    import ib_async as _lib
    from ib_async import (
        IB,
        CommissionReport,
        Contract,
        Execution,
        LimitOrder,
        MarketOrder,
        Order,
        OrderState,
        OrderStatus,
        Stock,
        StopLimitOrder,
        StopOrder,
        Trade,
        TradeLogEntry,
    )
else:
    import ib_insync as _lib
    from ib_insync import (
        IB,
        CommissionReport,
        Contract,
        Execution,
        LimitOrder,
        MarketOrder,
        Order,
        OrderState,
        OrderStatus,
        Stock,
        StopLimitOrder,
        StopOrder,
        Trade,
        TradeLogEntry,
    )

LIBRARY = _lib.__name__
LIBRARY_VERSION = getattr(_lib, "__version__", "?")
UNSET_DOUBLE = 1.7976931348623157e308
UNSET_INTEGER = 2**31 - 1

__all__ = [
    "IB",
    "LIBRARY",
    "LIBRARY_VERSION",
    "UNSET_DOUBLE",
    "UNSET_INTEGER",
    "CommissionReport",
    "Contract",
    "Execution",
    "LimitOrder",
    "MarketOrder",
    "Order",
    "OrderState",
    "Stock",
    "StopLimitOrder",
    "StopOrder",
    "Trade",
]


def _short_trade_repr(self: Trade) -> str:
    status = self.orderStatus
    return (
        f"Trade(orderId={self.order.orderId}, permId={self.order.permId}, orderRef={self.order.orderRef!r}, "
        f"status={status.status!r}, filled={status.filled}, fills={len(self.fills)})"
    )


# The library's Wrapper.orderStatus/openOrder log ``f'...{trade}'`` eagerly on every message, whatever the
# log level; the dataclass repr formats every Fill and log entry of the trade, so an order filled in M
# executions costs O(M^2) (13 s for 1,000 executions, measured). A short repr removes the cause.
Trade.__repr__ = _short_trade_repr


def send_new_order(ib: IB, contract: Contract, order: Order) -> int:
    """Write a new order to IB, then register it with the library; returns its order id.

    ``IB.placeOrder`` writes the bytes first and only then does its bookkeeping, which asserts when the
    order id belongs to a finished trade of an earlier session (ids repeat after a gateway restart). The
    order is at IB by then, so an exception there would wrongly report a sent order as failed. Here the
    write is one step (an exception from it means nothing was sent) and the bookkeeping another, which
    replaces a finished trade under the same id instead of asserting.
    """
    order_id: int = order.orderId or ib.client.getReqId()
    order.orderId = order_id
    order.clientId = ib.wrapper.clientId
    ib.client.placeOrder(order_id, contract, order)
    try:
        now = datetime.datetime.now(datetime.UTC)
        status = OrderStatus(orderId=order_id, status=OrderStatus.PendingSubmit)
        trade = Trade(contract, order, status, [], [TradeLogEntry(now, status.status)])
        ib.wrapper.trades[ib.wrapper.orderKey(ib.wrapper.clientId, order_id, order.permId)] = trade
        ib.newOrderEvent.emit(trade)
    except Exception:  # the order went out: the library's view of it is secondary to ours
        logging.getLogger(__name__).exception("registering sent order %s with the library failed", order_id)
    return order_id
