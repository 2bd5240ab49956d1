"""The paper account on disk: it outlives the gateway process, as a real paper account outlives TWS.

What is kept: cash and realized P&L, the positions (with IB's average cost and realized P&L), the day's
orders (working and completed: client id, order id, permId, orderRef, filled quantity, ...), the day's
executions with their commissions, and the id sequences (highest order id per client, permIds, execIds).

The file is a JSON Lines journal. The first line is a snapshot of the whole account, headed by "format",
"version" and "account"; every later line is a change set with the same keys, holding only what changed
(orders and positions replace the saved ones with the same permId/symbol, executions are appended), applied
in order on load. A load rewrites the journal as one snapshot line: written to a temporary file, fsynced and
put in place with os.replace, so the file is never half-written. So does a journal that has grown to
COMPACT_FACTOR times its snapshot.

When changes reach the disk: the desk calls flush() before it sends any message, and flush() appends the
changes made since the last flush as one line with one os.write. A client is therefore never sent an
execution, a status or an order id that is not in the file yet, and a kill -9 cannot lose it: written data
lives in the OS page cache, which outlives the process. Changes made between two sends share one line,
and a flush with nothing to write costs a few comparisons. fsync (against a power cut or an OS crash) runs
on a worker thread at most once per SYNC_INTERVAL seconds, never on the fill path. A crash in the middle of
a write leaves a torn last line, which the next load ignores.

A file that cannot be parsed is moved aside (to "<name>.corrupt-<time>") and a new account is started,
with an error in the log naming both files. A file that is fine but cannot be used (another gateway holds
it, it belongs to another account, a newer ibticket wrote it, the disk refuses) raises StateError with a
message that says what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from .account import Account, Holding
from .book import OrderBook, WorkingOrder, exec_token
from .config import GatewayConfig
from .records import Execution
from .universe import Universe

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
try:  # Windows
    import msvcrt
except ImportError:
    msvcrt = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

FORMAT = "ibticket-paper-account"
VERSION = 1
# fsync the journal at most this often (seconds); kill -9 needs no fsync, only a power cut does.
SYNC_INTERVAL = 1.0
# Compact the journal once it is this many times the size of its snapshot (and at least COMPACT_MIN_BYTES).
COMPACT_FACTOR = 4
COMPACT_MIN_BYTES = 1 << 20


class StateError(Exception):
    """The state file cannot be used; the message says why and what to do."""


class CorruptState(Exception):
    """The state file's content cannot be read back."""


class NoState:
    """No state file: the account lives as long as the gateway (GatewayConfig.state_path=None)."""

    def order_changed(self, order: WorkingOrder) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def open_state(
    config: GatewayConfig, universe: Universe, account: Account, book: OrderBook, today: date | None = None,
) -> StateFile | NoState:
    """The state that config asks for: loaded into `account` and `book` when config.state_path is set."""
    if config.state_path is None:
        return NoState()
    return StateFile(Path(config.state_path), universe, account, book, reset=config.reset_state, today=today)


class StateFile:
    """Keeps a state file in step with the gateway's account and book (see the module docstring)."""

    def __init__(
        self, path: Path, universe: Universe, account: Account, book: OrderBook, *, reset: bool = False,
        today: date | None = None,
    ) -> None:
        self.path = path
        self._universe = universe
        self._account = account
        self._book = book
        self._fd: int | None = None
        self._lock: IO[bytes] | None = _lock(path)
        self._dirty_orders: dict[int, WorkingOrder] = {}
        self._written = _Written()
        self._journal_bytes = 0
        self._snapshot_bytes = 0
        self._sync_handle: asyncio.TimerHandle | None = None
        # An append failed: no more appends (they would follow a torn line) until a snapshot has worked.
        self._failing = False
        try:
            if reset:
                log.warning("starting a new paper account in %s (reset requested)", path)
            else:
                self._load(today or date.today())
            self._compact()
        except BaseException:
            # Not ours, or unusable: leave the file exactly as it is.
            self._release()
            raise

    # --- load ----------------------------------------------------------------------------------------
    def _load(self, today: date) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            log.info("no paper account in %s yet; starting a new one", self.path)
            return
        except OSError as exc:
            raise StateError(f"cannot read the paper account file {self.path}: {exc.strerror or exc}") from None
        if not data.strip():
            log.warning("the paper account file %s is empty; starting a new account", self.path)
            return
        try:
            saved = _parse_journal(data, self.path)
            self._check_owner(saved)
            restored = _Restored.build(saved, self._universe, today)
        except CorruptState as exc:
            aside = self._move_aside()
            log.error("the paper account file %s cannot be read (%s); it was moved to %s and a new paper "
                      "account was started", self.path, exc, aside)
            return
        self._account.restore(saved.cash, saved.realized_pnl, restored.holdings)
        self._book.restore(restored.orders, restored.executions, saved.order_ids, saved.perm_id, saved.exec_seq,
                           {exec_token(e.exec_id) for e in restored.executions})
        live = sum(1 for o in restored.orders if o.is_live)
        log.info("paper account %s loaded from %s: cash %.2f, %d positions, %d working orders, %d executions "
                 "today; %d orders and %d executions of earlier days dropped", saved.account_id, self.path,
                 saved.cash, sum(1 for h in restored.holdings if h.qty), live, len(restored.executions),
                 restored.dropped_orders, restored.dropped_executions)

    def _check_owner(self, saved: _Saved) -> None:
        if saved.version > VERSION:
            raise StateError(
                f"the paper account file {self.path} was written by a newer ibticket (format version "
                f"{saved.version}, this one reads {VERSION}); update ibticket, or start a new account with "
                "--reset (GatewayConfig.reset_state) or another state file")
        if saved.account_id != self._account.account_id:
            raise StateError(
                f"the paper account file {self.path} holds account {saved.account_id}, not "
                f"{self._account.account_id}; use that account, another state file, or --reset "
                "(GatewayConfig.reset_state) to start a new account")

    def _move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            raise StateError(f"the paper account file {self.path} cannot be read and cannot be moved aside "
                             f"({exc.strerror or exc}); move or delete it by hand") from None
        return aside

    # --- changes -------------------------------------------------------------------------------------
    def order_changed(self, order: WorkingOrder) -> None:
        """`order` was added or changed; it goes into the next flush."""
        self._dirty_orders[order.perm_id] = order

    def flush(self) -> None:
        """Append what changed since the last flush, as one line; nothing when nothing changed."""
        if self._lock is None:
            return  # closed
        change = self._changes()
        if not change:
            return
        if self._failing or self._fd is None:
            # An append failed, maybe halfway: a full snapshot replaces the file and its torn line in one go.
            self._recover()
            return
        line = _line(change)
        try:
            _write_all(self._fd, line)
        except OSError as exc:
            self._failing = True
            log.error("cannot write the paper account file %s (%s); the account goes on in memory and the "
                      "file is rewritten with the next change", self.path, exc.strerror or exc)
            return
        self._mark_written()
        self._journal_bytes += len(line)
        if self._journal_bytes > max(COMPACT_MIN_BYTES, COMPACT_FACTOR * self._snapshot_bytes):
            try:
                self._compact()
            except StateError as exc:
                self._reopen()
                # Appending still works: try again once the journal has grown as much once more.
                self._snapshot_bytes = self._journal_bytes
                log.warning("%s; the journal is compacted later", exc)
        self._schedule_sync()

    def _changes(self) -> dict[str, Any]:
        w = self._written
        change: dict[str, Any] = {}
        new_executions = self._book.executions_from(w.executions)
        if new_executions:
            change["executions"] = [_execution_record(e) for e in new_executions]
        if self._dirty_orders:
            change["orders"] = [_order_record(o) for o in self._dirty_orders.values()]
        if (self._account.cash, self._account.realized_pnl) != w.cash:
            change["cash"], change["realized_pnl"] = self._account.cash, self._account.realized_pnl
        holdings = [h for s, h in self._account.holdings.items() if w.holdings.get(s) != _holding_key(h)]
        if holdings:
            change["holdings"] = [_holding_record(h) for h in holdings]
        max_ids, perm_id, exec_seq = self._book.id_state
        if max_ids != w.order_ids:
            change["order_ids"] = {str(c): i for c, i in max_ids.items() if w.order_ids.get(c) != i}
        if (perm_id, exec_seq) != (w.perm_id, w.exec_seq):
            change["perm_id"], change["exec_seq"] = perm_id, exec_seq
        return change

    def _mark_written(self) -> None:
        w = self._written
        w.executions = self._book.execution_count
        self._dirty_orders.clear()
        w.cash = (self._account.cash, self._account.realized_pnl)
        w.holdings = {s: _holding_key(h) for s, h in self._account.holdings.items()}
        max_ids, w.perm_id, w.exec_seq = self._book.id_state
        w.order_ids = dict(max_ids)

    # --- compaction and sync -------------------------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        max_ids, perm_id, exec_seq = self._book.id_state
        return {
            "format": FORMAT, "version": VERSION, "account": self._account.account_id,
            "saved": datetime.now().astimezone().isoformat(),
            "cash": self._account.cash, "realized_pnl": self._account.realized_pnl,
            "holdings": [_holding_record(h) for h in self._account.holdings.values()],
            "orders": [_order_record(o) for o in self._book.all_orders()],
            "executions": [_execution_record(e) for e in self._book.executions()],
            "order_ids": {str(c): i for c, i in max_ids.items()}, "perm_id": perm_id, "exec_seq": exec_seq,
        }

    def _compact(self) -> None:
        """Rewrite the file as one snapshot line: temp file, fsync, os.replace; then append to it."""
        data = _line(self._snapshot())
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            # Windows cannot replace a file that is open: close the journal first.
            self._close_fd()
            os.replace(tmp, self.path)
            _fsync_dir(self.path.parent)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise StateError(f"cannot write the paper account file {self.path}: {exc.strerror or exc}") from None
        self._mark_written()
        self._journal_bytes = self._snapshot_bytes = len(data)

    def _recover(self) -> None:
        try:
            self._compact()
        except StateError:
            self._failing = True
            return
        if self._failing:
            log.warning("the paper account file %s is written again", self.path)
        self._failing = False

    def _reopen(self) -> None:
        """After a failed compaction that was not needed for a recovery: go on appending to the journal."""
        if self._fd is None:
            with contextlib.suppress(OSError):
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0))

    def _schedule_sync(self) -> None:
        if self._sync_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._sync_now()
            return
        self._sync_handle = loop.call_later(SYNC_INTERVAL, self._sync_in_background, loop)

    def _sync_in_background(self, loop: asyncio.AbstractEventLoop) -> None:
        self._sync_handle = None
        if self._fd is None:
            return
        # The worker gets its own descriptor, so a compaction or close meanwhile cannot pull it away.
        try:
            fd = os.dup(self._fd)
        except OSError:
            return
        loop.run_in_executor(None, _fsync_and_close, fd)

    def _sync_now(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)

    # --- close ---------------------------------------------------------------------------------------
    def close(self) -> None:
        """Write what is pending, fsync, and let another gateway open the file."""
        if self._lock is None:
            return
        if self._sync_handle is not None:
            self._sync_handle.cancel()
            self._sync_handle = None
        self.flush()
        self._sync_now()
        self._release()

    def _release(self) -> None:
        self._close_fd()
        if self._lock is not None:
            with contextlib.suppress(OSError):
                self._lock.close()
            self._lock = None

    def _close_fd(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


@dataclass
class _Written:
    """What the file already holds, so that a flush writes only the difference."""

    executions: int = 0
    cash: tuple[float, float] = (math.nan, math.nan)
    holdings: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    order_ids: dict[int, int] = field(default_factory=dict)
    perm_id: int = -1
    exec_seq: int = -1


# --- reading ---------------------------------------------------------------------------------------------
@dataclass
class _Saved:
    """The journal folded into one state, still as plain records."""

    version: int
    account_id: str
    cash: float = 0.0
    realized_pnl: float = 0.0
    holdings: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    executions: dict[str, dict[str, Any]] = field(default_factory=dict)
    order_ids: dict[int, int] = field(default_factory=dict)
    perm_id: int = 0
    exec_seq: int = 0

    def apply(self, change: dict[str, Any]) -> None:
        if "cash" in change:
            self.cash = _float(change, "cash")
            self.realized_pnl = _float(change, "realized_pnl")
        for record in _list(change, "holdings"):
            self.holdings[_text(record, "symbol")] = record
        for record in _list(change, "orders"):
            self.orders[_int(record, "perm_id")] = record
        for record in _list(change, "executions"):
            self.executions.setdefault(_text(record, "exec_id"), record)
        order_ids = change.get("order_ids", {})
        if not isinstance(order_ids, dict):
            raise CorruptState("order_ids is not a mapping")
        for client_id, order_id in order_ids.items():
            try:
                self.order_ids[int(client_id)] = int(order_id)
            except (TypeError, ValueError):
                raise CorruptState(f"bad order id entry {client_id!r}: {order_id!r}") from None
        if "perm_id" in change:
            self.perm_id = _int(change, "perm_id")
            self.exec_seq = _int(change, "exec_seq")


def _parse_journal(data: bytes, path: Path) -> _Saved:
    lines = data.split(b"\n")
    if lines[-1].strip():
        # No newline at the end: a write was cut short by a crash. What it held never reached a client.
        log.warning("ignoring the torn last line of %s (%d bytes): the gateway stopped while writing it",
                    path, len(lines[-1]))
    lines = [line for line in lines[:-1] if line.strip()]
    if not lines:
        raise CorruptState("no complete line")
    records = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorruptState(f"line {number} is not JSON: {exc}") from None
        if not isinstance(record, dict):
            raise CorruptState(f"line {number} is not a JSON object")
        records.append(record)
    head = records[0]
    if head.get("format") != FORMAT:
        raise CorruptState(f"it is not an ibticket paper account (format {head.get('format')!r})")
    saved = _Saved(version=_int(head, "version"), account_id=_text(head, "account"))
    if saved.version > VERSION:
        return saved  # the caller refuses it; its changes may not mean what this version thinks
    for number, record in enumerate(records, 1):
        try:
            saved.apply(record)
        except CorruptState as exc:
            raise CorruptState(f"line {number}: {exc}") from None
    return saved


@dataclass
class _Restored:
    """The saved records as the gateway's objects, with the earlier days' DAY orders and executions gone."""

    holdings: list[Holding]
    orders: list[WorkingOrder]
    executions: list[Execution]
    dropped_orders: int = 0
    dropped_executions: int = 0

    @classmethod
    def build(cls, saved: _Saved, universe: Universe, today: date) -> _Restored:
        instrument = _instrument_lookup(universe)
        holdings = [
            Holding(inst, _float(r, "qty"), _float(r, "avg_cost"), _float(r, "realized"))
            for r in saved.holdings.values() if (inst := instrument(r)) is not None
        ]
        out = cls(holdings, [], [])
        for record in saved.orders.values():
            order = _order_from(record, instrument)
            if order is None:
                continue
            if order.is_live and order.tif == "IOC":
                # An IOC cannot still be working after a restart: the gateway stopped while it was filling.
                order.status, order.completed_status = "Cancelled", "Cancelled"
                order.completed_at = datetime.now().astimezone()
            if _is_today(order, today):
                out.orders.append(order)
            else:
                out.dropped_orders += 1
        for record in saved.executions.values():
            execution = _execution_from(record)
            if universe.by_symbol(execution.symbol) is None:
                log.warning("execution %s is of %s, which the instrument list no longer has; it is left out",
                            execution.exec_id, execution.symbol)
            elif _local_date(execution.time) >= today:
                out.executions.append(execution)
            else:
                out.dropped_executions += 1
        return out


def _is_today(order: WorkingOrder, today: date) -> bool:
    """A working DAY order and a completed order belong to the day they were placed/completed; GTC lives on."""
    if order.is_live:
        return order.tif != "DAY" or _local_date(order.placed_at) >= today
    return _local_date(order.completed_at or order.placed_at) >= today


def _local_date(when: datetime) -> date:
    return when.astimezone().date()


def _instrument_lookup(universe: Universe) -> Callable[[dict[str, Any]], Any]:
    def instrument(record: dict[str, Any]) -> Any:
        symbol = _text(record, "symbol")
        inst = universe.by_symbol(symbol)
        if inst is None:
            log.warning("the paper account holds %s, which the instrument list no longer has; it is left out",
                        symbol)
        return inst

    return instrument


# --- records -------------------------------------------------------------------------------------------
def _holding_key(h: Holding) -> tuple[float, float, float]:
    return (h.qty, h.avg_cost, h.realized)


def _holding_record(h: Holding) -> dict[str, Any]:
    return {"symbol": h.instrument.symbol, "qty": h.qty, "avg_cost": h.avg_cost, "realized": h.realized}


def _order_record(o: WorkingOrder) -> dict[str, Any]:
    return {
        "order_id": o.order_id, "client_id": o.client_id, "perm_id": o.perm_id, "symbol": o.instrument.symbol,
        "action": o.action, "total_qty": o.total_qty, "order_type": o.order_type, "lmt_price": o.lmt_price,
        "aux_price": o.aux_price, "tif": o.tif, "order_ref": o.order_ref, "account": o.account,
        "oca_group": o.oca_group, "outside_rth": o.outside_rth, "parent_id": o.parent_id,
        "placed_at": o.placed_at.isoformat(), "status": o.status, "filled": o.filled,
        "avg_fill_price": o.avg_fill_price, "last_fill_price": o.last_fill_price, "triggered": o.triggered,
        "commission_paid": o.commission_paid,
        "completed_at": o.completed_at.isoformat() if o.completed_at else None,
        "completed_status": o.completed_status,
    }


def _order_from(r: dict[str, Any], instrument: Callable[[dict[str, Any]], Any]) -> WorkingOrder | None:
    inst = instrument(r)
    if inst is None:
        return None
    completed_at = r.get("completed_at")
    return WorkingOrder(
        order_id=_int(r, "order_id"), client_id=_int(r, "client_id"), perm_id=_int(r, "perm_id"), instrument=inst,
        action=_text(r, "action"), total_qty=_float(r, "total_qty"), order_type=_text(r, "order_type"),
        lmt_price=_opt_float(r, "lmt_price"), aux_price=_opt_float(r, "aux_price"), tif=_text(r, "tif"),
        order_ref=_text(r, "order_ref"), account=_text(r, "account"), oca_group=_text(r, "oca_group"),
        outside_rth=bool(r.get("outside_rth")), parent_id=_int(r, "parent_id"), placed_at=_time(r, "placed_at"),
        status=_text(r, "status"), filled=_float(r, "filled"), avg_fill_price=_float(r, "avg_fill_price"),
        last_fill_price=_float(r, "last_fill_price"), triggered=bool(r.get("triggered")),
        commission_paid=_float(r, "commission_paid"),
        completed_at=None if completed_at is None else _time(r, "completed_at"),
        completed_status=_text(r, "completed_status"),
    )


def _execution_record(e: Execution) -> dict[str, Any]:
    return {
        "exec_id": e.exec_id, "order_id": e.order_id, "perm_id": e.perm_id, "client_id": e.client_id,
        "symbol": e.symbol, "con_id": e.con_id, "side": e.side, "shares": e.shares, "price": e.price,
        "cum_qty": e.cum_qty, "avg_price": e.avg_price, "order_ref": e.order_ref, "time": e.time.isoformat(),
        "account": e.account, "exchange": e.exchange, "commission": e.commission, "realized_pnl": e.realized_pnl,
        "corrects": e.corrects,
    }


def _execution_from(r: dict[str, Any]) -> Execution:
    corrects = r.get("corrects")
    return Execution(
        exec_id=_text(r, "exec_id"), order_id=_int(r, "order_id"), perm_id=_int(r, "perm_id"),
        client_id=_int(r, "client_id"), symbol=_text(r, "symbol"), con_id=_int(r, "con_id"), side=_text(r, "side"),
        shares=_float(r, "shares"), price=_float(r, "price"), cum_qty=_float(r, "cum_qty"),
        avg_price=_float(r, "avg_price"), order_ref=_text(r, "order_ref"), time=_time(r, "time"),
        account=_text(r, "account"), exchange=_text(r, "exchange"), commission=_float(r, "commission"),
        realized_pnl=_opt_float(r, "realized_pnl"), corrects=None if corrects is None else _text(r, "corrects"),
    )


# Field readers: a wrong or missing field makes the file corrupt, never a TypeError deep in the desk.
def _get(r: dict[str, Any], key: str) -> Any:
    if not isinstance(r, dict) or key not in r:
        raise CorruptState(f"missing field {key!r}")
    return r[key]


def _int(r: dict[str, Any], key: str) -> int:
    value = _get(r, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CorruptState(f"field {key!r} is not an integer: {value!r}")
    return value


def _float(r: dict[str, Any], key: str) -> float:
    value = _get(r, key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CorruptState(f"field {key!r} is not a number: {value!r}")
    return float(value)


def _opt_float(r: dict[str, Any], key: str) -> float | None:
    return None if r.get(key) is None else _float(r, key)


def _text(r: dict[str, Any], key: str) -> str:
    value = _get(r, key)
    if not isinstance(value, str):
        raise CorruptState(f"field {key!r} is not text: {value!r}")
    return value


def _time(r: dict[str, Any], key: str) -> datetime:
    try:
        when = datetime.fromisoformat(_text(r, key))
    except ValueError:
        raise CorruptState(f"field {key!r} is not a time: {r[key]!r}") from None
    return when if when.tzinfo is not None else when.astimezone()


def _list(r: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = r.get(key, [])
    if not isinstance(value, list):
        raise CorruptState(f"field {key!r} is not a list")
    return value


# --- files ---------------------------------------------------------------------------------------------
def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, separators=(",", ":")) + "\n").encode()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync_and_close(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError as exc:
        log.warning("fsync of the paper account file failed: %s", exc.strerror or exc)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX); Windows cannot open a directory and needs no such step."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _lock(path: Path) -> IO[bytes]:
    """Hold "<name>.lock" for as long as the gateway uses the file: two gateways on one account would interleave
    their changes."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.with_name(path.name + ".lock"), "a+b")  # noqa: SIM115 - held until close()
    except OSError as exc:
        raise StateError(f"cannot use the paper account file {path}: {exc.strerror or exc}") from None
    try:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        elif msvcrt is not None:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    except OSError:
        handle.close()
        raise StateError(f"the paper account file {path} is in use by another paper gateway; stop that one "
                         "first, or give this one another state file") from None
    return handle
