"""Settings: precautions (TWS-like, on by default), presets (default quantities) and the theme."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...trading.precautions import Precautions
from ..theme import THEMES


def parse_defaults(text: str) -> dict[str, int]:
    """"AAPL=100, MSFT=50" -> {"AAPL": 100, "MSFT": 50}; raises ValueError naming the bad part."""
    result: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        symbol, sep, qty = part.partition("=")
        symbol = symbol.strip().upper()
        if not sep or not symbol or not symbol.isascii() or not symbol.replace(".", "").replace(" ", "").isalnum():
            raise ValueError(f"{part!r}: write SYMBOL=QUANTITY, e.g. AAPL=100")
        if not qty.strip().isdigit() or not qty.strip().isascii() or not 0 < int(qty) <= 10_000_000:
            raise ValueError(f"{part!r}: the quantity must be a whole number from 1 to 10,000,000")
        result[symbol] = int(qty)
    return result


class SettingsDialog(QDialog):
    applied = Signal(object, int, dict, str)  # Precautions, default quantity, per-symbol defaults, theme

    def __init__(self, precautions: Precautions, default_qty: int, defaults: dict[str, int], theme: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.enabled = QCheckBox("Ask before sending an order that breaks a limit", objectName="precautionsEnabled")
        self.enabled.setChecked(precautions.enabled)
        self.size_limit = QSpinBox(objectName="precautionSize")
        self.size_limit.setRange(1, 10_000_000)
        self.size_limit.setGroupSeparatorShown(True)
        self.size_limit.setValue(precautions.size_limit)
        self.size_limit.setSuffix(" shares")
        self.value_limit = QDoubleSpinBox(objectName="precautionValue")
        self.value_limit.setRange(1, 1e9)
        self.value_limit.setDecimals(0)
        self.value_limit.setGroupSeparatorShown(True)
        self.value_limit.setValue(precautions.value_limit)
        self.value_limit.setSuffix(" USD")
        self.percent = QDoubleSpinBox(objectName="precautionPercent")
        self.percent.setRange(0.1, 100)
        self.percent.setDecimals(1)
        self.percent.setValue(precautions.percent_from_market)
        self.percent.setSuffix(" %")
        limits = QGroupBox("Precautions")
        form = QFormLayout(limits)
        form.addRow(self.enabled)
        form.addRow("Size limit", self.size_limit)
        form.addRow("Total value limit", self.value_limit)
        form.addRow("Limit / stop price from the market", self.percent)

        self.quantity = QSpinBox(objectName="presetQuantity")
        self.quantity.setRange(1, 10_000_000)
        self.quantity.setValue(default_qty)
        self.defaults = QLineEdit(", ".join(f"{k}={v}" for k, v in sorted(defaults.items())),
                                  objectName="presetDefaults", placeholderText="AAPL=100, SPY=50")
        presets = QGroupBox("Presets")
        pform = QFormLayout(presets)
        pform.addRow("Default quantity", self.quantity)
        pform.addRow("Per symbol", self.defaults)

        self.theme = QComboBox(objectName="settingsTheme")
        self.theme.addItems([t.capitalize() for t in THEMES])
        self.theme.setCurrentIndex(THEMES.index(theme) if theme in THEMES else 0)
        look = QGroupBox("Look")
        lform = QFormLayout(look)
        lform.addRow("Theme", self.theme)

        self.error = QLabel(objectName="settingsError")
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (limits, presets, look, self.error, buttons):
            layout.addWidget(w)

    def _accept(self) -> None:
        try:
            defaults = parse_defaults(self.defaults.text())
            precautions = Precautions(size_limit=self.size_limit.value(), value_limit=self.value_limit.value(),
                                      percent_from_market=self.percent.value(), enabled=self.enabled.isChecked())
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.applied.emit(precautions, self.quantity.value(), defaults, THEMES[self.theme.currentIndex()])
        self.accept()
