"""The standalone command: starts from the installed package, prints its port, stops on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ib_insync import IB, Stock

from ibticket.gateway.cli import main

SCRIPT = Path(sys.executable).with_name("ibticket-gateway")


def start(command: list[str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([*command, "--port", "0", "--tick-interval", "none", "--seed", "4"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if match is None:
        proc.kill()
        raise AssertionError(f"unexpected first line {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}")
    return proc, int(match.group(1))


async def qualify_through(port: int) -> int:
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=1, timeout=3)
    (contract,) = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    ib.disconnect()
    return contract.conId


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize(
    ("command", "stop_signal"),
    [
        pytest.param([str(SCRIPT)], signal.SIGTERM, id="console-script-sigterm"),
        pytest.param([sys.executable, "-m", "ibticket.gateway"], signal.SIGINT, id="module-sigint"),
    ],
)
def test_command_serves_and_stops_cleanly(command, stop_signal):
    if command[0] == str(SCRIPT) and not SCRIPT.exists():
        pytest.skip("ibticket-gateway not installed (pip install -e . --no-deps)")
    proc, port = start(command)
    try:
        assert asyncio.run(qualify_through(port)) == 265598
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.0.1", "example.org"])
def test_command_refuses_non_loopback_hosts(host, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--host", host, "--port", "0"])
    assert exit_info.value.code == 2
    assert "only loopback addresses" in capsys.readouterr().err


def test_command_reports_a_busy_port(capsys):
    async def occupy_and_run() -> int:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            return await asyncio.to_thread(main, ["--port", str(port), "--tick-interval", "none"])
        finally:
            server.close()

    assert asyncio.run(occupy_and_run()) == 1
    assert "cannot listen on 127.0.0.1" in capsys.readouterr().err
