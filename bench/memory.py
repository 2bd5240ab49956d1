"""Memory of the window's models with a big day in them: 100,000 orders and 200,000 fills.

The real ``MainWindow`` (offscreen, shown), an ``OrderExecutionHandler`` with no log and no broker, and an
``OrderBridge`` wired as the controller wires it. The orders are created and filled through the handler (two
executions each), then the bridge hands them to the views, which then paint. The process's resident set
size (VmRSS) is read at each step: the window alone, the handler's records, the models on top, and the
Python heap's share (tracemalloc is not used: it doubles the memory it measures).

    .venv/bin/python bench/memory.py [--orders 100000 --fills-per-order 2]
    .venv/bin/python bench/memory.py --quick     # a smoke run: 1,000 orders (the figures are mostly noise)
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--fills-per-order", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1,000 orders")
    args = parser.parse_args()
    if args.quick:
        args.orders = 1000
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from ibticket.core import OrderExecutionHandler, OrderStatus
    from ibticket.gui.appsettings import AppSettings
    from ibticket.gui.bridge import OrderBridge
    from ibticket.gui.mainwindow import MainWindow

    print("ibticket models' memory (bench/memory.py)")
    print(f"  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; Python {platform.python_version()}")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    base = rss_mb()
    settings = tempfile.TemporaryDirectory(prefix="ibticket-memory-")
    window = MainWindow(AppSettings(Path(settings.name) / "settings.ini"))
    window.show()
    window.orders.set_filter("all")
    app.processEvents()
    empty = rss_mb()
    handler = OrderExecutionHandler()
    fills_total = args.orders * args.fills_per_order
    started = time.perf_counter()
    symbols = ("AAPL", "MSFT", "SPY", "NVDA")
    exec_no = 0
    for i in range(args.orders):
        qty = 100 * args.fills_per_order
        record = handler.create_order(symbols[i % 4], "BUY" if i % 3 else "SELL", qty, "LIMIT", 100.0 + i % 50,
                                      force=True)
        assert record is not None
        handler.handle_status(record.order_id, OrderStatus.SUBMITTED, broker_order_id=i + 1)
        for _ in range(args.fills_per_order):
            exec_no += 1
            handler.handle_fill(record.order_id, 100, 100.0 + i % 50, commission=0.5,
                                exec_id=f"{exec_no:08x}.6554a1b2.01.01")
    built = time.perf_counter() - started
    gc.collect()
    records = rss_mb()
    # The bridge delivers orders first, then fills (as its flush does); measured after each.
    bridge = OrderBridge(handler)
    delivered: dict[str, list[object]] = {}
    bridge.ordersChanged.connect(lambda records: delivered.setdefault("orders", records))
    bridge.fillsChanged.connect(lambda fills: delivered.setdefault("fills", fills))
    bridge.replay()
    started = time.perf_counter()
    window.orders_model.apply(delivered["orders"])
    app.processEvents()
    gc.collect()
    orders_only = rss_mb()
    window.fills_model.apply(delivered["fills"])
    app.processEvents()
    shown = time.perf_counter() - started
    gc.collect()
    models = rss_mb()
    assert window.orders_model.rowCount() == args.orders and window.fills_model.rowCount() == fills_total
    print(f"  {args.orders:,} orders, {fills_total:,} fills (handler: {built:.1f} s to build; "
          f"views: {shown:.1f} s to take them in one batch and paint)")
    print(f"  {'':36} {'RSS MB':>8} {'+ MB':>8}")
    rows = (("Qt + the interpreter", base, base), ("the window, empty", empty, empty - base),
            ("+ the handler's records", records, records - empty),
            ("+ the orders model", orders_only, orders_only - records),
            ("+ the fills model", models, models - orders_only))
    for label, total, delta in rows:
        print(f"  {label:36} {total:8.0f} {delta:8.0f}")
    mib = 1024 * 1024
    per_record = (records - empty) * mib / (args.orders + fills_total)
    print(f"  per row: orders model {(orders_only - records) * mib / args.orders:,.0f} bytes, fills model "
          f"{(models - orders_only) * mib / fills_total:,.0f} bytes; the handler {per_record:,.0f} bytes per order "
          "or fill")


if __name__ == "__main__":
    main()
