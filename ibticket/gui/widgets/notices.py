"""Notices: what the window found wrong at start (settings, identity, the order log folder), shown until
the trader dismisses them.

A status-bar message vanishes after a few seconds, long before a trader reads it; a notice stays in a bar
under the order line. Each has a key, so the same finding is named once, and one that is fixed while the
window runs (the connection, for instance) can take its notice away again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QTextEdit, QToolBar, QWidget

if TYPE_CHECKING:
    from ..appsettings import AppSettings

log = logging.getLogger(__name__)

# Fixed warning colours: readable on the light and the dark palette alike.
STYLE = "#noticeFrame { background: #fff3cd; border: 1px solid #e0b84c; border-radius: 3px; } " \
        "#noticeFrame QLabel, #noticeFrame QTextEdit { color: #4d3800; background: transparent; }"
MAX_LINES = 8  # a longer list scrolls: the notice must not push the trading window off the screen


class _NoticeText(QTextEdit):
    """Read-only, wrapped text exactly as tall as its lines (up to MAX_LINES): a toolbar gives a wrapped
    label the height of its own guess instead."""

    def __init__(self) -> None:
        super().__init__(objectName="noticeText", readOnly=True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._width = -1

    def set_text(self, text: str) -> None:
        self.setPlainText(text)
        self._fit()

    def _fit(self) -> None:
        doc = self.document()
        doc.setTextWidth(self.viewport().width())
        cap = self.fontMetrics().lineSpacing() * MAX_LINES + doc.documentMargin() * 2
        self.setFixedHeight(int(min(doc.size().height(), cap)) + 2)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != self._width:  # a new height alone needs no new fit
            self._width = event.size().width()
            self._fit()


class NoticeBar(QToolBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Notices", parent)
        self.setObjectName("noticeBar")
        self.setMovable(False)
        self.setFloatable(False)
        frame = QWidget(objectName="noticeFrame")
        frame.setStyleSheet(STYLE)
        frame.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(frame)
        layout.setContentsMargins(8, 4, 4, 4)
        icon = QLabel("⚠")
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text = _NoticeText()
        self.dismiss_button = QPushButton("Dismiss", objectName="noticeDismiss")
        self.dismiss_button.setToolTip("Hide these notices (they are also in the log)")
        self.dismiss_button.clicked.connect(self.dismiss)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self.addWidget(frame)
        self._notices: dict[str, str] = {}
        self.setVisible(False)

    def add(self, key: str, text: str) -> None:
        """Show ``text`` under ``key``; the same text again changes nothing, a new one replaces it."""
        if not text or self._notices.get(key) == text:
            return
        self._notices[key] = text
        self._render()

    def watch(self, settings: AppSettings) -> None:
        """Name what ``settings`` cannot use: everything a start reads is read now, and anything found later
        (a file that cannot be saved) is added when it is found."""

        def show() -> None:
            text = settings.notice()
            if text:
                log.warning("%s", text)
                self.add("settings", text)

        settings.check()
        settings.on_problem(show)
        show()

    def follow(self, phase: str, message: str) -> str | None:
        """Name a session that gave up, until it connects; returns that reason, if it gave up. Only such a
        session says why it is disconnected: the trader has to change something."""
        if phase == "connected":
            self.remove("connection")
        elif phase == "disconnected" and message:
            self.add("connection", message)
            return message
        return None

    def remove(self, key: str) -> None:
        if self._notices.pop(key, None) is not None:
            self._render()

    def dismiss(self) -> None:
        self._notices.clear()
        self._render()

    def notices(self) -> dict[str, str]:
        return dict(self._notices)

    def refresh(self) -> None:
        """Visible exactly while there is something to say (a restored window layout may say otherwise)."""
        self.setVisible(bool(self._notices))

    def _render(self) -> None:
        self.text.set_text("\n".join(self._notices.values()))
        self.refresh()
