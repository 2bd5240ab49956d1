"""The chart: the ticket's symbol as a last-price line or 1-minute candles, fills as ▲ / ▼, working orders as
lines that a drag re-prices (``chart_orders``). pyqtgraph (and numpy) are imported with this module, only
when the chart is first shown (see ``docks/chart.py``).

Drawing is paced, never per tick: a quote only marks the chart dirty and a timer redraws at most MAX_FPS
times a second. The line is clipped to the view and downsampled (peak), so a day of ticks costs what the
screen can show. In candle mode a tick redraws only the candle in progress: the closed candles are one
cached picture (``chart_items.CandlesItem``), rebuilt when a minute ends. A pause in the data (see
``chart_data.GapRule``) breaks the line: a NaN point between the two sides, which the curve does not connect.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...core import OrderRecord
from ...core.format import decimals_for_tick
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
    segment_starts,
)
from ..theme import LIGHT, Colors
from .chart_items import CandlesItem, OrderLine, with_alpha
from .chart_orders import OrderLines

MAX_FPS = 30
MODES = (("line", "Last price"), ("candles", "1-minute candles"))
MARK_SIZE = 13
MIN_SECONDS_IN_VIEW = 60.0


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

        # connect="finite": a NaN between two points leaves them unjoined (how a pause is drawn).
        self.curve = pg.PlotDataItem(connect="finite")
        self.history_curve = pg.PlotDataItem(connect="finite")
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
        self.lines = OrderLines(self.plot, self._line_specs, self)
        self.lines.modifyRequested.connect(self.modifyRequested)
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
        self.lines.clear(self.tick)
        self._marks = {oid: fill_marks(r) for oid, r in self._records.items() if r.symbol == symbol}
        self._draw_history()
        self.lines.refresh()
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
            self.lines.refresh()
            self._marks_dirty = True
            self._schedule()

    def modify_done(self, order_id: int, kind: str, ok: bool) -> None:
        """The order desk's answer to a drop: not sent (declined, refused) puts the line back."""
        self.lines.modify_done(order_id, kind, ok)

    def order_errors(self, order_ids: Iterable[int]) -> None:
        """IB refused something about these orders: a change waiting for its acknowledgement will not come."""
        self.lines.order_errors(order_ids)

    def reset(self) -> None:
        """A new session: its orders and ticks only."""
        self._records.clear()
        self._marks.clear()
        self._history.clear()
        self.lines.clear(self.tick)
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
        self.cross_text.fill = pg.mkBrush(with_alpha(c.chart_background, 210))
        self.hint.setStyleSheet(f"color: {c.muted}; font-size: 11px;")
        self.lines.set_colors(c)
        self._draw_marks()

    # -- what is drawn (for tests and the status of the window) -----------------------------------------

    def points(self) -> tuple[Any, Any]:
        """The last-price line's points (all of them, not only those in view; not the breaks between pieces)."""
        return _finite(self.curve)

    def pieces(self, history: bool = False) -> list[tuple[Any, Any]]:
        """The line's pieces, each (times, prices): one more than the pauses that break it."""
        x, y = self.curve.getOriginalDataset() if not history else self.history_curve.getOriginalDataset()
        if x is None or not len(x):
            return []
        breaks = np.flatnonzero(np.isnan(y))
        pieces = []
        for px, py in zip(np.split(x, breaks), np.split(y, breaks), strict=True):
            keep = np.isfinite(py)
            if keep.any():
                pieces.append((px[keep], py[keep]))
        return pieces

    def point_count(self) -> int:
        return len(self.points()[0])

    def candles(self) -> list[Candle]:
        return self.closed_candles.candles() + self.last_candle.candles()

    def marks(self) -> list[FillMark]:
        return sorted((m for ms in self._marks.values() for m in ms), key=lambda m: m.t)

    def order_line(self, order_id: int, kind: str = "limit") -> OrderLine | None:
        return self.lines.line(order_id, kind)

    def order_lines(self) -> list[OrderLine]:
        return self.lines.lines()

    def cancel_drag(self) -> bool:
        return self.lines.cancel_drag()

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
                self.curve.setData(*_broken(np.array(times, dtype=float), np.array(prices, dtype=float),
                                            buf.gaps()))
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
        x = np.maximum.accumulate(np.array([min(epoch(b.start) + CANDLE_SECONDS, limit) for b in bars], dtype=float))
        y = np.array([b.close for b in bars], dtype=float)
        # Bars are one a minute; minutes without trades have none, a longer hole is a pause (segment_starts).
        self.history_curve.setData(*_broken(x, y, segment_starts(x.tolist())))

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

    def _line_specs(self) -> list[OrderLineSpec]:
        return order_lines(self._records.values(), self.symbol or "", self.tick) if self.symbol else []

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
        escape = kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape
        if escape and self.cancel_drag():
            return True
        if kind == QEvent.Type.Leave and watched is self.plot.viewport():
            for it in (self.cross_v, self.cross_h, self.cross_text):
                it.hide()
        return super().eventFilter(watched, event)



def _broken(x: Any, y: Any, starts: Sequence[int]) -> tuple[Any, Any]:
    """The points with a NaN before each index in ``starts``, at the time of the point before it (x stays
    sorted, which the curve's clipping to the view needs)."""
    if not len(starts):
        return x, y
    at = np.asarray(starts, dtype=int)
    return np.insert(x, at, x[at - 1]), np.insert(y, at, np.nan)


def _finite(curve: Any) -> tuple[Any, Any]:
    x, y = curve.getOriginalDataset()
    if x is None:
        return np.empty(0), np.empty(0)
    keep = np.isfinite(y)
    return x[keep], y[keep]
