"""The log viewer's index of a day file: where each line ends, read back a line or a chunk at a time, and
the job that grows it; Qt-free.

A busy day is a file of a million lines and half a gigabyte, so nothing here holds the events: the index
keeps only where each line ends (8 bytes a line, ``array('Q')``), rows are read back with ``pread`` and
parsed when shown, and scans go through the file in chunks of about a megabyte. Each chunk is one short
step of a job (``logview.jobs``), run in the log viewer's worker process (``logview.worker``): a job can be
cancelled between any two steps, and the most urgent job always takes the next step. The other jobs on a
day's index: its filters (``logview.filters``), its full check (``logview.check``), the day list's counts
(``logview.days``) and exports (``logview.rows``).

Only complete lines are indexed: a last line without its newline is still being written, or was torn by a
crash; it is indexed once its newline arrives. Every line is judged by the order log's one tolerant reader
(``parse_line``); a bad line is a row of its own ("unreadable"), counted and listed, never fatal.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, islice, repeat
from operator import add
from pathlib import Path

from ..core.logreader import O_NOFOLLOW, O_NONBLOCK

CHUNK = 1 << 20
# A line shorter than this may be blank (only spaces): such chunks are looked at line by line. No event
# is this short (a timestamp alone is 19 characters), so a real day never takes that path.
SHORT_LINE = 32
# The logger writes `"order_id": 42,` exactly so; a line that spells it otherwise (another writer, a hand
# edit) is remembered, and the order id filter parses those lines instead of trusting the bytes search.
ODD_ORDER_ID = re.compile(rb'"order_id"(?!: (?:\d+|null)[,}])')
REPORT_EVERY = 0.1  # seconds between progress reports of a job
# The index reports less often: each report makes the window lay out and repaint its table.
INDEX_REPORT_EVERY = 0.25

IDLE = "idle"  # a job step that found nothing to do (until the file grows or something changes)
GREW = "grew"  # an index step that added lines: jobs that follow the index have work again
WORKED = "worked"
# A job: a generator that yields one of the markers above per step; the worker closes it when it is cancelled.
Steps = Generator[str, None, None]


class FileChanged(Exception):
    """The day file shrank or was replaced under the index: it must be indexed afresh."""


def open_day_file(path: Path) -> int:
    """A read-only descriptor on a day file, refusing a symlink or anything but a regular file (the
    order log's own rules), with a message that names the file."""
    try:
        fd = os.open(path, os.O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
    except FileNotFoundError:
        raise OSError(errno.ENOENT, f"There is no order log file {path}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(exc.errno, f"{path} is a symbolic link; the order log only uses regular files") from None
        raise OSError(exc.errno, f"Could not open the order log {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, f"{path} is not a regular file")
    return fd


class LineIndex:
    """Where each complete line of one day file ends. The worker process grows it by reading the file
    (``step``); the window keeps a copy grown from the worker's reports (``absorb``) to read its rows.

    Lines are numbered from 0 (the file's line number is ``line + 1``). Rows are the lines that are not
    blank: ``rows`` maps rows to lines once a blank line has been seen, else a row is its line.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # A file object owns the descriptor, so it closes when the last reader lets go of the index,
        # never under a model that is still drawing from it.
        self._file = os.fdopen(open_day_file(path), "rb", buffering=0)
        self.fd = self._file.fileno()
        info = os.fstat(self.fd)
        self.identity = (info.st_dev, info.st_ino)
        self.ends = array("Q")  # the newline's offset for each complete line
        self.rows: array[int] | None = None
        self.blank: list[int] = []
        self.odd: list[tuple[int, int]] = []  # line ranges [a, b) not written the logger's way
        self.indexed = 0  # bytes of complete lines: where the unfinished last line starts
        self.scanned = 0  # bytes looked at (a long unfinished line is not scanned again)
        self.size = info.st_size
        self.caught_up = False  # set by index_job: all the file holds is indexed (but an unfinished line)

    # -- reading ---------------------------------------------------------------------------------------

    @property
    def line_count(self) -> int:
        return len(self.ends)

    @property
    def row_count(self) -> int:
        return len(self.rows) if self.rows is not None else len(self.ends)

    def row_line(self, row: int) -> int:
        return self.rows[row] if self.rows is not None else row

    def span(self, line: int) -> tuple[int, int]:
        """The line's bytes, without its newline: [start, end)."""
        return (self.ends[line - 1] + 1 if line else 0), self.ends[line]

    def read_line(self, line: int) -> bytes:
        start, end = self.span(line)
        return os.pread(self.fd, end - start, start)

    def read_lines(self, first: int, stop: int) -> tuple[int, bytes]:
        """Lines [first, stop) with their newlines, and the offset they start at."""
        start = self.ends[first - 1] + 1 if first else 0
        end = self.ends[stop - 1] + 1
        data = os.pread(self.fd, end - start, start)
        if len(data) != end - start:
            raise FileChanged(f"{self.path} shrank while it was being read")
        return start, data

    def read_lines_into(self, buffer: bytearray, first: int, stop: int) -> tuple[int, bytearray, int]:
        """Lines [first, stop) read into ``buffer`` (or a bigger one if they do not fit): the offset they
        start at, the buffer and how many bytes of it are theirs. Reusing one buffer spares the memory
        mapping and zeroing a fresh megabyte costs on every chunk."""
        start = self.ends[first - 1] + 1 if first else 0
        size = self.ends[stop - 1] + 1 - start
        if size > len(buffer):
            buffer = bytearray(size)
        got = os.preadv(self.fd, [memoryview(buffer)[:size]], start)
        if got != size:
            raise FileChanged(f"{self.path} shrank while it was being read")
        return start, buffer, size

    def chunk_end(self, first: int, limit: int = CHUNK) -> int:
        """The end of a run of lines from ``first`` of about ``limit`` bytes (at least one line)."""
        start = self.ends[first - 1] + 1 if first else 0
        return max(first + 1, bisect_right(self.ends, start + limit, first, len(self.ends)))

    def is_odd(self, first: int, stop: int) -> list[tuple[int, int]]:
        """The parts of [first, stop) that are odd (see ``ODD_ORDER_ID``)."""
        return [(max(a, first), min(b, stop)) for a, b in self.odd if a < stop and b > first]

    @property
    def unfinished(self) -> int:
        """Bytes after the last newline: a line still being written, or torn by a crash."""
        return max(0, self.size - self.indexed)

    # -- growing (the worker only) ------------------------------------------------------------------

    def check_same_file(self) -> int:
        """The file's size now; raises FileChanged when it shrank below what is indexed or another file
        took its name."""
        size = os.fstat(self.fd).st_size
        if size < self.indexed:
            raise FileChanged(f"{self.path} became shorter than what was read of it")
        try:
            info = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return size  # deleted: what is open is still the day's log as it was
        if (info.st_dev, info.st_ino) != self.identity:
            raise FileChanged(f"{self.path} was replaced by another file")
        return size

    def step(self, limit: int = CHUNK) -> int:
        """Index up to ``limit`` more bytes of the file; returns how many lines were added (0 when the
        file has nothing new, or only the middle of a long line)."""
        self.size = size = os.fstat(self.fd).st_size
        if size < self.indexed:
            raise FileChanged(f"{self.path} became shorter than what was read of it")
        if self.scanned >= size:
            return 0
        base = self.scanned
        data = os.pread(self.fd, min(limit, size - base), base)
        cut = data.rfind(b"\n")
        if cut < 0:
            self.scanned = base + len(data)
            return 0
        body = data[:cut]
        del data
        parts = body.split(b"\n")
        first = len(self.ends)
        # Newline offsets: each line's length plus its newline, summed from the chunk's start.
        ends = array("Q", islice(accumulate(map(add, map(len, parts), repeat(1)), initial=base - 1), 1, None))
        lengths = list(map(len, parts))
        # The first line began where the unfinished one did, maybe before this chunk.
        lengths[0] = ends[0] - self.indexed
        blank = []
        if min(lengths) < SHORT_LINE:
            for k, n in enumerate(lengths):
                if n < SHORT_LINE:
                    text = parts[k] if k or base == self.indexed else self._line_at(self.indexed, ends[0])
                    if not text.strip():
                        blank.append(first + k)
        odd = [first] if self.indexed < base else []  # a line longer than a chunk: its start went unchecked
        for match in ODD_ORDER_ID.finditer(body):
            odd.append(first + bisect_left(ends, base + match.start()))
        del parts, body
        self.ends.extend(ends)
        self._add_rows(first, len(ends), blank)
        for line in odd:
            if self.odd and self.odd[-1][1] >= line:
                self.odd[-1] = (self.odd[-1][0], max(self.odd[-1][1], line + 1))
            else:
                self.odd.append((line, line + 1))
        self.indexed = self.scanned = ends[-1] + 1
        return len(ends)

    def absorb(self, progress: IndexProgress) -> None:
        """Grow this index from a report of the same file's index in another process (the window keeps
        such a copy to read rows; the worker process does the reading through the file)."""
        if progress.identity != self.identity:
            raise FileChanged(f"{self.path} was replaced by another file")
        if progress.first_line != len(self.ends):
            raise ValueError(f"index report out of order: lines from {progress.first_line}, "
                             f"have {len(self.ends)}")
        first = len(self.ends)
        self.ends.frombytes(progress.ends)
        self._add_rows(first, len(self.ends) - first, progress.blank)
        self.indexed = self.scanned = progress.indexed
        self.size = progress.size
        self.caught_up = progress.caught_up

    def _line_at(self, start: int, end: int) -> bytes:
        return os.pread(self.fd, end - start, start)

    def _add_rows(self, first: int, count: int, blank: list[int]) -> None:
        if blank and self.rows is None:
            self.rows = array("Q", range(first))
        self.blank.extend(blank)
        if self.rows is not None:
            if not blank:
                self.rows.extend(range(first, first + count))
            else:
                skip = set(blank)
                self.rows.extend(line for line in range(first, first + count) if line not in skip)



# -- jobs: generators run a step at a time by logview.jobs.Worker; ``report`` runs on the worker's thread --


@dataclass
class IndexProgress:
    rows: int
    lines: int
    indexed: int
    size: int
    caught_up: bool  # everything the file holds is indexed (but an unfinished last line)
    unfinished: int
    # What is new since the last report, for a copy of the index in another process (``absorb``).
    first_line: int = 0
    ends: bytes = b""
    blank: list[int] = field(default_factory=list)
    identity: tuple[int, int] = (0, 0)


def index_job(index: LineIndex, report: Callable[[IndexProgress], None], follow: bool = True,
              chunk: int = CHUNK) -> Steps:
    """Index the file; then (``follow``) keep indexing what is appended to it. Reports the first chunk at
    once (the first rows can be shown), then now and then, and whenever it catches up; each report
    carries the lines indexed since the one before."""
    last_report = 0.0
    reported: tuple[int, int, bool] | None = None
    sent_lines = sent_blank = 0

    def send() -> None:
        nonlocal sent_lines, sent_blank
        lines, blanks = index.line_count, len(index.blank)
        report(IndexProgress(index.row_count, lines, index.indexed, index.size, index.caught_up, index.unfinished,
                             sent_lines, index.ends[sent_lines:lines].tobytes(), index.blank[sent_blank:blanks],
                             index.identity))
        sent_lines, sent_blank = lines, blanks

    while True:
        added = index.step(chunk)
        index.caught_up = index.scanned >= index.size
        state = (index.row_count, index.unfinished, index.caught_up)
        now = time.monotonic()
        if added:
            if reported is None or index.caught_up or now - last_report >= INDEX_REPORT_EVERY:
                send()
                reported, last_report = state, now
            yield GREW
        elif not index.caught_up:
            yield WORKED  # the middle of a line longer than a chunk
        else:
            if state != reported:
                send()
                reported, last_report = state, now
            if not follow:
                return
            index.check_same_file()
            yield IDLE




def lines_job(index: LineIndex, lines: Sequence[int], consume: Callable[[int, bytes], None],
              report: Callable[[int, bool], None]) -> Steps:
    """Hand each of ``lines`` (ascending line indices) with its bytes to ``consume``, reading the file a
    chunk at a time; ``report(done, finished)`` now and then and at the end."""
    done = 0
    last_report = time.monotonic()
    ends = index.ends
    while done < len(lines):
        stop = index.chunk_end(lines[done])
        base, data = index.read_lines(lines[done], stop)
        while done < len(lines) and lines[done] < stop:
            line = lines[done]
            start = ends[line - 1] + 1 if line else 0
            consume(line, data[start - base:ends[line] - base])
            done += 1
        now = time.monotonic()
        if now - last_report >= REPORT_EVERY:
            report(done, False)
            last_report = now
        yield WORKED
    report(done, True)

