"""One table that says what an IB error code means for an order.

The classes come from IB's message-code documentation and from how TWS behaves in the field (see
"Reliability rules" in ``docs/order-execution-module.md``). The rule that matters most: only a code that
proves the order never reached IB, or was refused for a transient reason, is retryable. Anything unknown
is treated as permanent, because retrying an order whose state is unknown can double it.
"""

from __future__ import annotations

import re
from enum import StrEnum


class ErrorClass(StrEnum):
    INFO = "info"  # a notice; the order is unaffected (often still live, e.g. held until the open)
    CANCEL_CONFIRM = "cancel_confirm"  # 202: IB confirms a cancel (user- or IB-initiated)
    REQUEST_REJECTED = "request_rejected"  # a modify/cancel was refused; the order itself is unchanged
    PERMANENT = "permanent"  # the order was refused; a person has to change something
    RETRYABLE = "retryable"  # transient; safe to resubmit once IB is reachable


# 1100/1101/1102/1300 are IB connectivity notices: "existing orders will operate normally" through the
# outage, so a resubmit could double an order; the broker reconciles when connectivity returns.
_INFO_CODES = frozenset({165, 354, 399, 404, 492, 1100, 1101, 1102, 1300, 2109, 2137, 10167, 10168, 10197, 10349})
_REQUEST_REJECTED_CODES = frozenset({104, 105, 161, 2102, 10147, 10148})
_PERMANENT_CODES = frozenset(
    {
        103, 107, 109, 110, 111, 160, 163, 200, 201, 203, 303, 321, 355, 382, 383, 387, 388,
        411, 426, 434, 460, 10015, 10318,
    }
)  # fmt: skip
# 504 "Not connected" and 502 "Couldn't connect" mean nothing was written; 100 is pacing; 320/322 are
# transient server faults in reading or processing the request.
_RETRYABLE_CODES = frozenset({100, 320, 322, 502, 504})

_FUNDS_PATTERN = re.compile(
    r"insufficient|margin|equity with loan|buying power|funds|settled cash|reg t|net liq", re.IGNORECASE
)

# Codes this module invents for failures that never came from IB.
TRANSPORT_ERROR = 504  # same meaning as IB's client-side "Not connected"


def is_funds_rejection(message: str) -> bool:
    return bool(_FUNDS_PATTERN.search(message or ""))


def classify(code: int, message: str = "") -> ErrorClass:
    if code == 202:
        return ErrorClass.CANCEL_CONFIRM
    if code in _REQUEST_REJECTED_CODES:
        return ErrorClass.REQUEST_REJECTED
    if code in _INFO_CODES or 2100 <= code <= 2199:
        return ErrorClass.INFO
    if code in _RETRYABLE_CODES:
        return ErrorClass.RETRYABLE
    if code in _PERMANENT_CODES:
        return ErrorClass.PERMANENT
    # Unknown codes: never guess that a resubmit is safe.
    return ErrorClass.PERMANENT


def is_retryable(code: int, message: str = "", retry_rejected: bool = False) -> bool:
    """The default retry policy: transient errors, and plain 201 rejects only when asked for.

    A 201 that names funds or margin is never retried: the same order would be refused again.
    """
    cls = classify(code, message)
    if cls is ErrorClass.RETRYABLE:
        return True
    return retry_rejected and code == 201 and not is_funds_rejection(message)
