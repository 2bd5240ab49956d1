"""What ``import ibticket`` costs, and what the broker layer (ib_insync or ib_async) adds on first use.

Each run is a fresh interpreter that times ``import ibticket`` and then ``import ibticket.broker`` with
``time.perf_counter``; the first run is reported apart (the files may not be in the page cache yet).

    .venv/bin/python bench/import_time.py [--runs 15]
    .venv/bin/python bench/import_time.py --quick    # a smoke run: the first run and one more
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
from datetime import UTC, datetime

PROBE = (
    "import time; t0 = time.perf_counter(); import ibticket; t1 = time.perf_counter(); "
    "import ibticket.broker; t2 = time.perf_counter(); print(t1 - t0, t2 - t1)"
)


def one_run() -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True).stdout
    core, broker = (float(x) for x in out.split())
    return core, broker


def ms(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1e3:.0f} ms "
            f"(range {min(values) * 1e3:.0f}-{max(values) * 1e3:.0f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="a smoke run: the first run and one more")
    args = parser.parse_args()
    if args.quick:
        args.runs = 1
    print("ibticket import-time benchmark (bench/import_time.py)")
    print(f"  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; nproc={os.cpu_count()}; "
          f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f}")
    first = one_run()
    runs = [one_run() for _ in range(args.runs)]
    print(f"  first run: import ibticket {first[0] * 1e3:.0f} ms, then ibticket.broker {first[1] * 1e3:.0f} ms")
    print(f"  next {args.runs} runs: import ibticket {ms([r[0] for r in runs])}")
    print(f"  {'':>{len(str(args.runs)) + 12}}then ibticket.broker {ms([r[1] for r in runs])}")


if __name__ == "__main__":
    main()
