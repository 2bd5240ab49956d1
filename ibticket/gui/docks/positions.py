"""The positions dock; double-click (or Enter) loads the closing order into the ticket. Positions closed today
stay, muted, with their realized P&L; the line under the table adds the rows up (the day's P&L)."""

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
        self.totals = QLabel(objectName="positionsTotals")
        self.totals.setTextFormat(Qt.TextFormat.PlainText)
        self.totals.setToolTip("The rows added up, open and closed today: the day's P&L")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.account)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)
        for signal in (model.rowsInserted, model.rowsRemoved, model.dataChanged, model.modelReset):
            signal.connect(self._update_totals)
        self.set_account(None)
        self._update_totals()

    def _update_totals(self, *_args: object) -> None:
        unrealized, realized = self.model.totals()
        closed = sum(1 for row in range(self.model.rowCount()) if not self.model.position(row).quantity)
        self.totals.setText(
            f"Unrealized {fmt.signed_money(unrealized)}   Realized {fmt.signed_money(realized)}   "
            f"Total {fmt.signed_money(unrealized + realized)}"
            + (f"   ({closed} closed today)" if closed else ""))

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
