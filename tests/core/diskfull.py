"""A full disk at the order logger's os.write boundary, so every CI run exercises what a real one does."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


class FullDisk:
    """Stands in for ``os.write``: writes for real until ``space`` bytes are used, then writes short (as
    the kernel does when the last block fills) and raises ENOSPC. ``free()`` makes room again."""

    def __init__(self, space: float = 0, cut_next_by: int = 0) -> None:
        self.space = space
        self.cut_next_by = cut_next_by  # the next write stops this many bytes short of its end
        self.refused = 0  # writes that raised
        self.short = 0  # writes that wrote only part
        self._lock = threading.Lock()

    def __call__(self, fd: int, data: bytes) -> int:
        with self._lock:
            if self.space <= 0:
                self.refused += 1
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            allowed = int(min(len(data), self.space))
            if self.cut_next_by:
                allowed, self.cut_next_by, self.space = min(allowed, len(data) - self.cut_next_by), 0, 0
            written = os.write(fd, data[:allowed])
            self.space -= written
            if written < len(data):
                self.short += 1
            return written

    def free(self, space: float = float("inf")) -> None:
        with self._lock:
            self.space = space


def install(logger, disk: FullDisk) -> FullDisk:
    logger._write = disk
    return disk


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str = "48k") -> Iterator[Path]:
    """A real filesystem of ``size`` mounted at ``where`` (needs root); skips the test where mounting is
    not permitted."""
    mount = shutil.which("mount")
    if mount is None:
        pytest.skip("no mount command")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([mount, "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield where
    finally:
        # Lazy: a descriptor still open (a test that failed before closing its logger) must not keep it mounted.
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=True)
