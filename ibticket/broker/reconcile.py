"""After every (re)connect: compare the app's orders with what IB reports, and settle the difference.

IB has no replay log; recovery is snapshot based (open orders, today's completed orders, today's
executions), which ib_insync requests during every connect. While that sync runs, the broker's message
taps apply every status and execution to the handler (executions dedupe by exec id) and note here which
order references IB mentioned. What IB never mentioned is decided below. A resubmission happens only
for an attempt IB never acknowledged and never reported: that order cannot be at IB, so placing it again
cannot double it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import TRANSPORT_ERROR
from ..core.handler import OrderExecutionHandler
from ..core.records import OrderStatus

log = logging.getLogger(__name__)

# Our order references: "ibt-<clientId>-<yyyymmdd>-<hhmmss>-<order id>", and "/<attempt>" for an attempt.
REF_PATTERN = re.compile(r"^ibt-(\d+)-\d{8}-\d{6}-\d+(?:/\d+)?$")


def ref_prefix(client_id: int, started: str) -> str:
    return f"ibt-{client_id}-{started}"


def is_our_ref(order_ref: str, client_id: int) -> bool:
    match = REF_PATTERN.match(order_ref or "")
    return bool(match) and int(match.group(1)) == client_id


@dataclass
class Orphan:
    """An order of this app that IB knows and the app does not (placed just before a crash)."""

    order_ref: str
    symbol: str
    action: str
    quantity: int
    order_type: str
    limit_price: float | None
    stop_price: float | None
    tif: str
    order_id: int
    perm_id: int
    status: str
    executions: list[Any] = field(default_factory=list)  # (reqId, contract, execution), replayed on adoption


@dataclass
class SyncSnapshot:
    open_status: dict[str, str] = field(default_factory=dict)
    completed_status: dict[str, str] = field(default_factory=dict)
    executed_refs: set[str] = field(default_factory=set)
    orphans: dict[str, Orphan] = field(default_factory=dict)

    def mentioned(self, order_ref: str) -> bool:
        return (
            order_ref in self.open_status or order_ref in self.completed_status or order_ref in self.executed_refs
        )


@dataclass
class ReconcileReport:
    live: int = 0
    done: int = 0
    resubmit: int = 0
    failed: int = 0
    adopted: int = 0

    def __str__(self) -> str:
        return (
            f"reconciled: {self.live} live, {self.done} done at IB, {self.resubmit} to resubmit, "
            f"{self.failed} failed, {self.adopted} adopted"
        )


def reconcile(
    handler: OrderExecutionHandler,
    snapshot: SyncSnapshot,
    *,
    after_restart: bool,
    only_acknowledged: bool = False,
    adopted: int = 0,
) -> ReconcileReport:
    """``adopted``: how many orphans the caller adopted from this snapshot."""
    report = ReconcileReport(adopted=adopted)
    for record in handler.get_all_orders():
        if record.status.is_terminal:
            continue
        if only_acknowledged and not record.acknowledged:
            continue
        retry_pending = handler.retry_pending(record.order_id)
        if record.status is OrderStatus.ERROR and not retry_pending:
            continue
        if not record.attempts or (not record.attempts[-1].order_id and not snapshot.mentioned(
            record.attempts[-1].order_ref
        )):
            if retry_pending:
                continue  # a retry is due anyway; nothing of this order is at IB
            if record.status is OrderStatus.PENDING or after_restart:
                handler.handle_status(
                    record.order_id, OrderStatus.ERROR, "The order was not sent before the app stopped"
                )
                report.failed += 1
            continue
        attempt = record.attempts[-1]
        ref = attempt.order_ref
        if ref in snapshot.open_status:
            report.live += 1
            if record.status is OrderStatus.ERROR:
                # An error made us plan a resubmit, yet the order is working at IB.
                handler.handle_status(record.order_id, OrderStatus.SUBMITTED, "IB reports the order working")
            continue
        if ref in snapshot.completed_status or ref in snapshot.executed_refs:
            report.done += 1
            continue
        if retry_pending:
            continue
        if after_restart:
            handler.handle_status(
                record.order_id,
                OrderStatus.ERROR,
                "IB does not report this order after the restart; it was not resubmitted",
            )
            report.failed += 1
        elif attempt.perm_id:
            handler.handle_status(
                record.order_id, OrderStatus.ERROR, "IB no longer reports this acknowledged order; check TWS"
            )
            report.failed += 1
        else:
            # Written to a socket that dropped (or still queued in the client's throttle): it never reached IB.
            handler.handle_error(
                record.order_id, TRANSPORT_ERROR, "The order did not reach IB before the connection dropped"
            )
            report.resubmit += 1
    log.info("%s", report)
    return report
