"""OrderRequest: the one order value, checked once where it is built."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from ibticket.core import OrderRecord, OrderRequest, OrderValidationError
from ibticket.core.dedup import OrderKey


def test_building_normalises_every_field() -> None:
    request = OrderRequest(" aapl ", "buy", 100.0, "lmt", 187, None, "gtc", True)  # type: ignore[arg-type]
    assert request == OrderRequest("AAPL", "BUY", 100, "LIMIT", 187.0, None, "GTC", True)
    assert (type(request.quantity), type(request.limit_price)) == (int, float)
    assert OrderRequest("MSFT", "SELL", 5, "stp lmt", 401.5, 400).order_type == "STOP_LIMIT"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"symbol": ""}, "Symbol is required"),
        ({"action": "hold"}, "Side must be buy or sell"),
        ({"quantity": 0}, "at least 1 share"),
        ({"quantity": 1.5}, "has a fraction"),
        ({"order_type": "LIMIT"}, "needs a limit price"),
        ({"limit_price": 10.0}, "takes no limit price"),
        ({"order_type": "STOP_LIMIT", "limit_price": 10.0}, "needs a stop price"),
        ({"tif": "GTD"}, "Time in force must be one of"),
        ({"outside_rth": "yes"}, "yes or no"),
        ({"oca_group": "  "}, "needs a name"),
        ({"trail_amount": 0.5}, "takes no trailing amount"),
        ({"trail_percent": float("nan")}, "must be a number"),
        ({"good_till": datetime(2026, 12, 31, 16)}, "takes no good-till date"),
        ({"legs": ("not an order",)}, "must be orders"),
    ],
)
def test_a_bad_field_is_refused_with_a_message(fields: dict, message: str) -> None:
    base = {"symbol": "AAPL", "action": "BUY", "quantity": 100}
    with pytest.raises(OrderValidationError, match=message):
        OrderRequest(**{**base, **fields})


def test_replace_checks_again() -> None:
    request = OrderRequest("AAPL", "BUY", 100)
    assert dataclasses.replace(request, quantity=200).quantity == 200
    with pytest.raises(OrderValidationError):
        dataclasses.replace(request, quantity=-1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.quantity = 5  # type: ignore[misc]


def test_legs_close_the_entry() -> None:
    take_profit = OrderRequest("AAPL", "SELL", 100, "LIMIT", 190.0)
    entry = OrderRequest("AAPL", "BUY", 100, "LIMIT", 187.25, legs=(take_profit,))
    assert entry.legs == (take_profit,)
    with pytest.raises(OrderValidationError, match="cannot be attached"):
        OrderRequest("AAPL", "SELL", 100, "LIMIT", 187.25, legs=(take_profit,))
    with pytest.raises(OrderValidationError, match="cannot be attached"):
        OrderRequest("MSFT", "BUY", 100, legs=(take_profit,))


def test_the_duplicate_key_is_the_trade_not_its_session() -> None:
    day = OrderRequest("AAPL", "BUY", 100, "LIMIT", 187.25)
    gtc = dataclasses.replace(day, tif="GTC", outside_rth=True)
    assert day.duplicate_key == gtc.duplicate_key == OrderKey("AAPL", "BUY", 100, "LIMIT", 187.25, None)
    assert dataclasses.replace(day, quantity=101).duplicate_key != day.duplicate_key


def test_of_record_is_the_request_a_record_was_made_from() -> None:
    record = OrderRecord(order_id=3, symbol="MSFT", action="SELL", total_quantity=40, order_type="STOP",
                         stop_price=399.5, tif="GTC")
    assert OrderRequest.of_record(record) == OrderRequest("MSFT", "SELL", 40, "STOP", None, 399.5, "GTC")
    assert OrderRequest.of_record(record, quantity=10).quantity == 10
