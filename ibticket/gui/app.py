"""Start-up: the window first, then the broker; one qasync loop for Qt, asyncio and ib_insync.

Order matters for a fast first paint: Qt and the core are imported and the window shown before the
broker layer (ib_insync, and numpy with it) is imported; connecting is a visible state, not a wait.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .options import AppOptions, parse_options

if TYPE_CHECKING:
    from ..trading.connection import ConnectionChoice

log = logging.getLogger("ibticket")

T = TypeVar("T")


def process_age() -> float:
    """Seconds since this process started (from /proc where there is one, else since import)."""
    try:
        with open("/proc/self/stat") as handle:
            start_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORTED


_IMPORTED = time.monotonic()


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("ibticket", appauthor=False))


def main(argv: list[str] | None = None) -> int:
    if (sys.argv[1:] if argv is None else argv)[:1] == ["--logview-worker"]:
        # A frozen bundle has no ``python -m``: the log viewer starts its worker process through the app.
        from ..logview.worker import main as logview_worker

        logview_worker()
        return 0
    options = parse_options(argv)
    if options.smoke:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import qasync
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("ibticket")
    app.setOrganizationName("ibticket")
    app.setDesktopFileName("ibticket")
    from .appicon import app_icon

    app.setWindowIcon(app_icon())
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            code: int = loop.run_until_complete(run(app, options))
            return code
    finally:
        asyncio.set_event_loop(None)


async def run(app: object, options: AppOptions) -> int:
    from PySide6.QtWidgets import QApplication

    from .appsettings import AppSettings
    from .controller import WindowController
    from .mainwindow import MainWindow

    # Closing the window ends run() (which disconnects cleanly first); Qt must not stop the loop under it.
    QApplication.setQuitOnLastWindowClosed(False)
    settings = AppSettings(options.settings)
    window = MainWindow(settings)
    window.show()
    QApplication.processEvents()
    first_window = process_age()

    data_dir = options.data_dir or default_data_dir()
    controller = WindowController(window, settings, log_dir=options.log_dir, data_dir=data_dir)
    choice = _choice(options, settings.connection())
    settings.set_connection(choice)
    window.ticket.symbol.setText(options.smoke_symbol if options.smoke else settings.last_symbol())
    if options.open_day is not None:
        window.open_log_day(options.open_day)  # the viewer (and the status bar) say so if it has no log

    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    window.closing.connect(lambda: _settle(done, 0))
    _stop_on_signals(done)
    _refuse_a_second_instance(controller, done, data_dir if choice.mode == "sim" else None, options.smoke)
    try:
        await controller.start(choice, sim_reset=options.sim_reset)
        if options.smoke:
            code = await _smoke(controller, options, first_window)
            _settle(done, code)
        code = await done
    finally:
        await controller.shutdown()
        window.close()
    return code


def _settle(future: asyncio.Future[T], value: T) -> None:
    """Give ``future`` its result unless it has one (several things may end the app at once)."""
    if not future.done():
        future.set_result(value)


def _refuse_a_second_instance(controller: Any, done: asyncio.Future[int], data_dir: Path | None,
                              smoke: bool) -> None:
    """At start, a client id and order log folder another ibticket holds end this one: a dialog says which
    and how to run a second one, stderr says the same, and the exit status is EXIT_IN_USE. (Later, a
    File → Connect… onto a taken client id only says so in the window: the trader is still trading.)"""
    from .dialogs.in_use import EXIT_IN_USE, in_use, show_in_use

    def started() -> None:
        controller.failed.disconnect(gave_up)
        controller.ready.disconnect(started)

    def gave_up(_text: str) -> None:
        from ..broker.errors import ClientIdInUse

        refusal = getattr(controller.session, "refusal", None)
        if not isinstance(refusal, ClientIdInUse):
            return
        started()
        words = in_use(refusal.client_id, refusal.folder, refusal.pid, data_dir)
        print(words, file=sys.stderr)
        if smoke:
            _settle(done, EXIT_IN_USE)
            return
        task = controller._spawn(show_in_use(controller.window, words))
        task.add_done_callback(lambda _t: _settle(done, EXIT_IN_USE))

    controller.failed.connect(gave_up)
    controller.ready.connect(started)


def _choice(options: AppOptions, remembered: ConnectionChoice) -> ConnectionChoice:
    from ..trading.connection import TWS_PAPER_PORT, ConnectionChoice

    mode = options.mode or remembered.mode
    client_id = options.client_id if options.client_id is not None else remembered.client_id
    if mode == "sim":
        return ConnectionChoice("sim", client_id=client_id)
    if mode == "tws":
        return ConnectionChoice("tws", "127.0.0.1", TWS_PAPER_PORT, client_id, options.allow_live)
    host = options.host or remembered.host
    port = options.port or remembered.port
    return ConnectionChoice("custom", host, port, client_id, options.allow_live)


def _stop_on_signals(done: asyncio.Future[int]) -> None:
    """SIGINT / SIGTERM close the app as the Quit menu does: disconnect, flush the log, exit 0."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, _settle, done, 0)
        except (NotImplementedError, RuntimeError):
            signal.signal(sig, lambda *_a: loop.call_soon_threadsafe(_settle, done, 0))


async def _smoke(controller: Any, options: AppOptions, first_window: float, timeout: float = 30.0) -> int:
    """Connected and a first quote for the symbol, within the timeout: print the times, exit 0. A session
    that gives up (a setup problem, such as an order log folder that cannot be written) fails at once."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[float] = loop.create_future()
    quoted: asyncio.Future[float] = loop.create_future()
    failed: asyncio.Future[str] = loop.create_future()
    controller.ready.connect(lambda: _settle(ready, process_age()))
    def first_quote(symbol: str) -> None:
        if symbol == options.smoke_symbol:
            _settle(quoted, process_age())

    controller.firstQuote.connect(first_quote)
    controller.failed.connect(lambda text: _settle(failed, text))
    if controller.failure:
        failed.set_result(controller.failure)
    for step in (ready, quoted):
        waiting: set[asyncio.Future[Any]] = {step, failed}
        await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if failed.done() or not step.done():
            status = controller.session.status if controller.session else None
            reason = failed.result() if failed.done() else status.message if status and status.message else \
                "no first quote" if ready.done() else "not connected"
            _print_notices(controller)
            print(f"smoke: failed{'' if failed.done() else f' after {timeout:.0f} s'}: {reason}", file=sys.stderr)
            return 1
    _print_notices(controller)
    print(f"first window: {first_window:.2f} s")
    print(f"connected: {ready.result():.2f} s")
    print(f"ready (first {options.smoke_symbol} quote): {quoted.result():.2f} s")
    # After the figures: the chart's lazy import (pyqtgraph, numpy) must work too, from a bundle as well.
    started = time.perf_counter()
    try:
        controller.window.chart_holder.create()
    except Exception as exc:
        print(f"smoke: the chart could not be created: {exc}", file=sys.stderr)
        return 1
    print(f"chart created: {time.perf_counter() - started:.2f} s")
    return 0


def _print_notices(controller: Any) -> None:
    """What the window's notice bar says, for a check without a display."""
    for key, text in controller.window.notices.notices().items():
        if key != "connection":  # the failure itself is printed as the reason
            print(f"smoke: notice: {text}", file=sys.stderr)
