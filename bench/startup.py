"""Start-up: ``ibticket --smoke`` on the embedded gateway, N times, each on fresh folders.

``--smoke`` opens the window offscreen, connects and waits for the first AAPL quote, printing
``first window: X s``, ``connected: Y s``, ``ready (first AAPL quote): Z s`` (seconds since the process
started, from /proc). Targets: first window < 1.0 s, ready < 2.0 s. The packaged bundle is measured the same
way when it exists (``--bundle PATH`` or ``packaging/dist/ibticket/ibticket``).

    .venv/bin/python bench/startup.py [--runs 7]
    .venv/bin/python bench/startup.py --quick    # a smoke run: one start, the bundle only if --bundle names it
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINES = (("first window", r"first window: ([\d.]+) s", 1.0), ("connected", r"connected: ([\d.]+) s", None),
         ("ready", r"ready \(first \w+ quote\): ([\d.]+) s", 2.0))


def one_run(cmd: list[str]) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="ibticket-startup-"))
    try:
        started = time.monotonic()
        proc = subprocess.run([*cmd, "--smoke", "--settings", str(folder / "settings.ini"), "--log-dir",
                               str(folder / "log"), "--data-dir", str(folder / "data")],
                              capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
        wall = time.monotonic() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} --smoke failed ({proc.returncode}): {proc.stderr[-1000:]}")
    figures = {name: float(re.search(pattern, proc.stdout).group(1)) for name, pattern, _ in LINES}
    figures["exit"] = wall
    return figures


def measure(label: str, cmd: list[str], runs: int) -> None:
    results = [one_run(cmd) for _ in range(runs)]
    print(f"\n  {label}: {' '.join(cmd)} --smoke  ({runs} runs, fresh folders each)")
    print(f"  {'':16} {'median':>8} {'min':>8} {'max':>8}  target")
    for name, _pattern, target in (*LINES, ("exit", "", None)):
        values = [r[name] for r in results]
        mark = "" if target is None else f"< {target:.1f} s " + ("met" if statistics.median(values) < target
                                                                else "MISSED")
        print(f"  {name:16} {statistics.median(values):8.2f} {min(values):8.2f} {max(values):8.2f}  {mark}")
    print("  runs: " + "; ".join(f"{r['first window']:.2f}/{r['connected']:.2f}/{r['ready']:.2f}" for r in results)
          + "  (first window/connected/ready, s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--bundle", type=Path, default=None,
                        help="the packaged app to measure too (default: packaging/dist/ibticket/ibticket if built)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: one start; a bundle only if --bundle names it (a stale build may lie about)")
    args = parser.parse_args()
    if args.quick:
        args.runs = 1
    bundle = args.bundle or ROOT / "packaging" / "dist" / "ibticket" / "ibticket"
    print("ibticket start-up (bench/startup.py)")
    load = os.getloadavg()
    print(f"  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; nproc={os.cpu_count()}; "
          f"Python {platform.python_version()}; load average {load[0]:.2f}")
    entry = Path(sys.executable).parent / "ibticket"
    measure("installed entry point", [str(entry)] if entry.exists() else [sys.executable, str(ROOT / "main.py")],
            args.runs)
    if args.quick and args.bundle is None:
        print("\n  packaged bundle: skipped (--quick measures it only when --bundle names it)")
    elif bundle.exists():
        measure("packaged bundle", [str(bundle)], args.runs)
    else:
        print(f"\n  packaged bundle: skipped (none at {bundle}; nothing is packaged yet)")


if __name__ == "__main__":
    main()
