"""What happens when the trader acts: the session, the order desk and the window wired together.

Every action that talks to the broker runs as a task on the one qasync loop; nothing blocks the GUI and
no dialog is ever exec()-ed inside a coroutine (prompts are awaited futures, see ``prompts.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from ..trading.connection import ConnectionChoice
from .appearance import Appearance
from .bridge import OrderBridge, Relay
from .dialogs.connect import ConnectDialog
from .dialogs.help import about_text, order_line_help
from .dialogs.prompts import WindowPrompter, ask
from .docks.chart import ChartFeed
from .fill_alert import FillAlert
from .market_view import MarketView
from .order_actions import OrderActions
from .theme import apply_theme, the_app
from .wording import for_window

if TYPE_CHECKING:
    from ..trading.desk import OrderDesk
    from ..trading.session import ConnectionStatus, TradingSession
    from .appsettings import AppSettings
    from .mainwindow import MainWindow

log = logging.getLogger(__name__)
LOOKUP_DELAY_MS = 150
CHART_ARM_MS = 1500


class WindowController(OrderActions, MarketView, Appearance, QObject):
    """The session and the window wired together; the actions live in their mixins (order_actions.py,
    market_view.py, appearance.py), which share this object's state."""

    ready = Signal()  # connected, for --smoke
    firstQuote = Signal(str)
    failed = Signal(str)  # the session gave up: the setup has to change (for --smoke)

    def __init__(
        self,
        window: MainWindow,
        settings: AppSettings,
        *,
        log_dir: Path | None,
        data_dir: Path,
        gateway_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(window)
        self.gateway_options = gateway_options
        self.window = window
        self.settings = settings
        self.log_dir = log_dir
        self.data_dir = data_dir
        self.session: TradingSession | None = None
        self.bridge: OrderBridge | None = None
        self.desk: OrderDesk | None = None
        self.relay = Relay(self)
        self.prompter = WindowPrompter(window)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._symbol: str | None = None
        self._extra_quotes: list[str] = []
        self._loading: str | None = None
        self._symbol_note = ""
        self._phase = ""
        self._gateway_report_shown = False
        self._confirmed = False  # the session has been connected (restored orders are confirmed by IB)
        self._last_sent: int | None = None
        self.failure: str | None = None  # why the session gave up, while it has (for --smoke)
        self._lookup_timer = QTimer(self, singleShot=True, interval=LOOKUP_DELAY_MS)
        self._lookup_timer.timeout.connect(lambda: self._spawn(self._lookup(window.ticket.symbol.text())))
        window.notices.watch(settings)  # reads everything a start reads: what cannot be used is named now
        self._wire_chart()
        self.fill_alert = FillAlert(window, settings.fill_alert())
        self.colors = apply_theme(the_app(), settings.theme())
        self._apply_colors()
        self._wire()
        self._wire_theme()
        window.ticket.set_default_quantities(settings.default_quantities())
        window.ticket.set_lots(settings.default_lot(), settings.lots())
        window.ticket.quantity.setValue(settings.default_quantity())
        for line in settings.line_history():
            window.order_line.edit.history.add(line)
        self._refresh_completion()
        self._wire_log_viewer(log_dir)
        window.close_question = self._close_question

    def _wire_log_viewer(self, log_dir: Path | None) -> None:
        from ..core.logger import default_log_dir

        viewer = self.window.logview
        viewer.message.connect(lambda text: self.window.status.showMessage(text, 10000))
        viewer.set_folder(log_dir if log_dir is not None else default_log_dir())

    # -- wiring ----------------------------------------------------------------------------------------

    def _wire(self) -> None:
        w = self.window
        w.ticket.sendRequested.connect(lambda cmd: self._spawn(self.send(cmd, from_line=False)))
        w.ticket.symbolRequested.connect(lambda s: self._spawn(self.load_symbol(s)))
        w.ticket.symbolTyped.connect(lambda _t: self._lookup_timer.start())
        w.order_line.edit.submitted.connect(lambda cmd: self._spawn(self.run_line(cmd)))
        w.order_line.edit.loadRequested.connect(w.ticket.load)
        w.orders.cancelRequested.connect(lambda ids: self._spawn(self.cancel(ids)))
        w.orders.cancelAllRequested.connect(lambda: self._spawn(self.cancel_all()))
        w.orders.retryRequested.connect(lambda oid: self._spawn(self.retry(oid)))
        w.orders_model.modifyRequested.connect(lambda oid, key, text: self._spawn(self.modify_cell(oid, key, text)))
        w.positions.closeRequested.connect(self._close_position)
        w.fills.exported.connect(lambda text: w.status.showMessage(text, 10000))
        self.relay.connectionChanged.connect(self._on_connection)
        self.relay.quoteChanged.connect(self._on_quote)
        self.relay.positionsChanged.connect(self._on_positions)
        self.relay.accountChanged.connect(w.positions.set_account)
        self.relay.accountChanged.connect(w.status.set_account_values)
        self.relay.logHealthChanged.connect(w.status.set_log_health)
        w.act_connect.triggered.connect(self._connect_dialog)
        w.act_reconnect.triggered.connect(lambda: self.session and self._spawn(self.session.reconnect_now()))
        w.act_sim_reset.triggered.connect(lambda: self._spawn(self._sim_reset()))
        w.act_settings.triggered.connect(self._settings_dialog)
        w.act_help_line.triggered.connect(lambda: self._info("Order line", order_line_help(), "orderLineHelp"))
        w.act_about.triggered.connect(lambda: self._info("About ibticket", about_text(), "aboutBox"))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_event_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("window task failed", exc_info=exc)
            self.window.status.showMessage(f"Unexpected error: {exc}", 15000)

    # -- session ---------------------------------------------------------------------------------------

    async def start(self, choice: ConnectionChoice, sim_reset: bool = False) -> None:
        from ..trading.desk import OrderDesk
        from ..trading.session import TradingSession, unstarted

        try:
            session = TradingSession(choice, log_dir=self.log_dir, data_dir=self.data_dir, sim_reset=sim_reset,
                                     gateway_options=self.gateway_options)
        except (ValueError, OSError) as exc:  # e.g. IBTICKET_CLIENT_ID=abc: the window stays, and says so
            self.relay.connection(unstarted(choice, exc))
            return
        self.session = session
        self._gateway_report_shown = False
        self._confirmed = False
        if session.settings.identity_notice:
            self.window.notices.add("identity", session.settings.identity_notice)
        self.bridge = OrderBridge(session.handler, parent=self)
        self.bridge.ordersChanged.connect(self._on_orders)
        self.bridge.fillsChanged.connect(self._on_fills)
        self.bridge.errorsRaised.connect(self._on_errors)
        self.bridge.fillsArrived.connect(self.fill_alert.announce)
        self.bridge.ordersChanged.connect(self.chart.orders)
        self.bridge.errorsRaised.connect(self.chart.errors)
        self.window.orders_model.set_retrying(session.handler.retry_pending)
        self.desk = OrderDesk(session.core, self.prompter, self.settings.precautions, self._quote_of,
                              self._fetch_quote)
        session.core.market.quote_event.connect(self.relay.quote)
        session.core.portfolio.positions_event.connect(self.relay.positions)
        session.core.portfolio.account_event.connect(self.relay.account)
        session.logger.health_event.connect(self.relay.log_health)
        # A folder that could not even be created was found before anyone listened.
        self.relay.log_health(session.logger.degraded, session.logger.health_message())
        session.add_listener(self.relay.connection)
        session.start()
        # A chart left showing loads pyqtgraph (~0.3 s) after the first quote, or soon if none comes.
        QTimer.singleShot(CHART_ARM_MS, self.window.chart_holder.arm)

    async def stop(self) -> None:
        session, self.session = self.session, None
        if session is None:
            return
        if self.bridge is not None:
            self.bridge.detach()
            self.bridge.deleteLater()
            self.bridge = None
        await session.stop()

    async def switch(self, choice: ConnectionChoice, sim_reset: bool = False) -> None:
        await self.stop()
        w = self.window
        w.orders_model.clear()
        w.fills_model.clear()
        w.positions_model.clear()
        w.positions.set_account(None)
        w.status.set_account_values(None)
        self.chart.clear()
        self._symbol = None
        self._extra_quotes = []
        self.settings.set_connection(choice)
        await self.start(choice, sim_reset)
        if w.ticket.instrument is not None:
            symbol, w.ticket.instrument = w.ticket.instrument.symbol, None
            await self.load_symbol(symbol)

    async def shutdown(self) -> None:
        self.settings.set_line_history(list(self.window.order_line.edit.history.entries))
        for task in list(self._tasks):
            task.cancel()
        await self.stop()

    def _on_connection(self, status: ConnectionStatus) -> None:
        if status.message:
            status = dataclasses.replace(status, message=for_window(status.message))
        w = self.window
        w.status.set_connection(status)
        w.set_title(status.badge, status.phase, status.account)
        if status.phase == "connecting" and not self._confirmed and self.bridge is not None and self.session:
            # The log's orders are restored before connecting (the broker says "connecting" again once they
            # are): show them, the working ones marked until IB confirms them. A big day fills in by slices.
            w.orders_model.set_restoring(True)
            self.bridge.replay()
        if status.phase == "connected":
            self._confirmed = True
            w.orders_model.clear_restored()
            if self.bridge is not None:
                self.bridge.replay()  # adopted orders arrive without callbacks
            if self._symbol:
                self._spawn(self.load_symbol(self._symbol, force=True))
            elif w.ticket.symbol.text().strip():
                self._spawn(self.load_symbol(w.ticket.symbol.text().strip().upper()))
            # What the trader must read and act on stays in the notice bar until dismissed.
            core = self.session.core if self.session else None
            if core is not None and core.foreign_orders:
                from ..broker.reconcile import describe_foreign

                text = describe_foreign(core.foreign_orders, core.settings.client_id)
                w.notices.add("foreign orders", text)
                w.status.showMessage(text, 60000)
            if core is not None and core.gateway_report and not self._gateway_report_shown:
                self._gateway_report_shown = True  # the simulated account file was damaged: once a session
                w.notices.add("simulated account", core.gateway_report)
                w.status.showMessage(core.gateway_report, 60000)
                w.ticket.show_message(core.gateway_report, error=True, keep=True)
            self.ready.emit()
        elif status.message and status.phase in ("disconnected", "reconnecting"):
            w.status.showMessage(status.message, 15000)
        self.failure = w.notices.follow(status.phase, status.message)
        if self.failure:
            self.failed.emit(self.failure)

    def _close_question(self) -> str | None:
        """Working orders of the simulated account stop with the app (its market runs inside it): say so."""
        session, desk = self.session, self.desk
        if session is None or desk is None or not session.settings.embedded:
            return None
        count = sum(1 for r in desk.working_orders() if r.is_active)
        if not count:
            return None
        orders = f"{count:,} working order{'s' if count != 1 else ''}"
        return (f"{orders} in the simulated account cannot fill while ibticket is closed: the simulated market "
                f"runs only inside the app. {'They are' if count != 1 else 'It is'} kept with the account for "
                "the next start. Close anyway?")

    # -- menus -----------------------------------------------------------------------------------------

    def _connect_dialog(self) -> None:
        current = self.session.choice if self.session else self.settings.connection()
        dialog = ConnectDialog(current, self.window)
        dialog.chosen.connect(lambda choice: self._spawn(self.switch(choice)))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    async def _sim_reset(self) -> None:
        ok = await ask(self.window, "simResetPrompt", "Reset the simulated account",
                       "Start the simulated paper account afresh?",
                       "Cash returns to its start, positions and working orders are gone. Your order logs stay.",
                       "Reset the account", "simResetButton")
        if ok:
            await self.switch(ConnectionChoice(mode="sim"), sim_reset=True)

    # -- theme and chart ---------------------------------------------------------------------------------

    def _wire_chart(self) -> None:
        """The chart's feed records quotes and orders from the start; the chart itself is created when its
        dock is first shown after start() (docks/chart.py). A dropped order line goes through the order desk."""
        self.chart = ChartFeed(self.window.chart_holder, self._spawn, self._day_bars, parent=self)
        self.chart.mode = self.settings.chart_mode()
        self.chart.modeChanged.connect(self.settings.set_chart_mode)
        self.chart.modifyRequested.connect(lambda oid, kind, price: self._spawn(self._chart_modify(oid, kind, price)))
        self.relay.quoteChanged.connect(self.chart.quote)
        self.window.ticket.instrumentChanged.connect(self.chart.set_instrument)

    def _info(self, title: str, text: str, name: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, title, "", QMessageBox.StandardButton.Close, self.window)
        box.setObjectName(name)
        box.setTextFormat(box.textFormat().RichText)
        box.setText(text)
        box.finished.connect(box.deleteLater)
        box.open()
