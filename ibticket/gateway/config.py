"""Settings of one paper gateway instance."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path


@dataclass
class GatewayConfig:
    """Everything that shapes the simulation; the defaults give a quiet, deterministic-enough paper account."""

    seed: int = 1
    # Seconds between autonomous random-walk steps; None means prices move only through set_price/set_quote.
    tick_interval: float | None = 0.25
    # Each fill is split into this many executions (an order of fewer shares gets one per share).
    partial_fills: int = 1
    # Seconds between the executions of one split fill.
    fill_interval: float = 0.0
    start_cash: float = 1_000_000.0
    account: str = "DU1234567"
    # False keeps market orders working (unfilled) until set_market_orders_fill(True), like a halted market.
    market_orders_fill: bool = True
    commission_per_share: float = 0.005
    min_commission: float = 1.0
    # IB's intraday stock margin: buying power is four times the available funds.
    initial_margin_rate: float = 0.25
    # Account pushes (values, portfolio rows, positions, P&L) go to a client at most once per this many
    # seconds: after fills (an isolated fill is pushed at once, a burst once per interval) and, as prices
    # move, every interval. TWS pushes account values about every 3 minutes. None: only fills push,
    # coalesced per event-loop turn.
    account_update_interval: float | None = 3.0
    # False: like an account without a market-data subscription. reqMktData is then answered with error 354
    # under market data type 1/2 (live/frozen, the default); after reqMarketDataType(3 or 4) the quotes
    # stream as delayed ticks (types 66-76) after warning 10167. With it, every type streams live ticks.
    market_data_subscription: bool = True
    # Real TWS greets every client with 2104/2106/2158 "farm connection is OK" notices (error messages!).
    farm_status_messages: bool = True
    # None: look up resources/ the usual way (see universe.find_resources_dir).
    resources_dir: Path | None = None
    # A request longer than this is refused from its length prefix alone, and the connection closed.
    max_frame_bytes: int = 1 << 20
    # A peer that has not finished the handshake (API\0, versions, startApi) by then is disconnected.
    handshake_timeout: float = 10.0
    # Once a request's first byte arrived, the rest of it must arrive within this many seconds. (An idle
    # connected client, between requests, is never timed out.)
    frame_timeout: float = 5.0
    # Connections open at once, handshaking ones included; TWS serves at most 32 API clients. One more is
    # refused with error 502 and closed.
    max_clients: int = 32
    # The cap on a client's unsent output: above it the gateway stops reading that client's requests, and
    # twice it the client is disconnected. A client with output over the cap that takes none of it for
    # slow_reader_timeout seconds does not read its messages and is disconnected; one that reads, however
    # slowly, is not.
    max_write_buffer: int = 8 << 20
    slow_reader_timeout: float = 5.0
    # The paper account's file (see state.py): cash, positions, the day's orders and executions and the id
    # sequences survive a restart. None: the account lives as long as the gateway.
    state_path: Path | None = None
    # Start a new account in state_path, discarding the saved one.
    reset_state: bool = False
    # The client that gets every client's executions (reqExecutions and live execDetails/commissionReport),
    # like TWS's "Master API client ID". Every other client gets only those of the orders it placed.
    master_client_id: int | None = None

    def __post_init__(self) -> None:
        if self.partial_fills < 1:
            raise ValueError("partial_fills must be >= 1")
        if self.fill_interval < 0:
            raise ValueError("fill_interval must be >= 0")
        if self.tick_interval is not None and self.tick_interval <= 0:
            raise ValueError("tick_interval must be > 0 or None")
        if self.account_update_interval is not None and self.account_update_interval <= 0:
            raise ValueError("account_update_interval must be > 0 or None")
        for name in ("slow_reader_timeout", "handshake_timeout", "frame_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0")
        for name in ("max_clients", "max_frame_bytes", "max_write_buffer"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if not (math.isfinite(self.start_cash) and self.start_cash >= 0):
            raise ValueError("start_cash must be a finite number >= 0")
        if not self.account:
            raise ValueError("account must not be empty")
        if self.state_path is not None:
            self.state_path = Path(self.state_path)
