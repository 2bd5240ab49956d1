"""One client connection: handshake, request dispatch and replies (its output is output.ClientOutput)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Protocol

from . import messages as msg
from .book import WorkingOrder
from .desk import TradingDesk
from .faults import Faults
from .feeds import AccountFeed, FeedSource, QuoteFeed, replay_executions
from .history import History
from .histreq import HistoryRequests
from .mdtype import req_market_data_type
from .messages import Fields
from .netstats import NetworkStats
from .output import ClientOutput
from .protocol import (
    HANDSHAKE_PREFIX,
    SERVER_VERSION,
    ProtocolError,
    encode_fields,
    frame_length,
    negotiate,
    parse_hello,
    split_fields,
)
from .requests import (
    ContractSpec,
    Cursor,
    MalformedRequest,
    parse_cancel_order,
    parse_int,
    parse_place_order,
    parse_req_contract_details,
    parse_req_executions,
    parse_req_mkt_data,
    plain_ints,
    versioned_ints,
)
from .routes import ROUTES
from .services import Services
from .streams import LiveStreams
from .universe import MARKET_RULE_ID, Instrument
from .wiretap import WireTaps

log = logging.getLogger(__name__)


class SessionHost(FeedSource, Protocol):
    """What a connection needs of the gateway that accepted it (``server.PaperGateway``)."""

    stats: NetworkStats
    faults: Faults
    wire_taps: WireTaps
    desk: TradingDesk
    history: History

    def register_client(self, session: ClientSession, client_id: int) -> bool: ...

    def session_ended(self, session: ClientSession) -> None: ...

Reply = Iterator[Fields]

# Requests of one client handled per event-loop turn: a client that pipelines thousands of requests must not
# keep the other clients, the timers or a SIGTERM from their turn.
REQUESTS_PER_TURN = 16
# A long reply (executions, open or completed orders) yields to the loop, and waits while the client's
# output is over the cap, after every so many messages.
MESSAGES_PER_TURN = 256
# "v100..187 +PACEAPI" and the like: the version range is a few dozen bytes.
MAX_HELLO_BYTES = 4096
LINGER_SECONDS = 1.0
CLIENT_ID_IN_USE = "Unable to connect as the client id is already in use. Retry with a unique client id."
FARM_NOTICES = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)


class ClientSession:
    def __init__(self, gateway: SessionHost, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._gw = gateway
        self._reader = reader
        self._writer = writer
        self.peer = writer.get_extra_info("peername")
        self.client_id: int | None = None
        self.version = 0
        self.closed = False
        self._requests_this_turn = 0
        self.quotes = QuoteFeed(gateway, self.send)
        self.account_feed = AccountFeed(gateway, self.send, self.close)
        self.charts = HistoryRequests(gateway.history, self._resolve, self.send)
        self.services = Services(gateway, self.send)
        self.streams = LiveStreams(self._resolve, gateway.market.quote, self.send)
        self.output = ClientOutput(writer, gateway.config, gateway.stats, lambda: gateway.faults.message_delay,
                                   self._name, self.close, self._tap_written)

    # --- lifecycle ---------------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            if await self._handshake():
                await self._serve()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except ProtocolError as exc:
            log.info("closing %s: %s", self._name(), exc)
            self.send(msg.error(-1, 320, f"Error reading request: {exc}"))
            await self.linger()
        except Exception:
            log.exception("session %s failed", self.peer)
        finally:
            self.close()
            self._gw.session_ended(self)

    async def _handshake(self) -> bool:
        """API\\0, the version range, our reply, then startApi: all of it within handshake_timeout."""
        timeout = self._gw.config.handshake_timeout
        try:
            async with asyncio.timeout(timeout):
                prefix = await self._reader.readexactly(len(HANDSHAKE_PREFIX))
                if prefix != HANDSHAKE_PREFIX:
                    raise ProtocolError("connection does not start with API\\0")
                low, high, _options = parse_hello(await self._read_frame(MAX_HELLO_BYTES))
                version = negotiate(low, high)
                if version is None:
                    self.error(-1, 503, f"The paper gateway speaks TWS API server version {SERVER_VERSION} only; "
                                        f"the client offered v{low}..{high}. Please upgrade the client.")
                    return False
                self.version = version
                self.send(msg.handshake_reply(version, time.strftime("%Y%m%d %H:%M:%S %Z")))
                while self.client_id is None and not self.closed:
                    await self._handle(await self._next_request())
        except TimeoutError:
            # A peer that stalls here would hold a connection slot forever.
            self._gw.stats.handshake_timeouts += 1
            log.info("closing %s: no complete handshake within %g s", self._name(), timeout)
            return False
        return not self.closed

    async def _serve(self) -> None:
        while not self.closed:
            payload = await self._next_request()
            if not self.closed:
                await self._handle(payload)

    async def _next_request(self) -> bytes:
        """The next request, read once this client had its share of the loop turn and its output is not
        over the cap: backpressure, the client first takes what it was sent (or is cut, see ClientOutput)."""
        if self._requests_this_turn >= REQUESTS_PER_TURN:
            self._requests_this_turn = 0
            await asyncio.sleep(0)
        while self.output.over_cap and not self.closed:
            await self.output.wait_writable(self.output.cap)
        self._requests_this_turn += 1
        return await self._read_frame(self._gw.config.max_frame_bytes)

    async def _read_frame(self, limit: int) -> bytes:
        """One frame's payload. Waiting for its first byte is idle time, which is not limited after the
        handshake; once it began, the frame must be complete within frame_timeout. A length prefix over
        `limit` is refused at once, before any of the body is read."""
        first = await self._reader.readexactly(1)
        timeout = self._gw.config.frame_timeout
        try:
            async with asyncio.timeout(timeout):
                size = frame_length(first + await self._reader.readexactly(3))
                if size > limit:
                    self._gw.stats.oversized_frames += 1
                    raise ProtocolError(f"a message of {size} bytes exceeds the {limit} byte limit")
                return await self._reader.readexactly(size)
        except TimeoutError:
            self._gw.stats.frame_timeouts += 1
            raise ProtocolError(f"incomplete message: its rest did not arrive within {timeout:g} s") from None

    async def refuse(self, code: int, text: str) -> None:
        """Tell a connection that is not served why, then close it (the server is full)."""
        log.info("refusing %s: %s", self._name(), text)
        try:
            self.error(-1, code, text)
            await self.linger()
        finally:
            self.close()

    async def linger(self) -> None:
        """Before closing on an error: send what is queued, half-close, and drop the peer's input for a moment.

        Closing a socket with unread input makes the kernel reset the connection, and the peer could lose
        the error that explains why. The input is discarded, never buffered.
        """
        self.output.flush()
        with contextlib.suppress(Exception):
            if self._writer.can_write_eof():
                self._writer.write_eof()
            async with asyncio.timeout(LINGER_SECONDS):
                while await self._reader.read(1 << 16):
                    pass

    def close(self) -> None:
        """Close after flushing what is already sent (the peer sees an orderly FIN); delayed frames are lost."""
        if self.closed:
            return
        self.closed = True
        self.account_feed.close()
        self.streams.close()
        self.output.close()

    def _name(self) -> str:
        return f"client {self.client_id}" if self.client_id is not None else f"connection {self.peer}"

    # --- output ------------------------------------------------------------------------------------
    def send(self, fields: Fields) -> None:
        if not self.closed:
            self.output.send(encode_fields(fields))

    def _tap_written(self, frames: list[bytes]) -> None:
        taps = self._gw.wire_taps
        if taps:
            taps.written(self.client_id, frames)

    async def wait_writable(self) -> None:
        """Flush, then wait while the client's output is above the high-water mark (fills call this)."""
        await self.output.wait_writable()

    def error(self, req_id: int, code: int, text: str) -> None:
        self.send(msg.error(req_id, code, text))

    # --- dispatch ----------------------------------------------------------------------------------
    async def _handle(self, payload: bytes) -> None:
        self._gw.stats.requests += 1
        fields = split_fields(payload)
        if self._gw.wire_taps:
            self._gw.wire_taps.request(self.client_id, fields)
        if not fields:
            self.error(-1, 320, "Error reading request: empty message")
            return
        try:
            msg_id = parse_int(fields[0], "message id", default=-1)
        except MalformedRequest:
            self.error(-1, 320, f"Error reading request: invalid message id {fields[0][:20]!r}")
            return
        if self.client_id is None and msg_id != 71:
            self.error(-1, 321, "Error validating request: startApi must be the first request")
            return
        handler = _HANDLERS.get(msg_id)
        if handler is None:
            self.error(-1, 321, f"Error validating request.-'unsupported' : cause - message id {msg_id} "
                                "is not supported by the paper gateway")
            return
        try:
            reply = handler(self, fields)
            if reply is not None:
                await self._stream(reply)
        except MalformedRequest as exc:
            self.error(exc.req_id, 320, f"Error reading request. {exc}")
        except Exception:
            log.exception("request %s from client %s failed", msg_id, self.client_id)
            self.error(-1, 320, f"Error reading request: internal error handling message id {msg_id}")

    async def _stream(self, reply: Reply) -> None:
        """Send a reply of any length without hogging the loop or growing the output past the cap."""
        for count, fields in enumerate(reply, 1):
            if self.closed:
                return
            self.send(fields)
            if count % MESSAGES_PER_TURN == 0:
                await self.output.wait_writable(self.output.cap)

    def _resolve(self, spec: ContractSpec) -> Instrument | None:
        return self._gw.universe.resolve(
            con_id=spec.con_id, symbol=spec.symbol, sec_type=spec.sec_type, currency=spec.currency,
            exchange=spec.exchange, primary_exchange=spec.primary_exchange,
        )

    # --- connection requests -----------------------------------------------------------------------
    def _start_api(self, fields: list[str]) -> None:
        if self.client_id is not None:
            return
        (client_id,) = versioned_ints(fields, "clientId")
        if not self._gw.register_client(self, client_id):
            self.error(-1, 326, CLIENT_ID_IN_USE)
            self.close()
            return
        self.send(msg.managed_accounts(self._gw.account.account_id))
        self.send(msg.next_valid_id(self._gw.book.next_valid_id(client_id)))
        if self._gw.config.farm_status_messages:
            for code, text in FARM_NOTICES:
                self.error(-1, code, text)

    def _req_ids(self, fields: list[str]) -> None:
        self.send(msg.next_valid_id(self._gw.book.next_valid_id(self._cid)))

    def _req_managed_accts(self, fields: list[str]) -> None:
        self.send(msg.managed_accounts(self._gw.account.account_id))

    def _req_current_time(self, fields: list[str]) -> None:
        self.send(msg.current_time(int(time.time())))

    def _ignore(self, fields: list[str]) -> None:
        """Requests that need no answer here (reqAutoOpenOrders, cancels of nothing)."""

    @property
    def _cid(self) -> int:
        assert self.client_id is not None
        return self.client_id

    # --- contracts ---------------------------------------------------------------------------------
    def _req_contract_details(self, fields: list[str]) -> None:
        req = parse_req_contract_details(fields)
        inst = self._resolve(req.contract)
        if inst is None:
            self.error(req.req_id, 200, "No security definition has been found for the request")
            return
        exchange = req.contract.exchange if req.contract.exchange not in ("", "SMART") else "SMART"
        self.send(msg.contract_details(req.req_id, inst, exchange, datetime.now()))
        self.send(msg.contract_details_end(req.req_id))

    def _req_matching_symbols(self, fields: list[str]) -> None:
        c = Cursor(fields)
        req_id = c.int("reqId")
        self.send(msg.symbol_samples(req_id, self._gw.universe.search(c.text("pattern"))))

    def _req_market_rule(self, fields: list[str]) -> None:
        (rule_id,) = plain_ints(fields, "marketRuleId")
        # An unknown rule gets no increments: an error could not name it (the request has no id), and the
        # client would wait for the rule forever.
        self.send(msg.market_rule(rule_id, [(0.0, 0.01)] if rule_id == MARKET_RULE_ID else []))

    # --- market data -------------------------------------------------------------------------------
    def _req_mkt_data(self, fields: list[str]) -> None:
        req = parse_req_mkt_data(fields)
        inst = self._resolve(req.contract)
        if inst is None:
            self.error(req.req_id, 200, "No security definition has been found for the request")
            return
        if req.req_id in self.quotes.market_data:
            self.error(req.req_id, 322, f"Error processing request.-'bN' : cause - Duplicate ticker id {req.req_id}")
            return
        self.quotes.subscribe(req.req_id, inst, req.snapshot)

    def _cancel_mkt_data(self, fields: list[str]) -> None:
        (req_id,) = versioned_ints(fields, "reqId")
        if not self.quotes.cancel(req_id):
            self.error(req_id, 300, f"Can't find EId with tickerId:{req_id}")

    def on_quotes(self, symbols: set[str]) -> None:
        self.quotes.on_quotes(symbols)
        self.charts.on_quotes(symbols)
        self.streams.on_quotes(symbols)

    # --- orders ------------------------------------------------------------------------------------
    def _place_order(self, fields: list[str]) -> None:
        self._gw.desk.place_order(self._cid, parse_place_order(fields))

    def _cancel_order(self, fields: list[str]) -> None:
        self._gw.desk.cancel_order(self._cid, parse_cancel_order(fields).order_id)

    def _global_cancel(self, fields: list[str]) -> None:
        self._gw.desk.global_cancel()

    # The replies that grow with the trading day are generators: _stream sends them with backpressure.
    def _req_open_orders(self, fields: list[str]) -> Reply:
        return _open_orders(self._gw.book.live_orders(client_id=self._cid))

    def _req_all_open_orders(self, fields: list[str]) -> Reply:
        return _open_orders(self._gw.book.live_orders())

    def _req_completed_orders(self, fields: list[str]) -> Reply:
        for order in self._gw.book.done_orders():
            yield msg.completed_order(order, self._gw.book.parent_perm_id(order))
        yield msg.completed_orders_end()

    def _req_executions(self, fields: list[str]) -> Reply:
        return replay_executions(self._gw, self._cid, parse_req_executions(fields))

    # --- account -----------------------------------------------------------------------------------
    def _req_positions(self, fields: list[str]) -> None:
        self.account_feed.start_positions()

    def _cancel_positions(self, fields: list[str]) -> None:
        self.account_feed.stop_positions()

    def _req_account_updates(self, fields: list[str]) -> None:
        c = Cursor(fields)
        c.skip(1)
        subscribe = c.bool("subscribe")
        account_code = c.text("acctCode").strip()
        if account_code and account_code != self._gw.account.account_id:
            self.error(-1, 321, f"Error validating request: unknown account {account_code!r}")
            return
        if subscribe:
            self.account_feed.start_account_updates()
        else:
            self.account_feed.stop_account_updates()

    def _req_account_updates_multi(self, fields: list[str]) -> None:
        c = Cursor(fields)
        c.skip(1)
        req_id = c.int("reqId")
        account_code = c.text("account").strip()
        if account_code and account_code not in (self._gw.account.account_id, "All"):
            self.error(req_id, 321, f"Error validating request: unknown account {account_code!r}")
            return
        self.account_feed.start_multi(req_id)

    def _cancel_account_updates_multi(self, fields: list[str]) -> None:
        (req_id,) = versioned_ints(fields, "reqId")
        self.account_feed.cancel_multi(req_id)

    def _req_account_summary(self, fields: list[str]) -> None:
        c = Cursor(fields)
        c.skip(1)
        req_id = c.int("reqId")
        c.text("group")
        tags = {t.strip() for t in c.text("tags").split(",") if t.strip()}
        account_id = self._gw.account.account_id
        for key, value, currency in self._gw.account_rows():
            if key in tags and currency != "BASE":
                self.send(msg.account_summary(req_id, account_id, key, value, currency))
        self.send(msg.account_summary_end(req_id))

    def _req_pnl(self, fields: list[str]) -> None:
        (req_id,) = plain_ints(fields, "reqId")
        self.account_feed.start_pnl(req_id)

    def _cancel_pnl(self, fields: list[str]) -> None:
        (req_id,) = plain_ints(fields, "reqId")
        self.account_feed.cancel_pnl(req_id)

    def on_account_changed(self, symbol: str) -> None:
        self.account_feed.on_account_changed(symbol)
        self.services.account_moved()

    def prices_moved(self, _arg: object = None) -> None:
        self.account_feed.prices_moved()
        self.services.account_moved()


def _open_orders(orders: list[WorkingOrder]) -> Reply:
    for order in orders:
        yield msg.open_order(order)
        yield msg.order_status(order)
    yield msg.open_order_end()


_HANDLERS: dict[int, Callable[[ClientSession, list[str]], Reply | None]] = {
    **ROUTES,
    1: ClientSession._req_mkt_data,
    2: ClientSession._cancel_mkt_data,
    3: ClientSession._place_order,
    4: ClientSession._cancel_order,
    5: ClientSession._req_open_orders,
    6: ClientSession._req_account_updates,
    7: ClientSession._req_executions,
    8: ClientSession._req_ids,
    9: ClientSession._req_contract_details,
    15: ClientSession._ignore,  # reqAutoOpenOrders
    16: ClientSession._req_all_open_orders,
    17: ClientSession._req_managed_accts,
    49: ClientSession._req_current_time,
    58: ClientSession._global_cancel,
    59: req_market_data_type,
    61: ClientSession._req_positions,
    62: ClientSession._req_account_summary,
    63: ClientSession._ignore,  # cancelAccountSummary: summaries are not streamed
    64: ClientSession._cancel_positions,
    71: ClientSession._start_api,
    76: ClientSession._req_account_updates_multi,
    77: ClientSession._cancel_account_updates_multi,
    81: ClientSession._req_matching_symbols,
    91: ClientSession._req_market_rule,
    92: ClientSession._req_pnl,
    93: ClientSession._cancel_pnl,
    99: ClientSession._req_completed_orders,
}
