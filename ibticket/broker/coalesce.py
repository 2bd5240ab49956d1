"""Throttled flushing: many events in, at most one flush per interval out.

A busy symbol ticks far faster than a window can repaint, and a reconnect replays a whole portfolio in
one burst. Sources mark what changed; the flush runs at the end of the current loop turn when the last
one is at least ``interval`` old (so an isolated change is delivered at once), else when the interval is
over, and then sees only the latest values.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable

log = logging.getLogger(__name__)


class Coalescer:
    def __init__(self, interval: float, flush: Callable[[], None]) -> None:
        self.interval = interval
        self._flush = flush
        self._handle: asyncio.Handle | None = None
        self._last = -math.inf

    @property
    def interval(self) -> float:
        return self._interval

    @interval.setter
    def interval(self, seconds: float) -> None:
        if not seconds >= 0:
            raise ValueError(f"interval must be 0 or more seconds, not {seconds!r}")
        self._interval = seconds

    def mark(self) -> None:
        """Something changed: flush soon. Must be called on the loop's thread."""
        if self._handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop runs (a teardown outside it): nothing could be delivered anyway
        wait = self._last + self.interval - loop.time()
        if wait > 0:
            self._handle = loop.call_later(wait, self._run)
        else:
            self._handle = loop.call_soon(self._run)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _run(self) -> None:
        self._handle = None
        try:
            self._last = asyncio.get_running_loop().time()
        except RuntimeError:
            return  # the loop is closing (the app quits): nobody is left to deliver to
        try:
            self._flush()
        except Exception:
            log.exception("flush failed")


class CoalescedFeed:
    """A source whose callbacks a ``Coalescer`` paces; ``interval`` is its setting (seconds)."""

    _coalescer: Coalescer

    @property
    def interval(self) -> float:
        return self._coalescer.interval

    @interval.setter
    def interval(self, seconds: float) -> None:
        self._coalescer.interval = seconds
