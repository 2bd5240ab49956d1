"""What IB says of orders, applied to the handler: openOrder, orderStatus, completedOrder, execDetails,
commissionReport and order errors, routed here by ``taps.py`` before the library's own bookkeeping. Orders are
found by their reference, their permId, or this client's order id. A mixin of ``BrokerCore``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..core.errors import ErrorClass, classify
from ..core.handler import OrderExecutionHandler
from ..core.records import BrokerAttempt, OrderRecord, OrderStatus
from .ib import UNSET_DOUBLE
from .orders import map_status
from .reconcile import SyncSnapshot

if TYPE_CHECKING:
    from .settings import ConnectionSettings

log = logging.getLogger(__name__)

# A change sent and not yet acknowledged: the new total quantity, limit and stop (None: unchanged).
PendingModify = tuple[int, float | None, float | None]


class OrderMessages:
    handler: OrderExecutionHandler
    settings: ConnectionSettings
    _by_perm: dict[int, tuple[OrderRecord, BrokerAttempt]]
    _by_order_id: dict[int, tuple[OrderRecord, BrokerAttempt]]
    _pending_modify: dict[str, PendingModify]
    _sync: SyncSnapshot | None
    _spawn: Callable[[Coroutine[Any, Any, Any]], None]
    _note_orphan: Callable[[Any, Any, str], None]
    resync: Callable[[], Coroutine[Any, Any, None]]

    @property
    def is_connected(self) -> bool:
        raise NotImplementedError

    def _lookup(
        self, order_ref: str = "", perm_id: int = 0, order_id: int = 0, client_id: int | None = None
    ) -> tuple[OrderRecord, BrokerAttempt] | None:
        found = self.handler.find_attempt(order_ref) if order_ref else None
        if found is None and perm_id:
            found = self._by_perm.get(perm_id)
        if found is None and order_id and client_id == self.settings.client_id:
            found = self._by_order_id.get(order_id)
        if found is not None:
            attempt = found[1]
            if perm_id and not attempt.perm_id:
                attempt.perm_id = perm_id
            if perm_id:
                self._by_perm[perm_id] = found
        return found

    def on_openOrder(self, order_id: int, contract: Any, order: Any, state: Any) -> None:
        if getattr(order, "whatIf", False):
            return
        found = self._lookup(order.orderRef, order.permId, order_id, order.clientId)
        if found is None:
            self._note_orphan(contract, order, state.status)
            return
        record, attempt = found
        if order.clientId == self.settings.client_id and order_id:
            attempt.order_id = attempt.order_id or order_id
            self._by_order_id[order_id] = found
        if self._sync is not None:
            self._sync.open_status[attempt.order_ref] = state.status
        pending = self._pending_modify.get(attempt.order_ref)
        if pending is not None:
            self._apply_modify_ack(record, attempt, order, pending)
        mapped = map_status(state.status)
        if mapped is not None and mapped is not OrderStatus.FILLED:
            self.handler.handle_status(record.order_id, mapped, broker_order_id=attempt.order_id)

    def _apply_modify_ack(
        self, record: OrderRecord, attempt: BrokerAttempt, order: Any, pending: PendingModify
    ) -> None:
        total, limit, stop = pending
        attempt_qty = int(order.totalQuantity)
        earlier = record.total_quantity - attempt.quantity
        if attempt_qty + earlier != total:
            return
        if limit is not None and abs(order.lmtPrice - limit) > 1e-9:
            return
        if stop is not None and abs(order.auxPrice - stop) > 1e-9:
            return
        del self._pending_modify[attempt.order_ref]
        attempt.quantity = attempt_qty
        self.handler.amend(record.order_id, total, limit, stop)

    def on_orderStatus(self, order_id: int, status: str, filled: float, remaining: float, avg_price: float,
                       perm_id: int, parent_id: int, last_price: float, client_id: int, why_held: str,
                       *rest: Any) -> None:
        found = self._lookup("", perm_id, order_id, client_id)
        if found is None:
            return
        record, attempt = found
        if self._sync is not None and attempt.order_ref in self._sync.open_status:
            self._sync.open_status[attempt.order_ref] = status
        mapped = map_status(status, why_held)
        if mapped is not None:
            message = f"IB status {status}" + (f" (held: {why_held})" if why_held else "")
            self.handler.handle_status(record.order_id, mapped, message, broker_order_id=attempt.order_id)

    def on_completedOrder(self, contract: Any, order: Any, state: Any) -> None:
        found = self._lookup(order.orderRef, order.permId)
        if found is None:
            self._note_orphan(contract, order, state.status)
            return
        record, attempt = found
        if self._sync is not None:
            self._sync.completed_status[attempt.order_ref] = state.status
        mapped = map_status(state.status)
        if mapped is not None:
            reason = getattr(state, "completedStatus", "") or f"IB reports the order {state.status}"
            self.handler.handle_status(record.order_id, mapped, reason, broker_order_id=attempt.order_id)

    def on_execDetails(self, req_id: int, contract: Any, execution: Any) -> None:
        found = self._lookup(execution.orderRef, execution.permId, execution.orderId, execution.clientId)
        if self._sync is not None and execution.orderRef:
            self._sync.executed_refs.add(execution.orderRef)
        if found is None:
            orphan = self._sync.orphans.get(execution.orderRef) if self._sync is not None else None
            if orphan is not None:
                orphan.executions.append((req_id, contract, execution))
            return
        record, _ = found
        when = execution.time
        if isinstance(when, datetime) and when.tzinfo is not None:
            when = when.astimezone().replace(tzinfo=None)
        self.handler.handle_fill(
            record.order_id, execution.shares, execution.price, exec_id=execution.execId,
            timestamp=when if isinstance(when, datetime) else None,
        )

    def on_commissionReport(self, report: Any) -> None:
        commission = report.commission
        if commission is None or commission >= UNSET_DOUBLE:
            return
        self.handler.handle_commission(report.execId, commission)

    def on_error(self, req_id: int, code: int, message: str, *rest: Any) -> None:
        if req_id is None or req_id <= 0:
            if code in (1101, 1102) and self.is_connected:
                log.info("IB connectivity restored (%s); re-syncing orders", code)
                self._spawn(self.resync())
            return
        found = self._by_order_id.get(req_id)
        if found is None:
            return  # a market-data or contract request, not an order
        record, attempt = found
        kind = classify(code, message)
        if attempt.order_ref in self._pending_modify and kind not in (ErrorClass.INFO, ErrorClass.CANCEL_CONFIRM):
            # An error answering a modify is about the modify: the original order stays live as it was.
            del self._pending_modify[attempt.order_ref]
            self.handler.handle_request_rejected(record.order_id, code, f"Change refused: {message}")
            return
        if record.attempts and attempt is not record.attempts[-1]:
            log.info("error %s for earlier attempt %s of order #%s: %s", code, req_id, record.order_id, message)
            return
        self.handler.handle_error(record.order_id, code, message)
        if kind is ErrorClass.RETRYABLE and attempt.perm_id and self.is_connected:
            # IB had acknowledged the order, so it was not resubmitted: ask IB what became of it.
            self._spawn(self.resync())

