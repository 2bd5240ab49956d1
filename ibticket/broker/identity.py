"""Who this installation is to IB: a stable client id, and a lock so one process at a time uses it.

TWS sends an order's statuses, executions and commission reports to the client id that placed it (and to
the "Master API client ID" set in TWS). An app that comes back under another client id therefore sees
none of what happened to its orders while it was away. So the client id is chosen once per installation,
kept in the user's config folder, and reused on every start.

A damaged ``identity.json`` (not JSON, no usable id, a folder in its place) must not stop the app: it is moved
aside, the id it held is kept when it can still be read, and ``Identity.notice`` says what happened so the
window can show it.

Two processes on one client id and one order log would both restore and reconcile the same orders. A
``flock`` on ``client-<id>.lock`` in the log folder makes the second one refuse to connect; the kernel
drops the lock when its holder exits, however it exits. Taking it also proves the log folder can be
written: where it cannot, no order could be logged before it is sent, so ``LogFolderUnwritable`` refuses
the connection (a setup problem, not a connection failure worth retrying).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import random
import re
import stat
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import ClientIdInUse, LogFolderUnwritable

try:
    import fcntl
except ImportError:  # Windows: no flock; the app then runs without the second-instance guard
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

ENV_CONFIG_DIR = "IBTICKET_CONFIG_DIR"
IDENTITY_FILE = "identity.json"
DEFAULT_CLIENT_ID = 7
# A new installation's id: three digits are easy to type into TWS (e.g. as its Master API client ID), and
# clear of the small ids (0, 1, 2 …) other API tools default to. 0 is special in TWS (it binds manual orders).
NEW_ID_RANGE = range(100, 1000)
# A probe by another process (is_client_id_locked) holds the lock for microseconds; don't refuse then.
LOCK_PATIENCE = 0.2
MAX_CLIENT_ID = 2**31 - 1  # the API sends it as a signed 32-bit number
# The id in a damaged file, where one can still be seen: {"client_id": 345 (cut short), {"client_id": "345"}.
_HELD_ID = re.compile(rb'"client_id"\s*:\s*"?\s*(-?\d{1,12})')


@dataclass(frozen=True)
class Identity:
    """This installation's client id, and what went wrong reading it (for the trader to see), if anything."""

    client_id: int
    notice: str = ""


def config_folder(override: str | os.PathLike[str] | None = None) -> Path:
    """The folder of this installation's settings: ``override``, else $IBTICKET_CONFIG_DIR, else the user's
    config folder (``~/.config/ibticket`` on Linux)."""
    if override is not None:
        return Path(override)
    env = os.environ.get(ENV_CONFIG_DIR)
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("ibticket", appauthor=False))


def stable_client_id(config_dir: str | os.PathLike[str] | None = None) -> int:
    """This installation's IB client id (see ``load_identity``)."""
    return load_identity(config_dir).client_id


def load_identity(config_dir: str | os.PathLike[str] | None = None) -> Identity:
    """This installation's IB client id: read from ``identity.json``, chosen and saved on first use.

    A damaged file (or a folder in its place) is moved aside, never deleted, and the notice says so. The id
    it held is kept where it can still be read: a new id would cut the app off from the orders placed
    under the old one, so when none can be read the notice names the new id and how to get the old one
    back. Where nothing can be saved, the id is ``DEFAULT_CLIENT_ID``, which is at least the same on
    every start.
    """
    folder = config_folder(config_dir)
    path = folder / IDENTITY_FILE
    try:
        return Identity(_read_id(path))
    except (FileNotFoundError, NotADirectoryError):
        return _first_id(folder, path)
    except (OSError, ValueError) as exc:
        damage = exc
    held = _held_id(path)
    usable = held if held is not None and 0 <= held <= MAX_CLIENT_ID else None
    what = _damage_text(damage)
    try:
        aside = _move_aside(path)
    except FileNotFoundError:  # another start moved it meanwhile: read what that start settled on
        return load_identity(folder)
    except OSError as exc:
        client_id = usable if usable is not None else DEFAULT_CLIENT_ID
        return _noticed(client_id, f"{path} is damaged ({what}) and could not be moved aside "
                        f"({exc.strerror or exc}); this start uses client id {client_id}.")
    kept = f"{path} was damaged ({what}); it is kept as {aside.name}."
    if usable is not None:
        saved = _first_id(folder, path, usable)
        if saved.client_id == usable:
            return _noticed(usable, f"{kept} It held client id {usable}, which this installation keeps using.")
        held_text = f"It held client id {usable}"
    else:
        saved = _first_id(folder, path)
        held_text = (f"It held client id {held}, which is not a client id" if held is not None
                     else "Its client id could not be read")
    return _noticed(saved.client_id, (
        f"{kept} {held_text}; this installation now uses client id {saved.client_id}. IB reports an order's "
        "fills only to the client id that placed it: for orders placed under the old id, start with "
        "--client-id (or IBTICKET_CLIENT_ID) set to it."))


def _first_id(folder: Path, path: Path, client_id: int | None = None) -> Identity:
    try:
        return Identity(_create_id(folder, path, random.choice(NEW_ID_RANGE) if client_id is None else client_id))
    except (OSError, ValueError) as exc:
        return _noticed(DEFAULT_CLIENT_ID, f"Cannot save a client id in {folder} ({_damage_text(exc)}); "
                        f"using client id {DEFAULT_CLIENT_ID}.")


def _noticed(client_id: int, notice: str) -> Identity:
    log.warning("%s", notice)
    return Identity(client_id, notice)


def _read_id(path: Path) -> int:
    data = _read_small(path)
    try:
        value = json.loads(data).get("client_id")
    except (ValueError, AttributeError):  # not JSON (or not text at all), or not an object
        value = None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CLIENT_ID:
        raise ValueError("it holds no client id")
    return value


def _held_id(path: Path) -> int | None:
    try:
        found = _HELD_ID.search(_read_small(path))
    except OSError:
        return None
    return int(found.group(1)) if found else None


def _read_small(path: Path) -> bytes:
    """The start of a file that should hold a few bytes; a folder or a pipe in its place is an error, not a
    wait (a pipe would block the start forever)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "it is a folder", str(path))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return os.read(fd, 1 << 16)
    finally:
        os.close(fd)


def _damage_text(exc: BaseException) -> str:
    if isinstance(exc, IsADirectoryError):
        return "it is a folder"
    if isinstance(exc, OSError):
        return f"it cannot be read: {exc.strerror or exc}"
    return str(exc)


def _move_aside(path: Path) -> Path:
    stamp = f"{path.name}.damaged-{datetime.now():%Y%m%d-%H%M%S}"
    for n in range(100):
        aside = path.with_name(stamp if n == 0 else f"{stamp}-{n}")
        if not os.path.lexists(aside):
            os.rename(path, aside)  # a folder moves as well as a file
            return aside
    raise FileExistsError(f"too many damaged copies beside {path}")


def _create_id(folder: Path, path: Path, client_id: int) -> int:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    scratch = folder / f".{IDENTITY_FILE}.{os.getpid()}"
    scratch.write_text(json.dumps({"client_id": client_id}) + "\n", encoding="utf-8")
    try:
        # link() never replaces: of two first starts racing, one id wins and both read it.
        os.link(scratch, path)
    except FileExistsError:
        return _read_id(path)
    finally:
        scratch.unlink(missing_ok=True)
    log.info("chose client id %d for this installation (saved in %s)", client_id, path)
    return client_id


def lock_path(folder: Path, client_id: int) -> Path:
    return Path(folder) / f"client-{client_id}.lock"


class ClientIdLock:
    """An exclusive ``flock`` on ``client-<id>.lock`` in the order log folder, holding the holder's pid."""

    def __init__(self, folder: str | os.PathLike[str], client_id: int) -> None:
        self.folder = Path(folder)
        self.client_id = client_id
        self.path = lock_path(self.folder, client_id)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or raise ``ClientIdInUse`` naming the process that has it."""
        if self._fd is not None or fcntl is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LogFolderUnwritable(self.folder, exc) from exc
        try:
            _probe_folder(self.folder)  # an old lock file can be opened in a folder that cannot be written
        except OSError as exc:
            os.close(fd)
            raise LogFolderUnwritable(self.folder, exc) from exc
        deadline = time.monotonic() + LOCK_PATIENCE
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.01)
                    continue
                pid = _read_pid(fd)
                os.close(fd)
                raise ClientIdInUse(self.client_id, self.folder, pid) from None
            except OSError:
                os.close(fd)
                raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        # The pid goes before the lock does: a new holder may write its own the moment the lock is free.
        # The file stays: unlinking it could split two later processes onto two different files.
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)

    def __del__(self) -> None:
        self.release()


def is_client_id_locked(folder: str | os.PathLike[str], client_id: int) -> bool:
    """Whether a running ibticket holds ``client_id`` with this log folder (a shared-lock probe)."""
    if fcntl is None:
        return False
    try:
        fd = os.open(lock_path(Path(folder), client_id), os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's shared lock
    return False


def hold_client_id(log_folder: str | os.PathLike[str] | None, client_id: int) -> ClientIdLock | None:
    """The acquired lock for ``client_id`` in ``log_folder``; None when there is no log folder to guard."""
    if log_folder is None:
        return None
    lock = ClientIdLock(log_folder, client_id)
    lock.acquire()
    return lock


def _probe_folder(folder: Path) -> None:
    probe = folder / f".write-test-{os.getpid()}"
    os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    probe.unlink()


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
