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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import TRANSPORT_ERROR
from ..core.handler import OrderExecutionHandler
from ..core.order import OrderRequest
from ..core.records import OrderRecord, OrderStatus

log = logging.getLogger(__name__)

# Our order references: "ibt-<clientId>-<yyyymmdd>-<hhmmss>-<order id>", and "/<attempt>" for an attempt.
REF_PATTERN = re.compile(r"^ibt-(\d+)-\d{8}-\d{6}-\d+(?:/\d+)?$")


def ref_prefix(client_id: int, started: str) -> str:
    return f"ibt-{client_id}-{started}"


def ref_client_id(order_ref: str) -> int | None:
    """The client id that placed an order of ours, from its reference; None for anything else."""
    match = REF_PATTERN.match(order_ref or "")
    return int(match.group(1)) if match else None


def is_our_ref(order_ref: str, client_id: int) -> bool:
    return ref_client_id(order_ref) == client_id


def foreign_orders(
    records: Iterable[OrderRecord], client_id: int, managed: Callable[[int], bool] = lambda _: False
) -> dict[int, list[str]]:
    """Unfinished orders in the log placed under another client id, by that id, leaving out the ids a
    running ibticket manages (``managed``). IB reports their fills and cancels only to the client id that
    placed them, so this process cannot settle them."""
    found: dict[int, list[str]] = {}
    for record in records:
        owner = ref_client_id(record.order_ref)
        if owner is None or owner == client_id or record.status.is_terminal:
            continue
        found.setdefault(owner, []).append(record.order_ref)
    return {owner: refs for owner, refs in sorted(found.items()) if not managed(owner)}


def describe_foreign(foreign: dict[int, list[str]], client_id: int) -> str:
    """What the trader must know about ``foreign_orders``, and how to recover them."""
    parts = []
    for owner, refs in foreign.items():
        shown = ", ".join(refs[:3]) + (", …" if len(refs) > 3 else "")
        parts.append(f"{len(refs)} unfinished order{'s' if len(refs) != 1 else ''} of client id {owner} ({shown})")
    owners = " or ".join(f"client id {owner}" for owner in foreign)
    return (
        f"Today's order log holds {' and '.join(parts)}. This ibticket runs as client id {client_id}, and IB "
        f"reports an order's fills and cancels only to the client id that placed it, so these are left alone. "
        f"To recover them, connect as {owners} (client_id=… or IBTICKET_CLIENT_ID) with this log folder; "
        f"until then, check them in TWS."
    )


@dataclass
class Orphan:
    """An order of this app that IB knows and the app does not (placed just before a crash)."""

    order_ref: str
    request: OrderRequest
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
    # Orders whose placement was unknown when the snapshot was asked for: this snapshot settles them.
    unknown: frozenset[int] = frozenset()

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
    # Orders IB reports that began on an earlier day, taken in from that day's log.
    carried: int = 0
    # Unfinished orders of other client ids in today's log, by client id (see foreign_orders).
    foreign: dict[int, int] = field(default_factory=dict)

    def __str__(self) -> str:
        text = (
            f"reconciled: {self.live} live, {self.done} done at IB, {self.resubmit} to resubmit, "
            f"{self.failed} failed, {self.adopted} adopted"
        )
        if self.carried:
            text += f", {self.carried} from earlier days"
        for owner, count in self.foreign.items():
            text += f"; {count} left to client id {owner} (connect as client id {owner} to recover them)"
        return text


def reconcile(
    handler: OrderExecutionHandler,
    snapshot: SyncSnapshot,
    *,
    after_restart: bool,
    only_acknowledged: bool = False,
    adopted: int = 0,
    carried: int = 0,
    foreign: dict[int, list[str]] | None = None,
) -> ReconcileReport:
    """``adopted`` / ``carried``: orphans the caller took in from this snapshot (see
    ``BrokerCore._adopt_orphans``); ``foreign``: see ``foreign_orders``."""
    report = ReconcileReport(
        adopted=adopted, carried=carried, foreign={owner: len(refs) for owner, refs in (foreign or {}).items()}
    )
    for record in handler.get_all_orders():
        if record.order_id in snapshot.unknown and record.attempts:
            # IB reports every order it has in the snapshot; one it does not report never reached it.
            at_ib = record.acknowledged or snapshot.mentioned(record.attempts[-1].order_ref)
            handler.settle_unknown(record.order_id, at_ib)
            if not at_ib:
                report.failed += 1
                continue
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
