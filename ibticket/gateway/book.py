"""The gateway's order and execution ledger for its lifetime (one trading day), plus its id sequences."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime

from .records import Execution, OrderView
from .universe import Instrument

LIVE_STATUSES = frozenset({"PreSubmitted", "Submitted"})


@dataclass
class WorkingOrder:
    order_id: int
    client_id: int
    perm_id: int
    instrument: Instrument
    action: str  # BUY / SELL
    total_qty: float
    order_type: str  # MKT, LMT, STP, STP LMT
    lmt_price: float | None
    aux_price: float | None
    tif: str
    order_ref: str
    account: str
    oca_group: str = ""
    outside_rth: bool = False
    parent_id: int = 0
    placed_at: datetime = field(default_factory=datetime.now)
    status: str = "PreSubmitted"
    filled: float = 0.0
    avg_fill_price: float = 0.0
    last_fill_price: float = 0.0
    triggered: bool = False  # a stop whose stop price was reached
    commission_paid: float = 0.0
    # A split fill is in progress: the matcher leaves the order alone and modifies are refused.
    filling: bool = False
    cancel_requested: bool = False
    completed_at: datetime | None = None
    completed_status: str = ""

    @property
    def remaining(self) -> float:
        return max(0.0, self.total_qty - self.filled)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def sign(self) -> int:
        return 1 if self.action == "BUY" else -1

    @property
    def is_stop(self) -> bool:
        return self.order_type in ("STP", "STP LMT")

    def view(self) -> OrderView:
        return OrderView(
            order_id=self.order_id, client_id=self.client_id, perm_id=self.perm_id,
            symbol=self.instrument.symbol, action=self.action, total_qty=self.total_qty,
            order_type=self.order_type, lmt_price=self.lmt_price, aux_price=self.aux_price, tif=self.tif,
            order_ref=self.order_ref, status=self.status, filled=self.filled, remaining=self.remaining,
            avg_fill_price=self.avg_fill_price,
        )


class OrderBook:
    def __init__(self, seed: int) -> None:
        rng = random.Random(seed ^ 0x5EED)
        # permIds are account-wide and large in real TWS; start somewhere plausible and count up.
        self._next_perm_id = rng.randint(1_000_000_000, 1_900_000_000)
        self._next_exec_seq = rng.randint(0x1000, 0xFFFFF)
        # The middle part of an execId is a per-session stamp; the gateway's start time keeps ids unique
        # across gateway restarts too.
        self._exec_stamp = f"{int(time.time()) & 0xFFFFFFFF:08x}"
        self._orders: dict[tuple[int, int], WorkingOrder] = {}
        self._by_perm: dict[int, WorkingOrder] = {}
        self._executions: list[Execution] = []
        self._exec_by_id: dict[str, Execution] = {}
        self._max_order_id: dict[int, int] = {}

    # --- ids ---------------------------------------------------------------------------------------
    def next_valid_id(self, client_id: int) -> int:
        return self._max_order_id.get(client_id, 0) + 1

    def is_used_id(self, client_id: int, order_id: int) -> bool:
        return order_id <= self._max_order_id.get(client_id, 0)

    def note_order_id(self, client_id: int, order_id: int) -> None:
        if order_id > self._max_order_id.get(client_id, 0):
            self._max_order_id[client_id] = order_id

    def new_perm_id(self) -> int:
        self._next_perm_id += 1
        return self._next_perm_id

    def new_exec_id(self) -> str:
        self._next_exec_seq += 1
        return f"{self._next_exec_seq:08x}.{self._exec_stamp}.01.01"

    def correction_id(self, exec_id: str) -> str:
        """The id a correction of exec_id gets: same up to the last dot, suffix one higher."""
        head, _, suffix = exec_id.rpartition(".")
        taken = [e.exec_id for e in self._executions if e.exec_id.rpartition(".")[0] == head]
        highest = max(int(s.rpartition(".")[2], 16) for s in [*taken, exec_id] if _is_hex_suffix(s))
        width = max(2, len(suffix))
        return f"{head}.{highest + 1:0{width}x}"

    # --- orders ------------------------------------------------------------------------------------
    def add(self, order: WorkingOrder) -> None:
        self._orders[(order.client_id, order.order_id)] = order
        self._by_perm[order.perm_id] = order

    def get(self, client_id: int, order_id: int) -> WorkingOrder | None:
        return self._orders.get((client_id, order_id))

    def by_perm_id(self, perm_id: int) -> WorkingOrder | None:
        return self._by_perm.get(perm_id)

    def all_orders(self) -> list[WorkingOrder]:
        return list(self._orders.values())

    def live_orders(self, client_id: int | None = None, symbol: str | None = None) -> list[WorkingOrder]:
        return [
            o for o in self._orders.values()
            if o.is_live
            and (client_id is None or o.client_id == client_id)
            and (symbol is None or o.instrument.symbol == symbol)
        ]

    def done_orders(self) -> list[WorkingOrder]:
        return [o for o in self._orders.values() if not o.is_live]

    # --- executions --------------------------------------------------------------------------------
    def add_execution(self, execution: Execution) -> None:
        self._executions.append(execution)
        self._exec_by_id[execution.exec_id] = execution

    def execution(self, exec_id: str) -> Execution | None:
        return self._exec_by_id.get(exec_id)

    def executions(self) -> list[Execution]:
        return list(self._executions)


def _is_hex_suffix(exec_id: str) -> bool:
    suffix = exec_id.rpartition(".")[2]
    return bool(suffix) and all(c in "0123456789abcdefABCDEF" for c in suffix)
