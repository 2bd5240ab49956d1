"""The Qt-free core of the Order Execution Module: records, the execution handler and the order log."""

from .clock import AsyncioClock, Clock, ManualClock
from .errors import ErrorClass, classify, is_retryable
from .handler import OrderExecutionHandler
from .logger import OrderLogError, OrderLogger
from .logreader import DaySummary, LogDay, available_days, read_day, summarize
from .order import OrderRequest, validate_request
from .records import BrokerAttempt, Fill, OrderRecord, OrderStatus
from .recovery import rebuild_orders
from .validation import OrderValidationError

__all__ = [
    "AsyncioClock",
    "BrokerAttempt",
    "Clock",
    "DaySummary",
    "ErrorClass",
    "Fill",
    "LogDay",
    "ManualClock",
    "OrderExecutionHandler",
    "OrderLogError",
    "OrderLogger",
    "OrderRecord",
    "OrderRequest",
    "OrderStatus",
    "OrderValidationError",
    "available_days",
    "classify",
    "is_retryable",
    "read_day",
    "rebuild_orders",
    "summarize",
    "validate_request",
]
