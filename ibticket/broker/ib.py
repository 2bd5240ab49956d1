"""The one module that imports the IB client library: ib_async when installed, else ib_insync.

Both expose the same API. They cannot share a virtualenv (both ship ``eventkit``), so exactly one is
present. Everything else in ibticket imports IB names from here.
"""

from __future__ import annotations

import importlib.util

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
        Stock,
        StopLimitOrder,
        StopOrder,
        Trade,
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
        Stock,
        StopLimitOrder,
        StopOrder,
        Trade,
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
Trade.__repr__ = _short_trade_repr  # type: ignore[method-assign]
