"""Precautionary settings: each rule, its boundary, no market data, off, and tolerant settings storage."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from ibticket.trading.precautions import Breach, Precautions, check, estimated_value, market_reference

DEFAULTS = Precautions()
NAN = math.nan


def run(p: Precautions = DEFAULTS, **order: Any) -> list[Breach]:
    base: dict[str, Any] = dict(action="BUY", quantity=100, order_type="MARKET", limit_price=None, stop_price=None,
                                bid=187.00, ask=187.25, last=187.10)
    base.update(order)
    return check(p, **base)


# (case, order fields, expected (rule, message) pairs)
CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    ("small market order", {}, []),
    ("size at the limit", dict(quantity=5000, ask=10.0), []),
    ("size over the limit", dict(quantity=6000, ask=10.0),
     [("size", "Size 6,000 exceeds the size limit of 5,000 shares")]),
    ("value at the limit", dict(quantity=1000, ask=250.0), []),
    ("value that prints as the limit", dict(quantity=1, ask=250_000.004), []),
    ("value a cent over", dict(quantity=1, ask=250_000.01),
     [("value", "Value 250,000.01 USD exceeds the total value limit of 250,000.00 USD")]),
    ("value over on the limit price", dict(quantity=2500, order_type="LIMIT", limit_price=125.0, ask=125.0),
     [("value", "Value 312,500.00 USD exceeds the total value limit of 250,000.00 USD")]),
    ("market buy is valued at the ask", dict(quantity=1000, bid=240.0, ask=260.0),
     [("value", "Value 260,000.00 USD exceeds the total value limit of 250,000.00 USD")]),
    ("market sell is valued at the bid", dict(action="SELL", quantity=1000, bid=240.0, ask=260.0), []),
    ("market order with no touch is valued at the last", dict(quantity=1000, bid=None, ask=None, last=251.0),
     [("value", "Value 251,000.00 USD exceeds the total value limit of 250,000.00 USD")]),
    ("stop is valued at the stop price", dict(action="SELL", quantity=1000, order_type="STOP", stop_price=251.0,
                                              bid=252.0, last=252.0),
     [("value", "Value 251,000.00 USD exceeds the total value limit of 250,000.00 USD")]),
    ("stop limit is valued at the limit price", dict(quantity=1000, order_type="STOP_LIMIT", stop_price=249.0,
                                                     limit_price=251.0, ask=248.0),
     [("value", "Value 251,000.00 USD exceeds the total value limit of 250,000.00 USD")]),
    ("limit exactly 5% away", dict(order_type="LIMIT", limit_price=105.0, ask=100.0), []),
    # in floats this one is 5.000000000000004% away; on the limit all the same
    ("limit exactly 5% away, float-wise", dict(order_type="LIMIT", limit_price=10.794, ask=10.28), []),
    ("limit just over 5% away", dict(order_type="LIMIT", limit_price=105.01, ask=100.0),
     [("percent", "Limit price 105.01 is 5.01% from the market (100.00); the limit is 5%")]),
    ("limit far from the ask", dict(order_type="LIMIT", limit_price=200.0),
     [("percent", "Limit price 200.00 is 6.8% from the market (187.25); the limit is 5%")]),
    ("limit far below the ask", dict(order_type="LIMIT", limit_price=170.0),
     [("percent", "Limit price 170.00 is 9.2% from the market (187.25); the limit is 5%")]),
    ("sell limit is measured against the bid", dict(action="SELL", order_type="LIMIT", limit_price=196.5,
                                                    bid=187.0, ask=200.0),
     [("percent", "Limit price 196.50 is 5.1% from the market (187.00); the limit is 5%")]),
    ("buy limit near the ask passes even when far from the bid", dict(order_type="LIMIT", limit_price=199.0,
                                                                     bid=150.0, ask=200.0), []),
    ("no touch: measured against the last", dict(order_type="LIMIT", limit_price=111.0, bid=None, ask=NAN,
                                                 last=100.0),
     [("percent", "Limit price 111.00 is 11.0% from the market (100.00); the limit is 5%")]),
    ("IB's -1 for no bid is no market", dict(action="SELL", order_type="LIMIT", limit_price=111.0, bid=-1.0,
                                            last=100.0),
     [("percent", "Limit price 111.00 is 11.0% from the market (100.00); the limit is 5%")]),
    ("no market data: no percent check", dict(order_type="LIMIT", limit_price=500.0, bid=None, ask=None,
                                              last=None), []),
    ("no market data: nan everywhere", dict(order_type="STOP", stop_price=500.0, bid=NAN, ask=NAN, last=NAN), []),
    ("no market data: a market order has no value", dict(quantity=5000, bid=None, ask=None, last=None), []),
    ("stop far from the market", dict(action="SELL", order_type="STOP", stop_price=150.0),
     [("percent", "Stop price 150.00 is 19.8% from the market (187.00); the limit is 5%")]),
    ("stop limit checks both prices", dict(order_type="STOP_LIMIT", stop_price=210.0, limit_price=211.0),
     [("percent", "Stop price 210.00 is 12.1% from the market (187.25); the limit is 5%"),
      ("percent", "Limit price 211.00 is 12.7% from the market (187.25); the limit is 5%")]),
    ("sub-dollar prices keep their digits", dict(order_type="LIMIT", limit_price=0.5, ask=0.4512),
     [("percent", "Limit price 0.5000 is 10.8% from the market (0.4512); the limit is 5%")]),
    ("every rule at once", dict(quantity=6000, order_type="LIMIT", limit_price=200.0),
     [("size", "Size 6,000 exceeds the size limit of 5,000 shares"),
      ("value", "Value 1,200,000.00 USD exceeds the total value limit of 250,000.00 USD"),
      ("percent", "Limit price 200.00 is 6.8% from the market (187.25); the limit is 5%")]),
    # A stop on the far side of the market triggers the moment it arrives (stops trigger on the last trade).
    ("sell stop above the market", dict(action="SELL", order_type="STOP", stop_price=232.80, bid=230.45,
                                        ask=230.55, last=230.50),
     [("stop", "SELL STP 232.80 is above the market 230.50: it triggers at once")]),
    ("buy stop below the market", dict(order_type="STOP", stop_price=229.0, bid=230.45, ask=230.55, last=230.50),
     [("stop", "BUY STP 229.00 is below the market 230.50: it triggers at once")]),
    ("sell stop limit above the market", dict(action="SELL", order_type="STOP_LIMIT", stop_price=231.0,
                                              limit_price=230.9, bid=230.45, ask=230.55, last=230.50),
     [("stop", "SELL STP LMT 231.00 is above the market 230.50: it triggers at once")]),
    ("buy stop limit below the market", dict(order_type="STOP_LIMIT", stop_price=230.0, limit_price=230.1,
                                             bid=230.45, ask=230.55, last=230.50),
     [("stop", "BUY STP LMT 230.00 is below the market 230.50: it triggers at once")]),
    ("a stop at the last trade triggers", dict(action="SELL", order_type="STOP", stop_price=230.50, bid=230.45,
                                               ask=230.55, last=230.50),
     [("stop", "SELL STP 230.50 is at the market 230.50: it triggers at once")]),
    ("buy stop above the market waits", dict(order_type="STOP", stop_price=231.0, bid=230.45, ask=230.55,
                                             last=230.50), []),
    ("sell stop below the market waits", dict(action="SELL", order_type="STOP", stop_price=230.0, bid=230.45,
                                              ask=230.55, last=230.50), []),
    ("a sell stop between the bid and the last waits", dict(action="SELL", order_type="STOP", stop_price=230.48,
                                                            bid=230.45, ask=230.55, last=230.50), []),
    ("no last: the touch", dict(action="SELL", order_type="STOP", stop_price=230.48, bid=230.45, ask=230.55,
                                last=None),
     [("stop", "SELL STP 230.48 is above the market 230.45: it triggers at once")]),
    ("no market data: no stop check", dict(action="SELL", order_type="STOP", stop_price=500.0, bid=None,
                                           ask=None, last=None), []),
    ("far through the market: both", dict(action="SELL", order_type="STOP", stop_price=250.0, bid=230.45,
                                          ask=230.55, last=230.50),
     [("percent", "Stop price 250.00 is 8.5% from the market (230.45); the limit is 5%"),
      ("stop", "SELL STP 250.00 is above the market 230.50: it triggers at once")]),
    ("a price is shown with every digit it has", dict(order_type="LIMIT", limit_price=12.345, ask=130.01),
     [("percent", "Limit price 12.345 is 90.5% from the market (130.01); the limit is 5%")]),
]


@pytest.mark.parametrize(("order", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rules(order: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(b.rule, b.message) for b in run(**order)] == expected


def test_breach_carries_limit_and_value() -> None:
    size, value, percent = run(quantity=6000, order_type="LIMIT", limit_price=200.0)
    assert (size.limit, size.value) == (5000, 6000)
    assert (value.limit, value.value) == (250_000.0, 1_200_000.0)
    assert percent.limit == 5.0 and percent.value == pytest.approx(6.809, abs=1e-3)


def test_symbol_names_the_market() -> None:
    [breach] = run(order_type="LIMIT", limit_price=200.0, symbol="AAPL")
    assert breach.message == "Limit price 200.00 is 6.8% from the market (AAPL 187.25); the limit is 5%"


def test_disabled_checks_nothing() -> None:
    off = Precautions(enabled=False)
    assert run(off, quantity=10_000_000, order_type="LIMIT", limit_price=10_000.0) == []
    assert run(off, action="SELL", order_type="STOP", stop_price=190.0) == []  # through the market


def test_a_stop_breach_carries_the_market_and_the_stop() -> None:
    [breach] = run(action="SELL", order_type="STOP", stop_price=188.0)
    assert (breach.rule, breach.limit, breach.value) == ("stop", 187.10, 188.0)


def test_own_limits_apply() -> None:
    p = Precautions(size_limit=10, value_limit=1000.0, percent_from_market=0.5)
    assert [b.rule for b in run(p, quantity=11, ask=100.0)] == ["size", "value"]
    assert run(p, quantity=10, ask=100.0) == []
    [breach] = run(p, quantity=1, order_type="LIMIT", limit_price=100.6, ask=100.0)
    assert breach.message == "Limit price 100.60 is 0.6% from the market (100.00); the limit is 0.5%"


def test_a_breach_never_prints_as_sitting_on_the_limit() -> None:
    [breach] = run(order_type="LIMIT", limit_price=105.001, ask=100.0)
    assert breach.message == "Limit price 105.001 is 5.001% from the market (100.00); the limit is 5%"


@pytest.mark.parametrize(("action", "bid", "ask", "last", "expected"), [
    ("BUY", 10.0, 10.5, 10.2, 10.5),
    ("SELL", 10.0, 10.5, 10.2, 10.0),
    ("buy", None, None, 10.2, 10.2),
    ("SELL", NAN, 10.5, 10.2, 10.2),
    ("SELL", 0.0, 10.5, 10.2, 10.2),
    ("BUY", None, math.inf, None, None),
    ("BUY", None, None, None, None),
    ("BUY", -1.0, -1.0, -1.0, None),
])
def test_market_reference(action: str, bid: float | None, ask: float | None, last: float | None,
                          expected: float | None) -> None:
    assert market_reference(action=action, bid=bid, ask=ask, last=last) == expected


@pytest.mark.parametrize(("order_type", "limit", "stop", "expected"), [
    ("MARKET", None, None, 1050.0),
    ("LIMIT", 9.0, None, 900.0),
    ("STOP", None, 8.0, 800.0),
    ("STOP_LIMIT", 9.5, 8.0, 950.0),
    ("LIMIT", None, None, None),  # the ticket has no limit price yet
])
def test_estimated_value(order_type: str, limit: float | None, stop: float | None, expected: float | None) -> None:
    assert estimated_value(action="BUY", quantity=100, order_type=order_type, limit_price=limit, stop_price=stop,
                           bid=10.0, ask=10.5, last=10.2) == expected


def test_estimated_value_unknown_without_market_data() -> None:
    assert estimated_value(action="SELL", quantity=100, order_type="MARKET", limit_price=None, stop_price=None,
                           bid=None, ask=None, last=None) is None


@pytest.mark.parametrize(("order", "message"), [
    (dict(action="HOLD"), "Side must be BUY or SELL, not 'HOLD'"),
    (dict(order_type="LMT"), "Order type must be one of MARKET, LIMIT, STOP, STOP_LIMIT, not 'LMT'"),
])
def test_check_refuses_what_is_not_an_order(order: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        run(**order)
    assert str(caught.value) == message


@pytest.mark.parametrize(("fields", "message"), [
    (dict(size_limit=0), "Size limit must be a whole number of shares above 0, not 0"),
    (dict(size_limit=-5), "Size limit must be a whole number of shares above 0, not -5"),
    (dict(size_limit=1.5), "Size limit must be a whole number of shares above 0, not 1.5"),
    (dict(size_limit=NAN), "Size limit must be a whole number of shares above 0, not nan"),
    (dict(size_limit=True), "Size limit must be a whole number of shares above 0, not True"),
    (dict(size_limit="5000"), "Size limit must be a whole number of shares above 0, not '5000'"),
    (dict(value_limit=0.0), "Total value limit must be an amount above 0, not 0.0"),
    (dict(value_limit=math.inf), "Total value limit must be an amount above 0, not inf"),
    (dict(value_limit=10**400), f"Total value limit must be an amount above 0, not {10**400!r}"),
    (dict(percent_from_market=-1.0), "Percent from market must be a percentage above 0, not -1.0"),
    (dict(percent_from_market=NAN), "Percent from market must be a percentage above 0, not nan"),
    (dict(enabled=1), "Precautions on/off must be true or false, not 1"),
])
def test_settings_are_validated(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        Precautions(**fields)
    assert str(caught.value) == message


def test_settings_store_and_load() -> None:
    p = Precautions(size_limit=100, value_limit=12_345.5, percent_from_market=2.5, enabled=False)
    stored = json.loads(json.dumps(p.to_dict()))
    assert stored == {"size_limit": 100, "value_limit": 12_345.5, "percent_from_market": 2.5, "enabled": False}
    assert Precautions.from_dict(stored) == p
    assert Precautions(size_limit=200.0).size_limit == 200 and isinstance(Precautions(size_limit=200.0).size_limit,
                                                                          int)


@pytest.mark.parametrize(("stored", "expected"), [
    (None, Precautions()),
    ([1, 2], Precautions()),
    ({}, Precautions()),
    ({"size_limit": -1, "value_limit": "lots", "percent_from_market": None, "enabled": "maybe"}, Precautions()),
    ({"size_limit": 1.5, "value_limit": math.inf, "percent_from_market": "nan", "enabled": 2}, Precautions()),
    ({"size_limit": True, "value_limit": 10**400, "percent_from_market": "1e999", "enabled": None}, Precautions()),
    # one bad field falls back alone
    ({"size_limit": "oops", "value_limit": 1000, "percent_from_market": 3, "enabled": False},
     Precautions(value_limit=1000.0, percent_from_market=3.0, enabled=False)),
    # QSettings in INI files gives strings back
    ({"size_limit": "100", "value_limit": "2500.5", "percent_from_market": " 2 ", "enabled": "false"},
     Precautions(size_limit=100, value_limit=2500.5, percent_from_market=2.0, enabled=False)),
    ({"enabled": "true", "size_limit": "\u0661\u0662"}, Precautions()),
    ({"size_limit": 300.0, "unknown": 1}, Precautions(size_limit=300)),
])
def test_loading_tolerates_bad_stored_values(stored: object, expected: Precautions) -> None:
    loaded = Precautions.from_dict(stored)
    assert loaded == expected
    assert type(loaded.size_limit) is int and type(loaded.value_limit) is float
