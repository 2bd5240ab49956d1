"""Who this installation is to IB: a stable client id, and a lock so one process at a time uses it.

TWS sends an order's statuses, executions and commission reports to the client id that placed it (and to
the "Master API client ID" set in TWS). An app that comes back under another client id therefore sees
none of what happened to its orders while it was away. So the client id is chosen once per installation,
kept in the user's config folder, and reused on every start.

Two processes on one client id and one order log would both restore and reconcile the same orders. A
``flock`` on ``client-<id>.lock`` in the log folder makes the second one refuse to connect; the kernel
drops the lock when its holder exits, however it exits.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import time
from pathlib import Path

from .errors import ClientIdInUse

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
    """This installation's IB client id: read from ``identity.json``, chosen and saved on first use.

    A damaged file raises ``ValueError`` rather than picking a new id: a new id would silently cut the app
    off from the orders placed under the old one. Where the folder cannot be written, the id is
    ``DEFAULT_CLIENT_ID``, which is at least the same on every start.
    """
    folder = config_folder(config_dir)
    path = folder / IDENTITY_FILE
    try:
        return _read_id(path)
    except (FileNotFoundError, NotADirectoryError):
        pass  # never chosen (an unreadable file is an error: guessing could change the id)
    try:
        return _create_id(folder, path, random.choice(NEW_ID_RANGE))
    except OSError as exc:
        log.warning("cannot save a client id in %s (%s); using client id %d", folder, exc, DEFAULT_CLIENT_ID)
        return DEFAULT_CLIENT_ID


def _read_id(path: Path) -> int:
    data = path.read_bytes()
    try:
        value = json.loads(data).get("client_id")
    except (ValueError, AttributeError):  # not JSON (or not text at all), or not an object
        value = None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            f"{path} holds no client id (expected e.g. {{\"client_id\": 345}}). Fix it to keep this "
            f"installation's id, delete it to choose a new one, or set IBTICKET_CLIENT_ID"
        )
    return value


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
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
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


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
