"""Order and fill records: the app's own state, independent of any broker library."""

from __future__ import annotations

import copy
import dataclasses
import operator
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, overload

from .summary import completes_order


class OrderStatus(StrEnum):
    PENDING = "Pending"
    SUBMITTED = "Submitted"
    PARTIALLY_FILLED = "PartiallyFilled"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    ERROR = "Error"

    @property
    def is_terminal(self) -> bool:
        # Error is not terminal: a retry can bring the order back to Submitted.
        return self in (OrderStatus.FILLED, OrderStatus.CANCELLED)


ACTIONS = ("BUY", "SELL")
# Above any real price or commission in any currency. A larger number is corruption, not a price: quantity x
# price of it overflows to infinity, and a correction that takes it back out leaves NaN in every total.
MAX_PRICE = 1e12
# A fill reported without an execution id (not from IB) gets "<order ref>.fill<n>" as its id.
LOCAL_FILL_MARK = ".fill"


def split_exec_id(exec_id: str) -> tuple[str, str]:
    """IB corrections keep the execution id up to its last dot and raise the suffix (``.01`` -> ``.02``)."""
    base, dot, suffix = exec_id.rpartition(".")
    return (base, suffix) if dot else (exec_id, "")

ORDER_TYPES = ("MARKET", "LIMIT", "STOP", "STOP_LIMIT")
TIME_IN_FORCE = ("DAY", "GTC", "IOC")


@dataclass
class Fill:
    """One execution. ``fill_id`` is the broker's execution id when there is one."""

    fill_id: str
    order_id: int
    symbol: str
    quantity: int
    price: float
    timestamp: datetime
    commission: float = 0.0
    side: str = ""  # the order's action, BUY or SELL: a blotter row needs no lookup of its order
    # Whether this execution completed its order (summary.completes_order), set as it is added: a day's
    # summary counts it as complete, else partial, as the order log's summary does from the fill's line.
    completes: bool = field(default=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fill_id": self.fill_id,
            "order_id": self.order_id,
            "symbol": self.symbol,
            "quantity": self.quantity,
            "price": self.price,
            "timestamp": self.timestamp.isoformat(),
            "commission": self.commission,
            "side": self.side,
        }


@dataclass
class BrokerAttempt:
    """One placement of an order at the broker. A retry is a new attempt with a new broker order id.

    ``order_ref`` is what the broker echoes back on every message about this attempt, so fills and
    statuses can be matched to the record even when broker order ids are reused after a gateway restart.
    """

    order_ref: str
    quantity: int
    order_id: int = 0
    perm_id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_ref": self.order_ref,
            "quantity": self.quantity,
            "order_id": self.order_id,
            "perm_id": self.perm_id,
        }


@dataclass
class OrderRecord:
    order_id: int
    symbol: str
    action: str
    total_quantity: int
    order_type: str = "MARKET"
    limit_price: float | None = None
    status: OrderStatus = OrderStatus.PENDING
    filled_quantity: int = 0
    remaining_quantity: int = -1
    avg_fill_price: float = 0.0
    fills: list[Fill] = field(default_factory=list)
    error_message: str | None = None
    submission_time: datetime | None = None
    last_update_time: datetime | None = None
    retry_count: int = 0
    # Beyond the seed: what a stop order, the ticket and safe retries need.
    stop_price: float | None = None
    tif: str = "DAY"
    outside_rth: bool = False
    order_ref: str = ""
    attempts: list[BrokerAttempt] = field(default_factory=list)
    cancel_requested: bool = False
    # Running total of quantity x price, so a fill costs O(1) however many came before it.
    _fill_value: float = field(default=0.0, init=False, repr=False, compare=False)
    # What lets a snapshot share the fills list instead of copying it: see FillsView.
    _journal: _FillJournal | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.remaining_quantity < 0:
            self.remaining_quantity = self.total_quantity - self.filled_quantity
        self._fill_value = sum(f.quantity * f.price for f in self.fills)

    @property
    def broker_order_ids(self) -> list[int]:
        return [a.order_id for a in self.attempts if a.order_id]

    @property
    def acknowledged(self) -> bool:
        """IB has seen the latest attempt (it has a permId): it may be working there now."""
        return bool(self.attempts and self.attempts[-1].perm_id)

    @property
    def is_active(self) -> bool:
        return not self.status.is_terminal

    def add_fill(self, fill: Fill) -> None:
        """Append an execution and re-derive quantities, average price and status from the fills."""
        fill.completes = completes_order(self.total_quantity - self.filled_quantity - fill.quantity)
        self.fills.append(fill)
        journal = self._journal
        if journal is not None and journal.fills is self.fills:
            journal.positions[fill.fill_id] = len(self.fills) - 1
        self.filled_quantity += fill.quantity
        self._fill_value += fill.quantity * fill.price
        self._settle(fill.timestamp)

    def replace_fill(self, old_fill_id: str, fill: Fill) -> None:
        """Swap an execution for its correction; the correction is the truth, not an addition."""
        # A new list, never an edit of the old one: views of the record keep reading the old list.
        fill.completes = any(f.completes for f in self.fills if f.fill_id == old_fill_id)
        self.fills = [f for f in self.fills if f.fill_id != old_fill_id]
        self.fills.append(fill)
        # Corrections are rare: re-sum from the fills rather than carry a subtraction's rounding.
        self.filled_quantity = sum(f.quantity for f in self.fills)
        self._fill_value = sum(f.quantity * f.price for f in self.fills)
        self._settle(fill.timestamp)

    def set_fill_commission(self, fill_id: str, commission: float) -> Fill | None:
        """Attach a commission to one of the fills: copy on write, the Fill in the list is replaced by a new
        one and never changed, so views made before keep the one they saw. Returns the new Fill, or None
        when no fill of the record has that id."""
        journal = self._fill_journal()
        i = journal.position(fill_id)
        if i is None:
            return None
        old = self.fills[i]
        new = dataclasses.replace(old, commission=commission)
        if i < journal.viewed:
            # Journal first, slot second: a view reading the slot on another thread meanwhile finds either
            # the old fill itself or the journal entry that gives it back.
            journal.replaced.setdefault(i, []).append((journal.edits, old))
            journal.edits += 1
        self.fills[i] = new
        return new

    def snapshot(self) -> OrderRecord:
        """A copy that never changes, later fills, commissions and corrections included; O(1) in the fills.

        Its ``fills`` is a read-only FillsView of this record's list; attempts (a handful) are copied."""
        copied = copy.copy(self)
        copied.fills = self.fills_view()  # type: ignore[assignment]  # a Sequence[Fill], read-only
        copied.attempts = [copy.copy(a) for a in self.attempts]
        copied._journal = None  # the live list's bookkeeping is not the snapshot's (nor to be pickled with it)
        return copied

    def fills_view(self) -> FillsView:
        """The fills as they are now, for a snapshot: O(1) however many there are (see FillsView)."""
        if isinstance(self.fills, FillsView):
            return self.fills  # already a snapshot's: it never changes
        journal = self._fill_journal()
        n = len(self.fills)
        journal.viewed = max(journal.viewed, n)
        return FillsView(self.fills, n, journal.replaced, journal.edits)

    def _fill_journal(self) -> _FillJournal:
        journal = self._journal
        if journal is None or journal.fills is not self.fills:
            # First use, or the list was replaced (a correction): the journal of the old list stays with the
            # views that read it, the new list starts afresh.
            journal = self._journal = _FillJournal(self.fills)
        return journal

    def _settle(self, when: datetime) -> None:
        self.remaining_quantity = self.total_quantity - self.filled_quantity
        self.avg_fill_price = self._fill_value / self.filled_quantity if self.filled_quantity else 0.0
        if self.remaining_quantity == 0:
            self.status = OrderStatus.FILLED
        elif self.filled_quantity > 0 and self.status in (
            OrderStatus.PENDING,
            OrderStatus.SUBMITTED,
            OrderStatus.ERROR,
        ):
            self.status = OrderStatus.PARTIALLY_FILLED
        self.last_update_time = when

    def update_status(
        self, status: OrderStatus, error_message: str | None = None, when: datetime | None = None
    ) -> None:
        self.status = status
        if error_message is not None:
            self.error_message = error_message
        self.last_update_time = when or datetime.now()

    def to_dict(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "symbol": self.symbol,
            "action": self.action,
            "total_quantity": self.total_quantity,
            "order_type": self.order_type,
            "limit_price": self.limit_price,
            "stop_price": self.stop_price,
            "tif": self.tif,
            "outside_rth": self.outside_rth,
            "status": self.status.value,
            "filled_quantity": self.filled_quantity,
            "remaining_quantity": self.remaining_quantity,
            "avg_fill_price": self.avg_fill_price,
            "fills": [f.to_dict() for f in self.fills],
            "error_message": self.error_message,
            "submission_time": _iso(self.submission_time),
            "last_update_time": _iso(self.last_update_time),
            "retry_count": self.retry_count,
            "order_ref": self.order_ref,
            "attempts": [a.to_dict() for a in self.attempts],
            "cancel_requested": self.cancel_requested,
        }


class _FillJournal:
    """One fills list's bookkeeping for its views: where each fill sits, and the fills replaced in place."""

    __slots__ = ("edits", "fills", "positions", "replaced", "viewed")

    def __init__(self, fills: list[Fill]) -> None:
        self.fills = fills
        self.positions = {f.fill_id: i for i, f in enumerate(fills)}
        # Per slot, (edit number, the fill it held) for each replacement; edit numbers count up per list.
        self.replaced: dict[int, list[tuple[int, Fill]]] = {}
        self.edits = 0
        # Slots some view can see: a replacement beyond them needs no journal entry.
        self.viewed = 0

    def position(self, fill_id: str) -> int | None:
        i = self.positions.get(fill_id)
        if i is None or i >= len(self.fills) or self.fills[i].fill_id != fill_id:
            # The list was appended to behind the record's back (not through add_fill): index it again.
            self.positions = {f.fill_id: i for i, f in enumerate(self.fills)}
            i = self.positions.get(fill_id)
        return i


def _edit_number(entry: tuple[int, Fill]) -> int:
    return entry[0]


class FillsView(Sequence[Fill]):
    """An order's fills as they were when the view was made; what a snapshot's ``fills`` is.

    Making one costs O(1) whatever the number of fills, so handing a snapshot to every fill callback stays
    linear in an order's executions. It shares the record's list: that list only ever grows in place (a
    correction builds a new list), and a Fill in it is never changed in place (a late commission puts a new
    Fill in the slot, ``OrderRecord.set_fill_commission``), so the view reads its first ``len`` slots, and
    for a slot replaced since it was made, the fill it held then, from the record's journal. A Fill read
    from a view never changes either. Read-only: ``list(view)`` gives a list of one's own.
    """

    __slots__ = ("_edits", "_fills", "_len", "_replaced")

    def __init__(
        self, fills: list[Fill], length: int, replaced: dict[int, list[tuple[int, Fill]]], edits: int
    ) -> None:
        self._fills = fills
        self._len = length
        self._replaced = replaced
        self._edits = edits

    def __len__(self) -> int:
        return self._len

    def _at(self, i: int) -> Fill:
        fill = self._fills[i]
        versions = self._replaced.get(i)
        if versions and versions[-1][0] >= self._edits:
            # The first replacement after the view was made took away the fill the view saw.
            return versions[bisect_left(versions, self._edits, key=_edit_number)][1]
        return fill

    @overload
    def __getitem__(self, index: int) -> Fill: ...

    @overload
    def __getitem__(self, index: slice) -> list[Fill]: ...

    def __getitem__(self, index: int | slice) -> Fill | list[Fill]:
        if isinstance(index, slice):
            return [self._at(i) for i in range(*index.indices(self._len))]
        i = operator.index(index)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("fill index out of range")
        return self._at(i)

    def __iter__(self) -> Iterator[Fill]:
        for i in range(self._len):
            yield self._at(i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FillsView | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compares by content, like the list it stands for

    def __repr__(self) -> str:
        return repr(list(self))

    def __copy__(self) -> FillsView:
        return self  # it never changes

    def __deepcopy__(self, memo: dict[int, Any]) -> FillsView:
        return _fills_view([copy.deepcopy(f, memo) for f in self])

    def __reduce__(self) -> tuple[Any, ...]:
        return (_fills_view, (list(self),))


def _fills_view(fills: list[Fill]) -> FillsView:
    """A view of a list of one's own (a deep copy, an unpickled snapshot)."""
    return FillsView(fills, len(fills), {}, 0)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
