"""ibticket: a desktop order ticket for Interactive Brokers.

The core names import without Qt or ib_insync; ``IBKRBroker`` loads the broker layer on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import read_version
from .core import (
    Fill,
    OrderExecutionHandler,
    OrderLogError,
    OrderLogger,
    OrderRecord,
    OrderStatus,
    OrderValidationError,
)

if TYPE_CHECKING:
    from .broker import BrokerClosedError, IBKRBroker

__all__ = [
    "BrokerClosedError",
    "Fill",
    "IBKRBroker",
    "OrderExecutionHandler",
    "OrderLogError",
    "OrderLogger",
    "OrderRecord",
    "OrderStatus",
    "OrderValidationError",
]
__version__ = read_version()


def __getattr__(name: str) -> Any:
    # Importing the broker pulls in ib_insync, 0.15-0.2 s on top of the core's 0.07 s (medians of
    # bench/import_time.py, docs/benchmarks.md). Scripts that only read logs should not pay it.
    if name in ("IBKRBroker", "BrokerClosedError"):
        from . import broker

        return getattr(broker, name)
    raise AttributeError(f"module 'ibticket' has no attribute {name!r}")
