"""Orders of this client that IB reports and today's log does not mention (placed just before a crash, or
begun on an earlier day): noted during the connect's sync, then carried from the earlier day's log or adopted
from what IB says. A mixin of ``BrokerCore``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from ..core.handler import OrderExecutionHandler
from ..core.records import BrokerAttempt, OrderRecord, OrderStatus
from .orders import map_status, request_from_ib
from .reconcile import Orphan, SyncSnapshot, is_our_ref

if TYPE_CHECKING:
    from .settings import ConnectionSettings

log = logging.getLogger(__name__)


class Adoption:
    handler: OrderExecutionHandler
    settings: ConnectionSettings
    _by_perm: dict[int, tuple[OrderRecord, BrokerAttempt]]
    _by_order_id: dict[int, tuple[OrderRecord, BrokerAttempt]]
    _sync: SyncSnapshot | None
    on_execDetails: Callable[[int, Any, Any], None]
    _index_attempts: Callable[[OrderRecord], None]

    def _note_orphan(self, contract: Any, order: Any, status: str) -> None:
        if self._sync is None or not is_our_ref(order.orderRef, self.settings.client_id):
            return
        if order.orderRef in self._sync.orphans:
            self._sync.orphans[order.orderRef].status = status
            return
        request = request_from_ib(contract, order)
        if request is None:
            log.warning("IB reports order %s of this client, which the app cannot show: %s %s %s %s",
                        order.orderRef, order.action, order.totalQuantity, contract.symbol, order.orderType)
            return
        self._sync.orphans[order.orderRef] = Orphan(order.orderRef, request, order.orderId, order.permId, status)

    def _adopt_orphans(
        self, snapshot: SyncSnapshot, earlier: dict[str, tuple[OrderRecord, date]]
    ) -> tuple[int, int]:
        """Take in this client's orders that IB reports and today's log does not mention: rebuilt from the
        earlier day they began on when the log has them (``earlier``, see ``restore.find_earlier``: carried),
        else adopted from what IB says. Returns (adopted, carried)."""
        adopted = carried = 0
        for orphan in snapshot.orphans.values():
            found = earlier.get(orphan.order_ref.rsplit("/", 1)[0])
            if found is not None and found[0].status.is_terminal and map_status(orphan.status) in (
                OrderStatus.FILLED, OrderStatus.CANCELLED
            ):
                continue  # finished on an earlier day, as IB says too: not today's business
            if found is not None:
                record, attempt = self._carry(orphan, *found)
                carried += 1
            else:
                record, attempt = self._adopt(orphan)
                adopted += 1
            self._by_perm[orphan.perm_id] = (record, attempt)
            if orphan.order_id:
                self._by_order_id[orphan.order_id] = (record, attempt)
            snapshot.open_status.setdefault(orphan.order_ref, orphan.status)
            for req_id, contract, execution in orphan.executions:
                self.on_execDetails(req_id, contract, execution)
            mapped = map_status(orphan.status)
            if mapped is OrderStatus.CANCELLED:
                self.handler.handle_status(record.order_id, mapped, "IB reports the order cancelled")
        return adopted, carried

    def _carry(self, orphan: Orphan, record: OrderRecord, day: date) -> tuple[OrderRecord, BrokerAttempt]:
        attempt = next((a for a in record.attempts if a.order_ref == orphan.order_ref), None)
        if attempt is None:  # an attempt whose line was lost: IB's word is all there is
            attempt = BrokerAttempt(orphan.order_ref, orphan.request.quantity - record.filled_quantity)
            record.attempts.append(attempt)
        attempt.order_id = orphan.order_id or attempt.order_id
        attempt.perm_id = orphan.perm_id or attempt.perm_id
        self.handler.carry(record, day)
        self._index_attempts(record)
        return record, attempt

    def _adopt(self, orphan: Orphan) -> tuple[OrderRecord, BrokerAttempt]:
        record = orphan.request.new_record(
            0, status=OrderStatus.SUBMITTED, order_ref=orphan.order_ref.rsplit("/", 1)[0],
            submission_time=self.handler.now(),
            attempts=[BrokerAttempt(orphan.order_ref, orphan.request.quantity, orphan.order_id, orphan.perm_id)],
        )
        self.handler.adopt(record)
        return record, record.attempts[0]
