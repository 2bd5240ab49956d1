"""`ibticket-gateway` / `python -m ibticket.gateway`: run the paper gateway as a standalone process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from .config import GatewayConfig
from .protocol import SERVER_VERSION
from .server import PaperGateway, check_loopback
from .state import StateError

# Seconds a stop (Ctrl-C, SIGTERM) may take before the process exits anyway.
STOP_GRACE = 1.5


def _tick_interval(text: str) -> float | None:
    if text.strip().lower() in ("none", "off", "0", "0.0"):
        return None
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("tick interval must be > 0 (or 'none')")
    return value


def build_parser() -> argparse.ArgumentParser:
    defaults = GatewayConfig()
    parser = argparse.ArgumentParser(
        prog="ibticket-gateway",
        description="A simulated TWS / IB Gateway (TWS API server version 176) for paper trading without an "
                    "IBKR account. Listens on loopback only.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4002, help="TCP port, 0 for any free port (default 4002)")
    parser.add_argument("--seed", type=int, default=1, help="random-walk seed (default 1)")
    parser.add_argument("--partial-fills", type=int, default=1, help="executions per fill (default 1)")
    parser.add_argument("--fill-interval", type=float, default=0.0, help="seconds between partial fills")
    parser.add_argument("--tick-interval", type=_tick_interval, default=0.25,
                        help="seconds between random-walk steps, or 'none' for a still market (default 0.25)")
    parser.add_argument("--cash", type=float, default=1_000_000.0, help="starting cash in USD")
    parser.add_argument("--account", default="DU1234567", help="paper account id (default DU1234567)")
    parser.add_argument("--max-clients", type=int, default=defaults.max_clients,
                        help=f"API connections served at once; one more gets error 502 (default "
                             f"{defaults.max_clients}, as TWS)")
    parser.add_argument("--handshake-timeout", type=float, default=defaults.handshake_timeout,
                        help=f"seconds a new connection has to complete the API handshake (default "
                             f"{defaults.handshake_timeout:g})")
    parser.add_argument("--frame-timeout", type=float, default=defaults.frame_timeout,
                        help=f"seconds a request, once begun, has to arrive completely (default "
                             f"{defaults.frame_timeout:g})")
    parser.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    parser.add_argument("--state", type=Path, default=None, metavar="PATH",
                        help="file that keeps the paper account (cash, positions, the day's orders and executions) "
                             "across restarts; without it the account lasts as long as the gateway")
    parser.add_argument("--reset", action="store_true", help="with --state: start a new account in that file")
    parser.add_argument("--master-client-id", type=int, default=None, metavar="ID",
                        help="client id that gets the executions of every client (default: none; each client "
                             "gets those of its own orders)")
    return parser


def config_from_args(args: argparse.Namespace) -> GatewayConfig:
    """The gateway's settings from the command line; ValueError names a setting that is out of range."""
    return GatewayConfig(
        seed=args.seed, tick_interval=args.tick_interval, partial_fills=args.partial_fills,
        fill_interval=args.fill_interval, start_cash=args.cash, account=args.account,
        max_clients=args.max_clients, handshake_timeout=args.handshake_timeout, frame_timeout=args.frame_timeout,
        state_path=args.state, reset_state=args.reset, master_client_id=args.master_client_id,
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        host = check_loopback(args.host)
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    if args.reset and args.state is None:
        parser.error("--reset needs --state PATH")
    try:
        return asyncio.run(_serve(config, host, args.port))
    except KeyboardInterrupt:
        return 0
    except StateError as exc:
        print(f"ibticket-gateway: {exc}", file=sys.stderr)
        return 1


async def _serve(config: GatewayConfig, host: str, port: int) -> int:
    gateway = PaperGateway(config)
    try:
        await gateway.start(host, port)
    except OSError as exc:
        print(f"ibticket-gateway: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows has no add_signal_handler; Ctrl-C then arrives as KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    if gateway.state_report is not None:
        print(f"ibticket-gateway: {gateway.state_report}", file=sys.stderr, flush=True)
    print(f"ibticket-gateway listening on {gateway.host}:{gateway.port} "
          f"(account {config.account}, server version {SERVER_VERSION}); Ctrl-C to stop", flush=True)
    try:
        await stop.wait()
    finally:
        # The gateway never waits on its clients at shutdown; this bound is a last resort.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(gateway.stop(), STOP_GRACE)
        print("ibticket-gateway stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
