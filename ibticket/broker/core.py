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
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

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
from .adoption import Adoption
from .contracts import ContractBook, ContractInfo, check_order, check_tick
from .errors import NotConnectedError
from .ib import IB, send_new_order
from .identity import ClientIdLock, hold_client_id, is_client_id_locked
from .market import MarketData
from .messages import OrderMessages, PendingModify
from .orders import build_order
from .portfolio import Portfolio
from .reconcile import (
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


class ConnectionState(StrEnum):
    DISCONNECTED = "Disconnected"
    CONNECTING = "Connecting"
    SYNCING = "Syncing"
    CONNECTED = "Connected"


class BrokerCore(OrderMessages, Adoption):
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
        self._sync = SyncSnapshot()
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

    async def check(self, request: OrderRequest) -> ContractInfo:
        """Refuse what only the broker knows to be wrong (an unknown symbol, a price off the instrument's tick,
        a size off its lot) before anyone is asked about the order. Asks IB only for a symbol not seen yet."""
        if request.legs or request.oca_group:
            raise OrderValidationError("Attached orders and one-cancels-all groups cannot be sent yet")
        if not self.is_connected:  # for a new order and a change alike
            raise NotConnectedError("Not connected to IB: nothing was sent")
        info = await self.contracts.resolve(request.symbol)
        check_order(info, request)
        return info

    async def submit(self, request: OrderRequest, force: bool = False, checked: bool = False) -> OrderRecord | None:
        """Place ``request``; ``checked``: the caller has had it through :meth:`check` (the desk, which checks
        before its prompts). None: refused as a duplicate (reason in ``handler.last_refusal``)."""
        if not self.is_connected:  # also when lost while the trader was answering a prompt
            raise NotConnectedError("Not connected to IB: the order was not sent")
        if not checked:
            await self.check(request)
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

    async def resync(self) -> None:
        """Ask IB again for open orders, today's completed orders and executions, then settle the
        acknowledged orders it no longer reports (after IB's own connectivity returns, or an error that
        left an order's state unknown). Orders still in flight are left alone: they may be mid-write."""
        if self._sync is not None or not self.is_connected:
            return
        self._sync = SyncSnapshot()
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
