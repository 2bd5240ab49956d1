"""The one bridge from the handler's callbacks to Qt signals, coalesced.

The handler calls back once per event, on the loop thread (which is the GUI thread under qasync). The
bridge only notes what changed; a single-shot timer then hands the views one batch. How long it waits
adapts to the flow: a change after a quiet spell goes out on the next loop pass (with whatever arrived in the
same socket read), and while changes keep coming the views get at most one batch per ``quiet_ms`` (10 ms).
Once a batch is large (a burst), one batch per ``interval_ms`` (50 ms); in a flood (a batch of more than
FLOOD_BATCH changes, i.e. thousands a second), one per ``flood_ms`` (100 ms). So thousands of fills cost the
views a few dozen ranged updates, not thousands: each update repaints the tables (about 10 ms of the loop on
the benchmark machine), and no eye follows more than ten updates a second of a table whose every row changes.
A fixed 50 ms wait had made a lone fill take 25 ms on average (55 ms at p99) to reach its row at 100 fills/s
(bench/window_bench.py, docs/benchmarks.md).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from ..core import Fill, OrderExecutionHandler, OrderRecord

FLUSH_INTERVAL_MS = 50  # between batches during a burst: at most 20 a second
QUIET_INTERVAL_MS = 10  # between batches otherwise: a fill is on screen within about a frame
FLOOD_INTERVAL_MS = 100  # between batches in a flood: at most 10 a second
BURST_BATCH = 8  # a batch of more changes than this means a burst is on
FLOOD_BATCH = 100  # ... and of more than this, a flood (over 2,000 changes a second at 50 ms)
# Orders handed over per loop pass when a restart shows a day restored from the log: the views take a slice
# in 10-30 milliseconds, so a day of 200,000 orders fills in while the window stays live.
REPLAY_SLICE = 1_000
REPLAY_PAUSE_MS = 1  # between slices: input, paint and the connection's messages go in between


class OrderBridge(QObject):
    # Each carries a list: new or changed records in the order first seen; new, corrected or re-costed
    # fills; (record, message) error pairs.
    ordersChanged = Signal(object)
    fillsChanged = Signal(object)
    errorsRaised = Signal(object)
    # Executions that have just arrived (after fillsChanged has shown them): not those a replay hands over
    # (restored from the order log), nor a late commission's new copy of a fill. For the fill alert.
    fillsArrived = Signal(object)

    def __init__(self, handler: OrderExecutionHandler, interval_ms: int = FLUSH_INTERVAL_MS,
                 parent: QObject | None = None, quiet_ms: int = QUIET_INTERVAL_MS,
                 flood_ms: int = FLOOD_INTERVAL_MS) -> None:
        super().__init__(parent)
        self.handler = handler
        self._orders: dict[int, OrderRecord] = {}
        self._fills: dict[str, Fill] = {}
        self._errors: list[tuple[OrderRecord, str]] = []
        self._arrived: list[Fill] = []
        self._burst_gap = interval_ms / 1000
        self._quiet_gap = min(quiet_ms, interval_ms) / 1000
        self._flood_gap = max(flood_ms, interval_ms) / 1000
        self._gap = self._quiet_gap  # the least time between two batches, as the last batch's size says
        self._last_flush = -1e9  # monotonic time of the last batch
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        # Orders the views have been given, and those queued for a replay (see replay()).
        self._shown: set[int] = set()
        self._queued: set[int] = set()
        self._queue: deque[OrderRecord] = deque()
        self._replay_timer = QTimer(self)
        self._replay_timer.setSingleShot(True)
        self._replay_timer.timeout.connect(self._replay_slice)
        handler.status_event.connect(self._on_status)
        handler.fill_event.connect(self._on_fill)
        handler.error_event.connect(self._on_error)
        handler.commission_event.connect(self._on_commission)

    def detach(self) -> None:
        """Stop listening (the session ends); what is pending is delivered first."""
        self.handler.status_event.disconnect(self._on_status)
        self.handler.fill_event.disconnect(self._on_fill)
        self.handler.error_event.disconnect(self._on_error)
        self.handler.commission_event.disconnect(self._on_commission)
        self._replay_timer.stop()
        self._queue.clear()
        self._queued.clear()
        self.flush()

    # -- callbacks: note and arm, nothing more -------------------------------------------------------

    def _arm(self) -> None:
        if not self._timer.isActive():
            wait = self._last_flush + self._gap - time.monotonic()
            self._timer.start(max(0, round(wait * 1000)))

    def _on_status(self, record: OrderRecord) -> None:
        self._orders[record.order_id] = record
        self._arm()

    def _on_fill(self, record: OrderRecord) -> None:
        self._orders[record.order_id] = record
        fill = record.fills[-1]  # add_fill and replace_fill both append the new execution
        self._fills[fill.fill_id] = fill
        self._arrived.append(fill)
        self._arm()

    def _on_commission(self, record: OrderRecord, fill: Fill) -> None:
        self._fills[fill.fill_id] = fill
        self._arm()

    def _on_error(self, record: OrderRecord, message: str) -> None:
        self._orders[record.order_id] = record
        self._errors.append((record, message))
        self._arm()

    # -- delivery ------------------------------------------------------------------------------------

    def flush(self) -> None:
        self._timer.stop()
        orders, self._orders = self._orders, {}
        fills, self._fills = self._fills, {}
        errors, self._errors = self._errors, []
        arrived, self._arrived = self._arrived, []
        if self._queued:
            # Queued for a replay: its slice hands the views these records as they are then, in order of id.
            queued = self._queued
            orders = {oid: r for oid, r in orders.items() if oid not in queued}
            fills = {fid: f for fid, f in fills.items() if f.order_id not in queued}
        self._shown.update(orders)
        size = max(len(orders), len(fills))
        self._gap = (self._flood_gap if size > FLOOD_BATCH else self._burst_gap if size > BURST_BATCH
                     else self._quiet_gap)
        self._last_flush = time.monotonic()
        if orders:
            self.ordersChanged.emit(list(orders.values()))
        if fills:
            self.fillsChanged.emit(list(fills.values()))
        if errors:
            self.errorsRaised.emit(errors)
        if arrived:
            self.fillsArrived.emit(arrived)

    def replay(self) -> None:
        """Hand the views the records the handler holds and they have not had: a restart restores a day's
        orders from the log, and an adoption registers one, without callbacks. In slices of REPLAY_SLICE
        orders (with their fills), one per loop pass, in the handler's order (that of their ids); a record that
        changes meanwhile goes with its slice, not before it."""
        records = self.handler.get_all_orders()
        shown, queued = self._shown, self._queued
        missing = len(records) - len(shown) - len(queued)  # everything shown or queued is the handler's
        if missing <= 0:
            return
        if not shown and not queued:
            new = records
        else:
            # The ones not had yet are the newest (an adoption): look from the end, not through the whole day.
            new = []
            for record in reversed(records):
                if record.order_id not in shown and record.order_id not in queued:
                    new.append(record)
                    if len(new) == missing:
                        break
            new.reverse()
        self._queue.extend(new)
        queued.update(r.order_id for r in new)
        if not self._replay_timer.isActive():
            self._replay_timer.start(REPLAY_PAUSE_MS)

    @property
    def replaying(self) -> bool:
        """Orders are still queued for the views (``replay`` hands them over a slice per loop pass)."""
        return bool(self._queue)

    def _replay_slice(self) -> None:
        queue = self._queue
        batch = [queue.popleft() for _ in range(min(REPLAY_SLICE, len(queue)))]
        ids = [r.order_id for r in batch]
        self._queued.difference_update(ids)
        self._shown.update(ids)
        if queue:
            self._replay_timer.start(REPLAY_PAUSE_MS)
        if batch:
            self.ordersChanged.emit(batch)
            fills = [f for r in batch for f in r.fills]
            if fills:
                self.fillsChanged.emit(fills)


class Relay(QObject):
    """Turns the session's events (connection, quotes, positions, account, the order log's health) into Qt
    signals; the handler's order events come through ``OrderBridge``."""

    connectionChanged = Signal(object)
    quoteChanged = Signal(object)
    positionsChanged = Signal(object)
    accountChanged = Signal(object)
    logHealthChanged = Signal(bool, str)

    def connection(self, status: Any) -> None:
        self.connectionChanged.emit(status)

    def quote(self, quote: Any) -> None:
        self.quoteChanged.emit(quote)

    def positions(self, positions: Any) -> None:
        self.positionsChanged.emit(positions)

    def account(self, values: Any) -> None:
        self.accountChanged.emit(values)

    def log_health(self, degraded: bool, message: str) -> None:
        self.logHealthChanged.emit(degraded, message)
