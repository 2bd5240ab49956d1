"""A day's counts, with one definition of a partial fill for the handler's records
(``OrderExecutionHandler.summary``) and the order log's events (``logreader.DaySummary``, ``summarize``).

A fill is *complete* when its execution leaves the order complete (nothing remaining), *partial* when it
leaves the order not yet complete. That is decided when the execution arrives and never again: an order
later cut down to what had filled, or cancelled, does not turn its fills into complete ones; a correction
replaces the execution it corrects and keeps that one's kind.
"""

from __future__ import annotations

from collections.abc import Iterable


def completes_order(remaining_after: object) -> bool:
    """Whether an execution that left ``remaining_after`` to fill completed its order."""
    return remaining_after == 0


def day_counts(
    statuses: Iterable[str], partial: int, complete: int, traded_value: float, commission: float
) -> dict[str, int | float]:
    """The summary both sides report: ``statuses`` are the orders' last statuses, one per order."""
    last = list(statuses)
    return {
        "total_orders": len(last),
        "filled_orders": last.count("Filled"),
        "cancelled_orders": last.count("Cancelled"),
        "error_orders": last.count("Error"),
        "partial_fills": partial,
        "complete_fills": complete,
        "total_fills": partial + complete,
        # Rounded to a hundredth of a cent: running sums of many fills carry float noise beyond that.
        "traded_value": round(traded_value, 4) + 0.0,
        "commission": round(commission, 4) + 0.0,
    }
