"""What a trader feels: the window (offscreen) against the paper gateway in a process of its own.

1. Fill throughput to the screen: K market orders held by the gateway, then released at once: N executions
   (K orders x P partial fills). Time from the release until the handler, the order log, the fills model and the
   orders model have applied all of them, against bare clients receiving the same stream in the same run:
   ib_insync as shipped (its Trade repr is quadratic in a trade's fills, docs/benchmarks.md), ib_insync with
   the one-line repr ibticket installs, and ib_async (with that repr) from a venv of its own when it exists;
   and the window's engine alone (its TradingSession: broker, handler, order log; no Qt), to tell the
   engine's share from the window's.
2. Responsiveness during that burst: the gaps between ticks of a 10 ms QTimer on the GUI loop.
3. Click-to-wire: Send clicked / Enter on the order line -> the gateway has read the placeOrder (symbol
   loaded, contract cached; precautions on, within limits).
4. Fill-to-screen: the gateway hands an execDetails to the socket -> its fills row is in the model (and the
   fills view's next paint), one order filled in executions ``1/rate`` s apart.

Every client runs in its own process against a fresh gateway process (same seed and settings), so no two
share a GIL. Variants alternate, ``--repeat`` times each; medians are printed, and ratios are taken
between runs of the same round. Times are CLOCK_MONOTONIC, which every process on Linux shares.

    .venv/bin/python bench/window_bench.py                      # everything (several minutes)
    .venv/bin/python bench/window_bench.py --only burst --sizes 10000 --repeat 3
    .venv/bin/python bench/window_bench.py --quick              # every step at tiny sizes (about 15 s)

It measures the ibticket of the tree it lives in (its parent folder), whatever the venv's editable install
points at; ``--tree DIR`` measures another checkout with these scripts (its API must match them; for an
older tree run that tree's own bench/window_bench.py).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchgw import GatewayProcess  # noqa: E402

IB_ASYNC_PYTHON = Path(os.environ.get("IBTICKET_BENCH_IB_ASYNC_VENV", "/tmp/v-ibasync")) / "bin" / "python"
PARTIAL_FILLS = 100  # executions per order in the burst
QTY = 100
# The gateway must not cut a client that stalls (the bare ib_async client can, for seconds, at 100k).
BURST_GATEWAY = {"seed": 1, "tick_interval": None, "partial_fills": PARTIAL_FILLS, "market_orders_fill": False,
                 "start_cash": 1e9, "slow_reader_timeout": 600.0}


# What went wrong in a run (a count that does not match, a probe that saw nothing): the figures printed
# beside it mean nothing, so the script exits with status 1 at the end.
PROBLEMS: list[str] = []


def problem(text: str) -> None:
    PROBLEMS.append(text)
    print(f"   PROBLEM: {text}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run_json(cmd: list[str], timeout: float) -> dict[str, Any]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(line for line in proc.stderr.splitlines() if "propagateSizeHints" not in line)[-2000:]
        raise RuntimeError(f"{' '.join(cmd[:3])} failed (exit {proc.returncode}):\n{tail}")
    return json.loads(lines[-1])


def gaps_in(ticks: list[float], start: float, end: float) -> list[float]:
    return [b - a for a, b in itertools.pairwise(ticks) if a >= start and b <= end + 0.05]


# --- 1 and 2: the burst ----------------------------------------------------------------------------------


def bare_variants(n: int, with_shipped: bool) -> list[tuple[str, list[str]]]:
    here = str(HERE / "bare_client.py")
    variants = []
    if with_shipped:
        variants.append(("bare ib_insync (as shipped)", [sys.executable, here, "--lib", "ib_insync"]))
    variants.append(("bare ib_insync + short repr", [sys.executable, here, "--lib", "ib_insync", "--short-repr"]))
    if IB_ASYNC_PYTHON.exists():
        variants.append(("bare ib_async + short repr", [str(IB_ASYNC_PYTHON), here, "--lib", "ib_async",
                                                        "--short-repr"]))
    return variants


def one_burst(name: str, cmd: list[str], orders: int, n: int, timeout: float) -> dict[str, Any]:
    with GatewayProcess(**BURST_GATEWAY) as gw:
        args = [*gw.client_args(), "--orders", str(orders), "--qty", str(QTY), "--execs", str(n)]
        result = run_json([*cmd, *args], timeout)
    result["seconds"] = result["t1"] - result["t0"]
    result["name"] = name
    if "ticks" in result:
        result["gaps"] = gaps_in(result.pop("ticks"), result["t0"], result["t1"])
    return result


def bench_burst(sizes: list[int], repeat: int, shipped_max: int, timeout: float) -> None:
    print("\n1. Fill throughput to the screen, and 2. the GUI loop during the burst")
    print(f"   K market orders of {QTY} shares held by the gateway, released at once, {PARTIAL_FILLS} executions "
          "each;\n   time from the release to the last execution applied (window: handler + log + fills and "
          "orders models)")
    if not IB_ASYNC_PYTHON.exists():
        print(f"   ib_async baseline: skipped (no venv at {IB_ASYNC_PYTHON.parent.parent})")
    window_cmd = [sys.executable, str(HERE / "window_client.py"), "burst"]
    engine_cmd = [sys.executable, str(HERE / "window_client.py"), "engine"]
    for n in sizes:
        orders = n // PARTIAL_FILLS
        variants = [*bare_variants(n, n <= shipped_max), ("ibticket engine, no window", engine_cmd),
                    ("ibticket window", window_cmd)]
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in variants}
        for _ in range(repeat):
            for name, cmd in variants:
                runs[name].append(one_burst(name, cmd, orders, n, timeout))
        base = "bare ib_insync + short repr"
        print(f"\n   N = {n:,} executions ({orders:,} orders); {repeat} run(s) each, median; "
              f"ratio = time / '{base}' of the same round")
        for key, label in (("seconds", "wall time"), ("cpu", "CPU time of the client process")):
            print(f"   {label}:")
            print(f"   {'client':<30} {'median s':>9} {'exec/s':>9} {'runs s':<24} {'ratio (per round)':<24}")
            for name, _ in variants:
                secs = [r[key] for r in runs[name]]
                ratios = [r[key] / b[key] for r, b in zip(runs[name], runs[base], strict=True)]
                med = statistics.median(secs)
                ratio_text = "-" if name == base else (
                    f"{statistics.median(ratios):.2f}x ({', '.join(f'{x:.2f}' for x in ratios)})")
                print(f"   {name:<30} {med:9.2f} {n / med:9,.0f} {', '.join(f'{s:.2f}' for s in secs):<24} "
                      f"{ratio_text}")
        for name, _ in variants:
            for r in runs[name]:
                if r["execs"] != n:
                    problem(f"{name}: {r['execs']:,} executions seen of {n:,}")
        for r in runs["ibticket window"]:
            marks = {k: v - r["t0"] for k, v in r["marks"].items()}
            ok = r["execs"] == n and r["log_fills"] == n and r["fills_rows"] == n
            if not ok:
                problem(f"window run: {r['log_fills']:,} FILL lines and {r['fills_rows']:,} fills rows for {n:,}")
            print(f"     window run: handler {marks['handler']:.2f} s, fills model {marks['fills_model']:.2f} s, "
                  f"orders model {marks['orders_model']:.2f} s; log FILL lines {r['log_fills']:,}, fills rows "
                  f"{r['fills_rows']:,} ({'ok' if ok else 'MISMATCH'}); RSS {r['rss_kb'] / 1024:.0f} MB")
        print("   GUI loop during the burst (gaps between ticks of a 10 ms QTimer; target max < 50 ms):")
        for r in runs["ibticket window"]:
            g = [x * 1000 for x in r["gaps"]]
            pauses = r.get("gc_pauses", [])
            longest = f"{max(pauses) * 1000:.1f} ms" if pauses else "-"
            print(f"     {len(g):5d} gaps: p50 {pct(g, 0.5):6.1f} ms  p99 {pct(g, 0.99):6.1f} ms  "
                  f"max {max(g):6.1f} ms  (> 50 ms: {sum(1 for x in g if x > 50)}); "
                  f"{len(pauses)} full GCs, longest {longest}")


# --- 3: click to wire ------------------------------------------------------------------------------------


def bench_click(clicks: int, timeout: float) -> None:
    print(f"\n3. Click-to-wire: {clicks} Sends and {clicks} Enters on the order line (AAPL limit orders resting 1 % "
          "under the bid;\n   contract cached, precautions on) -> the gateway has read the placeOrder. "
          "Target p99 < 5 ms")
    with GatewayProcess(seed=1, tick_interval=None) as gw:
        result = run_json([sys.executable, str(HERE / "window_client.py"), "click", *gw.client_args(),
                           "--clicks", str(clicks)], timeout)
        place = gw.control.stamps()["place"]
    for how, label in (("send", "Send button"), ("enter", "Enter on the order line")):
        lat = [(place[s["ref"]] - s["t"]) * 1000 for s in result["samples"] if s["how"] == how and s["ref"] in place]
        missing = sum(1 for s in result["samples"] if s["how"] == how and s["ref"] not in place)
        if missing or not lat:
            problem(f"{label}: {missing} of {missing + len(lat)} placeOrders not stamped by the gateway's probe")
            continue
        print(f"   {label:<24} n={len(lat):4d}  p50 {pct(lat, 0.5):5.2f} ms  p99 {pct(lat, 0.99):5.2f} ms  "
              f"max {max(lat):6.2f} ms" + (f"  ({missing} never reached the gateway)" if missing else ""))


# --- 4: fill to screen -----------------------------------------------------------------------------------


def bench_rate(rates: list[int], seconds: float, timeout: float) -> None:
    print("\n4. Fill-to-screen: the gateway writes execDetails -> the fills row is in the model / the fills view "
          "paints.\n   Targets p99: < 20 ms at 100/s, < 70 ms at 1,000/s (a 60 Hz frame + the 50 ms coalescing "
          "tick)")
    for rate in rates:
        # Each of an order's executions waits fill_interval plus the gateway loop's timer overshoot (about a
        # millisecond), so orders fill side by side, 50 executions a second each, to reach the rate.
        orders = max(1, math.ceil(rate / 50))
        count = int(rate * seconds / orders)
        with GatewayProcess(seed=1, tick_interval=None, partial_fills=count, fill_interval=orders / rate,
                            start_cash=1e9) as gw:
            result = run_json([sys.executable, str(HERE / "window_client.py"), "rate", *gw.client_args(),
                               "--qty", str(count), "--orders", str(orders)], timeout)
            stamps = gw.control.stamps()["exec"]
            made = len(gw.control.call("executions"))
        if len(stamps) != made or not made:
            problem(f"{rate}/s: the gateway's probe stamped {len(stamps):,} of the {made:,} executions it made")
            continue
        sent = sorted(stamps.values())
        achieved = (len(sent) - 1) / (sent[-1] - sent[0]) if len(sent) > 1 else 0.0
        row = [(result["inserted"][e] - t) * 1000 for e, t in stamps.items() if e in result["inserted"]]
        if len(row) != made:
            problem(f"{rate}/s: {len(row):,} of the {made:,} executions have a fills row")
            continue
        paint = [(result["painted"][e] - t) * 1000 for e, t in stamps.items() if e in result["painted"]]
        g = [x * 1000 for x in gaps_in(result["ticks"], sent[0], sent[-1])]
        print(f"   {rate:>5,}/s asked, {achieved:,.0f}/s sent, {len(stamps):,} executions of {orders} order(s):")
        print(f"     row in model   p50 {pct(row, 0.5):6.1f} ms  p99 {pct(row, 0.99):6.1f} ms  max {max(row):6.1f} ms"
              f"  ({len(row):,} rows)")
        if paint:
            print(f"     view painted   p50 {pct(paint, 0.5):6.1f} ms  p99 {pct(paint, 0.99):6.1f} ms  "
                  f"max {max(paint):6.1f} ms  ({len(paint):,} rows)")
        print(f"     GUI loop gaps  p50 {pct(g, 0.5):6.1f} ms  p99 {pct(g, 0.99):6.1f} ms  max {max(g):6.1f} ms")


def use_tree(tree: Path) -> None:
    """Make ``tree``'s ibticket the one this process and every client and gateway process imports."""
    tree = tree.resolve()
    if not (tree / "ibticket" / "__init__.py").is_file():
        raise SystemExit(f"--tree {tree}: no ibticket package there")
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join([str(tree), *paths])
    sys.path.insert(0, str(tree))


def header() -> None:
    import ib_insync

    load = os.getloadavg()
    print("ibticket window benchmarks (bench/window_bench.py)")
    print(f"  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; nproc={os.cpu_count()}; "
          f"Python {platform.python_version()}; ib_insync {ib_insync.__version__}; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    import ibticket

    package = Path(ibticket.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(package), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        print(f"  ibticket from {package} (commit {commit})")
    except (OSError, subprocess.CalledProcessError):
        print(f"  ibticket from {package} (not a git checkout)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("burst", "click", "rate"), action="append")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shipped-max", type=int, default=10_000,
                        help="run the as-shipped ib_insync baseline only up to this N (it is quadratic per order)")
    parser.add_argument("--clicks", type=int, default=100)
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rate-seconds", type=float, default=4.0)
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run of every step, in seconds: N = 500, one run, no as-shipped baseline "
                             "(bare_client.py --quick runs it), 3 clicks each, 0.5 s at 200/s")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--tree", type=Path, default=HERE.parent,
                        help="the checkout whose ibticket is measured (default: the one this script is in)")
    args = parser.parse_args()
    use_tree(args.tree)
    if args.quick:
        args.sizes, args.repeat, args.clicks, args.rates, args.rate_seconds = [500], 1, 3, [200], 0.5
        args.shipped_max = 0
    started = time.monotonic()
    header()
    only = set(args.only or ("burst", "click", "rate"))
    if "burst" in only:
        bench_burst(args.sizes, args.repeat, args.shipped_max, args.timeout)
    if "click" in only:
        bench_click(args.clicks, args.timeout)
    if "rate" in only:
        bench_rate(args.rates, args.rate_seconds, args.timeout)
    print(f"\ntotal wall time {time.monotonic() - started:.0f} s")
    if PROBLEMS:
        print(f"{len(PROBLEMS)} problem(s): the figures above are not to be trusted", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
