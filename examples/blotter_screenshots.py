"""Make docs/screenshots/fills-blotter.png and positions.png: the window on the simulated account after a
restart, the day's fills in time order (an order resting since the morning filled last) and a position closed
today kept, muted, with its realized P&L.

    python examples/blotter_screenshots.py [--out docs/screenshots] [--theme light|dark]

Offscreen is fine (QT_QPA_PLATFORM=offscreen); it uses a temporary settings file, log and data folder.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtWidgets import QApplication

from ibticket.gui.appsettings import AppSettings
from ibticket.gui.controller import WindowController
from ibticket.gui.mainwindow import MainWindow
from ibticket.trading.connection import ConnectionChoice
from ibticket.trading.orderline import parse
from ibticket.trading.precautions import Precautions


async def until(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there")
        await asyncio.sleep(0.05)
    return value


async def session(root: Path, theme: str, lines: list[str]) -> tuple[MainWindow, WindowController]:
    settings = AppSettings(root / "settings.ini")
    settings.set_theme(theme)
    settings.set_precautions(Precautions(enabled=False))
    window = MainWindow(settings)
    controller = WindowController(window, settings, log_dir=root / "log", data_dir=root / "data",
                                  gateway_options={"seed": 11, "tick_interval": None, "partial_fills": 2})
    window.show()
    await controller.start(ConnectionChoice("sim", client_id=7))
    await until(lambda: controller.session.core.is_connected and controller.session.status.phase == "connected")
    gateway = controller.session.core.gateway
    for symbol, price in (("AAPL", 230.00), ("MSFT", 412.30), ("NVDA", 181.20)):
        gateway.set_price(symbol, price, spread=0.02)
    for line in lines:
        if line.startswith("price "):
            _, symbol, value = line.split()
            gateway.set_price(symbol, float(value), spread=0.02)
            continue
        before = window.fills_model.rowCount()
        await controller.run_line(parse(line))
        if "lmt" not in line:
            await until(lambda before=before: window.fills_model.rowCount() > before)
        await asyncio.sleep(1.1)  # executions carry whole seconds: one second apart, in order
    return window, controller


async def shoot(out: Path, theme: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        window, controller = await session(root, theme, [
            "buy 100 NVDA lmt 180.50 gtc",  # rests until the price comes down, after the restart
            "buy 200 AAPL mkt", "buy 50 MSFT mkt", "price AAPL 231.45", "sell 200 AAPL mkt"])
        await controller.shutdown()
        window.close()
        window, controller = await session(root, theme, ["buy 30 MSFT mkt", "price NVDA 180.40", "sell 20 MSFT mkt"])
        await until(lambda: window.fills_model.rowCount() >= 12)
        await until(lambda: window.status.day_pnl.text())
        await asyncio.sleep(0.5)
        window.resize(1320, 820)
        window.docks["fills"].raise_()
        await asyncio.sleep(0.3)
        window.docks["fills"].grab().save(str(out / "fills-blotter.png"))
        window.docks["positions"].raise_()
        await asyncio.sleep(0.3)
        window.docks["positions"].grab().save(str(out / "positions.png"))
        await controller.shutdown()
        window.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(shoot(args.out, args.theme))


if __name__ == "__main__":
    main()
