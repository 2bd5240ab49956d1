"""Delivering order callbacks to scripts on a thread of their own.

The broker's loop thread must never block, and a script's callback may well call the broker again (the
spec's strategy places its next order from ``on_fill``). So callbacks run, in order, on a dispatcher
thread, each with a snapshot of the record as it was when the event happened.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from ..core.records import OrderRecord

log = logging.getLogger(__name__)
_STOP = object()


def snapshot(record: OrderRecord) -> OrderRecord:
    """A copy the caller may keep, unaffected by later fills, commissions and corrections.

    O(1) in the order's fills: ``fills`` is a read-only ``FillsView`` sharing the record's list (which
    only grows in place; a Fill in it is never changed in place). Copying the list instead made the fill
    path quadratic in one order's executions: every fill callback copied every fill before it. Attempts
    (one per placement, a handful) are copied.
    """
    return record.snapshot()


class CallbackDispatcher:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="ibticket-callbacks", daemon=True)
        self._thread.start()
        self._wrappers: dict[tuple[str, Callable[..., Any]], Callable[..., Any]] = {}

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            callback, args = item
            try:
                callback(*args)
            except Exception:
                log.exception("order callback %r raised", callback)

    def wrap(self, kind: str, callback: Callable[..., Any]) -> Callable[..., Any]:
        """The function to register with the handler: it queues the call with a snapshot."""

        def enqueue(record: OrderRecord, *rest: Any) -> None:
            self._queue.put((callback, (snapshot(record), *rest)))

        self._wrappers[(kind, callback)] = enqueue
        return enqueue

    def unwrap(self, kind: str, callback: Callable[..., Any]) -> Callable[..., Any] | None:
        return self._wrappers.pop((kind, callback), None)

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what is queued, then stop."""
        self._queue.put(_STOP)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
