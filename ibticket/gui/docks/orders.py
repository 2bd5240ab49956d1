"""The orders dock: filter (working / all / errors), a sortable table, keys and a context menu."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core import OrderRecord, OrderStatus
from ..models.orders import COL, COLUMNS, OrdersModel, is_working
from ..models.tables import blotter_table

FILTERS = ("working", "all", "errors")
SAMPLE = ("9999", "23:59:59", "GOOGL", "SELL", "100,000", "STP LMT", "1,000.00", "1,000.00", "DAY ORTH",
          "PartiallyFilled", "10,000/10,000", "1,000.00", "Retries", "")


class OrdersFilter(QSortFilterProxyModel):
    """Filters only; sorting stays in the source model so updates never trigger a re-sort."""

    def __init__(self, model: OrdersModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.orders = model  # the source model, as itself (sourceModel() is any QAbstractItemModel)
        self.mode = "working"
        self.setDynamicSortFilter(True)
        self.setSourceModel(model)

    def set_mode(self, mode: str) -> None:
        begin = getattr(self, "beginFilterChange", None)
        if begin is None:  # Qt < 6.9
            self.mode = mode
            self.invalidateFilter()
            return
        begin()
        self.mode = mode
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        if self.mode == "all":
            return True
        record = self.orders.record(row)
        if self.mode == "errors":
            return record.status is OrderStatus.ERROR or bool(record.error_message)
        return is_working(record) or (
            record.status is OrderStatus.ERROR and self.orders.retrying(record.order_id)
        )


class OrdersPanel(QWidget):
    cancelRequested = Signal(list)  # order ids
    cancelAllRequested = Signal()
    retryRequested = Signal(int)

    def __init__(self, model: OrdersModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = OrdersFilter(model, self)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        self.filter_group = QButtonGroup(self)
        for name in FILTERS:
            button = QPushButton(name.capitalize(), objectName=f"ordersFilter{name.capitalize()}", checkable=True)
            button.setFlat(True)
            self.filter_group.addButton(button)
            button.clicked.connect(lambda _c=False, n=name: self.set_filter(n))
            bar.addWidget(button)
        self.count = QLabel(objectName="ordersCount")
        bar.addStretch(1)
        bar.addWidget(self.count)
        self.cancel_all_button = QPushButton("Cancel all…", objectName="ordersCancelAll")
        self.cancel_all_button.clicked.connect(self.cancelAllRequested.emit)
        bar.addWidget(self.cancel_all_button)

        self.table = blotter_table(
            "ordersTable", self.proxy, [c.title for c in COLUMNS], SAMPLE,
            edit_triggers=QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed,
        )
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)
        header = self.table.horizontalHeader()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(COL["id"], Qt.SortOrder.AscendingOrder)
        header.sortIndicatorChanged.connect(self._sort)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

        self.cancel_action = QAction("Cancel order", self, shortcut=QKeySequence(Qt.Key.Key_Delete))
        self.cancel_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.cancel_action.triggered.connect(self._cancel_selected)
        self.table.addAction(self.cancel_action)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        for signal in (model.rowsInserted, model.dataChanged, model.modelReset, self.proxy.layoutChanged):
            signal.connect(self._update_count)
        self.set_filter("working")

    def set_filter(self, mode: str) -> None:
        for button in self.filter_group.buttons():
            button.setChecked(button.objectName() == f"ordersFilter{mode.capitalize()}")
        self.proxy.set_mode(mode)
        self._update_count()

    def _sort(self, column: int, order: Qt.SortOrder) -> None:
        self.model.sort(column, order)

    def _update_count(self, *_args: object) -> None:
        self.count.setText(f"{self.proxy.rowCount()} shown · {self.model.working_count} working")

    def _selected_rows(self) -> list[int]:
        """The model's rows selected in the table, in the model's order."""
        return sorted({self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()})

    def selected_records(self) -> list[OrderRecord]:
        return [self.model.record(r) for r in self._selected_rows()]

    def selected_ids(self) -> list[int]:
        return [r.order_id for r in self.selected_records()]

    def select_order(self, order_id: int) -> bool:
        row = self.model.row_of(order_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.table.selectRow(index.row())
        self.table.scrollTo(index)
        return True

    def _cancel_selected(self) -> None:
        ids = [r.order_id for r in self.selected_records() if r.is_active]
        if ids:
            self.cancelRequested.emit(ids)

    def edit_selected(self, key: str) -> None:
        rows = self._selected_rows()
        if not rows:
            return
        row = rows[0]
        index = self.proxy.mapFromSource(self.model.index(row, COL[key]))
        if index.isValid() and self.model.flags(self.model.index(row, COL[key])) & Qt.ItemFlag.ItemIsEditable:
            self.table.setCurrentIndex(index)
            self.table.edit(index)

    def _menu(self, pos: QPoint) -> None:
        records = self.selected_records()
        menu = QMenu(self)
        record = records[0] if records else None
        cancel = menu.addAction("Cancel order" if len(records) <= 1 else f"Cancel {len(records)} orders")
        cancel.setShortcut(QKeySequence(Qt.Key.Key_Delete))
        cancel.setEnabled(any(r.is_active for r in records))
        cancel.triggered.connect(self._cancel_selected)
        working = record if record is not None and is_working(record) and len(records) == 1 else None
        price = menu.addAction("Change limit price…")
        price.setEnabled(working is not None and working.limit_price is not None)
        price.triggered.connect(lambda: self.edit_selected("limit"))
        stop = menu.addAction("Change stop price…")
        stop.setEnabled(working is not None and working.stop_price is not None)
        stop.triggered.connect(lambda: self.edit_selected("stop"))
        qty = menu.addAction("Change quantity…")
        qty.setEnabled(working is not None)
        qty.triggered.connect(lambda: self.edit_selected("qty"))
        retry = menu.addAction("Send again (retry)")
        retry.setEnabled(record is not None and record.status is OrderStatus.ERROR and len(records) == 1)
        retry.triggered.connect(lambda: self._retry(record))
        menu.addSeparator()
        menu.addAction("Cancel all…").triggered.connect(self.cancelAllRequested.emit)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def _retry(self, record: OrderRecord | None) -> None:
        if record is not None:
            self.retryRequested.emit(record.order_id)
