"""One trading session: the order log, the handler and the broker engine for one connection (Qt-free).

The window owns one ``TradingSession`` at a time; switching connection (File -> Connect...) ends it and
starts another. Importing this module imports the broker layer (ib_insync and numpy with it), which is
why the app imports it only after the window is on screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..broker import (
    BrokerCore,
    ClientIdInUse,
    ConnectionState,
    LiveTradingRefused,
    LogFolderUnwritable,
    resolve_settings,
)
from ..broker.core import backoff_delays
from ..broker.settings import LIVE_PORTS, ConnectionSettings
from ..core import OrderExecutionHandler, OrderLogger
from ..core.events import Event
from . import gcpolicy
from .connection import ConnectionChoice

log = logging.getLogger(__name__)

SIM_STATE_FILE = "paper-account.json"
# The library decodes everything one socket read returned in a single loop callback, and asyncio reads up
# to 256 KiB at a time: during a burst of fills that held the GUI loop 100-300 ms per read. Reads of 8 KiB
# (about 30 executions) keep a callback near 5 ms; the rest waits in the kernel's socket buffer
# (bench/window_bench.py, docs/benchmarks.md).
READ_CHUNK = 8 << 10


class ConnectionPhase:
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class ConnectionStatus:
    phase: str
    where: str  # host:port or "embedded gateway 127.0.0.1:port"
    badge: str  # SIMULATED | PAPER | LIVE
    account: str = ""
    message: str = ""
    # Loop time (asyncio's clock) of the next connection attempt while reconnecting, for a countdown.
    next_attempt_at: float | None = None


class TradingSession:
    def __init__(
        self,
        choice: ConnectionChoice,
        *,
        log_dir: Path | None,
        data_dir: Path,
        sim_reset: bool = False,
        gateway_options: dict[str, Any] | None = None,
    ) -> None:
        self.choice = choice
        self.data_dir = data_dir
        self.logger = OrderLogger(log_dir=log_dir, log_to_console=False)
        self.handler = OrderExecutionHandler(logger=self.logger)
        self.settings = self._settings(choice)
        options: dict[str, Any] = dict(gateway_options or {})
        if self.settings.embedded:
            options.setdefault("state_path", data_dir / SIM_STATE_FILE)
            if sim_reset:
                options.setdefault("reset_state", True)
        # A short connect timeout: ib_insync reports some refusals (326, client id in use) only by timing out.
        self.core = BrokerCore(self.handler, self.settings, gateway_options=options, connect_timeout=6.0)
        bound_reads(self.core, READ_CHUNK)
        gcpolicy.hold()
        self._holding_gc = True
        self.status_event: Event[[ConnectionStatus]] = Event("connection status")
        self.status = ConnectionStatus(ConnectionPhase.DISCONNECTED, self._where(), self._badge())
        self._next_attempt_at: float | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        # Why the session gave up without retrying (the window tells a second instance apart by it).
        self.refusal: Exception | None = None
        self.core.register_state_callback(self._on_core_state)
        self.core.reconnect_event.connect(self._on_reconnect_scheduled)

    @staticmethod
    def _settings(choice: ConnectionChoice) -> ConnectionSettings:
        if choice.mode == "sim":
            return resolve_settings(paper_trading=True, client_id=choice.client_id, embedded=True)
        return resolve_settings(
            paper_trading=not choice.allow_live, host=choice.host, port=choice.port,
            client_id=choice.client_id, allow_live=choice.allow_live, embedded=False,
        )

    # -- status ----------------------------------------------------------------------------------------

    def add_listener(self, callback: Callable[[ConnectionStatus], Any]) -> None:
        """Hear every status from now on, starting with the current one."""
        self.status_event.connect(callback)
        callback(self.status)

    def _publish(self, phase: str, message: str = "") -> None:
        self.status = ConnectionStatus(
            phase, self._where(), self._badge(), ", ".join(self.core.accounts), message,
            self.next_attempt_at if phase == ConnectionPhase.RECONNECTING else None,
        )
        self.status_event.emit(self.status)

    def _where(self) -> str:
        if self.settings.embedded:
            port = self.core.port
            return f"embedded gateway 127.0.0.1:{port}" if port else "embedded gateway"
        return f"{self.settings.host}:{self.settings.port}"

    def _badge(self) -> str:
        if self.settings.embedded:
            return "SIMULATED"
        live_account = any(not a.upper().startswith("D") for a in self.core.accounts)
        if live_account or self.settings.port in LIVE_PORTS or not self.settings.paper_trading:
            return "LIVE"
        return "PAPER"

    def _on_reconnect_scheduled(self, at: float) -> None:
        # The broker's own reconnect loop chose its next attempt: the countdown shows it.
        if self.status.phase == ConnectionPhase.RECONNECTING:
            self._publish(ConnectionPhase.RECONNECTING, self.status.message)

    def _on_core_state(self, state: ConnectionState) -> None:
        if state is ConnectionState.CONNECTED:
            self._next_attempt_at = None
            self._publish(ConnectionPhase.CONNECTED, self.core.last_reconcile)
        elif state is ConnectionState.DISCONNECTED and not self._stopping:
            # The broker starts its reconnect loop right after telling us, for a session that was up.
            will_retry = self.core.reconnect_enabled and self.status.phase in (
                ConnectionPhase.CONNECTED, ConnectionPhase.RECONNECTING)
            self._publish(ConnectionPhase.RECONNECTING if will_retry or self._reconnecting()
                          else ConnectionPhase.DISCONNECTED)
        elif state in (ConnectionState.CONNECTING, ConnectionState.SYNCING) and self.status.phase not in (
            ConnectionPhase.RECONNECTING,
        ):
            self._publish(ConnectionPhase.CONNECTING)

    def _reconnecting(self) -> bool:
        task = getattr(self.core, "_reconnect_task", None)
        return task is not None and not task.done()

    @property
    def next_attempt_at(self) -> float | None:
        """Loop time of the next connection attempt: ours before the first connect, the broker's after."""
        return self._next_attempt_at or self.core.next_reconnect_at

    # -- running ---------------------------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Connect in the background, retrying with backoff until connected or stopped."""
        self._runner = asyncio.get_running_loop().create_task(self._connect_until_done())
        return self._runner

    async def _connect_until_done(self) -> None:
        delays = backoff_delays(30.0)
        loop = asyncio.get_running_loop()
        while not self._stopping:
            self.refusal = None
            self._publish(ConnectionPhase.CONNECTING)
            try:
                await self.core.connect()
                return
            except (LiveTradingRefused, ClientIdInUse) as exc:
                # Retrying cannot help: the trader must choose another connection or client id.
                self.refusal = exc
                self._publish(ConnectionPhase.DISCONNECTED, str(exc))
                return
            except LogFolderUnwritable as exc:
                self.refusal = exc
                # Not a connection failure: no order could be logged before it is sent. The log's health
                # says so too, until a reconnect (Ctrl+R) finds the folder writable.
                self.logger.report_unwritable(exc.cause)
                self._publish(ConnectionPhase.DISCONNECTED, f"{str(exc).rstrip('.')} (File → Reconnect now).")
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = next(delays)
                self._next_attempt_at = loop.time() + delay
                reason = str(exc) or type(exc).__name__
                self._publish(ConnectionPhase.RECONNECTING, f"Could not connect to {self._where()}: {reason}")
                await asyncio.sleep(delay)

    async def reconnect_now(self) -> None:
        if self.core.is_connected or self._stopping:
            return
        if self._runner is not None and not self._runner.done():
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        self.start()

    async def stop(self) -> None:
        self._stopping = True
        if self._runner is not None and not self._runner.done():
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
        try:
            await self.core.disconnect()
        finally:
            self.logger.close()
            if self._holding_gc:
                self._holding_gc = False
                gcpolicy.release()
            self._publish(ConnectionPhase.DISCONNECTED)


def unstarted(choice: ConnectionChoice, exc: Exception) -> ConnectionStatus:
    """The status of a session that could not even be set up (e.g. IBTICKET_CLIENT_ID=abc)."""
    text = f"Cannot connect to the {choice.describe()}: {exc}"
    log.error("%s", text)
    where = "embedded gateway" if choice.mode == "sim" else f"{choice.host}:{choice.port}"
    return ConnectionStatus(ConnectionPhase.DISCONNECTED, where, "SIMULATED" if choice.mode == "sim" else "PAPER",
                            message=text)


def bound_reads(core: BrokerCore, size: int) -> None:
    """Make every connection of ``core`` read at most ``size`` bytes per socket read (see READ_CHUNK)."""
    protocol = core.ib.client.conn  # the library's asyncio.Protocol; each connect makes a new transport
    made = protocol.connection_made

    def connection_made(transport: Any) -> None:
        if hasattr(transport, "max_size"):  # asyncio's selector transports; others keep their own size
            transport.max_size = size
        made(transport)

    protocol.connection_made = connection_made


__all__ = ["ConnectionChoice", "ConnectionPhase", "ConnectionStatus", "TradingSession"]
