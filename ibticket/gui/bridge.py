"""The one bridge from the handler's callbacks to Qt signals, coalesced.

The handler calls back once per event, on the loop thread (which is the GUI thread under qasync). The
bridge only notes what changed; a single-shot timer then hands the views one batch per interval (50 ms by
default), so a burst of thousands of fills costs the views a few dozen ranged updates, not thousands.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from ..core import Fill, OrderExecutionHandler, OrderRecord

FLUSH_INTERVAL_MS = 50


class OrderBridge(QObject):
    # Each carries a list: new or changed records in the order first seen; new, corrected or re-costed
    # fills; (record, message) error pairs.
    ordersChanged = Signal(object)
    fillsChanged = Signal(object)
    errorsRaised = Signal(object)

    def __init__(self, handler: OrderExecutionHandler, interval_ms: int = FLUSH_INTERVAL_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.handler = handler
        self._orders: dict[int, OrderRecord] = {}
        self._fills: dict[str, Fill] = {}
        self._errors: list[tuple[OrderRecord, str]] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)
        handler.register_status_callback(self._on_status)
        handler.register_fill_callback(self._on_fill)
        handler.register_error_callback(self._on_error)
        handler.register_commission_callback(self._on_commission)

    def detach(self) -> None:
        """Stop listening (the session ends); what is pending is delivered first."""
        self.handler.unregister_status_callback(self._on_status)
        self.handler.unregister_fill_callback(self._on_fill)
        self.handler.unregister_error_callback(self._on_error)
        self.handler.unregister_commission_callback(self._on_commission)
        self.flush()

    # -- callbacks: note and arm, nothing more -------------------------------------------------------

    def _arm(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _on_status(self, record: OrderRecord) -> None:
        self._orders[record.order_id] = record
        self._arm()

    def _on_fill(self, record: OrderRecord) -> None:
        self._orders[record.order_id] = record
        fill = record.fills[-1]  # add_fill and replace_fill both append the new execution
        self._fills[fill.fill_id] = fill
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
        if orders:
            self.ordersChanged.emit(list(orders.values()))
        if fills:
            self.fillsChanged.emit(list(fills.values()))
        if errors:
            self.errorsRaised.emit(errors)

    def replay(self) -> None:
        """Hand the views every record the handler holds (after a restart restored them from the log)."""
        for record in self.handler.get_all_orders():
            self._orders[record.order_id] = record
            for fill in record.fills:
                self._fills[fill.fill_id] = fill
        self.flush()


class Relay(QObject):
    """Turns the session's plain callbacks (connection, quotes, positions, account) into Qt signals."""

    connectionChanged = Signal(object)
    quoteChanged = Signal(object)
    positionsChanged = Signal(object)
    accountChanged = Signal(object)

    def connection(self, status: Any) -> None:
        self.connectionChanged.emit(status)

    def quote(self, quote: Any) -> None:
        self.quoteChanged.emit(quote)

    def positions(self, positions: Any) -> None:
        self.positionsChanged.emit(positions)

    def account(self, values: Any) -> None:
        self.accountChanged.emit(values)
