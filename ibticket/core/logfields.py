"""What every order-log line about an order carries (Qt-free)."""

from __future__ import annotations

from typing import Any

from .records import OrderRecord, OrderStatus


def order_fields(record: OrderRecord) -> dict[str, Any]:
    """The keys every event about an order carries, so any single line can be read on its own."""
    fields: dict[str, Any] = {
        "order_id": record.order_id,
        "symbol": record.symbol,
        "action": record.action,
        "quantity": record.total_quantity,
        "order_type": record.order_type,
        "status": record.status.value,
        "submission_time": record.submission_time.isoformat() if record.submission_time else None,
        "filled_quantity": record.filled_quantity,
        "remaining_quantity": record.remaining_quantity,
        "avg_fill_price": record.avg_fill_price,
        "order_ref": record.order_ref,
    }
    if record.limit_price is not None:
        fields["limit_price"] = record.limit_price
    if record.stop_price is not None:
        fields["stop_price"] = record.stop_price
    if record.tif != "DAY":
        fields["tif"] = record.tif
    if record.outside_rth:
        fields["outside_rth"] = True
    return fields


def _status_text(status: OrderStatus | str | None) -> str | None:
    if status is None:
        return None
    return status.value if isinstance(status, OrderStatus) else str(status)
