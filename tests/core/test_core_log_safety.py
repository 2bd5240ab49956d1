"""The order log under a full disk, a hostile folder and other writers.

- Write-ahead: an order's first line is on disk before anything is sent; if it cannot be, nothing is sent
  and the caller gets ``OrderLogError`` naming the folder.
- Once sent, a log failure never raises and never skips a callback: the lines are kept, the log reports
  itself degraded, new orders are refused, and the owed lines land later in order, once each.
- The folder's mode is the user's; a symlink (or anything not a regular file) at the day path is refused.
- The torn-line fence reads the file back only when someone else wrote to it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
from datetime import date, datetime
from pathlib import Path

import pytest

from ibticket.core import OrderLogError, OrderLogger, OrderRecord, OrderStatus, OrderValidationError, read_day
from ibticket.core.logger import TORN_MARK

from .diskfull import FullDisk, install, small_tmpfs

NOON = datetime(2026, 2, 18, 12, 0, 0)
DAY = date(2026, 2, 18)


def _kinds(events):
    return [(e["event_type"], e.get("order_id")) for e in events]


class Health:
    def __init__(self, logger: OrderLogger) -> None:
        self.calls: list[tuple[bool, str]] = []
        logger.register_health_callback(lambda degraded, message: self.calls.append((degraded, message)))


# -- write-ahead ------------------------------------------------------------------------------------


def test_the_submission_is_on_disk_before_the_place_function_runs(harness):
    seen_on_disk = []

    async def place(record, attempt):
        seen_on_disk.append(_kinds(harness.events()))
        attempt.order_id = 77

    harness.handler.set_place_function(place)
    record = harness.submit("AAPL", "BUY", 100)
    assert seen_on_disk == [[("SUBMISSION", record.order_id)]]
    (ahead,) = harness.events("SUBMISSION")
    assert (ahead["attempt_ref"], ahead["status"]) == (record.order_ref + "/1", "Pending")


def test_a_full_disk_refuses_a_new_order_before_anything_is_sent(harness):
    disk = install(harness.logger, FullDisk(0))
    health = Health(harness.logger)
    with pytest.raises(OrderLogError) as refused:
        asyncio.run(harness.handler.submit_order("AAPL", "BUY", 100))
    message = str(refused.value)
    assert isinstance(refused.value, OrderValidationError)
    assert "not sent" in message and str(harness.log_dir) in message and "No space left on device" in message
    assert harness.placed == []
    assert harness.handler.get_all_orders() == []  # nothing registered: it was never entered
    assert harness.handler.log_degraded and harness.logger.degraded
    assert [d for d, _ in health.calls] == [True]

    # Room again: the same order goes, and is not refused as a duplicate of the one never sent.
    disk.free()
    record = harness.submit("AAPL", "BUY", 100)
    assert harness.placed == [(record.order_id, record.order_ref + "/1", 100)]
    assert not harness.logger.degraded and [d for d, _ in health.calls] == [True, False]
    assert _kinds(harness.events()) == [("SUBMISSION", record.order_id), ("STATUS_CHANGE", record.order_id)]


def test_a_retry_that_falls_due_while_the_log_is_full_is_not_sent(harness):
    h = harness.handler
    errors = []
    h.register_error_callback(lambda r, m: errors.append(m))

    async def scenario():
        record = await h.submit_order("AAPL", "BUY", 100)
        assert h.handle_error(record.order_id, 504, "Not connected") is True
        install(harness.logger, FullDisk(0))
        await harness.advance(1)
        return record

    record = asyncio.run(scenario())
    assert len(harness.placed) == 1
    assert record.status is OrderStatus.ERROR and len(record.attempts) == 1
    assert record.error_message.startswith("Retry not sent: The order was not sent: the order log in ")
    assert errors[-1] == record.error_message


# -- degraded: once sent, nothing raises and nothing is lost ---------------------------------------


def test_once_sent_a_full_disk_never_raises_nor_skips_a_callback(harness):
    h = harness.handler
    fills, statuses = [], []
    h.register_fill_callback(lambda r: fills.append(r.filled_quantity))
    h.register_status_callback(lambda r: statuses.append(r.status))
    health = Health(harness.logger)
    record = harness.submit("AAPL", "BUY", 100)
    disk = install(harness.logger, FullDisk(0))

    for i in range(10):
        assert h.handle_fill(record.order_id, 10, 150.0 + i, exec_id=f"e{i}.01") is True
    assert h.handle_commission("e0.01", 1.25) is True
    assert fills == list(range(10, 101, 10))
    assert statuses == [OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED]
    assert record.status is OrderStatus.FILLED

    (degraded, message), = health.calls
    assert degraded and str(harness.log_dir) in message and "No space left on device" in message
    assert "1 line kept in memory" in message and harness.logger.pending_lines == 11
    assert "11 lines kept in memory" in harness.logger.health_message()
    assert "New orders are refused" in harness.logger.health_message()
    # The owed lines are part of the log for history and summary meanwhile.
    owed = [("FILL", record.order_id)] * 10 + [("COMMISSION", record.order_id)]
    assert _kinds(harness.logger.get_order_history(record.order_id))[2:] == owed
    assert harness.logger.get_todays_summary()["filled_orders"] == 1

    with pytest.raises(OrderLogError, match="11 earlier log lines are waiting to be written"):
        asyncio.run(h.submit_order("MSFT", "BUY", 1))
    assert len(harness.placed) == 1
    assert harness.logger.retry() is False  # still full

    disk.free()
    assert harness.logger.retry() is True
    assert [d for d, _ in health.calls] == [True, False]
    events = harness.events()  # the file itself
    assert _kinds(events) == [("SUBMISSION", 1), ("STATUS_CHANGE", 1), *owed]
    assert [e["fill_id"] for e in events if e["event_type"] == "FILL"] == [f"e{i}.01" for i in range(10)]
    assert read_day(harness.log_dir, DAY).bad_lines == []


def test_each_new_write_first_writes_what_is_owed(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    disk = install(harness.logger, FullDisk(0))
    h.handle_fill(record.order_id, 10, 1.0, exec_id="a.01")
    disk.free()
    h.handle_fill(record.order_id, 10, 1.0, exec_id="b.01")  # no retry() call: this write pays the debt
    assert not harness.logger.degraded
    assert [e.get("fill_id") for e in harness.events("FILL")] == ["a.01", "b.01"]


def test_a_line_cut_short_is_finished_in_place(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    disk = install(harness.logger, FullDisk(100))  # room for a piece of the next line only
    h.handle_fill(record.order_id, 10, 1.0, exec_id="a.01")
    assert disk.short == 1 and harness.logger.degraded
    assert not harness.log_file.read_bytes().endswith(b"\n")
    while_torn = harness.logger.read_day()
    assert while_torn.bad_line_numbers == [3]  # the piece on disk; the whole line comes from memory
    assert [e["event_type"] for e in while_torn.events] == ["SUBMISSION", "STATUS_CHANGE", "FILL"]
    disk.free()
    assert harness.logger.retry()
    day = read_day(harness.log_dir, DAY)
    assert day.bad_lines == [] and [e["event_type"] for e in day.events] == ["SUBMISSION", "STATUS_CHANGE", "FILL"]


def test_a_piece_that_another_writer_buried_is_fenced_and_the_line_written_whole(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    disk = install(harness.logger, FullDisk(100))
    h.handle_fill(record.order_id, 10, 1.0, exec_id="a.01")
    other = OrderLogger(log_dir=harness.log_dir, log_to_console=False, now=harness.wall)  # another process
    other.log_event("NOTICE", message="another client")
    disk.free()
    assert harness.logger.retry()
    day = read_day(harness.log_dir, DAY)
    assert day.bad_line_numbers == [3]  # our piece, ended by the other writer's fence
    assert [e["event_type"] for e in day.events] == ["SUBMISSION", "STATUS_CHANGE", "NOTICE", "FILL"]


def test_a_line_short_only_of_its_newline_is_not_written_twice(harness):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    install(harness.logger, FullDisk(float("inf"), cut_next_by=1))
    h.handle_fill(record.order_id, 10, 1.0, exec_id="a.01")
    assert harness.logger.degraded
    other = OrderLogger(log_dir=harness.log_dir, log_to_console=False, now=harness.wall)
    other.log_event("NOTICE", message="another client")  # its fence completes our line
    harness.logger._write.free()
    assert harness.logger.retry()
    day = read_day(harness.log_dir, DAY)
    assert day.bad_lines == []
    assert [e["event_type"] for e in day.events] == ["SUBMISSION", "STATUS_CHANGE", "FILL", "NOTICE"]


@pytest.mark.parametrize("cut", [1, 2, 40])
def test_a_piece_of_a_refused_submission_never_reads_as_sent(harness, cut):
    """Even a piece that lacks only its newline: the next write marks it, so no reader takes it whole."""
    first = harness.submit("AAPL", "BUY", 100)
    disk = install(harness.logger, FullDisk(float("inf"), cut_next_by=cut))
    with pytest.raises(OrderLogError):
        asyncio.run(harness.handler.submit_order("MSFT", "BUY", 5))
    assert len(harness.placed) == 1
    assert harness.logger.read_day().bad_line_numbers == [3]  # no line end: torn
    disk.free()
    second = harness.submit("IBM", "BUY", 1)
    day = read_day(harness.log_dir, DAY)
    piece = harness.log_file.read_bytes().split(b"\n")[2]
    assert day.bad_line_numbers == [3] and piece.startswith(b'{"timestamp"') and piece.endswith(TORN_MARK.rstrip())
    assert {e["symbol"] for e in day.events} == {"AAPL", "IBM"}
    assert _kinds(day.events)[-2:] == [("SUBMISSION", second.order_id), ("STATUS_CHANGE", second.order_id)]
    assert first.order_id == 1


# -- a real small filesystem ------------------------------------------------------------------------


@pytest.fixture
def small_fs(tmp_path: Path):
    with small_tmpfs(tmp_path / "small") as where:
        yield where


def test_a_real_48k_filesystem_fills_up_mid_run(small_fs, make_harness):
    harness = make_harness()
    harness.logger = OrderLogger(log_dir=small_fs / "orders", log_to_console=False, now=harness.wall)
    harness.handler.logger = harness.logger
    harness.log_dir = small_fs / "orders"
    filler = small_fs / "filler"
    filler.write_bytes(b"x" * 36 * 1024)  # what frees up later: 12 KiB are left for the log

    try:
        _fill_up_and_recover(harness, small_fs, filler)
    finally:
        harness.logger.close()


def _fill_up_and_recover(harness, small_fs: Path, filler: Path) -> None:
    h = harness.handler
    fill_calls: list[int] = []
    h.register_fill_callback(lambda r: fill_calls.append(r.order_id))
    sent: list[OrderRecord] = []
    refused = 0
    for i in range(150):
        try:
            record = asyncio.run(h.submit_order("AAPL", "BUY", 10, "LIMIT", 100.0 + i))
        except OrderLogError as exc:
            assert str(small_fs / "orders") in str(exc) and "No space left on device" in str(exc)
            refused += 1
            continue
        sent.append(record)
    assert sent and refused and len(sent) + refused == 150
    assert [p[0] for p in harness.placed] == [r.order_id for r in sent]  # a refused order never went out

    # Every order that went out fills now, on a full disk: no call raises, every callback runs.
    for record in sent:
        assert h.handle_fill(record.order_id, 4, 100.0, exec_id=f"{record.order_id}a.01")
        assert h.handle_fill(record.order_id, 6, 100.0, exec_id=f"{record.order_id}b.01")
    assert fill_calls == [r.order_id for r in sent for _ in range(2)]
    assert all(r.status is OrderStatus.FILLED for r in sent)
    # (plus, maybe, the "sent" line of the last order out, written ahead but not after)
    assert harness.logger.degraded and harness.logger.pending_lines - 2 * len(sent) in (0, 1)

    filler.unlink()
    assert harness.logger.retry(), harness.logger.last_error
    day = read_day(harness.log_dir, harness.wall().date())
    expected = [(kind, r.order_id) for r in sent for kind in ("SUBMISSION", "STATUS_CHANGE")]
    expected += [("FILL", r.order_id) for r in sent for _ in range(2)]
    assert _kinds(day.events) == expected
    fills = [e["fill_id"] for e in day.events if e["event_type"] == "FILL"]
    assert len(fills) == len(set(fills))
    # At most the piece of the one submission that did not fit, marked so it never reads as sent.
    assert len(day.bad_lines) <= 1
    if day.bad_lines:
        torn = harness.log_file.read_bytes().split(b"\n")[day.bad_lines[0].line_number - 1]
        assert torn.endswith(TORN_MARK.rstrip())


def test_on_a_real_full_filesystem_the_probe_waits_for_room(small_fs):
    logger = OrderLogger(log_dir=small_fs / "orders", log_to_console=False, now=lambda: NOON)
    try:
        filler = small_fs / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            with pytest.raises(OSError, match="No space left"):
                while True:
                    os.write(fd, b"x" * 4096)
        finally:
            os.close(fd)
        with pytest.raises(OrderLogError, match="No space left on device"):
            logger.log_submission(_record(), write_ahead=True)
        assert logger.pending_lines == 0 and logger.retry() is False  # nothing owed, and still no room
        filler.unlink()
        assert logger.retry() is True
        logger.log_submission(_record(), write_ahead=True)
    finally:
        logger.close()


# -- the folder and the day file ----------------------------------------------------------------------


def _record() -> OrderRecord:
    return OrderRecord(1, "AAPL", "BUY", 100, status=OrderStatus.SUBMITTED, submission_time=NOON, order_ref="r-1")


def _logger(folder: Path) -> OrderLogger:
    return OrderLogger(log_dir=folder, log_to_console=False, now=lambda: NOON)


@pytest.mark.parametrize(("mode", "warns"), [(0o750, False), (0o700, False), (0o755, False), (0o770, True),
                                             (0o1777, True)])
def test_an_existing_folder_keeps_the_mode_its_owner_gave_it(tmp_path, caplog, mode, warns):
    folder = tmp_path / "orders"
    folder.mkdir()
    os.chmod(folder, mode)
    with caplog.at_level(logging.WARNING, logger="ibticket.core.logger"):
        logger = _logger(folder)
        logger.log_submission(_record())
        logger.log_submission(_record())
    assert stat.S_IMODE(folder.stat().st_mode) == mode
    assert caplog.text.count("can be written by other users") == (1 if warns else 0)
    assert stat.S_IMODE((folder / "orders-2026-02-18.jsonl").stat().st_mode) == 0o600


@pytest.mark.parametrize("umask", [0, 0o022, 0o277])
def test_folders_it_makes_are_private_whatever_the_umask(tmp_path, umask):
    os.chmod(tmp_path, 0o755)
    folder = tmp_path / "state" / "ibticket" / "orders"
    old = os.umask(umask)
    try:
        _logger(folder).log_submission(_record())
    finally:
        os.umask(old)
    for made in (tmp_path / "state", tmp_path / "state" / "ibticket", folder):
        assert stat.S_IMODE(made.stat().st_mode) == 0o700, made
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symlink_at_the_day_path_is_refused_and_its_target_untouched(tmp_path, make_harness, dangling):
    target = tmp_path / "victim"
    if not dangling:
        target.write_text("precious\n")
        os.chmod(target, 0o644)
    harness = make_harness()
    harness.log_dir.mkdir(exist_ok=True)
    harness.log_file.symlink_to(target)
    with pytest.raises(OrderLogError, match="is a symbolic link"):
        asyncio.run(harness.handler.submit_order("AAPL", "BUY", 1))
    assert harness.placed == []
    # A line about an order already out is not lost either: kept, and the log reports why it is degraded.
    harness.logger.log_event("NOTICE", message="after the fact")
    assert harness.logger.degraded and "symbolic link" in harness.logger.last_error
    if dangling:
        assert not target.exists()
    else:
        assert target.read_text() == "precious\n" and stat.S_IMODE(target.stat().st_mode) == 0o644
    harness.log_file.unlink()
    assert harness.logger.retry()
    assert [e["message"] for e in harness.events()] == ["after the fact"]


@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_something_else_at_the_day_path_is_refused(tmp_path, make_harness, kind):
    harness = make_harness()
    harness.log_dir.mkdir(exist_ok=True)
    if kind == "fifo":
        os.mkfifo(harness.log_file)
    else:
        harness.log_file.mkdir()
    with pytest.raises(OrderLogError, match=r"is not a regular file|Is a directory"):
        asyncio.run(harness.handler.submit_order("AAPL", "BUY", 1))
    assert harness.placed == []


def test_an_unwritable_folder_does_not_stop_the_logger_being_made(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    logger = _logger(blocker / "orders")  # its parent is a file: the folder can never be made
    assert logger.degraded and str(blocker / "orders") in logger.last_error
    with pytest.raises(OrderLogError):
        logger.log_submission(_record(), write_ahead=True)


# -- the torn-line fence's cost ------------------------------------------------------------------------


def test_the_fence_reads_back_only_when_someone_else_wrote(tmp_path, monkeypatch):
    reads: list[int] = []
    real_pread = os.pread
    monkeypatch.setattr(os, "pread", lambda fd, n, offset: reads.append(offset) or real_pread(fd, n, offset))
    logger = _logger(tmp_path)
    path = tmp_path / "orders-2026-02-18.jsonl"
    for _ in range(50):
        logger.log_submission(_record())
    assert reads == []
    with open(path, "ab") as other:  # another process appends a whole line: one read-back, no fence
        other.write(json.dumps({"timestamp": NOON.isoformat(), "event_type": "NOTICE"}).encode() + b"\n")
    logger.log_event("NOTICE", message="a")
    logger.log_event("NOTICE", message="b")
    assert len(reads) == 1
    with open(path, "ab") as other:  # ... and a torn one: read back and fenced
        other.write(b'{"timestamp": "2026-02-18T12:00:00", "event_type": "FI')
    logger.log_event("NOTICE", message="c")
    assert len(reads) == 2
    day = read_day(tmp_path, DAY)
    assert day.bad_line_numbers == [54]
    assert [e.get("message") for e in day.events[50:]] == [None, "a", "b", "c"]


def test_closing_writes_what_is_owed_or_says_what_was_lost(harness, caplog):
    h = harness.handler
    record = harness.submit("AAPL", "BUY", 100)
    disk = install(harness.logger, FullDisk(0))
    h.handle_fill(record.order_id, 10, 1.0, exec_id="a.01")
    disk.free()
    harness.logger.close()
    assert [e.get("fill_id") for e in harness.events("FILL")] == ["a.01"]

    disk.free(0)
    h.handle_fill(record.order_id, 10, 1.0, exec_id="b.01")
    with caplog.at_level(logging.ERROR, logger="ibticket.core.logger"):
        harness.logger.close()
    assert "1 lines could not be written" in caplog.text and '"fill_id": "b.01"' in caplog.text
