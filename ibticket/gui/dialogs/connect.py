"""File -> Connect...: the simulated account, a local TWS paper session, or any host:port."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...trading.connection import LIVE_PORTS, TWS_PAPER_PORT, ConnectionChoice


class ConnectDialog(QDialog):
    chosen = Signal(object)  # ConnectionChoice

    def __init__(self, current: ConnectionChoice, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectDialog")
        self.setWindowTitle("Connect")
        self.sim = QRadioButton("Simulated paper account (embedded gateway, no IB account needed)",
                                objectName="connectSim")
        self.tws = QRadioButton(f"TWS paper trading on this computer (127.0.0.1:{TWS_PAPER_PORT})",
                                objectName="connectTws")
        self.custom = QRadioButton("TWS or IB Gateway at:", objectName="connectCustom")
        group = QButtonGroup(self)
        for b in (self.sim, self.tws, self.custom):
            group.addButton(b)
        self.host = QLineEdit(current.host, objectName="connectHost")
        self.port = QSpinBox(objectName="connectPort")
        self.port.setRange(1, 65535)
        self.port.setValue(current.port)
        self.client_id = QSpinBox(objectName="connectClientId")
        self.client_id.setRange(-1, 2**31 - 1)
        self.client_id.setSpecialValueText("automatic")
        self.client_id.setValue(current.client_id if current.client_id is not None else -1)
        self.allow_live = QCheckBox("Allow a LIVE account (real money)", objectName="connectAllowLive")
        self.warning = QLabel(objectName="connectWarning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #c62828; font-weight: bold;")
        {"sim": self.sim, "tws": self.tws, "custom": self.custom}[current.mode].setChecked(True)
        form = QFormLayout()
        form.addRow("Host", self.host)
        form.addRow("Port", self.port)
        form.addRow("Client id", self.client_id)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (self.sim, self.tws, self.custom):
            layout.addWidget(w)
        layout.addLayout(form)
        layout.addWidget(self.allow_live)
        layout.addWidget(self.warning)
        layout.addWidget(buttons)
        for signal in (group.buttonToggled, self.port.valueChanged, self.allow_live.toggled):
            signal.connect(self._update)
        self._update()

    def _update(self, *_args: object) -> None:
        custom = self.custom.isChecked()
        self.host.setEnabled(custom)
        self.port.setEnabled(custom)
        self.allow_live.setEnabled(not self.sim.isChecked())
        live_port = custom and self.port.value() in LIVE_PORTS
        if self.allow_live.isChecked() and not self.sim.isChecked():
            self.warning.setText("LIVE trading allowed: orders from this window will trade real money.")
        elif live_port:
            self.warning.setText(f"Port {self.port.value()} is IB's live-trading port: the connection is "
                                 "refused unless you allow a live account.")
        else:
            self.warning.setText("")

    def choice(self) -> ConnectionChoice:
        mode = "sim" if self.sim.isChecked() else "tws" if self.tws.isChecked() else "custom"
        client_id = self.client_id.value()
        return ConnectionChoice(
            mode=mode,
            host=self.host.text().strip() or "127.0.0.1" if mode == "custom" else "127.0.0.1",
            port=self.port.value() if mode == "custom" else TWS_PAPER_PORT,
            client_id=None if client_id < 0 else client_id,
            allow_live=self.allow_live.isChecked() and mode != "sim",
        )

    def _accept(self) -> None:
        if self.custom.isChecked() and not self.host.text().strip():
            self.warning.setText("Enter the host where TWS or IB Gateway runs (e.g. 127.0.0.1).")
            return
        self.chosen.emit(self.choice())
        self.accept()
