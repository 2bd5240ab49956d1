"""Labels for messages of any length: they elide or wrap inside their place and never widen the window.

A plain QLabel asks for the width of its whole text: one long message (a duplicate refusal, a 300-letter
symbol, a long error) made its dock, the status bar and with them the window wider than the screen, and a
window never gives back a width it was once asked for. These labels ask for little and show the rest on
hover; ``text()`` is always the whole message.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QWidget

MIN_CHARS = 8  # what an elided label still shows when squeezed: a few letters and the ellipsis
WRAP_LINES = 6  # a wrapped message longer than this is cut with an ellipsis (the tooltip has it whole)
ZWSP = "\u200b"  # a break opportunity: Qt wraps a label only at spaces


class ElidedLabel(QLabel):
    """One line of plain text, elided at the right when it does not fit; the tooltip then has all of it
    (unless the owner sets a tooltip of its own with ``auto_tip=False``)."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, objectName: str = "",
                 auto_tip: bool = True, elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> None:
        super().__init__(parent)
        if objectName:
            self.setObjectName(objectName)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._full = ""
        self._auto_tip = auto_tip
        self._elide = elide
        self.setText(text)

    def text(self) -> str:
        return self._full

    def setText(self, text: str) -> None:
        text = " ".join(str(text).splitlines())  # one line: a newline would make the label taller
        if text == self._full:
            return
        self._full = text
        self.updateGeometry()
        self._fit()

    def clear(self) -> None:
        self.setText("")

    def shown_text(self) -> str:
        """What is on screen (elided or not)."""
        return str(super().text())

    def is_elided(self) -> bool:
        return self.shown_text() != self._full

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        m = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + m.left() + m.right() + 2 * self.margin() + 2
        return QSize(width, hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        m = self.contentsMargins()
        least = self.fontMetrics().horizontalAdvance("M" * MIN_CHARS + "…") + m.left() + m.right()
        return QSize(min(least, self.sizeHint().width()), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = self.contentsRect().width() - 2 * self.margin()
        shown = self.fontMetrics().elidedText(self._full, self._elide, max(0, width))
        if shown != super().text():
            super().setText(shown)
        if self._auto_tip:
            self.setToolTip(self._full if shown != self._full else "")


class WrapLabel(QLabel):
    """Plain text wrapped to the width it is given, also inside a word too long for a line; at most
    WRAP_LINES lines' worth (then cut with an ellipsis, whole in the tooltip). It asks for no width of its
    own, so its dock keeps its width whatever it says."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, objectName: str = "",
                 lines: int = WRAP_LINES) -> None:
        super().__init__(parent)
        if objectName:
            self.setObjectName(objectName)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._full = ""
        self._lines = lines
        self.setText(text)

    def text(self) -> str:
        return self._full

    def setText(self, text: str) -> None:
        text = str(text)
        if text == self._full:
            return
        self._full = text
        self._fit()

    def clear(self) -> None:
        self.setText("")

    def shown_text(self) -> str:
        return str(super().text()).replace(ZWSP, "")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit()

    def _fit(self) -> None:
        # Cut to about WRAP_LINES lines at the current width (or a narrow dock's, before the first layout).
        metrics = self.fontMetrics()
        width = max(self.contentsRect().width(), metrics.horizontalAdvance("M") * 20)
        room = max(40, int(width / max(1, metrics.averageCharWidth()) * self._lines * 0.9))
        text = self._full if len(self._full) <= room else self._full[: room - 1].rstrip() + "…"
        # Only a word wider than a line gets break opportunities: copied text keeps its words whole.
        shown = " ".join(ZWSP.join(w) if metrics.horizontalAdvance(w) > width else w for w in text.split(" "))
        if shown != super().text():
            super().setText(shown)
        self.setToolTip(self._full if text != self._full else "")


class TwoLineButton(QPushButton):
    """A button whose text goes onto two lines when one is too wide (the Send button reads as the whole
    order, which must never be cut): it asks for the width of the longer half only."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *, objectName: str = "") -> None:
        super().__init__(parent)
        if objectName:
            self.setObjectName(objectName)
        self._full = ""
        # A button's own policy takes its full-text width as its least: this one may shrink to two lines.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, self.sizePolicy().verticalPolicy())
        self.setText(text)

    def text(self) -> str:
        return self._full

    def setText(self, text: str) -> None:
        if text == self._full:
            return
        self._full = text
        self.updateGeometry()
        self._fit()

    def shown_text(self) -> str:
        return str(super().text())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(self._text_width(_halves(self._full)) + self._padding(), hint.height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + self._padding(), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _padding(self) -> int:
        return 24

    def _text_width(self, text: str) -> int:
        return max((self.fontMetrics().horizontalAdvance(line) for line in text.split("\n")), default=0)

    def _fit(self) -> None:
        fits = self._text_width(self._full) + self._padding() <= self.width()
        shown = self._full if fits else _halves(self._full)
        if shown != super().text():
            super().setText(shown)


def _halves(text: str) -> str:
    """``text`` broken at the space nearest its middle."""
    spaces = [i for i, c in enumerate(text) if c == " "]
    if not spaces:
        return text
    cut = min(spaces, key=lambda i: abs(len(text) - 2 * i))
    return f"{text[:cut]}\n{text[cut + 1:]}"
