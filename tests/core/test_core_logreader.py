"""The one tolerant reader: every field of every line is type-checked; a bad line is skipped and reported
with its line number, and nothing read from a log can make the summary, the history or a restore raise."""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ibticket.core import ManualClock, OrderExecutionHandler, OrderLogger, read_day, rebuild_orders, summarize
from ibticket.core.logreader import FIELD_CHECKS, MAX_INT, event_problem

DAY = date(2026, 2, 18)
NOON = datetime(2026, 2, 18, 12, 0, 0)
REF = "ibt-11-20260218-100000-1"

SUBMISSION: dict[str, Any] = {
    "timestamp": "2026-02-18T10:00:00", "event_type": "SUBMISSION", "order_id": 1, "symbol": "AAPL",
    "action": "BUY", "quantity": 100, "order_type": "LIMIT", "status": "Pending",
    "submission_time": "2026-02-18T10:00:00", "filled_quantity": 0, "remaining_quantity": 100,
    "avg_fill_price": 0.0, "order_ref": REF, "limit_price": 150.0, "attempt": 1, "attempt_ref": REF + "/1",
}
SENT = {**SUBMISSION, "event_type": "STATUS_CHANGE", "status": "Submitted", "old_status": "Pending",
        "new_status": "Submitted", "message": "sent as broker order 7", "broker_order_id": 7}
FILL = {**SENT, "event_type": "FILL", "status": "PartiallyFilled", "filled_quantity": 40, "remaining_quantity": 60,
        "avg_fill_price": 150.0, "fill_id": "e1.01", "fill_quantity": 40, "fill_price": 150.0, "commission": 1.0,
        "fill_time": "2026-02-18T10:00:01"}
for _key in ("old_status", "new_status", "message"):
    FILL.pop(_key)
OTHER = {**SUBMISSION, "order_id": 2, "order_ref": REF[:-1] + "2", "attempt_ref": REF[:-1] + "2/1",
         "symbol": "MSFT", "order_type": "MARKET"}
OTHER.pop("limit_price")


def _write(folder: Path, lines: list[bytes | str | dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"orders-{DAY.isoformat()}.jsonl"
    out = []
    for line in lines:
        if isinstance(line, dict):
            line = json.dumps(line)
        out.append(line.encode() if isinstance(line, str) else line)
    path.write_bytes(b"\n".join(out) + b"\n")
    return path


def _use_everything(folder: Path) -> None:
    """What connect(), the history and the summary do with a day's log: none of it may raise."""
    day = read_day(folder, DAY)
    assert all(math.isfinite(value) for value in summarize(day.events).values())
    records = rebuild_orders(day.events)
    assert all(math.isfinite(r.avg_fill_price) for r in records)
    handler = OrderExecutionHandler(logger=None, clock=ManualClock())
    handler.restore(records, next_order_id=max((e["order_id"] for e in day.events
                                                 if isinstance(e.get("order_id"), int)), default=0) + 1)
    handler.create_order("AMD", "BUY", 1)
    logger = OrderLogger(log_dir=folder, log_to_console=False, now=lambda: NOON)
    logger.get_todays_summary()
    for order_id in (1, 2):
        for event in logger.get_order_history(order_id):
            json.dumps(event, allow_nan=False)  # what IBKRBroker.get_order_history does with each event
    day.report()


ISSUE_LINES = {
    "infinite quantity": '{"timestamp": "2026-02-18T10:00:01", "event_type": "SUBMISSION", "order_id": 3, '
                         '"symbol": "AAPL", "action": "BUY", "quantity": Infinity, "order_ref": "x-3"}',
    "numeric attempt ref": json.dumps({**SUBMISSION, "order_id": 3, "order_ref": "x-3", "attempt_ref": 5}),
    "list order ref": json.dumps({**SUBMISSION, "order_id": 3, "order_ref": ["x"]}),
    "200,000 deep": "[" * 200_000 + "]" * 200_000,
    "200,000 deep in a field": '{"timestamp": "2026-02-18T10:00:01", "event_type": "NOTICE", "x": '
                               + "[" * 200_000 + "]" * 200_000 + "}",
}


@pytest.mark.parametrize("name", list(ISSUE_LINES))
def test_a_corrupt_line_from_the_issue_is_skipped_and_reported(tmp_path, name):
    _write(tmp_path, [SUBMISSION, SENT, ISSUE_LINES[name], FILL])
    day = read_day(tmp_path, DAY)
    assert [e["event_type"] for e in day.events] == ["SUBMISSION", "STATUS_CHANGE", "FILL"]
    assert day.bad_line_numbers == [3]
    report = day.report()
    assert report is not None and "1 unreadable line skipped" in report and "line 3" in report
    _use_everything(tmp_path)
    (record,) = rebuild_orders(day.events)
    assert (record.order_id, record.filled_quantity, record.attempts[0].order_id) == (1, 40, 7)


# Finite, so JSON and a type check let them through, yet no price: quantity x price overflows to infinity,
# and a correction that subtracts it again leaves NaN (the day's traded value, a restored average price).
ABSURD_PRICES = {
    "a fill price too large to be real": {**FILL, "fill_id": "e2.01", "fill_price": 1e308},
    "a negative fill price": {**FILL, "fill_id": "e2.01", "fill_price": -1e308},
    "a zero fill price": {**FILL, "fill_id": "e2.01", "fill_price": 0.0},
    "a negative limit price": {**SENT, "limit_price": -150.0},
    "a stop price too large": {**SENT, "stop_price": 1e300},
    "a negative average price": {**SENT, "avg_fill_price": -1.0},
    "a commission too large": {**FILL, "fill_id": "e2.01", "commission": 1e308},
}


@pytest.mark.parametrize("name", list(ABSURD_PRICES))
def test_a_price_no_market_has_is_skipped_and_totals_stay_finite(tmp_path, name):
    correction = {**FILL, "fill_id": "e2.02", "corrects": "e2.01", "fill_price": 150.0, "commission": 0.5}
    _write(tmp_path, [SUBMISSION, SENT, FILL, ABSURD_PRICES[name], correction])
    day = read_day(tmp_path, DAY)
    assert day.bad_line_numbers == [4], day.bad_lines
    assert "'" in day.bad_lines[0].reason and "expected" in day.bad_lines[0].reason
    summary = summarize(day.events)
    assert all(math.isfinite(value) for value in summary.values()), summary
    assert summary["traded_value"] == 80 * 150.0 and summary["commission"] == 1.5
    (record,) = rebuild_orders(day.events)
    assert (record.filled_quantity, record.avg_fill_price) == (80, 150.0)
    assert record.limit_price == 150.0 and record.stop_price is None


def test_the_reason_names_the_field_and_the_value(tmp_path):
    _write(tmp_path, [{**FILL, "fill_price": "150"}, {**FILL, "quantity": -5}, {**FILL, "status": "Done"},
                      {**FILL, "outside_rth": 1}, {**FILL, "fill_quantity": 10**30}, {**FILL, "extra": {"a": 1}},
                      {"event_type": "FILL"}, {**FILL, "timestamp": "yesterday"}])
    reasons = [b.reason for b in read_day(tmp_path, DAY).bad_lines]
    assert reasons[0] == "'fill_price': expected a price above zero, up to 1,000,000,000,000, got \"150\""
    assert reasons[1] == "'quantity': expected a whole number, 0 or more, got -5"
    assert reasons[2].startswith("'status': expected an order status")
    assert reasons[3] == "'outside_rth': expected true or false, got 1"
    assert reasons[4] == "'fill_quantity': expected a whole number, 0 or more, got a whole number too large to be real"
    assert reasons[5] == "'extra': expected a plain value, got dict"
    assert reasons[6] == "not an event (no 'timestamp')"
    assert reasons[7].startswith("'timestamp': expected an ISO date-time")


def test_many_bad_lines_are_counted_with_their_numbers(tmp_path):
    _write(tmp_path, [SUBMISSION] + ["{bad"] * 12 + [FILL])
    day = read_day(tmp_path, DAY)
    assert day.bad_line_numbers == list(range(2, 14))
    assert day.report().startswith("12 unreadable lines skipped in ")
    assert "(lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ...)" in day.report()


def test_an_absurd_attempt_number_does_not_allocate_attempts(tmp_path):
    _write(tmp_path, [SUBMISSION, {**SENT, "attempt_ref": REF + "/99999999999999"},
                      {**SENT, "attempt_ref": "someone-else/2"}, {**SENT, "attempt_ref": REF + "/²"}])
    (record,) = rebuild_orders(read_day(tmp_path, DAY).events)
    assert [a.order_ref for a in record.attempts] == [REF + "/1"]


def test_a_restore_fills_in_the_broker_id_of_a_written_ahead_attempt(tmp_path):
    _write(tmp_path, [SUBMISSION, SENT])
    (record,) = rebuild_orders(read_day(tmp_path, DAY).events)
    assert [(a.order_ref, a.order_id) for a in record.attempts] == [(REF + "/1", 7)]
    assert record.status.value == "Submitted"


def test_a_symlink_or_a_fifo_at_the_day_path_is_reported_not_read(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(json.dumps(SUBMISSION) + "\n")
    folder = tmp_path / "orders"
    folder.mkdir()
    (folder / f"orders-{DAY.isoformat()}.jsonl").symlink_to(secret)
    day = read_day(folder, DAY)
    assert day.events == [] and "symbolic link" in (day.problem or "")
    (folder / f"orders-{DAY.isoformat()}.jsonl").unlink()
    os.mkfifo(folder / f"orders-{DAY.isoformat()}.jsonl")
    day = read_day(folder, DAY)  # would block forever if the reader opened the FIFO for a blocking read
    assert day.events == [] and "not a regular file" in (day.problem or "")


# -- fuzzing: arbitrary JSON in every field ---------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats() | st.text(max_size=20)
    | st.sampled_from(["2026-02-18T10:00:00", "Filled", "Error", REF, REF + "/1", REF + "/0", REF + "/9999"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
FIELDS = [*sorted(FIELD_CHECKS), "unknown_field"]


def _check_accepted(event: dict[str, Any]) -> None:
    """An event the reader let through has every field as the logger writes it."""
    assert event_problem(event) is None
    for value in event.values():
        assert not isinstance(value, list | dict)
        if isinstance(value, float):
            assert math.isfinite(value)
        if isinstance(value, int):
            assert abs(value) <= MAX_INT


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.sampled_from([SUBMISSION, SENT, FILL, OTHER]),
    changes=st.dictionaries(st.sampled_from(FIELDS), json_values, min_size=1, max_size=3),
    drop=st.lists(st.sampled_from(FIELDS), max_size=2),
)
def test_fuzz_arbitrary_values_per_field(base, changes, drop):
    mutated = {**base, **changes}
    for name in drop:
        mutated.pop(name, None)
    with tempfile.TemporaryDirectory() as folder:
        _write(Path(folder), [SUBMISSION, json.dumps(mutated), FILL])
        day = read_day(folder, DAY)
        assert day.events[0] == SUBMISSION and day.events[-1] == FILL
        if len(day.events) == 3:
            _check_accepted(day.events[1])
            assert day.bad_lines == []
        else:
            assert day.bad_line_numbers == [2] and day.bad_lines[0].reason
        for event in day.events:
            _check_accepted(event)
        _use_everything(Path(folder))


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_fuzz_a_whole_line_of_arbitrary_json(value):
    with tempfile.TemporaryDirectory() as folder:
        _write(Path(folder), [SUBMISSION, json.dumps(value), FILL])
        day = read_day(folder, DAY)
        assert len(day.events) + len(day.bad_lines) == 3
        _use_everything(Path(folder))


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200))
def test_fuzz_arbitrary_bytes(raw):
    with tempfile.TemporaryDirectory() as folder:
        _write(Path(folder), [SUBMISSION, raw, FILL])
        day = read_day(folder, DAY)
        assert day.events[0] == SUBMISSION and day.events[-1] == FILL
        _use_everything(Path(folder))
