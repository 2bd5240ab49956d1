"""Fills: aggregation, duplicate executions, corrections, overfills and commissions."""

from __future__ import annotations

import math

import pytest

from ibticket.core import OrderStatus


def test_two_partial_fills_average_and_status(harness):
    h = harness.handler
    seen = []
    h.register_fill_callback(lambda r: seen.append((r.status, r.filled_quantity, r.remaining_quantity,
                                                     r.avg_fill_price, len(r.fills))))
    record = harness.submit("AAPL", "BUY", 100)
    assert record.status is OrderStatus.SUBMITTED

    assert h.handle_fill(record.order_id, 50, 150.0, exec_id="0001.01") is True
    assert record.status is OrderStatus.PARTIALLY_FILLED
    assert (record.filled_quantity, record.remaining_quantity) == (50, 50)
    assert record.avg_fill_price == pytest.approx(150.0)
    assert seen == [(OrderStatus.PARTIALLY_FILLED, 50, 50, 150.0, 1)]

    assert h.handle_fill(record.order_id, 50, 151.0, exec_id="0002.01") is True
    assert record.status is OrderStatus.FILLED
    assert (record.filled_quantity, record.remaining_quantity) == (100, 0)
    assert record.avg_fill_price == pytest.approx(150.50)
    assert len(seen) == 2
    assert seen[1][:3] == (OrderStatus.FILLED, 100, 0)
    assert seen[1][3] == pytest.approx(150.5)


def test_status_callbacks_follow_the_fills(harness):
    record = harness.submit("AAPL", "BUY", 100)
    statuses = []
    harness.handler.register_status_callback(lambda r: statuses.append(r.status))
    harness.handler.handle_fill(record.order_id, 30, 10.0, exec_id="a.01")
    harness.handler.handle_fill(record.order_id, 30, 10.0, exec_id="b.01")  # no status change: no callback
    harness.handler.handle_fill(record.order_id, 40, 10.0, exec_id="c.01")
    assert statuses == [OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]


def test_weighted_average_over_uneven_fills(harness):
    record = harness.submit("MSFT", "SELL", 10)
    harness.handler.handle_fill(record.order_id, 1, 100.0, exec_id="a.01")
    harness.handler.handle_fill(record.order_id, 9, 200.0, exec_id="b.01")
    assert record.avg_fill_price == pytest.approx((100.0 + 9 * 200.0) / 10)


def test_same_exec_id_twice_is_applied_once(harness):
    h = harness.handler
    fills_seen = []
    h.register_fill_callback(lambda r: fills_seen.append(r.filled_quantity))
    record = harness.submit("AAPL", "BUY", 100)
    assert h.handle_fill(record.order_id, 40, 150.0, exec_id="00025b46.01") is True
    assert h.handle_fill(record.order_id, 40, 150.0, exec_id="00025b46.01") is False
    assert (record.filled_quantity, record.remaining_quantity) == (40, 60)
    assert len(record.fills) == 1
    assert fills_seen == [40]
    assert len(harness.events("FILL")) == 1


def test_fill_without_exec_id_gets_its_own_id(harness):
    record = harness.submit("AAPL", "BUY", 100)
    assert harness.handler.handle_fill(record.order_id, 10, 1.0) is True
    assert harness.handler.handle_fill(record.order_id, 10, 1.0) is True
    assert record.filled_quantity == 20
    assert len({f.fill_id for f in record.fills}) == 2


def test_fill_for_unknown_order_is_ignored(harness):
    assert harness.handler.handle_fill(999, 10, 1.0, exec_id="x.01") is False
    assert harness.events("FILL") == []


def test_correction_with_new_price_replaces_the_execution(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    assert h.handle_fill(record.order_id, 40, 150.0, exec_id="0000e1a7.01") is True
    assert h.handle_fill(record.order_id, 40, 152.0, exec_id="0000e1a7.02") is True
    assert record.filled_quantity == 40  # not 80
    assert record.remaining_quantity == 60
    assert record.avg_fill_price == pytest.approx(152.0)
    assert [(f.fill_id, f.quantity, f.price) for f in record.fills] == [("0000e1a7.02", 40, 152.0)]
    assert h.fill_for_exec("0000e1a7.02") is record.fills[0]
    assert h.fill_for_exec("0000e1a7.01") is None
    fills = harness.events("FILL")
    assert len(fills) == 2
    assert fills[1]["corrects"] == "0000e1a7.01"
    assert "corrects" not in fills[0]


def test_correction_with_new_shares_replaces_the_execution(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    h.handle_fill(record.order_id, 20, 20.0, exec_id="b.01")
    h.handle_fill(record.order_id, 40, 10.0, exec_id="a.01")
    assert h.handle_fill(record.order_id, 30, 12.0, exec_id="a.02") is True
    assert (record.filled_quantity, record.remaining_quantity) == (50, 50)
    assert record.avg_fill_price == pytest.approx((30 * 12.0 + 20 * 20.0) / 50)
    assert sorted(f.fill_id for f in record.fills) == ["a.02", "b.01"]


def test_correction_that_completes_the_order_marks_it_filled(harness):
    record = harness.submit("AAPL", "BUY", 100)
    harness.handler.handle_fill(record.order_id, 60, 10.0, exec_id="a.01")
    assert harness.handler.handle_fill(record.order_id, 100, 10.5, exec_id="a.02") is True
    assert record.status is OrderStatus.FILLED
    assert record.filled_quantity == 100


def test_older_correction_suffix_after_newer_is_ignored(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    assert h.handle_fill(record.order_id, 30, 12.0, exec_id="a.02") is True
    assert h.handle_fill(record.order_id, 40, 10.0, exec_id="a.01") is False
    assert (record.filled_quantity, record.avg_fill_price) == (30, 12.0)
    assert [f.fill_id for f in record.fills] == ["a.02"]
    assert len(harness.events("FILL")) == 1


def test_replay_of_corrected_exec_id_is_ignored(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    h.handle_fill(record.order_id, 40, 10.0, exec_id="a.01")
    h.handle_fill(record.order_id, 40, 11.0, exec_id="a.02")
    assert h.handle_fill(record.order_id, 40, 10.0, exec_id="a.01") is False
    assert h.handle_fill(record.order_id, 40, 11.0, exec_id="a.02") is False
    assert (record.filled_quantity, record.avg_fill_price) == (40, 11.0)


def test_correction_beyond_the_order_is_refused(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    h.handle_fill(record.order_id, 60, 10.0, exec_id="a.01")
    h.handle_fill(record.order_id, 40, 10.0, exec_id="b.01")
    assert h.handle_fill(record.order_id, 70, 10.0, exec_id="a.02") is False
    assert record.filled_quantity == 100
    assert sorted(f.fill_id for f in record.fills) == ["a.01", "b.01"]
    assert len(harness.events("ERROR")) == 1


def test_overfill_is_refused_and_reported(harness):
    h = harness.handler
    errors = []
    fills = []
    h.register_error_callback(lambda r, msg: errors.append((r.order_id, msg)))
    h.register_fill_callback(lambda r: fills.append(r.filled_quantity))
    record = harness.submit("AAPL", "BUY", 100)
    h.handle_fill(record.order_id, 80, 10.0, exec_id="a.01")
    fill_lines = len(harness.events("FILL"))

    assert h.handle_fill(record.order_id, 30, 10.0, exec_id="b.01") is False
    assert (record.filled_quantity, record.remaining_quantity) == (80, 20)
    assert [f.fill_id for f in record.fills] == ["a.01"]
    assert record.status is OrderStatus.PARTIALLY_FILLED
    assert fills == [80]
    assert len(harness.events("FILL")) == fill_lines
    (error,) = harness.events("ERROR")
    assert error["order_id"] == record.order_id
    assert "b.01" in error["error_message"] and "exceed" in error["error_message"]
    assert errors and errors[0][0] == record.order_id and "exceed" in errors[0][1]
    # The refused execution is not remembered as applied: the order can still take its real remainder.
    assert h.handle_fill(record.order_id, 20, 10.0, exec_id="c.01") is True
    assert record.status is OrderStatus.FILLED


def test_fill_on_a_filled_order_is_refused(harness):
    record = harness.submit("AAPL", "BUY", 10)
    harness.handler.handle_fill(record.order_id, 10, 10.0, exec_id="a.01")
    assert harness.handler.handle_fill(record.order_id, 1, 10.0, exec_id="b.01") is False
    assert record.filled_quantity == 10 and record.status is OrderStatus.FILLED


@pytest.mark.parametrize(
    ("quantity", "price"),
    [(0, 10.0), (-5, 10.0), (1.5, 10.0), (math.nan, 10.0), (math.inf, 10.0), (True, 10.0), ("5", 10.0),
     (5, 0.0), (5, -1.0), (5, math.nan), (5, math.inf), (5, None), (5, 1e308)],
)
def test_malformed_fill_is_refused(harness, quantity, price):
    record = harness.submit("AAPL", "BUY", 100)
    errors = []
    harness.handler.register_error_callback(lambda r, msg: errors.append(msg))
    assert harness.handler.handle_fill(record.order_id, quantity, price, exec_id="a.01") is False
    assert record.fills == [] and record.filled_quantity == 0
    assert len(harness.events("ERROR")) == 1 and len(errors) == 1
    # A well-formed fill under the same exec id still applies afterwards.
    assert harness.handler.handle_fill(record.order_id, 5, 10.0, exec_id="a.01") is True


def test_late_commission_attaches_once(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    h.handle_fill(record.order_id, 50, 150.0, exec_id="a.01")
    assert record.fills[0].commission == 0.0

    assert h.handle_commission("a.01", 1.25) is True
    assert record.fills[0].commission == 1.25
    (event,) = harness.events("COMMISSION")
    assert (event["fill_id"], event["commission"], event["order_id"]) == ("a.01", 1.25, record.order_id)

    before = harness.log_file.read_bytes()
    assert h.handle_commission("a.01", 1.25) is False
    assert harness.log_file.read_bytes() == before
    assert record.fills[0].commission == 1.25


def test_commission_before_its_fill_waits_for_it(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    before = harness.log_file.read_bytes()
    assert h.handle_commission("b.01", 0.75) is False
    assert harness.log_file.read_bytes() == before  # nothing to log until the fill exists

    assert h.handle_fill(record.order_id, 50, 150.0, exec_id="b.01") is True
    assert record.fills[0].commission == 0.75
    (fill,) = harness.events("FILL")
    assert fill["commission"] == 0.75
    assert harness.events("COMMISSION") == []
    assert h.handle_commission("b.01", 0.75) is False  # already attached
    assert harness.events("COMMISSION") == []


def test_pending_commission_is_not_given_to_another_execution(harness):
    record = harness.submit("AAPL", "BUY", 100)
    harness.handler.handle_commission("b.01", 0.75)
    harness.handler.handle_fill(record.order_id, 50, 150.0, exec_id="c.01")
    assert record.fills[0].commission == 0.0


def test_replayed_fill_with_commission_attaches_the_missing_commission(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    h.handle_fill(record.order_id, 50, 150.0, exec_id="a.01")
    assert h.handle_fill(record.order_id, 50, 150.0, commission=1.1, exec_id="a.01") is False
    assert record.filled_quantity == 50 and len(record.fills) == 1
    assert record.fills[0].commission == 1.1
    assert len(harness.events("FILL")) == 1
    assert len(harness.events("COMMISSION")) == 1
    h.handle_fill(record.order_id, 50, 150.0, commission=1.1, exec_id="a.01")
    assert len(harness.events("COMMISSION")) == 1


@pytest.mark.parametrize("bad", [math.nan, math.inf, "1.0", None, 1e308, -1e308])
def test_malformed_commission_is_ignored(harness, bad):
    record = harness.submit("AAPL", "BUY", 100)
    harness.handler.handle_fill(record.order_id, 50, 150.0, commission=0.5, exec_id="a.01")
    assert harness.handler.handle_commission("a.01", bad) is False
    assert record.fills[0].commission == 0.5
