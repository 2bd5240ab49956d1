"""Fault injection: the misbehaviours real TWS shows, switched on from tests through a small API.

Most faults are one-shot: they arm a flag that the next matching event consumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class FaultHost(Protocol):
    """What the faults need from the gateway for the faults that act immediately."""

    def drop_all_connections(self) -> int: ...

    def refuse_connections_for(self, seconds: float) -> None: ...

    def send_order_error(self, order_id: int, code: int, text: str, client_id: int | None) -> bool: ...

    def correct_execution(self, exec_id: str, price: float | None, shares: float | None) -> str: ...


@dataclass
class ArmedReject:
    code: int
    text: str


class Faults:
    def __init__(self, host: FaultHost) -> None:
        self._host = host
        self.reject: ArmedReject | None = None
        self.drop_after_executions: int | None = None
        self.message_delay = 0.0
        self.status_first = False
        self.stale_status = False
        self.duplicate_status = False
        self.fill_on_cancel = False
        self.lose_report = False

    def reject_next_order(
        self, code: int = 201, text: str = "Order rejected - reason:Simulated rejection by the paper gateway"
    ) -> None:
        """The next new order gets error `code` with `text` instead of being accepted."""
        self.reject = ArmedReject(int(code), str(text))

    def drop_connections(self, after_executions: int | None = None) -> int:
        """Close every client connection now, or during the next fill after that many of its executions.

        The executions still due after the drop keep happening inside the gateway while the client is away.
        Returns how many connections were closed now (0 when armed for later).
        """
        if after_executions is None:
            return self._host.drop_all_connections()
        if after_executions < 0:
            raise ValueError("after_executions must be >= 0")
        self.drop_after_executions = int(after_executions)
        return 0

    def refuse_connections(self, seconds: float) -> None:
        """Stop listening for that long: connects fail with ECONNREFUSED, as while TWS restarts."""
        self._host.refuse_connections_for(float(seconds))

    def delay_messages(self, seconds: float) -> None:
        """Hold every outgoing message that long (order is kept); 0 switches the delay off."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self.message_delay = float(seconds)

    def send_error(self, order_id: int, code: int, text: str, client_id: int | None = None) -> bool:
        """Send error `code`/`text` for an order id to the order's owner (or to client_id, or to everyone)."""
        return self._host.send_order_error(int(order_id), int(code), str(text), client_id)

    def status_before_execution(self) -> None:
        """The next fill sends its orderStatus before its execDetails."""
        self.status_first = True

    def stale_status_after_fill(self) -> None:
        """After the next order is completely filled, send it a stale "Submitted" orderStatus."""
        self.stale_status = True

    def duplicate_next_status(self) -> None:
        """The next orderStatus is sent twice."""
        self.duplicate_status = True

    def correct_execution(self, exec_id: str, price: float | None = None, shares: float | None = None) -> str:
        """Publish a correction of exec_id (same id, suffix + 1); returns the correction's execId."""
        return self._host.correct_execution(exec_id, price, shares)

    def fill_after_cancel(self) -> None:
        """The next cancelOrder fills the rest of the order first and is then answered with 10148."""
        self.fill_on_cancel = True

    def lose_next_execution_report(self) -> None:
        """The next execution's execDetails and commission report never reach the client, as when TWS loses
        its link to IB (error 1100) meanwhile. The execution happens, its statuses go out, and a later
        reqExecutions reports it: what a client must ask for when the link returns (1101/1102)."""
        self.lose_report = True

    def clear(self) -> None:
        """Disarm every pending fault and switch off the message delay."""
        self.reject = None
        self.drop_after_executions = None
        self.message_delay = 0.0
        self.status_first = self.stale_status = self.duplicate_status = self.fill_on_cancel = False
        self.lose_report = False

    # --- consumption by the gateway ------------------------------------------------------------------
    def take_reject(self) -> ArmedReject | None:
        reject, self.reject = self.reject, None
        return reject

    def take_status_first(self) -> bool:
        armed, self.status_first = self.status_first, False
        return armed

    def take_duplicate_status(self) -> bool:
        armed, self.duplicate_status = self.duplicate_status, False
        return armed

    def take_stale_status(self) -> bool:
        armed, self.stale_status = self.stale_status, False
        return armed

    def take_lose_report(self) -> bool:
        armed, self.lose_report = self.lose_report, False
        return armed

    def take_fill_on_cancel(self) -> bool:
        armed, self.fill_on_cancel = self.fill_on_cancel, False
        return armed
