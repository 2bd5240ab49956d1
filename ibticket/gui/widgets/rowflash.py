"""A highlight that fades over a table's rows: a new fill's row lights up for a moment.

Painted by a transparent widget over the view's viewport, so neither the model (which answers the view's
every repaint) nor the view's delegates know of it; the mouse goes through it.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QRect, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QAbstractItemView, QWidget

FLASH_MS = 1600
STEP_MS = 40
MAX_ROWS = 50  # a flood lights its newest rows: the rest are off screen anyway
PEAK_ALPHA = 150


class RowFlash(QWidget):
    def __init__(self, view: QAbstractItemView, color: str = "#ffd54f") -> None:
        super().__init__(view.viewport())
        self.setObjectName("rowFlash")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        self._view = view
        self._color = QColor(color)
        self._rows: list[QPersistentModelIndex] = []
        self._left = 0  # milliseconds of the flash still to go
        self._timer = QTimer(self, interval=STEP_MS)
        self._timer.timeout.connect(self._step)
        view.viewport().installEventFilter(self)
        self.setGeometry(view.viewport().rect())
        self.hide()

    def set_color(self, color: str) -> None:
        self._color = QColor(color)

    @property
    def active(self) -> bool:
        return self._left > 0

    def rows(self) -> list[int]:
        """The rows lit now (for tests and for a view that wants to know)."""
        return sorted({i.row() for i in self._rows if i.isValid()}) if self.active else []

    def flash(self, indexes: Iterable[QModelIndex]) -> None:
        fresh = [QPersistentModelIndex(i) for i in indexes if i.isValid()]
        if not fresh:
            return
        self._rows = (self._rows + fresh)[-MAX_ROWS:] if self.active else fresh[-MAX_ROWS:]
        self._left = FLASH_MS
        self.setGeometry(self._view.viewport().rect())
        self.show()
        self.raise_()
        self._timer.start()
        self.update()

    def _step(self) -> None:
        self._left = max(0, self._left - STEP_MS)
        if not self._left:
            self._timer.stop()
            self._rows = []
            self.hide()
        self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self._view.viewport():
            self.setGeometry(self._view.viewport().rect())
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.active:
            return
        color = QColor(self._color)
        color.setAlpha(round(PEAK_ALPHA * self._left / FLASH_MS))
        painter = QPainter(self)
        width = self.width()
        model = self._view.model()
        for index in self._rows:
            if index.isValid():
                rect = self._view.visualRect(model.index(index.row(), index.column()))
                if rect.isValid():
                    painter.fillRect(QRect(0, rect.top(), width, rect.height()), color)
        painter.end()
