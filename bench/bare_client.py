"""The bare baseline for bench/window_bench.py: a plain ib_insync (or ib_async) client receiving a fill burst.

No ibticket: ``IB().connectAsync``, ``placeOrder`` of K market orders while the gateway holds market orders,
then the gateway releases them and the client counts ``execDetailsEvent`` until it has seen N executions.
Prints one JSON line: the monotonic times of the release and of the N-th execution.

``--short-repr`` puts in the one-line ``Trade.__repr__`` that ibticket installs (the library's own repr is
quadratic in a trade's fills, see docs/benchmarks.md); without it the library runs as shipped.

Runs in ibticket's venv (ib_insync) or in a venv of its own with ib_async (the two cannot share a venv);
it imports only the library and bench/benchgw.py's stdlib part.

    python bench/bare_client.py --quick [--lib ib_async]   # a smoke run against a gateway process of its own
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchgw import Control

SYMBOLS = ("AAPL", "MSFT")


def short_repr(self: Any) -> str:
    status = self.orderStatus
    return (f"Trade(orderId={self.order.orderId}, permId={self.order.permId}, orderRef={self.order.orderRef!r}, "
            f"status={status.status!r}, filled={status.filled}, fills={len(self.fills)})")


async def burst(lib: Any, args: argparse.Namespace) -> dict[str, Any]:
    control = Control(args.control, bytes.fromhex(args.key))
    ib = lib.IB()
    await ib.connectAsync("127.0.0.1", args.port, clientId=args.client_id, timeout=20)
    contracts = [lib.Stock(s, "SMART", "USD") for s in SYMBOLS]
    await ib.qualifyContractsAsync(*contracts)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[float] = loop.create_future()
    seen = 0

    def on_exec(_trade: Any, _fill: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == args.execs and not done.done():
            done.set_result(time.monotonic())

    ib.execDetailsEvent += on_exec
    trades = [ib.placeOrder(contracts[i % len(contracts)], lib.MarketOrder("BUY", args.qty, orderRef=f"bare-{i}"))
              for i in range(args.orders)]
    deadline = time.monotonic() + 60
    while not all(t.orderStatus.status in ("PreSubmitted", "Submitted") for t in trades):
        if time.monotonic() > deadline:
            raise SystemExit("bare client: the orders were not acknowledged in 60 s")
        await asyncio.sleep(0.01)
    t0, cpu0 = time.monotonic(), time.process_time()
    control.release()
    t1 = await asyncio.wait_for(done, args.timeout)
    cpu = time.process_time() - cpu0
    filled = sum(1 for t in trades if t.orderStatus.status == "Filled")
    ib.disconnect()
    control.close()
    return {"t0": t0, "t1": t1, "cpu": cpu, "execs": seen, "orders_filled": filled}


def quick(lib_name: str) -> None:
    """Against a gateway process of its own (it needs ibticket): a small burst as shipped, then with the
    short repr, as bench/window_bench.py runs them."""
    from benchgw import GatewayProcess

    lib = importlib.import_module(lib_name)
    shipped = lib.Trade.__repr__
    orders, per_order = 2, 50
    for short in (False, True):
        lib.Trade.__repr__ = short_repr if short else shipped
        with GatewayProcess(seed=1, tick_interval=None, partial_fills=per_order, market_orders_fill=False) as gw:
            args = argparse.Namespace(port=gw.port, control=gw.control_port, key=gw.authkey.hex(), client_id=51,
                                      orders=orders, qty=100, execs=orders * per_order, timeout=60.0)
            result = asyncio.run(burst(lib, args))
        if result["execs"] != orders * per_order or result["orders_filled"] != orders:
            raise SystemExit(f"bare client --quick: {result}")
        seconds = result["t1"] - result["t0"]
        print(f"{lib_name} {'+ short repr' if short else 'as shipped':<14} {result['execs']} executions of "
              f"{orders} orders: {seconds:.3f} s ({result['execs'] / seconds:,.0f}/s), CPU {result['cpu']:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lib", choices=("ib_insync", "ib_async"), default="ib_insync")
    parser.add_argument("--short-repr", action="store_true")
    parser.add_argument("--quick", action="store_true", help="a smoke run against a gateway process of its own")
    connection = parser.add_argument_group("the gateway and the burst (all required without --quick)")
    for name in ("--port", "--control", "--orders", "--qty", "--execs"):
        connection.add_argument(name, type=int)
    connection.add_argument("--key")
    parser.add_argument("--client-id", type=int, default=51)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    if args.quick:
        quick(args.lib)
        return
    missing = [name for name in ("port", "control", "key", "orders", "qty", "execs") if getattr(args, name) is None]
    if missing:
        parser.error("missing " + ", ".join(f"--{name}" for name in missing))
    lib = importlib.import_module(args.lib)
    if args.short_repr:
        lib.Trade.__repr__ = short_repr
    result = asyncio.run(burst(lib, args))
    result.update(lib=args.lib, version=getattr(lib, "__version__", "?"), short_repr=args.short_repr)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
