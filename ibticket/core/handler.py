"""OrderExecutionHandler: the order lifecycle, fills, errors, retries and duplicate prevention.

Broker-neutral: the broker feeds it executions, statuses and errors keyed by the app's own order id and
gives it an async ``place`` function. Every lifecycle event is logged here and only here, once.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

from .clock import AsyncioClock, Clock, TimerHandle
from .dedup import DuplicateGuard
from .errors import TRANSPORT_ERROR, ErrorClass, classify, is_retryable
from .events import Event
from .fills import FillHandling
from .logger import OrderLogError, OrderLogger
from .order import OrderRequest, validate_request
from .records import BrokerAttempt, Fill, OrderRecord, OrderStatus
from .restoring import Restoring, attempt_fields
from .statuses import RANK, StatusHandling
from .summary import day_counts
from .validation import CancelledBeforeSend, OrderValidationError

log = logging.getLogger(__name__)

PlaceFunction = Callable[[OrderRecord, BrokerAttempt], Awaitable[None]]
FillCallback = Callable[[OrderRecord], Any]
StatusCallback = Callable[[OrderRecord], Any]
ErrorCallback = Callable[[OrderRecord, str], Any]
CommissionCallback = Callable[[OrderRecord, Fill], Any]



# The status message of an order whose placement failed in a way that leaves unknown whether IB has it.
UNKNOWN_PLACEMENT = "unknown — reconciling"


class OrderExecutionHandler(FillHandling, StatusHandling, Restoring):
    def __init__(
        self,
        max_retries: int = 3,
        initial_retry_delay: float = 1.0,
        retry_backoff_factor: float = 2.0,
        *,
        duplicate_window: float = 60.0,
        retry_rejected: bool = False,
        logger: OrderLogger | None = None,
        clock: Clock | None = None,
        place_order: PlaceFunction | None = None,
        ref_prefix: str | None = None,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise ValueError("max_retries must be a whole number, 0 or more")
        for name, value in (("initial_retry_delay", initial_retry_delay), ("retry_backoff_factor",
                                                                            retry_backoff_factor)):
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number, 0 or more")
        self.max_retries = max_retries
        self.initial_retry_delay = float(initial_retry_delay)
        self.retry_backoff_factor = float(retry_backoff_factor)
        self.retry_rejected = retry_rejected
        self.logger = logger
        self._clock: Clock = clock or AsyncioClock()
        self._place = place_order
        self._now = now
        self.ref_prefix = ref_prefix or f"ibt-{now():%Y%m%d-%H%M%S}"
        self._dedup = DuplicateGuard(self._clock, duplicate_window)
        self._orders: dict[int, OrderRecord] = {}
        self._fills_by_exec: dict[str, Fill] = {}
        self._fill_by_exec_base: dict[str, Fill] = {}
        self._seen_exec_ids: set[str] = set()
        self._pending_commissions: dict[str, float] = {}
        self._attempts_by_ref: dict[str, tuple[OrderRecord, BrokerAttempt]] = {}
        self._retry_timers: dict[int, TimerHandle] = {}
        self._placing: set[int] = set()  # orders whose place function is running (e.g. awaiting a reconnect)
        self._unknown: dict[int, str] = {}  # order id -> why it is unknown whether its placement reached IB
        self._tasks: set[asyncio.Task[Any]] = set()
        self._next_id = 1
        self.last_refusal: str | None = None
        # What the handler tells others (the broker facade's callbacks, the window's bridge).
        self.fill_event: Event[[OrderRecord]] = Event("fill")
        self.status_event: Event[[OrderRecord]] = Event("order status")
        self.error_event: Event[[OrderRecord, str]] = Event("order error")
        # A commission that attaches to a fill after the fill itself was reported.
        self.commission_event: Event[[OrderRecord, Fill]] = Event("commission")
        # A placement that failed after the order may have gone out: the broker asks IB (settle_unknown).
        self.unknown_event: Event[[OrderRecord]] = Event("placement unknown")
        self._ignored_noted: set[tuple[int, str]] = set()  # (order id, notice) already in the log
        self._ignored_in_log: set[tuple[int, str]] = set()  # (order id, status) noted before a restart

    # -- wiring --------------------------------------------------------------------------------------

    def set_place_function(self, place_order: PlaceFunction | None) -> None:
        self._place = place_order

    # The seed's registration API, on the events above.

    def register_fill_callback(self, callback: FillCallback) -> None:
        self.fill_event.connect(callback)

    def register_status_callback(self, callback: StatusCallback) -> None:
        self.status_event.connect(callback)

    def register_error_callback(self, callback: ErrorCallback) -> None:
        self.error_event.connect(callback)

    def register_commission_callback(self, callback: CommissionCallback) -> None:
        self.commission_event.connect(callback)

    def unregister_fill_callback(self, callback: FillCallback) -> None:
        self.fill_event.disconnect(callback)

    def unregister_status_callback(self, callback: StatusCallback) -> None:
        self.status_event.disconnect(callback)

    def unregister_error_callback(self, callback: ErrorCallback) -> None:
        self.error_event.disconnect(callback)

    def unregister_commission_callback(self, callback: CommissionCallback) -> None:
        self.commission_event.disconnect(callback)

    def _log(self, method: str, *args: Any, **kwargs: Any) -> None:
        """Log an event about something that has already happened. The logger keeps what the disk refuses
        and reports it; nothing here may stop the callbacks of an order that is already out."""
        if self.logger is None:
            return
        try:
            getattr(self.logger, method)(*args, **kwargs)
        except Exception:
            log.exception("order log: %s failed", method)

    # -- queries -------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The handler's clock (what its records and log lines are stamped with)."""
        return self._now()

    def get_order(self, order_id: int) -> OrderRecord | None:
        return self._orders.get(order_id)

    def get_all_orders(self) -> list[OrderRecord]:
        return list(self._orders.values())

    def get_active_orders(self) -> list[OrderRecord]:
        return [
            r
            for r in self._orders.values()
            if r.status in RANK or (r.status is OrderStatus.ERROR and self.retry_pending(r.order_id))
        ]

    def summary(self) -> dict[str, int | float]:
        """Today's counts from the records themselves: the order log's summary (``summarize``), without a log."""
        records = list(self._orders.values())
        fills = [f for r in records for f in r.fills]
        complete = sum(f.completes for f in fills)
        return day_counts(
            (r.status.value for r in records), len(fills) - complete, complete,
            sum(f.quantity * f.price for f in fills), sum(f.commission for f in fills),
        )

    def retry_pending(self, order_id: int) -> bool:
        return order_id in self._retry_timers

    def find_attempt(self, order_ref: str) -> tuple[OrderRecord, BrokerAttempt] | None:
        return self._attempts_by_ref.get(order_ref)

    def fill_for_exec(self, exec_id: str) -> Fill | None:
        return self._fills_by_exec.get(exec_id)

    # -- creating and placing ------------------------------------------------------------------------

    def create_order(
        self,
        symbol: str,
        action: str,
        quantity: int,
        order_type: str = "MARKET",
        limit_price: float | None = None,
        stop_price: float | None = None,
        tif: str = "DAY",
        outside_rth: bool = False,
        force: bool = False,
    ) -> OrderRecord | None:
        """Validate and register a Pending order. ``None`` means refused as a duplicate: see
        ``last_refusal``. Bad input raises ``OrderValidationError`` and registers nothing."""
        request = validate_request(symbol, action, quantity, order_type, limit_price, stop_price, tif, outside_rth)
        return self.create(request, force=force)

    def create(self, request: OrderRequest, *, force: bool = False) -> OrderRecord | None:
        """Register a Pending order for ``request`` (already checked: it is an ``OrderRequest``). ``None``
        means refused as a duplicate: see ``last_refusal``."""
        key = request.duplicate_key
        self.last_refusal = None
        if not force:
            reason = self._dedup.check(key)
            if reason is not None:
                self.last_refusal = reason
                log.info(reason)
                return None
        order_id = self._next_id
        self._next_id += 1
        now = self._now()
        record = request.new_record(
            order_id, submission_time=now, last_update_time=now, order_ref=f"{self.ref_prefix}-{order_id}"
        )
        self._orders[order_id] = record
        self._dedup.remember(key, order_id)
        return record

    async def submit_order(self, *args: Any, **kwargs: Any) -> OrderRecord | None:
        """``create_order`` and then ``place`` it; the same arguments as ``create_order``."""
        record = self.create_order(*args, **kwargs)
        if record is not None:
            await self.place(record)
        return record

    async def place(self, record: OrderRecord) -> None:
        """Send the record's remaining quantity to the broker as a new attempt.

        Write-ahead: the attempt is in the order log before the place function runs. If the log cannot
        be written nothing is sent: a first attempt raises ``OrderLogError`` (and the order is dropped, as
        if never entered), a retry fails the order with that message."""
        if self._place is None:
            self._fail(record, "No broker is attached to send the order", None)
            return
        number = len(record.attempts) + 1
        attempt = BrokerAttempt(order_ref=f"{record.order_ref}/{number}", quantity=record.remaining_quantity)
        try:
            self._write_ahead(record, attempt, number)
        except OrderLogError as exc:
            if number == 1 and record.status is OrderStatus.PENDING:
                self._forget(record)
                raise
            self._fail(record, f"Retry not sent: {exc}", None)
            return
        record.attempts.append(attempt)
        self._attempts_by_ref[attempt.order_ref] = (record, attempt)
        self._placing.add(record.order_id)
        try:
            await self._place(record, attempt)
        except CancelledBeforeSend:
            self._mark_cancelled(record, "Cancelled before it was sent")
            return
        except OrderValidationError as exc:
            self._fail(record, str(exc), None)
            return
        except (ConnectionError, TimeoutError, OSError) as exc:
            # Raised before the order reached the socket: nothing is at IB, so a retry cannot double it.
            self.handle_error(record.order_id, TRANSPORT_ERROR, f"Not connected: {exc}")
            return
        except Exception as exc:
            # Unknown failure: the order may or may not have gone out. Not an Error (it may be working at IB)
            # and never a blind retry (it could double it): the broker asks IB what became of it.
            log.exception("placing order %s failed", record.order_id)
            self._mark_unknown(record, f"{type(exc).__name__}: {exc}")
            return
        finally:
            self._placing.discard(record.order_id)
        old = record.status
        if old in (OrderStatus.PENDING, OrderStatus.ERROR):
            # A resubmitted remainder keeps the shares already filled in its status.
            working = OrderStatus.PARTIALLY_FILLED if record.filled_quantity else OrderStatus.SUBMITTED
            record.update_status(working, when=self._now())
        # The order is out: from here a log failure is the logger's to keep and report, never an exception.
        verb = "sent" if number == 1 else f"resubmitted {attempt.quantity}"
        self._log(
            "log_status_change", record, old, record.status, f"{verb} as broker order {attempt.order_id}",
            broker_order_id=attempt.order_id, attempt=number, attempt_ref=attempt.order_ref,
        )
        if record.status is not old:
            self.status_event.emit(record)

    def _mark_unknown(self, record: OrderRecord, why: str) -> None:
        self._cancel_retry(record.order_id)
        self._unknown[record.order_id] = why
        old = record.status
        # A retry was in Error: the attempt that may be out is Pending like any unanswered one.
        new = (OrderStatus.PARTIALLY_FILLED if record.filled_quantity else OrderStatus.PENDING) \
            if old is OrderStatus.ERROR else old
        text = f"{UNKNOWN_PLACEMENT}: placing it failed ({why}) and it may have reached IB"
        record.update_status(new, text, when=self._now())
        self._log("log_event", "NOTICE", record, message=text, **attempt_fields(record))
        self.status_event.emit(record)
        self.unknown_event.emit(record)

    def placement_unknown(self) -> frozenset[int]:
        """Orders whose placement failed in a way that leaves unknown whether IB has them."""
        return frozenset(self._unknown)

    def settle_unknown(self, order_id: int, at_ib: bool) -> None:
        """What IB says of an order whose placement was unknown: it has the order (working or done), or it
        does not, and then the order never reached it: Error, with why."""
        why, record = self._unknown.pop(order_id, None), self._orders.get(order_id)
        if why is None or record is None:
            return
        if not at_ib:
            self._fail(record, f"IB does not have this order: placing it failed ({why}) before it reached IB, "
                       "so it was not sent. Enter it again if you still want it.", None)
            return
        if (record.error_message or "").startswith(UNKNOWN_PLACEMENT):
            record.error_message = None
        self._log("log_event", "NOTICE", record, message="IB has the order: it was placed", **attempt_fields(record))
        self.status_event.emit(record)

    def _write_ahead(self, record: OrderRecord, attempt: BrokerAttempt, number: int) -> None:
        """Put the attempt in the log before anything is sent (raises ``OrderLogError`` if it cannot be).
        The broker's order id is not known yet: the line after the send carries it."""
        if self.logger is None:
            return
        if number == 1:
            self.logger.log_submission(record, write_ahead=True, attempt=1, attempt_ref=attempt.order_ref)
        else:
            self.logger.log_status_change(
                record, record.status, record.status, f"resubmitting {attempt.quantity} (attempt {number})",
                write_ahead=True, attempt=number, attempt_ref=attempt.order_ref,
            )

    def _forget(self, record: OrderRecord) -> None:
        """Drop an order that was never sent nor logged, so entering it again is not a duplicate."""
        self._orders.pop(record.order_id, None)
        self._dedup.forget_order(record.order_id)

    @property
    def log_degraded(self) -> bool:
        """The order log cannot be written: sent orders' lines are kept in memory, new orders refused."""
        return self.logger is not None and self.logger.degraded

    # -- errors and retries --------------------------------------------------------------------------

    def _should_retry(self, error_code: int, error_message: str) -> bool:
        return is_retryable(error_code, error_message, self.retry_rejected)

    def handle_error(self, order_id: int, error_code: int, error_message: str) -> bool:
        """Classify an IB error for an order. Returns True when a retry was scheduled."""
        record = self._orders.get(order_id)
        if record is None:
            log.info("error %s for unknown order %s: %s", error_code, order_id, error_message)
            return False
        cls = classify(error_code, error_message)
        if cls is ErrorClass.INFO:
            self._log("log_event", "NOTICE", record, error_code=error_code, message=error_message)
            return False
        if cls is ErrorClass.CANCEL_CONFIRM:
            if record.status is not OrderStatus.ERROR or record.cancel_requested:
                self._mark_cancelled(record, error_message)
            return False
        if cls is ErrorClass.REQUEST_REJECTED:
            # A refused modify or cancel: the order itself is as it was (live, or already done).
            self.handle_request_rejected(order_id, error_code, error_message)
            return False
        if record.status.is_terminal:
            self._log("log_event", "NOTICE", record, error_code=error_code, message=error_message)
            return False
        if not self._should_retry(error_code, error_message) or record.cancel_requested:
            self._fail(record, error_message, error_code)
            return False
        if record.acknowledged and record.status is not OrderStatus.ERROR:
            # IB has this attempt and may be working it: a resubmit could double the order. The broker
            # reconciles with IB instead; the record keeps its status until IB says otherwise.
            self.handle_request_rejected(
                order_id, error_code, f"{error_message} (IB acknowledged the order; not resubmitted)"
            )
            return False
        if record.retry_count >= self.max_retries:
            self._fail(record, f"{error_message} (gave up after {record.retry_count} retries)", error_code)
            return False
        return self._schedule_retry(record, error_code, error_message)

    def _fail(self, record: OrderRecord, message: str, code: int | None) -> None:
        self._cancel_retry(record.order_id)
        self._unknown.pop(record.order_id, None)
        old = record.status
        record.update_status(OrderStatus.ERROR, message, when=self._now())
        if record.filled_quantity == 0:
            self._dedup.forget_order(record.order_id)
        self._log("log_error", record, message, code)
        if old is not OrderStatus.ERROR:
            self.status_event.emit(record)
        self.error_event.emit(record, message)

    def _schedule_retry(self, record: OrderRecord, code: int, message: str) -> bool:
        old = record.status
        record.update_status(OrderStatus.ERROR, message, when=self._now())
        record.retry_count += 1
        delay = self.initial_retry_delay * self.retry_backoff_factor ** (record.retry_count - 1)
        self._log("log_error", record, message, code, retry_scheduled=True)
        try:
            handle = self._clock.call_later(delay, lambda: self._spawn(self._retry(record.order_id)))
        except RuntimeError as exc:
            self._fail(record, f"{message} (no event loop to retry on: {exc})", code)
            return False
        self._cancel_retry(record.order_id)
        self._retry_timers[record.order_id] = handle
        self._log("log_retry", record, delay=delay, max_retries=self.max_retries, error_code=code)
        if old is not OrderStatus.ERROR:
            self.status_event.emit(record)
        self.error_event.emit(record, message)
        return True

    def _cancel_retry(self, order_id: int) -> bool:
        handle = self._retry_timers.pop(order_id, None)
        if handle is not None:
            handle.cancel()
        return handle is not None

    async def _retry(self, order_id: int) -> None:
        self._retry_timers.pop(order_id, None)
        record = self._orders[order_id]
        if record.status is not OrderStatus.ERROR or record.cancel_requested or record.remaining_quantity <= 0:
            return
        await self.place(record)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for retries that have started to finish (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel_all_retries(self) -> None:
        """Drop scheduled retries and stop those in flight (shutdown: nothing more will be sent)."""
        for order_id in list(self._retry_timers):
            self._cancel_retry(order_id)
        for task in list(self._tasks):
            task.cancel()

