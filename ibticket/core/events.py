"""One event primitive for every part that tells others what happened: the handler's fills and statuses,
the order log's health, quotes, positions, the connection. Qt-free; the window hears them all through one
bridge (``gui/bridge.py``) that turns them into Qt signals.

Listeners are called in the order they connected, with the emitter's arguments, on the emitter's thread.
One that raises is logged and the others still get their turn: a broken view must never starve the order
log or another view of a fill.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")

log = logging.getLogger(__name__)


class Event(Generic[P]):
    __slots__ = ("_listeners", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[Callable[P, object]] = []

    def connect(self, listener: Callable[P, object]) -> None:
        """Add ``listener``; connecting the same one twice calls it once."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def disconnect(self, listener: Callable[P, object]) -> None:
        """Remove ``listener``; one never connected is ignored."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def emit(self, *args: P.args, **kwargs: P.kwargs) -> None:
        # A copy: a listener may disconnect itself (or connect another) while it is called.
        for listener in list(self._listeners):
            try:
                listener(*args, **kwargs)
            except Exception:
                log.exception("%s listener %r raised", self.name, listener)

    def __len__(self) -> int:
        return len(self._listeners)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._listeners)} listeners)"
