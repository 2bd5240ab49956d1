"""Wire taps: watch what the gateway reads from its clients and hands to their sockets, without patching it.

Benchmarks and tests need to know *when* something crossed the wire on the gateway's side (bench/benchgw.py
stamps when a placeOrder was read and when an execDetails went to the socket). They used to wrap private
methods of the session, which silently stopped working when the output path moved; a tap is the supported
way, and the gateway calls it from wherever its read and write paths are.

Taps run on the gateway's event loop, inside its read and write paths: they must be quick and must not
block. A tap that raises is logged and removed, so it can never break a connection.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

log = logging.getLogger(__name__)


class WireTap(Protocol):
    def request(self, client_id: int | None, fields: list[str]) -> None:
        """A request was read from a client: its text fields (message id first), before it is handled.

        ``client_id`` is None until the client's startApi has been handled.
        """

    def written(self, client_id: int | None, frames: Sequence[bytes]) -> None:
        """These frames (each a 4-byte length prefix and its payload) were handed to the client's socket,
        in this order, with one write."""


class WireTaps:
    """The taps of one gateway; cheap to call when there are none."""

    def __init__(self) -> None:
        self._taps: list[WireTap] = []

    def __bool__(self) -> bool:
        return bool(self._taps)

    def add(self, tap: WireTap) -> None:
        if tap not in self._taps:
            self._taps.append(tap)

    def remove(self, tap: WireTap) -> None:
        if tap in self._taps:
            self._taps.remove(tap)

    def request(self, client_id: int | None, fields: list[str]) -> None:
        for tap in list(self._taps):
            try:
                tap.request(client_id, fields)
            except Exception:
                self._failed(tap)

    def written(self, client_id: int | None, frames: Sequence[bytes]) -> None:
        for tap in list(self._taps):
            try:
                tap.written(client_id, frames)
            except Exception:
                self._failed(tap)

    def _failed(self, tap: WireTap) -> None:
        log.exception("wire tap %r failed; removing it", tap)
        self.remove(tap)
