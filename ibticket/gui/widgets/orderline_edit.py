"""The order line widget: a one-line command field (Ctrl+L) for orders, cancels and changes.

Enter sends through the same desk as the Send button; Shift+Enter only fills the ticket; Up/Down recall
earlier lines. A word the grammar cannot read is selected and the reason shown under the field.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ...core.order import OrderRequest
from ...trading.orderline import LineHistory, OrderLineError, describe, parse

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
        self.error_label: QLabel | None = None

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
        if not line.strip():
            return
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
        else:
            self.submitted.emit(cmd)
        self.clear()
        self.set_error(None)
        self.setToolTip(describe(cmd))

    def set_error(self, error: OrderLineError | None) -> None:
        if error is None:
            self.setStyleSheet("")
            if self.error_label is not None:
                self.error_label.setText("")
                self.error_label.setVisible(False)
            return
        self.setStyleSheet("QLineEdit#orderLine { border: 2px solid #d32f2f; }")
        start, end = error.start, max(error.end, error.start)
        if end > start:
            self.setSelection(start, end - start)
        if self.error_label is not None:
            self.error_label.setText(error.message)
            self.error_label.setVisible(True)


class OrderLineBar(QWidget):
    """The order line with its error text underneath."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = OrderLineEdit(self)
        self.error = QLabel(objectName="orderLineError")
        self.error.setStyleSheet("color: #d32f2f;")
        self.error.setVisible(False)
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
