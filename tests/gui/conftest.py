"""The trading window against the embedded gateway: a real QApplication (offscreen) on a qasync loop.

Tests are coroutines run with ``qt_loop.run_until_complete``; inside them, wait with ``windowkit.until``
(which awaits asyncio.sleep). Never call qtbot.wait/waitUntil inside a coroutine: the nested Qt loop
deadlocks qasync (the tests would hang until the per-test timeout).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

qasync = pytest.importorskip("qasync")

from PySide6.QtTest import QAbstractItemModelTester  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from windowkit import App  # noqa: E402


@pytest.fixture(autouse=True)
def _no_tws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IBTICKET_TWS_HOST", "IBTICKET_TWS_PORT", "IBTICKET_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def qt_loop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    try:
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        asyncio.set_event_loop(None)
        loop.close()


@pytest.fixture(scope="session")
def _finished_windows() -> Iterator[list[Any]]:
    # Windows outlive their test: destroying one mid-run (deleteLater, or Python dropping the last reference)
    # crashed Qt in a later test's event processing now and then. They go when the session ends.
    kept: list[Any] = []
    yield kept
    kept.clear()


@pytest.fixture
def keep(_finished_windows: list[Any], qapp: QApplication) -> Iterator[Callable[[Any], Any]]:
    """Like qtbot.addWidget, but the widget is hidden after the test and destroyed only at the session's end."""
    widgets: list[Any] = []

    def add(widget: Any) -> Any:
        widgets.append(widget)
        return widget

    yield add
    for widget in widgets:
        widget.hide()
    _finished_windows.extend(widgets)


@pytest.fixture
def model_tester() -> Iterator[Callable[[Any], Any]]:
    """Qt's own QAbstractItemModelTester on a model for the rest of the test: every change the model signals
    (rows inserted, a dataChanged range, a reset, a sort) is checked against what the model then answers.
    A broken promise is a "qt.modeltest" warning, which pytest-qt turns into a failure of the test (a model
    announcing two new rows and adding one was seen to fail that way)."""
    testers: list[QAbstractItemModelTester] = []

    def attach(model: Any) -> Any:
        testers.append(QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning))
        return model

    yield attach
    testers.clear()


@pytest.fixture
def make_app(
    qt_loop: asyncio.AbstractEventLoop, tmp_path: Path, _finished_windows: list[Any],
    model_tester: Callable[[Any], Any],
) -> Iterator[Callable[..., App]]:
    apps: list[App] = []

    def make(root: Path | None = None, check_models: bool = True, **gateway_options: Any) -> App:
        options = {"seed": 5, "tick_interval": None, **gateway_options}
        app = App(root or tmp_path, options)
        if check_models:
            w = app.window
            for model in (w.orders_model, w.orders.proxy, w.fills_model, w.positions_model, w.logview.model):
                model_tester(model)
        apps.append(app)
        return app

    yield make
    for app in apps:
        if app.controller.session is not None:
            qt_loop.run_until_complete(app.stop())
        app.window.hide()
    _finished_windows.extend(apps)
