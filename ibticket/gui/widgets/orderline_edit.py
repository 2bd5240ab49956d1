"""The order line widget: a one-line command field (Ctrl+L) for orders, cancels and changes.

Enter sends through the same desk as the Send button; Shift+Enter only fills the ticket; Up/Down recall
earlier lines. A word the grammar cannot read is selected and the reason shown under the field. A line the
desk refuses (an unknown symbol, a price off the tick, a prompt answered "Cancel") stays, selected, with the
reason; only a line that went through is cleared.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ...core.order import OrderRequest
from ...trading.orderline import LineHistory, OrderLineError, describe, parse
from ..theme import LIGHT, Colors
from .labels import ElidedLabel

PLACEHOLDER = "Order line (Ctrl+L): buy 100 AAPL @187.25 · s 50 msft mkt gtc · cancel 12 · modify 12 lmt 187.30"


class OrderLineEdit(QLineEdit):
    submitted = Signal(object)  # a parsed command (Enter)
    loadRequested = Signal(object)  # an OrderRequest (Shift+Enter)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("orderLine")
        self.setPlaceholderText(PLACEHOLDER)
        self.setClearButtonEnabled(True)
        self.history = LineHistory()
        self.textEdited.connect(lambda _text: self.set_error(None))
        self.error_label: ElidedLabel | None = None
        self._sent: str | None = None  # the line handed to the desk, until its outcome comes back

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._enter(load_only=bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
            return
        if key == Qt.Key.Key_Up:
            self.setText(self.history.previous(self.text()))
            return
        if key == Qt.Key.Key_Down:
            self.setText(self.history.next(self.text()))
            return
        if key == Qt.Key.Key_Escape and self.text():
            self.clear()
            self.set_error(None)
            return
        super().keyPressEvent(event)

    def _enter(self, load_only: bool) -> None:
        line = self.text()
        if not line.strip() or line == self._sent:
            return  # nothing to send, or this very line is still with the desk: Enter twice is not two orders
        try:
            cmd = parse(line)
        except OrderLineError as exc:
            self.set_error(exc)
            return
        self.history.add(line)
        if load_only:
            if not isinstance(cmd, OrderRequest):
                self.set_error(OrderLineError("Shift+Enter fills the ticket with an order; "
                                              "press Enter to run this command", 0, len(line), line))
                return
            self.loadRequested.emit(cmd)
            self.clear()
        else:
            # Kept until the desk answers (finished): a refused line stays to be corrected, not retyped.
            self._sent = line
            self.submitted.emit(cmd)
        self.set_error(None)
        self.setToolTip(describe(cmd))

    def finished(self, ok: bool, message: str) -> None:
        """The desk's answer to the line sent last: clear it if it went, else keep it selected with why."""
        line, self._sent = self._sent, None
        if line is None or self.text() != line:
            return  # the trader has typed something else meanwhile: that stays as it is
        if ok:
            self.clear()
            self.set_error(None)
            return
        self.set_error(OrderLineError(message, 0, len(line), line))
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_message(self, message: str) -> None:
        """A refusal that is not about the text (a cancel or a change from the tables): named, line kept."""
        if self.error_label is not None:
            self.error_label.setText(message)

    def set_error(self, error: OrderLineError | None) -> None:
        # The message line under the field is always there, empty or not: a message coming or going must
        # not move the window's docks under the trader's pointer.
        if error is None:
            if self.styleSheet():
                self.setStyleSheet("")
            if self.error_label is not None:
                self.error_label.setText("")
            return
        self.setStyleSheet("QLineEdit#orderLine { border: 2px solid #d32f2f; }")
        start, end = error.start, max(error.end, error.start)
        if end > start:
            self.setSelection(start, end - start)
        if self.error_label is not None:
            self.error_label.setText(error.message)


class OrderLineBar(QWidget):
    """The order line with its error text underneath."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = OrderLineEdit(self)
        self.error = ElidedLabel(objectName="orderLineError")
        self.set_colors(LIGHT)
        self.error.setMinimumHeight(self.error.fontMetrics().height())
        self.edit.error_label = self.error
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        row = QHBoxLayout()
        prompt = QLabel("›")
        prompt.setStyleSheet("font-weight: bold; font-size: 14pt;")
        row.addWidget(prompt)
        row.addWidget(self.edit, 1)
        layout.addLayout(row)
        layout.addWidget(self.error)

    def set_colors(self, colors: Colors) -> None:
        self.error.setStyleSheet(f"color: {colors.error};")  # the theme's red: readable on its background
