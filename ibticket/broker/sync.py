"""IBKRBroker: the seed's synchronous API for scripts, a thin facade over BrokerCore.

The core runs on an event loop in a thread of its own, so a script's ``time.sleep`` polling loop sees
fills arrive. Calls marshal onto that loop and return copies of the records. Callbacks run, in order, on
a callback thread of their own with a snapshot of the record, so they may call the broker themselves.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ..core.handler import OrderExecutionHandler
from ..core.logger import OrderLogger
from ..core.order import OrderRequest, validate_request
from ..core.records import OrderRecord
from .contracts import ContractInfo
from .core import BrokerCore, ConnectionState
from .dispatch import CallbackDispatcher, snapshot
from .errors import BrokerClosedError, ClientIdInUse, LiveTradingRefused, LogFolderUnwritable
from .market import Quote, SymbolMatch
from .portfolio import AccountValues, Position
from .settings import resolve_settings

log = logging.getLogger(__name__)
T = TypeVar("T")


CLOSED_MESSAGE = "This IBKRBroker is closed; create a new IBKRBroker to trade again"


class IBKRBroker:
    def __init__(
        self,
        paper_trading: bool = True,
        host: str | None = None,
        port: int | None = None,
        client_id: int | None = None,
        use_gateway: bool = False,
        enable_order_execution: bool = True,
        enable_order_logging: bool = True,
        log_dir: str | None = None,
        *,
        allow_live: bool = False,
        embedded: bool | None = None,
        log_to_console: bool = False,
        handler: OrderExecutionHandler | None = None,
        reconnect: bool = True,
        gateway_options: dict[str, Any] | None = None,
        config_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.settings = resolve_settings(
            paper_trading, host, port, client_id, use_gateway, allow_live, embedded, config_dir=config_dir
        )
        self.enable_order_execution = enable_order_execution
        self.order_handler = handler or OrderExecutionHandler()
        # A handler that brings its own logger (its own folder or clock) is the one log this broker reads.
        self.logger = self.order_handler.logger or (
            OrderLogger(log_to_file=True, log_dir=log_dir, log_to_console=log_to_console)
            if enable_order_logging
            else None
        )
        self.order_handler.logger = self.logger
        self._callbacks = CallbackDispatcher()
        self._closed = False
        self._close_lock = threading.Lock()  # a call from another thread is either on the loop or refused
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="ibticket-broker", daemon=True)
        self._thread.start()
        self.core: BrokerCore = self._call(self._make_core(reconnect, gateway_options))
        self.last_error: str | None = None

    def _run_loop(self) -> None:
        # The client library asks the policy for "the loop of this thread", not for the running loop.
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _make_core(self, reconnect: bool, gateway_options: dict[str, Any] | None) -> BrokerCore:
        # The IB object binds to the loop it is created on: create it on the broker's own loop.
        return BrokerCore(self.order_handler, self.settings, reconnect=reconnect, gateway_options=gateway_options)

    def _not_on_loop(self, coro: Coroutine[Any, Any, Any] | None = None) -> None:
        if threading.current_thread() is self._thread:
            if coro is not None:
                coro.close()
            raise RuntimeError("IBKRBroker's blocking API cannot be called from the broker's event loop")

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        self._not_on_loop(coro)
        with self._close_lock:
            if self._closed:
                coro.close()  # never scheduled: close it here, or it warns "never awaited" when collected
                raise BrokerClosedError(CLOSED_MESSAGE)
            future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.CancelledError:
            if self._closed:  # close() cancelled a call still running (e.g. an order waiting for a reconnect)
                raise BrokerClosedError(CLOSED_MESSAGE) from None
            raise

    def _check_open(self) -> None:
        if self._closed:
            raise BrokerClosedError(CLOSED_MESSAGE)

    def _run(self, fn: Callable[[], T]) -> T:
        async def call() -> T:
            return fn()

        return self._call(call())

    # -- connection ----------------------------------------------------------------------------------

    def connect(self, timeout: float = 10.0) -> bool:
        """Connect and reconcile. False (reason in ``last_error``) when IB cannot be reached; a live
        account without ``allow_live=True`` raises ``LiveTradingRefused``, another ibticket on this
        client id and log folder ``ClientIdInUse``, and an order log folder that cannot be written
        ``LogFolderUnwritable``."""
        try:
            self._call(self.core.connect(timeout), timeout + 30)
        except (LiveTradingRefused, ClientIdInUse, LogFolderUnwritable):
            raise  # retrying cannot help: the setup has to change
        except (OSError, TimeoutError, ConnectionError) as exc:
            if self._closed:  # close() on another thread cut this connect short
                raise BrokerClosedError(CLOSED_MESSAGE) from exc
            self.last_error = f"Could not connect to {self.settings.describe()}: {exc or type(exc).__name__}"
            log.warning(self.last_error)
            return False
        self.last_error = None
        return True

    def disconnect(self) -> None:
        if self._closed:
            return
        self._call(self.core.disconnect())

    def close(self) -> None:
        """Disconnect and stop the broker's thread. Any later call raises ``BrokerClosedError``."""
        self._not_on_loop()
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
        self._callbacks.stop()
        if self.logger is not None:
            self.logger.close()

    async def _shutdown(self) -> None:
        await self.core.disconnect()
        # Calls still running (another thread's order waiting for a reconnect) end now, not at their timeout.
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def __enter__(self) -> IBKRBroker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def log_degraded(self) -> bool:
        """The order log cannot be written: what sent orders owe it is kept in memory and written when it
        can be; new orders raise ``OrderLogError`` until then. ``log_status`` says why."""
        return self.order_handler.log_degraded

    @property
    def log_status(self) -> str:
        logger = self.order_handler.logger
        return logger.health_message() if logger is not None else "Order logging is off"

    def is_connected(self) -> bool:
        return self.core.state is ConnectionState.CONNECTED

    @property
    def connection_state(self) -> ConnectionState:
        return self.core.state

    @property
    def port(self) -> int | None:
        return self.core.port

    @property
    def gateway(self) -> Any:
        """The embedded paper gateway, when the broker started one."""
        return self.core.gateway

    # -- orders --------------------------------------------------------------------------------------

    def _require_execution(self) -> None:
        if not self.enable_order_execution:
            raise RuntimeError("order execution is disabled: create IBKRBroker(enable_order_execution=True)")

    def place_order(
        self,
        symbol: str,
        quantity: int,
        side: str,
        order_type: str = "MARKET",
        limit_price: float | None = None,
        stop_price: float | None = None,
        tif: str = "DAY",
        outside_rth: bool = False,
        force: bool = False,
    ) -> OrderRecord | None:
        """Any order type. None when refused as a duplicate (the reason is in ``last_error``)."""
        self._require_execution()
        request = validate_request(symbol, side, quantity, order_type, limit_price, stop_price, tif, outside_rth)
        return self._call(self._submit(request, force))

    async def _submit(self, request: OrderRequest, force: bool) -> OrderRecord | None:
        record = await self.core.submit(request, force)
        self.last_error = self.order_handler.last_refusal if record is None else None
        return snapshot(record) if record is not None else None

    def execute_market_order(self, symbol: str, quantity: int, side: str, **options: Any) -> OrderRecord | None:
        return self.place_order(symbol, quantity, side, "MARKET", **options)

    def execute_limit_order(
        self, symbol: str, quantity: int, limit_price: float, side: str, **options: Any
    ) -> OrderRecord | None:
        return self.place_order(symbol, quantity, side, "LIMIT", limit_price=limit_price, **options)

    def execute_stop_order(
        self, symbol: str, quantity: int, stop_price: float, side: str, **options: Any
    ) -> OrderRecord | None:
        return self.place_order(symbol, quantity, side, "STOP", stop_price=stop_price, **options)

    def execute_stop_limit_order(
        self, symbol: str, quantity: int, stop_price: float, limit_price: float, side: str, **options: Any
    ) -> OrderRecord | None:
        return self.place_order(
            symbol, quantity, side, "STOP_LIMIT", limit_price=limit_price, stop_price=stop_price, **options
        )

    def cancel_order(self, order_id: int) -> OrderRecord:
        self._require_execution()

        async def cancel() -> OrderRecord:
            return snapshot(await self.core.cancel(order_id))

        return self._call(cancel())

    def modify_order(
        self,
        order_id: int,
        quantity: int | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
    ) -> OrderRecord:
        self._require_execution()

        async def modify() -> OrderRecord:
            return snapshot(await self.core.modify(order_id, quantity, limit_price, stop_price))

        return self._call(modify())

    # -- queries -------------------------------------------------------------------------------------

    def get_order_status(self, order_id: int) -> OrderRecord | None:
        def find() -> OrderRecord | None:
            record = self.order_handler.get_order(order_id)
            return snapshot(record) if record is not None else None

        return self._run(find)

    def get_all_orders(self) -> list[OrderRecord]:
        return self._run(lambda: [snapshot(r) for r in self.order_handler.get_all_orders()])

    def get_active_orders(self) -> list[OrderRecord]:
        return self._run(lambda: [snapshot(r) for r in self.order_handler.get_active_orders()])

    def get_order_history(self, order_id: int) -> list[str]:
        """Today's log lines for an order, as JSON text (the spec's ``List[str]``)."""
        self._check_open()
        if self.logger is None:
            return []
        record = self.order_handler.get_order(order_id)
        events = self.logger.get_order_history(order_id)
        if record is not None and record.order_ref:
            # Another client sharing today's log may have used the same order id.
            events = [e for e in events if e.get("order_ref", record.order_ref) == record.order_ref]
        return [json.dumps(event) for event in events]

    def get_todays_order_summary(self) -> dict[str, int | float]:
        self._check_open()
        if self.logger is None:
            return self._run(self.order_handler.summary)
        return self.logger.get_todays_summary()

    # -- market data, positions and account (frozen records; the desktop app uses core.market/.portfolio) -

    def subscribe_market_data(self, symbol: str) -> ContractInfo:
        """Start streaming quotes for ``symbol``; read them with ``get_quote``."""
        return self._call(self.core.market.subscribe(symbol))

    def unsubscribe_market_data(self, symbol: str) -> None:
        self._run(lambda: self.core.market.unsubscribe(symbol))

    def get_quote(self, symbol: str) -> Quote | None:
        return self._run(lambda: self.core.market.quote(symbol))

    def lookup_symbols(self, prefix: str, limit: int = 10) -> list[SymbolMatch]:
        return self._call(self.core.market.lookup(prefix, limit))

    def get_positions(self) -> list[Position]:
        return self._run(self.core.portfolio.positions)

    def get_account_values(self) -> AccountValues | None:
        return self._run(self.core.portfolio.account)

    # -- callbacks (they run, in order, on the broker's callback thread) -----------------------------

    def register_order_fill_callback(self, callback: Callable[[OrderRecord], Any]) -> None:
        self._check_open()
        self.order_handler.register_fill_callback(self._callbacks.wrap("fill", callback))

    def register_order_status_callback(self, callback: Callable[[OrderRecord], Any]) -> None:
        self._check_open()
        self.order_handler.register_status_callback(self._callbacks.wrap("status", callback))

    def register_order_error_callback(self, callback: Callable[[OrderRecord, str], Any]) -> None:
        self._check_open()
        self.order_handler.register_error_callback(self._callbacks.wrap("error", callback))

    def unregister_order_fill_callback(self, callback: Callable[[OrderRecord], Any]) -> None:
        wrapper = self._callbacks.unwrap("fill", callback)
        if wrapper is not None:
            self.order_handler.unregister_fill_callback(wrapper)

    def unregister_order_status_callback(self, callback: Callable[[OrderRecord], Any]) -> None:
        wrapper = self._callbacks.unwrap("status", callback)
        if wrapper is not None:
            self.order_handler.unregister_status_callback(wrapper)

    def unregister_order_error_callback(self, callback: Callable[[OrderRecord, str], Any]) -> None:
        wrapper = self._callbacks.unwrap("error", callback)
        if wrapper is not None:
            self.order_handler.unregister_error_callback(wrapper)
