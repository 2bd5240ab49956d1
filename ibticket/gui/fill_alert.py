"""The fill alert: a fill is heard and seen, whatever the trader is looking at.

Each fill that arrives (not one restored from the order log, not a late commission) lights its row in the
fills table and the status bar's fill count, and is named in the status bar; then a beep, and — while the
window is not the one in front (a dialog is open, or another application is) — a desktop notification:
the system tray's where there is one, else ``notify-send`` where it is installed. No new dependency.

A burst of fills is one beep and one notification, not one each: they come at most every QUIET_S seconds,
naming what arrived since the last one. On by default; Settings → Alerts switches it off.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, QProcess, QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from ..core import Fill
from ..core import format as fmt
from .widgets.rowflash import MAX_ROWS, RowFlash

if TYPE_CHECKING:
    from .mainwindow import MainWindow

QUIET_S = 2.0
STATUS_MS = 15000
NOTICE_MS = 6000
MAX_NAMED = 3  # orders named in one alert; the rest are counted


@dataclass(frozen=True)
class Filled:
    """What an alert says of one order's fills in it."""

    order_id: int
    side: str
    symbol: str
    quantity: int
    price: float  # average

    def __str__(self) -> str:
        verb = "Bought" if self.side == "BUY" else "Sold" if self.side == "SELL" else "Filled"
        decimals = 2 if round(self.price, 2) == self.price else 4  # an average of several prices
        return f"{verb} {fmt.qty(self.quantity)} {self.symbol} at {fmt.price(self.price, decimals)} (#{self.order_id})"


def summarize(fills: list[Fill]) -> list[Filled]:
    """The fills by order, in the order they came: quantity and average price."""
    totals: dict[int, tuple[Fill, int, float]] = {}
    for f in fills:
        first, qty, value = totals.get(f.order_id, (f, 0, 0.0))
        totals[f.order_id] = (first, qty + f.quantity, value + f.quantity * f.price)
    return [Filled(oid, first.side, first.symbol, qty, value / qty if qty else first.price)
            for oid, (first, qty, value) in totals.items()]


def alert_text(fills: list[Fill]) -> str:
    orders = summarize(fills)
    named = "; ".join(str(o) for o in orders[:MAX_NAMED])
    more = len(orders) - MAX_NAMED
    head = "Filled: " if len(fills) == 1 else f"{len(fills):,} fills: "
    return head + named + (f"; and {more:,} more order{'s' if more != 1 else ''}" if more > 0 else "")


class FillAlert(QObject):
    def __init__(self, window: MainWindow, enabled: bool = True) -> None:
        super().__init__(window)
        self.window = window
        self.enabled = enabled
        self.sound: Callable[[], None] = QApplication.beep
        self.flash = RowFlash(window.fills.table)
        self.notified: list[tuple[str, str]] = []  # (how, text) of each desktop notification, newest last
        self._tray: QSystemTrayIcon | None = None
        self._pending: list[Fill] = []
        self._last = -1e9
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self._ring)

    def announce(self, fills: list[Fill]) -> None:
        """Fills that have just arrived (the views already show them)."""
        if not fills or not self.enabled:
            return
        w = self.window
        w.status.showMessage(alert_text(fills), STATUS_MS)
        w.status.flash_fills()
        self.flash.flash(self._rows_of(fills))
        self._pending.extend(fills)
        if not self._timer.isActive():
            wait = self._last + QUIET_S - time.monotonic()
            if wait <= 0:
                self._ring()
            else:
                self._timer.start(round(wait * 1000))

    def _ring(self) -> None:
        fills, self._pending = self._pending, []
        if not fills:
            return
        self._last = time.monotonic()
        self.sound()
        QApplication.alert(self.window)  # the taskbar entry asks for attention while the window is behind
        if not self.window.isActiveWindow():
            self._notify("ibticket: " + ("fill" if len(fills) == 1 else f"{len(fills):,} fills"), alert_text(fills))

    def _rows_of(self, fills: list[Fill]) -> list[QModelIndex]:
        # The table sorts by any column and keeps time order: a new fill's row is wherever the model has it.
        model = self.window.fills_model
        rows = (model.row_of(f) for f in fills[-MAX_ROWS:])  # the flash lights no more than the newest few
        return [model.index(row, 0) for row in rows if row is not None]

    def _notify(self, title: str, text: str) -> None:
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                self._tray = QSystemTrayIcon(QApplication.windowIcon(), self)
                self._tray.setToolTip("ibticket")
                self._tray.activated.connect(lambda _reason: self._bring_up())
                self._tray.messageClicked.connect(self._bring_up)
            self._tray.show()
            self._tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, NOTICE_MS)
            self.notified.append(("tray", text))
            return
        program = shutil.which("notify-send")
        if program is not None:
            # Started, not waited for: a slow notification daemon must never hold the window.
            QProcess.startDetached(program, ["--app-name=ibticket", f"--expire-time={NOTICE_MS}", title, text])
            self.notified.append(("notify-send", text))

    def _bring_up(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
