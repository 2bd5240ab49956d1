"""Full garbage collections that stay short however many fills the day holds (Qt-free).

CPython's full (generation 2) collection walks every container object alive. A trading day is millions of
them (the library's Fill/Execution/Contract objects, the handler's records, the models' rows), and one full
collection over them held the GUI loop for half a second during a burst of 100,000 executions
(bench/window_bench.py, docs/benchmarks.md). What survives a full collection is long-lived, so right after
one the survivors are frozen (``gc.freeze``): later collections skip them and walk only what was allocated
since, in a few milliseconds.

The price is that a frozen object which later becomes part of an unreachable cycle is not reclaimed while
frozen. The records and the library's objects of a session stay alive as long as the session, so the
session ``hold()``s the policy while it runs and ``release()``s it when it stops; the last release unfreezes
everything, and the session's garbage is collected as usual.
"""

from __future__ import annotations

import gc
from typing import Any

_holders = 0


def _freeze_after_full_collection(phase: str, info: dict[str, Any]) -> None:
    # Right after a full collection the younger generations are empty: only reachable objects are left.
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()


def hold() -> None:
    """A session starts: freeze what is alive now, and the survivors of every full collection from now on."""
    global _holders
    _holders += 1
    if _holders == 1:
        gc.callbacks.append(_freeze_after_full_collection)
        gc.freeze()


def release() -> None:
    """A session ends; after the last one, everything frozen is collectable again."""
    global _holders
    if _holders == 0:
        return
    _holders -= 1
    if _holders == 0:
        if _freeze_after_full_collection in gc.callbacks:
            gc.callbacks.remove(_freeze_after_full_collection)
        gc.unfreeze()


def holding() -> bool:
    return _holders > 0
