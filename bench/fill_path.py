"""Fill-path benchmark: one order filled in M executions, library repr (baseline) against ibticket's fix.

ib_insync 0.9.86 (and ib_async 2.1.0) run ``self._logger.info(f'orderStatus: {trade}')`` on every
orderStatus message whatever the log level, and the dataclass repr of ``Trade`` formats every Fill and
log entry it holds, so an order filled in M executions costs O(M^2). ``ibticket.broker.ib`` replaces
``Trade.__repr__`` with a short one. This script measures both, in the same run, at two levels:

(a) library: one order's messages fed straight into ``IB().wrapper`` (no socket, no event loop);
(b) end to end: ``IBKRBroker`` against the embedded paper gateway over a loopback socket.

The baseline restores the library's own repr, saved before ``ibticket.broker.ib`` was imported.

    python bench/fill_path.py            # full run (about a minute on 2 cores)
    python bench/fill_path.py --quick    # smoke run, small M
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import math
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

# The library must be imported, and its repr saved, BEFORE ibticket.broker.ib applies the fix.
# Pick the same library that ibticket.broker.ib picks (ib_async when installed, else ib_insync).
_LIB_NAME = "ib_async" if importlib.util.find_spec("ib_async") is not None else "ib_insync"
lib: ModuleType = __import__(_LIB_NAME)
ORIGINAL_REPR: Callable[[Any], str] = lib.Trade.__repr__

import ibticket.broker.ib as ibticket_ib  # noqa: E402  (applies the fix on import)

FIXED_REPR: Callable[[Any], str] = lib.Trade.__repr__

from ibticket import IBKRBroker, OrderExecutionHandler  # noqa: E402
from ibticket.gateway import GatewayConfig, GatewayThread  # noqa: E402

CLIENT_ID = 7
ORDER_ID = 1
PERM_ID = 900_000_001
PRICE = 150.0
E2E_TIMEOUT = 180.0
# Library level: a point is the median of at least --repeat runs, more for fast points (noisy shared machine).
MIN_TOTAL = 1.0
QUICK_MIN_TOTAL = 0.2
MAX_RUNS = 50

# M values. The baseline is quadratic: it is capped, the fix alone goes further.
FULL_LIB_BOTH = (250, 500, 1000)
FULL_LIB_FIX_ONLY = (2000, 4000)
FULL_E2E_BOTH = (200, 500, 1000)
FULL_E2E_FIX_ONLY = (2000,)
QUICK_LIB_BOTH = (50, 100, 200)
QUICK_LIB_FIX_ONLY = (400,)
QUICK_E2E_BOTH = (50, 100)
QUICK_E2E_FIX_ONLY = (200,)

VARIANTS: dict[str, Callable[[Any], str]] = {"baseline": ORIGINAL_REPR, "fix": FIXED_REPR}
BAD_RUNS: list[str] = []  # end-to-end runs whose checks failed: main() returns 1


@contextmanager
def trade_repr(variant: str) -> Iterator[None]:
    """Install the library's repr (baseline) or ibticket's short repr (fix) for the duration."""
    lib.Trade.__repr__ = VARIANTS[variant]
    try:
        yield
    finally:
        lib.Trade.__repr__ = FIXED_REPR


# --- (a) library level ----------------------------------------------------------------------------


def feed_one_order(m: int) -> float:
    """One market order for m shares, filled in m one-share executions, fed to a bare IB().wrapper.

    Per execution the wrapper gets what TWS (and the paper gateway) sends after each fill:
    execDetails, orderStatus, openOrder, commissionReport. Returns the seconds it took.
    """
    ib = lib.IB()
    wrapper = ib.wrapper
    wrapper.clientId = CLIENT_ID
    contract = lib.Stock("AAPL", "SMART", "USD", conId=265598, primaryExchange="NASDAQ")

    def order_msg() -> Any:
        # The decoder builds a fresh Order for every openOrder message.
        return lib.MarketOrder("BUY", m, orderId=ORDER_ID, clientId=CLIENT_ID, permId=PERM_ID,
                               orderRef="bench.1/1")

    def status_msg(status: str, filled: float, price: float) -> None:
        wrapper.orderStatus(ORDER_ID, status, filled, m - filled, price, PERM_ID, 0, price, CLIENT_ID, "", 0.0)

    start = time.perf_counter()
    # What IB.placeOrder does for a new order (minus the socket write).
    order = order_msg()
    order.permId = 0
    now = datetime.now(UTC)
    trade = lib.Trade(contract, order, lib.OrderStatus(orderId=ORDER_ID, status="PendingSubmit"), [],
                      [lib.TradeLogEntry(now, "PendingSubmit")])
    wrapper.trades[wrapper.orderKey(CLIENT_ID, ORDER_ID, 0)] = trade
    # The acknowledgement.
    wrapper.lastTime = now
    wrapper.openOrder(ORDER_ID, contract, order_msg(), lib.OrderState(status="Submitted"))
    status_msg("Submitted", 0, 0.0)
    for k in range(1, m + 1):
        now = datetime.now(UTC)
        wrapper.lastTime = now
        exec_id = f"0000e0d5.6570a1b2.{k:06d}.01"
        execution = lib.Execution(
            execId=exec_id, time=now, acctNumber="DU1234567", exchange="ISLAND", side="BOT", shares=1.0,
            price=PRICE, permId=PERM_ID, clientId=CLIENT_ID, orderId=ORDER_ID, cumQty=float(k), avgPrice=PRICE,
            orderRef="bench.1/1",
        )
        wrapper.execDetails(-1, contract, execution)
        status = "Filled" if k == m else "Submitted"
        status_msg(status, float(k), PRICE)
        wrapper.openOrder(ORDER_ID, contract, order_msg(), lib.OrderState(status=status))
        wrapper.commissionReport(lib.CommissionReport(execId=exec_id, commission=0.005, currency="USD"))
    elapsed = time.perf_counter() - start
    if len(trade.fills) != m or trade.orderStatus.status != "Filled" or trade.orderStatus.filled != m:
        raise RuntimeError(
            f"library run M={m}: trade has {len(trade.fills)} fills, status {trade.orderStatus.status} "
            f"filled {trade.orderStatus.filled}"
        )
    return elapsed


def measure_library(m: int, variant: str, repeat: int, min_total: float) -> float:
    """Median of at least ``repeat`` runs; fast points are repeated until they add up to min_total seconds."""
    runs: list[float] = []
    with trade_repr(variant):
        while len(runs) < repeat or (sum(runs) < min_total and len(runs) < MAX_RUNS):
            runs.append(feed_one_order(m))
    return statistics.median(runs)


# --- (b) end to end -------------------------------------------------------------------------------


class _Collect(logging.Handler):
    """Keeps WARNING+ records (gateway disconnects, library errors) to report them with the run."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self._start = time.perf_counter()

    def emit(self, record: logging.LogRecord) -> None:
        at = time.perf_counter() - self._start
        self.lines.append(f"+{at:.2f}s {record.levelname} {record.name}: {record.getMessage()}")


@dataclass
class E2EResult:
    seconds: float | None  # submission to the fill that completed the order; None if it never completed
    fill_callbacks: int
    final_status: str
    final_filled: int
    final_fills: int
    states: list[str] = field(default_factory=list)  # connection states seen after connect
    notes: list[str] = field(default_factory=list)
    # CPU seconds of the whole process (gateway, broker and callback threads) over the same span: less
    # sensitive than wall time to other work on a shared machine.
    cpu_seconds: float | None = None


def run_end_to_end(m: int, variant: str, client_id: int) -> E2EResult:
    """IBKRBroker -> loopback socket -> embedded paper gateway; one market order filled in m executions."""
    collect = _Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    config = GatewayConfig(seed=1, tick_interval=None, partial_fills=m, fill_interval=0.0)
    try:
        with trade_repr(variant), GatewayThread(config) as gw, tempfile.TemporaryDirectory() as log_dir:
            broker = IBKRBroker(port=gw.port, client_id=client_id, log_dir=log_dir, handler=OrderExecutionHandler())
            try:
                if not broker.connect(timeout=10):
                    raise RuntimeError(f"connect failed: {broker.last_error}")
                states: list[str] = []
                broker.core.register_state_callback(lambda state: states.append(str(state)))
                done = threading.Event()
                finished_at: list[float] = []
                finished_cpu: list[float] = []
                callbacks = [0]

                def on_fill(record: Any) -> None:
                    callbacks[0] += 1
                    if record.filled_quantity == m and not done.is_set():
                        finished_at.append(time.perf_counter())
                        finished_cpu.append(time.process_time())
                        done.set()

                broker.register_order_fill_callback(on_fill)
                start = time.perf_counter()
                start_cpu = time.process_time()
                record = broker.execute_market_order("AAPL", m, "buy")
                if record is None:
                    raise RuntimeError(f"order refused: {broker.last_error}")
                done.wait(E2E_TIMEOUT)
                final = broker.get_order_status(record.order_id)
                return E2EResult(
                    seconds=finished_at[0] - start if finished_at else None,
                    fill_callbacks=callbacks[0],
                    final_status=str(final.status) if final else "?",
                    final_filled=int(final.filled_quantity) if final else -1,
                    final_fills=len(final.fills) if final else -1,
                    states=list(states),  # a copy: close() adds its own Disconnected
                    notes=collect.lines,
                    cpu_seconds=finished_cpu[0] - start_cpu if finished_cpu else None,
                )
            finally:
                broker.close()
    finally:
        root.removeHandler(collect)


# --- output ---------------------------------------------------------------------------------------


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.3f}" if seconds >= 0.1 else f"{seconds:.4f}"


def fmt_rate(m: int, seconds: float | None) -> str:
    return "-" if not seconds else f"{m / seconds:,.0f}"


def fmt_ratio(base: float | None, fix: float | None) -> str:
    return "-" if base is None or not fix else f"{base / fix:,.1f}x"


def growth(ms: Sequence[int], times: dict[int, float | None], m: int) -> str:
    """time(M)/time(previous M), with the exponent log(t ratio)/log(M ratio): 1 = linear, 2 = quadratic."""
    i = ms.index(m)
    if i == 0:
        return "-"
    prev = ms[i - 1]
    t, t_prev = times.get(m), times.get(prev)
    if not t or not t_prev:
        return "-"
    ratio = t / t_prev
    exponent = math.log(ratio) / math.log(m / prev)
    m_ratio = m / prev
    m_txt = f"x{m_ratio:g}"
    return f"{ratio:.2f} ({m_txt}, p={exponent:.2f})"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print(title)
    print("  " + "  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        print("  " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    print()


def header() -> None:
    print("ibticket fill-path benchmark (bench/fill_path.py)")
    print(f"  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; nproc={os.cpu_count()}; "
          f"Python {platform.python_version()}; {ibticket_ib.LIBRARY} {ibticket_ib.LIBRARY_VERSION}")
    print(f"  baseline: {_LIB_NAME}.Trade.__repr__ = {ORIGINAL_REPR.__qualname__} (the library's dataclass repr)")
    print(f"  fix:      {_LIB_NAME}.Trade.__repr__ = {FIXED_REPR.__qualname__} (ibticket.broker.ib)")
    print("  logging left at Python's default (WARNING): the formatted strings are built, then dropped")
    print()


def library_section(both: Sequence[int], fix_only: Sequence[int], repeat: int, min_total: float) -> None:
    ms = [*both, *fix_only]
    base: dict[int, float | None] = {}
    fix: dict[int, float | None] = {}
    for m in ms:
        fix[m] = measure_library(m, "fix", repeat, min_total)
        base[m] = measure_library(m, "baseline", repeat, min_total) if m in both else None
    rows = [
        [f"{m:,}", fmt_s(base[m]), fmt_rate(m, base[m]), fmt_s(fix[m]), fmt_rate(m, fix[m]),
         fmt_ratio(base[m], fix[m]), growth(ms, base, m), growth(ms, fix, m)]
        for m in ms
    ]
    print_table(
        f"(a) Library level: one order, M one-share executions fed to {_LIB_NAME} IB().wrapper, no socket\n"
        f"    (execDetails + orderStatus + openOrder + commissionReport per execution;\n"
        f"    median of >= {repeat} runs, fast points repeated until {min_total:g} s, at most {MAX_RUNS} runs)",
        ["M", "baseline s", "exec/s", "fix s", "exec/s", "base/fix", "growth baseline", "growth fix"],
        rows,
    )


def e2e_section(both: Sequence[int], fix_only: Sequence[int]) -> None:
    ms = [*both, *fix_only]
    results: dict[tuple[int, str], E2EResult] = {}
    client_id = 100
    for m in ms:
        for variant in ("fix", "baseline") if m in both else ("fix",):
            client_id += 1
            results[(m, variant)] = run_end_to_end(m, variant, client_id)

    def secs(variant: str) -> dict[int, float | None]:
        return {m: results[(m, variant)].seconds if (m, variant) in results else None for m in ms}

    base, fix = secs("baseline"), secs("fix")
    rows = [
        [f"{m:,}", fmt_s(base[m]), fmt_rate(m, base[m]), fmt_s(fix[m]), fmt_rate(m, fix[m]),
         fmt_ratio(base[m], fix[m]), growth(ms, base, m), growth(ms, fix, m)]
        for m in ms
    ]
    print_table(
        "(b) End to end: IBKRBroker -> loopback socket -> embedded paper gateway (GatewayThread, same process),\n"
        "    one market order for M shares with partial_fills=M; submission to the last fill callback; one run",
        ["M", "baseline s", "exec/s", "fix s", "exec/s", "base/fix", "growth baseline", "growth fix"],
        rows,
    )
    print("  checks (per run: fill callbacks, final record, connection states after connect, warnings):")
    for (m, variant), r in results.items():
        ok = r.seconds is not None and r.final_status == "Filled" and r.final_filled == m
        ok = ok and r.final_fills == m
        if not ok:
            BAD_RUNS.append(f"M={m} {variant}")
        verdict = "BAD" if not ok else ("ok, after a reconnect" if "Disconnected" in r.states else "ok")
        line = (f"    M={m:<5} {variant:<8} {verdict}: callbacks={r.fill_callbacks} "
                f"final={r.final_status} filled={r.final_filled} fills={r.final_fills}")
        if r.states:
            line += f" states={'>'.join(r.states)}"
        print(line)
        for note in r.notes:
            print(f"        {note}")
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small M only (smoke run, a few seconds)")
    parser.add_argument("--only", choices=("library", "e2e"), help="run one level only")
    parser.add_argument("--repeat", type=int, default=None,
                        help="library-level runs per point, median reported (default 3, 1 with --quick)")
    parser.add_argument("--e2e-extra", type=int, nargs="+", default=[], metavar="M",
                        help="further end-to-end M values, fix only (e.g. 8000: see docs/benchmarks.md)")
    parser.add_argument("--fix-only", action="store_true",
                        help="skip the baseline (library repr) runs: for comparing trees with the fix")
    args = parser.parse_args(argv)
    if ORIGINAL_REPR is FIXED_REPR:
        print("Trade.__repr__ was already replaced before this script saved it: no baseline", file=sys.stderr)
        return 2
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)
    if repeat < 1:
        parser.error("--repeat must be >= 1")
    if any(m < 1 for m in args.e2e_extra):
        parser.error("--e2e-extra values must be >= 1")
    started = time.perf_counter()
    header()
    if args.only in (None, "library") and not args.fix_only:
        if args.quick:
            library_section(QUICK_LIB_BOTH, QUICK_LIB_FIX_ONLY, repeat, QUICK_MIN_TOTAL)
        else:
            library_section(FULL_LIB_BOTH, FULL_LIB_FIX_ONLY, repeat, MIN_TOTAL)
    if args.only in (None, "e2e"):
        both, fix_only = (QUICK_E2E_BOTH, QUICK_E2E_FIX_ONLY) if args.quick else (FULL_E2E_BOTH, FULL_E2E_FIX_ONLY)
        if args.fix_only:
            both, fix_only = (), sorted({*both, *fix_only})
        e2e_section(both, [*fix_only, *args.e2e_extra])
    print("growth = time(M)/time(previous M); (xK) = M ratio; p = log(time ratio)/log(M ratio): 1 linear, 2 quadratic")
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    if BAD_RUNS:
        print(f"end-to-end runs whose checks failed: {', '.join(BAD_RUNS)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
