"""What a snapshot per fill callback costs as one order's executions grow: copying against sharing the list.

``ibticket.broker.dispatch.snapshot`` hands every callback a record of its own. It used to copy the fills
list, so one order's k-th fill callback copied k fills and the fill path was quadratic in the order's
executions; it now shares the list through a read-only ``FillsView``. The baseline, measured in the same
run, is the copying snapshot (``copying_snapshot`` below, the old code verbatim) swapped into
``ibticket.broker.dispatch`` for its runs; everything else is the current tree.

(a) the snapshot alone: one record with k fills, time per snapshot;
(b) the handler and the callback dispatcher, no socket: one order, M one-share fills, each followed by its
    commission, a fill callback through ``CallbackDispatcher``; from the first fill to the last callback;
(c) end to end, as ``bench/fill_path.py --only e2e``: ``IBKRBroker`` against the embedded paper gateway over a
    loopback socket, one market order filled in M executions; submission to the last fill callback.

    .venv/bin/python bench/snapshot.py [--only view|dispatch|e2e] [--sizes 1000 2000 4000 8000] [--repeat 3]
    .venv/bin/python bench/snapshot.py --quick     # a smoke run: M = 100 and 200, one run each
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# bench/ is no package: the end-to-end run is fill_path.py's, whatever directory this is started from.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from fill_path import growth, print_table, run_end_to_end

import ibticket.broker.dispatch as dispatch
from ibticket.broker.dispatch import CallbackDispatcher
from ibticket.core import ManualClock, OrderExecutionHandler, OrderRecord

CURRENT_SNAPSHOT = dispatch.snapshot


def copying_snapshot(record: OrderRecord) -> OrderRecord:
    """The baseline: dispatch.snapshot before FillsView, copying the fills list for every callback."""
    copied = copy.copy(record)
    copied.fills = list(record.fills)
    copied.attempts = [copy.copy(a) for a in record.attempts]
    return copied


VARIANTS: dict[str, Callable[[OrderRecord], OrderRecord]] = {"copy": copying_snapshot, "view": CURRENT_SNAPSHOT}


class _Timed:
    """The snapshot under test, summing the CPU time of the calling thread (the broker's loop) inside it;
    CPU time, not wall time: with three threads in the process, wall time inside would count GIL waits."""

    def __init__(self, take: Callable[[OrderRecord], OrderRecord]) -> None:
        self.take = take
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, record: OrderRecord) -> OrderRecord:
        self.calls += 1
        start = time.thread_time()
        try:
            return self.take(record)
        finally:
            self.seconds += time.thread_time() - start


@contextmanager
def snapshot_variant(name: str) -> Iterator[_Timed]:
    # The dispatcher looks ``snapshot`` up in its module on every callback.
    timed = _Timed(VARIANTS[name])
    dispatch.snapshot = timed
    try:
        yield timed
    finally:
        dispatch.snapshot = CURRENT_SNAPSHOT


@dataclass
class Run:
    wall: float  # seconds
    cpu: float  # CPU seconds of the whole process over the same span
    in_snapshot: float  # CPU seconds inside dispatch.snapshot, summed over the callbacks


def filled_order(handler: OrderExecutionHandler, m: int) -> OrderRecord:
    record = handler.create_order("AAPL", "BUY", m)
    assert record is not None
    return record


def fill(handler: OrderExecutionHandler, record: OrderRecord, k: int) -> None:
    exec_id = f"0000e0d5.{k:08d}.01"
    handler.handle_fill(record.order_id, 1, 100.0 + (k % 7) * 0.01, exec_id=exec_id)
    handler.handle_commission(exec_id, 0.005)


# --- (a) the snapshot alone -----------------------------------------------------------------------


def per_snapshot(variant: str, k: int, repeat: int) -> float:
    handler = OrderExecutionHandler(clock=ManualClock())
    record = filled_order(handler, k)
    for n in range(k):
        fill(handler, record, n)
    take = VARIANTS[variant]
    loops = max(10, 200_000 // max(k, 1))
    for _ in range(loops):
        take(record)  # warm up
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(loops):
            take(record)
        runs.append((time.perf_counter() - start) / loops)
    return min(runs)


def view_section(sizes: Sequence[int], repeat: int) -> None:
    rows = []
    for k in sizes:
        copy_s, view_s = per_snapshot("copy", k, repeat), per_snapshot("view", k, repeat)
        rows.append([f"{k:,}", f"{copy_s * 1e6:,.2f}", f"{view_s * 1e6:,.2f}", f"{copy_s / view_s:,.1f}x"])
    print_table(
        f"(a) One snapshot of a record with k fills (best of {repeat})",
        ["k fills", "copy us", "view us", "copy/view"],
        rows,
    )


# --- (b) handler + dispatcher ---------------------------------------------------------------------


def dispatch_run(variant: str, m: int) -> Run | None:
    handler = OrderExecutionHandler(clock=ManualClock())
    callbacks = CallbackDispatcher()
    done = threading.Event()
    finished: list[tuple[float, float]] = []

    def on_fill(record: OrderRecord) -> None:
        if record.filled_quantity == m:
            finished.append((time.perf_counter(), time.process_time()))
            done.set()

    with snapshot_variant(variant) as timed:
        handler.register_fill_callback(callbacks.wrap("fill", on_fill))
        record = filled_order(handler, m)
        start, start_cpu = time.perf_counter(), time.process_time()
        for k in range(m):
            fill(handler, record, k)
        assert done.wait(120), f"dispatch run M={m}: the last callback never came"
    callbacks.stop()
    swapped_in(timed, m)
    return Run(finished[0][0] - start, finished[0][1] - start_cpu, timed.seconds)


def swapped_in(timed: _Timed, m: int) -> None:
    """The variant was really used: were the dispatcher to stop looking ``snapshot`` up in its module, the
    swap would change nothing and both variants would quietly measure the current one."""
    if timed.calls < m:
        raise SystemExit(f"snapshot bench: {timed.calls} snapshots through the swapped-in variant for {m} fill "
                         "callbacks: ibticket.broker.dispatch no longer calls its module's snapshot()")


def timed_section(title: str, sizes: Sequence[int], repeat: int, run: Callable[[str, int], Run | None]) -> None:
    medians: dict[str, dict[int, Run | None]] = {"copy": {}, "view": {}}
    for m in sizes:
        runs: dict[str, list[Run]] = {"copy": [], "view": []}
        for _ in range(repeat):
            for variant in ("copy", "view"):  # interleaved: the machine's load moves during the run
                result = run(variant, m)
                if result is not None:
                    runs[variant].append(result)
        for variant, got in runs.items():
            medians[variant][m] = Run(*(statistics.median(getattr(r, f) for r in got) for f in Run.__annotations__)) \
                if got else None
    rows = []
    for m in sizes:
        c, v = medians["copy"][m], medians["view"][m]
        row = [f"{m:,}"]
        for metric in ("wall", "cpu"):
            cs, vs = (getattr(c, metric) if c else None), (getattr(v, metric) if v else None)
            row += [_s(cs), _s(vs), f"{cs / vs:.2f}x" if cs and vs else "-"]
        row += [_s(c.in_snapshot if c else None), _s(v.in_snapshot if v else None), _rate(m, v.wall if v else None)]
        row += [growth(sizes, {k: r.wall if r else None for k, r in medians[name].items()}, m) for name in medians]
        rows.append(row)
    print_table(title, ["M", "wall copy s", "view s", "copy/view", "CPU copy s", "view s", "copy/view",
                        "in snapshot: copy s", "view s", "view exec/s", "growth copy", "growth view"], rows)


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f}"


def _rate(m: int, seconds: float | None) -> str:
    return "-" if not seconds else f"{m / seconds:,.0f}"


# --- (c) end to end -------------------------------------------------------------------------------

_client_id = [200]
BAD_RUNS: list[str] = []  # end-to-end runs whose checks failed: the script exits with status 1


def e2e_run(variant: str, m: int) -> Run | None:
    _client_id[0] += 1
    with snapshot_variant(variant) as timed:
        result = run_end_to_end(m, "fix", _client_id[0])
    swapped_in(timed, m)
    ok = (result.seconds is not None and result.final_status == "Filled" and result.final_filled == m
          and result.final_fills == m and result.fill_callbacks == m and "Disconnected" not in result.states)
    if not ok or result.notes:
        print(f"    M={m} {variant}: {'ok' if ok else 'BAD'} callbacks={result.fill_callbacks} "
              f"final={result.final_status} filled={result.final_filled} fills={result.final_fills} "
              f"states={'>'.join(result.states) or '-'}")
        for note in result.notes:
            print(f"        {note}")
    if not ok or result.seconds is None or result.cpu_seconds is None:
        BAD_RUNS.append(f"M={m} {variant}")
        return None
    return Run(result.seconds, result.cpu_seconds, timed.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("view", "dispatch", "e2e"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 8000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per point and variant, median (a: best)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: M = 100 and 200, one run each")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeat = [100, 200], 1
    started = time.perf_counter()
    print("ibticket snapshot benchmark (bench/snapshot.py)")
    print(f"  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; nproc={os.cpu_count()}; "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f} at the start")
    print("  copy = dispatch.snapshot copying the fills list (the baseline); view = sharing it (FillsView)")
    print()
    if args.only in (None, "view"):
        view_section([10, *args.sizes], args.repeat)
    if args.only in (None, "dispatch"):
        timed_section(
            "(b) Handler + CallbackDispatcher, no socket: M fills (each with its commission), one fill callback\n"
            f"    each; first fill to last callback; median of {args.repeat}, variants interleaved",
            args.sizes, args.repeat, dispatch_run,
        )
    if args.only in (None, "e2e"):
        timed_section(
            "(c) End to end: IBKRBroker -> loopback socket -> embedded paper gateway (same process), one market\n"
            f"    order, partial_fills=M; submission to the last fill callback; median of {args.repeat}, interleaved",
            args.sizes, args.repeat, e2e_run,
        )
    print("in snapshot: CPU seconds inside dispatch.snapshot (its thread's), summed over the order's callbacks")
    print("growth (wall) = time(M)/time(previous M); (xK) = M ratio; p = log(time ratio)/log(M ratio): "
          "1 linear, 2 quadratic")
    print(f"load average {os.getloadavg()[0]:.2f} at the end; total wall time {time.perf_counter() - started:.1f} s")
    if BAD_RUNS:
        sys.exit(f"end-to-end runs whose checks failed: {', '.join(BAD_RUNS)}")


if __name__ == "__main__":
    main()
