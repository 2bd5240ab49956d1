"""Helpers for window tests: wait on a condition from a coroutine, and one window with its controller."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from ibticket.gui.appsettings import AppSettings
from ibticket.gui.controller import WindowController
from ibticket.gui.mainwindow import MainWindow
from ibticket.trading.connection import ConnectionChoice


async def until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


class App:
    """One window with its controller, on the test's folders."""

    def __init__(self, root: Path, gateway_options: dict[str, Any]) -> None:
        self.root = root
        self.settings = AppSettings(root / "settings.ini")
        self.window = MainWindow(self.settings)
        self.controller = WindowController(
            self.window, self.settings, log_dir=root / "log", data_dir=root / "data", gateway_options=gateway_options,
        )
        self.window.show()

    @property
    def session(self) -> Any:
        return self.controller.session

    @property
    def handler(self) -> Any:
        return self.session.handler

    @property
    def gateway(self) -> Any:
        return self.session.core.gateway

    async def start(self, choice: ConnectionChoice | None = None, timeout: float = 15.0) -> App:
        await self.controller.start(choice or ConnectionChoice("sim", client_id=31))
        await until(lambda: self.session.core.is_connected and self.session.status.phase == "connected",
                    timeout, "the window to connect")
        return self

    async def stop(self) -> None:
        await self.controller.shutdown()
        self.window.close()

    def prompt(self, name: str) -> QMessageBox | None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox) and widget.objectName() == name and widget.isVisible():
                return widget
        return None

    async def answer(self, name: str, button: str | None) -> QMessageBox:
        """Wait for the prompt; click ``button`` (its objectName) or press Escape when None."""
        box = await until(lambda: self.prompt(name), 10, f"prompt {name}")
        if button is None:
            QTest.keyClick(box, Qt.Key.Key_Escape)
        else:
            box.findChild(QWidget, button).click()
        return box

    def type_line(self, text: str, shift: bool = False) -> None:
        edit = self.window.order_line.edit
        self.window.focus_order_line()
        edit.clear()
        QTest.keyClicks(edit, text)
        modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
        QTest.keyClick(edit, Qt.Key.Key_Return, modifier)

    def orders(self) -> list[Any]:
        return self.window.orders_model.records()

    def log_events(self) -> list[dict[str, Any]]:
        from datetime import date

        from ibticket.core import read_day

        return read_day(self.root / "log", date.today()).events




class Unconnected:
    """A window with its controller on ``root``'s settings file that never connects: for what the window
    reads at start. ``discard()`` destroys it at once: with nothing connected, nothing is left to call into
    it (connected windows are kept to the session's end instead, see conftest.py), and every window still
    alive makes each new one slower (a controller applies the theme to every widget there is)."""

    def __init__(self, root: Path) -> None:
        self.settings = AppSettings(root / "settings.ini")
        self.window = MainWindow(self.settings)
        try:
            self.controller = WindowController(self.window, self.settings, log_dir=root / "log",
                                               data_dir=root / "data")
        except BaseException:
            self.discard()
            raise
        self.window.show()

    def discard(self) -> None:
        from PySide6.QtCore import QCoreApplication, QEvent

        self.window.hide()
        self.window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
