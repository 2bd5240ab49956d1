"""How the handler's cost per fill grows with the number of fills already on the order.

One order of M shares filled in M one-share executions, through ``OrderExecutionHandler.handle_fill`` with
no logger and no broker. The figure that matters is the growth ratio time(2M) / time(M): about 2 means
each fill costs the same however many came before it (linear in M), about 4 means quadratic. The
baseline in the same run is the smallest M.

    .venv/bin/python bench/handler_fills.py [--sizes 1000 2000 4000 8000] [--repeat 3]
    .venv/bin/python bench/handler_fills.py --quick     # a smoke run: 500 and 1,000 fills, one run each
"""

from __future__ import annotations

import argparse
import time

from ibticket.core import ManualClock, OrderExecutionHandler


def one_order(m: int) -> float:
    handler = OrderExecutionHandler(clock=ManualClock())
    record = handler.create_order("AAPL", "BUY", m)
    assert record is not None
    start = time.perf_counter()
    for k in range(m):
        handler.handle_fill(record.order_id, 1, 100.0 + (k % 7) * 0.01, exec_id=f"0000e0d5.{k:08d}.01")
    elapsed = time.perf_counter() - start
    assert record.filled_quantity == m and record.status.value == "Filled"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 8000, 16000])
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs per size")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 500 and 1,000 fills, one run each")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeat = [500, 1000], 1
    print(f"{'fills':>7} {'best s':>9} {'fills/s':>10} {'growth':>7} {'vs first':>9}")
    first = previous = None
    for m in args.sizes:
        best = min(one_order(m) for _ in range(args.repeat))
        growth = f"{best / previous[1] * previous[0] / m * 2:.2f}" if previous else "-"
        versus = f"{(best / m) / (first[1] / first[0]):.2f}" if first else "1.00"
        print(f"{m:>7} {best:>9.4f} {m / best:>10,.0f} {growth:>7} {versus:>9}")
        first = first or (m, best)
        previous = (m, best)
    print("growth: time ratio per doubling of M (2 = linear, 4 = quadratic); vs first: cost per fill / smallest M's")


if __name__ == "__main__":
    main()
