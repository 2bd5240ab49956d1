"""The `ibticket` command as a trader runs it: a real process, offscreen."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ibticket import __version__


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IBTICKET_TWS")}
    env.update(QT_QPA_PLATFORM="offscreen", IBTICKET_CONFIG_DIR=str(tmp_path / "config"))
    return env


def _args(tmp_path: Path) -> list[str]:
    return [sys.executable, "-m", "ibticket.gui", "--settings", str(tmp_path / "s.ini"), "--log-dir",
            str(tmp_path / "log"), "--data-dir", str(tmp_path / "data")]


def test_version_needs_no_window(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "ibticket.gui", "--version"], capture_output=True, text=True,
                         timeout=30, env=_env(tmp_path))
    assert out.returncode == 0 and out.stdout.strip() == f"ibticket {__version__}"


def test_smoke_connects_and_reports_its_start_up_times(tmp_path: Path) -> None:
    out = subprocess.run([*_args(tmp_path), "--smoke"], capture_output=True, text=True, timeout=60,
                         env=_env(tmp_path))
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert lines[0].startswith("first window: ") and lines[0].endswith(" s")
    assert lines[1].startswith("connected: ") and lines[2].startswith("ready (first AAPL quote): ")
    assert lines[3].startswith("chart created: ")
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("bad, says", [(["--port", "70000"], "outside 1-65535"),
                                       (["--client-id", "x"], "not a client id")])
def test_bad_options_are_refused_with_the_reason(tmp_path: Path, bad: list[str], says: str) -> None:
    out = subprocess.run([*_args(tmp_path), *bad], capture_output=True, text=True, timeout=30, env=_env(tmp_path))
    assert out.returncode == 2 and says in out.stderr


def test_sigterm_closes_the_app_cleanly(tmp_path: Path) -> None:
    proc = subprocess.Popen(_args(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(tmp_path))
    try:
        deadline = time.monotonic() + 30
        # Connected once the simulated account's state file exists and the client id lock is held.
        while not list((tmp_path / "log").glob("client-*.lock")) or not (tmp_path / "data").exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the app did not connect"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err


def test_closing_the_window_disconnects_and_ends_the_app(qt_loop, tmp_path: Path, monkeypatch) -> None:
    import asyncio

    from PySide6.QtWidgets import QApplication
    from windowkit import until

    from ibticket.gui.app import run
    from ibticket.gui.options import parse_options

    monkeypatch.setenv("IBTICKET_CONFIG_DIR", str(tmp_path / "config"))
    options = parse_options(_args(tmp_path)[3:])

    def window():
        return next((w for w in QApplication.topLevelWidgets() if w.objectName() == "mainWindow" and w.isVisible()
                     and "(connected)" in w.windowTitle()), None)

    async def scenario() -> int:
        task = asyncio.ensure_future(run(QApplication.instance(), options))
        (await until(window, 20, "the connected window")).close()  # what File -> Quit and the title bar do
        return await asyncio.wait_for(task, 20)

    QApplication.instance().setQuitOnLastWindowClosed(True)  # as a fresh QApplication has it
    assert qt_loop.run_until_complete(scenario()) == 0
    from ibticket.broker.identity import is_client_id_locked

    held = [p for p in (tmp_path / "log").glob("client-*.lock")
            if is_client_id_locked(tmp_path / "log", int(p.stem.split("-")[1]))]
    assert held == []


def test_smoke_starts_on_a_bad_client_id_names_it_and_leaves_it(tmp_path: Path) -> None:
    ini = tmp_path / "s.ini"
    ini.write_text("[connection]\nclient_id=abc\n")
    for _ in range(2):  # the second start too: nothing was written back (it was -1, and crashed every start)
        out = subprocess.run([*_args(tmp_path), "--smoke"], capture_output=True, text=True, timeout=60,
                             env=_env(tmp_path))
        assert out.returncode == 0, out.stderr[-2000:]
        assert "Traceback" not in out.stderr
        assert (f"smoke: notice: Settings file {ini}: these values are ignored and their defaults used"
                in out.stderr)
        assert "   • connection/client_id = 'abc': not a client id" in out.stderr
        assert "client_id=abc" in ini.read_text()


def test_smoke_starts_on_a_damaged_identity_file_and_names_it(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "identity.json").write_text('{"client_id": 345')  # cut short
    out = subprocess.run([*_args(tmp_path), "--smoke"], capture_output=True, text=True, timeout=60,
                         env=_env(tmp_path))
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    assert "It held client id 345, which this installation keeps using." in out.stderr
    assert (tmp_path / "log" / "client-345.lock").exists()


def test_smoke_fails_at_once_on_a_log_folder_it_cannot_write(tmp_path: Path) -> None:
    (tmp_path / "log").write_text("a file where the order log folder should be")  # refused to root as well
    started = time.monotonic()
    out = subprocess.run([*_args(tmp_path), "--smoke"], capture_output=True, text=True, timeout=60,
                         env=_env(tmp_path))
    assert out.returncode == 1
    assert time.monotonic() - started < 20  # not the 30 s a connection gets
    assert f"smoke: failed: The order log folder {tmp_path / 'log'} cannot be written (" in out.stderr
    assert "Traceback" not in out.stderr and "Could not connect" not in out.stderr


def test_a_second_instance_on_a_taken_client_id_says_which_and_how_in_a_dialog_and_exits(
        qt_loop, tmp_path: Path, monkeypatch, capsys) -> None:
    import asyncio

    from PySide6.QtWidgets import QApplication, QMessageBox
    from windowkit import until

    from ibticket.broker.identity import ClientIdLock
    from ibticket.gui.app import run
    from ibticket.gui.options import parse_options

    monkeypatch.setenv("IBTICKET_CONFIG_DIR", str(tmp_path / "config"))
    first = ClientIdLock(tmp_path / "log", 41)  # the first ibticket: this process holds the client id's lock
    first.acquire()
    options = parse_options([*_args(tmp_path)[3:], "--client-id", "41"])

    def dialog():
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)
                     and w.objectName() == "inUseDialog" and w.isVisible()), None)

    async def scenario() -> tuple[int, str, str]:
        task = asyncio.ensure_future(run(QApplication.instance(), options))
        box = await until(dialog, 20, "the dialog")
        words = (box.text(), box.informativeText())
        box.close()  # what its Close button does
        return await asyncio.wait_for(task, 20), *words

    try:
        code, text, detail = qt_loop.run_until_complete(scenario())
    finally:
        first.release()
    assert code == 3
    assert text == (f"Another ibticket (process {os.getpid()}) uses client id 41 with the order log folder "
                    f"{tmp_path / 'log'}.")
    assert "--client-id 42 --log-dir" in detail and f"--data-dir {tmp_path / 'data-42'}" in detail
    assert text in capsys.readouterr().err  # the same on stderr


def test_a_second_instance_exits_non_zero_and_says_so_on_stderr(tmp_path: Path) -> None:
    from ibticket.broker.identity import ClientIdLock

    first = ClientIdLock(tmp_path / "log", 43)
    first.acquire()
    try:
        out = subprocess.run([*_args(tmp_path), "--client-id", "43", "--smoke"], capture_output=True, text=True,
                             timeout=60, env=_env(tmp_path))
    finally:
        first.release()
    assert out.returncode == 3, out.stderr[-2000:]
    assert f"ibticket: Another ibticket (process {os.getpid()}) uses client id 43" in out.stderr
    assert "--client-id 44 --log-dir" in out.stderr and "Traceback" not in out.stderr
