"""Order and fill records: the app's own state, independent of any broker library."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class OrderStatus(StrEnum):
    PENDING = "Pending"
    SUBMITTED = "Submitted"
    PARTIALLY_FILLED = "PartiallyFilled"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    ERROR = "Error"

    @property
    def is_terminal(self) -> bool:
        # Error is not terminal: a retry can bring the order back to Submitted.
        return self in (OrderStatus.FILLED, OrderStatus.CANCELLED)


ACTIONS = ("BUY", "SELL")
ORDER_TYPES = ("MARKET", "LIMIT", "STOP", "STOP_LIMIT")
TIME_IN_FORCE = ("DAY", "GTC", "IOC")


@dataclass
class Fill:
    """One execution. ``fill_id`` is the broker's execution id when there is one."""

    fill_id: str
    order_id: int
    symbol: str
    quantity: int
    price: float
    timestamp: datetime
    commission: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "fill_id": self.fill_id,
            "order_id": self.order_id,
            "symbol": self.symbol,
            "quantity": self.quantity,
            "price": self.price,
            "timestamp": self.timestamp.isoformat(),
            "commission": self.commission,
        }


@dataclass
class BrokerAttempt:
    """One placement of an order at the broker. A retry is a new attempt with a new broker order id.

    ``order_ref`` is what the broker echoes back on every message about this attempt, so fills and
    statuses can be matched to the record even when broker order ids are reused after a gateway restart.
    """

    order_ref: str
    quantity: int
    order_id: int = 0
    perm_id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_ref": self.order_ref,
            "quantity": self.quantity,
            "order_id": self.order_id,
            "perm_id": self.perm_id,
        }


@dataclass
class OrderRecord:
    order_id: int
    symbol: str
    action: str
    total_quantity: int
    order_type: str = "MARKET"
    limit_price: float | None = None
    status: OrderStatus = OrderStatus.PENDING
    filled_quantity: int = 0
    remaining_quantity: int = -1
    avg_fill_price: float = 0.0
    fills: list[Fill] = field(default_factory=list)
    error_message: str | None = None
    submission_time: datetime | None = None
    last_update_time: datetime | None = None
    retry_count: int = 0
    # Beyond the seed: what a stop order, the ticket and safe retries need.
    stop_price: float | None = None
    tif: str = "DAY"
    outside_rth: bool = False
    order_ref: str = ""
    attempts: list[BrokerAttempt] = field(default_factory=list)
    cancel_requested: bool = False
    # Running total of quantity x price, so a fill costs O(1) however many came before it.
    _fill_value: float = field(default=0.0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.remaining_quantity < 0:
            self.remaining_quantity = self.total_quantity - self.filled_quantity
        self._fill_value = sum(f.quantity * f.price for f in self.fills)

    @property
    def broker_order_ids(self) -> list[int]:
        return [a.order_id for a in self.attempts if a.order_id]

    @property
    def acknowledged(self) -> bool:
        """IB has seen the latest attempt (it has a permId): it may be working there now."""
        return bool(self.attempts and self.attempts[-1].perm_id)

    @property
    def is_active(self) -> bool:
        return not self.status.is_terminal

    def add_fill(self, fill: Fill) -> None:
        """Append an execution and re-derive quantities, average price and status from the fills."""
        self.fills.append(fill)
        self.filled_quantity += fill.quantity
        self._fill_value += fill.quantity * fill.price
        self._settle(fill.timestamp)

    def replace_fill(self, old_fill_id: str, fill: Fill) -> None:
        """Swap an execution for its correction; the correction is the truth, not an addition."""
        self.fills = [f for f in self.fills if f.fill_id != old_fill_id]
        self.fills.append(fill)
        # Corrections are rare: re-sum from the fills rather than carry a subtraction's rounding.
        self.filled_quantity = sum(f.quantity for f in self.fills)
        self._fill_value = sum(f.quantity * f.price for f in self.fills)
        self._settle(fill.timestamp)

    def _settle(self, when: datetime) -> None:
        self.remaining_quantity = self.total_quantity - self.filled_quantity
        self.avg_fill_price = self._fill_value / self.filled_quantity if self.filled_quantity else 0.0
        if self.remaining_quantity == 0:
            self.status = OrderStatus.FILLED
        elif self.filled_quantity > 0 and self.status in (
            OrderStatus.PENDING,
            OrderStatus.SUBMITTED,
            OrderStatus.ERROR,
        ):
            self.status = OrderStatus.PARTIALLY_FILLED
        self.last_update_time = when

    def update_status(
        self, status: OrderStatus, error_message: str | None = None, when: datetime | None = None
    ) -> None:
        self.status = status
        if error_message is not None:
            self.error_message = error_message
        self.last_update_time = when or datetime.now()

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "symbol": self.symbol,
            "action": self.action,
            "total_quantity": self.total_quantity,
            "order_type": self.order_type,
            "limit_price": self.limit_price,
            "stop_price": self.stop_price,
            "tif": self.tif,
            "outside_rth": self.outside_rth,
            "status": self.status.value,
            "filled_quantity": self.filled_quantity,
            "remaining_quantity": self.remaining_quantity,
            "avg_fill_price": self.avg_fill_price,
            "fills": [f.to_dict() for f in self.fills],
            "error_message": self.error_message,
            "submission_time": _iso(self.submission_time),
            "last_update_time": _iso(self.last_update_time),
            "retry_count": self.retry_count,
            "order_ref": self.order_ref,
            "attempts": [a.to_dict() for a in self.attempts],
            "cancel_requested": self.cancel_requested,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
