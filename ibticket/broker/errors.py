"""What the broker layer raises, in one place every module of it (and its callers) can import."""

from __future__ import annotations

from pathlib import Path


class NotConnectedError(ConnectionError):
    """Not connected to IB (or no longer): nothing was sent."""


class LiveTradingRefused(ConnectionError):
    """Connecting would reach a live account without ``allow_live=True``."""


class ClientIdInUse(ConnectionError):
    """Another ibticket process uses this client id with this order log folder."""

    def __init__(self, client_id: int, folder: Path, pid: int | None) -> None:
        self.client_id = client_id
        self.folder = folder
        self.pid = pid
        who = f"process {pid}" if pid else "another process"
        super().__init__(
            f"Client id {client_id} is already in use by {who} with the order log in {folder}. "
            "Close that ibticket first, or give this one another client id (client_id=… or IBTICKET_CLIENT_ID)."
        )


class LogFolderUnwritable(OSError):
    """The order log folder cannot be written, so no order could be logged before it is sent."""

    def __init__(self, folder: Path, cause: OSError) -> None:
        self.folder = folder
        self.cause = cause
        reason = cause.strerror or str(cause)
        super().__init__(
            cause.errno,
            f"The order log folder {folder} cannot be written ({reason}): nothing can be sent. Make it "
            "writable, or choose another order log folder, then connect again.",
        )

    def __str__(self) -> str:
        return str(self.strerror)


class BrokerClosedError(RuntimeError):
    """A call on an IBKRBroker after its close(): its thread and event loop are gone."""
