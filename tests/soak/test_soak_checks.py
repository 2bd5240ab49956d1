"""The soak's end checks themselves: they must see a lost, doubled, mismatched or twice-sent execution.

A real handler writes a real order log; the gateway's books and the window's dump are built to agree with
it, then spoiled one way at a time.
"""

from __future__ import annotations

import asyncio
import copy
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from soak import CLIENT_ID, SoakResult, compare

from ibticket.core import OrderExecutionHandler, OrderLogger, OrderStatus


@pytest.fixture
def day(tmp_path: Path) -> dict[str, Any]:
    """Two orders: #1 filled in two executions (the second corrected), #2 resting unfilled."""
    logger = OrderLogger(log_dir=tmp_path, log_to_console=False)
    handler = OrderExecutionHandler(logger=logger)

    async def place(record: Any, attempt: Any) -> None:
        attempt.order_id = record.order_id + 100

    handler.set_place_function(place)
    one = handler.create_order("AAPL", "BUY", 10)
    two = handler.create_order("MSFT", "SELL", 5, "LIMIT", 400.0)
    for record in (one, two):
        asyncio.run(handler.place(record))
        handler.handle_status(record.order_id, OrderStatus.SUBMITTED)
    handler.handle_fill(one.order_id, 4, 230.0, exec_id="0000a.b.01.01")
    handler.handle_fill(one.order_id, 6, 230.0, exec_id="0000b.b.01.01")
    handler.handle_fill(one.order_id, 6, 230.01, exec_id="0000b.b.01.02")  # the correction
    logger.close()

    def execution(exec_id: str, corrects: str | None = None) -> SimpleNamespace:
        return SimpleNamespace(exec_id=exec_id, client_id=CLIENT_ID, corrects=corrects)

    def order(record: Any, status: str, filled: int) -> SimpleNamespace:
        return SimpleNamespace(order_ref=record.attempts[0].order_ref, client_id=CLIENT_ID, status=status,
                               filled=filled)

    def plain(record: Any) -> dict[str, Any]:
        return {"order_id": record.order_id, "order_ref": record.order_ref, "status": record.status.value,
                "filled": record.filled_quantity, "total": record.total_quantity,
                "attempts": [a.order_ref for a in record.attempts], "fills": [f.fill_id for f in record.fills]}

    return {
        "executions": [execution("0000a.b.01.01"), execution("0000b.b.01.01"),
                       execution("0000b.b.01.02", corrects="0000b.b.01.01")],
        "orders": [order(one, "Filled", 10), order(two, "Submitted", 0)],
        "dump": {"handler": [plain(one), plain(two)], "fills_model": ["0000a.b.01.01", "0000b.b.01.02"]},
        "log_dir": tmp_path,
    }


def check(day: dict[str, Any]) -> SoakResult:
    result = SoakResult()
    compare(result, day["executions"], day["orders"], day["log_dir"], day["dump"])
    return result


def test_an_app_that_agrees_with_the_gateway_passes(day: dict[str, Any]) -> None:
    result = check(day)
    assert result.ok, result.report()
    assert (result.orders, result.executions, result.corrections) == (2, 2, 1)


def test_each_kind_of_disagreement_is_counted(day: dict[str, Any]) -> None:
    lost = copy.deepcopy(day)
    lost["dump"]["fills_model"].remove("0000a.b.01.01")
    assert check(lost).lost == 1

    doubled = copy.deepcopy(day)
    doubled["dump"]["fills_model"].append("0000a.b.01.01")
    assert check(doubled).duplicated == 1

    superseded = copy.deepcopy(day)
    superseded["dump"]["handler"][0]["fills"].append("0000b.b.01.01")
    assert check(superseded).duplicated == 1

    unknown = copy.deepcopy(day)
    unknown["executions"].append(SimpleNamespace(exec_id="0000c.b.01.01", client_id=CLIENT_ID, corrects=None))
    assert check(unknown).lost == 4  # missing from the log, the rebuilt records, the handler and the model

    status = copy.deepcopy(day)
    status["orders"][1].status = "Cancelled"
    assert check(status).mismatched == 2  # as the log has it, and as the window has it

    twice = copy.deepcopy(day)
    twice["orders"].append(copy.copy(twice["orders"][0]))
    result = check(twice)
    assert result.sent_twice >= 1 and not result.ok

    stranger = copy.deepcopy(day)
    stranger["orders"].append(SimpleNamespace(order_ref="ibt-71-x-9/1", client_id=CLIENT_ID, status="Submitted",
                                              filled=0))
    assert check(stranger).mismatched == 1
