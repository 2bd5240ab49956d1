"""The working orders' lines on the chart, and their drag.

Dropping an order's line asks the window to modify the order (``modifyRequested``): the price is rounded to
the tick here, the precaution checks and the confirmation are the order desk's. The line waits at the new
price, dotted, until IB acknowledges the change, and goes back if the change is declined, refused or never
acknowledged. Escape while dragging puts the line back and sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor

from ...core.format import round_to_tick
from ...trading.chart_data import OrderLineSpec
from ..theme import LIGHT, Colors
from .chart_items import LineLabel, OrderLine, with_alpha

ACK_POLL_MS = 100
PENDING_SECONDS = 15.0  # a dragged price waits this long for IB's acknowledgement before the line goes back


class OrderLines(QObject):
    """One line per working order's limit or stop price on ``plot``, as ``specs()`` says they are now."""

    modifyRequested = Signal(int, str, float)  # order id, "limit" or "stop", the new price (on the tick)

    def __init__(self, plot: pg.PlotWidget, specs: Callable[[], Iterable[OrderLineSpec]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.plot = plot
        self._specs = specs
        self.colors: Colors = LIGHT
        self.tick = 0.01
        self._lines: dict[tuple[int, str], OrderLine] = {}
        # IB's acknowledgement (the permId) of an order already Submitted comes without a status change, so
        # no callback says so: while a line shows "sending", the records are looked at again.
        self._ack_timer = QTimer(self, interval=ACK_POLL_MS)
        self._ack_timer.timeout.connect(self.refresh)

    def line(self, order_id: int, kind: str = "limit") -> OrderLine | None:
        return self._lines.get((order_id, kind))

    def lines(self) -> list[OrderLine]:
        return list(self._lines.values())

    def clear(self, tick: float) -> None:
        """Every line off the plot (another symbol, a new session); the next ones are on ``tick``."""
        self.tick = tick
        for line in self._lines.values():
            self.plot.removeItem(line)
        self._lines.clear()

    def set_colors(self, colors: Colors) -> None:
        self.colors = colors
        for line in self._lines.values():
            self._style(line)

    def cancel_drag(self) -> bool:
        return any(line.cancel_drag() for line in self._lines.values())

    def modify_done(self, order_id: int, kind: str, ok: bool) -> None:
        """The order desk's answer to a drop: not sent (declined, refused) puts the line back."""
        line = self._lines.get((order_id, kind))
        if line is None:
            return
        line.asking = False
        line.setMovable(line.spec.movable)
        self._style(line)
        if not ok:
            self._set_pending(line, None)
        elif line.pending is not None:
            pending = line.pending
            QTimer.singleShot(int(PENDING_SECONDS * 1000), lambda: self._expire(order_id, kind, pending))

    def order_errors(self, order_ids: Iterable[int]) -> None:
        """IB refused something about these orders: a change waiting for its acknowledgement will not come."""
        for (order_id, _kind), line in self._lines.items():
            if order_id in order_ids and line.pending is not None and not line.moving:
                self._set_pending(line, None)

    def refresh(self) -> None:
        specs = {s.key: s for s in self._specs()}
        for key in [k for k in self._lines if k not in specs]:
            self.plot.removeItem(self._lines.pop(key))
        for key, spec in specs.items():
            line = self._lines.get(key)
            if line is None:
                line = self._lines[key] = OrderLine(spec, self.tick)
                line.sigPositionChangeFinished.connect(self._dropped)
                line.sigDragged.connect(self._dragging)
                self.plot.addItem(line)
            line.spec = spec
            if line.pending is not None and abs(line.pending - spec.price) < self.tick / 2:
                line.pending = None  # IB took the new price
            if not line.moving:
                line.setMovable(spec.movable and not line.asking)
                line.setValue(line.pending if line.pending is not None else spec.price)
            self._style(line)
        waiting = any(not spec.acknowledged for spec in specs.values())
        if waiting != self._ack_timer.isActive():
            self._ack_timer.start() if waiting else self._ack_timer.stop()

    def _style(self, line: OrderLine) -> None:
        c, spec = self.colors, line.spec
        color = QColor(c.buy if spec.action == "BUY" else c.sell)
        if line.pending is not None:
            pen = pg.mkPen(c.pending, width=2, style=Qt.PenStyle.DotLine)
            text, suffix = QColor(c.pending), "  → confirm?" if line.asking else "  → change sent"
        elif not spec.acknowledged:
            pen = pg.mkPen(with_alpha(color.name(), 170), width=1.5, style=Qt.PenStyle.DashLine)
            text, suffix = color, ""
        elif not spec.movable:
            pen = pg.mkPen(c.muted, width=1.5, style=Qt.PenStyle.DashDotLine)
            text, suffix = QColor(c.muted), ""
        else:
            pen = pg.mkPen(color, width=1.5)
            text, suffix = color, ""
        line.setPen(pen)
        line.setHoverPen(pg.mkPen(pen.color(), width=3, style=pen.style()))
        line.label.format = LineLabel(spec, self.tick, suffix)
        line.label.setColor(text)
        line.label.fill = pg.mkBrush(with_alpha(c.chart_background, 200))
        line.label.valueChanged()
        line.setToolTip("Drag to change the price; Esc while dragging puts it back" if spec.movable
                        else "IB has not acknowledged this order yet" if not spec.acknowledged else "")

    def _dragging(self, line: OrderLine) -> None:
        if line.moving and not self.plot.hasFocus():
            self.plot.setFocus(Qt.FocusReason.MouseFocusReason)  # so Escape reaches the chart

    def _dropped(self, line: OrderLine) -> None:
        spec = line.spec
        new = round_to_tick(line.value(), self.tick)
        current = line.pending if line.pending is not None else spec.price
        if new <= 0 or abs(new - current) < self.tick / 2 or not spec.movable:
            line.setValue(current)
            return
        line.asking = True
        line.setMovable(False)  # until the desk has answered
        self._set_pending(line, new)
        self.modifyRequested.emit(spec.order_id, spec.kind, new)

    def _set_pending(self, line: OrderLine, value: float | None) -> None:
        line.pending = value
        line.setValue(value if value is not None else line.spec.price)
        self._style(line)

    def _expire(self, order_id: int, kind: str, price: float) -> None:
        line = self._lines.get((order_id, kind))
        if line is not None and line.pending == price:
            self._set_pending(line, None)  # IB never took it: show where the order really is
