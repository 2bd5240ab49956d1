"""Colours of the window: buy/sell, order statuses, the connection badge; light and dark palettes."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEMES = ("system", "light", "dark")


@dataclass(frozen=True)
class Colors:
    buy: str
    sell: str
    buy_frame: str
    sell_frame: str
    working: str
    filled: str
    cancelled: str
    error: str
    pending: str
    gain: str
    loss: str
    muted: str
    # Filled buttons (Buy, Sell, Send) and the text on them: at least 4.5:1 (WCAG AA), see ticket_buttons.
    buy_fill: str = "#1565c0"
    sell_fill: str = "#c62828"
    on_fill: str = "#ffffff"
    disabled_fill: str = "#e0e0e0"
    on_disabled: str = "#616161"
    # The chart's own surface (pyqtgraph does not follow the Qt palette).
    chart_background: str = "#ffffff"
    chart_foreground: str = "#3c4043"
    price_line: str = "#37474f"


LIGHT = Colors(
    buy="#1565c0", sell="#c62828", buy_frame="#e3edfb", sell_frame="#fbe5e5", working="#1565c0",
    filled="#2e7d32", cancelled="#757575", error="#c62828", pending="#8d6e00", gain="#2e7d32",
    loss="#c62828", muted="#757575",
)
DARK = Colors(
    buy="#64a8ff", sell="#ff6b6b", buy_frame="#16263d", sell_frame="#3d1a1a", working="#64a8ff",
    filled="#66bb6a", cancelled="#9e9e9e", error="#ff6b6b", pending="#e0c050", gain="#66bb6a",
    loss="#ff6b6b", muted="#9e9e9e", chart_background="#1e1f22", chart_foreground="#c8c8c8", price_line="#d7dde4",
    # The dark theme's light accents are for text on a dark ground; white on them was 2.5:1.
    buy_fill="#1f66d1", sell_fill="#c93030", disabled_fill="#3a3d42", on_disabled="#b0b0b0",
)

BADGE_STYLE = {
    "SIMULATED": "background:#5e35b1; color:white;",
    "PAPER": "background:#1565c0; color:white;",
    "LIVE": "background:#d50000; color:white;",
}

def ticket_buttons(c: Colors, side: str) -> dict[str, tuple[str, str]]:
    """The ticket's filled buttons as (background, text) by style selector, for a ticket on ``side``."""
    fill = c.buy_fill if side == "BUY" else c.sell_fill
    return {
        "QPushButton#ticketBuy:checked": (c.buy_fill, c.on_fill),
        "QPushButton#ticketSell:checked": (c.sell_fill, c.on_fill),
        "QPushButton#ticketSend": (fill, c.on_fill),
        "QPushButton#ticketSend:disabled": (c.disabled_fill, c.on_disabled),
    }


def ticket_style(c: Colors, side: str) -> str:
    frame, accent = (c.buy_frame, c.buy) if side == "BUY" else (c.sell_frame, c.sell)
    rules = [f"QFrame#orderTicket {{ background: {frame}; border: 2px solid {accent}; border-radius: 6px; }}"]
    for selector, (background, text) in ticket_buttons(c, side).items():
        # A border of its own: with a background alone the style paints its gradient over it, lighter
        # than the colour chosen (white on it measured 3.9:1 where the colour gives 5.75:1).
        bold = "" if "Send" in selector else " font-weight: bold;"
        rules.append(f"{selector} {{ background: {background}; color: {text}; border: 1px solid {background}; "
                     f"border-radius: 4px;{bold} }}")
    rules.append(f"QPushButton#ticketBid {{ color: {c.sell}; font-weight: bold; }}")
    rules.append(f"QPushButton#ticketAsk {{ color: {c.buy}; font-weight: bold; }}")
    return "".join(rules)


def status_color(c: Colors, status: str) -> QColor:
    return QColor({
        "Pending": c.pending, "Submitted": c.working, "PartiallyFilled": c.working, "Filled": c.filled,
        "Cancelled": c.cancelled, "Error": c.error,
    }.get(status, c.muted))


def _dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor("#1e1f22"), QColor("#2b2d31"), QColor("#e6e6e6")
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#26282c"))
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, window)
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor("#3a3d42"))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Highlight, QColor("#3d6ea8"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("white"))
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#8a8a8a"))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6c6c6c"))
    return p


def system_is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, name: str) -> Colors:
    """Apply "light", "dark" or "system" to the application; returns the colours the widgets use."""
    if name not in THEMES:
        name = "system"
    dark = name == "dark" or (name == "system" and system_is_dark())
    app.setStyle(QStyleFactory.create("Fusion"))
    app.setPalette(_dark_palette() if dark else app.style().standardPalette())
    return DARK if dark else LIGHT


def the_app() -> QApplication:
    """The running QApplication (the window's; never a bare QCoreApplication here)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("no QApplication is running")
    return app
