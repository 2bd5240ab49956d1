"""The trading desk: order entry, modify/cancel, matching against the quotes and the fill messages.

Orders that act on each other (attached orders, transmit=False, OCA groups) are linked.py's: the desk asks
it whether an order may trade now and how much, and tells it of every fill and cancel. Trailing stops move
in trailing.py, GTD orders expire in expiry.py, a request becomes an order in entry.py.

Each fill sends, in this order (as real TWS does): execDetails (reqId -1), orderStatus, openOrder,
commissionReport. Faults may reorder, duplicate, add or lose messages. The execution reports (execDetails and
commissionReport) also go to the master client, if one is configured and connected.

With a state file, every change is written before the message that announces it goes out (see state.py):
_send and _error flush the state first.

A fill split into more than EXECUTIONS_PER_TURN executions (with fill_interval=0) runs as a task that
yields to the event loop after every EXECUTIONS_PER_TURN of them and waits while the owner's output is
above its high-water mark, so the connection drains as the client reads.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from . import messages as msg
from .account import Account, corrected_holding
from .admission import MarginCheck, OrderRejected, validate
from .book import OrderBook, WorkingOrder
from .config import GatewayConfig
from .entry import apply_revision, new_order, revise
from .expiry import GoodTillDate
from .faults import ArmedReject, Faults
from .linked import Links
from .market import Market, Quote
from .matching import (
    acts_as_market,
    commission_for,
    displayed_size,
    fill_price,
    split_quantity,
    stop_triggered,
)
from .messages import Fields
from .ordertypes import AT_THE_CLOSE, closing_price
from .records import Execution
from .requests import PlaceOrder
from .state import open_state
from .trailing import follow
from .universe import Universe

log = logging.getLogger(__name__)

# With fill_interval=0, a split fill sends this many executions per event-loop turn.
EXECUTIONS_PER_TURN = 64

CANCELED_TEXT = "Order Canceled - reason:"

class DeskHost(Protocol):
    def send_to_client(self, client_id: int, fields: Fields) -> None: ...

    def account_changed(self, symbol: str) -> None: ...

    async def wait_writable(self, client_id: int) -> None: ...

    def drop_all_connections(self) -> int: ...


def now() -> datetime:
    return datetime.now().astimezone()


class TradingDesk:
    def __init__(
        self, config: GatewayConfig, universe: Universe, market: Market, account: Account, book: OrderBook,
        faults: Faults, host: DeskHost,
    ) -> None:
        self._config = config
        self._universe = universe
        self._market = market
        self._account = account
        self._book = book
        self._faults = faults
        self._host = host
        self._margin = MarginCheck(account, market, book)
        self._links = Links(book, self)
        # GTD orders expire on the gateway's clock, which tests may move forward (expiry.py).
        self.gtd = GoodTillDate(book, lambda order: self._cancel(order, "Cancelled by System"))
        self.market_orders_fill = config.market_orders_fill
        self._tasks: set[asyncio.Task[None]] = set()
        # Orders whose pending cancel must be answered with 10148 once their fill completes.
        self._answer_10148: set[int] = set()
        # Loads the saved account into `account` and `book` (or raises StateError) when config asks for one.
        self._state = open_state(config, universe, account, book, market)
        self.state_report = self._state.report  # what a damaged state file gave back; None when it loaded whole

    # --- entry points ------------------------------------------------------------------------------
    def place_order(self, client_id: int, req: PlaceOrder) -> None:
        existing = self._book.get(client_id, req.order_id)
        if existing is not None and existing.is_live:
            self._modify(existing, req)
            return
        if existing is not None and existing.status == "Filled":
            self._error(client_id, req.order_id, 104, "Can't modify a filled order")
            return
        if req.what_if:
            self._what_if(client_id, req)
            return
        if existing is not None or self._book.is_used_id(client_id, req.order_id):
            self._error(client_id, req.order_id, 103, "Duplicate order id")
            return
        self._book.note_order_id(client_id, req.order_id)
        try:
            inst = validate(req, self._universe, self._account.account_id)
            self._links.check_parent(client_id, req.parent_id)
            order = new_order(req, client_id, self._book.new_perm_id(), inst, self._account.account_id, now(),
                              self.gtd.clock.now())
        except OrderRejected as exc:
            self._error(client_id, req.order_id, exc.code, exc.text)
            return
        order.status = "Inactive"  # in "TWS", not sent to IB yet
        reject: ArmedReject | OrderRejected | None = self._faults.take_reject()
        if reject is None:
            try:
                self._links.check_joins(order)
            except OrderRejected as exc:
                reject = exc
        if reject is not None:
            self._reject(order, reject.code, reject.text)
            return
        self._book.add(order)
        if req.transmit:
            self._links.transmit(order)  # with the margin check; it announces and matches what it sends
        else:
            self.announce(order, open_order=True)
        self.gtd.arm()

    def cancel_order(self, client_id: int, order_id: int) -> None:
        order = self._book.get(client_id, order_id)
        if order is None:
            self._error(client_id, order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found.")
            return
        if not order.is_live:
            self._error(client_id, order_id, 10148, self._cannot_cancel_text(order))
            return
        if self._faults.take_fill_on_cancel():
            # The fill "reached the exchange first": it is reported, then the cancel is refused.
            self._answer_10148.add(order.perm_id)
            if not order.filling:
                quote = self._market.quote(order.instrument.symbol)
                touch = quote.ask if order.action == "BUY" else quote.bid
                price = order.lmt_price if order.order_type in ("LMT", "STP LMT") and order.lmt_price else touch
                self._execute(order, order.remaining, price)
            return
        if order.filling:
            order.cancel_requested = True
            return
        self._cancel(order, "Cancelled by Trader")

    def global_cancel(self) -> None:
        for order in self._book.live_orders():
            if order.filling:
                order.cancel_requested = True
            else:
                self._cancel(order, "Cancelled by Trader")  # a no-op for a child its parent took along

    def expire_day_orders(self) -> int:
        """End of the trading day: MOC/LOC orders trade at the close, then DAY orders still working are
        cancelled by the system."""
        for order in self._book.live_orders():
            if order.order_type in AT_THE_CLOSE and not order.filling and not self._links.is_held(order):
                price = closing_price(order, self._market.quote(order.instrument.symbol))
                qty = self._links.workable(order)
                if price is not None and qty > 0:
                    self._execute(order, qty, price)
        expired = [o for o in self._book.live_orders() if o.tif == "DAY" and not o.filling]
        for order in expired:
            self._cancel(order, "Cancelled by System")
        return len(expired)

    def on_market(self, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            for order in sorted(self._book.live_orders(symbol=symbol), key=lambda o: o.placed_at):
                self._match(order, resting=True)
        self._state.market_moved()

    def release_market_orders(self, enabled: bool) -> None:
        self.market_orders_fill = enabled
        if enabled:
            self.on_market({o.instrument.symbol for o in self._book.live_orders()})

    def correct_execution(self, exec_id: str, price: float | None, shares: float | None) -> str:
        original = self._book.execution(exec_id)
        if original is None:
            raise KeyError(f"unknown execId {exec_id!r}")
        new_price = original.price if price is None else float(price)
        new_shares = original.shares if shares is None else float(shares)
        if not (math.isfinite(new_price) and new_price > 0 and new_shares.is_integer() and new_shares > 0):
            raise ValueError("a correction needs a positive price and a positive whole share count")
        sign = 1 if original.side == "BOT" else -1
        holding = self._account.holdings[original.symbol]
        corrected_holding(holding, sign, (original.shares, original.price), (new_shares, new_price))
        self._account.adjust_cash(-sign * (new_shares * new_price - original.shares * original.price))
        cum = original.cum_qty + new_shares - original.shares
        avg = original.avg_price + (new_shares * new_price - original.shares * original.price) / cum if cum else 0.0
        correction = Execution(
            exec_id=self._book.correction_id(exec_id), order_id=original.order_id, perm_id=original.perm_id,
            client_id=original.client_id, symbol=original.symbol, con_id=original.con_id, side=original.side,
            shares=new_shares, price=new_price, cum_qty=cum, avg_price=avg, order_ref=original.order_ref,
            time=now(), account=original.account, exchange=original.exchange, commission=0.0,
            realized_pnl=None, corrects=exec_id,
        )
        self._book.add_execution(correction)
        inst = self._universe.get(original.symbol)
        self._report_execution(original.client_id, msg.exec_details(-1, correction, inst),
                               msg.commission_report(correction))
        self._host.account_changed(original.symbol)
        return correction.exec_id

    async def close(self) -> None:
        self.gtd.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._state.close()

    # --- order life cycle --------------------------------------------------------------------------
    def _reject(self, order: WorkingOrder, code: int, text: str) -> None:
        order.status = "Cancelled"
        order.completed_at = now()
        order.completed_status = text
        self._book.add(order)
        self._state.order_changed(order)
        self._error(order.client_id, order.order_id, code, text)
        self._send(order.client_id, *self._status(order))
        self._links.after_cancel(order)

    def _modify(self, order: WorkingOrder, req: PlaceOrder) -> None:
        cid, oid = order.client_id, order.order_id
        if order.filling:
            self._error(cid, oid, 2102, "Unable to modify this order as it is still being processed.")
            return
        try:
            inst = validate(req, self._universe, self._account.account_id)
            changed = revise(order, req, inst, self.gtd.clock.now())
            if order.transmitted and self._links.parent(order) is None:  # else checked when transmitted
                self._margin.check(changed, replacing=order)
        except OrderRejected as exc:
            self._error(cid, oid, exc.code, exc.text)
            return
        apply_revision(order, changed)
        self.gtd.arm()
        if not order.transmitted:
            if req.transmit:
                self._links.transmit(order)
            else:
                self.announce(order, open_order=True)
            return
        if order.status == "PreSubmitted":
            order.status = self._links.status_for(order)
        self.announce(order, open_order=True)
        self._match(order, resting=False)

    def _cancel(self, order: WorkingOrder, completed_status: str) -> None:
        if order.status in ("Cancelled", "Filled"):
            return  # already taken along with its parent or OCA group
        order.status = "Cancelled"
        order.filling = False
        order.cancel_requested = False
        order.completed_at = now()
        order.completed_status = completed_status
        self._state.order_changed(order)
        self._send(order.client_id, *self._status(order))
        self._error(order.client_id, order.order_id, 202, CANCELED_TEXT)
        self._links.after_cancel(order)

    # --- what the links (linked.py) do through the desk ----------------------------------------------
    def quote_for(self, order: WorkingOrder) -> Quote:
        return self._market.quote(order.instrument.symbol)

    def check_margin(self, order: WorkingOrder) -> None:
        self._margin.check(order)

    def announce(self, order: WorkingOrder, open_order: bool) -> None:
        self._state.order_changed(order)
        self._send(order.client_id, *([msg.open_order(order)] if open_order else []), *self._status(order))

    def match(self, order: WorkingOrder) -> None:
        self._match(order, resting=False)

    def cancel_linked(self, order: WorkingOrder) -> None:
        self._cancel(order, "Cancelled by System")

    def reject(self, order: WorkingOrder, code: int, text: str) -> None:
        self._reject(order, code, text)

    def _cannot_cancel_text(self, order: WorkingOrder) -> str:
        return f"OrderId {order.order_id} that needs to be cancelled cannot be cancelled, state: {order.status}."

    def _what_if(self, client_id: int, req: PlaceOrder) -> None:
        try:
            inst = validate(req, self._universe, self._account.account_id)
        except OrderRejected as exc:
            self._error(client_id, req.order_id, exc.code, exc.text)
            return
        probe = WorkingOrder(
            order_id=req.order_id, client_id=client_id, perm_id=0, instrument=inst, action=req.action,
            total_qty=float(req.total_qty or 0), order_type=req.order_type, lmt_price=req.lmt_price,
            aux_price=req.aux_price, tif=req.tif or "DAY", order_ref=req.order_ref,
            account=self._account.account_id,
        )
        marks = self._margin.mark
        before = self._account.init_margin(marks)
        after = self._account.margin_after(self._margin.exposure_after(probe), marks)
        elv = self._account.net_liquidation(marks)
        commission = commission_for(probe.total_qty, self._config.commission_per_share, self._config.min_commission)
        figures = {
            "initMarginBefore": before, "maintMarginBefore": before, "equityWithLoanBefore": elv,
            "initMarginChange": after - before, "maintMarginChange": after - before, "equityWithLoanChange": 0.0,
            "initMarginAfter": after, "maintMarginAfter": after, "equityWithLoanAfter": elv,
            "commission": commission, "minCommission": commission, "maxCommission": commission,
        }
        what_if = {k: f"{v:.2f}" for k, v in figures.items()}
        what_if["commissionCurrency"] = "USD"
        probe.status = "PreSubmitted"
        self._send(client_id, msg.open_order(probe, what_if=what_if))

    # --- matching and fills ------------------------------------------------------------------------
    def _match(self, order: WorkingOrder, resting: bool) -> None:
        if not order.is_live or order.filling or order.order_type in AT_THE_CLOSE or self._links.is_held(order):
            return
        quote = self._market.quote(order.instrument.symbol)
        if order.is_trailing and not order.triggered and follow(order, quote):
            self._state.order_changed(order)
            self._send(order.client_id, msg.open_order(order))  # TWS reports the moving stop in openOrder
        if order.is_stop and not order.triggered and stop_triggered(order, quote):
            order.triggered = True
            order.status = "Submitted"
            self._state.order_changed(order)
            self._send(order.client_id, *self._status(order))
            # A stop limit that triggers now reaches the market now: it takes the touch within its limit.
            resting = False
        market_like = acts_as_market(order)
        price = None if (market_like and not self.market_orders_fill) else fill_price(order, quote, resting)
        workable = self._links.workable(order)  # a child trades only what its parent has filled
        if order.tif == "IOC":
            qty = 0.0 if price is None else min(workable, displayed_size(order, quote))
            if qty > 0 and price is not None:
                self._execute(order, qty, price, cancel_rest=True)
            else:
                self._cancel(order, "Cancelled")
            return
        if price is not None and workable > 0:
            self._execute(order, workable, price)

    def _execute(self, order: WorkingOrder, qty: float, price: float, cancel_rest: bool = False) -> None:
        chunks = split_quantity(qty, self._config.partial_fills)
        order.filling = True
        drop_after = self._faults.drop_after_executions
        self._faults.drop_after_executions = None
        self._maybe_drop(drop_after, 0, len(chunks))
        if len(chunks) > (1 if self._config.fill_interval > 0 else EXECUTIONS_PER_TURN):
            task = asyncio.get_running_loop().create_task(
                self._run_chunks(order, chunks, price, cancel_rest, drop_after))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        for index, shares in enumerate(chunks):
            if index and order.cancel_requested and order.perm_id not in self._answer_10148:
                break
            self._fill_chunk(order, shares, price)
            self._maybe_drop(drop_after, index + 1, len(chunks))
        self._finish(order, cancel_rest)

    async def _run_chunks(
        self, order: WorkingOrder, chunks: list[float], price: float, cancel_rest: bool, drop_after: int | None,
    ) -> None:
        try:
            interval = self._config.fill_interval
            for index, shares in enumerate(chunks):
                if index:
                    if interval > 0:
                        await asyncio.sleep(interval)
                    elif index % EXECUTIONS_PER_TURN == 0:
                        await self._host.wait_writable(order.client_id)
                    if order.cancel_requested and order.perm_id not in self._answer_10148:
                        break
                if not order.is_live:
                    return
                self._fill_chunk(order, shares, price)
                self._maybe_drop(drop_after, index + 1, len(chunks))
            self._finish(order, cancel_rest)
        except Exception:
            log.exception("fill sequence for order %s failed", order.order_id)
            order.filling = False

    def _maybe_drop(self, drop_after: int | None, done: int, total: int) -> None:
        """Drop the clients once `drop_after` executions of this fill went out (at the latest after the last)."""
        if drop_after is None:
            return
        if done == drop_after or (done == total and drop_after > total):
            self._host.drop_all_connections()

    def _finish(self, order: WorkingOrder, cancel_rest: bool) -> None:
        order.filling = False
        if order.is_live and (cancel_rest or order.cancel_requested):
            self._cancel(order, "Cancelled" if cancel_rest else "Cancelled by Trader")
        elif order.is_live:
            self._links.after_finish(order)  # a child may trade more now, a blocked sibling at all
        if order.perm_id in self._answer_10148 and not order.is_live:
            self._answer_10148.discard(order.perm_id)
            self._error(order.client_id, order.order_id, 10148, self._cannot_cancel_text(order))

    def _fill_chunk(self, order: WorkingOrder, shares: float, price: float) -> None:
        shares = min(shares, order.remaining)  # an OCA group without block may have reduced it meanwhile
        if shares <= 0:
            return
        inst = order.instrument
        before = order.filled
        filled = before + shares
        order.avg_fill_price = (order.avg_fill_price * before + price * shares) / filled
        order.filled = filled
        order.last_fill_price = price
        total_commission = commission_for(filled, self._config.commission_per_share, self._config.min_commission)
        commission = total_commission - order.commission_paid
        order.commission_paid = total_commission
        realized = self._account.apply_fill(inst, order.sign, shares, price, commission)
        when = now()
        if order.remaining <= 1e-9:
            order.status = "Filled"
            order.completed_at = when
            order.completed_status = "Filled"
        else:
            order.status = "Submitted"
        execution = Execution(
            exec_id=self._book.new_exec_id(), order_id=order.order_id, perm_id=order.perm_id,
            client_id=order.client_id, symbol=inst.symbol, con_id=inst.con_id,
            side="BOT" if order.action == "BUY" else "SLD", shares=shares, price=price, cum_qty=filled,
            avg_price=order.avg_fill_price, order_ref=order.order_ref, time=when, account=order.account,
            exchange=inst.exec_venue, commission=commission, realized_pnl=realized,
        )
        self._book.add_execution(execution)
        self._state.order_changed(order)
        details = msg.exec_details(-1, execution, inst)
        report = msg.commission_report(execution)
        status = self._status(order)
        if self._faults.take_lose_report():
            self._send(order.client_id, *status, msg.open_order(order))  # only reqExecutions tells of it now
        else:
            if self._faults.take_status_first():
                self._send(order.client_id, *status, details)
            else:
                self._send(order.client_id, details, *status)
            self._send(order.client_id, msg.open_order(order), report)
            self._copy_to_master(order.client_id, details, report)
        if order.status == "Filled" and self._faults.take_stale_status():
            self._send(order.client_id, msg.order_status(order, status="Submitted", filled=before))
        self._host.account_changed(inst.symbol)
        self._links.after_fill(order, shares, order.total_qty - before)

    # --- output ------------------------------------------------------------------------------------
    def _status(self, order: WorkingOrder) -> list[Fields]:
        fields = msg.order_status(order)
        return [fields, fields] if self._faults.take_duplicate_status() else [fields]

    def _send(self, client_id: int, *messages: Fields) -> None:
        self._state.flush()
        for fields in messages:
            self._host.send_to_client(client_id, fields)

    def _error(self, client_id: int, order_id: int, code: int, text: str) -> None:
        self._state.flush()
        self._host.send_to_client(client_id, msg.error(order_id, code, text))

    def _report_execution(self, owner: int, details: Fields, report: Fields) -> None:
        self._send(owner, details, report)
        self._copy_to_master(owner, details, report)

    def _copy_to_master(self, owner: int, *messages: Fields) -> None:
        """TWS also sends every client's execution reports to the master client id."""
        master = self._config.master_client_id
        if master is not None and master != owner:
            self._send(master, *messages)
