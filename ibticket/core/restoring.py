"""The handler taking orders back after a restart: the log's rebuilt day, an order IB has and the log lost
(adopted), an order that began on an earlier day (carried); a mixin of ``OrderExecutionHandler``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from .records import BrokerAttempt, Fill, OrderRecord
from .recovery import RestorePlan, plan_restore


class Restoring:
    _orders: dict[int, OrderRecord]
    _next_id: int
    _seen_exec_ids: set[str]
    _fills_by_exec: dict[str, Fill]
    _fill_by_exec_base: dict[str, Fill]
    _attempts_by_ref: dict[str, tuple[OrderRecord, BrokerAttempt]]
    _ignored_in_log: set[tuple[int, str]]
    _log: Callable[..., None]

    def restore(
        self, records: list[OrderRecord], next_order_id: int | None = None, noted: dict[str, set[str]] | None = None
    ) -> None:
        """Adopt orders rebuilt from the log (after a restart) so ids continue and executions dedupe.
        ``next_order_id`` skips ids that others (another client sharing the log) used today; ``noted``: per
        order reference, the statuses the log already notes as ignored (``RestoredDay.noted``), so a restart
        does not note them again."""
        self.apply_restore(plan_restore(records, next_order_id, noted))

    def apply_restore(self, plan: RestorePlan) -> None:
        """``restore`` with its indexes built beforehand (``recovery.plan_restore``, which may run in a worker
        thread): a handful of dict updates, however big the day."""
        self._next_id = max(self._next_id, plan.next_order_id)
        if not self._orders and not self._seen_exec_ids and not self._attempts_by_ref:
            # A fresh handler (a start): the plan's indexes become its own, at no cost however big the day.
            self._orders, self._seen_exec_ids = plan.orders, plan.seen_exec_ids
            self._fills_by_exec, self._fill_by_exec_base = plan.fills_by_exec, plan.fill_by_exec_base
            self._attempts_by_ref, self._ignored_in_log = plan.attempts_by_ref, plan.noted
            return
        self._orders.update(plan.orders)
        self._seen_exec_ids.update(plan.fills_by_exec)
        self._fills_by_exec.update(plan.fills_by_exec)
        self._fill_by_exec_base.update(plan.fill_by_exec_base)
        self._attempts_by_ref.update(plan.attempts_by_ref)
        self._ignored_in_log.update(plan.noted)

    def adopt(self, record: OrderRecord) -> OrderRecord:
        """Register an order found at the broker but missing here (placed just before a crash). Its line
        names the attempt IB knows, so the next start finds the order in the log instead of adopting it
        again."""
        record.order_id = self._next_id
        self._next_id += 1
        self.restore([record])
        self._log("log_submission", record, adopted=True, **attempt_fields(record))
        return record

    def carry(self, record: OrderRecord, from_day: date) -> OrderRecord:
        """Take in an order the broker still reports that began on an earlier day (a GTC order, one working
        across midnight), rebuilt from that day's log. It keeps its number unless today's log has used it,
        and today's log says where it came from, so the next start reads it back from that day."""
        if record.order_id in self._orders or record.order_id <= 0:
            record.order_id = self._next_id
            for fill in record.fills:
                fill.order_id = record.order_id
        self.restore([record])
        self._log(
            "log_event", "NOTICE", record, message=f"continued from the order log of {from_day.isoformat()}",
            carried_from=from_day.isoformat(), **attempt_fields(record),
        )
        return record


def attempt_fields(record: OrderRecord) -> dict[str, Any]:
    """What the log needs to find an order's latest attempt at the broker again after a restart."""
    if not record.attempts:
        return {}
    attempt = record.attempts[-1]
    fields: dict[str, Any] = {"attempt_ref": attempt.order_ref}
    if attempt.order_id:
        fields["broker_order_id"] = attempt.order_id
    if attempt.perm_id:
        fields["perm_id"] = attempt.perm_id
    return fields
