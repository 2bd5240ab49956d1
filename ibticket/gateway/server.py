"""PaperGateway: the loopback TWS API server tying market, desk, account and client sessions together."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from . import messages as msg
from .account import Account
from .book import OrderBook
from .config import GatewayConfig
from .desk import TradingDesk
from .faults import Faults
from .history import History
from .journal import StateReport
from .market import Market
from .messages import Fields
from .netstats import NetworkStats
from .records import Execution, OrderView, PositionView, QuoteView
from .session import ClientSession
from .universe import Universe
from .wiretap import WireTap, WireTaps

log = logging.getLogger(__name__)

# Connection number max_clients + 1 gets this error, then the connection closes. 502 is what the TWS API
# clients report when they cannot connect.
TOO_MANY_CLIENTS_CODE = 502
TOO_MANY_CLIENTS = ("Couldn't connect: the paper gateway already has {n} API connections open, the most it "
                    "allows (TWS allows 32). Disconnect another API client and try again.")


def check_loopback(host: str) -> str:
    """The address to bind: only loopback is allowed, a paper gateway must never face a network."""
    if host == "localhost":
        return "127.0.0.1"
    refusal = f"refusing to listen on {host!r}: only loopback addresses (127.0.0.0/8, ::1) are allowed"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(refusal) from None
    if not address.is_loopback:
        raise ValueError(refusal)
    return host


class PaperGateway:
    """A simulated TWS/IB Gateway for one paper account. Use it from the event loop that started it."""

    def __init__(self, config: GatewayConfig | None = None) -> None:
        self.config = config or GatewayConfig()
        self.universe = Universe.load(self.config.resources_dir)
        self.market = Market(self.universe, self.config.seed)
        self.account = Account(self.config.account, self.config.start_cash, self.config.initial_margin_rate)
        self.book = OrderBook(self.config.seed)
        self.faults = Faults(self)
        self.desk = TradingDesk(self.config, self.universe, self.market, self.account, self.book, self.faults, self)
        # A damaged state file: what was restored and what was not (str() tells the trader); else None.
        self.state_report: StateReport | None = self.desk.state_report
        # After the desk: the day's history starts from the prices the market has once the state is restored.
        self.history = History(self.universe, self.market, self.config.seed)
        if self.config.tick_interval is None:
            self.market.frozen = True
        self.stats = NetworkStats()
        self.wire_taps = WireTaps()
        self._sessions: set[ClientSession] = set()
        self._clients: dict[int, ClientSession] = {}
        self._server: asyncio.Server | None = None
        self._host = "127.0.0.1"
        self._port = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._account_pusher: asyncio.Task[None] | None = None
        self._relisten: asyncio.Task[None] | None = None
        self._running = False
        # Connections being refused (over max_clients) that still get their explanation.
        self._refusing = 0

    # --- lifecycle ---------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._running:
            raise RuntimeError("gateway already started")
        self._host = check_loopback(host)
        self._server = await asyncio.start_server(self._on_connect, self._host, port)
        self._port = self._server.sockets[0].getsockname()[1]
        self._running = True
        self.desk.gtd.expire_due()  # GTD orders (a saved account's too) expire on time from now on
        loop = asyncio.get_running_loop()
        if self.config.tick_interval is not None:
            self._ticker = loop.create_task(self._tick_loop(self.config.tick_interval))
        if self.config.account_update_interval is not None:
            self._account_pusher = loop.create_task(self._account_loop(self.config.account_update_interval))
        log.info("paper gateway listening on %s:%s", self._host, self._port)

    async def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        for task in (self._ticker, self._relisten, self._account_pusher):
            if task is not None:
                task.cancel()
        server, self._server = self._server, None
        if server is not None:
            server.close()
        # Sessions first: from Python 3.12 on, wait_closed() also waits for open connections. A connection
        # whose client does not take its last messages would hold that up: it is aborted.
        for session in list(self._sessions):
            session.close()
            session.output.abort_unsent()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)
        await self.desk.close()
        tasks = [t for t in (*self._tasks, self._ticker, self._relisten, self._account_pusher) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return self._port

    @property
    def running(self) -> bool:
        return self._running

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        session = ClientSession(self, reader, writer)
        refuse = len(self._sessions) >= self.config.max_clients
        if refuse and self._refusing >= self.config.max_clients:
            # A storm of connections: no explanation for each, just the door.
            self.stats.refused += 1
            session.output.cut_quietly()
            return
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if refuse:
                self.stats.refused += 1
                self._refusing += 1
                try:
                    await session.refuse(TOO_MANY_CLIENTS_CODE, TOO_MANY_CLIENTS.format(n=self.config.max_clients))
                finally:
                    self._refusing -= 1
                return
            self._sessions.add(session)
            self.stats.peak_connections = max(self.stats.peak_connections, len(self._sessions))
            await session.run()
        except asyncio.CancelledError:
            # Swallowed on purpose: asyncio's stream callback calls task.exception(), which raises for a
            # cancelled task and logs a spurious traceback at shutdown.
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _tick_loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                self._publish(set(self.market.step()))
            except Exception:
                log.exception("market tick failed")

    async def _account_loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            for session in list(self._clients.values()):
                self._isolated(session, session.prices_moved, None)

    # --- sessions ----------------------------------------------------------------------------------
    def register_client(self, session: ClientSession, client_id: int) -> bool:
        current = self._clients.get(client_id)
        if current is not None and not current.closed:
            return False
        self._clients[client_id] = session
        session.client_id = client_id
        return True

    def session_ended(self, session: ClientSession) -> None:
        self._sessions.discard(session)
        if session.client_id is not None and self._clients.get(session.client_id) is session:
            del self._clients[session.client_id]

    def network_stats(self) -> NetworkStats:
        """A copy of the network counters (connections, refusals, timeouts, cut clients, peak queued output)."""
        return dataclasses.replace(self.stats)

    def connected_client_ids(self) -> list[int]:
        return sorted(cid for cid, s in self._clients.items() if not s.closed)

    def add_wire_tap(self, tap: WireTap) -> None:
        """Tell `tap` every request read and every write to a client's socket (see wiretap.WireTap)."""
        self.wire_taps.add(tap)

    def remove_wire_tap(self, tap: WireTap) -> None:
        self.wire_taps.remove(tap)

    def send_to_client(self, client_id: int, fields: Fields) -> None:
        session = self._clients.get(client_id)
        if session is not None:
            session.send(fields)

    async def wait_writable(self, client_id: int) -> None:
        """Yield to the loop, and wait while that client's output is above its high-water mark."""
        session = self._clients.get(client_id)
        if session is None or session.closed:
            await asyncio.sleep(0)
        else:
            await session.wait_writable()

    def account_changed(self, symbol: str) -> None:
        """Mark every client's account feed dirty; each pushes at its next flush (see feeds.AccountFeed)."""
        for session in list(self._clients.values()):
            self._isolated(session, session.on_account_changed, symbol)

    def account_rows(self) -> list[tuple[str, str, str]]:
        return self.account.values(self._mark)

    def portfolio_fields(self, symbol: str) -> Fields:
        holding = self.account.holdings[symbol]
        price = self._mark(symbol)
        value = holding.qty * price
        unrealized = value - holding.qty * holding.avg_cost if holding.qty else 0.0
        return msg.portfolio_value(holding.instrument, holding.qty, price, round(value, 2),
                                   round(holding.avg_cost, 6), round(unrealized, 2), round(holding.realized, 2),
                                   self.account.account_id)

    def pnl_fields(self, req_id: int) -> Fields:
        unrealized = self.account.unrealized(self._mark)
        realized = self.account.realized_pnl
        return msg.pnl(req_id, round(unrealized + realized, 2), round(unrealized, 2), round(realized, 2))

    def _mark(self, symbol: str) -> float:
        return self.market.quote(symbol).last

    def _publish(self, symbols: set[str]) -> None:
        if not symbols:
            return
        self.history.record(symbols)
        for session in list(self._clients.values()):
            self._isolated(session, session.on_quotes, symbols)
        self.desk.on_market(symbols)

    @staticmethod
    def _isolated(session: ClientSession, push: Callable[[Any], None], arg: Any) -> None:
        """A push that fails for one client must not keep the others (or the matcher) from their turn."""
        try:
            push(arg)
        except Exception:
            log.exception("push to client %s failed; disconnecting it", session.client_id)
            session.close()

    # --- fault host --------------------------------------------------------------------------------
    def drop_all_connections(self) -> int:
        sessions = list(self._sessions)
        for session in sessions:
            session.close()
            self.session_ended(session)
        return len(sessions)

    def refuse_connections_for(self, seconds: float) -> None:
        if not self._running:
            raise RuntimeError("gateway is not running")
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._relisten is not None:
            self._relisten.cancel()
        self._relisten = asyncio.get_running_loop().create_task(self._listen_again(max(0.0, seconds)))

    async def _listen_again(self, after: float) -> None:
        await asyncio.sleep(after)
        while self._running and self._server is None:
            try:
                self._server = await asyncio.start_server(self._on_connect, self._host, self._port)
            except OSError:
                log.warning("port %s still busy; retrying", self._port)
                await asyncio.sleep(0.1)

    def send_order_error(self, order_id: int, code: int, text: str, client_id: int | None) -> bool:
        fields = msg.error(order_id, code, text)
        if client_id is not None:
            targets = {client_id}
        else:
            targets = {o.client_id for o in self.book.all_orders() if o.order_id == order_id}
        if targets:
            sessions = [self._clients[c] for c in targets if c in self._clients]
        else:
            sessions = list(self._clients.values())
        for session in sessions:
            session.send(fields)
        return bool(sessions)

    def correct_execution(self, exec_id: str, price: float | None, shares: float | None) -> str:
        return self.desk.correct_execution(exec_id, price, shares)

    # --- control (tests, tools) --------------------------------------------------------------------
    def set_price(self, symbol: str, price: float, spread: float = 0.0) -> None:
        """Move bid/ask/last to price (locked unless spread > 0); resting orders that cross trade now."""
        self.market.set_price(self.universe.get(symbol), price, spread)
        self._publish({self.universe.get(symbol).symbol})

    def set_quote(
        self, symbol: str, bid: float, ask: float, last: float | None = None,
        bid_size: int | None = None, ask_size: int | None = None,
    ) -> None:
        inst = self.universe.get(symbol)
        self.market.set_quote(inst, bid, ask, last, bid_size, ask_size)
        self._publish({inst.symbol})

    def freeze_market(self, frozen: bool = True) -> None:
        """Pause (or resume) the autonomous random walk; set_price still works."""
        self.market.frozen = frozen

    def step_market(self) -> None:
        """One random-walk step now, even while frozen."""
        was, self.market.frozen = self.market.frozen, False
        try:
            self._publish(set(self.market.step()))
        finally:
            self.market.frozen = was

    def set_market_orders_fill(self, enabled: bool) -> None:
        self.desk.release_market_orders(enabled)

    def expire_day_orders(self) -> int:
        """The simulated close: MOC/LOC orders trade at the last price, then DAY orders expire."""
        return self.desk.expire_day_orders()

    def advance_clock(self, seconds: float) -> None:
        """Move the gateway's clock forward: GTD orders whose goodTillDate has come are cancelled now."""
        self.desk.gtd.advance(seconds)

    def quote(self, symbol: str) -> QuoteView:
        inst = self.universe.get(symbol)
        q = self.market.quote(inst.symbol)
        return QuoteView(inst.symbol, q.bid, q.ask, q.last, q.bid_size, q.ask_size, q.last_size, q.volume)

    def executions(self) -> list[Execution]:
        return self.book.executions()

    def orders(self) -> list[OrderView]:
        return [o.view() for o in self.book.all_orders()]

    def positions(self) -> list[PositionView]:
        return self.account.positions()

    def account_values(self) -> dict[str, str]:
        return {key: value for key, value, currency in self.account_rows() if currency != "BASE"}
