"""Fault soak: random trading through the real window while the gateway misbehaves and the app is killed.

The paper gateway runs in this process (a ``GatewayThread``: its faults are injected in-process); the app
runs as a child process (``bench/soak_app.py``: the real window, offscreen, typing random orders, cancels and
changes on the order line) connected as a custom connection with its own log folder and settings. Meanwhile:

* the gateway injects random faults: drops mid-fill and at once, rejects, pacing errors (a 100 reject, which
  the app retries), duplicate and reordered (status before execution) messages, stale statuses, corrections,
  fills racing a cancel;
* the app is killed with SIGKILL at random moments and started again on the same folders.

At the end the market is frozen, the faults cleared, the app settles and dumps what its window holds, and
everything is compared with the gateway's own books:

* every execution the gateway made for the app (the latest correction of each) is, exactly once, in the
  app's order log, in the records rebuilt from that log, in the handler and in the fills model; a corrected
  execution's superseded id is in none of the last three;
* every order's filled quantity and state matches the gateway's (across its attempts), and the gateway has no
  order of the app that the app does not know;
* nothing was sent twice: no order reference reached the gateway twice, and no order has more than one
  attempt that was working or filled at the gateway.

    .venv/bin/python bench/soak.py                       # 10 minutes, 6 kills
    .venv/bin/python bench/soak.py --minutes 1 --kills 2 # what tests/soak runs
    .venv/bin/python bench/soak.py --quick               # a smoke run: 4 s of trading and faults, one kill
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import json
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parent
CLIENT_ID = 71
READY_TIMEOUT = 60.0
APP_STATUS = {"Filled": {"Filled"}, "Cancelled": {"Cancelled", "Error"}, "ApiCancelled": {"Cancelled", "Error"},
              "Submitted": {"Submitted", "PartiallyFilled"}, "PreSubmitted": {"Submitted", "PartiallyFilled"}}
PACING = "Max rate of messages per second has been exceeded:max=50 rec=51 (3)"


@dataclass
class SoakResult:
    seconds: float = 0.0
    orders: int = 0
    executions: int = 0
    corrections: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    kills: int = 0
    lost: int = 0
    duplicated: int = 0
    mismatched: int = 0
    sent_twice: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.mismatched or self.sent_twice)

    def report(self) -> str:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
        lines = [
            f"soak: {self.seconds:.0f} s; orders {self.orders}, executions {self.executions} "
            f"({self.corrections} corrected), faults {sum(self.faults.values())}, kills {self.kills}",
            f"  faults: {faults or 'none'}",
            f"  lost {self.lost}, duplicated {self.duplicated}, mismatched {self.mismatched}, "
            f"sent twice {self.sent_twice}: {'OK' if self.ok else 'FAILED'}",
        ]
        lines += [f"  - {p}" for p in self.problems[:40]]
        if len(self.problems) > 40:
            lines.append(f"  ... and {len(self.problems) - 40} more")
        return "\n".join(lines)


class AppProcess:
    """One run of bench/soak_app.py, with its stdout read into a queue."""

    def __init__(self, port: int, root: Path, seed: int, pace: float, log: Callable[[str], None]) -> None:
        cmd = [sys.executable, str(HERE / "soak_app.py"), "--port", str(port), "--client-id", str(CLIENT_ID),
               "--log-dir", str(root / "log"), "--data-dir", str(root / "data"), "--settings",
               str(root / "settings.ini"), "--seed", str(seed), "--pace", str(pace)]
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
        self.stderr = open(root / f"app-{seed}.err", "w")  # noqa: SIM115  (closed in close())
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.ready = False
        self._log = log
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def expect(self, word: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"the app did not say {word!r} within {timeout:.0f} s") from None
            if line == "ready":
                self.ready = True
            if line == word:
                return

    def poll_ready(self) -> bool:
        while not self.ready:
            try:
                if self.lines.get_nowait() == "ready":
                    self.ready = True
            except queue.Empty:
                break
        return self.ready

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.stderr.close()

    def close(self, timeout: float = 20.0) -> None:
        try:
            self.send("exit")
            self.proc.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(5)
        self.stderr.close()


class FaultInjector:
    def __init__(self, gw: Any, rng: random.Random, result: SoakResult) -> None:
        self.gw = gw
        self.rng = rng
        self.result = result
        self.kinds: list[tuple[str, float, Callable[[], bool]]] = [
            ("drop mid-fill", 2, lambda: self._arm(lambda: gw.faults.drop_connections(self.rng.randint(1, 2)))),
            ("drop now", 1, lambda: self._arm(lambda: gw.faults.drop_connections())),
            ("reject 201", 2, lambda: self._arm(lambda: gw.faults.reject_next_order(
                201, "Order rejected - reason:Simulated rejection by the soak"))),
            ("pacing 100", 2, lambda: self._arm(lambda: gw.faults.reject_next_order(100, PACING))),
            ("duplicate status", 2, lambda: self._arm(gw.faults.duplicate_next_status)),
            ("status before execution", 2, lambda: self._arm(gw.faults.status_before_execution)),
            ("stale status", 1, lambda: self._arm(gw.faults.stale_status_after_fill)),
            ("fill after cancel", 1, lambda: self._arm(gw.faults.fill_after_cancel)),
            ("correction", 2, self._correct),
        ]

    @staticmethod
    def _arm(action: Callable[[], Any]) -> bool:
        action()
        return True

    def _correct(self) -> bool:
        executions = [e for e in self.gw.executions() if e.client_id == CLIENT_ID]
        corrected = {e.corrects for e in executions if e.corrects}
        latest = [e for e in executions[-30:] if e.exec_id not in corrected]
        if not latest:
            return False
        target = self.rng.choice(latest)
        self.gw.faults.correct_execution(target.exec_id, round(target.price + self.rng.choice((-0.01, 0.01)), 2))
        return True

    def inject(self) -> None:
        names, weights, actions = zip(*self.kinds, strict=True)
        index = self.rng.choices(range(len(names)), weights=weights)[0]
        if actions[index]():
            self.result.faults[names[index]] += 1


def run_soak(
    duration: float,
    kills: int,
    seed: int = 1,
    workdir: Path | None = None,
    pace: float = 0.25,
    fault_every: float = 1.5,
    log: Callable[[str], None] = print,
) -> SoakResult:
    from ibticket.gateway import GatewayConfig, GatewayThread

    root = workdir or Path(tempfile.mkdtemp(prefix="ibticket-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    result = SoakResult()
    started = time.monotonic()
    config = GatewayConfig(seed=seed, tick_interval=0.1, partial_fills=3, fill_interval=0.02, start_cash=1e8,
                           account_update_interval=1.0)
    with GatewayThread(config) as gw:
        injector = FaultInjector(gw, rng, result)
        run = 0
        app = AppProcess(gw.port, root, seed * 100 + run, pace, log)
        app.expect("ready", READY_TIMEOUT)
        trading_started = time.monotonic()
        kill_at = sorted(trading_started + rng.uniform(0.1, 0.85) * duration for _ in range(kills))
        next_fault = trading_started + rng.expovariate(1.0 / fault_every)
        while time.monotonic() - trading_started < duration:
            now = time.monotonic()
            if kill_at and now >= kill_at[0]:
                kill_at.pop(0)
                app.kill()
                result.kills += 1
                run += 1
                log(f"  +{now - trading_started:5.1f} s: SIGKILL the app (kill {result.kills}); starting it again")
                app = AppProcess(gw.port, root, seed * 100 + run, pace, log)
            if now >= next_fault:
                injector.inject()
                next_fault = now + rng.expovariate(1.0 / fault_every)
            app.poll_ready()
            time.sleep(0.05)
        gw.faults.clear()
        gw.freeze_market(True)
        if not app.ready:
            app.expect("ready", READY_TIMEOUT)
        app.send("quiesce")
        app.expect("quiet", 30)
        dump_path = root / "dump.json"
        app.send(f"dump {dump_path}")
        app.expect("dumped", 120)
        app.close()
        save_gateway(root / "gateway.json", gw.executions(), gw.orders())
    check(result, root)
    result.seconds = time.monotonic() - started
    return result


def save_gateway(path: Path, executions: list[Any], orders: list[Any]) -> None:
    """The gateway's books at the end, for the checks (and for a look afterwards)."""
    plain = {"executions": [dataclasses.asdict(e) for e in executions],
             "orders": [dataclasses.asdict(o) for o in orders]}
    path.write_text(json.dumps(plain, default=str))


def check(result: SoakResult, root: Path) -> None:
    """Compare what the app holds (dump.json, its order log) with the gateway's books (gateway.json) in root."""
    books = json.loads((root / "gateway.json").read_text())
    executions = [SimpleNamespace(**e) for e in books["executions"]]
    orders = [SimpleNamespace(**o) for o in books["orders"]]
    compare(result, executions, orders, root / "log", json.loads((root / "dump.json").read_text()))


def _suffix(exec_id: str) -> tuple[str, int]:
    base, _, suffix = exec_id.rpartition(".")
    return base, int(suffix) if suffix.isdigit() else 0


def compare(result: SoakResult, executions: list[Any], orders: list[Any], log_dir: Path, dump: dict[str, Any]) -> None:
    from ibticket.core import read_day
    from ibticket.core.recovery import rebuild_orders

    problem = result.problems.append
    ours = [e for e in executions if e.client_id == CLIENT_ID]
    latest: dict[str, Any] = {}
    for e in ours:
        base, n = _suffix(e.exec_id)
        if base not in latest or _suffix(latest[base].exec_id)[1] < n:
            latest[base] = e
    effective = {e.exec_id for e in latest.values()}
    superseded = {e.exec_id for e in ours} - effective
    result.executions = len(effective)
    result.corrections = len(superseded)

    day = read_day(log_dir, date.today())
    if day.problem or day.bad_lines:
        # A torn last line after a SIGKILL is expected; it must not hide anything the checks below need.
        log_note = day.report()
        if log_note:
            result.problems.append(f"note: order log: {log_note}")
    rebuilt = rebuild_orders(day.events)
    result.orders = len(rebuilt)
    log_fills = Counter(e.get("fill_id") for e in day.events if e.get("event_type") == "FILL")
    places: dict[str, Counter[str]] = {
        "order log": log_fills,
        "records rebuilt from the log": Counter(f.fill_id for r in rebuilt for f in r.fills),
        "handler": Counter(f for r in dump["handler"] for f in r["fills"]),
        "fills model": Counter(dump["fills_model"]),
    }
    for where, ids in places.items():
        for exec_id in sorted(effective):
            if ids[exec_id] == 0:
                result.lost += 1
                problem(f"execution {exec_id} is not in the {where}")
            elif ids[exec_id] > 1:
                result.duplicated += 1
                problem(f"execution {exec_id} is {ids[exec_id]} times in the {where}")
        for exec_id in sorted(superseded):
            if where != "order log" and ids[exec_id]:
                result.duplicated += 1
                problem(f"corrected execution {exec_id} is still counted in the {where}")
            elif ids[exec_id] > 1:
                result.duplicated += 1
                problem(f"corrected execution {exec_id} is {ids[exec_id]} times in the {where}")
        unknown = set(ids) - effective - superseded - {None}
        for exec_id in sorted(unknown):
            result.mismatched += 1
            problem(f"{where} holds execution {exec_id}, which the gateway never made for this client")

    ours_orders = [o for o in orders if o.client_id == CLIENT_ID]
    by_ref: dict[str, list[Any]] = defaultdict(list)
    for o in ours_orders:
        by_ref[o.order_ref].append(o)
    for ref, group in by_ref.items():
        if len(group) > 1:
            result.sent_twice += 1
            problem(f"order reference {ref} reached the gateway {len(group)} times")
    known_refs: set[str] = set()
    for source, records in (("log", [_plain(r) for r in rebuilt]), ("window", dump["handler"])):
        for r in records:
            known_refs.update(r["attempts"])
            check_order(result, source, r, by_ref)
    for ref in sorted(set(by_ref) - known_refs):
        result.mismatched += 1
        problem(f"the gateway has order {ref} ({by_ref[ref][0].status}), which the app does not know")


def _plain(r: Any) -> dict[str, Any]:
    return {"order_id": r.order_id, "order_ref": r.order_ref, "status": r.status.value, "filled": r.filled_quantity,
            "total": r.total_quantity, "attempts": [a.order_ref for a in r.attempts]}


def check_order(result: SoakResult, source: str, r: dict[str, Any], by_ref: dict[str, list[Any]]) -> None:
    at_gateway = [o for ref in r["attempts"] for o in by_ref.get(ref, [])]
    name = f"{source}: order #{r['order_id']} ({r['order_ref']})"
    filled = round(sum(o.filled for o in at_gateway))
    if filled != r["filled"]:
        result.mismatched += 1
        result.problems.append(f"{name}: filled {r['filled']} here, {filled} at the gateway")
    live_or_filled = [o for o in at_gateway if o.filled > 0 or o.status in ("Submitted", "PreSubmitted")]
    if len(live_or_filled) > 1:
        result.sent_twice += 1
        result.problems.append(f"{name}: {len(live_or_filled)} attempts working or filled at the gateway")
    if filled > r["total"]:
        result.sent_twice += 1
        result.problems.append(f"{name}: the gateway filled {filled} of an order for {r['total']}")
    if not at_gateway:
        if r["status"] not in ("Error", "Cancelled"):
            result.mismatched += 1
            result.problems.append(f"{name}: {r['status']} here, but it never reached the gateway")
        return
    gateway_status = at_gateway[-1].status
    if r["status"] not in APP_STATUS.get(gateway_status, {gateway_status}):
        result.mismatched += 1
        result.problems.append(f"{name}: {r['status']} here, {gateway_status} at the gateway "
                               f"(filled {r['filled']}/{r['total']})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pace", type=float, default=0.25, help="mean seconds between the trader's actions")
    parser.add_argument("--fault-every", type=float, default=1.5, help="mean seconds between injected faults")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the app's folders here")
    parser.add_argument("--check", type=Path, default=None, metavar="WORKDIR",
                        help="only run the end checks again on a finished soak's folder")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 4 s of trading and faults (an action every 0.15 s, a fault every 0.4 s), "
                             "one kill")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.kills, args.pace, args.fault_every = 4 / 60, 1, 0.15, 0.4
        if args.workdir is None:
            scratch = tempfile.TemporaryDirectory(prefix="ibticket-soak-")
            atexit.register(scratch.cleanup)
            args.workdir = Path(scratch.name)
    if args.check is not None:
        result = SoakResult()
        check(result, args.check)
        print(result.report())
        sys.exit(0 if result.ok else 1)
    length = f"{args.minutes:g} min" if args.minutes >= 1 else f"{args.minutes * 60:.0f} s"
    print(f"ibticket fault soak (bench/soak.py): {length}, {args.kills} kills, seed {args.seed}, "
          f"an action every {args.pace:g} s, a fault every {args.fault_every:g} s (means)")
    result = run_soak(args.minutes * 60, args.kills, args.seed, args.workdir, args.pace, args.fault_every)
    print(result.report())
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
