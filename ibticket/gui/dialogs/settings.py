"""Settings: precautions (TWS-like, on by default), presets (default quantities, lots), alerts, the theme."""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class SettingsChoice:
    """What the trader chose in the dialog (OK)."""

    precautions: Precautions
    quantity: int
    defaults: dict[str, int]
    theme: str
    lot: int = 100
    lots: dict[str, int] = field(default_factory=dict)
    fill_alert: bool = True


def parse_defaults(text: str, what: str = "quantity") -> dict[str, int]:
    """"AAPL=100, MSFT=50" -> {"AAPL": 100, "MSFT": 50}; raises ValueError naming the bad part."""
    result: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        symbol, sep, qty = part.partition("=")
        symbol = symbol.strip().upper()
        if not sep or not symbol or not symbol.isascii() or not symbol.replace(".", "").replace(" ", "").isalnum():
            raise ValueError(f"{part!r}: write SYMBOL={what.upper()}, e.g. AAPL=100")
        if not qty.strip().isdigit() or not qty.strip().isascii() or not 0 < int(qty) <= 10_000_000:
            raise ValueError(f"{part!r}: the {what} must be a whole number from 1 to 10,000,000")
        result[symbol] = int(qty)
    return result


class SettingsDialog(QDialog):
    applied = Signal(object)  # SettingsChoice

    def __init__(self, precautions: Precautions, default_qty: int, defaults: dict[str, int], theme: str,
                 parent: QWidget | None = None, *, lot: int = 100, lots: dict[str, int] | None = None,
                 fill_alert: bool = True) -> None:
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
        self.lot = QSpinBox(objectName="presetLot")
        self.lot.setRange(1, 10_000_000)
        self.lot.setGroupSeparatorShown(True)
        self.lot.setValue(lot)
        self.lot.setToolTip("What the ticket's quantity steps by (arrows, wheel, Page Up/Down)")
        self.lots = QLineEdit(", ".join(f"{k}={v}" for k, v in sorted((lots or {}).items())),
                              objectName="presetLots", placeholderText="BRK.A=1, SPY=10")
        presets = QGroupBox("Presets")
        pform = QFormLayout(presets)
        pform.addRow("Default quantity", self.quantity)
        pform.addRow("Per symbol", self.defaults)
        pform.addRow("Quantity step (lot)", self.lot)
        pform.addRow("Lot per symbol", self.lots)

        self.fill_alert = QCheckBox("Sound, flash and a desktop notification on each fill",
                                    objectName="settingsFillAlert")
        self.fill_alert.setChecked(fill_alert)
        alerts = QGroupBox("Alerts")
        QVBoxLayout(alerts).addWidget(self.fill_alert)

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
        for w in (limits, presets, alerts, look, self.error, buttons):
            layout.addWidget(w)

    def _accept(self) -> None:
        try:
            defaults = parse_defaults(self.defaults.text())
            lots = parse_defaults(self.lots.text(), "lot")
            precautions = Precautions(size_limit=self.size_limit.value(), value_limit=self.value_limit.value(),
                                      percent_from_market=self.percent.value(), enabled=self.enabled.isChecked())
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.applied.emit(SettingsChoice(precautions, self.quantity.value(), defaults,
                                         THEMES[self.theme.currentIndex()], self.lot.value(), lots,
                                         self.fill_alert.isChecked()))
        self.accept()
