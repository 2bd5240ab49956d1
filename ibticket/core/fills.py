"""The handler's executions: apply each once (deduped by IB's exec id), corrections in place of what they
correct, late commissions; a mixin of ``OrderExecutionHandler`` (its state is the handler's)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime

from .events import Event
from .records import LOCAL_FILL_MARK, MAX_PRICE, Fill, OrderRecord, OrderStatus, split_exec_id
from .validation import is_money

log = logging.getLogger(__name__)


def _suffix_key(suffix: str) -> tuple[int, str]:
    return (int(suffix), suffix) if suffix.isdigit() else (-1, suffix)


class FillHandling:
    _orders: dict[int, OrderRecord]
    _seen_exec_ids: set[str]
    _fills_by_exec: dict[str, Fill]
    _fill_by_exec_base: dict[str, Fill]
    _pending_commissions: dict[str, float]
    _now: Callable[[], datetime]
    fill_event: Event[[OrderRecord]]
    status_event: Event[[OrderRecord]]
    error_event: Event[[OrderRecord, str]]
    commission_event: Event[[OrderRecord, Fill]]
    _log: Callable[..., None]
    _cancel_retry: Callable[[int], bool]

    def handle_fill(
        self,
        order_id: int,
        quantity: float,
        price: float,
        commission: float = 0.0,
        exec_id: str | None = None,
        timestamp: datetime | None = None,
    ) -> bool:
        """Apply one execution. Returns whether it changed the order (a repeat or a refusal does not)."""
        record = self._orders.get(order_id)
        if record is None:
            log.warning("fill for unknown order %s ignored (exec %s)", order_id, exec_id)
            return False
        if exec_id is not None and exec_id in self._seen_exec_ids:
            if commission and isinstance(commission, int | float):
                self.handle_commission(exec_id, commission)
            return False
        problem = _fill_problem(quantity, price)
        if problem:
            self._refuse_fill(record, f"Fill refused: {problem} (exec {exec_id})")
            return False
        qty = int(quantity)
        corrected: Fill | None = None
        if exec_id is not None:
            base, suffix = split_exec_id(exec_id)
            existing = self._fill_by_exec_base.get(base)
            if existing is not None and existing.order_id == order_id:
                if _suffix_key(split_exec_id(existing.fill_id)[1]) > _suffix_key(suffix):
                    self._seen_exec_ids.add(exec_id)  # an older version of a fill we already corrected
                    return False
                corrected = existing
        already = record.filled_quantity - (corrected.quantity if corrected else 0)
        if already + qty > record.total_quantity:
            self._refuse_fill(
                record,
                f"Fill of {qty} @ {price:g} refused: it would exceed the order ({already} of "
                f"{record.total_quantity} already filled, exec {exec_id})",
            )
            return False
        if not is_money(commission):
            commission = 0.0  # unknown; a commission report may still attach it
        fill_id = exec_id or f"{record.order_ref}{LOCAL_FILL_MARK}{len(record.fills) + 1}"
        if exec_id is not None:
            commission = commission or self._pending_commissions.pop(exec_id, 0.0)
        fill = Fill(fill_id, order_id, record.symbol, qty, float(price), timestamp or self._now(),
                    float(commission), record.action)
        old_status = record.status
        if corrected is not None:
            record.replace_fill(corrected.fill_id, fill)
            self._fills_by_exec.pop(corrected.fill_id, None)
        else:
            record.add_fill(fill)
        self._index_fill(fill, from_broker=exec_id is not None)
        if old_status is OrderStatus.ERROR or record.status is OrderStatus.FILLED:
            # A fill proves the attempt reached IB: a scheduled resubmit could now double the order.
            self._cancel_retry(order_id)
        extra = {"corrects": corrected.fill_id} if corrected else {}
        self._log("log_fill", record, fill, **extra)
        if record.status is not old_status:
            self.status_event.emit(record)
        self.fill_event.emit(record)
        return True

    def _index_fill(self, fill: Fill, from_broker: bool = True) -> None:
        self._seen_exec_ids.add(fill.fill_id)
        self._fills_by_exec[fill.fill_id] = fill
        if from_broker:
            # The current version of each execution, by its id up to the last dot (corrections share it).
            self._fill_by_exec_base[split_exec_id(fill.fill_id)[0]] = fill

    def _reindex_fill(self, old: Fill, new: Fill) -> None:
        if self._fills_by_exec.get(old.fill_id) is old:
            self._fills_by_exec[old.fill_id] = new
        base = split_exec_id(old.fill_id)[0]
        if self._fill_by_exec_base.get(base) is old:
            self._fill_by_exec_base[base] = new

    def handle_commission(self, exec_id: str, commission: float) -> bool:
        """Attach a commission to its fill, once; one that arrives before its fill waits for it."""
        if not is_money(commission):
            return False
        fill = self._fills_by_exec.get(exec_id)
        if fill is None:
            self._pending_commissions[exec_id] = float(commission)
            return False
        if fill.commission == commission:
            return False
        record = self._orders[fill.order_id]
        # A new Fill in the record, not a change to this one: snapshots already handed out keep theirs.
        updated = record.set_fill_commission(fill.fill_id, float(commission))
        if updated is None:  # not among the record's fills (the caller changed them): change it in place
            fill.commission = float(commission)
        else:
            self._reindex_fill(fill, updated)
            fill = updated
        self._log("log_event", "COMMISSION", record, fill_id=exec_id, commission=fill.commission)
        self.commission_event.emit(record, fill)
        return True

    def _refuse_fill(self, record: OrderRecord, message: str) -> None:
        log.error("order %s: %s", record.order_id, message)
        self._log("log_error", record, message)
        self.error_event.emit(record, message)


def _fill_problem(quantity: object, price: object) -> str | None:
    if isinstance(quantity, bool) or not isinstance(quantity, int | float) or not math.isfinite(quantity):
        return f"quantity {quantity!r} is not a number"
    if quantity <= 0 or quantity != int(quantity):
        return f"quantity {quantity!r} is not a positive whole number"
    if isinstance(price, bool) or not isinstance(price, int | float) or not math.isfinite(price) or price <= 0:
        return f"price {price!r} is not a positive number"
    if price > MAX_PRICE:
        return f"price {price:g} is beyond any real price"
    return None
