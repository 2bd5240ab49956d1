"""The paper account on disk: it outlives the gateway process, as a real paper account outlives TWS.

What is kept: cash and realized P&L, the positions (with IB's average cost and realized P&L), the day's
orders (working and completed: client id, order id, permId, orderRef, filled quantity, ...), the day's
executions with their commissions, the id sequences (highest order id per client, permIds, execIds), and
the market's quotes, so that prices continue after a restart (state_market.py).

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

Reading it back is journal.py (the recovery rule) and journal_records.py (every field checked). A damaged
file is moved aside (to "<name>.corrupt-<time>"), as much of it as is sound is restored, and `report` says
what was restored and what was not, for the trader. A file that is fine but cannot be used (another
gateway holds it, it belongs to another account, a newer ibticket wrote it, the disk refuses) raises
StateError with a message that says what to do, and is left alone. A value that is not finite is never
written (json's allow_nan=False): the file keeps its last good state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from .account import Account, Holding
from .book import OrderBook, WorkingOrder, exec_token
from .config import GatewayConfig
from .journal import FORMAT, VERSION, Reading, Restored, SavedAccount, StateReport, read_journal
from .journal_records import execution_record, holding_record, order_record
from .market import Market
from .state_market import MarketJournal
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

# fsync the journal at most this often (seconds); kill -9 needs no fsync, only a power cut does.
SYNC_INTERVAL = 1.0
# Compact the journal once it is this many times the size of its snapshot (and at least COMPACT_MIN_BYTES).
COMPACT_FACTOR = 4
COMPACT_MIN_BYTES = 1 << 20


class StateError(Exception):
    """The state file cannot be used; the message says why and what to do."""


class NoState:
    """No state file: the account lives as long as the gateway (GatewayConfig.state_path=None)."""

    report: StateReport | None = None

    def order_changed(self, order: WorkingOrder) -> None:
        pass

    def flush(self) -> None:
        pass

    def market_moved(self) -> None:
        pass

    def close(self) -> None:
        pass


def open_state(
    config: GatewayConfig, universe: Universe, account: Account, book: OrderBook, market: Market | None = None,
    today: date | None = None,
) -> StateFile | NoState:
    """The state that config asks for: loaded into `account`, `book` and `market` when config.state_path is set."""
    if config.state_path is None:
        return NoState()
    quotes = None if market is None else MarketJournal(market, config.seed, config.tick_interval)
    return StateFile(Path(config.state_path), universe, account, book, reset=config.reset_state, today=today,
                     market=quotes)


class StateFile:
    """Keeps a state file in step with the gateway's account and book (see the module docstring)."""

    def __init__(
        self, path: Path, universe: Universe, account: Account, book: OrderBook, *, reset: bool = False,
        today: date | None = None, market: MarketJournal | None = None,
    ) -> None:
        self.path = path
        self._universe = universe
        self._account = account
        self._book = book
        self._market = market
        self._fd: int | None = None
        self._lock: IO[bytes] | None = _lock(path)
        self._dirty_orders: dict[int, WorkingOrder] = {}
        self._written = _Written()
        self._journal_bytes = 0
        self._snapshot_bytes = 0
        self._sync_handle: asyncio.TimerHandle | None = None
        # An append failed: no more appends (they would follow a torn line) until a snapshot has worked.
        self._failing = False
        # Set when the file was damaged: what was restored and what was not (see journal.py).
        self.report: StateReport | None = None
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
        reading = read_journal(data)
        if reading.torn:
            # No newline at the end: a write was cut short by a crash. What it held never reached a client.
            log.warning("ignoring the torn last line of %s (%d bytes): the gateway stopped while writing it",
                        self.path, reading.torn)
        if reading.head is not None:
            self._check_owner(*reading.head)
        if not reading.problem:
            restored = self._restore(reading.saved, today)
            log.info("paper account %s loaded from %s: cash %.2f, %d positions, %d working orders, %d executions "
                     "today; %d orders and %d executions of earlier days dropped", reading.saved.account_id,
                     self.path, reading.saved.cash, restored.positions, restored.working_orders,
                     len(restored.executions), restored.dropped_orders, restored.dropped_executions)
            return
        self.report = self._recover_from(reading, today, self._move_aside())
        log.error("%s", self.report)

    def _recover_from(self, reading: Reading, today: date, aside: Path) -> StateReport:
        """Restore the sound prefix of a damaged journal (or only its ids) and say what was restored."""
        saved = reading.saved
        if not reading.applied:
            # A new account, but its ids continue above those the damaged file's readable lines used.
            _, _, exec_seq = self._book.id_state
            self._book.restore([], [], saved.order_ids, saved.perm_id, max(exec_seq, saved.exec_seq), ())
            return StateReport(self.path, aside, reading.problem, restored=False, cash=self._account.cash)
        restored = self._restore(saved, today)
        return StateReport(
            self.path, aside, reading.problem, restored=True, cash=saved.cash, positions=restored.positions,
            working_orders=restored.working_orders, executions=len(restored.executions),
            dropped=reading.dropped, as_of=saved.as_of)

    def _restore(self, saved: SavedAccount, today: date) -> Restored:
        restored = Restored.build(saved, self._universe, today, datetime.now().astimezone())
        for symbol in restored.left_out:
            log.warning("the paper account holds %s, which the instrument list no longer has; it is left out",
                        symbol)
        self._account.restore(saved.cash, restored.realized_pnl, restored.holdings)
        self._book.restore(restored.orders, restored.executions, saved.order_ids, saved.perm_id, saved.exec_seq,
                           {exec_token(e.exec_id) for e in restored.executions})
        if self._market is not None:
            self._market.restore(saved.market.values(), datetime.now().astimezone())
        return restored

    def _check_owner(self, version: int, account_id: str) -> None:
        if version > VERSION:
            raise StateError(
                f"the paper account file {self.path} was written by a newer ibticket (format version "
                f"{version}, this one reads {VERSION}); update ibticket, or start a new account with "
                "--reset (GatewayConfig.reset_state) or another state file")
        if account_id != self._account.account_id:
            raise StateError(
                f"the paper account file {self.path} holds account {account_id}, not "
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

    def market_moved(self) -> None:
        """The quotes moved: they go into a line when a save of the market is due (state_market.py)."""
        if self._market is not None and self._market.moved():
            self.flush()

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
        # When the line was written: a damaged journal is restored "as of" its last good line.
        change["at"] = datetime.now().astimezone().isoformat(timespec="seconds")
        try:
            line = _line(change)
            _write_all(self._fd, line)
        except (OSError, StateError) as exc:
            self._failing = True
            reason = exc.strerror or exc if isinstance(exc, OSError) else exc
            log.error("cannot write the paper account file %s (%s); the account goes on in memory and the "
                      "file is rewritten with the next change", self.path, reason)
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
            change["executions"] = [execution_record(e) for e in new_executions]
        if self._dirty_orders:
            change["orders"] = [order_record(o) for o in self._dirty_orders.values()]
        if (self._account.cash, self._account.realized_pnl) != w.cash:
            change["cash"], change["realized_pnl"] = self._account.cash, self._account.realized_pnl
        holdings = [h for s, h in self._account.holdings.items() if w.holdings.get(s) != _holding_key(h)]
        if holdings:
            change["holdings"] = [holding_record(h) for h in holdings]
        max_ids, perm_id, exec_seq = self._book.id_state
        if max_ids != w.order_ids:
            change["order_ids"] = {str(c): i for c, i in max_ids.items() if w.order_ids.get(c) != i}
        if (perm_id, exec_seq) != (w.perm_id, w.exec_seq):
            change["perm_id"], change["exec_seq"] = perm_id, exec_seq
        if self._market is not None and (market := self._market.record()) is not None:
            change["market"] = market
        return change

    def _mark_written(self) -> None:
        w = self._written
        w.executions = self._book.execution_count
        self._dirty_orders.clear()
        w.cash = (self._account.cash, self._account.realized_pnl)
        w.holdings = {s: _holding_key(h) for s, h in self._account.holdings.items()}
        max_ids, w.perm_id, w.exec_seq = self._book.id_state
        w.order_ids = dict(max_ids)
        if self._market is not None:
            self._market.written()

    # --- compaction and sync -------------------------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        max_ids, perm_id, exec_seq = self._book.id_state
        market = {} if self._market is None else {"market": self._market.record(everything=True)}
        return {
            "format": FORMAT, "version": VERSION, "account": self._account.account_id,
            "saved": datetime.now().astimezone().isoformat(),
            "cash": self._account.cash, "realized_pnl": self._account.realized_pnl,
            "holdings": [holding_record(h) for h in self._account.holdings.values()],
            "orders": [order_record(o) for o in self._book.all_orders()],
            "executions": [execution_record(e) for e in self._book.executions()],
            "order_ids": {str(c): i for c, i in max_ids.items()}, "perm_id": perm_id, "exec_seq": exec_seq,
            **market,
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
        if self._market is not None:
            self._market.due = True  # the quotes as they are at the stop
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


# --- files ---------------------------------------------------------------------------------------------
def _holding_key(h: Holding) -> tuple[float, float, float]:
    return (h.qty, h.avg_cost, h.realized)


def _line(record: dict[str, Any]) -> bytes:
    try:
        # NaN or Infinity would load as a number that silences every comparison (the margin check): never.
        text = json.dumps(record, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise StateError("the account holds a number that is not finite (NaN or infinity), which is not "
                         "written: the file keeps its last good state") from None
    return (text + "\n").encode()


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
