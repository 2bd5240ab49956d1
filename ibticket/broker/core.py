"""BrokerCore: the async engine between IB (through ib_insync) and the order handler.

It runs on one asyncio loop (the app's qasync loop, or the sync facade's own thread) and uses only the
library's async calls. The app's state is the handler's records, found by order reference and permId;
the library's Trade objects are never trusted across a disconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..core.errors import ErrorClass, classify
from ..core.events import Event
from ..core.handler import OrderExecutionHandler
from ..core.order import OrderRequest
from ..core.records import BrokerAttempt, OrderRecord, OrderStatus
from ..core.recovery import RestorePlan, plan_restore
from ..core.validation import (
    CancelledBeforeSend,
    OrderValidationError,
    normalize_price,
    normalize_quantity,
)
from .contracts import ContractBook, check_tick
from .errors import NotConnectedError
from .ib import IB, UNSET_DOUBLE, send_new_order
from .identity import ClientIdLock, hold_client_id, is_client_id_locked
from .market import MarketData
from .orders import build_order, map_status, request_from_ib
from .portfolio import Portfolio
from .reconcile import (
    Orphan,
    ReconcileReport,
    SyncSnapshot,
    describe_foreign,
    foreign_orders,
    is_our_ref,
    reconcile,
    ref_prefix,
)
from .restore import find_earlier, read_today
from .settings import ConnectionSettings, check_live_accounts, check_live_port
from .taps import install_taps

log = logging.getLogger(__name__)


def backoff_delays(cap: float, first: float = 1.0) -> Iterator[float]:
    """Seconds to wait before each reconnect attempt: 1, 2, 4 ... up to ``cap``."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, cap)


# A change sent and not yet acknowledged: the new total quantity, limit and stop (None: unchanged).
PendingModify = tuple[int, float | None, float | None]


class ConnectionState(StrEnum):
    DISCONNECTED = "Disconnected"
    CONNECTING = "Connecting"
    SYNCING = "Syncing"
    CONNECTED = "Connected"


class BrokerCore:
    def __init__(
        self,
        handler: OrderExecutionHandler,
        settings: ConnectionSettings,
        *,
        reconnect: bool = True,
        reconnect_cap: float = 30.0,
        order_wait: float = 30.0,
        connect_timeout: float = 10.0,
        gateway_options: dict[str, Any] | None = None,
    ) -> None:
        self.handler = handler
        self.settings = settings
        self.reconnect_enabled = reconnect
        self.reconnect_cap = reconnect_cap
        self.order_wait = order_wait
        self.connect_timeout = connect_timeout
        self._gateway_options = gateway_options or {}
        # The handler's clock, as the log's days are: an order's reference names the day its log begins.
        handler.ref_prefix = ref_prefix(settings.client_id, f"{handler.now():%Y%m%d-%H%M%S}")
        handler.set_place_function(self._place)
        handler.unknown_event.connect(self._on_placement_unknown)
        self.ib = IB()
        install_taps(self.ib.wrapper, self)
        self.ib.disconnectedEvent += self._on_disconnected
        self.contracts = ContractBook(self.ib)
        self.state = ConnectionState.DISCONNECTED
        self.accounts: list[str] = []
        self.gateway: Any = None  # the embedded paper gateway, when no TWS is configured
        self.last_reconcile: str = ""
        self.last_report: ReconcileReport | None = None
        # Unfinished orders of other client ids in today's log: client id -> order refs (see reconcile.py).
        self.foreign_orders: dict[int, list[str]] = {}
        self._id_lock: ClientIdLock | None = None
        self.restore_report: str | None = None  # what the restore from the order log skipped, if anything
        self.gateway_report: str | None = None  # what the embedded gateway restored of a damaged account file
        self.state_event: Event[[ConnectionState]] = Event("connection state")
        self._by_perm: dict[int, tuple[OrderRecord, BrokerAttempt]] = {}
        self._by_order_id: dict[int, tuple[OrderRecord, BrokerAttempt]] = {}
        self._pending_modify: dict[str, PendingModify] = {}
        self._sync: SyncSnapshot | None = None
        self._resync_again = False  # a resync was asked for while a snapshot was under way
        self._restored = False
        self._closing = False
        self._ready: asyncio.Event | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self.next_reconnect_at: float | None = None  # loop time of the next reconnect attempt, for a countdown
        self.reconnect_event: Event[[float]] = Event("reconnect scheduled")  # with next_reconnect_at
        self._tasks: set[asyncio.Task[Any]] = set()
        # Quotes, positions and account values for the window; they resume when the state is Connected.
        self.market = MarketData(self.ib, self.contracts)
        self.portfolio = Portfolio(self.ib)
        self.register_state_callback(self.market.connection_changed)
        self.register_state_callback(self.portfolio.connection_changed)
        # While the order log is degraded, write what it owes every few seconds (see _retry_order_log).
        self.log_retry_interval = 2.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._log_retrying = False
        if handler.logger is not None:
            handler.logger.register_health_callback(self._on_log_health)

    def _on_placement_unknown(self, _record: OrderRecord) -> None:
        if self.is_connected:  # else the next connect's snapshot settles it
            self._spawn(self.resync())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- connection ----------------------------------------------------------------------------------

    def register_state_callback(self, callback: Callable[[ConnectionState], Any]) -> None:
        self.state_event.connect(callback)

    def _set_state(self, state: ConnectionState) -> None:
        if state is self.state:
            return
        self.state = state
        log.info("connection: %s", state.value)
        self.state_event.emit(state)

    def _ready_event(self) -> asyncio.Event:
        if self._ready is None:
            self._ready = asyncio.Event()
        return self._ready

    @property
    def is_connected(self) -> bool:
        return self.state is ConnectionState.CONNECTED and self.ib.isConnected()

    def _log_folder(self) -> Path | None:
        logger = self.handler.logger
        return logger.log_dir if logger is not None and logger.log_to_file else None

    @property
    def port(self) -> int | None:
        if self.settings.embedded:
            return self.gateway.port if self.gateway is not None else None
        return self.settings.port

    async def connect(self, timeout: float | None = None) -> None:
        """Connect, restore today's orders from the log (first time only) and reconcile them with IB."""
        check_live_port(self.settings)
        if self._id_lock is None:  # held from here to disconnect(): one process per client id and log
            self._id_lock = hold_client_id(self._log_folder(), self.settings.client_id)
        self._closing = False
        self._loop = asyncio.get_running_loop()
        if self.handler.log_degraded:
            self._on_log_health(True, "")
        if self.settings.embedded and self.gateway is None:
            await self._start_gateway()
        await self._connect_once(timeout or self.connect_timeout)

    async def _start_gateway(self) -> None:
        from ..gateway import GatewayConfig, GatewayThread

        gateway = GatewayThread(GatewayConfig(**self._gateway_options))
        await asyncio.get_running_loop().run_in_executor(None, gateway.__enter__)
        self.gateway = gateway
        report = gateway.state_report
        self.gateway_report = str(report) if report is not None else None

    async def _connect_once(self, timeout: float) -> None:
        after_restart = not self._restored
        if after_restart:
            # Reading and rebuilding a busy day is seconds of work: in a worker thread, so the window stays
            # live; what it found joins the handler here, on the loop, in a few dict updates.
            restored = await asyncio.get_running_loop().run_in_executor(None, self._restore_from_log)
            if restored is not None:
                self.handler.apply_restore(restored[0])
                self._by_perm.update(restored[1])
            self._restored = True
        self._set_state(ConnectionState.CONNECTING)
        self._sync = SyncSnapshot(unknown=self.handler.placement_unknown())
        host, port = self.settings.host, self.port
        try:
            await self.ib.connectAsync(host, port, clientId=self.settings.client_id, timeout=timeout)
            self.accounts = list(self.ib.managedAccounts())
            check_live_accounts(self.accounts, self.settings.allow_live)
        except BaseException:
            self._sync = None
            self._closing_disconnect()
            self._set_state(ConnectionState.DISCONNECTED)
            raise
        self._set_state(ConnectionState.SYNCING)
        earlier: dict[str, tuple[OrderRecord, date]] = {}
        logger = self.handler.logger
        if self._sync.orphans and logger is not None:
            # Orders of ours IB reports and today's log lacks: look for them in the days they began on, off
            # the loop. The snapshot stays open meanwhile, so what IB says of them now is still collected.
            bases = {orphan.order_ref.rsplit("/", 1)[0] for orphan in self._sync.orphans.values()}
            earlier = await asyncio.get_running_loop().run_in_executor(
                None, find_earlier, logger, bases, self.handler.now().date()
            )
        snapshot, self._sync = self._sync, None
        adopted, carried = self._adopt_orphans(snapshot, earlier)
        self.last_report = reconcile(
            self.handler, snapshot, after_restart=after_restart, adopted=adopted, carried=carried,
            foreign=self.foreign_orders,
        )
        self.last_reconcile = str(self.last_report)
        self._set_state(ConnectionState.CONNECTED)
        self._ready_event().set()

    def _closing_disconnect(self) -> None:
        closing, self._closing = self._closing, True
        try:
            self.ib.disconnect()
        finally:
            self._closing = closing

    def _restore_from_log(self) -> tuple[RestorePlan, dict[int, tuple[OrderRecord, BrokerAttempt]]] | None:
        """Runs in a worker thread (see _connect_once): it reads the log and the handler, and changes neither;
        the handler adopts the plan it returns on the loop, and the attempts IB acknowledged are found by their
        permId too (IB's id for an order, whatever its reference)."""
        logger = self.handler.logger
        if logger is None:
            return None
        # Today's day, and the earlier days its orders began on: each read and rebuilt in one streaming pass.
        day = read_today(logger, self.handler.now().date())
        self.restore_report = day.report  # bad lines are skipped, never fatal: say which
        if self.restore_report:
            log.warning("order log: %s", self.restore_report)
        known = {r.order_ref for r in self.handler.get_all_orders()}
        # Only this client's orders: another client id sharing the log manages (and reconciles) its own.
        records = [
            r
            for r in day.orders
            if is_our_ref(r.order_ref, self.settings.client_id) and r.order_ref not in known
        ]
        # ... but IB tells only that client id about them: say so when no running ibticket is that client.
        self.foreign_orders = foreign_orders(
            day.orders, self.settings.client_id, lambda owner: is_client_id_locked(logger.log_dir, owner)
        )
        if self.foreign_orders:
            log.warning("%s", describe_foreign(self.foreign_orders, self.settings.client_id))
        by_perm = {a.perm_id: (r, a) for r in records for a in r.attempts if a.perm_id}
        return plan_restore(records, next_order_id=day.next_order_id, noted=day.noted), by_perm

    def _index_attempts(self, record: OrderRecord) -> None:
        """Find a restored order's attempts by permId too (IB's id for an order, whatever its reference)."""
        for attempt in record.attempts:
            if attempt.perm_id:
                self._by_perm[attempt.perm_id] = (record, attempt)

    async def disconnect(self) -> None:
        self._closing = True
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reconnect_task
            self._reconnect_task = None
        for task in list(self._tasks):
            task.cancel()
        self.handler.cancel_all_retries()
        self.ib.disconnect()
        self._ready_event().clear()
        self._set_state(ConnectionState.DISCONNECTED)
        if self._id_lock is not None:
            self._id_lock.release()
            self._id_lock = None
        if self.gateway is not None:
            gateway, self.gateway = self.gateway, None
            await asyncio.get_running_loop().run_in_executor(None, gateway.__exit__, None, None, None)

    def _on_disconnected(self) -> None:
        was = self.state
        self._ready_event().clear()
        self._set_state(ConnectionState.DISCONNECTED)
        # Only the loss of an established session reconnects; a failed connect() is the caller's to retry.
        if self._closing or not self.reconnect_enabled or was not in (
            ConnectionState.CONNECTED, ConnectionState.SYNCING
        ):
            return
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        delays = backoff_delays(self.reconnect_cap)
        delay = next(delays)
        loop = asyncio.get_running_loop()
        while not self._closing:
            self.next_reconnect_at = loop.time() + delay
            self.reconnect_event.emit(self.next_reconnect_at)
            await asyncio.sleep(delay)
            self.next_reconnect_at = None
            if self._closing:
                return
            try:
                # The same client id: only it can manage the orders placed under it.
                await self._connect_once(self.connect_timeout)
                return
            except Exception as exc:
                delay = next(delays)
                log.warning("reconnect to %s failed: %s; next try in %.0f s", self.settings.describe(), exc, delay)

    async def wait_connected(self, timeout: float) -> None:
        if self.is_connected:
            return
        if self._closing or (not self.reconnect_enabled and self.state is ConnectionState.DISCONNECTED):
            raise NotConnectedError("Not connected to IB")
        try:
            await asyncio.wait_for(self._ready_event().wait(), timeout)
        except TimeoutError:
            raise NotConnectedError(f"Not connected to IB (waited {timeout:.0f} s)") from None

    # -- the order log -------------------------------------------------------------------------------

    def _on_log_health(self, degraded: bool, message: str) -> None:
        # Called in the thread that noticed (the loop's, for the handler's writes).
        if degraded and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._start_log_retry)

    def _start_log_retry(self) -> None:
        if not self._log_retrying:
            self._log_retrying = True
            self._spawn(self._retry_order_log())

    async def _retry_order_log(self) -> None:
        """Write what the degraded log owes, in order, until it can (new orders also try, first)."""
        logger = self.handler.logger
        try:
            while logger is not None and logger.degraded and not self._closing:
                await asyncio.sleep(self.log_retry_interval)
                logger.retry()
        finally:
            self._log_retrying = False

    # -- orders --------------------------------------------------------------------------------------

    async def submit(self, request: OrderRequest, force: bool = False) -> OrderRecord | None:
        """Check what only the broker knows (the instrument's tick), then place. None: refused as a
        duplicate (reason in ``handler.last_refusal``)."""
        if request.legs or request.oca_group:
            raise OrderValidationError("Attached orders and one-cancels-all groups cannot be sent yet")
        if not self.is_connected:
            raise NotConnectedError("Not connected to IB: the order was not sent")
        info = await self.contracts.resolve(request.symbol)
        if request.limit_price is not None:
            check_tick(info, request.limit_price, "Limit price")
        if request.stop_price is not None:
            check_tick(info, request.stop_price, "Stop price")
        record = self.handler.create(request, force=force)
        if record is not None:
            await self.handler.place(record)
        return record

    async def _place(self, record: OrderRecord, attempt: BrokerAttempt) -> None:
        """The handler's place function, for first attempts and retries alike."""
        await self.wait_connected(self.order_wait)
        info = await self.contracts.resolve(record.symbol)
        if record.cancel_requested:
            # Cancelled while this placement waited (e.g. for a reconnect): nothing has been written.
            raise CancelledBeforeSend
        order = build_order(record, attempt)
        order.orderId = self.ib.client.getReqId()
        # Known before the write, so an answer that comes at once finds its record.
        attempt.order_id = order.orderId
        self._by_order_id[attempt.order_id] = (record, attempt)
        send_new_order(self.ib, info.contract, order)

    async def cancel(self, order_id: int) -> OrderRecord:
        record = self._record(order_id)
        if record.status.is_terminal:
            raise OrderValidationError(f"Order #{order_id} is already {record.status.value}")
        live = record.status in (OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED) or record.acknowledged
        if live and not self.is_connected:
            raise NotConnectedError("Not connected to IB: the cancel was not sent")
        if self.handler.request_cancel(order_id):
            # The low-level call: the library refuses to cancel a trade it has wrongly marked done.
            self.ib.client.cancelOrder(record.attempts[-1].order_id, "")
        return record

    async def modify(
        self,
        order_id: int,
        quantity: int | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> OrderRecord:
        """Change a working order's quantity or prices: placeOrder again under the same order id."""
        record = self._record(order_id)
        if record.status not in (OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED) or not record.attempts:
            raise OrderValidationError(f"Order #{order_id} is {record.status.value}; only working orders can change")
        if limit_price is not None and record.limit_price is None:
            raise OrderValidationError(f"Order #{order_id} has no limit price to change")
        if stop_price is not None and record.stop_price is None:
            raise OrderValidationError(f"Order #{order_id} has no stop price to change")
        info = await self.contracts.resolve(record.symbol)
        total = normalize_quantity(quantity) if quantity is not None else record.total_quantity
        if total <= record.filled_quantity:
            raise OrderValidationError(
                f"New quantity {total} must be above the {record.filled_quantity} shares already filled"
            )
        if limit_price is not None:
            limit_price = normalize_price(limit_price, "Limit price")
            check_tick(info, limit_price, "Limit price")
        if stop_price is not None:
            stop_price = normalize_price(stop_price, "Stop price")
            check_tick(info, stop_price, "Stop price")
        if not self.is_connected:
            raise NotConnectedError("Not connected to IB: the change was not sent")
        attempt = record.attempts[-1]
        # Earlier attempts' fills count toward the total; this attempt carries the rest.
        attempt_qty = total - (record.total_quantity - attempt.quantity)
        order = build_order(record, attempt, attempt_qty, limit_price, stop_price)
        self._pending_modify[attempt.order_ref] = (total, limit_price, stop_price)
        self.ib.client.placeOrder(attempt.order_id, info.contract, order)
        return record

    def _record(self, order_id: int) -> OrderRecord:
        record = self.handler.get_order(order_id)
        if record is None:
            raise OrderValidationError(f"There is no order #{order_id}")
        return record

    # -- message taps --------------------------------------------------------------------------------

    def _lookup(
        self, order_ref: str = "", perm_id: int = 0, order_id: int = 0, client_id: int | None = None
    ) -> tuple[OrderRecord, BrokerAttempt] | None:
        found = self.handler.find_attempt(order_ref) if order_ref else None
        if found is None and perm_id:
            found = self._by_perm.get(perm_id)
        if found is None and order_id and client_id == self.settings.client_id:
            found = self._by_order_id.get(order_id)
        if found is not None:
            attempt = found[1]
            if perm_id and not attempt.perm_id:
                attempt.perm_id = perm_id
            if perm_id:
                self._by_perm[perm_id] = found
        return found

    def on_openOrder(self, order_id: int, contract: Any, order: Any, state: Any) -> None:
        if getattr(order, "whatIf", False):
            return
        found = self._lookup(order.orderRef, order.permId, order_id, order.clientId)
        if found is None:
            self._note_orphan(contract, order, state.status)
            return
        record, attempt = found
        if order.clientId == self.settings.client_id and order_id:
            attempt.order_id = attempt.order_id or order_id
            self._by_order_id[order_id] = found
        if self._sync is not None:
            self._sync.open_status[attempt.order_ref] = state.status
        pending = self._pending_modify.get(attempt.order_ref)
        if pending is not None:
            self._apply_modify_ack(record, attempt, order, pending)
        mapped = map_status(state.status)
        if mapped is not None and mapped is not OrderStatus.FILLED:
            self.handler.handle_status(record.order_id, mapped, broker_order_id=attempt.order_id)

    def _apply_modify_ack(
        self, record: OrderRecord, attempt: BrokerAttempt, order: Any, pending: PendingModify
    ) -> None:
        total, limit, stop = pending
        attempt_qty = int(order.totalQuantity)
        earlier = record.total_quantity - attempt.quantity
        if attempt_qty + earlier != total:
            return
        if limit is not None and abs(order.lmtPrice - limit) > 1e-9:
            return
        if stop is not None and abs(order.auxPrice - stop) > 1e-9:
            return
        del self._pending_modify[attempt.order_ref]
        attempt.quantity = attempt_qty
        self.handler.amend(record.order_id, total, limit, stop)

    def on_orderStatus(self, order_id: int, status: str, filled: float, remaining: float, avg_price: float,
                       perm_id: int, parent_id: int, last_price: float, client_id: int, why_held: str,
                       *rest: Any) -> None:
        found = self._lookup("", perm_id, order_id, client_id)
        if found is None:
            return
        record, attempt = found
        if self._sync is not None and attempt.order_ref in self._sync.open_status:
            self._sync.open_status[attempt.order_ref] = status
        mapped = map_status(status, why_held)
        if mapped is not None:
            message = f"IB status {status}" + (f" (held: {why_held})" if why_held else "")
            self.handler.handle_status(record.order_id, mapped, message, broker_order_id=attempt.order_id)

    def on_completedOrder(self, contract: Any, order: Any, state: Any) -> None:
        found = self._lookup(order.orderRef, order.permId)
        if found is None:
            self._note_orphan(contract, order, state.status)
            return
        record, attempt = found
        if self._sync is not None:
            self._sync.completed_status[attempt.order_ref] = state.status
        mapped = map_status(state.status)
        if mapped is not None:
            reason = getattr(state, "completedStatus", "") or f"IB reports the order {state.status}"
            self.handler.handle_status(record.order_id, mapped, reason, broker_order_id=attempt.order_id)

    def on_execDetails(self, req_id: int, contract: Any, execution: Any) -> None:
        found = self._lookup(execution.orderRef, execution.permId, execution.orderId, execution.clientId)
        if self._sync is not None and execution.orderRef:
            self._sync.executed_refs.add(execution.orderRef)
        if found is None:
            orphan = self._sync.orphans.get(execution.orderRef) if self._sync is not None else None
            if orphan is not None:
                orphan.executions.append((req_id, contract, execution))
            return
        record, _ = found
        when = execution.time
        if isinstance(when, datetime) and when.tzinfo is not None:
            when = when.astimezone().replace(tzinfo=None)
        self.handler.handle_fill(
            record.order_id, execution.shares, execution.price, exec_id=execution.execId,
            timestamp=when if isinstance(when, datetime) else None,
        )

    def on_commissionReport(self, report: Any) -> None:
        commission = report.commission
        if commission is None or commission >= UNSET_DOUBLE:
            return
        self.handler.handle_commission(report.execId, commission)

    def on_error(self, req_id: int, code: int, message: str, *rest: Any) -> None:
        if req_id is None or req_id <= 0:
            if code in (1101, 1102) and self.is_connected:
                log.info("IB connectivity restored (%s); re-syncing orders", code)
                self._spawn(self.resync())
            return
        found = self._by_order_id.get(req_id)
        if found is None:
            return  # a market-data or contract request, not an order
        record, attempt = found
        kind = classify(code, message)
        if attempt.order_ref in self._pending_modify and kind not in (ErrorClass.INFO, ErrorClass.CANCEL_CONFIRM):
            # An error answering a modify is about the modify: the original order stays live as it was.
            del self._pending_modify[attempt.order_ref]
            self.handler.handle_request_rejected(record.order_id, code, f"Change refused: {message}")
            return
        if record.attempts and attempt is not record.attempts[-1]:
            log.info("error %s for earlier attempt %s of order #%s: %s", code, req_id, record.order_id, message)
            return
        self.handler.handle_error(record.order_id, code, message)
        if kind is ErrorClass.RETRYABLE and attempt.perm_id and self.is_connected:
            # IB had acknowledged the order, so it was not resubmitted: ask IB what became of it.
            self._spawn(self.resync())

    async def resync(self) -> None:
        """Ask IB again for open orders, today's completed orders and executions, then settle the
        acknowledged orders it no longer reports (after IB's own connectivity returns, or an error that
        left an order's state unknown). Orders still in flight are left alone: they may be mid-write."""
        if not self.is_connected:
            return
        if self._sync is not None:
            # That snapshot may have been asked for before what this resync is for (an order just sent).
            self._resync_again = True
            return
        self._sync = SyncSnapshot(unknown=self.handler.placement_unknown())
        try:
            await self.ib.reqOpenOrdersAsync()
            await self.ib.reqCompletedOrdersAsync(False)
            await self.ib.reqExecutionsAsync()
        except Exception as exc:
            log.warning("re-sync with IB failed: %s", exc)
            return
        finally:
            snapshot, self._sync = self._sync, None
        if self.is_connected:
            self.last_reconcile = str(
                reconcile(self.handler, snapshot, after_restart=False, only_acknowledged=True)
            )
        if self._resync_again:
            self._resync_again = False
            await self.resync()

    # -- orphans: ours at IB, unknown here -----------------------------------------------------------

    def _note_orphan(self, contract: Any, order: Any, status: str) -> None:
        if self._sync is None or not is_our_ref(order.orderRef, self.settings.client_id):
            return
        if order.orderRef in self._sync.orphans:
            self._sync.orphans[order.orderRef].status = status
            return
        request = request_from_ib(contract, order)
        if request is None:
            log.warning("IB reports order %s of this client, which the app cannot show: %s %s %s %s",
                        order.orderRef, order.action, order.totalQuantity, contract.symbol, order.orderType)
            return
        self._sync.orphans[order.orderRef] = Orphan(order.orderRef, request, order.orderId, order.permId, status)

    def _adopt_orphans(
        self, snapshot: SyncSnapshot, earlier: dict[str, tuple[OrderRecord, date]]
    ) -> tuple[int, int]:
        """Take in this client's orders that IB reports and today's log does not mention: rebuilt from the
        earlier day they began on when the log has them (``earlier``, see ``restore.find_earlier``: carried),
        else adopted from what IB says. Returns (adopted, carried)."""
        adopted = carried = 0
        for orphan in snapshot.orphans.values():
            found = earlier.get(orphan.order_ref.rsplit("/", 1)[0])
            if found is not None and found[0].status.is_terminal and map_status(orphan.status) in (
                OrderStatus.FILLED, OrderStatus.CANCELLED
            ):
                continue  # finished on an earlier day, as IB says too: not today's business
            if found is not None:
                record, attempt = self._carry(orphan, *found)
                carried += 1
            else:
                record, attempt = self._adopt(orphan)
                adopted += 1
            self._by_perm[orphan.perm_id] = (record, attempt)
            if orphan.order_id:
                self._by_order_id[orphan.order_id] = (record, attempt)
            snapshot.open_status.setdefault(orphan.order_ref, orphan.status)
            for req_id, contract, execution in orphan.executions:
                self.on_execDetails(req_id, contract, execution)
            mapped = map_status(orphan.status)
            if mapped is OrderStatus.CANCELLED:
                self.handler.handle_status(record.order_id, mapped, "IB reports the order cancelled")
        return adopted, carried

    def _carry(self, orphan: Orphan, record: OrderRecord, day: date) -> tuple[OrderRecord, BrokerAttempt]:
        attempt = next((a for a in record.attempts if a.order_ref == orphan.order_ref), None)
        if attempt is None:  # an attempt whose line was lost: IB's word is all there is
            attempt = BrokerAttempt(orphan.order_ref, orphan.request.quantity - record.filled_quantity)
            record.attempts.append(attempt)
        attempt.order_id = orphan.order_id or attempt.order_id
        attempt.perm_id = orphan.perm_id or attempt.perm_id
        self.handler.carry(record, day)
        self._index_attempts(record)
        return record, attempt

    def _adopt(self, orphan: Orphan) -> tuple[OrderRecord, BrokerAttempt]:
        record = orphan.request.new_record(
            0, status=OrderStatus.SUBMITTED, order_ref=orphan.order_ref.rsplit("/", 1)[0],
            submission_time=self.handler.now(),
            attempts=[BrokerAttempt(orphan.order_ref, orphan.request.quantity, orphan.order_id, orphan.perm_id)],
        )
        self.handler.adopt(record)
        return record, record.attempts[0]
