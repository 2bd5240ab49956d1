"""The state file read back: a snapshot line plus change lines, folded into one account, as much as is sound.

The recovery rule. Line 1 is a snapshot of the whole account; every later line holds the new values of
what changed since the line before it (cash, a position, an order: each replaced as a whole; executions
appended). The account after line k is therefore only known if lines 1..k all read back, and lines after
an unreadable line k are changes to a state that nobody knows any more: applying line k+1 without line k
could pair today's cash with yesterday's position. So the journal is restored up to the last line before
the first bad one - the account exactly as it was at that moment, which is a state it really had - and
that line and every line after it are dropped. A line is bad if it is not JSON, is nested beyond what the
parser takes, or has a field of the wrong type or out of range (journal_records.py). A torn last line (no
newline: the gateway stopped in the middle of the write, before anything it held was sent) is not damage
and is ignored. When line 1 itself is bad, nothing is restored and a new account starts.

The id sequences are the one thing taken from beyond the bad line: the highest order id per client, permId
and execId sequence of every later line that does read back, plus ID_GAP for what the unreadable lines may
have used. Clients saw those ids, and a permId handed out twice would tie a new order to an old one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .account import Holding
from .book import WorkingOrder
from .journal_records import Change, CorruptState, SavedHolding, SavedOrder, integer, read_change, show, text
from .market import SavedQuote
from .records import Execution
from .universe import Universe

FORMAT = "ibticket-paper-account"
VERSION = 1
# After a damaged journal, ids continue this far above the highest one read back (see the module docstring).
ID_GAP = 1000


@dataclass
class SavedAccount:
    """The journal folded into one state, still without instruments."""

    version: int
    account_id: str
    cash: float = 0.0
    realized_pnl: float = 0.0
    holdings: dict[str, SavedHolding] = field(default_factory=dict)
    orders: dict[int, SavedOrder] = field(default_factory=dict)
    executions: dict[str, Execution] = field(default_factory=dict)
    order_ids: dict[int, int] = field(default_factory=dict)
    perm_id: int = 0
    exec_seq: int = 0
    as_of: datetime | None = None  # when the last applied line was written
    market: dict[str, SavedQuote] = field(default_factory=dict)  # each symbol's last saved quote

    def apply(self, change: Change) -> None:
        if change.cash is not None:
            self.cash, self.realized_pnl = change.cash
        for h in change.holdings:
            self.holdings[h.symbol] = h
        for o in change.orders:
            self.orders[o.perm_id] = o
        for e in change.executions:
            self.executions.setdefault(e.exec_id, e)
        for q in change.market:
            self.market[q.symbol] = q
        self.order_ids.update(change.order_ids)
        if change.sequences is not None:
            self.perm_id, self.exec_seq = change.sequences
        self.as_of = change.at or _latest(change) or self.as_of

    def note_ids(self, change: Change) -> None:
        """Keep the id sequences above those of a line that is not applied."""
        used = dict(change.order_ids)
        for o in change.orders:
            client, order_id = o.fields["client_id"], o.fields["order_id"]
            used[client] = max(used.get(client, 0), order_id)
        for client, order_id in used.items():
            self.order_ids[client] = max(self.order_ids.get(client, 0), order_id)
        perm_ids = [o.perm_id for o in change.orders] + [e.perm_id for e in change.executions]
        if change.sequences is not None:
            perm_ids.append(change.sequences[0])
            self.exec_seq = max(self.exec_seq, change.sequences[1])
        self.perm_id = max([self.perm_id, *perm_ids])

    def skip_ids(self, gap: int) -> None:
        self.order_ids = {client: order_id + gap for client, order_id in self.order_ids.items()}
        self.perm_id += gap
        self.exec_seq += gap


@dataclass
class Reading:
    """What read_journal made of a file."""

    saved: SavedAccount
    head: tuple[int, str] | None  # (version, account) when line 1 says whose file it is
    applied: int = 0  # lines applied: 0 = none, not even the snapshot
    dropped: int = 0  # complete lines not applied (the bad one and all after it)
    problem: str = ""  # why the rest was dropped: "line 4: cash is not a finite number: nan"
    torn: int = 0  # bytes of an incomplete last line, ignored


def read_journal(data: bytes) -> Reading:
    """The longest sound prefix of the journal (see the module docstring); never raises for its content."""
    parts = data.split(b"\n")
    lines = [(number, line) for number, line in enumerate(parts[:-1], 1) if line.strip()]
    torn = len(parts[-1]) if parts[-1].strip() else 0
    if not lines:
        return Reading(SavedAccount(0, ""), None, dropped=0, problem="it holds no complete line", torn=torn)
    first_number, first = lines[0]
    try:
        record = _object(first)
        head = _head(record)
    except CorruptState as exc:
        reading = Reading(SavedAccount(0, ""), None, problem=f"line {first_number}: {exc}", torn=torn)
        return _drop_from(reading, lines, 0)
    reading = Reading(SavedAccount(*head), head, torn=torn)
    if head[0] > VERSION:
        return reading  # the caller refuses it: its lines may not mean what this version thinks
    for index, (number, line) in enumerate(lines):
        try:
            change = read_change(record if index == 0 else _object(line), snapshot=index == 0)
        except Exception as exc:  # no content of the file may stop the gateway
            reading.problem = f"line {number}: {_reason(exc)}"
            return _drop_from(reading, lines, index)
        reading.saved.apply(change)
        reading.applied = index + 1
    return reading


def _drop_from(reading: Reading, lines: list[tuple[int, bytes]], index: int) -> Reading:
    """Lines[index] is bad: drop it and the rest, but keep the ids of the rest above what they used."""
    reading.dropped = len(lines) - index
    for _number, line in lines[index + 1:]:
        try:
            reading.saved.note_ids(read_change(_object(line), snapshot=False))
        except Exception:  # an unreadable line is covered by ID_GAP
            continue
    reading.saved.skip_ids(ID_GAP)
    return reading


def _object(line: bytes) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except RecursionError:
        raise CorruptState("it is nested too deeply to be a journal line") from None
    except UnicodeDecodeError:
        raise CorruptState("it is not UTF-8 text") from None
    except ValueError as exc:  # json.JSONDecodeError, or an integer of more than 4300 digits
        raise CorruptState(f"it is not JSON ({exc})") from None
    if not isinstance(record, dict):
        raise CorruptState(f"it is not a JSON object: {show(record)}")
    return record


def _head(record: dict[str, Any]) -> tuple[int, str]:
    if record.get("format") != FORMAT:
        raise CorruptState(f"it is not an ibticket paper account (format {show(record.get('format'))})")
    return integer(record, "version", low=1), text(record, "account", empty=False)


def _reason(exc: Exception) -> str:
    if isinstance(exc, CorruptState):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _latest(change: Change) -> datetime | None:
    """A line without a time of its own (earlier versions): the latest time among its records."""
    times = [e.time for e in change.executions]
    for o in change.orders:
        times.append(o.fields["placed_at"])
        if o.fields["completed_at"] is not None:
            times.append(o.fields["completed_at"])
    return max(times, key=lambda t: t.timestamp(), default=None)


# --- from records to the gateway's objects --------------------------------------------------------------
@dataclass
class Restored:
    """The saved account as the gateway's objects, with the earlier days' DAY orders and executions gone. Realized
    P&L is the day's, as IB reports it: saved on an earlier day, it starts again at zero, and the positions
    closed that day (kept to report their realized P&L for the day) are gone."""

    holdings: list[Holding]
    orders: list[WorkingOrder]
    executions: list[Execution]
    realized_pnl: float = 0.0
    dropped_orders: int = 0
    dropped_executions: int = 0
    left_out: list[str] = field(default_factory=list)  # symbols the instrument list no longer has

    @classmethod
    def build(cls, saved: SavedAccount, universe: Universe, today: date, now: datetime) -> Restored:
        out = cls([], [], [])
        instrument = out._lookup(universe)
        out.holdings = [h.holding(inst) for h in saved.holdings.values() if (inst := instrument(h.symbol))]
        out.realized_pnl = saved.realized_pnl
        if saved.as_of is not None and _local_date(saved.as_of) < today:
            out.holdings = [h for h in out.holdings if h.qty]
            for h in out.holdings:
                h.realized = 0.0
            out.realized_pnl = 0.0
        for record in saved.orders.values():
            inst = instrument(record.symbol)
            if inst is None:
                continue
            order = record.order(inst)
            if order.is_live and order.tif == "IOC":
                # An IOC cannot still be working after a restart: the gateway stopped while it was filling.
                order.status, order.completed_status = "Cancelled", "Cancelled"
                order.completed_at = now
            if _is_today(order, today):
                out.orders.append(order)
            else:
                out.dropped_orders += 1
        for execution in saved.executions.values():
            if instrument(execution.symbol) is None:
                continue
            if _local_date(execution.time) >= today:
                out.executions.append(execution)
            else:
                out.dropped_executions += 1
        return out

    def _lookup(self, universe: Universe) -> Callable[[str], Any]:
        def instrument(symbol: str) -> Any:
            inst = universe.by_symbol(symbol)
            if inst is None and symbol not in self.left_out:
                self.left_out.append(symbol)
            return inst

        return instrument

    @property
    def positions(self) -> int:
        return sum(1 for h in self.holdings if h.qty)

    @property
    def working_orders(self) -> int:
        return sum(1 for o in self.orders if o.is_live)


def _is_today(order: WorkingOrder, today: date) -> bool:
    """A working DAY order and a completed order belong to the day they were placed/completed; GTC lives on."""
    if order.is_live:
        return order.tif != "DAY" or _local_date(order.placed_at) >= today
    return _local_date(order.completed_at or order.placed_at) >= today


def _local_date(when: datetime) -> date:
    return when.astimezone().date()


# --- the report for the trader ---------------------------------------------------------------------------
@dataclass(frozen=True)
class StateReport:
    """What a damaged state file gave back; str() is the text for the trader (the window, the command)."""

    path: Path
    kept_as: Path
    problem: str
    restored: bool  # False: nothing could be used and a new account was started
    cash: float
    positions: int = 0
    working_orders: int = 0
    executions: int = 0
    dropped: int = 0  # lines not applied
    as_of: datetime | None = None

    def __str__(self) -> str:
        kept = f"The damaged file is kept as {self.kept_as}."
        if not self.restored:
            return (f"The paper account file {self.path} could not be read ({self.problem}), so a new account "
                    f"was started with {self.cash:,.2f} USD cash. {kept}")
        when = f" as of {_clock(self.as_of)}" if self.as_of is not None else ""
        after = self.dropped - 1
        dropped = "The unreadable line was dropped." if not after else (
            f"The unreadable line and the {_count(after, 'change')} after it were dropped (a change cannot be "
            "applied without the ones before it).")
        return (f"The paper account file {self.path} was damaged ({self.problem}). Restored{when}: cash "
                f"{self.cash:,.2f} USD, {_count(self.positions, 'position')}, "
                f"{_count(self.working_orders, 'working order')} and {_count(self.executions, 'execution')} of "
                f"today. {dropped} {kept}")


def _clock(when: datetime) -> str:
    local = when.astimezone()
    return f"{local:%H:%M:%S}" if local.date() == date.today() else f"{local:%Y-%m-%d %H:%M:%S}"


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"
