"""The chart's own plot items: the candles (one cached picture) and a working order's line, with its label;
pyqtgraph is imported with this module, only when the chart is first shown (see ``docks/chart.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QPainter, QPicture

from ...core.format import round_to_tick
from ...trading.chart_data import CANDLE_SECONDS, Candle, OrderLineSpec
from ..theme import LIGHT

# An order line's label sits above its line, below it when the line is in the upper half of the view (so
# a line at the top edge keeps its label on screen).
LABEL_ANCHORS = [(0, 0), (0, 1)]


class CandlesItem(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph ships no types
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


class LineLabel:
    """The label of an order line: what the order becomes if dropped here (rounded to the tick)."""

    def __init__(self, spec: OrderLineSpec, tick: float, suffix: str = "") -> None:
        self.spec, self.tick, self.suffix = spec, tick, suffix

    def format(self, value: float) -> str:  # InfLineLabel calls text.format(value=...)
        return self.spec.label_for(round_to_tick(value, self.tick)) + self.suffix


class OrderLine(pg.InfiniteLine):  # type: ignore[misc]  # pyqtgraph ships no types
    """A working order's limit or stop price; draggable once IB has the order."""

    moving: bool  # InfiniteLine's own: a drag is under way

    def __init__(self, spec: OrderLineSpec, tick: float) -> None:
        super().__init__(pos=spec.price, angle=0, movable=spec.movable,
                         label=LineLabel(spec, tick), labelOpts={"position": 0.03, "anchors": LABEL_ANCHORS})
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



def with_alpha(color: str, alpha: int) -> QColor:
    result = QColor(color)
    result.setAlpha(alpha)
    return result
