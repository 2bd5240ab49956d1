"""What the order log costs per fill line.

``OrderLogger.log_fill`` for one order, N lines into a day file in a temporary folder (no console echo,
no fsync), best of several runs; the figure is microseconds per line. The file is on whatever filesystem
holds the temporary folder.

    .venv/bin/python bench/log_fills.py [--lines 20000] [--repeat 5]
    .venv/bin/python bench/log_fills.py --quick     # a smoke run: 1,000 lines, one run
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime

from ibticket.core import Fill, OrderLogger, OrderRecord, OrderStatus

NOON = datetime(2026, 2, 18, 12, 0, 0)


def one_run(lines: int) -> float:
    record = OrderRecord(1, "AAPL", "BUY", lines, order_type="LIMIT", limit_price=150.0,
                         status=OrderStatus.SUBMITTED, submission_time=NOON, order_ref="ibt-11-20260218-120000-1")
    fills = [Fill(f"0000e0d5.{k:08d}.01", 1, "AAPL", 1, 150.0, NOON, 0.35) for k in range(lines)]
    with tempfile.TemporaryDirectory() as folder:
        logger = OrderLogger(log_dir=folder, log_to_console=False, now=lambda: NOON)
        logger.log_submission(record)
        start = time.perf_counter()
        for fill in fills:
            logger.log_fill(record, fill)
        elapsed = time.perf_counter() - start
        logger.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5, help="best of N runs")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1,000 lines, one run")
    args = parser.parse_args()
    if args.quick:
        args.lines, args.repeat = 1000, 1
    best = min(one_run(args.lines) for _ in range(args.repeat))
    print(f"{args.lines} fill lines: best {best:.3f} s, {best / args.lines * 1e6:.1f} us per line")


if __name__ == "__main__":
    main()
