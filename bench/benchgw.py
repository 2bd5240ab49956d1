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
  The probes are a wire tap (``PaperGateway.add_wire_tap``), not patches of the gateway's internals.

Only this module's top level is imported by the bare clients, which may run in a venv without ibticket.

    python bench/benchgw.py --quick    # a self-test: a gateway process, a bare ib_insync client, both probes
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
from collections.abc import Sequence
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


# A live execDetails frame starts, after its 4-byte length, with message id 11 and request id -1.
LIVE_EXEC_DETAILS = b"11\0-1\0"
EXEC_ID_FIELD = 14  # [11, -1, order id, 11 contract fields, exec id, ...]: see gateway messages.exec_details


class Probes:
    """Times of placeOrder reads and execDetails writes: a wire tap (PaperGateway.add_wire_tap), so it is
    called on the gateway's loop from its read and write paths, wherever those are."""

    def __init__(self) -> None:
        from ibticket.gateway.requests import parse_place_order

        self._parse_place_order = parse_place_order
        self.place: dict[str, float] = {}
        self.exec: dict[str, float] = {}

    def request(self, client_id: int | None, fields: list[str]) -> None:
        if fields and fields[0] == "3":  # placeOrder
            now = time.monotonic()
            self.place.setdefault(self._parse_place_order(fields).order_ref, now)

    def written(self, client_id: int | None, frames: Sequence[bytes]) -> None:
        now = 0.0
        for frame in frames:
            if frame.startswith(LIVE_EXEC_DETAILS, 4):
                now = now or time.monotonic()
                exec_id = frame[4:].split(b"\0")[EXEC_ID_FIELD].decode()
                if exec_id.count(".") != 3:  # the layout moved: fail loudly (the gateway drops the tap)
                    raise ValueError(f"field {EXEC_ID_FIELD} of execDetails is {exec_id!r}, not an exec id")
                self.exec.setdefault(exec_id, now)


def serve(config: dict[str, Any]) -> None:
    from ibticket.gateway import GatewayConfig, GatewayThread

    gw = GatewayThread(GatewayConfig(**config)).start()
    probes = Probes()
    gw.add_wire_tap(probes)
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


# --- --quick: the gateway process, its control and both probes, end to end ----------------------------


def quick() -> None:
    """Start a benchgw process, trade through it with a bare ib_insync client, check the control and probes."""
    from ib_insync import IB, MarketOrder, Stock

    def until(predicate: Any, what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise SystemExit(f"benchgw --quick: timed out waiting for {what}")
            ib.sleep(0.01)

    orders, execs = 2, 5
    started = time.monotonic()
    with GatewayProcess(seed=1, tick_interval=None, partial_fills=execs, market_orders_fill=False) as gw:
        assert gw.control is not None
        ib = IB()
        ib.connect("127.0.0.1", gw.port, clientId=41, timeout=20)
        (contract,) = ib.qualifyContracts(Stock("AAPL", "SMART", "USD"))
        refs = [f"benchgw-quick-{i}" for i in range(orders)]
        trades = [ib.placeOrder(contract, MarketOrder("BUY", 10, orderRef=ref)) for ref in refs]
        until(lambda: all(t.orderStatus.status in ("PreSubmitted", "Submitted") for t in trades),
              "the orders' acknowledgement")
        released = time.monotonic()
        gw.control.release()
        until(lambda: all(t.orderStatus.status == "Filled" and len(t.fills) == execs for t in trades), "the fills")
        stamps = gw.control.stamps()
        made = {e["exec_id"] for e in gw.control.call("executions")}
        ib.disconnect()
    print(f"benchgw --quick: {orders} orders x {execs} executions through a gateway process "
          f"({time.monotonic() - started:.1f} s in all)")
    missing = [ref for ref in refs if ref not in stamps["place"]]
    if missing or set(stamps["exec"]) != made:
        raise SystemExit(f"benchgw --quick: the probes missed placeOrders {missing} or executions "
                         f"{sorted(made - set(stamps['exec']))} (stamped {len(stamps['exec'])} of {len(made)})")
    first, last = min(stamps["exec"].values()), max(stamps["exec"].values())
    print(f"  placeOrder reads stamped: {len(stamps['place'])}; execDetails writes stamped: {len(stamps['exec'])}")
    print(f"  release -> first execDetails written {(first - released) * 1000:.1f} ms, "
          f"-> last {(last - released) * 1000:.1f} ms")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", nargs="?", help="the GatewayConfig fields as JSON (how GatewayProcess starts it)")
    parser.add_argument("--quick", action="store_true", help="a self-test: a gateway process, a client, the probes")
    args = parser.parse_args()
    if args.quick:
        quick()
    elif args.config is not None:
        serve(json.loads(args.config))
    else:
        parser.error("give the gateway's config as JSON, or --quick")


if __name__ == "__main__":
    main()
