"""The standalone command: starts from the installed package, prints its port, stops on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from ib_insync import IB, MarketOrder, Stock

from ibticket.gateway.cli import build_parser, config_from_args, main

from .rawclient import RawPeer, frame, place_order_fields, req_executions

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


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_sigterm_stops_the_command_promptly_while_a_client_floods_it():
    proc, port = start([sys.executable, "-m", "ibticket.gateway", "--partial-fills", "100"])
    hostile = RawPeer(port, timeout=20.0)
    try:
        hostile.handshake(66)
        hostile.send(frame(place_order_fields(1, MarketOrder("BUY", 100))))
        frames = hostile.drain(quiet=0.3, limit=5.0)
        assert sum(1 for f in frames if f[0] == "11") == 100  # its 100 executions
        # 5,000 replays of them in one write, and after the first reply it never reads again
        sender = threading.Thread(target=hostile.send, daemon=True,
                                  args=(b"".join(req_executions(i) for i in range(5000)),))
        sender.start()
        # Signal once the gateway answers the flood (a gateway hogged by it never does: then after 2 s).
        deadline = time.monotonic() + 2.0
        while (reply := hostile.read_frame(deadline - time.monotonic())) is not None and reply[0] != "11":
            pass
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        out, err = proc.communicate(timeout=15)
        took = time.monotonic() - started
    finally:
        hostile.close()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert took < 2.0, f"took {took:.1f} s to stop"


def test_limit_flags_reach_the_config():
    args = build_parser().parse_args(["--max-clients", "4", "--handshake-timeout", "2.5", "--frame-timeout", "1"])
    config = config_from_args(args)
    assert (config.max_clients, config.handshake_timeout, config.frame_timeout) == (4, 2.5, 1.0)
    defaults = config_from_args(build_parser().parse_args([]))
    assert (defaults.max_clients, defaults.handshake_timeout, defaults.frame_timeout) == (32, 10.0, 5.0)


@pytest.mark.parametrize(("flags", "words"), [(["--max-clients", "0"], "max_clients must be >= 1"),
                                              (["--frame-timeout", "0"], "frame_timeout must be > 0"),
                                              (["--handshake-timeout", "-1"], "handshake_timeout must be > 0")])
def test_out_of_range_limit_flags_are_refused_clearly(flags, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*flags, "--port", "0"])
    assert exit_info.value.code == 2
    assert words in capsys.readouterr().err
