"""The handler's order statuses: what IB reports applied only forwards, cancels asked and confirmed, changes
(amend) once IB acknowledges them; a mixin of ``OrderExecutionHandler`` (its state is the handler's)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from .dedup import DuplicateGuard
from .events import Event
from .records import OrderRecord, OrderStatus
from .validation import OrderValidationError, normalize_price, normalize_quantity

log = logging.getLogger(__name__)

# How far along a working order is: a status never moves an order back down this ladder.
RANK = {
    OrderStatus.PENDING: 0,
    OrderStatus.SUBMITTED: 1,
    OrderStatus.PARTIALLY_FILLED: 2,
}


class StatusHandling:
    _orders: dict[int, OrderRecord]
    _placing: set[int]
    _dedup: DuplicateGuard
    _ignored_in_log: set[tuple[int, str]]
    _ignored_noted: set[tuple[int, str]]
    _now: Callable[[], datetime]
    status_event: Event[[OrderRecord]]
    error_event: Event[[OrderRecord, str]]
    _log: Callable[..., None]
    _cancel_retry: Callable[[int], bool]
    _fail: Callable[[OrderRecord, str, int | None], None]

    def handle_status(
        self,
        order_id: int,
        status: OrderStatus | str,
        message: str | None = None,
        *,
        broker_order_id: int | None = None,
    ) -> bool:
        """Apply a status reported by the broker unless it would move the order backwards.

        PartiallyFilled and Filled come from fills, never from status messages alone: IB may report
        Filled before the executions arrive, and a market order may never report Filled at all.
        """
        record = self._orders.get(order_id)
        if record is None:
            return False
        new = OrderStatus(status)
        old = record.status
        if new is old:
            return False
        if (
            broker_order_id is not None
            and record.broker_order_ids
            and broker_order_id != record.broker_order_ids[-1]
        ):
            return self._ignore_status(record, new, f"it is about an earlier attempt ({broker_order_id})")
        if old.is_terminal:
            return self._ignore_status(record, new, f"the order is already {old.value}")
        if new in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED):
            return self._ignore_status(record, new, "completion follows the executions")
        if new is OrderStatus.CANCELLED:
            if old is OrderStatus.ERROR and not record.cancel_requested:
                return self._ignore_status(record, new, "the order already failed with an error")
            self._mark_cancelled(record, message)
            return True
        if new is OrderStatus.ERROR:
            self._fail(record, message or "Order failed", None)
            return True
        if old is OrderStatus.ERROR and new is OrderStatus.SUBMITTED:
            # The attempt is alive after all: resubmitting it now would double the order.
            self._cancel_retry(order_id)
            if record.filled_quantity:
                new = OrderStatus.PARTIALLY_FILLED
        elif new is OrderStatus.SUBMITTED and old is OrderStatus.PARTIALLY_FILLED:
            return False  # IB reports a working order with fills as Submitted: consistent, nothing to log
        elif new is OrderStatus.PENDING or RANK.get(new, -1) <= RANK.get(old, -1):
            # Pending is never news once an order has been sent (and would strand a pending retry).
            return self._ignore_status(record, new, f"it is older than {old.value}")
        record.update_status(new, when=self._now())
        self._log("log_status_change", record, old, new, message)
        self.status_event.emit(record)
        return True

    def _ignore_status(self, record: OrderRecord, new: OrderStatus, why: str) -> bool:
        text = f"status {new.value} ignored: {why}"
        log.info("order %s: %s", record.order_id, text)
        # IB repeats an order's last status at every reconnect: the audit trail needs each reason once.
        # A restart hears IB repeat every status again: one the log already notes as ignored is no news.
        key = (record.order_id, text)
        if key not in self._ignored_noted and (record.order_id, new.value) not in self._ignored_in_log:
            self._ignored_noted.add(key)
            self._log("log_event", "NOTICE", record, message=text)
        return False

    def request_cancel(self, order_id: int) -> bool:
        """Note that the trader asked to cancel. True when the broker must still tell IB. An order that
        is only waiting to be retried (or was never sent) is cancelled here and now; one whose placement
        is in flight is stopped before it is written (the place function checks ``cancel_requested``)."""
        record = self._orders.get(order_id)
        if record is None:
            raise KeyError(f"no order {order_id}")
        if record.status.is_terminal:
            return False
        record.cancel_requested = True
        if (record.status is OrderStatus.PENDING and order_id not in self._placing) or (
            record.status is OrderStatus.ERROR and self._cancel_retry(order_id)
        ):
            self._mark_cancelled(record, "Cancelled before it was sent")
            return False
        if order_id in self._placing and not record.acknowledged:
            self._log("log_event", "NOTICE", record, message="cancel requested before the order was sent")
            return False
        if record.status is OrderStatus.ERROR and not record.acknowledged:
            return False  # nothing of it is at IB
        self._log("log_event", "NOTICE", record, message="cancel requested")
        return True

    def handle_request_rejected(self, order_id: int, error_code: int | None, error_message: str) -> None:
        """A modify or cancel was refused: report it; the order itself is as it was."""
        record = self._orders.get(order_id)
        if record is None:
            return
        self._log("log_error", record, error_message, error_code, order_unchanged=True)
        self.error_event.emit(record, error_message)

    def amend(
        self,
        order_id: int,
        total_quantity: int | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> bool:
        """Apply a modification the broker has acknowledged. Returns whether anything changed."""
        record = self._orders.get(order_id)
        if record is None or record.status.is_terminal:
            return False
        if total_quantity is not None:
            total_quantity = normalize_quantity(total_quantity)
        if limit_price is not None:
            limit_price = normalize_price(limit_price, "Limit price")
        if stop_price is not None:
            stop_price = normalize_price(stop_price, "Stop price")
        changes = []
        if total_quantity is not None and total_quantity != record.total_quantity:
            if total_quantity < record.filled_quantity:
                raise OrderValidationError(
                    f"Quantity {total_quantity} is below the {record.filled_quantity} shares already filled"
                )
            changes.append(f"quantity {record.total_quantity} -> {total_quantity}")
            record.total_quantity = total_quantity
            record.remaining_quantity = total_quantity - record.filled_quantity
        if limit_price is not None and limit_price != record.limit_price:
            changes.append(f"limit {record.limit_price} -> {limit_price}")
            record.limit_price = limit_price
        if stop_price is not None and stop_price != record.stop_price:
            changes.append(f"stop {record.stop_price} -> {stop_price}")
            record.stop_price = stop_price
        if not changes:
            return False
        record.last_update_time = self._now()
        if record.remaining_quantity == 0:
            record.status = OrderStatus.FILLED
        self._log("log_status_change", record, record.status, record.status, "modified: " + ", ".join(changes))
        self.status_event.emit(record)
        return True

    def _mark_cancelled(self, record: OrderRecord, reason: str | None) -> None:
        if record.status.is_terminal:
            # Filled stays filled; and IB confirms one cancel twice (orderStatus and 202): log it once.
            return
        self._cancel_retry(record.order_id)
        record.update_status(OrderStatus.CANCELLED, when=self._now())
        if record.filled_quantity == 0:
            self._dedup.forget_order(record.order_id)
        who = "cancelled by you" if record.cancel_requested else "cancelled by IB"
        self._log("log_cancellation", record, reason=reason or who, requested=record.cancel_requested)
        self.status_event.emit(record)

