"""Make docs/screenshots/chart-light.png and chart-dark.png: the window on the simulated account, the chart
showing a minute of AAPL trades, three fills, two working orders and one still waiting for IB.

    python examples/chart_screenshots.py [--seconds 60] [--mode line|candles] [--out docs/screenshots]

With ``--mode candles`` the files are chart-candles-light.png and chart-candles-dark.png (give it a few minutes).

Run it on a display (e.g. ``xvfb-run``); it uses a temporary settings file, log and data folder.
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
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ibticket.gui.appsettings import AppSettings
from ibticket.gui.controller import WindowController
from ibticket.gui.mainwindow import MainWindow
from ibticket.trading.connection import ConnectionChoice


async def until(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there")
        await asyncio.sleep(0.05)
    return value


async def shoot(theme: str, seconds: float, mode: str, out: Path, root: Path) -> None:
    settings = AppSettings(root / f"{theme}.ini")
    settings.set_theme(theme)
    settings.set_chart_mode(mode)
    window = MainWindow(settings)
    controller = WindowController(window, settings, log_dir=root / theme / "log", data_dir=root / theme / "data",
                                  gateway_options={"seed": 11, "tick_interval": 0.1})
    window.show()
    await controller.start(ConnectionChoice("sim", client_id=7))
    await until(lambda: controller.session.core.is_connected and controller.session.status.phase == "connected")
    window.ticket.symbolRequested.emit("AAPL")
    await until(lambda: window.ticket.instrument is not None)
    window.docks["chart"].raise_()
    view = await until(lambda: window.chart_holder.view)
    async def run(text: str) -> None:
        from ibticket.trading.orderline import parse

        await controller.run_line(parse(text))

    step = seconds / 4
    await asyncio.sleep(step)
    await run("buy 100 aapl mkt")
    await asyncio.sleep(step)
    await run("sell 60 aapl mkt")
    await asyncio.sleep(step)
    await run("buy 40 aapl mkt")
    await asyncio.sleep(step)
    last = controller._quote_of("AAPL").last
    await run(f"buy 50 aapl lmt {last * 0.996:.2f}")
    await run(f"sell 80 aapl stp {last * 0.992:.2f}")
    await asyncio.sleep(1.0)
    controller.session.core.gateway.faults.delay_messages(3.0)  # the next order waits for IB: "(sending)"
    await run(f"sell 20 aapl lmt {last * 1.004:.2f}")
    await asyncio.sleep(0.6)
    (x0, x1), (y0, y1) = view.vb.viewRange()
    spot = view.plot.mapFromScene(view.vb.mapViewToScene(QPointF(x0 + (x1 - x0) * 0.55, y0 + (y1 - y0) * 0.7)))
    QTest.mouseMove(view.plot.viewport(), spot + QPoint(40, 40))  # a move, so the crosshair shows
    await asyncio.sleep(0.05)
    QTest.mouseMove(view.plot.viewport(), spot)
    await asyncio.sleep(0.2)
    out.mkdir(parents=True, exist_ok=True)
    name = "chart" if mode == "line" else f"chart-{mode}"
    window.grab().save(str(out / f"{name}-{theme}.png"))
    controller.session.core.gateway.faults.delay_messages(0)
    await controller.shutdown()
    window.hide()


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for theme in ("light", "dark"):
            await shoot(theme, args.seconds, args.mode, args.out, Path(tmp))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--mode", choices=("line", "candles"), default="line")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "screenshots")
    app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(main(parser.parse_args()))
