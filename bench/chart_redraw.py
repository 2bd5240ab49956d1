"""What one redraw of the chart costs with a full day of trades in it (offscreen).

    python bench/chart_redraw.py [--points 200000] [--repeat 30]
    python bench/chart_redraw.py --quick    # a smoke run: 5,000 trades, 3 redraws each

Fills one symbol's tick buffer with ``--points`` trades 0.1 s apart, then times the chart's redraw plus a
repaint of its viewport after each new trade: the last-price line (whole session in view, and zoomed to
the last 10 minutes) and 1-minute candles. The chart redraws at most 30 times a second, so this is the
most a second of trading can cost it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 5,000 trades, 3 redraws each")
    args = parser.parse_args()
    if args.quick:
        args.points, args.repeat = 5000, 3
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from ibticket.gui.widgets.chart import ChartView
    from ibticket.trading.chart_data import TickStore

    store = TickStore(capacity=max(args.points, 1))
    buf = store.buffer("AAPL")
    rng = random.Random(1)
    price, start = 100.0, time.time() - args.points * 0.1
    for i in range(args.points):
        price += rng.uniform(-0.01, 0.01)
        buf.append(start + i * 0.1, price)
    view = ChartView(store)
    view.resize(900, 450)
    view.show()
    app.processEvents()
    view.set_symbol("AAPL")

    def timed(label: str, setup: Callable[[], None]) -> None:
        setup()
        view.redraw()
        app.processEvents()
        costs = []
        for _ in range(args.repeat):
            buf.append(time.time(), price)
            began = time.perf_counter()
            view.redraw()
            view.plot.viewport().repaint()
            costs.append((time.perf_counter() - began) * 1000)
        shown = len(view.curve.getData()[0] if view.curve.getData()[0] is not None else [])
        print(f"{label:<34} median {statistics.median(costs):6.1f} ms   max {max(costs):6.1f} ms"
              + (f"   ({shown:,} of {view.point_count():,} points drawn)" if view.mode == "line" else ""))

    timed("line, whole session in view", lambda: view.set_mode("line"))
    timed("line, last 10 minutes in view", lambda: view.vb.setXRange(time.time() - 600, time.time() + 30))
    timed("1-minute candles", lambda: view.set_mode("candles"))


if __name__ == "__main__":
    main()
