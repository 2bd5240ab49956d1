"""The embedded paper gateway in a process of its own, with a control channel and two probes.

The window benchmarks measure what a trader feels, so the gateway must not share the app's process (and
its GIL), as TWS does not. ``GatewayProcess`` starts ``python bench/benchgw.py CONFIG`` and talks to it over
a ``multiprocessing.connection`` socket on 127.0.0.1 (random auth key):

* ``call(name, *args)``: a ``GatewayThread`` method (``set_market_orders_fill``, ``executions``, ``orders`` …);
  dataclass results come back as dicts, so the caller needs nothing of ibticket;
* ``fault(name, *args)``: a ``gw.faults`` method;
* ``stamps()``: the probes' times, ``time.monotonic()`` in the gateway process (CLOCK_MONOTONIC is one clock
  for every process on Linux, so they compare with the client's):
  ``place``: order ref -> when its placeOrder was read; ``exec``: exec id -> when the execDetails frame
  carrying it was handed to the socket (the gateway batches one event-loop turn's frames into one write).

Only this module's top level is imported by the bare clients, which may run in a venv without ibticket.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class Control:
    """A connection to a running benchgw process (stdlib only)."""

    def __init__(self, port: int, authkey: bytes) -> None:
        self._conn: Connection = Client(("127.0.0.1", port), authkey=authkey)
        self._lock = threading.Lock()

    def _ask(self, *request: Any) -> Any:
        with self._lock:
            self._conn.send(request)
            ok, value = self._conn.recv()
        if not ok:
            raise RuntimeError(f"gateway control {request[0]} {request[1:]!r}: {value}")
        return value

    def call(self, name: str, *args: Any) -> Any:
        return self._ask("call", name, args)

    def fault(self, name: str, *args: Any) -> Any:
        return self._ask("fault", name, args)

    def stamps(self) -> dict[str, dict[str, float]]:
        return self._ask("stamps")

    def release(self) -> None:
        """Market orders fill from now on (the burst starts)."""
        self.call("set_market_orders_fill", True)

    def close(self) -> None:
        self._conn.close()


class GatewayProcess:
    """``with GatewayProcess(partial_fills=100, ...) as gw:`` -- gw.port, gw.control (a Control)."""

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.port = 0
        self.control_port = 0
        self.authkey = b""
        self._proc: subprocess.Popen[str] | None = None
        self.control: Control | None = None

    def __enter__(self) -> GatewayProcess:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__)), json.dumps(self.config)], stdout=subprocess.PIPE, text=True, env=env,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._proc.wait(10)
            raise RuntimeError(f"benchgw did not start (exit status {self._proc.returncode})")
        hello = json.loads(line)
        self.port, self.control_port, self.authkey = hello["port"], hello["control"], bytes.fromhex(hello["key"])
        self.control = Control(self.control_port, self.authkey)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.control is not None:
            with contextlib.suppress(OSError):
                self.control._conn.send(("stop",))
            self.control.close()
        if self._proc is not None:
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)

    def client_args(self) -> list[str]:
        """Arguments a client script takes to reach this gateway and its control."""
        return ["--port", str(self.port), "--control", str(self.control_port), "--key", self.authkey.hex()]


# --- the gateway process -------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Probes:
    """Times of placeOrder reads and execDetails writes, stamped on the gateway's loop."""

    def __init__(self) -> None:
        self.place: dict[str, float] = {}
        self.exec: dict[str, float] = {}

    def install(self, gateway: Any) -> None:
        from ibticket.gateway.session import ClientSession

        desk = gateway.desk
        place_order = desk.place_order
        probes = self

        def stamped_place(client_id: int, req: Any) -> None:
            probes.place.setdefault(req.order_ref, time.monotonic())
            place_order(client_id, req)

        desk.place_order = stamped_place
        send, write = ClientSession.send, ClientSession._write

        def stamped_send(session: Any, fields: Any) -> None:
            if fields and fields[0] == 11 and fields[1] == -1:  # a live execDetails
                session.__dict__.setdefault("_bench_execs", []).append(fields[14])
            send(session, fields)

        def stamped_write(session: Any, data: bytes) -> None:
            write(session, data)
            pending = session.__dict__.get("_bench_execs")
            if pending:
                now = time.monotonic()
                for exec_id in pending:
                    probes.exec.setdefault(exec_id, now)
                pending.clear()

        ClientSession.send = stamped_send  # type: ignore[method-assign]
        ClientSession._write = stamped_write  # type: ignore[method-assign]


def serve(config: dict[str, Any]) -> None:
    from ibticket.gateway import GatewayConfig, GatewayThread

    gw = GatewayThread(GatewayConfig(**config)).start()
    probes = Probes()
    gw.call(lambda: probes.install(gw.gateway))
    authkey = os.urandom(16)
    listener = Listener(("127.0.0.1", 0), authkey=authkey)
    print(json.dumps({"port": gw.port, "control": listener.address[1], "key": authkey.hex()}), flush=True)
    stop = threading.Event()

    def handle(conn: Connection) -> None:
        with conn:
            while not stop.is_set():
                try:
                    request = conn.recv()
                except (EOFError, OSError):
                    return
                if request[0] == "stop":
                    stop.set()
                    return
                try:
                    if request[0] == "call":
                        value = _plain(getattr(gw, request[1])(*request[2]))
                    elif request[0] == "fault":
                        value = _plain(getattr(gw.faults, request[1])(*request[2]))
                    elif request[0] == "stamps":
                        value = gw.call(lambda: {"place": dict(probes.place), "exec": dict(probes.exec)})
                    else:
                        raise ValueError(f"unknown request {request[0]!r}")
                    conn.send((True, value))
                except Exception as exc:
                    conn.send((False, f"{type(exc).__name__}: {exc}"))

    def accept() -> None:
        while not stop.is_set():
            try:
                conn = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    stop.wait()
    listener.close()
    gw.stop()


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
