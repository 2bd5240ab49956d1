"""The app side of the fault soak (bench/soak.py): the real window, offscreen, trading at random.

Test-only entry (no hidden flags in the product). It builds ``MainWindow`` + ``WindowController`` as
``ibticket.gui.app`` does, connects to ``--host/--port`` as client ``--client-id`` with the given log folder
and settings, and then acts like a hurried trader: random orders, cancels and changes typed on the order line
and entered with Enter (so each goes through ``WindowController.run_line`` and the one ``OrderDesk``), and
every prompt (precautions, duplicate, cancel all) answered with a random button.

The driver talks to it over stdin/stdout, one line each:

* it prints ``ready`` once connected the first time;
* ``quiesce``: stop trading (answer: ``quiet``);
* ``dump PATH``: wait until nothing has changed for a while (connected, no order pending, no retry due), then
  write what the window holds (fills model, orders model, handler) as JSON to PATH (answer: ``dumped``);
* ``exit``: shut down cleanly.

The driver SIGKILLs it at random moments and starts it again on the same folders.

    python bench/soak_app.py --quick    # on its own: a paper gateway in this process, 1 s of trading, a dump
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import random
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SYMBOLS = ("AAPL", "MSFT", "SPY")
SETTLE_QUIET = 1.5  # seconds without any order event before a dump


def say(text: str) -> None:
    print(text, flush=True)


class Trader:
    def __init__(self, args: argparse.Namespace) -> None:
        from PySide6.QtCore import QTimer

        from ibticket.gui.appsettings import AppSettings
        from ibticket.gui.controller import WindowController
        from ibticket.gui.mainwindow import MainWindow

        self.args = args
        self.rng = random.Random(args.seed)
        self.settings = AppSettings(args.settings)
        self.window = MainWindow(self.settings)
        self.controller = WindowController(self.window, self.settings, log_dir=args.log_dir, data_dir=args.data_dir)
        self.window.show()
        self.trading = True
        self.last_event = time.monotonic()
        self.answerer = QTimer()
        self.answerer.setInterval(40)
        self.answerer.timeout.connect(self._answer_prompts)
        self.answerer.start()

    @property
    def session(self) -> Any:
        return self.controller.session

    async def start(self) -> None:
        from ibticket.trading.connection import ConnectionChoice

        await self.controller.start(ConnectionChoice("custom", self.args.host, self.args.port, self.args.client_id))
        handler = self.session.handler
        for register in (handler.register_status_callback, handler.register_fill_callback,
                         handler.register_error_callback):
            register(self._touched)
        while not self.session.core.is_connected:
            await asyncio.sleep(0.05)
        market = self.session.core.market
        for symbol in SYMBOLS:
            await market.subscribe(symbol)
        say("ready")

    def _touched(self, *_args: Any) -> None:
        self.last_event = time.monotonic()

    def _answer_prompts(self) -> None:
        from PySide6.QtWidgets import QApplication, QMessageBox

        for box in QApplication.topLevelWidgets():
            if isinstance(box, QMessageBox) and box.isVisible():
                buttons = box.buttons()
                if buttons:
                    self.rng.choice(buttons).click()

    # -- trading ---------------------------------------------------------------------------------------

    def _quote(self, symbol: str) -> float | None:
        core = self.session.core if self.session else None
        q = core.market.quote(symbol) if core is not None else None
        price = q and (q.last or q.bid or q.ask)
        return float(price) if price else None

    def _working_ids(self) -> list[int]:
        desk = self.controller.desk
        return [r.order_id for r in desk.working_orders()] if desk is not None else []

    def line(self) -> str | None:
        rng = self.rng
        roll = rng.random()
        working = self._working_ids()
        if working and roll < 0.2:
            return f"cancel {rng.choice(working)}"
        if working and roll < 0.4:
            order_id = rng.choice(working)
            record = self.session.handler.get_order(order_id)
            if record is None:
                return None
            change = [f"qty {record.total_quantity + rng.randint(1, 20)}"]
            if record.limit_price is not None and rng.random() < 0.6:
                change = [f"lmt {max(0.01, record.limit_price * (1 + rng.uniform(-0.003, 0.003))):.2f}"]
            return f"modify {order_id} {' '.join(change)}"
        if working and roll < 0.42:
            return "cancel all"
        symbol = rng.choice(SYMBOLS)
        side = rng.choice(("buy", "sell"))
        qty = rng.randint(1, 40)
        price = self._quote(symbol)
        kind = rng.random()
        if price is None or kind < 0.35:
            return f"{side} {qty} {symbol} mkt"
        # Around the market: some cross at once, most rest and fill (or not) as the price moves.
        limit = price * (1 + rng.uniform(-0.004, 0.002) * (1 if side == "buy" else -1))
        tif = "gtc" if rng.random() < 0.2 else "day"
        return f"{side} {qty} {symbol} lmt {limit:.2f} {tif}"

    def enter(self, text: str) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        edit = self.window.order_line.edit
        edit.setText(text)
        QTest.keyClick(edit, Qt.Key.Key_Return)

    async def trade(self) -> None:
        while True:
            await asyncio.sleep(self.rng.expovariate(1.0 / self.args.pace))
            if not self.trading or self.session is None:
                continue
            text = self.line()
            if text:
                self.enter(text)

    # -- the driver's requests -------------------------------------------------------------------------

    async def settle(self, timeout: float = 60.0) -> None:
        from ibticket.core import OrderStatus

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            session = self.session
            handler = session.handler
            busy = (
                not session.core.is_connected
                or any(r.status is OrderStatus.PENDING for r in handler.get_all_orders())
                or any(handler.retry_pending(r.order_id) for r in handler.get_all_orders())
                or time.monotonic() - self.last_event < SETTLE_QUIET
            )
            if not busy:
                return
            await asyncio.sleep(0.1)

    async def dump(self, path: str) -> None:
        await self.settle()
        if self.controller.bridge is not None:
            self.controller.bridge.flush()
        w = self.window

        def record(r: Any) -> dict[str, Any]:
            return {"order_id": r.order_id, "order_ref": r.order_ref, "status": r.status.value,
                    "filled": r.filled_quantity, "total": r.total_quantity, "symbol": r.symbol, "action": r.action,
                    "attempts": [a.order_ref for a in r.attempts], "fills": [f.fill_id for f in r.fills]}

        data = {
            "connected": self.session.core.is_connected,
            "fills_model": [f.fill_id for f in w.fills_model.fills()],
            "orders_model": [record(r) for r in w.orders_model.records()],
            "handler": [record(r) for r in self.session.handler.get_all_orders()],
        }
        Path(path).write_text(json.dumps(data))
        say("dumped")

    async def serve(self, commands: asyncio.Queue[str]) -> int:
        while True:
            command = (await commands.get()).strip()
            if command == "quiesce":
                self.trading = False
                say("quiet")
            elif command.startswith("dump "):
                await self.dump(command[5:])
            elif command in ("exit", ""):  # "" is end of input: the driver went away
                return 0


def read_stdin(loop: asyncio.AbstractEventLoop, commands: asyncio.Queue[str]) -> None:
    for line in sys.stdin:
        loop.call_soon_threadsafe(commands.put_nowait, line)
    loop.call_soon_threadsafe(commands.put_nowait, "")


async def script(commands: asyncio.Queue[str], trader: Trader, dump: Path, freeze: Callable[[], None]) -> None:
    """--quick: what the driver would say, without one: trade a little, freeze the market, quiesce, dump, exit."""
    while trader.session is None or not trader.session.core.is_connected:
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    freeze()  # so no resting order fills after the dump
    for command in ("quiesce", f"dump {dump}", "exit"):
        commands.put_nowait(command)


async def run(args: argparse.Namespace, freeze: Callable[[], None] | None = None) -> int:
    """Trade until told to exit: by the driver on stdin, or (``freeze`` given, --quick) by ``script``."""
    trader = Trader(args)
    commands: asyncio.Queue[str] = asyncio.Queue()
    driver = None
    if freeze is not None:
        dump = args.log_dir.parent / "dump.json"
        driver = asyncio.get_running_loop().create_task(script(commands, trader, dump, freeze))
    else:
        threading.Thread(target=read_stdin, args=(asyncio.get_running_loop(), commands), daemon=True).start()
    try:
        await trader.start()
        trading = asyncio.get_running_loop().create_task(trader.trade())
        code = await trader.serve(commands)
        trading.cancel()
        if driver is not None:
            await driver
        return code
    finally:
        await trader.controller.shutdown()
        trader.window.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--client-id", type=int)
    parser.add_argument("--log-dir", type=Path)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--settings", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pace", type=float, default=0.25, help="mean seconds between the trader's actions")
    parser.add_argument("--quick", action="store_true",
                        help="on its own: a paper gateway in this process and temporary folders; trade for 1 s, "
                             "dump what the window holds and print its counts")
    args = parser.parse_args()
    if args.quick:
        quick(args)
        return
    missing = [n for n in ("port", "client_id", "log_dir", "data_dir", "settings") if getattr(args, n) is None]
    if missing:
        parser.error("missing " + ", ".join("--" + n.replace("_", "-") for n in missing) + " (or give --quick)")
    sys.exit(run_app(args))


def run_app(args: argparse.Namespace, freeze: Callable[[], None] | None = None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(run(args, freeze))


def quick(args: argparse.Namespace) -> None:
    import shutil
    import tempfile

    from ibticket.gateway import GatewayConfig, GatewayThread

    root = Path(tempfile.mkdtemp(prefix="ibticket-soak-app-"))
    atexit.register(shutil.rmtree, root, True)
    args.client_id, args.pace = 71, 0.1
    args.log_dir, args.data_dir, args.settings = root / "log", root / "data", root / "settings.ini"
    config = GatewayConfig(seed=args.seed, tick_interval=0.1, partial_fills=3, fill_interval=0.02, start_cash=1e8)
    with GatewayThread(config) as gw:
        args.port = gw.port
        started = time.monotonic()
        code = run_app(args, freeze=lambda: gw.freeze_market(True))
        made = [e for e in gw.executions() if e.client_id == args.client_id]
    dump = json.loads((root / "dump.json").read_text())
    fills = {f for r in dump["handler"] for f in r["fills"]}
    print(f"soak app --quick: {time.monotonic() - started:.1f} s; {len(dump['handler'])} orders, {len(fills)} "
          f"executions in the handler, {len(dump['fills_model'])} rows in the fills model, {len(made)} made by the "
          f"gateway; connected at the end: {dump['connected']}")
    if code or fills != {e.exec_id for e in made} or sorted(dump["fills_model"]) != sorted(fills):
        raise SystemExit("soak app --quick: the window's executions differ from the gateway's")


if __name__ == "__main__":
    main()
