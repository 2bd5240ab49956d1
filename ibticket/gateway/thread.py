"""GatewayThread: a PaperGateway on its own event loop thread, with thread-safe controls.

For synchronous code, and for tests of code that runs its own loop (Qt, ib_insync's util.run).
Every method marshals onto the gateway loop and waits until it has been applied there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import TypeVar

from .config import GatewayConfig
from .faults import Faults
from .journal import StateReport
from .records import Execution, OrderView, PositionView, QuoteView
from .server import PaperGateway
from .wiretap import WireTap

T = TypeVar("T")
CALL_TIMEOUT = 10.0


class ThreadSafeFaults:
    """Same methods as faults.Faults, callable from any thread."""

    def __init__(self, owner: GatewayThread) -> None:
        self._owner = owner

    def _faults(self) -> Faults:
        return self._owner.gateway.faults

    def reject_next_order(self, code: int = 201, text: str = "Order rejected - reason:Simulated rejection by the "
                                                             "paper gateway") -> None:
        self._owner.call(lambda: self._faults().reject_next_order(code, text))

    def drop_connections(self, after_executions: int | None = None) -> int:
        return self._owner.call(lambda: self._faults().drop_connections(after_executions))

    def refuse_connections(self, seconds: float) -> None:
        self._owner.call(lambda: self._faults().refuse_connections(seconds))

    def delay_messages(self, seconds: float) -> None:
        self._owner.call(lambda: self._faults().delay_messages(seconds))

    def send_error(self, order_id: int, code: int, text: str, client_id: int | None = None) -> bool:
        return self._owner.call(lambda: self._faults().send_error(order_id, code, text, client_id))

    def status_before_execution(self) -> None:
        self._owner.call(lambda: self._faults().status_before_execution())

    def stale_status_after_fill(self) -> None:
        self._owner.call(lambda: self._faults().stale_status_after_fill())

    def duplicate_next_status(self) -> None:
        self._owner.call(lambda: self._faults().duplicate_next_status())

    def correct_execution(self, exec_id: str, price: float | None = None, shares: float | None = None) -> str:
        return self._owner.call(lambda: self._faults().correct_execution(exec_id, price, shares))

    def fill_after_cancel(self) -> None:
        self._owner.call(lambda: self._faults().fill_after_cancel())

    def lose_next_execution_report(self) -> None:
        self._owner.call(lambda: self._faults().lose_next_execution_report())

    def clear(self) -> None:
        self._owner.call(lambda: self._faults().clear())


class GatewayThread:
    def __init__(self, config: GatewayConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or GatewayConfig()
        self._host = host
        self._requested_port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._gateway: PaperGateway | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self.faults = ThreadSafeFaults(self)

    # --- lifecycle ---------------------------------------------------------------------------------
    def start(self, timeout: float = CALL_TIMEOUT) -> GatewayThread:
        if self._thread is not None:
            raise RuntimeError("gateway thread already started")
        self._thread = threading.Thread(target=self._run, name="ibticket-paper-gateway", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("paper gateway did not start in time")
        if self._startup_error is not None:
            self._thread.join(timeout)
            self._thread = None
            raise self._startup_error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._gateway = PaperGateway(self.config)
            loop.run_until_complete(self._gateway.start(self._host, self._requested_port))
        except BaseException as exc:
            self._startup_error = exc
            if self._gateway is not None:
                # Started nothing, but it may hold the state file (and its lock): let it go.
                loop.run_until_complete(self._gateway.desk.close())
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._gateway.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = CALL_TIMEOUT) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> GatewayThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- marshalling -------------------------------------------------------------------------------
    @property
    def gateway(self) -> PaperGateway:
        """The gateway itself; only touch it from its own loop (see call())."""
        if self._gateway is None:
            raise RuntimeError("gateway thread not started")
        return self._gateway

    def call(self, fn: Callable[[], T], timeout: float = CALL_TIMEOUT) -> T:
        """Run fn on the gateway loop and return its result (or raise its exception)."""
        loop = self._loop
        if loop is None or self._thread is None:
            raise RuntimeError("gateway thread not started")
        if threading.current_thread() is self._thread:
            return fn()
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result(timeout)

    # --- the PaperGateway API, thread-safe ---------------------------------------------------------
    @property
    def host(self) -> str:
        return self.gateway.host

    @property
    def state_report(self) -> StateReport | None:
        """What a damaged state file gave back at start (None when it loaded whole); fixed once started."""
        return self.gateway.state_report

    @property
    def port(self) -> int:
        return self.gateway.port

    def set_price(self, symbol: str, price: float, spread: float = 0.0) -> None:
        self.call(lambda: self.gateway.set_price(symbol, price, spread))

    def set_quote(self, symbol: str, bid: float, ask: float, last: float | None = None,
                  bid_size: int | None = None, ask_size: int | None = None) -> None:
        self.call(lambda: self.gateway.set_quote(symbol, bid, ask, last, bid_size, ask_size))

    def freeze_market(self, frozen: bool = True) -> None:
        self.call(lambda: self.gateway.freeze_market(frozen))

    def step_market(self) -> None:
        self.call(self.gateway.step_market)

    def set_market_orders_fill(self, enabled: bool) -> None:
        self.call(lambda: self.gateway.set_market_orders_fill(enabled))

    def expire_day_orders(self) -> int:
        return self.call(self.gateway.expire_day_orders)

    def advance_clock(self, seconds: float) -> None:
        self.call(lambda: self.gateway.advance_clock(seconds))

    def quote(self, symbol: str) -> QuoteView:
        return self.call(lambda: self.gateway.quote(symbol))

    def executions(self) -> list[Execution]:
        return self.call(self.gateway.executions)

    def orders(self) -> list[OrderView]:
        return self.call(self.gateway.orders)

    def positions(self) -> list[PositionView]:
        return self.call(self.gateway.positions)

    def account_values(self) -> dict[str, str]:
        return self.call(self.gateway.account_values)

    def connected_client_ids(self) -> list[int]:
        return self.call(self.gateway.connected_client_ids)

    def add_wire_tap(self, tap: WireTap) -> None:
        """See PaperGateway.add_wire_tap: the tap is called on the gateway's thread."""
        self.call(lambda: self.gateway.add_wire_tap(tap))

    def remove_wire_tap(self, tap: WireTap) -> None:
        self.call(lambda: self.gateway.remove_wire_tap(tap))
