"""The chart: the ticket's symbol as a last-price line or 1-minute candles, fills as ▲ / ▼, working orders as
lines that a drag re-prices. pyqtgraph (and numpy) are imported with this module, only when the chart is
first shown (see ``chart_dock.py``).

Drawing is paced, never per tick: a quote only marks the chart dirty and a timer redraws at most MAX_FPS
times a second. The line is clipped to the view and downsampled (peak), so a day of ticks costs what the
screen can show. In candle mode a tick redraws only the candle in progress: the closed candles are one
cached picture, rebuilt when a minute ends.

Dropping an order's line asks the window to modify the order (``modifyRequested``): the price is rounded to
the tick here, the precaution checks and the confirmation are the order desk's. The line waits at the new
price, dotted, until IB acknowledges the change, and goes back if the change is declined, refused or never
acknowledged. Escape while dragging puts the line back and sends nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPicture
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...core import OrderRecord
from ...core.format import decimals_for_tick, round_to_tick
from ...core.format import price as fmt_price
from ...trading.chart_data import (
    CANDLE_SECONDS,
    Candle,
    CandleSeries,
    FillMark,
    OrderLineSpec,
    TickStore,
    epoch,
    fill_marks,
    now,
    order_lines,
)
from ..theme import LIGHT, Colors

MAX_FPS = 30
ACK_POLL_MS = 100
PENDING_SECONDS = 15.0  # a dragged price waits this long for IB's acknowledgement before the line goes back
MODES = (("line", "Last price"), ("candles", "1-minute candles"))
MARK_SIZE = 13
MIN_SECONDS_IN_VIEW = 60.0
# An order line's label sits above its line, below it when the line is in the upper half of the view (so
# a line at the top edge keeps its label on screen).
LABEL_ANCHORS = [(0, 0), (0, 1)]


class CandlesItem(pg.GraphicsObject):
    """Candles drawn into one QPicture, in coordinates relative to the first candle (a QPicture keeps
    single-precision numbers: epoch seconds would be off by minutes)."""

    def __init__(self, period: float = CANDLE_SECONDS) -> None:
        super().__init__()
        self.period = period
        self._candles: list[Candle] = []
        self._origin = (0.0, 0.0)  # the item's position: where the first candle starts, at its low
        self._picture = QPicture()
        self._rect = QRectF()
        self._up = QColor(LIGHT.gain)
        self._down = QColor(LIGHT.loss)

    def set_style(self, up: str, down: str) -> None:
        self._up, self._down = QColor(up), QColor(down)
        self._render()

    def set_candles(self, candles: Sequence[Candle]) -> None:
        self._candles = list(candles)
        self._render()

    def candles(self) -> list[Candle]:
        return list(self._candles)

    def _render(self) -> None:
        self.prepareGeometryChange()
        picture = QPicture()
        candles = self._candles
        if candles:
            x0, y0 = self._origin = candles[0].start, candles[0].low
            self.setPos(x0, y0)
            painter = QPainter(picture)
            width = self.period * 0.7
            for c in candles:
                color = self._up if c.close >= c.open else self._down
                painter.setPen(pg.mkPen(color, width=1))
                painter.setBrush(pg.mkBrush(color))
                x = c.start - x0 + self.period / 2
                painter.drawLine(QPointF(x, c.low - y0), QPointF(x, c.high - y0))
                painter.drawRect(QRectF(x - width / 2, c.open - y0, width, c.close - c.open))
            painter.end()
            low = min(c.low for c in candles)
            high = max(c.high for c in candles)
            self._rect = QRectF(0, low - y0, candles[-1].start - x0 + self.period, high - low)
        else:
            self._rect = QRectF()
        self._picture = picture
        self.update()

    def paint(self, painter: QPainter, *_args: Any) -> None:
        painter.drawPicture(0, 0, self._picture)

    def boundingRect(self) -> QRectF:
        return self._rect

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange: Any = None) -> tuple[float, float] | None:
        candles = self._candles
        if axis == 1 and orthoRange is not None:  # the candles within the visible time range (view coordinates)
            candles = [c for c in candles if c.start + self.period >= orthoRange[0] and c.start <= orthoRange[1]]
        if not candles:
            return None
        # Answered in the item's coordinates (the ViewBox maps them through the item's position).
        if axis == 0:
            x0 = self._origin[0]
            return candles[0].start - x0, candles[-1].start + self.period - x0
        y0 = self._origin[1]
        return min(c.low for c in candles) - y0, max(c.high for c in candles) - y0


class _LabelText:
    """The label of an order line: what the order becomes if dropped here (rounded to the tick)."""

    def __init__(self, spec: OrderLineSpec, tick: float, suffix: str = "") -> None:
        self.spec, self.tick, self.suffix = spec, tick, suffix

    def format(self, value: float) -> str:  # InfLineLabel calls text.format(value=...)
        return self.spec.label_for(round_to_tick(value, self.tick)) + self.suffix


class OrderLine(pg.InfiniteLine):
    """A working order's limit or stop price; draggable once IB has the order."""

    def __init__(self, spec: OrderLineSpec, tick: float) -> None:
        super().__init__(pos=spec.price, angle=0, movable=spec.movable,
                         label=_LabelText(spec, tick), labelOpts={"position": 0.03, "anchors": LABEL_ANCHORS})
        self.spec = spec
        self.tick = tick
        self.pending: float | None = None  # a dropped price the order has not taken yet
        self.asking = False  # dropped: the order desk is checking and confirming, the line stays put
        self.setZValue(20)

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange: Any = None) -> tuple[float, float] | None:
        # The order's price (not where a drag has it now) counts in the price range: every working order
        # stays in view, and the view does not chase the mouse during a drag.
        if axis == 0:
            return None
        target = (self.pending if self.pending is not None else self.spec.price) - self.value()
        return target, target

    def cancel_drag(self) -> bool:
        """Escape: back to where the drag began; the drop that follows does nothing."""
        if not self.moving:
            return False
        self.moving = False
        self.setPos(self.startPosition)
        return True


class ChartView(QWidget):
    modifyRequested = Signal(int, str, float)  # order id, "limit" or "stop", the new price (on the tick)

    def __init__(self, store: TickStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartView")
        self.store = store or TickStore()
        self.colors: Colors = LIGHT
        self.symbol: str | None = None
        self.tick = 0.01
        self.mode = "line"
        self._records: dict[int, OrderRecord] = {}
        self._history: dict[str, list[Any]] = {}
        self._lines: dict[tuple[int, str], OrderLine] = {}
        self._marks: dict[int, list[FillMark]] = {}
        self._drawn_total = -1
        self._marks_dirty = False
        self._candles: CandleSeries | None = None
        self.redraws = 0  # how often the timer redrew (the pacing is tested)

        self.title = QLabel(objectName="chartTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.mode_box = QComboBox(objectName="chartMode")
        for key, text in MODES:
            self.mode_box.addItem(text, key)
        self.mode_box.setToolTip("Draw the last price as a line, or as 1-minute candles")
        self.mode_box.currentIndexChanged.connect(lambda _i: self.set_mode(self.mode_box.currentData()))
        self.hint = QLabel("Drag an order's line to change its price · Esc while dragging puts it back",
                           objectName="chartHint")
        # The hint gives way when the dock is narrow (a label's text would otherwise set the dock's minimum).
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        header = QHBoxLayout()
        header.setContentsMargins(6, 2, 6, 0)
        header.addWidget(self.title)
        header.addWidget(self.hint, 1)
        header.addWidget(self.mode_box)

        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot.setObjectName("chartPlot")
        self.plot.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.plot.setMenuEnabled(False)
        item = self.plot.getPlotItem()
        item.hideAxis("left")
        item.showAxis("right")
        item.showGrid(x=True, y=True, alpha=0.12)
        # On the plot, not the curves: PlotItem.addItem gives every curve the plot's own setting.
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        self.vb = item.getViewBox()
        self.vb.setAutoVisible(y=True)
        # A minute at least: a few seconds of data would have the time axis count milliseconds ("43.500").
        self.vb.setLimits(minXRange=MIN_SECONDS_IN_VIEW)

        self.curve = pg.PlotDataItem()
        self.history_curve = pg.PlotDataItem()
        self.closed_candles = CandlesItem()
        self.last_candle = CandlesItem()
        self.fills = pg.ScatterPlotItem(size=MARK_SIZE, hoverable=True, tip=self._tip, hoverSize=MARK_SIZE + 4)
        self.fills.setZValue(30)
        for it in (self.history_curve, self.curve, self.closed_candles, self.last_candle, self.fills):
            self.plot.addItem(it)

        self.cross_v = pg.InfiniteLine(angle=90, movable=False)
        self.cross_h = pg.InfiniteLine(angle=0, movable=False)
        self.cross_text = pg.TextItem(anchor=(0, 1))
        for it in (self.cross_v, self.cross_h, self.cross_text):
            it.setZValue(40)
            it.hide()
            self.plot.addItem(it, ignoreBounds=True)
        self.plot.scene().sigMouseMoved.connect(self._mouse_moved)
        self.plot.installEventFilter(self)
        self.plot.viewport().installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.plot, 1)

        self._timer = QTimer(self, singleShot=True, interval=1000 // MAX_FPS)
        self._timer.timeout.connect(self.redraw)
        # IB's acknowledgement (the permId) of an order already Submitted comes without a status change, so
        # no callback says so: while a line shows "sending", the records are looked at again.
        self._ack_timer = QTimer(self, interval=ACK_POLL_MS)
        self._ack_timer.timeout.connect(self._refresh_lines)
        self.set_colors(self.colors)
        self.set_mode("line")
        self._set_title()

    # -- inputs --------------------------------------------------------------------------------------

    def set_symbol(self, symbol: str | None, tick: float = 0.01) -> None:
        if symbol == self.symbol and tick == self.tick:
            return
        self.symbol, self.tick = symbol, tick or 0.01
        self._drawn_total = -1
        self._candles = None
        for line in self._lines.values():
            self.plot.removeItem(line)
        self._lines.clear()
        self._marks = {oid: fill_marks(r) for oid, r in self._records.items() if r.symbol == symbol}
        self._draw_history()
        self._refresh_lines()
        self._draw_marks()
        self.vb.enableAutoRange()
        self._set_title()
        self._schedule()

    def set_history(self, symbol: str, bars: Sequence[Any]) -> None:
        """The day's bars before the session's ticks (TWS only); drawn under the ticks."""
        self._history[symbol] = list(bars)
        if symbol == self.symbol:
            self._candles = None
            self._draw_history()
            self._schedule()

    def quote(self, quote: Any) -> None:
        if quote.symbol == self.symbol:
            self._schedule()

    def update_orders(self, records: Iterable[OrderRecord]) -> None:
        touched = False
        for r in records:
            self._records[r.order_id] = r
            if r.symbol == self.symbol:
                self._marks[r.order_id] = fill_marks(r)
                touched = True
        if touched:
            self._refresh_lines()
            self._marks_dirty = True
            self._schedule()

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

    def reset(self) -> None:
        """A new session: its orders and ticks only."""
        self._records.clear()
        self._marks.clear()
        self._history.clear()
        for line in self._lines.values():
            self.plot.removeItem(line)
        self._lines.clear()
        self._drawn_total = -1
        self._candles = None
        self._draw_history()
        self._draw_marks()
        self._schedule()

    def set_mode(self, mode: str) -> None:
        self.mode = mode if mode in dict(MODES) else "line"
        index = self.mode_box.findData(self.mode)
        if index != self.mode_box.currentIndex():
            self.mode_box.setCurrentIndex(index)
        line = self.mode == "line"
        self.curve.setVisible(line)
        self.history_curve.setVisible(line)
        self.closed_candles.setVisible(not line)
        self.last_candle.setVisible(not line)
        self._drawn_total = -1
        self._candles = None
        if line:
            self.closed_candles.set_candles([])
            self.last_candle.set_candles([])
        else:
            self.curve.setData([], [])
        self.vb.enableAutoRange()
        self._schedule()

    def set_colors(self, colors: Colors) -> None:
        self.colors = c = colors
        self.plot.setBackground(c.chart_background)
        for name in ("bottom", "right"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(c.chart_foreground))
            axis.setTextPen(pg.mkPen(c.chart_foreground))
        self.curve.setPen(pg.mkPen(c.price_line, width=1))  # a wider pen costs 3x per redraw (raster engine)
        self.history_curve.setPen(pg.mkPen(c.price_line, width=1))
        self.closed_candles.set_style(c.gain, c.loss)
        self.last_candle.set_style(c.gain, c.loss)
        cross = pg.mkPen(c.muted, width=1, style=Qt.PenStyle.DashLine)
        self.cross_v.setPen(cross)
        self.cross_h.setPen(cross)
        self.cross_text.setColor(c.chart_foreground)
        self.cross_text.fill = pg.mkBrush(_alpha(c.chart_background, 210))
        self.hint.setStyleSheet(f"color: {c.muted}; font-size: 11px;")
        for line in self._lines.values():
            self._style(line)
        self._draw_marks()

    # -- what is drawn (for tests and the status of the window) -----------------------------------------

    def points(self) -> tuple[Any, Any]:
        """The last-price line's points (all of them, not only those in view)."""
        x, y = self.curve.getOriginalDataset()
        return (x, y) if x is not None else (np.empty(0), np.empty(0))

    def point_count(self) -> int:
        return len(self.points()[0])

    def candles(self) -> list[Candle]:
        return self.closed_candles.candles() + self.last_candle.candles()

    def marks(self) -> list[FillMark]:
        return sorted((m for ms in self._marks.values() for m in ms), key=lambda m: m.t)

    def order_line(self, order_id: int, kind: str = "limit") -> OrderLine | None:
        return self._lines.get((order_id, kind))

    def order_lines(self) -> list[OrderLine]:
        return list(self._lines.values())

    def cancel_drag(self) -> bool:
        return any(line.cancel_drag() for line in self._lines.values())

    # -- drawing ---------------------------------------------------------------------------------------

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def redraw(self) -> None:
        self._timer.stop()
        self.redraws += 1
        if self._marks_dirty:
            self._draw_marks()
        if self.symbol is None:
            self.curve.setData([], [])
            return
        buf = self.store.buffer(self.symbol)
        if buf.total != self._drawn_total:
            if self.mode == "line":
                times, prices = buf.window()
                # A copy: the ring buffer overwrites its oldest slots in place.
                self.curve.setData(np.array(times, dtype=float), np.array(prices, dtype=float))
            else:
                self._draw_candles(buf)
            self._drawn_total = buf.total
        self._set_title()

    def _draw_candles(self, buf: Any) -> None:
        new = buf.total - self._drawn_total
        times, prices = buf.window()
        series = self._candles
        if series is None or self._drawn_total < 0 or new > len(times):
            series = self._candles = CandleSeries()
            series.seed(self._history.get(self.symbol or "", []))
            start = series.history_end
            new_candle = True
            for t, p in zip(times, prices, strict=True):
                if t >= start:
                    series.add(t, p)
        else:
            new_candle = False
            for t, p in zip(times[len(times) - new:], prices[len(prices) - new:], strict=True):
                new_candle = series.add(t, p) or new_candle
        if new_candle:
            self.closed_candles.set_candles(series.closed)
        self.last_candle.set_candles([series.current] if series.current is not None else [])

    def _draw_history(self) -> None:
        bars = self._history.get(self.symbol or "", [])
        if not bars:
            self.history_curve.setData([], [])
            return
        first_tick = self.store.buffer(self.symbol).window()[0] if self.symbol else None
        limit = first_tick[0] if first_tick is not None and len(first_tick) else now()
        x = np.array([min(epoch(b.start) + CANDLE_SECONDS, limit) for b in bars], dtype=float)
        self.history_curve.setData(np.maximum.accumulate(x), np.array([b.close for b in bars], dtype=float))

    def _draw_marks(self) -> None:
        self._marks_dirty = False
        c = self.colors
        spots = []
        for m in self.marks():
            color = c.buy if m.side == "BUY" else c.sell
            spots.append({"pos": (m.t, m.price), "symbol": "t1" if m.side == "BUY" else "t", "data": m,
                          "brush": pg.mkBrush(color), "pen": pg.mkPen(c.chart_foreground, width=1)})
        self.fills.setData(spots=spots)

    def _tip(self, x: float, y: float, data: Any) -> str:
        return data.tip(decimals_for_tick(self.tick)) if isinstance(data, FillMark) else ""

    def _set_title(self) -> None:
        if self.symbol is None:
            self.title.setText("Load a symbol in the ticket to chart it")
            return
        last = self.store.buffer(self.symbol).last()
        if last is None:
            self.title.setText(f"{self.symbol}  ·  waiting for the first trade")
        else:
            self.title.setText(f"{self.symbol}  {fmt_price(last[1], decimals_for_tick(self.tick))}")

    # -- order lines -------------------------------------------------------------------------------------

    def _refresh_lines(self) -> None:
        specs = {s.key: s for s in order_lines(self._records.values(), self.symbol or "", self.tick)} \
            if self.symbol else {}
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
            pen = pg.mkPen(_alpha(color.name(), 170), width=1.5, style=Qt.PenStyle.DashLine)
            text, suffix = color, ""
        elif not spec.movable:
            pen = pg.mkPen(c.muted, width=1.5, style=Qt.PenStyle.DashDotLine)
            text, suffix = QColor(c.muted), ""
        else:
            pen = pg.mkPen(color, width=1.5)
            text, suffix = color, ""
        line.setPen(pen)
        line.setHoverPen(pg.mkPen(pen.color(), width=3, style=pen.style()))
        line.label.format = _LabelText(spec, self.tick, suffix)
        line.label.setColor(text)
        line.label.fill = pg.mkBrush(_alpha(c.chart_background, 200))
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

    # -- crosshair and keys ----------------------------------------------------------------------------

    def _mouse_moved(self, pos: QPointF) -> None:
        inside = self.vb.sceneBoundingRect().contains(pos)
        for it in (self.cross_v, self.cross_h, self.cross_text):
            it.setVisible(inside)
        if not inside:
            return
        point = self.vb.mapSceneToView(pos)
        x, y = point.x(), point.y()
        self.cross_v.setValue(x)
        self.cross_h.setValue(y)
        self.cross_text.setText(self.crosshair_text(x, y))
        self.cross_text.setPos(x, y)

    def crosshair_text(self, x: float, y: float) -> str:
        try:
            when = datetime.fromtimestamp(x).strftime("%H:%M:%S")
        except (OverflowError, OSError, ValueError):
            when = ""
        value = fmt_price(y, decimals_for_tick(self.tick)) if math.isfinite(y) else ""
        return f" {value}  {when} "

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape and self.cancel_drag():
            return True
        if kind == QEvent.Type.Leave and watched is self.plot.viewport():
            for it in (self.cross_v, self.cross_h, self.cross_text):
                it.hide()
        return super().eventFilter(watched, event)


def _alpha(color: str, alpha: int) -> QColor:
    result = QColor(color)
    result.setAlpha(alpha)
    return result
