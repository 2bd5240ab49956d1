"""The log viewer's index, filters, check and export, without Qt: on real day files written by the handler
and logger, with torn, corrupt, blank and hand-written lines, against the order log's own reader."""

from __future__ import annotations

import csv
import json
import os
import threading
from array import array
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from logdays import DAY, DayWriter, write_day

from ibticket.core import read_day, summarize
from ibticket.core.logreader import parse_line
from ibticket.logview.check import CheckState, check_job
from ibticket.logview.days import DayFile, list_days, stats_job
from ibticket.logview.filters import UNREADABLE, FilterSpec, filter_job, scan_lines
from ibticket.logview.index import FileChanged, LineIndex, index_job
from ibticket.logview.jobs import CHECK, FILTER, INDEX, STATS, Worker
from ibticket.logview.rows import COLUMNS, export_job, row_cells


def _index(path: Path, chunk: int = 1 << 20) -> LineIndex:
    index = LineIndex(path)
    while True:
        index.step(chunk)
        if index.scanned >= index.size:
            return index


def _check(index: LineIndex) -> CheckState:
    state = CheckState()
    while state.checked < index.line_count:
        state.check(index, index.chunk_end(state.checked))
    return state


def _filter(index: LineIndex, spec: FilterSpec, chunk: int = 1 << 20) -> list[int]:
    found: list[int] = []
    first = 0
    while first < index.line_count:
        stop = index.chunk_end(first, chunk)
        found += scan_lines(index, spec, first, stop)
        first = stop
    return found


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def _damaged_day(folder: Path) -> Path:
    """A real day with, between its lines: a torn line (fenced by the logger), not JSON, a field of the
    wrong type, a blank line, an event written by hand without the logger's spacing, and at the end a
    line still being written."""
    writer = DayWriter(folder)
    writer.trade(12)
    with writer.path.open("ab") as f:
        f.write(b'{"timestamp": "2026-02-18T10:00:00", "event_type": "FILL", "order_id": 3, "sym')  # torn
    writer.trade(3)  # the logger ends the torn line before its next one
    with writer.path.open("ab") as f:
        f.write(b"not json at all\n")
        f.write(json.dumps({"timestamp": "2026-02-18T10:00:01", "event_type": "FILL", "order_id": "7"}).encode()
                + b"\n")
        f.write(b"   \n")
        f.write(b'{"timestamp":"2026-02-18T10:00:02","event_type":"NOTICE","order_id":7,"symbol":"AAPL",'
                b'"message":"written by hand"}\n')
        f.write(b'{"timestamp": "2026-02-18T10:00:03", "event_type": "NOTICE", "order_id": 70, '
                b'"message": "order 7 was not this one"}\n')
    writer.trade(2)
    writer.close()
    with writer.path.open("ab") as f:
        f.write(b'{"timestamp": "2026-02-18T10:00:04", "event_type": "SUBM')
    return writer.path


# -- the index ----------------------------------------------------------------------------------------


def test_index_finds_every_complete_line_and_skips_blank_ones(tmp_path: Path) -> None:
    path = _damaged_day(tmp_path)
    raw = path.read_bytes()
    lines = _lines(path)
    index = _index(path)
    assert index.line_count == len(lines)
    assert index.unfinished == len(raw) - raw.rindex(b"\n") - 1  # the line still being written
    assert [index.read_line(k) for k in range(index.line_count)] == lines
    assert index.blank == [k for k, line in enumerate(lines) if not line.strip()]
    assert [index.row_line(r) for r in range(index.row_count)] == [k for k, line in enumerate(lines) if line.strip()]
    # Lines that spell order_id otherwise than the logger (by hand; a string) are remembered, so the order
    # id filter parses them rather than trusting its bytes search.
    hand = next(k for k, line in enumerate(lines) if b"written by hand" in line)
    text_id = next(k for k, line in enumerate(lines) if b'"order_id": "7"' in line)
    assert index.is_odd(0, index.line_count) == [(text_id, text_id + 1), (hand, hand + 1)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.one_of(
        st.binary(min_size=0, max_size=80).map(lambda b: b.replace(b"\n", b"x")),
        st.sampled_from([b"", b"  ", b"\t", b'{"order_id":5}', b'{"order_id": 5, "x": 1}', b"x" * 300]),
    ), max_size=40),
    tail=st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")),
    chunk=st.integers(min_value=1, max_value=400),
)
def test_index_is_the_same_whatever_the_chunk_size(tmp_path: Path, lines: list[bytes], tail: bytes,
                                                    chunk: int) -> None:
    path = tmp_path / "orders-2026-02-18.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines) + tail)
    index = _index(path, chunk)
    assert index.line_count == len(lines)
    assert [index.read_line(k) for k in range(index.line_count)] == lines
    assert index.blank == [k for k, line in enumerate(lines) if not line.strip()]
    assert index.unfinished == len(tail)
    expected_odd = {k for k, line in enumerate(lines) if b'"order_id":5' in line}
    marked = {k for a, b in index.odd for k in range(a, b)}
    assert expected_odd <= marked


def test_the_check_matches_the_order_logs_reader(tmp_path: Path) -> None:
    path = _damaged_day(tmp_path)
    index = _index(path)
    state = _check(index)
    day = read_day(tmp_path, DAY)
    # read_day also reports the unfinished last line as torn; the index leaves it until its newline comes.
    assert [b.line_number for b in state.new_bad] == day.bad_line_numbers[:-1]
    assert [b.reason for b in state.new_bad] == [b.reason for b in day.bad_lines[:-1]]
    assert day.bad_lines[-1].reason.startswith("torn")
    assert state.events == len(day.events)
    assert state.summary.result() == summarize(day.events)
    assert state.summary.result()["traded_value"] > 0 and state.summary.result()["commission"] > 0


def test_the_day_list_counts_match_the_reader(tmp_path: Path) -> None:
    path = _damaged_day(tmp_path)
    write_day(tmp_path, 5, DAY.replace(day=17))
    (tmp_path / "orders-2026-02-30.jsonl").write_text("")  # not a real day
    (tmp_path / "notes.txt").write_text("")
    os.symlink(path, tmp_path / "orders-2026-02-10.jsonl")  # a link is not the order log's own file
    days = list_days(tmp_path)
    assert [d.day for d in days] == [DAY, DAY.replace(day=17)]
    results: list[Any] = []
    for day in days:
        for _ in stats_job(day, lambda d, s: results.append((d, s))):
            pass
    for day, stats in results:
        expected = read_day(tmp_path, day.day)
        assert stats.events == len(expected.events)
        assert stats.bad == len(expected.bad_lines)
        assert stats.summary == summarize(expected.events)
        assert stats.orders == summarize(expected.events)["total_orders"]


def test_a_symlink_or_a_folder_is_refused_with_its_name(tmp_path: Path) -> None:
    real = write_day(tmp_path / "real", 2)
    link = tmp_path / "orders-2026-02-18.jsonl"
    os.symlink(real, link)
    with pytest.raises(OSError, match="symbolic link"):
        LineIndex(link)
    folder = tmp_path / "dir" / "orders-2026-02-18.jsonl"
    folder.mkdir(parents=True)
    with pytest.raises(OSError, match="not a regular file"):
        LineIndex(folder)
    with pytest.raises(OSError, match="There is no order log file"):
        LineIndex(tmp_path / "orders-2026-01-01.jsonl")


# -- filters ------------------------------------------------------------------------------------------


def _expected(path: Path, keep: Any) -> list[int]:
    out = []
    for k, line in enumerate(_lines(path)):
        if not line.strip():
            continue
        event, _problem = parse_line(line)
        if keep(event, line):
            out.append(k)
    return out


@pytest.mark.parametrize("chunk", [1 << 20, 700])
def test_each_filter_finds_exactly_what_the_reader_reads(tmp_path: Path, chunk: int) -> None:
    path = _damaged_day(tmp_path)
    index = _index(path)
    cases: list[tuple[FilterSpec, Any]] = [
        (FilterSpec(order="7"), lambda e, _r: e is not None and e.get("order_id") == 7),
        (FilterSpec(order="#1"), lambda e, _r: e is not None and e.get("order_id") == 1),
        (FilterSpec(order="10"), lambda e, _r: e is not None and e.get("order_id") == 10),
        (FilterSpec(order="99"), lambda e, _r: False),
        (FilterSpec(symbol="msft"), lambda e, _r: e is not None and e.get("symbol") == "MSFT"),
        (FilterSpec(event_type="FILL"), lambda e, _r: e is not None and e["event_type"] == "FILL"),
        (FilterSpec(event_type=UNREADABLE), lambda e, _r: e is None),
        (FilterSpec(text="INSUFFICIENT"), lambda _e, r: b"insufficient" in r.lower()),
        (FilterSpec(text="not json"), lambda _e, r: b"not json" in r),
        (FilterSpec(event_type="ERROR", symbol="MSFT"),
         lambda e, _r: e is not None and e["event_type"] == "ERROR" and e.get("symbol") == "MSFT"),
    ]
    some_ref = next(e["order_ref"] for e in read_day(tmp_path, DAY).events if e.get("order_id") == 4)
    cases.append((FilterSpec(order=some_ref[-8:].upper()),
                  lambda e, _r: e is not None and some_ref[-8:] in (e.get("order_ref") or "")))
    for spec, keep in cases:
        expected = _expected(path, keep)
        assert _filter(index, spec, chunk) == expected, spec
        assert expected or spec.order == "99", f"{spec} should find something in the test day"
    # The hand-written line (no space after the colon) is found by the order id filter all the same.
    hand = next(k for k, line in enumerate(_lines(path)) if b"written by hand" in line)
    assert hand in _filter(index, FilterSpec(order="7"), chunk)


def test_free_text_finds_escaped_and_unicode_text(tmp_path: Path) -> None:
    path = tmp_path / "orders-2026-02-18.jsonl"
    events = [
        {"timestamp": "2026-02-18T10:00:00", "event_type": "NOTICE", "message": 'IB said "Café fermé"'},
        {"timestamp": "2026-02-18T10:00:01", "event_type": "NOTICE", "message": "nothing"},
    ]
    path.write_text("".join(json.dumps(e) + "\n" for e in events))  # ensure_ascii: é is \u00e9 in the file
    index = _index(path)
    assert _filter(index, FilterSpec(text="café")) == [0]
    assert _filter(index, FilterSpec(text='said "caf')) == [0]
    assert _filter(index, FilterSpec(text="NOTHING")) == [1]


# -- jobs on the worker: following a file that grows -------------------------------------------------


class Collector:
    def __init__(self) -> None:
        self.items: list[Any] = []
        self.changed = threading.Condition()

    def __call__(self, *args: Any) -> None:
        with self.changed:
            self.items.append(args[0] if len(args) == 1 else args)
            self.changed.notify_all()

    def wait(self, predicate: Any, timeout: float = 10.0) -> Any:
        with self.changed:
            assert self.changed.wait_for(lambda: predicate(self.items), timeout), f"timed out: {self.items[-3:]}"
        return self.items


def test_jobs_follow_a_day_file_that_another_writer_appends_to(tmp_path: Path) -> None:
    writer = DayWriter(tmp_path)
    writer.trade(6)
    index = LineIndex(writer.path)
    worker = Worker()
    try:
        indexed, matched, checked = Collector(), Collector(), Collector()
        worker.submit("index", INDEX, index_job(index, indexed))
        worker.submit("filter", FILTER, filter_job(index, FilterSpec(event_type="FILL"), matched))
        worker.submit("check", CHECK, check_job(index, checked))

        def rows_now(items: list[Any]) -> int:
            return items[-1].rows if items and items[-1].caught_up else -1

        def matches(items: list[Any]) -> list[int]:
            return [m for p in items for m in p.matches]

        lines = len(_lines(writer.path))
        indexed.wait(lambda items: rows_now(items) == lines)
        fills = _expected(writer.path, lambda e, _r: e is not None and e["event_type"] == "FILL")
        matched.wait(lambda items: items and items[-1].caught_up and matches(items) == fills)

        writer.trade(3)  # the day goes on
        with writer.path.open("ab") as f:
            f.write(b'{"timestamp": "2026-02-18T11:00:00", "event_type": "NOTICE", "order_id": 1, "mess')
        lines = len(_lines(writer.path))
        indexed.wait(lambda items: rows_now(items) == lines)  # only complete lines: the torn one waits
        assert indexed.items[-1].unfinished > 0
        fills = _expected(writer.path, lambda e, _r: e is not None and e["event_type"] == "FILL")
        matched.wait(lambda items: items[-1].caught_up and matches(items) == fills)
        with writer.path.open("ab") as f:
            f.write(b'age": "finished"}\n')  # the same writer finishes its line
        indexed.wait(lambda items: rows_now(items) == lines + 1 and items[-1].unfinished == 0)
        checked.wait(lambda items: items[-1].caught_up and items[-1].checked == lines + 1)
        day = read_day(tmp_path, DAY)
        assert checked.items[-1].events == len(day.events) and checked.items[-1].bad == 0
        assert checked.items[-1].summary == summarize(day.events)
    finally:
        worker.stop()
        writer.close()


def test_a_file_cut_short_or_replaced_must_be_read_afresh(tmp_path: Path) -> None:
    path = write_day(tmp_path, 4)
    index = _index(path)
    with path.open("r+b") as f:
        f.truncate(10)
    with pytest.raises(FileChanged, match="shorter"):
        index.step()
    path2 = write_day(tmp_path / "other", 4)
    index = _index(path2)
    os.replace(write_day(tmp_path / "third", 6), path2)
    with pytest.raises(FileChanged, match="replaced"):
        index.check_same_file()


def test_the_worker_runs_the_most_urgent_job_and_cancels_between_steps() -> None:
    ran: list[str] = []
    release = threading.Event()
    steps_seen = Collector()

    def blocker():
        release.wait(5)
        yield "worked"

    def steps(name: str, count: int | None):
        k = 0
        while count is None or k < count:
            ran.append(name)
            steps_seen(name)
            k += 1
            yield "worked"

    worker = Worker()
    try:
        worker.submit("blocker", INDEX, blocker())
        slow = worker.submit("stats", STATS, steps("stats", None))
        worker.submit("filter", FILTER, steps("filter", 3))
        worker.submit("index", INDEX, steps("index", 2))
        release.set()
        steps_seen.wait(lambda items: items.count("stats") >= 5)
        assert ran[:5] == ["index", "index", "filter", "filter", "filter"]  # most urgent first
        worker.cancel(slow)
        assert slow not in worker.jobs
        # At most the step under way when it was cancelled; none after it.
        threading.Event().wait(0.05)
        count = len(ran)
        threading.Event().wait(0.1)
        assert len(ran) == count

        failed = Collector()

        def broken():
            yield "worked"
            raise OSError(5, "Input/output error")

        worker.submit("broken", FILTER, broken(), on_error=failed)
        failed.wait(lambda items: items)
        assert isinstance(failed.items[0], OSError)
    finally:
        worker.stop()


# -- export ---------------------------------------------------------------------------------------------


def test_export_round_trips(tmp_path: Path) -> None:
    path = _damaged_day(tmp_path)
    index = _index(path)
    spec = FilterSpec(text="o")  # most lines, including unreadable ones
    lines = array("Q", _filter(index, spec))
    bad = [k for k in lines if parse_line(_lines(path)[k])[0] is None]
    assert bad, "the test needs unreadable lines among the exported rows"
    reports: list[Any] = []

    for _ in export_job(index, lines, tmp_path / "out.jsonl", "jsonl", lambda *a: reports.append(a)):
        pass
    assert reports[-1] == (len(lines) - len(bad), len(bad), len(lines), True)
    exported = (tmp_path / "out.jsonl").read_bytes().split(b"\n")[:-1]
    good = [k for k in lines if k not in bad]
    assert exported == [_lines(path)[k] for k in good]  # byte for byte the logged lines
    assert [parse_line(x)[0] for x in exported] == [parse_line(_lines(path)[k])[0] for k in good]

    for _ in export_job(index, lines, tmp_path / "out.csv", "csv", lambda *a: None):
        pass
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Line", *COLUMNS]
    expected = []
    for k in good:
        event, problem = parse_line(_lines(path)[k])
        expected.append([str(k + 1), *row_cells(event, problem, k + 1)])
    assert rows[1:] == expected
    assert not list(tmp_path.glob("*.part"))


def test_a_cancelled_export_leaves_no_file(tmp_path: Path) -> None:
    path = write_day(tmp_path, 40)
    index = _index(path)
    steps = export_job(index, range(index.line_count), tmp_path / "out.csv", "csv", lambda *a: None)
    next(steps)
    steps.close()
    assert not (tmp_path / "out.csv").exists() and not list(tmp_path.glob("*.part"))


def test_stats_job_reports_a_file_it_cannot_read(tmp_path: Path) -> None:
    day = DayFile(DAY, tmp_path / "orders-2026-02-18.jsonl", 0, 0)
    results: list[Any] = []
    for _ in stats_job(day, lambda d, s: results.append(s)):
        pass
    assert "There is no order log file" in results[0]


# -- the worker process --------------------------------------------------------------------------------


class Calls:
    """Stands for the window's thread: the remote worker posts calls here and the test runs them."""

    def __init__(self) -> None:
        import queue

        self.queue: queue.Queue[Any] = queue.Queue()

    def post(self, call: Any) -> None:
        self.queue.put(call)

    def run_until(self, predicate: Any, timeout: float = 15.0) -> None:
        import queue
        import time

        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            assert left > 0, "timed out waiting for the worker process"
            try:
                self.queue.get(timeout=left)()
            except queue.Empty:
                continue


def test_the_worker_process_indexes_filters_checks_and_exports(tmp_path: Path) -> None:
    from ibticket.logview.worker import RemoteWorker

    path = _damaged_day(tmp_path)
    calls = Calls()
    remote = RemoteWorker(calls.post)
    try:
        mirror = LineIndex(path)  # the window's copy, grown from the reports
        progress: list[Any] = []
        remote.submit("index", 1, str(path), on_report=lambda p: (mirror.absorb(p), progress.append(p)))
        calls.run_until(lambda: progress and progress[-1].caught_up)
        expected = _index(path)
        assert list(mirror.ends) == list(expected.ends) and mirror.blank == expected.blank
        assert [mirror.row_line(r) for r in range(mirror.row_count)] == \
            [expected.row_line(r) for r in range(expected.row_count)]

        found: list[int] = []
        done: list[bool] = []
        remote.submit("filter", 1, FilterSpec(order="7"), True,
                      on_report=lambda p: (found.extend(p.matches), done.append(p.caught_up)))
        checked: list[Any] = []
        remote.submit("check", 1, on_report=checked.append)
        calls.run_until(lambda: done and done[-1] and checked and checked[-1].caught_up)
        assert found == _filter(expected, FilterSpec(order="7"))
        day = read_day(tmp_path, DAY)
        assert checked[-1].summary == summarize(day.events)
        assert [b.line_number for b in checked[-1].new_bad] == day.bad_line_numbers[:-1]

        exported: list[Any] = []
        remote.submit("export", 1, array("Q", found).tobytes(), len(found), str(tmp_path / "seven.jsonl"), "jsonl",
                      on_report=lambda *r: exported.append(r))
        calls.run_until(lambda: exported and exported[-1][3])
        assert [json.loads(x) for x in (tmp_path / "seven.jsonl").read_text().splitlines()] == \
            [e for e in day.events if e.get("order_id") == 7]

        failures: list[BaseException] = []
        remote.submit("index", 2, str(tmp_path / "orders-2001-01-01.jsonl"), on_report=print,
                      on_error=failures.append)
        calls.run_until(lambda: failures)
        assert isinstance(failures[0], OSError) and "There is no order log file" in str(failures[0])

        # A cancelled job's late reports never reach the window.
        late: list[Any] = []
        job = remote.submit("filter", 1, FilterSpec(event_type=UNREADABLE), True, on_report=late.append)
        remote.cancel(job)
        sentinel: list[Any] = []
        remote.submit("stats", DayFile(DAY, path, 0, 0), False, on_report=lambda *r: sentinel.append(r))
        calls.run_until(lambda: sentinel)
        assert late == []
    finally:
        remote.stop()
    assert not remote.alive


def test_a_worker_process_that_dies_is_reported_to_every_job(tmp_path: Path) -> None:
    import signal

    from ibticket.logview.worker import RemoteWorker

    path = write_day(tmp_path, 5)
    calls = Calls()
    remote = RemoteWorker(calls.post)
    failures: list[BaseException] = []
    progress: list[Any] = []
    remote.submit("index", 1, str(path), on_report=progress.append, on_error=failures.append)
    calls.run_until(lambda: progress and progress[-1].caught_up)
    os.kill(remote.pid, signal.SIGKILL)
    calls.run_until(lambda: failures)
    assert "the log viewer's reader stopped" in str(failures[0])
    assert not remote.alive
    with pytest.raises(OSError, match="reader stopped"):
        remote.submit("check", 1, on_report=print)
    remote.stop()


def test_stop_returns_only_once_the_reader_thread_has_posted_its_last(tmp_path: Path) -> None:
    # The reader thread posts into the window's thread through a QObject of the panel, which may be deleted
    # as soon as stop() returns: a post still under way then wrote into freed memory (a rare segfault).
    import time

    from ibticket.logview.worker import RemoteWorker

    path = write_day(tmp_path, 5)
    calls = Calls()
    stopping = threading.Event()

    def post(call: Any) -> None:
        if stopping.is_set():
            time.sleep(0.3)  # a window's thread slow to take the call: the hand-over is still going on
        calls.post(call)

    remote = RemoteWorker(post)
    progress: list[Any] = []
    remote.submit("index", 1, str(path), on_report=progress.append)
    calls.run_until(lambda: progress and progress[-1].caught_up)
    stopping.set()
    remote.stop()
    assert not remote._reader.is_alive()
    posted = calls.queue.qsize()
    assert posted >= 1  # the reader's last word (the process ended) came before stop() returned
    remote._reader.join(1.0)
    assert calls.queue.qsize() == posted


def test_the_app_itself_starts_the_worker_for_a_frozen_bundle(tmp_path: Path) -> None:
    import subprocess
    import sys

    from ibticket.logview.worker import WORKER_FLAG, read_frame, send_frame

    path = write_day(tmp_path, 3)
    process = subprocess.Popen(
        [sys.executable, "-c", f"import sys; from ibticket.gui.app import main; sys.exit(main([{WORKER_FLAG!r}]))"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        send_frame(process.stdin, ("stats", 1, DayFile(DAY, path, 0, 0), False))
        kind, job, (day, stats) = read_frame(process.stdout)
        assert (kind, job, day.path) == ("report", 1, path)
        assert stats.summary == summarize(read_day(tmp_path, DAY).events)
        assert read_frame(process.stdout) == ("finished", 1)
        process.stdin.close()  # the window went away: the worker ends
        assert process.wait(10) == 0
    finally:
        process.kill()
