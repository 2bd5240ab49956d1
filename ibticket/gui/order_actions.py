"""The window's order actions: send (ticket and line), cancel, cancel all, retry, change a cell or a chart
line; and what the views show of the outcome. A mixin of ``WindowController`` (its state is the controller's).

An outcome is said in the ticket and the status bar; a refused order line keeps its text, selected, with the
reason under it. A red message is stale once something succeeds (or the ticket's symbol changes): it goes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from ..core import OrderRecord
from ..core.order import OrderRequest
from ..trading.orderline import CancelCommand, ModifyCommand
from .wording import for_window

if TYPE_CHECKING:
    from ..trading.desk import OrderDesk, Outcome
    from .appsettings import AppSettings
    from .dialogs.prompts import WindowPrompter
    from .docks.chart import ChartFeed
    from .mainwindow import MainWindow


class OrderActions:
    window: MainWindow
    settings: AppSettings
    desk: OrderDesk | None
    prompter: WindowPrompter
    chart: ChartFeed
    _last_sent: int | None
    _spawn: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]

    def _on_orders(self, records: list[OrderRecord]) -> None:
        w = self.window
        w.orders_model.apply(records)
        w.status.set_counts(w.orders_model.working_count, w.fills_model.rowCount())

    def _on_fills(self, fills: list[Any]) -> None:
        w = self.window
        w.fills_model.apply(fills)
        w.status.set_counts(w.orders_model.working_count, w.fills_model.rowCount())

    def _on_errors(self, errors: list[tuple[OrderRecord, str]]) -> None:
        w = self.window
        record, message = errors[-1]
        text = f"#{record.order_id} {record.action} {record.symbol}: {message}"
        w.status.showMessage(text, 15000)
        if any(r.order_id == self._last_sent for r, _m in errors):
            w.ticket.show_message(text, error=True)
        w.status.set_counts(w.orders_model.working_count, w.fills_model.rowCount())

    def _show(self, outcome: Outcome, from_line: bool) -> None:
        w = self.window
        text = for_window(outcome.message)
        w.ticket.show_message(text, error=not outcome.ok)
        w.status.showMessage(text, 10000)
        if outcome.ok:
            w.order_line.edit.set_error(None)  # a refusal shown there earlier is stale now
        elif from_line:
            w.order_line.edit.show_message(text)
        if outcome.record is not None:
            self._last_sent = outcome.record.order_id
            self.settings.add_recent_symbol(outcome.record.symbol)

    async def send(self, cmd: OrderRequest, from_line: bool) -> Outcome | None:
        if self.desk is None:
            return None
        outcome = await self.desk.send(cmd)
        self._show(outcome, from_line)
        if outcome.ok and outcome.record is not None:
            self.window.orders.select_order(outcome.record.order_id)
        return outcome

    async def run_line(self, cmd: OrderRequest | CancelCommand | ModifyCommand) -> Outcome | None:
        """Run a command from the order line; the line is cleared only if it went through."""
        edit = self.window.order_line.edit
        try:
            outcome = await self._run_line(cmd)
        except Exception as exc:
            edit.finished(False, f"Not sent: unexpected error: {exc}")
            raise
        if outcome is None:
            edit.finished(False, "Not sent: not connected to IB yet")
        else:
            edit.finished(outcome.ok, for_window(outcome.message))
        return outcome

    async def _run_line(self, cmd: OrderRequest | CancelCommand | ModifyCommand) -> Outcome | None:
        if self.desk is None:
            return None
        if isinstance(cmd, OrderRequest):
            return await self.send(cmd, from_line=True)
        if isinstance(cmd, CancelCommand):
            # Typing "cancel all" is the confirmation: a prompt on top would ask twice, and its default
            # button (Enter, still under the trader's finger) keeps the orders.
            outcome = await (self.desk.cancel_all(confirm=False) if cmd.order_id is None
                             else self.desk.cancel(cmd.order_id))
        else:
            outcome = await self.desk.modify(cmd.order_id, cmd.quantity, cmd.limit_price, cmd.stop_price)
        self._show(outcome, from_line=True)
        return outcome

    async def cancel(self, order_ids: list[int]) -> None:
        if self.desk is None:
            return
        for order_id in order_ids:
            outcome = await self.desk.cancel(order_id)
            self._show(outcome, from_line=False)

    async def cancel_all(self) -> None:
        if self.desk is not None:
            self._show(await self.desk.cancel_all(), from_line=False)

    async def retry(self, order_id: int) -> None:
        if self.desk is not None:
            self._show(await self.desk.retry(order_id), from_line=False)

    async def modify_cell(self, order_id: int, key: str, text: str) -> None:
        if self.desk is None:
            return
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            self._show_error(f"#{order_id}: {text!r} is not a number")
            return
        if key == "qty":
            if not value.is_integer():
                self._show_error(f"#{order_id}: {text!r} shares: IB stock orders take whole shares")
                return
            outcome = await self.desk.modify(order_id, quantity=int(value))
        elif key == "limit":
            outcome = await self.desk.modify(order_id, limit_price=value)
        else:
            outcome = await self.desk.modify(order_id, stop_price=value)
        self._show(outcome, from_line=False)

    def _show_error(self, text: str) -> None:
        self.window.status.showMessage(text, 10000)
        self.window.ticket.show_message(text, error=True)

    async def _chart_modify(self, order_id: int, kind: str, price: float) -> None:
        outcome = None
        if self.desk is not None:
            limit, stop = (price, None) if kind == "limit" else (None, price)
            outcome = await self.desk.modify(order_id, limit_price=limit, stop_price=stop, confirm=self.prompter.modify)
            self._show(outcome, from_line=False)
        self.chart.modify_done(order_id, kind, outcome is not None and outcome.ok)

