"""The log viewer's filters: what rows to show, and the job that finds them in a day file; Qt-free.

Filters find candidate lines with a plain bytes search (as fast as ``grep``), then parse each candidate to
confirm it, so a filter never shows a line the reader would judge otherwise.
"""

from __future__ import annotations

import json
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..core.logreader import parse_line
from .index import CHUNK, IDLE, REPORT_EVERY, SHORT_LINE, WORKED, LineIndex, Steps

UNREADABLE = "UNREADABLE"  # the event-type filter for lines the reader cannot use


def _json_text(text: str) -> bytes:
    """``text`` as the logger writes it inside a JSON string (ASCII, with escapes)."""
    return json.dumps(text)[1:-1].encode("ascii")


@dataclass(frozen=True)
class FilterSpec:
    """What rows to show; every part that is set must match.

    ``order``: a number (or ``#42``) is an order id, anything else a part of the order reference.
    ``text``: found anywhere in the line as written (names and values alike), ignoring case; it also
    finds unreadable lines. ``same_ref``: an order's history keeps to the events of that order reference
    (another client sharing the folder may have used the same order id).
    """

    event_type: str = ""
    symbol: str = ""
    order: str = ""
    text: str = ""
    same_ref: str | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.event_type or self.symbol or self.order or self.text or self.same_ref)

    @property
    def order_id(self) -> int | None:
        text = self.order.strip().lstrip("#").strip()
        return int(text) if text.isascii() and text.isdigit() else None

    @property
    def ref(self) -> str:
        return "" if self.order_id is not None else self.order.strip()

    def accepts(self, event: dict[str, Any] | None, raw: bytes) -> bool:
        if self.text and not self._text_in(raw):
            return False
        if event is None:
            return self.event_type in ("", UNREADABLE) and not (self.symbol or self.order or self.same_ref)
        if self.event_type and event.get("event_type") != self.event_type:
            return False
        if self.symbol and str(event.get("symbol") or "").upper() != self.symbol.strip().upper():
            return False
        order_id = self.order_id
        if order_id is not None and event.get("order_id") != order_id:
            return False
        ref = self.ref.casefold()
        if ref and not any(ref in str(event.get(k) or "").casefold() for k in ("order_ref", "attempt_ref")):
            return False
        return not (self.same_ref and event.get("order_ref") not in (None, "", self.same_ref))

    def _text_in(self, raw: bytes) -> bool:
        lowered = raw.lower()
        return any(needle in lowered for needle in self._needles())

    def _needles(self) -> tuple[bytes, ...]:
        text = self.text.strip()
        forms = {text.encode("utf-8").lower(), _json_text(text).lower()}
        return tuple(sorted(forms))

    def prefilter(self) -> Prefilter | None:
        """The fastest bytes search that finds every line this filter can accept (and some others)."""
        order_id = self.order_id
        if order_id is not None:
            return Prefilter(b'"order_id": ' + str(order_id).encode(), False, follow=b",}", needs_canonical=True)
        if self.ref:
            return Prefilter(_json_text(self.ref).lower(), True)
        if self.text.strip():
            needles = self._needles()
            return Prefilter(needles[0], True, also=needles[1:])
        if self.symbol.strip():
            return Prefilter(b'"' + _json_text(self.symbol.strip()).lower() + b'"', True)
        if self.event_type and self.event_type != UNREADABLE:
            return Prefilter(b'"' + _json_text(self.event_type) + b'"', False)
        return None


@dataclass(frozen=True)
class Prefilter:
    """A bytes search for candidate lines. ``lower``: search the lower-cased chunk. ``follow``: the byte
    after a hit must be one of these. ``needs_canonical``: only lines written the logger's way can be
    found like this; the index's odd lines are parsed instead."""

    needle: bytes
    lower: bool
    follow: bytes = b""
    needs_canonical: bool = False
    also: tuple[bytes, ...] = ()

    def hits(self, data: bytes | bytearray, size: int) -> list[int]:
        """Offsets in ``data[:size]`` of one hit per line, in order."""
        if self.lower:
            data = data[:size].lower()
        found: list[int] = []
        for needle in (self.needle, *self.also):
            found.extend(self._hits(data, size, needle))
        if self.also:
            found = sorted(set(found))
        return found

    def _hits(self, data: bytes | bytearray, size: int, needle: bytes) -> Iterator[int]:
        find = data.find
        length = len(needle)
        follow = self.follow
        at = find(needle, 0, size)
        while at >= 0:
            after = data[at + length:at + length + 1]
            if not follow or (after and after in follow):
                yield at
                # One hit per line is enough: go on from the line's end.
                end = find(b"\n", at + length, size)
                if end < 0:
                    return
                at = find(needle, end + 1, size)
            else:
                at = find(needle, at + length, size)


def scan_lines(index: LineIndex, spec: FilterSpec, first: int, stop: int,
               buffer: bytearray | None = None) -> list[int]:
    """The lines in [first, stop) the filter accepts (one chunk's worth: keep stop - first modest)."""
    base, data, size = index.read_lines_into(buffer if buffer is not None else bytearray(), first, stop)
    ends = index.ends
    prefilter = spec.prefilter()
    if prefilter is None:
        candidates: Any = range(first, stop)
    else:
        lines = []
        last = -1
        for at in prefilter.hits(data, size):
            line = bisect_left(ends, base + at, first, stop)
            if line != last:
                lines.append(line)
                last = line
        if prefilter.needs_canonical:
            odd = index.is_odd(first, stop)
            if odd:
                lines = sorted(set(lines).union(*(range(a, b) for a, b in odd)))
        candidates = lines
    found = []
    for line in candidates:
        start = ends[line - 1] + 1 if line else 0
        raw = bytes(data[start - base:ends[line] - base])
        if len(raw) < SHORT_LINE and not raw.strip():
            continue  # a blank line is no row
        event, _problem = parse_line(raw)
        if spec.accepts(event, raw):
            found.append(line)
    return found



@dataclass
class FilterProgress:
    matches: array[int]  # line indices found since the last report
    scanned: int  # lines looked at so far
    caught_up: bool  # every indexed line has been looked at and the index has caught up with the file


def filter_job(index: LineIndex, spec: FilterSpec, report: Callable[[FilterProgress], None],
               follow: bool = True) -> Steps:
    """Find the lines ``spec`` accepts, in file order, following the index as it grows."""
    scanned = 0
    pending = array("Q")
    last_report = time.monotonic()
    reported_done = False
    buffer = bytearray(CHUNK)
    while True:
        if scanned < index.line_count:
            stop = index.chunk_end(scanned)
            pending.extend(scan_lines(index, spec, scanned, stop, buffer))
            scanned = stop
            now = time.monotonic()
            if now - last_report >= REPORT_EVERY:
                report(FilterProgress(pending, scanned, False))
                pending, last_report, reported_done = array("Q"), now, False
            yield WORKED
        elif index.caught_up:
            if pending or not reported_done:
                report(FilterProgress(pending, scanned, True))
                pending, last_report, reported_done = array("Q"), time.monotonic(), True
            if not follow:
                return
            yield IDLE
        else:
            yield IDLE

