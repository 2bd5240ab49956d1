"""The order log: JSON lines in a daily file, written through at once, private, and readable after a tear."""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from ibticket.core import Fill, OrderLogger, OrderRecord, OrderStatus, available_days, read_day
from ibticket.core.logger import EVENT_TYPES

DAY = date(2026, 2, 18)
NOON = datetime(2026, 2, 18, 12, 0, 0)
SEED_KEYS = ("timestamp", "event_type", "order_id", "symbol", "action", "quantity", "order_type", "status",
             "submission_time")


class Times:
    """An injectable ``now`` that hands out the given instants in turn (repeating the last one)."""

    def __init__(self, *instants: datetime) -> None:
        self.instants = list(instants)

    def __call__(self) -> datetime:
        return self.instants.pop(0) if len(self.instants) > 1 else self.instants[0]


def _record(order_id=1, status=OrderStatus.SUBMITTED, **kwargs) -> OrderRecord:
    return OrderRecord(order_id, "AAPL", "BUY", 100, status=status,
                       submission_time=datetime(2026, 2, 18, 10, 30, 45, 123456), **kwargs)


def _lines(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    return [json.loads(line) for line in raw.decode("utf-8").split("\n")[:-1]]


def _logger(folder: Path, now=None, **kwargs) -> OrderLogger:
    return OrderLogger(log_dir=folder, log_to_console=False, now=now or Times(NOON), **kwargs)


def test_one_json_object_per_line_in_the_daily_file(tmp_path):
    logger = _logger(tmp_path)
    record = _record()
    logger.log_submission(record)
    logger.log_status_change(record, OrderStatus.PENDING, OrderStatus.SUBMITTED, "acked")
    logger.log_error(record, "Order rejected - reason: a\nmulti-line \"quoted\" message")
    assert [p.name for p in tmp_path.iterdir()] == ["orders-2026-02-18.jsonl"]
    lines = _lines(tmp_path / "orders-2026-02-18.jsonl")
    assert [e["event_type"] for e in lines] == ["SUBMISSION", "STATUS_CHANGE", "ERROR"]
    assert all(isinstance(e, dict) for e in lines)
    assert lines[2]["error_message"] == "Order rejected - reason: a\nmulti-line \"quoted\" message"
    assert available_days(tmp_path) == [DAY]


def test_day_rollover_starts_a_new_file(tmp_path):
    logger = _logger(tmp_path, now=Times(datetime(2026, 2, 18, 23, 59, 59), datetime(2026, 2, 19, 0, 0, 1)))
    logger.log_submission(_record(1))
    logger.log_submission(_record(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders-2026-02-18.jsonl", "orders-2026-02-19.jsonl"]
    assert [e["order_id"] for e in _lines(tmp_path / "orders-2026-02-18.jsonl")] == [1]
    assert [e["order_id"] for e in _lines(tmp_path / "orders-2026-02-19.jsonl")] == [2]
    assert [e["order_id"] for e in logger.read_day(date(2026, 2, 19)).events] == [2]
    assert [e["order_id"] for e in logger.read_day(DAY).events] == [1]
    assert logger.read_day().day == date(2026, 2, 19)  # "today" follows the injected clock
    assert available_days(tmp_path) == [date(2026, 2, 19), DAY]


def test_event_types_and_seed_keys(tmp_path):
    logger = _logger(tmp_path)
    record = _record(7, order_type="LIMIT", limit_price=150.0)
    fill = Fill("e1.01", 7, "AAPL", 40, 150.0, datetime(2026, 2, 18, 11, 0), 1.0)
    record.add_fill(fill)
    logger.log_submission(record)
    logger.log_fill(record, fill)
    logger.log_status_change(record, OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)
    logger.log_cancellation(record, reason="user")
    logger.log_error(record, "boom", 201)
    logger.log_retry(record, delay=2.0)
    events = _lines(tmp_path / "orders-2026-02-18.jsonl")
    assert [e["event_type"] for e in events] == [
        "SUBMISSION", "FILL", "STATUS_CHANGE", "CANCELLATION", "ERROR", "RETRY",
    ]
    for event in events:
        for key in SEED_KEYS:
            assert key in event, (event["event_type"], key)
        assert event["timestamp"] == NOON.isoformat()
        assert (event["order_id"], event["symbol"], event["action"], event["quantity"], event["order_type"]) == (
            7, "AAPL", "BUY", 100, "LIMIT",
        )
        assert event["status"] == "PartiallyFilled"
        assert event["submission_time"] == "2026-02-18T10:30:45.123456"
        assert event["limit_price"] == 150.0
    fill_event = events[1]
    assert (fill_event["fill_id"], fill_event["fill_quantity"], fill_event["fill_price"], fill_event["commission"]) \
        == ("e1.01", 40, 150.0, 1.0)
    assert (events[2]["old_status"], events[2]["new_status"]) == ("Submitted", "PartiallyFilled")
    assert events[3]["reason"] == "user"
    assert (events[4]["error_code"], events[4]["error_message"]) == (201, "boom")
    assert (events[5]["delay"], events[5]["retry_count"]) == (2.0, 0)
    assert set(EVENT_TYPES) >= {"SUBMISSION", "FILL", "STATUS_CHANGE", "CANCELLATION", "ERROR", "RETRY"}


def test_unknown_event_type_is_refused(tmp_path):
    logger = _logger(tmp_path)
    with pytest.raises(ValueError):
        logger.log_event("FILLED", _record())
    assert not (tmp_path / "orders-2026-02-18.jsonl").exists() or _lines(tmp_path / "orders-2026-02-18.jsonl") == []


def test_the_line_is_on_disk_when_the_call_returns(tmp_path):
    logger = _logger(tmp_path)  # never closed in this test
    path = tmp_path / "orders-2026-02-18.jsonl"
    logger.log_submission(_record(1))
    assert [e["order_id"] for e in _lines(path)] == [1]
    logger.log_fill(_record(1), Fill("x", 1, "AAPL", 1, 1.0, NOON))
    assert [e["event_type"] for e in _lines(path)] == ["SUBMISSION", "FILL"]


def test_fsync_mode_writes_too(tmp_path):
    logger = _logger(tmp_path, fsync=True)
    logger.log_submission(_record())
    assert len(_lines(tmp_path / "orders-2026-02-18.jsonl")) == 1


def test_file_and_folder_are_private_even_with_a_permissive_umask(tmp_path):
    folder = tmp_path / "a" / "orders"
    old = os.umask(0)
    try:
        logger = _logger(folder)
        logger.log_submission(_record())
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "orders-2026-02-18.jsonl").stat().st_mode) == 0o600


def test_an_existing_day_file_is_made_private_but_the_folder_is_left_as_it_is(tmp_path):
    folder = tmp_path / "orders"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    path = folder / "orders-2026-02-18.jsonl"
    path.write_bytes(b"")
    os.chmod(path, 0o644)
    logger = _logger(folder)
    logger.log_submission(_record())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755  # the user's folder: not ours to change
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_torn_last_line_is_skipped_and_fenced_after_a_restart(tmp_path):
    path = tmp_path / "orders-2026-02-18.jsonl"
    first = _logger(tmp_path)
    first.log_submission(_record(1))
    first.close()
    with open(path, "ab") as f:  # the app died halfway through a line
        f.write(b'{"timestamp": "2026-02-18T12:00:00", "event_type": "FI')
    day = read_day(tmp_path, DAY)
    assert [e["order_id"] for e in day.events] == [1]
    assert len(day.bad_lines) == 1 and day.bad_lines[0].line_number == 2
    assert day.bad_lines[0].text.startswith('{"timestamp"')

    second = _logger(tmp_path)
    second.log_submission(_record(2))
    day = second.read_day(DAY)
    assert [e["order_id"] for e in day.events] == [1, 2]
    assert [b.line_number for b in day.bad_lines] == [2]


def test_torn_line_is_fenced_by_a_logger_that_is_still_open(tmp_path):
    """A short write (disk full) or another writer can tear the last line under an open logger too."""
    path = tmp_path / "orders-2026-02-18.jsonl"
    logger = _logger(tmp_path)
    logger.log_submission(_record(1))
    with open(path, "ab") as f:
        f.write(b'{"event_type": "FILL", "order_')
    logger.log_submission(_record(2))
    logger.log_submission(_record(3))
    day = logger.read_day(DAY)
    assert [e["order_id"] for e in day.events] == [1, 2, 3]
    assert [b.line_number for b in day.bad_lines] == [2]


def test_corrupt_line_in_the_middle_is_skipped(tmp_path):
    path = tmp_path / "orders-2026-02-18.jsonl"
    logger = _logger(tmp_path)
    logger.log_submission(_record(1))
    with open(path, "ab") as f:
        f.write(b"\x00\xff not json at all\n")
        f.write(b"[1, 2, 3]\n")  # JSON, but not an event
        f.write(b'{"no_event_type": true}\n')
        f.write(b"\n")  # blank lines are not errors
    logger.log_submission(_record(2))
    day = read_day(tmp_path, DAY)
    assert [e["order_id"] for e in day.events] == [1, 2]
    assert [b.line_number for b in day.bad_lines] == [2, 3, 4]
    assert logger.get_order_history(2) == [day.events[1]]


def test_reading_a_day_without_a_file(tmp_path):
    day = read_day(tmp_path / "nowhere", DAY)
    assert day.events == [] and day.bad_lines == []
    assert available_days(tmp_path / "nowhere") == []


def test_get_order_history(tmp_path):
    logger = _logger(tmp_path)
    one, two = _record(1), _record(2)
    logger.log_submission(one)
    logger.log_submission(two)
    logger.log_fill(one, Fill("a", 1, "AAPL", 10, 1.0, NOON))
    logger.log_cancellation(two, reason="user")
    logger.log_event("NOTICE", None, message="connected")  # not about an order
    assert [e["event_type"] for e in logger.get_order_history(1)] == ["SUBMISSION", "FILL"]
    assert [e["event_type"] for e in logger.get_order_history(2)] == ["SUBMISSION", "CANCELLATION"]
    assert logger.get_order_history(3) == []
    assert logger.get_order_history(1, DAY) == logger.get_order_history(1)
    assert logger.get_order_history(1, date(2026, 2, 17)) == []


def _scripted_day(harness):
    h = harness.handler
    filled = harness.submit("AAPL", "BUY", 100)
    h.handle_fill(filled.order_id, 100, 150.0, commission=1.0, exec_id="a.01")
    h.handle_status(filled.order_id, "Filled")  # a notice: changes no count
    partial = harness.submit("MSFT", "SELL", 100)
    h.handle_fill(partial.order_id, 99, 400.0, exec_id="b.01")  # one share left: still a partial fill
    h.handle_fill(partial.order_id, 1, 401.0, exec_id="c.01")
    h.handle_commission("b.01", 0.5)  # a late commission report: a COMMISSION line
    cancelled = harness.submit("IBM", "BUY", 10, "LIMIT", 100.0)
    h.request_cancel(cancelled.order_id)
    h.handle_error(cancelled.order_id, 202, "Order Canceled - reason:")
    errored = harness.submit("XYZ", "BUY", 5)
    h.handle_error(errored.order_id, 200, "No security definition has been found for the request")
    return filled, partial, cancelled, errored


EXPECTED_SUMMARY = {
    "total_orders": 4, "filled_orders": 2, "cancelled_orders": 1, "error_orders": 1,
    "partial_fills": 1, "complete_fills": 2, "total_fills": 3,
    "traded_value": 100 * 150.0 + 99 * 400.0 + 1 * 401.0, "commission": 1.5,
}


def test_todays_summary_counts_a_scripted_day(harness):
    _scripted_day(harness)
    assert harness.logger.get_todays_summary() == EXPECTED_SUMMARY


def test_summary_follows_an_order_that_recovered_from_an_error(harness):
    h = harness.handler

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 10)
        h.handle_error(record.order_id, 504, "Not connected")
        assert harness.logger.get_todays_summary()["error_orders"] == 1
        await harness.advance(1)
        h.handle_fill(record.order_id, 10, 1.0, exec_id="a.01")

    asyncio.run(scenario())
    summary = harness.logger.get_todays_summary()
    assert (summary["total_orders"], summary["filled_orders"], summary["error_orders"]) == (1, 1, 0)


def test_log_to_file_false_writes_no_file_but_still_remembers_today(tmp_path, make_harness):
    folder = tmp_path / "should-not-exist"
    logger = OrderLogger(log_to_file=False, log_dir=folder, log_to_console=False, now=Times(NOON))
    logger.log_submission(_record(1))
    logger.log_cancellation(_record(1, status=OrderStatus.CANCELLED))
    assert not folder.exists()
    assert [e["event_type"] for e in logger.get_order_history(1)] == ["SUBMISSION", "CANCELLATION"]
    assert logger.get_todays_summary()["cancelled_orders"] == 1
    assert logger.read_day(date(2026, 2, 17)).events == []


def test_in_memory_summary_matches_the_file_summary(make_harness, tmp_path):
    on_file = make_harness()
    _scripted_day(on_file)
    in_memory = make_harness()
    in_memory.handler.logger = OrderLogger(log_to_file=False, log_dir=tmp_path / "mem", log_to_console=False,
                                           now=in_memory.wall)
    _scripted_day(in_memory)
    assert in_memory.handler.logger.get_todays_summary() == EXPECTED_SUMMARY
    assert not (tmp_path / "mem").exists()


def test_console_echo(tmp_path):
    out = io.StringIO()
    logger = OrderLogger(log_dir=tmp_path, console=out, now=Times(NOON))
    logger.log_error(_record(3), "Not connected", 504)
    text = out.getvalue()
    assert text.count("\n") == 1
    assert "ERROR" in text and "#3" in text and "error_code=504" in text and "12:00:00" in text


def test_default_log_dir_comes_from_platformdirs(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    expected = Path(platformdirs.user_log_dir("ibticket", appauthor=False)) / "orders"

    quiet = OrderLogger(log_to_file=False, log_to_console=False, now=Times(NOON))
    assert quiet.log_dir == expected
    assert expected.name == "orders" and "ibticket" in expected.parts
    assert not expected.exists()  # log_to_file=False creates nothing
    if sys.platform.startswith("linux"):
        assert expected.is_relative_to(tmp_path)  # honours the environment, never the real home

        logger = OrderLogger(log_to_console=False, now=Times(NOON))
        logger.log_submission(_record())
        assert (expected / "orders-2026-02-18.jsonl").exists()
        assert stat.S_IMODE(expected.stat().st_mode) == 0o700


def test_summary_counts_a_corrected_execution_once(tmp_path):
    from ibticket.core import ManualClock, OrderExecutionHandler, OrderLogger

    logger = OrderLogger(log_dir=tmp_path, log_to_console=False)
    handler = OrderExecutionHandler(logger=logger, clock=ManualClock())
    record = handler.create_order("AAPL", "BUY", 100)
    handler.handle_fill(record.order_id, 100, 150.0, exec_id="e1.01")
    handler.handle_fill(record.order_id, 100, 149.5, exec_id="e1.02")  # a correction of the same execution
    summary = logger.get_todays_summary()
    assert (summary["total_fills"], summary["complete_fills"], summary["partial_fills"]) == (1, 1, 0)
    assert summary["traded_value"] == 100 * 149.5  # the correction replaces the first price, not adds to it


def test_summary_traded_value_and_commission_follow_corrections_and_late_reports(tmp_path):
    from ibticket.core import DaySummary, ManualClock, OrderExecutionHandler, OrderLogger, summarize

    logger = OrderLogger(log_dir=tmp_path, log_to_console=False)
    handler = OrderExecutionHandler(logger=logger, clock=ManualClock())
    one = handler.create_order("AAPL", "BUY", 100)
    two = handler.create_order("MSFT", "SELL", 10)
    handler.handle_fill(one.order_id, 60, 150.0, commission=0.3, exec_id="e1.01")
    handler.handle_fill(one.order_id, 40, 151.0, exec_id="e2.01")  # commission comes later
    handler.handle_commission("e2.01", 0.2)
    handler.handle_fill(one.order_id, 60, 149.0, commission=0.35, exec_id="e1.02")  # corrects e1.01
    handler.handle_fill(two.order_id, 10, 400.0, commission=1.0, exec_id="e3.01")
    handler.handle_commission("e3.01", 1.25)  # a corrected commission report replaces the first
    events = logger.read_day().events
    assert [e["event_type"] for e in events if e["event_type"] in ("FILL", "COMMISSION")] == [
        "FILL", "FILL", "COMMISSION", "FILL", "FILL", "COMMISSION"]
    summary = logger.get_todays_summary()
    assert summary["traded_value"] == 60 * 149.0 + 40 * 151.0 + 10 * 400.0
    assert summary["commission"] == 0.35 + 0.2 + 1.25
    assert (summary["total_fills"], summary["complete_fills"]) == (3, 2)
    # The handler's own summary (no log) and the incremental one agree with the log's.
    assert handler.summary() == summary
    incremental = DaySummary()
    for event in events:
        incremental.add(event)
    assert incremental.result() == summarize(events) == summary
