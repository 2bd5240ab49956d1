"""One stable client id per installation, one process per client id and log folder, and a clear word
about orders in the log that belong to another client id.

TWS sends an order's fills only to the client id that placed it (or its Master API client ID), so an app
that restarts under another id recovers nothing of what happened while it was down.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ibticket import OrderStatus
from ibticket.broker import ClientIdInUse, resolve_settings, stable_client_id
from ibticket.broker.errors import LogFolderUnwritable
from ibticket.broker.identity import (
    DEFAULT_CLIENT_ID,
    NEW_ID_RANGE,
    ClientIdLock,
    is_client_id_locked,
    load_identity,
)

from .conftest import Watcher, eventually

# -- the stable id ---------------------------------------------------------------------------------------


def test_first_use_chooses_an_id_and_every_later_use_reads_it(tmp_path: Path) -> None:
    config = tmp_path / "config"
    chosen = stable_client_id(config)
    assert chosen in NEW_ID_RANGE
    assert json.loads((config / "identity.json").read_text()) == {"client_id": chosen}
    assert [stable_client_id(config) for _ in range(3)] == [chosen] * 3
    # Another process (the next start of the app) reads the same id.
    code = "import sys; from ibticket.broker import stable_client_id; print(stable_client_id(sys.argv[1]))"
    out = subprocess.run([sys.executable, "-c", code, str(config)], capture_output=True, text=True, check=True)
    assert int(out.stdout) == chosen


def test_first_starts_racing_agree_on_one_id(tmp_path: Path) -> None:
    config = tmp_path / "config"
    code = "import sys; from ibticket.broker import stable_client_id; print(stable_client_id(sys.argv[1]))"
    starts = [subprocess.Popen([sys.executable, "-c", code, str(config)], stdout=subprocess.PIPE, text=True)
              for _ in range(4)]
    ids = {int(p.communicate(timeout=30)[0]) for p in starts}
    assert ids == {json.loads((config / "identity.json").read_text())["client_id"]}
    assert [p.name for p in config.iterdir()] == ["identity.json"]  # no scratch files left


def test_config_folder_comes_from_the_argument_then_the_environment(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "identity.json").write_text('{"client_id": 345}')
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "identity.json").write_text('{"client_id": 678}')
    monkeypatch.setenv("IBTICKET_CONFIG_DIR", str(tmp_path / "b"))
    assert stable_client_id() == 678
    assert stable_client_id(tmp_path / "a") == 345
    assert resolve_settings().client_id == 678
    assert resolve_settings(config_dir=tmp_path / "a").client_id == 345


def test_an_explicit_client_id_wins_over_the_stable_one(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "identity.json").write_text('{"client_id": 345}')
    assert resolve_settings(config_dir=tmp_path).client_id == 345
    monkeypatch.setenv("IBTICKET_CLIENT_ID", "12")
    assert resolve_settings(config_dir=tmp_path).client_id == 12
    assert resolve_settings(client_id=0, config_dir=tmp_path).client_id == 0


@pytest.mark.parametrize(
    "content, held",
    [(b"", None), (b"{", None), (b"\xff\xfe", None), (b'{"client_id": "x"}', None), (b'{"client_id": -3}', -3),
     (b"[1]", None), (b'{"id": 4}', None), (b'{"client_id": 99999999999}', 99999999999),
     (b'{"client_id": true}', None)],
)
def test_a_damaged_identity_file_is_moved_aside_and_a_new_id_named(tmp_path: Path, content: bytes, held) -> None:
    path = tmp_path / "identity.json"
    path.write_bytes(content)
    identity = load_identity(tmp_path)
    assert identity.client_id in NEW_ID_RANGE
    assert json.loads(path.read_text()) == {"client_id": identity.client_id}
    [aside] = tmp_path.glob("identity.json.damaged-*")
    assert aside.read_bytes() == content  # kept as it was, beside the new file
    said = f"It held client id {held}, which is not a client id" if held is not None else \
        "Its client id could not be read"
    assert identity.notice == (
        f"{path} was damaged (it holds no client id); it is kept as {aside.name}. {said}; this installation "
        f"now uses client id {identity.client_id}. IB reports an order's fills only to the client id that "
        "placed it: for orders placed under the old id, start with --client-id (or IBTICKET_CLIENT_ID) set to it."
    )
    assert stable_client_id(tmp_path) == identity.client_id and load_identity(tmp_path).notice == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_identity_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "identity.json"
    path.write_text('{"client_id": 345}')
    path.chmod(0)
    identity = load_identity(tmp_path)
    assert identity.client_id in NEW_ID_RANGE  # what it held cannot be read either
    assert identity.notice.startswith(f"{path} was damaged (it cannot be read: Permission denied); it is kept as ")


@pytest.mark.parametrize("content", [b'{"client_id": 345', b'{"client_id": "345"}', b'{"client_id": 345,}\x00'])
def test_a_damaged_identity_file_that_still_shows_its_id_keeps_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "identity.json"
    path.write_bytes(content)
    identity = load_identity(tmp_path)
    assert identity.client_id == 345 and json.loads(path.read_text()) == {"client_id": 345}
    [aside] = tmp_path.glob("identity.json.damaged-*")
    assert identity.notice == (f"{path} was damaged (it holds no client id); it is kept as {aside.name}. It held "
                               "client id 345, which this installation keeps using.")
    assert resolve_settings(config_dir=tmp_path).client_id == 345


def test_a_folder_in_place_of_the_identity_file_is_moved_aside(tmp_path: Path) -> None:
    (tmp_path / "identity.json").mkdir()
    (tmp_path / "identity.json" / "something").write_text("kept")
    settings = resolve_settings(config_dir=tmp_path)
    assert settings.client_id in NEW_ID_RANGE
    [aside] = tmp_path.glob("identity.json.damaged-*")
    assert (aside / "something").read_text() == "kept"
    assert settings.identity_notice.startswith(f"{tmp_path / 'identity.json'} was damaged (it is a folder); it is "
                                               f"kept as {aside.name}. Its client id could not be read; ")


def test_a_pipe_in_place_of_the_identity_file_does_not_block_the_start(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "identity.json")
    identity = load_identity(tmp_path)  # reading a pipe would wait forever for a writer
    assert identity.client_id in NEW_ID_RANGE and "not a regular file" in identity.notice


def test_a_damaged_identity_file_that_cannot_be_moved_keeps_its_id_for_this_start(tmp_path: Path,
                                                                                  monkeypatch) -> None:
    path = tmp_path / "identity.json"
    path.write_bytes(b'{"client_id": 345')

    def refuse(*_args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "rename", refuse)  # the boundary: a config folder that cannot be written
    identity = load_identity(tmp_path)
    assert identity.client_id == 345 and path.read_bytes() == b'{"client_id": 345'
    assert identity.notice == (f"{path} is damaged (it holds no client id) and could not be moved aside "
                               "(Permission denied); this start uses client id 345.")


def test_an_unwritable_config_folder_falls_back_to_the_default_id(tmp_path: Path, caplog) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING):
        identity = load_identity(blocker / "config")
    assert identity.client_id == DEFAULT_CLIENT_ID
    assert identity.notice.startswith(f"Cannot save a client id in {blocker / 'config'} (")
    assert identity.notice in caplog.text


def test_restart_with_the_stable_id_recovers_fills_made_while_down(make_broker, gateway, tmp_path) -> None:
    # An id chosen on an earlier day; the app is started with no client id, as a trader starts it.
    config = Path(os.environ["IBTICKET_CONFIG_DIR"])
    config.mkdir(parents=True)
    (config / "identity.json").write_text('{"client_id": 345}')
    gateway.set_price("MSFT", 400.0)
    first = make_broker(client_id=None)
    assert first.settings.client_id == 345
    assert first.connect(timeout=5)
    order = first.execute_limit_order("MSFT", 30, 390.0, "buy")
    assert order.order_ref.startswith("ibt-345-")
    eventually(lambda: any(o.order_ref.startswith(order.order_ref) for o in gateway.orders()),
               what="the order at the gateway")
    first.close()

    gateway.set_price("MSFT", 389.0)  # fills while the app is down
    eventually(lambda: sum(e.shares for e in gateway.executions()) == 30, what="the fill at the gateway")

    second = make_broker(client_id=None)
    assert second.settings.client_id == 345
    assert second.connect(timeout=5), second.last_error
    restored = second.get_order_status(order.order_id)
    assert restored.status is OrderStatus.FILLED and restored.filled_quantity == 30
    assert second.core.foreign_orders == {}


# -- one process per client id and log folder ------------------------------------------------------------


def test_a_second_broker_on_the_same_id_and_log_is_refused(make_broker, log_dir) -> None:
    first = make_broker()
    assert first.connect(timeout=5)
    second = make_broker()
    with pytest.raises(ClientIdInUse) as info:
        second.connect(timeout=5)
    assert str(info.value) == (
        f"Client id 11 is already in use by process {os.getpid()} with the order log in {log_dir}. "
        "Close that ibticket first, or give this one another client id (client_id=… or IBTICKET_CLIENT_ID)."
    )
    assert (info.value.client_id, info.value.folder, info.value.pid) == (11, log_dir, os.getpid())
    assert not second.is_connected() and first.is_connected()

    other_id = make_broker(client_id=12)  # another client id may share the log
    assert other_id.connect(timeout=5)

    first.close()  # releases the id
    assert second.connect(timeout=5), second.last_error


def test_disconnect_releases_the_id_and_connect_takes_it_again(make_broker, log_dir) -> None:
    first = make_broker()
    assert first.connect(timeout=5)
    assert is_client_id_locked(log_dir, 11)
    first.disconnect()
    assert not is_client_id_locked(log_dir, 11)
    assert first.connect(timeout=5)
    assert is_client_id_locked(log_dir, 11)


def test_the_lock_dies_with_its_process(tmp_path: Path) -> None:
    code = (
        "import sys; from ibticket.broker.identity import ClientIdLock\n"
        "lock = ClientIdLock(sys.argv[1], 11); lock.acquire(); print('held', flush=True); sys.stdin.read()\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        lock = ClientIdLock(tmp_path, 11)
        with pytest.raises(ClientIdInUse, match=f"process {holder.pid} ") as info:
            lock.acquire()
        assert info.value.pid == holder.pid
    finally:
        holder.send_signal(signal.SIGKILL)  # no clean-up code runs: the kernel drops the lock
        holder.wait(10)
    lock.acquire()
    assert lock.held and (tmp_path / "client-11.lock").read_text().strip() == str(os.getpid())
    lock.release()
    assert not is_client_id_locked(tmp_path, 11)


def test_an_unwritable_log_folder_refuses_the_lock_and_says_why(unwritable_folder: Path) -> None:
    for client_id in (31, 32):  # 31's lock file exists from an earlier run; 32's would have to be created
        with pytest.raises(LogFolderUnwritable) as info:
            ClientIdLock(unwritable_folder, client_id).acquire()
        assert str(info.value).startswith(f"The order log folder {unwritable_folder} cannot be written (")
        assert str(info.value).endswith("): nothing can be sent. Make it writable, or choose another order log "
                                        "folder, then connect again.")
    assert sorted(p.name for p in unwritable_folder.iterdir()) == ["client-31.lock"]


def test_a_file_in_place_of_the_log_folder_refuses_the_lock(tmp_path: Path) -> None:
    (tmp_path / "log").write_text("not a folder")
    with pytest.raises(LogFolderUnwritable, match="cannot be written"):
        ClientIdLock(tmp_path / "log", 31).acquire()
    with pytest.raises(LogFolderUnwritable, match="cannot be written"):
        ClientIdLock(tmp_path / "log" / "sub", 31).acquire()


def test_a_broker_on_an_unwritable_log_folder_refuses_to_connect(make_broker, unwritable_folder) -> None:
    broker = make_broker(log_dir=str(unwritable_folder), client_id=31)
    with pytest.raises(LogFolderUnwritable):  # not False-and-retry: only a change of setup can help
        broker.connect(timeout=5)
    assert not broker.is_connected()


# -- orders of another client id in the log --------------------------------------------------------------


def test_orders_of_another_client_id_in_the_log_are_named(make_broker, gateway, caplog) -> None:
    gateway.set_price("MSFT", 400.0)
    first = make_broker(client_id=41)
    assert first.connect(timeout=5)
    watch = Watcher(first)
    working = first.execute_limit_order("MSFT", 10, 390.0, "buy")
    done = first.execute_market_order("AAPL", 5, "buy")
    watch.wait_status(done.order_id, OrderStatus.FILLED)
    first.close()

    with caplog.at_level(logging.WARNING, logger="ibticket.broker"):
        second = make_broker(client_id=42)
        assert second.connect(timeout=5)
    # Only the unfinished order matters: the filled one has nothing left to recover.
    assert second.core.foreign_orders == {41: [working.order_ref]}
    assert second.core.last_report.foreign == {41: 1}
    assert "1 left to client id 41 (connect as client id 41 to recover them)" in second.core.last_reconcile
    warning = next(r.getMessage() for r in caplog.records if "client id 41" in r.getMessage())
    assert f"1 unfinished order of client id 41 ({working.order_ref})" in warning
    assert "This ibticket runs as client id 42" in warning
    assert "connect as client id 41 (client_id=… or IBTICKET_CLIENT_ID)" in warning
    assert second.get_all_orders() == []
    second.close()

    # Following the advice recovers the order.
    again = make_broker(client_id=41)
    assert again.connect(timeout=5)
    assert [o.order_ref for o in again.get_active_orders()] == [working.order_ref]
    assert again.core.foreign_orders == {}


def test_orders_of_a_running_client_id_are_its_own_business(make_broker, gateway, caplog) -> None:
    gateway.set_price("MSFT", 400.0)
    running = make_broker(client_id=41)
    assert running.connect(timeout=5)
    running.execute_limit_order("MSFT", 10, 390.0, "buy")
    with caplog.at_level(logging.WARNING, logger="ibticket.broker"):
        other = make_broker(client_id=42)
        assert other.connect(timeout=5)
    assert other.core.foreign_orders == {}
    assert "client id 41" not in caplog.text


def test_two_broker_cores_on_one_loop_same_id_and_log(gateway, log_dir) -> None:
    # The desktop app drives BrokerCore itself: the guard lives there, not in the sync facade.
    import asyncio

    from ibticket import OrderExecutionHandler, OrderLogger
    from ibticket.broker import BrokerCore

    async def scenario() -> None:
        settings = resolve_settings(port=gateway.port, client_id=23)
        cores = [
            BrokerCore(OrderExecutionHandler(logger=OrderLogger(log_dir=log_dir, log_to_console=False)), settings)
            for _ in range(2)
        ]
        await cores[0].connect(5)
        with pytest.raises(ClientIdInUse, match=f"Client id 23 is already in use by process {os.getpid()} "):
            await cores[1].connect(5)
        assert cores[1].state.value == "Disconnected"
        await cores[0].disconnect()
        await cores[1].connect(5)
        assert cores[1].is_connected
        await cores[1].disconnect()

    asyncio.run(scenario())
