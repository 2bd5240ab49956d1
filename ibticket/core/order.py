"""The order a trader asks for, as one value: built (and so checked) once where it is entered — the ticket,
the order line, a script — and passed unchanged through the desk and the broker to the handler and the wire.

An ``OrderRequest`` cannot exist with a bad field: construction normalises every field (``"buy"`` →
``BUY``, ``"LMT"`` → ``LIMIT``, a symbol to upper case) or raises ``OrderValidationError`` with a message a
trader understands. ``dataclasses.replace`` builds a new one through the same checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .dedup import OrderKey
from .records import TIME_IN_FORCE, OrderRecord
from .validation import (
    OrderValidationError,
    normalize_action,
    normalize_order_type,
    normalize_price,
    normalize_quantity,
    normalize_symbol,
)

_LIMIT_TYPES = ("LIMIT", "STOP_LIMIT")
_STOP_TYPES = ("STOP", "STOP_LIMIT")


@dataclass(frozen=True)
class OrderRequest:
    symbol: str
    action: str  # BUY or SELL
    quantity: int
    order_type: str = "MARKET"  # MARKET, LIMIT, STOP, STOP_LIMIT
    limit_price: float | None = None
    stop_price: float | None = None
    tif: str = "DAY"  # DAY, GTC, IOC
    outside_rth: bool = False
    # What the next order types add, each in this one place: attached legs (a bracket's take-profit and
    # stop-loss), a one-cancels-all group, a trailing amount or percent, a good-till date. They are checked
    # here; the broker refuses what it cannot send yet.
    legs: tuple[OrderRequest, ...] = field(default=(), compare=True)
    oca_group: str | None = None
    trail_amount: float | None = None
    trail_percent: float | None = None
    good_till: datetime | None = None

    def __post_init__(self) -> None:
        # The order of the checks is the order of the messages a trader sees for a line with several faults:
        # the type first (it decides which prices belong), then the prices' presence, the TIF, then values.
        kind = normalize_order_type(self.order_type)
        name = kind.replace("_", " ").lower()
        needs_limit, needs_stop = kind in _LIMIT_TYPES, kind in _STOP_TYPES
        if needs_limit and self.limit_price is None:
            raise OrderValidationError(f"A {name} order needs a limit price")
        if not needs_limit and self.limit_price is not None:
            raise OrderValidationError(f"A {name} order takes no limit price")
        if needs_stop and self.stop_price is None:
            raise OrderValidationError(f"A {name} order needs a stop price")
        if not needs_stop and self.stop_price is not None:
            raise OrderValidationError(f"A {name} order takes no stop price")
        tif = self.tif.strip().upper() if isinstance(self.tif, str) else ""
        if tif not in TIME_IN_FORCE:
            raise OrderValidationError(f"Time in force must be one of {', '.join(TIME_IN_FORCE)}, not {self.tif!r}")
        if not isinstance(self.outside_rth, bool):
            raise OrderValidationError("Outside regular trading hours must be yes or no")
        fields = {
            "symbol": normalize_symbol(self.symbol),
            "action": normalize_action(self.action),
            "quantity": normalize_quantity(self.quantity),
            "order_type": kind,
            "limit_price": normalize_price(self.limit_price, "Limit price") if needs_limit else None,
            "stop_price": normalize_price(self.stop_price, "Stop price") if needs_stop else None,
            "tif": tif,
        }
        for key, value in fields.items():
            object.__setattr__(self, key, value)
        self._check_extensions(name)

    def _check_extensions(self, name: str) -> None:
        if not isinstance(self.legs, tuple) or not all(isinstance(leg, OrderRequest) for leg in self.legs):
            raise OrderValidationError("Attached orders must be orders")
        for leg in self.legs:
            if leg.symbol != self.symbol or leg.action == self.action:
                raise OrderValidationError(
                    f"An attached order closes the position: {leg.action} {leg.symbol} cannot be attached to "
                    f"{self.action} {self.symbol}"
                )
        if self.oca_group is not None and (not isinstance(self.oca_group, str) or not self.oca_group.strip()):
            raise OrderValidationError("A one-cancels-all group needs a name")
        # No order type takes a trailing amount or a good-till date yet (TRAIL, GTD come with their issue).
        for value, what in ((self.trail_amount, "trailing amount"), (self.trail_percent, "trailing percent")):
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                    raise OrderValidationError(f"The {what} must be a number")
                raise OrderValidationError(f"A {name} order takes no {what}")
        if self.good_till is not None:
            raise OrderValidationError(f"A {self.tif} order takes no good-till date")

    @classmethod
    def of_record(cls, record: OrderRecord, **changes: object) -> OrderRequest:
        """The request a record was made from (with ``changes``): for a retry, a modify, its description."""
        fields: dict[str, object] = {
            "symbol": record.symbol, "action": record.action, "quantity": record.total_quantity,
            "order_type": record.order_type, "limit_price": record.limit_price, "stop_price": record.stop_price,
            "tif": record.tif, "outside_rth": record.outside_rth,
        }
        fields.update(changes)
        return cls(**fields)  # type: ignore[arg-type]

    def new_record(self, order_id: int, **fields: Any) -> OrderRecord:
        """A record of this order under ``order_id``; ``fields``: the record's other fields (status, ...)."""
        return OrderRecord(
            order_id=order_id, symbol=self.symbol, action=self.action, total_quantity=self.quantity,
            order_type=self.order_type, limit_price=self.limit_price, stop_price=self.stop_price, tif=self.tif,
            outside_rth=self.outside_rth, **fields,
        )

    @property
    def duplicate_key(self) -> OrderKey:
        """What makes two orders the same trade for the duplicate guard (TIF and session do not)."""
        return OrderKey(self.symbol, self.action, self.quantity, self.order_type, self.limit_price,
                        self.stop_price)


def validate_request(
    symbol: object,
    action: object,
    quantity: object,
    order_type: object = "MARKET",
    limit_price: object = None,
    stop_price: object = None,
    tif: object = "DAY",
    outside_rth: object = False,
) -> OrderRequest:
    """An ``OrderRequest`` from loose fields in the seed API's order (symbol, side, quantity, ...)."""
    return OrderRequest(symbol, action, quantity, order_type, limit_price, stop_price, tif, outside_rth)  # type: ignore[arg-type]
