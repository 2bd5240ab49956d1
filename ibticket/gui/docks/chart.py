"""The chart dock without the chart: a placeholder until the dock is first shown, and the feed that keeps the
chart's data from the start of the session whether or not the chart exists yet.

Nothing here imports pyqtgraph: ``ChartHolder.create`` does, the first time the dock is visible after
``arm()``. The window arms it after the first quote (or a moment after the session started, if none comes),
so neither the first paint nor connecting nor the first quote waits for pyqtgraph.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QVBoxLayout, QWidget

from ...trading.chart_data import TickStore
from ..theme import Colors

if TYPE_CHECKING:
    from ...core import OrderRecord
    from ..widgets.chart import ChartView

log = logging.getLogger(__name__)


class ChartHolder(QWidget):
    created = Signal(object)  # the ChartView, once

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartHolder")
        self.view: ChartView | None = None
        self._armed = False
        self._on_screen = False  # as the dock last said: a dock behind another tab is "visible" to isVisible()
        self.placeholder = QLabel("The chart opens here", objectName="chartPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.placeholder)

    def watch(self, dock: QDockWidget) -> None:
        dock.visibilityChanged.connect(self._visibility)

    def _visibility(self, visible: bool) -> None:
        self._on_screen = visible
        self._later()

    def arm(self) -> None:
        """From now on the chart is created when shown (now, if it is on screen already)."""
        if not self._armed:
            self._armed = True
            self._later()

    def _later(self) -> None:
        if self._armed and self.view is None:
            QTimer.singleShot(0, self._create_if_shown)

    def _create_if_shown(self) -> None:
        if self.view is None and self._on_screen and self.isVisible():
            self.create()

    # Shadows QWidget.create() (not virtual: Qt never calls this one). TEMPORARY: app.py's smoke run calls
    # create(), and app.py is being edited elsewhere; rename both to create_view() together.
    def create(self) -> ChartView:  # type: ignore[override]
        if self.view is None:
            from ..widgets.chart import ChartView

            self.view = ChartView(parent=self)
            self._layout.replaceWidget(self.placeholder, self.view)
            self.placeholder.hide()
            self.view.show()  # now, not on the layout's queued show: the chart is drawn in this turn
            self.created.emit(self.view)
        return self.view


class ChartFeed(QObject):
    """What the chart shows: the session's ticks, orders and fills, the ticket's symbol, the colours."""

    modifyRequested = Signal(int, str, float)  # from a dropped order line: order id, "limit"/"stop", price
    modeChanged = Signal(str)

    def __init__(
        self,
        holder: ChartHolder,
        spawn: Callable[[Coroutine[Any, Any, Any]], Any],
        history: Callable[[str], Awaitable[list[Any]]] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.holder = holder
        self.store = TickStore()
        self.records: dict[int, OrderRecord] = {}
        self.symbol: str | None = None
        self.tick = 0.01
        self.colors: Colors | None = None
        self.mode = "line"
        self.history = history
        self._spawn = spawn
        self._history_asked: set[str] = set()
        holder.created.connect(self._attach)

    @property
    def view(self) -> ChartView | None:
        return self.holder.view

    # -- from the session ------------------------------------------------------------------------------

    def quote(self, quote: Any) -> None:
        if self.store.record(quote) and self.view is not None:
            self.view.quote(quote)

    def orders(self, records: list[OrderRecord]) -> None:
        for r in records:
            self.records[r.order_id] = r
        if self.view is not None:
            self.view.update_orders(records)

    def errors(self, errors: list[tuple[OrderRecord, str]]) -> None:
        if self.view is not None:
            self.view.order_errors({r.order_id for r, _message in errors})

    def set_instrument(self, instrument: Any) -> None:
        self.symbol = instrument.symbol if instrument is not None else None
        self.tick = instrument.tick if instrument is not None else 0.01
        if self.view is not None:
            self.view.set_symbol(self.symbol, self.tick)
            self._fetch_history()

    def set_colors(self, colors: Colors) -> None:
        self.colors = colors
        if self.view is not None:
            self.view.set_colors(colors)

    def modify_done(self, order_id: int, kind: str, ok: bool) -> None:
        if self.view is not None:
            self.view.modify_done(order_id, kind, ok)

    def clear(self) -> None:
        """A new session (another account or gateway): nothing of the old one stays on the chart."""
        self.store.clear()
        self.records.clear()
        self._history_asked.clear()
        if self.view is not None:
            self.view.reset()

    # -- the chart ---------------------------------------------------------------------------------------

    def _attach(self, view: ChartView) -> None:
        view.store = self.store
        if self.colors is not None:
            view.set_colors(self.colors)
        view.set_mode(self.mode)
        view.update_orders(list(self.records.values()))
        view.set_symbol(self.symbol, self.tick)
        view.modifyRequested.connect(self.modifyRequested)
        view.mode_box.currentIndexChanged.connect(lambda _i: self._mode_changed(view.mode))
        self._fetch_history()

    def _mode_changed(self, mode: str) -> None:
        self.mode = mode
        self.modeChanged.emit(mode)

    def _fetch_history(self) -> None:
        symbol = self.symbol
        if symbol is None or self.history is None or symbol in self._history_asked:
            return
        self._history_asked.add(symbol)
        self._spawn(self._load_history(symbol))

    async def _load_history(self, symbol: str) -> None:
        assert self.history is not None
        bars = await self.history(symbol)
        if bars and self.view is not None:
            self.view.set_history(symbol, bars)
