"""The main window: docks (ticket, orders, fills, positions, chart), the order line, menus, status bar.

Layout only; what happens when the trader acts lives in ``controller.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QToolBar, QWidget

from .. import __version__
from .appsettings import AppSettings
from .docks.chart import ChartHolder
from .docks.fills import FillsPanel
from .docks.logview import LogViewPanel
from .docks.orders import OrdersPanel
from .docks.positions import PositionsPanel
from .models.fills import FillsModel
from .models.orders import OrdersModel
from .models.positions import PositionsModel
from .theme import THEMES
from .widgets.notices import NoticeBar
from .widgets.orderline_edit import OrderLineBar
from .widgets.statusbar import TradingStatusBar
from .widgets.ticket import OrderTicket

LAYOUT_VERSION = 2  # 2: the chart and log viewer docks (a version-1 layout is kept, see restore_layout)


class MainWindow(QMainWindow):
    closing = Signal()

    def __init__(self, settings: AppSettings) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings
        self._shown_once = False
        # What to ask before closing (the controller's: working orders that stop with the app), or None.
        self.close_question: Callable[[], str | None] | None = None
        self._close_confirmed = False
        self.setDockNestingEnabled(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self.set_title("SIMULATED", "connecting")

        self.orders_model = OrdersModel(self)
        self.fills_model = FillsModel(self)
        self.positions_model = PositionsModel(self)
        self.ticket = OrderTicket()
        self.orders = OrdersPanel(self.orders_model)
        self.fills = FillsPanel(self.fills_model)
        self.positions = PositionsPanel(self.positions_model)
        self.logview = LogViewPanel()
        self.order_line = OrderLineBar()

        self.line_bar = QToolBar("Order line", objectName="orderLineBar")
        self.line_bar.setMovable(True)
        self.line_bar.addWidget(self.order_line)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.line_bar)
        self.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        self.notices = NoticeBar(self)  # under the order line, shown only while it has something to say
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.notices)

        self.docks: dict[str, QDockWidget] = {}
        self._dock("ticket", "Order ticket", self.ticket, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("orders", "Orders", self.orders, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("fills", "Fills", self.fills, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("positions", "Positions", self.positions, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("logview", "Log viewer", self.logview, Qt.DockWidgetArea.RightDockWidgetArea)
        self.docks["logview"].visibilityChanged.connect(self.logview.set_active)  # its tab in front or not
        # The chart's dock holds a placeholder until first shown (pyqtgraph is imported then: docks/chart.py).
        self.chart_holder = ChartHolder()
        self.chart_holder.watch(self._dock("chart", "Chart", self.chart_holder, Qt.DockWidgetArea.RightDockWidgetArea))
        self.status = TradingStatusBar(self)
        self.setStatusBar(self.status)
        self._default_layout()
        self._default_state = self.saveState(LAYOUT_VERSION)
        self._build_menus()
        self.restore_layout()

    def _dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{key}Dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def _default_layout(self) -> None:
        d = self.docks
        for dock in d.values():
            dock.setFloating(False)
            dock.show()
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d["ticket"])
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, d["orders"])
        self.splitDockWidget(d["orders"], d["fills"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(d["fills"], d["positions"])
        self.tabifyDockWidget(d["orders"], d["chart"])
        d["fills"].raise_()
        self.tabifyDockWidget(d["orders"], d["logview"])  # the log viewer is a tab behind the orders
        d["orders"].raise_()
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry() if screen is not None else None
        # Fit a laptop screen: never open wider or taller than the screen offers.
        self.resize(min(1320, room.width()) if room else 1320, min(820, room.height()) if room else 820)
        self._size_docks()

    def _size_docks(self) -> None:
        # Dock sizes only take once the window has its size; before the first show they are re-balanced.
        d = self.docks
        self.resizeDocks([d["ticket"], d["orders"]], [360, max(600, self.width() - 360)], Qt.Orientation.Horizontal)
        self.resizeDocks([d["orders"], d["fills"]], [440, 280], Qt.Orientation.Vertical)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")
        self.act_connect = self._action(self.file_menu, "&Connect…", "connect", QKeySequence("Ctrl+K"))
        self.act_reconnect = self._action(self.file_menu, "&Reconnect now", "reconnect", QKeySequence("Ctrl+R"))
        self.act_sim_reset = self._action(self.file_menu, "Reset the &simulated account…", "simReset")
        self.file_menu.addSeparator()
        self.act_export = self._action(self.file_menu, "&Export fills…", "exportFills", QKeySequence("Ctrl+E"))
        self.act_open_log = self._action(self.file_menu, "Open order &log…", "openOrderLog")
        self.act_open_log.triggered.connect(self.show_log_viewer)
        self.file_menu.addSeparator()
        self.act_quit = self._action(self.file_menu, "&Quit", "quit", QKeySequence(QKeySequence.StandardKey.Quit))
        self.act_quit.triggered.connect(self.close)
        self.act_export.triggered.connect(self.fills._export_dialog)

        orders = bar.addMenu("&Orders")
        self.act_send = self._action(orders, "&Send the ticket", "send", QKeySequence("Ctrl+Return"))
        self.act_send.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # the ticket owns Ctrl+Enter
        self.act_send.triggered.connect(self.ticket._send_clicked)
        self.act_line = self._action(orders, "Order &line", "focusLine", QKeySequence("Ctrl+L"))
        self.act_line.triggered.connect(self.focus_order_line)
        self.act_ticket = self._action(orders, "Order &ticket", "focusTicket", QKeySequence("Ctrl+T"))
        self.act_ticket.triggered.connect(self.focus_ticket)
        self.act_orders = self._action(orders, "Orders &table", "focusOrders", QKeySequence("Ctrl+1"))
        self.act_orders.triggered.connect(lambda: self._focus_dock("orders", self.orders.table))
        orders.addSeparator()
        self.act_cancel_all = self._action(orders, "Cancel &all…", "cancelAll", QKeySequence("Ctrl+Shift+X"))
        self.act_cancel_all.triggered.connect(self.orders.cancelAllRequested.emit)
        orders.addSeparator()
        for name in ("working", "all", "errors"):
            act = self._action(orders, f"Show {name} orders", f"filter{name.capitalize()}")
            act.triggered.connect(lambda _c=False, n=name: self.orders.set_filter(n))

        view = bar.addMenu("&View")
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addAction(self.line_bar.toggleViewAction())
        view.addSeparator()
        themes = view.addMenu("&Theme")
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for name, text in zip(THEMES, ("Follow the &system", "&Light", "&Dark"), strict=True):
            act = self._action(themes, text, f"theme{name.capitalize()}")
            act.setCheckable(True)
            group.addAction(act)
            self.theme_actions[name] = act
        view.addSeparator()
        self.act_reset_layout = self._action(view, "&Reset layout", "resetLayout")
        self.act_reset_layout.triggered.connect(self.reset_layout)

        settings = bar.addMenu("Se&ttings")
        self.act_settings = self._action(settings, "&Preferences…", "preferences",
                                         QKeySequence(QKeySequence.StandardKey.Preferences) or QKeySequence("Ctrl+,"))
        if self.act_settings.shortcut().isEmpty():
            self.act_settings.setShortcut(QKeySequence("Ctrl+,"))

        help_menu = bar.addMenu("&Help")
        self.act_help_line = self._action(help_menu, "&Order line", "helpOrderLine", QKeySequence("F1"))
        self.act_about = self._action(help_menu, "&About ibticket", "about")

    def _action(self, menu: object, text: str, name: str, shortcut: QKeySequence | None = None) -> QAction:
        action = QAction(text, self)
        action.setObjectName(f"action{name[0].upper()}{name[1:]}")
        if shortcut is not None and not shortcut.isEmpty():
            action.setShortcut(shortcut)
        menu.addAction(action)  # type: ignore[attr-defined]
        self.addAction(action)  # shortcuts work while the menu bar is hidden or a dock floats
        return action

    # -- focus ---------------------------------------------------------------------------------------

    def focus_order_line(self) -> None:
        self.line_bar.show()
        self.order_line.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.order_line.edit.selectAll()

    def focus_ticket(self) -> None:
        self._focus_dock("ticket", self.ticket.symbol)
        self.ticket.symbol.selectAll()

    def _focus_dock(self, key: str, widget: QWidget) -> None:
        dock = self.docks[key]
        dock.show()
        dock.raise_()
        widget.setFocus(Qt.FocusReason.ShortcutFocusReason)

    # -- the order log viewer ----------------------------------------------------------------------------

    def show_log_viewer(self) -> None:
        self._focus_dock("logview", self.logview.days)

    def open_log_day(self, day: date) -> bool:
        """Show the log viewer with ``day`` open; False (the viewer says why) when the day has no log."""
        opened = self.logview.open_day(day)  # before it is shown, which would open today's first
        self.show_log_viewer()
        return opened

    # -- title and layout ------------------------------------------------------------------------------

    def set_title(self, badge: str, phase: str, account: str = "") -> None:
        where = {"SIMULATED": "simulated paper account", "PAPER": "paper account", "LIVE": "LIVE ACCOUNT"}[badge]
        acct = f" {account}" if account else ""
        prefix = "⚠ LIVE — " if badge == "LIVE" else ""
        self.setWindowTitle(f"{prefix}ibticket — {where}{acct} ({phase}) · {__version__}")

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        if not self._shown_once:
            self._shown_once = True
            if self.settings.window_state()[1] is None:
                QTimer.singleShot(0, self, self._size_docks)  # with the window as context: gone with it

    def restore_layout(self) -> None:
        geometry, state = self.settings.window_state()
        if geometry is not None and not self.restoreGeometry(geometry):
            self.settings.reject("view/geometry", geometry, "not a window position this version can restore; "
                                 "the default is used")
        if state is not None and not self.restoreState(state, LAYOUT_VERSION):
            if self.restoreState(state, 1):
                # A layout from before the chart: keep it, and give the chart its default place (Qt would
                # squeeze a dock the saved state does not know into a strip at the bottom).
                self.tabifyDockWidget(self.docks["orders"], self.docks["chart"])
                self.tabifyDockWidget(self.docks["orders"], self.docks["logview"])
                self.docks["orders"].raise_()
            else:
                self.settings.reject("view/state", state, "not a window layout this version can restore; the "
                                     "default layout is used")
                self.restoreState(self._default_state, LAYOUT_VERSION)
        self.notices.refresh()

    def save_layout(self) -> None:
        self.settings.set_window_state(self.saveGeometry(), self.saveState(LAYOUT_VERSION))
        self.settings.sync()

    def reset_layout(self) -> None:
        self.settings.clear_window_state()
        self.line_bar.show()
        self.restoreState(QByteArray(self._default_state), LAYOUT_VERSION)
        for dock in self.docks.values():
            dock.show()
        self._default_layout()
        self.notices.refresh()

    def closeEvent(self, event: QCloseEvent) -> None:
        question = self.close_question() if self.close_question and not self._close_confirmed else None
        if question:
            event.ignore()
            self._ask_to_close(question)
            return
        self.save_layout()
        self.logview.shutdown()
        self.closing.emit()
        event.accept()

    def _ask_to_close(self, question: str) -> None:
        # open(), not exec(): a nested loop inside qasync's would stall the connection meanwhile.
        box = QMessageBox(QMessageBox.Icon.Warning, "Close ibticket?", question, QMessageBox.StandardButton.NoButton,
                          self)
        box.setObjectName("closePrompt")
        close = box.addButton("Close ibticket", QMessageBox.ButtonRole.AcceptRole)
        close.setObjectName("closeAnywayButton")
        keep = box.addButton("Keep it open", QMessageBox.ButtonRole.RejectRole)
        keep.setObjectName("closePromptCancel")
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)

        def done(_result: int) -> None:
            box.deleteLater()
            if box.clickedButton() is close:
                self._close_confirmed = True
                self.close()

        box.finished.connect(done)
        box.open()
