"""Read-only snapshots the gateway hands to tests and tools (never live state)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Execution:
    """One execution as IB reports it; a correction is a second record with a higher execId suffix."""

    exec_id: str
    order_id: int
    perm_id: int
    client_id: int
    symbol: str
    con_id: int
    side: str  # "BOT" or "SLD", as in execDetails
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    order_ref: str
    time: datetime
    account: str
    exchange: str
    commission: float
    realized_pnl: float | None
    corrects: str | None = None  # the execId this record corrects


@dataclass(frozen=True)
class OrderView:
    order_id: int
    client_id: int
    perm_id: int
    symbol: str
    action: str
    total_qty: float
    order_type: str
    lmt_price: float | None
    aux_price: float | None
    tif: str
    order_ref: str
    status: str
    filled: float
    remaining: float
    avg_fill_price: float
    parent_id: int = 0
    oca_group: str = ""
    trail_stop_price: float | None = None


@dataclass(frozen=True)
class PositionView:
    symbol: str
    con_id: int
    position: float
    avg_cost: float
    realized_pnl: float


@dataclass(frozen=True)
class QuoteView:
    symbol: str
    bid: float
    ask: float
    last: float
    bid_size: int
    ask_size: int
    last_size: int
    volume: int
