"""A fill is heard and seen: a beep, its row lit, the status bar, and a desktop notification while a dialog
is open (here through a notify-send on PATH that writes down what it was asked to show). Fills restored
from the order log at a start are not news; Settings switch it off."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from PySide6.QtWidgets import QMessageBox
from windowkit import until

from ibticket.core import OrderStatus


def _fake_notify_send(folder: Path) -> Path:
    """A notify-send that appends its arguments to a file: the desktop's boundary, nothing else faked."""
    folder.mkdir()
    said = folder / "said.txt"
    script = folder / "notify-send"
    script.write_text(f'#!/bin/sh\nprintf "%s|" "$@" >> "{said}"\necho >> "{said}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return said


def test_a_fill_beeps_flashes_its_row_and_notifies_while_a_dialog_is_open(make_app, qt_loop, tmp_path,
                                                                             monkeypatch) -> None:
    said = _fake_notify_send(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")

    async def scenario() -> None:
        app = await make_app().start()
        w, alert = app.window, app.controller.fill_alert
        beeps: list[bool] = []
        alert.sound = lambda: beeps.append(True)
        box = QMessageBox(QMessageBox.Icon.Information, "Elsewhere", "The trader reads something else", parent=w)
        box.open()  # the window is not the one in front now
        await until(lambda: not w.isActiveWindow(), what="the dialog in front")
        app.type_line("buy 10 AAPL mkt")
        record = await until(lambda: app.orders() and app.orders()[0], what="the order")
        await until(lambda: record.status is OrderStatus.FILLED, what="its fill")
        await until(lambda: beeps, what="the beep")
        assert w.status.currentMessage().startswith("Filled: Bought 10 AAPL at ")
        assert alert.flash.rows() == [0]  # the fill's row in the blotter is lit
        assert "background" in w.status.fills.styleSheet()
        text = await until(lambda: said.exists() and said.read_text(), what="the desktop notification")
        assert "ibticket: fill|Filled: Bought 10 AAPL at " in text and f"(#{record.order_id})" in text
        box.close()
        await until(lambda: not alert.flash.rows(), 5, "the flash to fade")

    qt_loop.run_until_complete(scenario())


def test_a_burst_is_one_beep_and_switched_off_there_is_none(make_app, qt_loop) -> None:
    async def scenario() -> None:
        from ibticket.gui import fill_alert

        app = await make_app(partial_fills=5).start()
        alert = app.controller.fill_alert
        beeps: list[bool] = []
        alert.sound = lambda: beeps.append(True)
        app.type_line("buy 50 AAPL mkt")  # five executions
        record = await until(lambda: app.orders() and app.orders()[0], what="the order")
        await until(lambda: record.status is OrderStatus.FILLED and beeps, what="the fills and a beep")
        assert app.window.fills_model.rowCount() == 5
        # One beep now; the fills that came within QUIET_S of it ring once more at most, together.
        await until(lambda: not alert._timer.isActive(), fill_alert.QUIET_S + 2, "the quiet spell")
        assert 1 <= len(beeps) <= 2
        await until(lambda: not alert.flash.rows(), 5, "the flash to fade")

        app.settings.set_fill_alert(False)
        app.controller._settings_dialog()
        dialog = _settings_dialog(app)
        assert not dialog.fill_alert.isChecked()  # the dialog shows what the file holds
        dialog._accept()
        assert alert.enabled is False
        beeps.clear()
        app.window.status.clearMessage()
        app.type_line("sell 10 AAPL mkt")
        await until(lambda: app.window.fills_model.rowCount() > 5, what="the new fills")
        await until(lambda: app.orders()[-1].status is OrderStatus.FILLED, what="the sell filled")
        assert beeps == [] and not alert.flash.rows()
        assert not app.window.status.currentMessage().startswith("Filled")

    qt_loop.run_until_complete(scenario())


def _settings_dialog(app):
    from ibticket.gui.dialogs.settings import SettingsDialog

    return app.window.findChild(SettingsDialog)


def test_fills_restored_at_a_start_are_not_announced(make_app, qt_loop, tmp_path) -> None:
    async def scenario() -> None:
        first = await make_app(tmp_path / "day").start()
        first.type_line("buy 10 AAPL mkt")
        record = await until(lambda: first.orders() and first.orders()[0], what="the order")
        await until(lambda: record.status is OrderStatus.FILLED, what="its fill")
        await first.stop()

        again = make_app(tmp_path / "day")
        beeps: list[bool] = []
        again.controller.fill_alert.sound = lambda: beeps.append(True)
        await again.start()
        await until(lambda: again.window.fills_model.rowCount() == 1, what="the day's fill shown again")
        await until(lambda: not again.controller.bridge.replaying, what="the replay")
        assert beeps == [] and not again.controller.fill_alert.flash.rows()
        assert not again.window.status.currentMessage().startswith("Filled")

    qt_loop.run_until_complete(scenario())
