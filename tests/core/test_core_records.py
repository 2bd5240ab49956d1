"""The record types' public shape: status strings, Fill's signature, OrderRecord's seed fields, imports."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import json
import subprocess
import sys
from datetime import datetime

import pytest

from ibticket.core import BrokerAttempt, Fill, OrderRecord, OrderStatus

TS = datetime(2026, 2, 18, 10, 30, 45, 123456)


def test_order_status_values_are_exactly_the_seed_strings():
    assert [s.value for s in OrderStatus] == [
        "Pending", "Submitted", "PartiallyFilled", "Filled", "Cancelled", "Error",
    ]
    assert [s.name for s in OrderStatus] == [
        "PENDING", "SUBMITTED", "PARTIALLY_FILLED", "FILLED", "CANCELLED", "ERROR",
    ]
    # Statuses compare equal to, and round-trip from, their strings (the log stores the string).
    assert OrderStatus("PartiallyFilled") is OrderStatus.PARTIALLY_FILLED
    assert OrderStatus.FILLED == "Filled"
    assert json.dumps(OrderStatus.CANCELLED) == '"Cancelled"'


def test_fill_signature_is_the_seed_one():
    params = inspect.signature(Fill).parameters
    # The seed's fields in the seed's order; beyond them only optional ones (the order's side, for a blotter;
    # whether it completed its order, for the day's summary).
    assert list(params) == ["fill_id", "order_id", "symbol", "quantity", "price", "timestamp", "commission", "side",
                            "completes"]
    required = [name for name, p in params.items() if p.default is inspect.Parameter.empty]
    assert required == ["fill_id", "order_id", "symbol", "quantity", "price", "timestamp"]
    assert params["commission"].default == 0.0 and params["side"].default == ""
    assert params["completes"].default is False

    fill = Fill("0001f4e8.01", 7, "AAPL", 50, 150.25, TS)
    assert (fill.fill_id, fill.order_id, fill.symbol, fill.quantity, fill.price, fill.timestamp, fill.commission) == (
        "0001f4e8.01", 7, "AAPL", 50, 150.25, TS, 0.0,
    )
    assert Fill("x", 1, "AAPL", 1, 1.0, TS, 1.5).commission == 1.5


def test_order_record_seed_fields_and_defaults():
    record = OrderRecord(1, "AAPL", "BUY", 100)
    assert (record.order_id, record.symbol, record.action, record.total_quantity) == (1, "AAPL", "BUY", 100)
    assert record.order_type == "MARKET"
    assert record.limit_price is None
    assert record.status is OrderStatus.PENDING
    assert record.filled_quantity == 0
    assert record.remaining_quantity == 100  # derived from the total when not given
    assert record.avg_fill_price == 0.0
    assert record.fills == []
    assert record.error_message is None
    assert record.submission_time is None
    assert record.last_update_time is None
    assert record.retry_count == 0
    # The seed's fields come first and in the seed's order, so positional construction keeps working.
    names = [f.name for f in dataclasses.fields(OrderRecord)]
    assert names[:15] == [
        "order_id", "symbol", "action", "total_quantity", "order_type", "limit_price", "status",
        "filled_quantity", "remaining_quantity", "avg_fill_price", "fills", "error_message",
        "submission_time", "last_update_time", "retry_count",
    ]
    # Mutable defaults are not shared between records.
    other = OrderRecord(2, "MSFT", "SELL", 5)
    other.fills.append(Fill("e", 2, "MSFT", 1, 1.0, TS))
    assert record.fills == []


def test_remaining_quantity_derives_from_filled_when_not_given():
    assert OrderRecord(1, "AAPL", "BUY", 100, filled_quantity=30).remaining_quantity == 70
    assert OrderRecord(1, "AAPL", "BUY", 100, remaining_quantity=10).remaining_quantity == 10


def test_order_record_to_dict_is_json_serialisable_and_complete():
    record = OrderRecord(
        3, "MSFT", "SELL", 100, order_type="LIMIT", limit_price=410.5,
        submission_time=TS, last_update_time=TS, order_ref="ibt-x-3",
    )
    record.attempts.append(BrokerAttempt(order_ref="ibt-x-3/1", quantity=100, order_id=1001, perm_id=55))
    record.add_fill(Fill("e1.01", 3, "MSFT", 40, 410.5, TS, 1.0))
    data = record.to_dict()
    text = json.dumps(data, allow_nan=False)  # plain JSON: no datetime or enum objects left
    assert json.loads(text) == data
    for key in (
        "order_id", "symbol", "action", "total_quantity", "order_type", "limit_price", "status",
        "filled_quantity", "remaining_quantity", "avg_fill_price", "fills", "error_message",
        "submission_time", "last_update_time", "retry_count",
    ):
        assert key in data, key
    assert data["status"] == "PartiallyFilled"
    assert data["filled_quantity"] == 40
    assert data["remaining_quantity"] == 60
    assert data["avg_fill_price"] == 410.5
    assert data["submission_time"] == TS.isoformat()
    assert data["fills"] == [{
        "fill_id": "e1.01", "order_id": 3, "symbol": "MSFT", "quantity": 40, "price": 410.5,
        "timestamp": TS.isoformat(), "commission": 1.0, "side": "",
    }]
    assert data["attempts"] == [{"order_ref": "ibt-x-3/1", "quantity": 100, "order_id": 1001, "perm_id": 55}]
    assert OrderRecord(9, "A", "BUY", 1).to_dict()["submission_time"] is None


_QT_OR_IB = ("PySide6", "shiboken6", "ib_insync", "ib_async", "eventkit", "qasync", "pyqtgraph")


def test_core_names_import_from_ibticket_without_qt_or_ib_insync():
    if all(importlib.util.find_spec(name) is None for name in ("PySide6", "ib_insync", "ib_async")):
        pytest.skip("neither Qt nor an IB library is installed: nothing could be imported by accident")
    code = (
        "import json, sys\n"
        "from ibticket import OrderStatus, Fill, OrderRecord, OrderExecutionHandler, OrderLogger\n"
        "import ibticket.core as core\n"
        "assert (OrderStatus, Fill, OrderRecord, OrderExecutionHandler, OrderLogger) == "
        "(core.OrderStatus, core.Fill, core.OrderRecord, core.OrderExecutionHandler, core.OrderLogger)\n"
        f"heavy = {_QT_OR_IB!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
