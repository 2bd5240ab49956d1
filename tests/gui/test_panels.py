"""Panels on their own, without a session: the settings dialog and the orders dock's context menu."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QPoint, QSize
from PySide6.QtWidgets import QAbstractItemView, QMenu

from ibticket.core import OrderRecord, OrderStatus
from ibticket.gui.dialogs.settings import SettingsDialog
from ibticket.gui.docks.orders import OrdersPanel
from ibticket.gui.models.orders import OrdersModel
from ibticket.trading.precautions import Precautions


def test_the_settings_dialog_keeps_its_size_method_and_applies_what_was_typed(keep) -> None:
    dialog = keep(SettingsDialog(Precautions(size_limit=500), 100, {"AAPL": 10}, "dark"))
    # Its size limit box once sat on ``self.size`` and hid QWidget.size(): calling it raised TypeError.
    assert isinstance(dialog.size(), QSize)
    applied: list[tuple[Any, ...]] = []
    dialog.applied.connect(lambda *args: applied.append(args))
    assert dialog.size_limit.value() == 500
    dialog.size_limit.setValue(250)
    dialog.value_limit.setValue(20_000)
    dialog.defaults.setText("msft=5")
    dialog.lots.setText("brk.a=1")
    dialog.fill_alert.setChecked(False)
    dialog._accept()
    [(choice,)] = applied
    assert (choice.precautions.size_limit, choice.precautions.value_limit) == (250, 20_000)
    assert (choice.quantity, choice.defaults, choice.theme) == (100, {"MSFT": 5}, "dark")
    assert (choice.lot, choice.lots, choice.fill_alert) == (100, {"BRK.A": 1}, False)


def _order(order_id: int, status: OrderStatus, limit: float | None = None, stop: float | None = None) -> OrderRecord:
    return OrderRecord(order_id=order_id, symbol="AAPL", action="BUY", total_quantity=100,
                       order_type="LIMIT" if limit else "STOP" if stop else "MARKET", limit_price=limit,
                       stop_price=stop, status=status, submission_time=datetime(2026, 1, 2, 9, 30))


def _menu_for(panel: OrdersPanel, *order_ids: int) -> dict[str, Any]:
    """Select ``order_ids``, open the context menu; its actions by text."""
    panel.table.clearSelection()
    for order_id in order_ids:
        index = panel.proxy.mapFromSource(panel.model.index(panel.model.row_of(order_id) or 0, 0))
        panel.table.selectionModel().select(index, panel.table.selectionModel().SelectionFlag.Select
                                            | panel.table.selectionModel().SelectionFlag.Rows)
    before = set(panel.findChildren(QMenu))
    panel._menu(QPoint(0, 0))
    [menu] = set(panel.findChildren(QMenu)) - before
    menu.close()
    return {a.text(): a for a in menu.actions() if a.text()}


def test_the_orders_menu_offers_what_the_selected_orders_allow(keep) -> None:
    model = OrdersModel()
    model.apply([_order(1, OrderStatus.SUBMITTED, limit=187.25), _order(2, OrderStatus.ERROR),
                 _order(3, OrderStatus.SUBMITTED, stop=180.0), _order(4, OrderStatus.FILLED, limit=187.0)])
    panel = keep(OrdersPanel(model))
    panel.set_filter("all")
    panel.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
    retried: list[int] = []
    panel.retryRequested.connect(retried.append)

    actions = _menu_for(panel, 1, 2)
    assert panel.selected_ids() == [1, 2]
    assert actions["Cancel 2 orders"].isEnabled()  # one of them is working
    for text in ("Change limit price…", "Change stop price…", "Change quantity…", "Send again (retry)"):
        assert not actions[text].isEnabled(), text  # one order at a time

    actions = _menu_for(panel, 1)
    assert actions["Change limit price…"].isEnabled() and not actions["Change stop price…"].isEnabled()
    assert actions["Change quantity…"].isEnabled() and not actions["Send again (retry)"].isEnabled()

    actions = _menu_for(panel, 3)
    assert actions["Change stop price…"].isEnabled() and not actions["Change limit price…"].isEnabled()

    actions = _menu_for(panel, 4)
    assert not any(actions[t].isEnabled() for t in ("Cancel order", "Change limit price…", "Send again (retry)"))

    actions = _menu_for(panel, 2)
    assert actions["Cancel order"].isEnabled()  # an order in error still has its retry to cancel
    assert not actions["Change quantity…"].isEnabled() and actions["Send again (retry)"].isEnabled()
    actions["Send again (retry)"].trigger()
    assert retried == [2]
