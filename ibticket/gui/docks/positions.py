"""The positions dock; double-click (or Enter) loads the closing order into the ticket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QLabel, QVBoxLayout, QWidget

from ...core import format as fmt
from ..models.positions import HEADERS, PositionsModel
from ..models.tables import blotter_table

if TYPE_CHECKING:  # Types only: the window is painted before the broker (and ib_insync, numpy) is imported.
    from ...broker.portfolio import AccountValues


class PositionsPanel(QWidget):
    closeRequested = Signal(str, str, int)  # symbol, closing side, quantity

    def __init__(self, model: PositionsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.table = blotter_table("positionsTable", model, HEADERS, ["−1,000,000.00"] * len(HEADERS),
                                   selection=QAbstractItemView.SelectionMode.SingleSelection)
        self.table.activated.connect(self._activated)
        self.table.doubleClicked.connect(self._activated)
        self.account = QLabel(objectName="accountValues")
        self.account.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.account)
        layout.addWidget(self.table)
        self.set_account(None)

    def _activated(self, index: QModelIndex) -> None:
        p = self.model.position(index.row())
        if p.quantity:
            side = "SELL" if p.quantity > 0 else "BUY"
            self.closeRequested.emit(p.symbol, side, int(abs(p.quantity)))

    def set_account(self, values: AccountValues | None) -> None:
        if values is None:
            self.account.setText("Net liquidation —   Buying power —   Day P&L —")
            return
        self.account.setText(
            f"{values.account}   Net liquidation {fmt.money(values.net_liquidation)}   "
            f"Buying power {fmt.money(values.buying_power)}   Day P&L {fmt.signed_money(values.day_pnl)}"
        )
