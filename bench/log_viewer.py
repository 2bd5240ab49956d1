"""The order log viewer on a big day file: how soon rows show, how long the index and a filter take, how
long the window's thread is ever kept waiting meanwhile, and the memory it all takes.

The viewer's own panel (``LogViewPanel``: the same model, worker and jobs the window uses) runs in a
QApplication (offscreen unless a display is set); a 5 ms QTimer on the window's thread records the longest
gap between its ticks from the moment the day is opened until every line has been checked, so any stall of
the event loop (a step of the worker holding the GIL too long, a model update, a repaint) shows up.

- first rows: from ``open_file`` until the table's first paint with rows in it is done (the paint reads
  and parses the rows on screen);
- full index: until every complete line of the file is indexed;
- filter by order id: from setting the order filter (an order in the middle of the day) until the filter
  has looked at every line, median of 3; beside it ``grep -c '"order_id": N,'`` on the same file, median
  of 3 (run before the viewer opens the file, so nothing else runs meanwhile), and the ratio;
- check of every line: until the summary and the unreadable-line count cover the whole day (a background
  job at the lowest priority; the window is usable throughout);
- longest GUI stall: the longest the 5 ms timer was late, over all of the above;
- peak memory: the peak resident sets of the window's process (Qt included; also given just before the
  day is opened) and of the viewer's worker process (``logview_worker``), added up.

    .venv/bin/python bench/log_viewer.py --make 1000000 DIR/orders-2026-02-18.jsonl
    .venv/bin/python bench/log_viewer.py --file DIR/orders-2026-02-18.jsonl
    .venv/bin/python bench/log_viewer.py --quick    # a smoke run: a day of 3,000 events in a temporary folder

This is a script to run by hand; no test asserts its timings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


IDLE_SECONDS = 5.0


def make(events: int, path: Path) -> None:
    from daygen import write_day

    match = re.match(r"^orders-(\d{4}-\d{2}-\d{2})\.jsonl$", path.name)
    day = date.fromisoformat(match.group(1)) if match else date(2026, 2, 18)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=path.parent) as folder:
        written = write_day(Path(folder), events, day)
        os.replace(written, path)
    print(f"wrote {events:,} events, {path.stat().st_size / 1e6:,.0f} MB, to {path} "
          f"in {time.perf_counter() - start:.1f} s")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def grep_seconds(needle: str, path: Path) -> tuple[float, int]:
    grep = shutil.which("grep")
    if grep is None:
        raise SystemExit("grep is not installed: it is the yardstick for the filter")
    start = time.perf_counter()
    out = subprocess.run([grep, "-c", needle, str(path)], capture_output=True, text=True, check=False)
    return time.perf_counter() - start, int(out.stdout.strip() or 0)


def worker_peak_mb(pid: int) -> float:
    """The worker process's peak resident set, from /proc (0 where there is none)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def middle_order_id(path: Path) -> int:
    """The order id of the line in the middle of the file (read directly, not through the viewer)."""
    from ibticket.core.logreader import parse_line

    with path.open("rb") as f:
        f.seek(path.stat().st_size // 2)
        f.readline()
        event, _problem = parse_line(f.readline().rstrip(b"\n"))
    return event["order_id"] if event and event.get("order_id") is not None else 1


def measure(path: Path, idle_seconds: float = IDLE_SECONDS) -> dict[str, int]:
    """Prints the figures; returns the counts (lines indexed, events and unreadable lines checked, rows
    the filter matched and what grep counted) for a caller that knows what they must be."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from ibticket.gui.docks.logview import LogViewPanel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    panel = LogViewPanel()
    panel.resize(1400, 900)
    panel.show()
    panel.set_folder(path.parent)
    app.processEvents()

    clock = QElapsedTimer()
    clock.start()
    stall = {"last": 0, "worst": 0, "worst_at": "", "worst_when": 0.0}
    phase = {"name": "opening"}

    def tick() -> None:
        now = clock.elapsed()
        late = now - stall["last"] - ticker.interval()
        if stall["last"] and late > stall["worst"]:
            stall["worst"], stall["worst_at"], stall["worst_when"] = late, phase["name"], time.perf_counter()
        stall["last"] = now

    ticker = QTimer(interval=5)
    ticker.timeout.connect(tick)

    def spin_until(predicate, timeout: float = 600.0) -> float:
        start = time.perf_counter()
        while not predicate():
            app.processEvents()
            time.sleep(0.001)
            if time.perf_counter() - start > timeout:
                raise SystemExit(f"timed out after {timeout:.0f} s in phase {phase['name']}")
        return time.perf_counter() - start

    size = path.stat().st_size
    # grep first, before anything runs (it also brings the file into the page cache for both).
    order_id = middle_order_id(path)
    greps = [grep_seconds(f'"order_id": {order_id},', path) for _ in range(3)]
    before_mb = peak_mb()
    print("ibticket log viewer benchmark (bench/log_viewer.py)")
    print(f"  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.platform()}; nproc={os.cpu_count()}; "
          f"Python {platform.python_version()}")
    print(f"  file: {path} ({size / 1e6:,.0f} MB); load average {os.getloadavg()[0]:.2f} at the start")

    # First rows on screen: the end of the table's first paint with rows in it (a zero timer started from
    # the paint event runs right after that paint).
    painted: dict[str, float | None] = {"at": None}

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if (event.type() == QEvent.Type.Paint and painted["at"] is None and panel.model.rowCount()
                    and not hasattr(self, "armed")):
                self.armed = True
                QTimer.singleShot(0, lambda: painted.update(at=time.perf_counter()))
            return False

    first_paint = FirstPaint()
    panel.view.table.viewport().installEventFilter(first_paint)

    # The same timer with nothing to do for a while: how late it is anyway on this machine (other processes).
    ticker.start()
    stall["last"] = clock.elapsed()
    phase["name"] = "idle"
    idle_until = time.perf_counter() + idle_seconds
    spin_until(lambda: time.perf_counter() > idle_until)
    idle_stall, stall["worst"] = stall["worst"], 0
    phase["name"] = "opening"
    start = time.perf_counter()
    if not panel.open_file(path):
        raise SystemExit(f"cannot open {path}: {panel.title.text()}")
    table = panel.view.table
    spin_until(lambda: painted["at"] is not None)
    first_rows = painted["at"] - start
    rows_on_screen = table.rowAt(table.viewport().height() - 1) + 1 or panel.model.rowCount()
    print(f"first rows: {first_rows:.3f} s ({min(rows_on_screen, panel.model.rowCount())} rows on screen)")

    phase["name"] = "indexing"
    spin_until(lambda: panel.jobs.progress is not None and panel.jobs.progress.caught_up)
    full_index = time.perf_counter() - start
    lines = panel.jobs.progress.lines
    print(f"full index: {full_index:.2f} s ({lines:,} lines, {size / 1e6 / full_index:,.0f} MB/s)")

    phase["name"] = "filtering"
    ours = []
    for _ in range(3):
        panel.clear_filters()
        app.processEvents()
        t = time.perf_counter()
        panel.set_filter(order=str(order_id))
        spin_until(lambda: panel.jobs.filter_done)
        ours.append(time.perf_counter() - t)
    matched = panel.model.rowCount()
    grep_s = statistics.median(g[0] for g in greps)
    ours_s = statistics.median(ours)
    print(f"filter by order id: {ours_s:.3f} s ({matched} rows of order {order_id}; median of 3) "
          f"(grep -c: {grep_s:.3f} s, {greps[0][1]} lines; ratio {ours_s / grep_s:.2f})")
    panel.clear_filters()

    phase["name"] = "checking"
    spin_until(lambda: panel.jobs.check is not None and panel.jobs.check.caught_up
               and panel.jobs.check.checked >= lines)
    checked = time.perf_counter() - start
    check = panel.jobs.check
    print(f"check of every line (summary, unreadable lines): {checked:.1f} s after opening "
          f"({check.events:,} events, {check.bad:,} unreadable; {check.summary['total_orders']:,} orders)")
    ticker.stop()
    print(f"longest GUI stall: {stall['worst']} ms (a 5 ms timer's worst lateness, while {stall['worst_at']}, "
          f"{stall['worst_when'] - start:.2f} s after opening; {idle_stall} ms over {idle_seconds:g} s with the "
          f"viewer idle just before)")
    window_mb = peak_mb()
    worker_mb = worker_peak_mb(panel.jobs.worker.pid) if panel.jobs.worker is not None else 0.0
    print(f"peak memory: {window_mb + worker_mb:,.0f} MB resident at most: window process {window_mb:,.0f} MB "
          f"(Qt and Python included; {before_mb:,.0f} MB before the day was opened) + worker process "
          f"{worker_mb:,.0f} MB")
    print("summary: " + json.dumps(check.summary))
    panel.shutdown()
    return {"lines": lines, "events": check.events, "bad": check.bad, "matched": matched, "grep": greps[0][1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, help="a day file of the order log to measure on")
    parser.add_argument("--make", nargs=2, metavar=("N", "PATH"), help="write a realistic day of N events to PATH")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: make a day of 3,000 events in a temporary folder and measure it")
    args = parser.parse_args()
    if args.quick:
        with tempfile.TemporaryDirectory(prefix="ibticket-logview-") as folder:
            path = Path(folder) / "orders-2026-02-18.jsonl"
            make(3000, path)
            counts = measure(path, idle_seconds=0.5)
        expected = {"lines": 3000, "events": 3000, "bad": 0, "matched": counts["grep"], "grep": counts["grep"]}
        if counts != expected:
            raise SystemExit(f"log viewer --quick: counted {counts}, expected {expected}")
        return
    if args.make:
        make(int(args.make[0]), Path(args.make[1]))
    if args.file:
        measure(args.file)
    if not (args.make or args.file):
        parser.error("give --file PATH to measure, or --make N PATH to write a day file")


if __name__ == "__main__":
    main()
