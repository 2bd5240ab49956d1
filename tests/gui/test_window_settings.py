"""A damaged settings file, identity file or order log folder never keeps the window from opening: it says
what it found, in a notice that stays until the trader dismisses it.

Every key the settings file holds that a start reads is covered: a bad value is ignored (its default is
used), named once with the file, the key and the value, and a start writes nothing over it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from windowkit import Unconnected, until

from ibticket.gui.app import _choice, run
from ibticket.gui.appsettings import AppSettings
from ibticket.gui.options import parse_options
from ibticket.trading.connection import ConnectionChoice

BAD_VALUES = [
    ("connection", "client_id", "abc"),
    ("connection", "client_id", "-5"),
    ("connection", "client_id", "99999999999"),
    ("connection", "client_id", ""),
    ("connection", "client_id", "@Invalid()"),
    ("connection", "port", "0"),
    ("connection", "port", "http"),
    ("connection", "mode", "paper"),
    ("connection", "host", "two words"),
    ("presets", "quantity", "-5"),
    ("presets", "quantity", "1.5"),
    ("presets", "default_quantity", "AAPL"),
    ("view", "theme", "purple"),
    ("view", "chart_mode", "bars"),
    ("view", "geometry", "@ByteArray(garbage)"),
    ("view", "state", "@ByteArray(garbage)"),
    ("view", "state", "12"),
    ("ticket", "recent", "@ByteArray(x)"),
    ("orderline", "history", "@Rect(1 2 3 4)"),
    ("General", "precautions", "off"),
]


@pytest.fixture
def open_window(qapp: QApplication, tmp_path: Path) -> Iterator[Callable[[], Unconnected]]:
    opened: list[Unconnected] = []

    def open_() -> Unconnected:
        opened.append(Unconnected(tmp_path))
        return opened[-1]

    yield open_
    for window in opened:
        window.discard()


def _start_writes(app) -> None:
    """What app.run writes at start, besides what the window reads: the connection it chose."""
    app.settings.set_connection(_choice(parse_options([]), app.settings.connection()))
    app.settings.sync()


@pytest.mark.parametrize("group, key, value", BAD_VALUES)
def test_a_bad_value_is_ignored_named_and_not_written_back(open_window, tmp_path, group, key, value) -> None:
    ini = tmp_path / "settings.ini"
    ini.write_text(f"[{group}]\n{key}={value}\n")
    before = ini.read_bytes()
    app = open_window()
    full = key if group == "General" else f"{group}/{key}"
    [problem] = app.settings.problems
    assert problem.key == full
    notice = app.window.notices.notices()["settings"]
    assert notice.startswith(f"Settings file {ini}: these values are ignored and their defaults used")
    assert f"   • {problem}" in notice.splitlines()
    assert app.window.notices.isVisible() and app.window.notices.text.toPlainText() == notice
    _start_writes(app)
    assert ini.read_bytes() == before
    app.settings.check()  # read again (the order desk reads precautions at every order): named once
    assert len(app.settings.problems) == 1


@pytest.mark.parametrize("value, shown", [("abc", "'abc'"), ("-5", "'-5'"), ("99999999999", "'99999999999'"),
                                          ("", "''")])
def test_a_bad_client_id_names_file_key_and_value(open_window, tmp_path, value, shown) -> None:
    ini = tmp_path / "settings.ini"
    ini.write_text(f"[connection]\nclient_id={value}\n")
    app = open_window()
    assert app.settings.connection().client_id is None  # the installation's own id, not -1
    assert (f"   • connection/client_id = {shown}: not a client id (a whole number from 0 to 2147483647); "
            "this installation's own client id is used") in app.window.notices.notices()["settings"]


def test_bad_entries_inside_stored_maps_are_named_one_by_one(open_window, tmp_path) -> None:
    ini = tmp_path / "settings.ini"
    qs = QSettings(str(ini), QSettings.Format.IniFormat)
    qs.setValue("precautions", {"size_limit": -5, "value_limit": "lots", "percent_from_market": 2.5})
    qs.setValue("presets/default_quantity", {"AAPL": 0, "MSFT": 200, "a b c d e f g h i j": 5})
    qs.sync()
    before = ini.read_bytes()
    app = open_window()
    p = app.settings.precautions()
    assert (p.size_limit, p.value_limit, p.percent_from_market) == (5000, 250_000.0, 2.5)
    assert app.settings.default_quantities() == {"MSFT": 200}
    assert [str(problem) for problem in app.settings.problems] == [
        "precautions = {size_limit: -5}: Size limit must be a whole number of shares above 0, not -5; its default "
        "is used",
        "precautions = {value_limit: 'lots'}: Total value limit must be an amount above 0, not 'lots'; its "
        "default is used",
        "presets/default_quantity = {'AAPL': 0}: not a symbol and a quantity from 1 to 10,000,000; that preset "
        "is ignored",
        "presets/default_quantity = {'a b c d e f g h i j': 5}: not a symbol and a quantity from 1 to "
        "10,000,000; that preset is ignored",
    ]
    _start_writes(app)
    assert ini.read_bytes() == before


@pytest.mark.parametrize("damage", ["folder", "format"])
def test_an_unreadable_settings_file_is_named_and_the_window_opens(open_window, tmp_path, damage) -> None:
    ini = tmp_path / "settings.ini"
    if damage == "folder":
        ini.mkdir()
    else:
        ini.write_bytes(b"[view\ntheme=dark\n\x00\xff garbage\n")
    app = open_window()
    notice = app.window.notices.notices()["settings"]
    if damage == "folder":
        assert notice == (f"Settings file {ini} cannot be used (it is a folder): every setting has its default, "
                          "and changes are not saved.")
    else:
        [copy] = tmp_path.glob("settings.ini.unreadable-*")
        assert copy.read_bytes() == ini.read_bytes()
        assert notice.startswith(f"Settings file {ini} has lines that are not settings: they are skipped, the "
                                 f"rest is used; a copy of it is kept as {copy.name}.")


def test_dismiss_hides_the_notices(open_window, tmp_path) -> None:
    (tmp_path / "settings.ini").write_text("[view]\ntheme=purple\n")
    app = open_window()
    bar = app.window.notices
    assert bar.isVisible()
    bar.dismiss_button.click()
    assert not bar.isVisible() and bar.notices() == {}


def test_a_start_remembers_only_what_changed(open_window, tmp_path) -> None:
    ini = tmp_path / "settings.ini"
    ini.write_text("[connection]\nclient_id=abc\nport=http\n")
    app = open_window()
    app.settings.set_connection(ConnectionChoice("tws", "127.0.0.1", 7497))  # as `ibticket --tws` does
    app.settings.sync()
    text = ini.read_text()
    assert "mode=tws" in text and "client_id=abc" in text and "port=http" in text
    app.settings.set_connection(ConnectionChoice("custom", "10.0.0.5", 4002, client_id=12))
    app.settings.sync()
    assert AppSettings(ini).connection() == ConnectionChoice("custom", "10.0.0.5", 4002, client_id=12)


def test_a_client_id_the_environment_spoils_keeps_the_window(make_app, qt_loop, monkeypatch) -> None:
    monkeypatch.setenv("IBTICKET_CLIENT_ID", "abc")

    async def scenario() -> None:
        app = make_app()
        await app.controller.start(ConnectionChoice("sim"))
        assert app.session is None and app.window.isVisible()
        message = "Cannot connect to the simulated paper account: IBTICKET_CLIENT_ID='abc' is not a whole number"
        assert app.window.notices.notices()["connection"] == message
        assert app.controller.failure == message and "Disconnected" in app.window.status.connection.text()

    qt_loop.run_until_complete(scenario())


def test_the_app_starts_on_a_settings_file_full_of_bad_values(qt_loop, tmp_path, monkeypatch) -> None:
    config = tmp_path / "config"
    monkeypatch.setenv("IBTICKET_CONFIG_DIR", str(config))
    ini = tmp_path / "s.ini"
    ini.write_text("[connection]\nclient_id=abc\nport=99999\nmode=paper\n[presets]\nquantity=-5\n"
                   "[view]\ntheme=purple\nchart_mode=bars\n[orderline]\nhistory=@Rect(1 2 3 4)\n")
    options = parse_options(["--settings", str(ini), "--log-dir", str(tmp_path / "log"),
                             "--data-dir", str(tmp_path / "data")])

    def window():
        return next((w for w in QApplication.topLevelWidgets() if w.objectName() == "mainWindow" and w.isVisible()
                     and "(connected)" in w.windowTitle()), None)

    async def scenario() -> tuple[int, str]:
        task = asyncio.ensure_future(run(QApplication.instance(), options))
        shown = await until(window, 20, "the connected window")
        notice = shown.notices.notices()["settings"]
        assert shown.ticket.quantity.value() == 100
        held = {int(p.stem.split("-")[1]) for p in (tmp_path / "log").glob("client-*.lock")}
        shown.close()
        return await asyncio.wait_for(task, 20), notice, held

    code, notice, held = qt_loop.run_until_complete(scenario())
    assert code == 0
    for named in ("connection/client_id = 'abc'", "connection/port = '99999'", "connection/mode = 'paper'",
                  "presets/quantity = '-5'", "view/theme = 'purple'", "view/chart_mode = 'bars'",
                  "orderline/history = "):
        assert named in notice
    # The installation's own id was used, not -1; and after a whole session the bad values are still there.
    assert held == {json.loads((config / "identity.json").read_text())["client_id"]}
    text = ini.read_text()
    for line in ("client_id=abc", "port=99999", "mode=paper", "quantity=-5", "theme=purple", "chart_mode=bars",
                 "history=@Rect(1 2 3 4)"):
        assert line in text


def test_a_damaged_identity_file_is_named_and_the_window_connects(make_app, qt_loop, tmp_path,
                                                                 monkeypatch) -> None:
    config = tmp_path / "config"
    (config / "identity.json").mkdir(parents=True)
    monkeypatch.setenv("IBTICKET_CONFIG_DIR", str(config))

    async def scenario() -> None:
        app = await make_app().start(ConnectionChoice("sim"))
        notice = app.window.notices.notices()["identity"]
        client_id = app.session.settings.client_id
        [aside] = config.glob("identity.json.damaged-*")
        assert notice.startswith(f"{config / 'identity.json'} was damaged (it is a folder); it is kept as "
                                 f"{aside.name}. Its client id could not be read; this installation now uses "
                                 f"client id {client_id}.")
        assert json.loads((config / "identity.json").read_text()) == {"client_id": client_id}

    qt_loop.run_until_complete(scenario())


def _make_writable(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o755)


def test_an_unwritable_log_folder_is_named_once_and_not_retried(make_app, qt_loop, tmp_path,
                                                                 unwritable_folder) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "log").symlink_to(unwritable_folder)  # the window's log folder (windowkit puts it at root/log)

    async def scenario() -> None:
        app = make_app(root)
        await app.controller.start(ConnectionChoice("sim", client_id=31))
        session, w = app.session, app.window
        await until(lambda: session.status.phase == "disconnected" and session.status.message, 10,
                    "the session to give up")
        assert session._runner.done() and not session.core.is_connected  # no retry loop
        assert session.core.gateway is None  # not even started: nothing could be sent
        message = session.status.message
        assert message.startswith(f"The order log folder {root / 'log'} cannot be written (")
        assert message.endswith("): nothing can be sent. Make it writable, or choose another order log folder, "
                                "then connect again (File → Reconnect now).")
        assert w.notices.notices()["connection"] == message
        assert "Disconnected" in w.status.connection.text() and "Reconnecting" not in w.status.connection.text()
        assert w.status.log.isVisible() and w.status.log.text() == "ORDER LOG DEGRADED"
        assert "cannot write to the order log" in w.status.log.toolTip()

        _make_writable(unwritable_folder)  # the trader fixes it, and reconnects
        w.act_reconnect.trigger()
        await until(lambda: session.core.is_connected, 15, "the reconnect")
        await until(lambda: not w.status.log.isVisible(), 10, "the log's health to clear")
        assert "connection" not in w.notices.notices()

    qt_loop.run_until_complete(scenario())
