"""The gateway's order and execution ledger (one trading day), plus its id sequences.

permIds and execIds are unique across gateway processes whatever the seed, as IB's are: a client (or an
order log) that saw the ids of an earlier run must not mistake a new execution for a replay of an old one.
"""

from __future__ import annotations

import os
import random
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from .records import Execution, OrderView
from .universe import Instrument

# Open orders: working, held or not transmitted yet. "Inactive" is what TWS reports for an order placed with
# transmit=False: it is in TWS, not at IB, until an order of its group transmits it.
LIVE_STATUSES = frozenset({"Inactive", "PreSubmitted", "Submitted"})
STOP_TYPES = frozenset({"STP", "STP LMT", "TRAIL", "TRAIL LIMIT"})
TRAILING_TYPES = frozenset({"TRAIL", "TRAIL LIMIT"})

# permIds stay in [2**30, 2**31): big like IB's, and still a 32-bit int, which is what clients of server
# version 176 (Java's and C#'s int permId) can read. A fresh gateway starts at a random point of that range,
# far enough below the top for any day's orders.
PERM_ID_LOW = 1 << 30
PERM_ID_SPAN = (1 << 30) - (1 << 26)


def fresh_perm_id_base() -> int:
    """A random start for the permId sequence (from os.urandom, not the seed)."""
    return PERM_ID_LOW + int.from_bytes(os.urandom(4), "big") % PERM_ID_SPAN


def fresh_exec_token(taken: Collection[str] = ()) -> str:
    """The 8 hex digits in the middle of this process's execIds, unlike any in `taken`.

    IB's execIds look like "0000e0d5.6554a1b2.01.01". The old time-of-start stamp repeated when a gateway
    restarted within the same second; 32 random bits do not repeat in practice, and `taken` (the tokens of
    the executions loaded from the state file) rules out a repeat within the same account entirely.
    """
    while True:
        token = os.urandom(4).hex()
        if token not in taken:
            return token


def exec_token(exec_id: str) -> str:
    """The middle part of an execId made by new_exec_id ("" for another shape)."""
    parts = exec_id.split(".")
    return parts[1] if len(parts) == 4 else ""


@dataclass
class WorkingOrder:
    order_id: int
    client_id: int
    perm_id: int
    instrument: Instrument
    action: str  # BUY / SELL
    total_qty: float
    order_type: str  # MKT, LMT, STP, STP LMT, TRAIL, TRAIL LIMIT, MOC, LOC
    lmt_price: float | None
    aux_price: float | None
    tif: str
    order_ref: str
    account: str
    oca_group: str = ""
    oca_type: int = 0  # 1 cancel the others, 2 reduce them with block, 3 reduce them without block (linked.py)
    outside_rth: bool = False
    parent_id: int = 0
    # Trailing stops (trailing.py): the amount is aux_price or trailing_percent; trail_stop_price is the stop
    # now (None until the order works), and lmt_price of a TRAIL LIMIT follows it at lmt_price_offset.
    trailing_percent: float | None = None
    trail_stop_price: float | None = None
    lmt_price_offset: float | None = None
    good_till_date: str = ""  # as the client wrote it (echoed); expires_at is when a GTD order is cancelled
    expires_at: datetime | None = None
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
        return self.order_type in STOP_TYPES

    @property
    def is_trailing(self) -> bool:
        return self.order_type in TRAILING_TYPES

    @property
    def stop_price(self) -> float | None:
        """The price that triggers a stop: aux_price, except for a trailing stop (whose aux is the amount)."""
        return self.trail_stop_price if self.is_trailing else self.aux_price

    @property
    def transmitted(self) -> bool:
        return self.status != "Inactive"

    def view(self) -> OrderView:
        return OrderView(
            order_id=self.order_id, client_id=self.client_id, perm_id=self.perm_id,
            symbol=self.instrument.symbol, action=self.action, total_qty=self.total_qty,
            order_type=self.order_type, lmt_price=self.lmt_price, aux_price=self.aux_price, tif=self.tif,
            order_ref=self.order_ref, status=self.status, filled=self.filled, remaining=self.remaining,
            avg_fill_price=self.avg_fill_price, parent_id=self.parent_id, oca_group=self.oca_group,
            trail_stop_price=self.trail_stop_price,
        )


class OrderBook:
    def __init__(self, seed: int) -> None:
        rng = random.Random(seed ^ 0x5EED)
        # permIds are account-wide and large in real TWS. A state file continues its saved sequence.
        self._next_perm_id = fresh_perm_id_base()
        self._next_exec_seq = rng.randint(0x1000, 0xFFFFF)
        self._exec_token = fresh_exec_token()
        self._orders: dict[tuple[int, int], WorkingOrder] = {}
        self._by_perm: dict[int, WorkingOrder] = {}
        self._children: dict[tuple[int, int], list[WorkingOrder]] = {}  # (client id, parent id) -> children
        self._oca: dict[str, list[WorkingOrder]] = {}
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
        return f"{self._next_exec_seq & 0xFFFFFFFF:08x}.{self._exec_token}.01.01"

    def correction_id(self, exec_id: str) -> str:
        """The id a correction of exec_id gets: same up to the last dot, suffix one higher."""
        head, _, suffix = exec_id.rpartition(".")
        taken = [e.exec_id for e in self._executions if e.exec_id.rpartition(".")[0] == head]
        highest = max(int(s.rpartition(".")[2], 16) for s in [*taken, exec_id] if _is_hex_suffix(s))
        width = max(2, len(suffix))
        return f"{head}.{highest + 1:0{width}x}"

    @property
    def id_state(self) -> tuple[dict[int, int], int, int]:
        """(highest order id per client, last permId, last execId sequence number), for the state file."""
        return self._max_order_id, self._next_perm_id, self._next_exec_seq

    def restore(
        self, orders: Iterable[WorkingOrder], executions: Iterable[Execution], max_order_ids: dict[int, int],
        perm_id: int, exec_seq: int, exec_tokens: Collection[str],
    ) -> None:
        """Take over a saved book: its orders and executions, and id sequences that continue the saved ones."""
        for order in orders:
            self.add(order)
        for execution in executions:
            self.add_execution(execution)
        for client_id, order_id in max_order_ids.items():
            self.note_order_id(client_id, order_id)
        if PERM_ID_LOW <= perm_id < PERM_ID_LOW + PERM_ID_SPAN:
            self._next_perm_id = perm_id
        self._next_exec_seq = max(0, exec_seq)
        self._exec_token = fresh_exec_token(exec_tokens)

    # --- orders ------------------------------------------------------------------------------------
    def add(self, order: WorkingOrder) -> None:
        key = (order.client_id, order.order_id)
        replaced = self._orders.get(key)
        if replaced is order:
            return
        if replaced is not None:
            self._unlink(replaced)
        self._orders[key] = order
        self._by_perm[order.perm_id] = order
        # Parent and OCA group never change after placement (a modify may not change them): indexed once.
        if order.parent_id:
            self._children.setdefault((order.client_id, order.parent_id), []).append(order)
        if order.oca_group:
            self._oca.setdefault(order.oca_group, []).append(order)

    def _unlink(self, order: WorkingOrder) -> None:
        for group in (self._children.get((order.client_id, order.parent_id)), self._oca.get(order.oca_group)):
            if group is not None and order in group:
                group.remove(order)

    def children(self, order: WorkingOrder) -> list[WorkingOrder]:
        """The orders attached to `order` (same client, parentId = its order id), in the order placed."""
        return [o for o in self._children.get((order.client_id, order.order_id), ()) if o is not order]

    def oca_group(self, name: str) -> list[WorkingOrder]:
        return list(self._oca.get(name, ())) if name else []

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

    def parent_perm_id(self, order: WorkingOrder) -> int:
        """The permId of an attached order's parent (completedOrder names the parent by it); 0 for none."""
        parent = self._orders.get((order.client_id, order.parent_id)) if order.parent_id else None
        return parent.perm_id if parent is not None else 0

    # --- executions --------------------------------------------------------------------------------
    def add_execution(self, execution: Execution) -> None:
        self._executions.append(execution)
        self._exec_by_id[execution.exec_id] = execution

    def execution(self, exec_id: str) -> Execution | None:
        return self._exec_by_id.get(exec_id)

    def executions(self) -> list[Execution]:
        return list(self._executions)

    @property
    def execution_count(self) -> int:
        return len(self._executions)

    def executions_from(self, start: int) -> list[Execution]:
        """The executions added after the first `start` ones (they are only ever appended)."""
        return self._executions[start:]


def _is_hex_suffix(exec_id: str) -> bool:
    suffix = exec_id.rpartition(".")[2]
    return bool(suffix) and all(c in "0123456789abcdefABCDEF" for c in suffix)
