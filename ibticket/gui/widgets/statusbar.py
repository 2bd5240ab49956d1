"""The status bar: connection with host:port (and the reconnect countdown), the SIMULATED / PAPER / LIVE
badge, the account, the day's P&L, working orders, fills today and the order log's health."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from ...core import format as fmt
from ..theme import BADGE_STYLE
from .labels import ElidedLabel

PHASE_TEXT = {
    "connecting": "Connecting to {where}…",
    "connected": "Connected · {where}",
    "reconnecting": "Reconnecting to {where}",
    "disconnected": "Disconnected · {where}",
}
# Mid-tone colours that keep their contrast on the light and the dark palette alike.
PHASE_COLOR = {"connecting": "#b08900", "connected": "#43a047", "reconnecting": "#ef6c00", "disconnected": "#e53935"}


class TradingStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.badge = QLabel("SIMULATED", objectName="statusBadge")
        # Every text that can be long elides: the status bar must never make the window wider than the screen.
        self.connection = ElidedLabel("Starting…", objectName="statusConnection", auto_tip=False)
        self.account = ElidedLabel(objectName="statusAccount")
        self.day_pnl = QLabel(objectName="statusDayPnl")
        self.day_pnl.setToolTip("The day's P&L as IB reports it (reqPnL): the positions' unrealized P&L and the "
                                "realized P&L of the day, closed positions included")
        self.working = QLabel("Working 0", objectName="statusWorking")
        self.fills = QLabel("Fills today 0", objectName="statusFills")
        self.log = QLabel(objectName="statusLog")
        self.log.setVisible(False)
        # Messages go to a label of their own: QStatusBar.showMessage would hide the badge meanwhile.
        self.message = ElidedLabel(objectName="statusMessage", auto_tip=False)
        self._message_timer = QTimer(self, singleShot=True)
        self._message_timer.timeout.connect(self.clearMessage)
        self.addWidget(self.badge)
        self.addWidget(self.connection)
        self.addWidget(self.message, 1)
        for label in (self.log, self.account, self.day_pnl, self.working, self.fills):
            self.addPermanentWidget(label)
        self._status: Any = None
        self._flash_timer = QTimer(self, singleShot=True)
        # No style sheet while unlit: a label with one keeps the palette of the theme it was polished in.
        self._flash_timer.timeout.connect(lambda: self.fills.setStyleSheet(""))
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._render)
        self.set_badge("SIMULATED")

    def showMessage(self, text: str, timeout: int | None = 0) -> None:
        self.message.setText(text)
        self.message.setToolTip(text)
        if timeout:
            self._message_timer.start(timeout)
        else:
            self._message_timer.stop()

    def currentMessage(self) -> str:
        return str(self.message.text())

    def clearMessage(self) -> None:
        self.message.clear()
        self.message.setToolTip("")

    def set_badge(self, badge: str) -> None:
        self.badge.setText(f" {badge} ")
        style = BADGE_STYLE.get(badge, "")
        self.badge.setStyleSheet(style + " font-weight: bold; border-radius: 3px; padding: 1px 6px;")
        self.badge.setToolTip({
            "SIMULATED": "A simulated paper account on the embedded gateway: no real orders",
            "PAPER": "An IB paper trading account: no real money",
            "LIVE": "A LIVE account: orders trade real money",
        }.get(badge, ""))

    def set_connection(self, status: Any) -> None:
        self._status = status
        self.set_badge(status.badge)
        self.account.setText(f"Account {status.account}" if status.account else "")
        if status.phase == "reconnecting":
            self._countdown.start()
        else:
            self._countdown.stop()
        self._render()

    def _render(self) -> None:
        status = self._status
        if status is None:
            return
        text = PHASE_TEXT.get(status.phase, status.phase).format(where=status.where)
        when = status.next_attempt_at
        if status.phase == "reconnecting" and when is not None:
            try:
                left = max(0, round(when - asyncio.get_event_loop().time()))
            except RuntimeError:
                left = 0
            text += f" · next try in {left} s" if left else " · trying now"
        if status.message and status.phase != "connected":
            text += f" — {status.message}"
        self.connection.setText(text)
        self.connection.setToolTip(status.message or text)
        self.connection.setStyleSheet(f"color: {PHASE_COLOR.get(status.phase, '')};")

    def set_account_values(self, values: Any) -> None:
        """The account's values (``AccountValues``), or None: the day's P&L is shown once IB has sent it."""
        day = values.day_pnl if values is not None else None
        self.day_pnl.setText(f"Day P&L {fmt.signed_money(day)}" if day is not None else "")

    def set_counts(self, working: int, fills: int) -> None:
        self.working.setText(f"Working {working:,}")
        self.fills.setText(f"Fills today {fills:,}")

    def flash_fills(self, color: str = "#ffd54f", ms: int = 1600) -> None:
        """Light the fill count for a moment (a fill arrived)."""
        self.fills.setStyleSheet(f"background: {color}; color: #1a1a1a;")  # no padding: nothing moves
        self._flash_timer.start(ms)

    def set_log_health(self, degraded: bool, message: str = "") -> None:
        self.log.setVisible(degraded)
        self.log.setText("ORDER LOG DEGRADED" if degraded else "")
        self.log.setToolTip(message)
        self.log.setStyleSheet("background:#c62828; color:white; font-weight:bold; padding: 1px 6px;")
