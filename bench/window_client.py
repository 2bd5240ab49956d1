"""The real window, offscreen, as a client of a benchgw gateway: the ibticket side of bench/window_bench.py.

Test-only entry (no hidden flags in the product): it builds ``MainWindow`` + ``WindowController`` the way
``ibticket.gui.app`` does, connects to ``--port`` as a custom connection, and runs one measurement:

* ``burst``: K market orders (held by the gateway), then the gateway releases them; the times at which the
  handler (and with it the order log, written synchronously per fill), the fills model and the orders model
  have applied all N executions, and the ticks of a 10 ms QTimer on the GUI loop meanwhile.
* ``click``: limit orders sent by clicking the ticket's Send button and by Enter on the order line, with
  the symbol's contract already resolved; the click times and order refs (the gateway stamps its read).
* ``rate``: market orders that the gateway fills in many executions ``fill_interval`` apart; when each
  fills row was inserted in the model and when the fills view next painted.

Prints one JSON line on stdout. All times are ``time.monotonic()`` (one clock across processes on Linux).

    python bench/window_client.py --quick    # every mode once, tiny, against gateway processes of its own
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import gc
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchgw import Control

SYMBOLS = ("AAPL", "MSFT")


async def until(predicate: Any, timeout: float, what: str, step: float = 0.005) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"window client: timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(step)


class TickGaps:
    """A 10 ms precise QTimer on the GUI loop; the gaps between its ticks show how long the loop was busy."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(lambda: self.ticks.append(time.monotonic()))

    def start(self) -> None:
        self.ticks.clear()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return list(self.ticks)


class Window:
    def __init__(self, root: Path, port: int, client_id: int, precautions: bool) -> None:
        from ibticket.gui.appsettings import AppSettings
        from ibticket.gui.controller import WindowController
        from ibticket.gui.mainwindow import MainWindow
        from ibticket.trading.precautions import Precautions

        self.root = root
        self.port = port
        self.client_id = client_id
        self.settings = AppSettings(root / "settings.ini")
        if not precautions:
            self.settings.set_precautions(Precautions(enabled=False))
        self.window = MainWindow(self.settings)
        self.controller = WindowController(self.window, self.settings, log_dir=root / "log", data_dir=root / "data")
        self.window.show()

    async def start(self) -> None:
        from ibticket.trading.connection import ConnectionChoice

        await self.controller.start(ConnectionChoice("custom", "127.0.0.1", self.port, self.client_id))
        await until(lambda: self.session.core.is_connected and self.session.status.phase == "connected", 30,
                    "the window to connect")

    @property
    def session(self) -> Any:
        return self.controller.session

    async def stop(self) -> None:
        await self.controller.shutdown()
        self.window.close()

    def log_fills(self) -> int:
        from ibticket.core import read_day

        return sum(1 for e in read_day(self.root / "log", date.today()).events if e.get("event_type") == "FILL")


# --- burst ---------------------------------------------------------------------------------------------


async def burst(w: Window, args: argparse.Namespace) -> dict[str, Any]:
    from ibticket.core import OrderRequest, OrderStatus

    control = Control(args.control, bytes.fromhex(args.key))
    core, handler = w.session.core, w.session.handler
    records = [await core.submit(OrderRequest(SYMBOLS[i % len(SYMBOLS)], "BUY", args.qty), force=True)
               for i in range(args.orders)]
    await until(lambda: all(r.status is OrderStatus.SUBMITTED for r in records), 120, "the orders' acknowledgement")
    await until(lambda: w.window.orders_model.rowCount() == args.orders, 10, "the order rows")
    fills_model, orders_model = w.window.fills_model, w.window.orders_model
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    marks: dict[str, float] = {}
    seen = 0

    def on_fill(_record: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == args.execs:
            marks["handler"] = time.monotonic()

    def check(*_a: Any) -> None:
        if "fills_model" not in marks and fills_model.rowCount() == args.execs:
            marks["fills_model"] = time.monotonic()
        if "fills_model" in marks and "orders_model" not in marks and all(
                orders_model.text(row, "status") == "Filled" for row in range(orders_model.rowCount())):
            marks["orders_model"] = time.monotonic()
        if "orders_model" in marks and not done.done():
            done.set_result(None)

    handler.register_fill_callback(on_fill)
    fills_model.rowsInserted.connect(check)
    orders_model.dataChanged.connect(check)
    gc_pauses: list[float] = []  # full collections during the burst, seconds
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") == 2:
            if phase == "start":
                gc_started[0] = time.perf_counter()
            else:
                gc_pauses.append(time.perf_counter() - gc_started[0])

    gc.callbacks.append(on_gc)
    gaps = TickGaps()
    gaps.start()
    await asyncio.sleep(0.3)  # a baseline of idle ticks before the burst
    t0, cpu0 = time.monotonic(), time.process_time()
    control.release()
    await asyncio.wait_for(done, args.timeout)
    t1, cpu = time.monotonic(), time.process_time() - cpu0
    await asyncio.sleep(0.2)
    ticks = gaps.stop()
    gc.callbacks.remove(on_gc)
    control.close()
    return {"t0": t0, "t1": t1, "cpu": cpu, "gc_pauses": gc_pauses, "marks": marks, "execs": seen, "ticks": ticks,
            "log_fills": w.log_fills(),
            "fills_rows": fills_model.rowCount(), "rss_kb": rss_kb()}


# --- click to wire -------------------------------------------------------------------------------------


async def click(w: Window, args: argparse.Namespace) -> dict[str, Any]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from ibticket.core import OrderRequest, OrderStatus

    ticket, handler = w.window.ticket, w.session.handler
    await w.controller.load_symbol("AAPL")
    quote = await until(lambda: w.session.core.market.quote("AAPL"), 10, "the AAPL quote")
    base = round((quote.bid or quote.last) * 0.99, 2)  # 1 % under the bid: rests, within the 5 % precaution
    ticks = TickGaps()
    ticks.start()
    samples: list[dict[str, Any]] = []
    for i in range(args.clicks * 2):
        how = "send" if i % 2 == 0 else "enter"
        price = round(base - 0.01 * i, 2)
        before = len(handler.get_all_orders())
        # The trader fills the ticket (or types the line) first; the window repaints that before the click.
        if how == "send":
            ticket.load(OrderRequest("AAPL", "BUY", 10, "LIMIT", price))
            if not ticket.send.isEnabled():
                raise SystemExit(f"window client: the ticket cannot send: {ticket.send.toolTip()}")
            await asyncio.sleep(0.03)
            t = time.monotonic()
            QTest.mouseClick(ticket.send, Qt.MouseButton.LeftButton)
        else:
            edit = w.window.order_line.edit
            edit.setFocus()
            edit.setText(f"buy 10 aapl lmt {price:.2f}")
            await asyncio.sleep(0.03)
            t = time.monotonic()
            QTest.keyClick(edit, Qt.Key.Key_Return)
        record = await until(lambda b=before: len(handler.get_all_orders()) > b and handler.get_all_orders()[-1],
                             10, f"order {i} ({how})")
        if _visible_prompts():
            raise SystemExit(f"window client: a prompt opened for order {i}: {_visible_prompts()}")
        await until(lambda r=record: r.status is OrderStatus.SUBMITTED, 10, f"order {i}'s acknowledgement")
        samples.append({"how": how, "t": t, "ref": record.attempts[0].order_ref})
        await asyncio.sleep(0.02 + 0.01 * (i % 3))  # a trader's pace, never in step with the flush timer
    return {"samples": samples, "ticks": ticks.stop()}


def _visible_prompts() -> list[str]:
    from PySide6.QtWidgets import QApplication, QMessageBox

    return [b.objectName() for b in QApplication.topLevelWidgets() if isinstance(b, QMessageBox) and b.isVisible()]


# --- fill to screen ------------------------------------------------------------------------------------


async def rate(w: Window, args: argparse.Namespace) -> dict[str, Any]:
    from PySide6.QtCore import QEvent, QObject

    from ibticket.core import OrderRequest, OrderStatus

    fills_model = w.window.fills_model
    view = w.window.fills.table
    inserted: dict[str, float] = {}
    painted: dict[str, float] = {}
    unpainted: list[str] = []

    def on_rows(_parent: Any, first: int, last: int) -> None:
        now = time.monotonic()
        for row in range(first, last + 1):
            fill_id = fills_model.index(row, 7).data()  # the exec id column
            inserted[fill_id] = now
            unpainted.append(fill_id)

    class PaintProbe(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and unpainted:
                now = time.monotonic()
                for fill_id in unpainted:
                    painted.setdefault(fill_id, now)
                unpainted.clear()
            return False

    probe = PaintProbe()
    view.viewport().installEventFilter(probe)
    w.window.docks["fills"].raise_()
    fills_model.rowsInserted.connect(on_rows)
    ticks = TickGaps()
    ticks.start()
    # Several orders fill side by side when one alone cannot reach the rate (the gateway's timer steps).
    records = [await w.session.core.submit(OrderRequest(SYMBOLS[i % len(SYMBOLS)], "BUY", args.qty), force=True)
               for i in range(args.orders)]
    await until(lambda: all(r.status is OrderStatus.FILLED for r in records), args.timeout, "the fills", step=0.05)
    await until(lambda: fills_model.rowCount() == sum(len(r.fills) for r in records), 5, "the fills rows")
    await asyncio.sleep(0.2)
    return {"inserted": inserted, "painted": painted, "ticks": ticks.stop()}


def scratch_folder() -> Path:
    """The run's log, data and settings folder; removed when the process ends."""
    root = Path(tempfile.mkdtemp(prefix="ibticket-bench-"))
    atexit.register(shutil.rmtree, root, True)
    return root


def rss_kb() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def engine_burst(args: argparse.Namespace) -> dict[str, Any]:
    """The same burst into the window's TradingSession (broker, handler, order log) on a plain asyncio loop:
    no Qt, no bridge, no models. Separates the engine's cost from the window's."""
    from ibticket.core import OrderRequest, OrderStatus
    from ibticket.trading.connection import ConnectionChoice
    from ibticket.trading.session import TradingSession

    root = scratch_folder()
    session = TradingSession(ConnectionChoice("custom", "127.0.0.1", args.port, args.client_id),
                             log_dir=root / "log", data_dir=root / "data")
    session.start()
    await until(lambda: session.core.is_connected, 30, "the engine to connect")
    control = Control(args.control, bytes.fromhex(args.key))
    core, handler = session.core, session.handler
    records = [await core.submit(OrderRequest(SYMBOLS[i % len(SYMBOLS)], "BUY", args.qty), force=True)
               for i in range(args.orders)]
    await until(lambda: all(r.status is OrderStatus.SUBMITTED for r in records), 120, "the orders' acknowledgement")
    done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    seen = 0

    def on_fill(_record: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == args.execs and not done.done():
            done.set_result(time.monotonic())

    handler.register_fill_callback(on_fill)
    t0, cpu0 = time.monotonic(), time.process_time()
    control.release()
    t1 = await asyncio.wait_for(done, args.timeout)
    cpu = time.process_time() - cpu0
    control.close()
    await session.stop()
    return {"t0": t0, "t1": t1, "cpu": cpu, "execs": seen}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    root = scratch_folder()
    w = Window(root, args.port, args.client_id, precautions=args.mode == "click")
    await w.start()
    if os.environ.get("BENCH_READ_SIZE"):  # experiment: cap the bytes one socket read hands the decoder
        w.session.core.ib.client.conn.transport.max_size = int(os.environ["BENCH_READ_SIZE"])
    try:
        if args.mode == "burst":
            return await burst(w, args)
        if args.mode == "click":
            return await click(w, args)
        return await rate(w, args)
    finally:
        await w.stop()


def quick(parser: argparse.ArgumentParser) -> None:
    """Every mode once at tiny sizes, in this process, each against a gateway process of its own configured
    as bench/window_bench.py configures it; one line of figures per mode, exit status 1 on a wrong count."""
    import qasync
    from benchgw import GatewayProcess
    from PySide6.QtWidgets import QApplication
    from window_bench import BURST_GATEWAY, gaps_in

    app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    burst_args = ["--orders", "2", "--qty", "100", "--execs", str(2 * BURST_GATEWAY["partial_fills"])]
    plan = (("engine", BURST_GATEWAY, burst_args), ("burst", BURST_GATEWAY, burst_args),
            ("click", {"seed": 1, "tick_interval": None}, ["--clicks", "2"]),
            ("rate", {"seed": 1, "tick_interval": None, "partial_fills": 25, "fill_interval": 0.01, "start_cash": 1e9},
             ["--orders", "2", "--qty", "25"]))
    with loop:
        for mode, config, extra in plan:
            with GatewayProcess(**config) as gw:
                assert gw.control is not None
                args = parser.parse_args([mode, *gw.client_args(), *extra, "--timeout", "60"])
                r = loop.run_until_complete(engine_burst(args) if mode == "engine" else run(args))
                stamps, made = gw.control.stamps(), len(gw.control.call("executions"))
            if mode in ("engine", "burst"):
                ok = r["execs"] == args.execs == made and r.get("log_fills", made) == r.get("fills_rows", made) == made
                gaps = gaps_in(r["ticks"], r["t0"], r["t1"]) if "ticks" in r else []
                print(f"{mode:<6} {r['execs']} executions in {r['t1'] - r['t0']:.3f} s, CPU {r['cpu']:.3f} s"
                      + (f"; log FILL lines {r['log_fills']}, fills rows {r['fills_rows']}, longest GUI gap "
                         f"{max(gaps, default=0) * 1000:.0f} ms" if mode == "burst" else ""))
            elif mode == "click":
                lat = [(stamps["place"][x["ref"]] - x["t"]) * 1000 for x in r["samples"] if x["ref"] in stamps["place"]]
                ok = len(lat) == len(r["samples"]) == 2 * args.clicks
                print(f"click  {len(lat)} of {len(r['samples'])} orders read by the gateway; click-to-wire "
                      + ", ".join(f"{x:.1f}" for x in lat) + " ms")
            else:
                lat = [(r["inserted"][e] - t) * 1000 for e, t in stamps["exec"].items() if e in r["inserted"]]
                ok = len(lat) == len(stamps["exec"]) == made == args.orders * args.qty
                print(f"rate   {len(lat)} of {made} executions in the fills model; execDetails written to row in the "
                      f"model: max {max(lat, default=0):.1f} ms; {len(r['painted'])} painted")
            if not ok:
                raise SystemExit(f"window client --quick: {mode}: a count does not add up (the gateway made {made})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", choices=("burst", "engine", "click", "rate"))
    parser.add_argument("--quick", action="store_true",
                        help="every mode at tiny sizes against gateway processes of its own (a smoke run)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--control", type=int, default=0)
    parser.add_argument("--key", default="")
    parser.add_argument("--client-id", type=int, default=61)
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--qty", type=int, default=100)
    parser.add_argument("--execs", type=int, default=10_000)
    parser.add_argument("--clicks", type=int, default=100, help="click mode: this many Sends and as many Enters")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    if not args.quick and not (args.mode and args.port and args.control and args.key):
        parser.error("give a mode, --port, --control and --key (from bench/benchgw.py's GatewayProcess), or --quick")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.quick:
        quick(parser)
        return
    if args.mode == "engine":
        print(json.dumps(asyncio.run(engine_burst(args))), flush=True)
        return
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        result = loop.run_until_complete(run(args))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
