"""A big day at start-up: restoring today's order log, before and after (issue #18, part 6).

Makes a day with ``bench/daygen.py`` (today's date, client id 11's orders; kept in ``--cache``), then runs each
tree in fresh processes on a copy of it: the tree before the change (``git archive --before``, by default
the commit this work started from) and this one. Two measurements, each in a process of its own:

* ``core``: what BrokerCore does before it connects (read the day, rebuild its orders, hand them to an
  ``OrderExecutionHandler``): wall and CPU seconds, peak RSS.
* ``app``: the real window offscreen (``MainWindow`` + ``WindowController`` on the embedded gateway, as
  client 11, as ``ibticket --client-id 11`` starts): seconds from ``start()`` until connected (ready) and until
  every restored order and fill is in the models (filled in); the longest the GUI loop was busy meanwhile (the
  worst gap between ticks of a 10 ms timer, less 10 ms); peak RSS; the lines the start appended to the day
  file. Then a second start on the same folder, which must append nothing.

The machine is shared, so wall times move by tens of percent from run to run; CPU seconds and the ratio
between the trees, measured in the same run, are steadier.

    .venv/bin/python bench/restore.py --quick             # 20,000 orders, about 95,000 events (~45 MB)
    .venv/bin/python bench/restore.py --orders 200000     # about 940,000 events (~460 MB)
    .venv/bin/python bench/restore.py --events 600000     # the issue's 600,000 events (~127,000 orders)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
START_COMMIT = "14c588d"  # main when this work started: the "before" tree
CLIENT_ID = 11  # daygen's orders are this client id's


# --- the child: one measurement in a process of its own ---------------------------------------------


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_core(log_dir: Path) -> dict[str, Any]:
    from ibticket.core import OrderExecutionHandler, OrderLogger, recovery

    logger = OrderLogger(log_dir=log_dir, log_to_console=False)
    handler = OrderExecutionHandler()
    wall, cpu = time.perf_counter(), time.process_time()
    if hasattr(recovery, "restore_day"):  # this tree: one streaming pass, indexes built beside the loop
        day = recovery.restore_day(logger)
        handler.apply_restore(recovery.plan_restore(day.records, day.next_order_id, day.noted))
        orders = len(day.records)
    else:  # before: the whole day in memory, checked twice
        read = logger.read_day()
        records = recovery.rebuild_orders(read.events)
        used = [e["order_id"] for e in read.events if isinstance(e.get("order_id"), int)]
        handler.restore(records, next_order_id=max(used, default=0) + 1)
        orders = len(records)
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "peak_mb": peak_mb(),
            "orders": orders, "fills": sum(len(r.fills) for r in handler.get_all_orders())}


async def child_app(root: Path, timeout: float) -> dict[str, Any]:
    import asyncio

    from PySide6.QtCore import Qt, QTimer

    from ibticket.gui.appsettings import AppSettings
    from ibticket.gui.controller import WindowController
    from ibticket.gui.mainwindow import MainWindow
    from ibticket.trading.connection import ConnectionChoice

    day_file = root / "log" / f"orders-{date.today().isoformat()}.jsonl"
    size_before = day_file.stat().st_size
    lines_before = _count_lines(day_file)
    settings = AppSettings(root / "settings.ini")
    window = MainWindow(settings)
    window.show()
    controller = WindowController(window, settings, log_dir=root / "log", data_dir=root / "data")
    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    loop = asyncio.get_running_loop()
    started, cpu = time.perf_counter(), time.process_time()
    deadline = started + timeout
    timer.start()
    await controller.start(ConnectionChoice("sim", client_id=CLIENT_ID))
    session = controller.session

    async def until(predicate: Any, what: str) -> float:
        while not predicate():
            if time.perf_counter() > deadline:
                raise SystemExit(f"restore bench: timed out waiting for {what} ({session.status})")
            await asyncio.sleep(0.005)
        return time.perf_counter() - started

    ready = await until(lambda: session.status.phase == "connected", "the connection")
    records = session.handler.get_all_orders()
    fills = sum(len(r.fills) for r in records)
    orders_model, fills_model = window.orders_model, window.fills_model
    filled_in = await until(lambda: orders_model.rowCount() == len(records) and fills_model.rowCount() == fills,
                            "the restored rows")
    await asyncio.sleep(0.2)  # a last repaint
    timer.stop()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    worst = max(gaps, default=0.0)
    worst_at = ticks[gaps.index(worst)] - started if gaps else 0.0
    result = {"ready": ready, "filled_in": filled_in, "cpu": time.process_time() - cpu, "peak_mb": peak_mb(),
              "stall_ms": max(0.0, worst - 0.010) * 1000, "stall_at": worst_at, "orders": len(records),
              "fills": fills, "stalls_over_100ms": sum(1 for g in gaps if g > 0.110)}
    await controller.shutdown()
    window.close()
    loop.call_soon(lambda: None)
    result["appended_lines"] = _count_lines(day_file) - lines_before
    result["appended_bytes"] = day_file.stat().st_size - size_before
    return result


def _count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))


def child_main(args: argparse.Namespace) -> None:
    if args.child == "core":
        result = child_core(Path(args.root) / "log")
    else:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        import asyncio

        import qasync
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication(sys.argv[:1])
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            result = loop.run_until_complete(child_app(Path(args.root), args.timeout))
    print("RESULT " + json.dumps(result), flush=True)


# --- the parent ---------------------------------------------------------------------------------------


def make_day(cache: Path, orders: int | None, events: int | None) -> Path:
    """The day file for today (cached by its size; daygen is deterministic)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from daygen import write_day

    name = f"orders{orders}" if orders is not None else f"events{events}"
    folder = cache / f"{name}-{date.today().isoformat()}"
    path = folder / f"orders-{date.today().isoformat()}.jsonl"
    if not path.exists():
        print(f"  writing the day ({name}) into {folder} ...", flush=True)
        started = time.perf_counter()
        tmp = folder.with_suffix(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        write_day(tmp, events, day=date.today(), orders=orders)
        tmp.rename(folder)
        print(f"  written in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def before_tree(rev: str, where: Path) -> Path:
    tree = where / f"before-{rev}"
    if not (tree / "ibticket").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "ibticket", "resources"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def run_child(tree: Path, mode: str, root: Path, timeout: float) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(tree), QT_QPA_PLATFORM="offscreen", IBTICKET_CONFIG_DIR=str(root / "cfg"))
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", mode, "--root", str(root),
                           "--timeout", str(timeout)], capture_output=True, text=True, env=env,
                          timeout=timeout + 60, cwd=str(root))
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{mode} in {tree} failed ({proc.returncode}): {proc.stderr[-2000:]}")


def fresh_copy(day: Path, work: Path) -> Path:
    root = Path(tempfile.mkdtemp(prefix="run-", dir=work))
    (root / "log").mkdir()
    shutil.copyfile(day, root / "log" / day.name)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", choices=("core", "app"), help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="20,000 orders (about 95,000 events)")
    parser.add_argument("--orders", type=int, help="a day of this many orders (default 200,000)")
    parser.add_argument("--events", type=int, help="a day of this many events instead")
    parser.add_argument("--before", default=START_COMMIT, help="the tree to compare with (a git revision)")
    parser.add_argument("--only", choices=("core", "app"), help="one of the two measurements")
    parser.add_argument("--no-before", action="store_true", help="measure this tree only")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "ibticket-bench-days")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return
    orders = 20_000 if args.quick else args.orders if args.orders or args.events else 200_000
    day = make_day(args.cache, orders if not args.events else None, args.events)
    work = Path(tempfile.mkdtemp(prefix="ibticket-restore-"))
    load = os.getloadavg()
    print("ibticket restore of a big day (bench/restore.py)")
    print(f"  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; nproc={os.cpu_count()}; "
          f"Python {platform.python_version()}; load average {load[0]:.2f}")
    print(f"  day: {day.stat().st_size / 1e6:.0f} MB, {_count_lines(day):,} events")
    trees = [("after", ROOT)] if args.no_before else [("before", before_tree(args.before, args.cache)), ("after", ROOT)]
    results: dict[str, dict[str, Any]] = {}
    try:
        for mode in ("core", "app"):
            if args.only and mode != args.only:
                continue
            for label, tree in trees:
                root = fresh_copy(day, work)
                results[f"{mode} {label}"] = result = run_child(tree, mode, root, args.timeout)
                if mode == "app":
                    result["second_start_appended"] = run_child(tree, mode, root, args.timeout)["appended_lines"]
                shutil.rmtree(root, ignore_errors=True)
                shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in result.items()}
                print(f"  {mode} {label}: {json.dumps(shown)}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results)


def report(results: dict[str, dict[str, Any]]) -> None:
    def row(name: str, key: str, unit: str, fmt: str = "{:.2f}") -> None:
        before, after = results.get(f"{name} before", {}).get(key), results.get(f"{name} after", {}).get(key)
        if after is None:
            return
        was = fmt.format(before) if before is not None else "-"
        text = f"  {name + ' ' + key:28} {was:>10} {fmt.format(after):>10} {unit:4}"
        if before and after:
            text += f"  {before / after:5.1f}x"
        print(text)

    print(f"\n  {'':28} {'before':>10} {'after':>10}")
    for name, key, unit, fmt in (
        ("core", "wall", "s", "{:.2f}"), ("core", "cpu", "s", "{:.2f}"), ("core", "peak_mb", "MB", "{:.0f}"),
        ("app", "ready", "s", "{:.2f}"), ("app", "filled_in", "s", "{:.2f}"), ("app", "cpu", "s", "{:.2f}"),
        ("app", "peak_mb", "MB", "{:.0f}"), ("app", "stall_ms", "ms", "{:.0f}"),
        ("app", "stalls_over_100ms", "", "{:d}"), ("app", "appended_lines", "", "{:d}"),
        ("app", "second_start_appended", "", "{:d}"),
    ):
        row(name, key, unit, fmt)


if __name__ == "__main__":
    main()
