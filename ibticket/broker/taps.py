"""Raw order messages from the server, seen before the client library's own bookkeeping.

ib_insync drops fills replayed at reconnect from its events, turns some errors into a local "Cancelled"
for orders that are still live, and keys trades by order id. The app keeps its own state instead, so it
listens to the decoded wire messages themselves: the library's decoder looks these wrapper methods up on
every message, which lets one instance route them here after the library has seen them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

TAPPED = ("orderStatus", "openOrder", "completedOrder", "execDetails", "commissionReport", "error")


class OrderMessageListener(Protocol):
    def on_orderStatus(self, *args: Any) -> None: ...
    def on_openOrder(self, *args: Any) -> None: ...
    def on_completedOrder(self, *args: Any) -> None: ...
    def on_execDetails(self, *args: Any) -> None: ...
    def on_commissionReport(self, *args: Any) -> None: ...
    def on_error(self, *args: Any) -> None: ...


def install_taps(wrapper: object, listener: OrderMessageListener) -> None:
    for name in TAPPED:
        original = getattr(type(wrapper), name).__get__(wrapper)
        setattr(wrapper, name, _tapped(name, original, getattr(listener, f"on_{name}")))


def _tapped(name: str, original: Callable[..., Any], ours: Callable[..., Any]) -> Callable[..., Any]:
    def handler(*args: Any) -> None:
        try:
            original(*args)
        except Exception:
            log.exception("client library failed on %s", name)
        try:
            ours(*args)
        except Exception:
            log.exception("ibticket failed on %s %r", name, args[:3])

    return handler
