"""The Qt runtime the desktop app will stand on: signals at volume, and the broker on one qasync loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
qasync = pytest.importorskip("qasync")

from ibticket.broker import BrokerCore, resolve_settings  # noqa: E402
from ibticket.core import OrderExecutionHandler, OrderLogger, OrderRequest, OrderStatus  # noqa: E402
from ibticket.gateway import GatewayConfig, GatewayThread  # noqa: E402


def test_tens_of_thousands_of_signal_emits_do_not_abort_python() -> None:
    # PySide6 6.12.0 drops a reference to True on every emit and aborts CPython 3.11 after a few
    # thousand (bool_dealloc). A subprocess turns that abort into a failure instead of killing pytest.
    script = textwrap.dedent(
        """
        import os
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtCore import QCoreApplication, QObject, Signal

        class Source(QObject):
            changed = Signal(int)
            flag = Signal(bool)

        app = QCoreApplication([])
        source, seen = Source(), []
        source.changed.connect(seen.append)
        source.flag.connect(seen.append)
        for i in range(50_000):
            source.changed.emit(i)
            source.flag.emit(i % 2 == 0)
        print(len(seen))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "100000"


@pytest.fixture
def qt_loop(qapp):
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


def test_broker_core_runs_on_the_qasync_loop(qt_loop, tmp_path: Path) -> None:
    async def scenario() -> None:
        with GatewayThread(GatewayConfig(seed=3, tick_interval=None, partial_fills=3)) as gateway:
            logger = OrderLogger(log_dir=tmp_path, log_to_console=False)
            handler = OrderExecutionHandler(logger=logger)
            core = BrokerCore(handler, resolve_settings(port=gateway.port, client_id=21))
            filled = asyncio.get_running_loop().create_future()
            handler.register_fill_callback(
                lambda r: r.status is OrderStatus.FILLED and not filled.done() and filled.set_result(r)
            )
            await core.connect(timeout=5)
            assert core.is_connected
            record = await core.submit(OrderRequest("AAPL", "BUY", 30))
            done = await asyncio.wait_for(filled, 10)
            assert done is record and record.filled_quantity == 30 and len(record.fills) == 3
            await core.disconnect()
            assert not core.is_connected
            logger.close()

    qt_loop.run_until_complete(scenario())
