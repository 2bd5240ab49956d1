"""The command line of the desktop app (Qt-free, so ``--version`` and ``--help`` stay instant)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .. import __version__


@dataclass(frozen=True)
class AppOptions:
    mode: str | None  # "sim", "tws", "custom" or None (what the settings remember, else "sim")
    host: str | None
    port: int | None
    client_id: int | None
    sim_reset: bool
    log_dir: Path | None
    data_dir: Path | None
    settings: Path | None
    smoke: bool
    smoke_symbol: str
    allow_live: bool
    open_day: date | None


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535")
    return port


def _client_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a client id (a whole number)") from None
    if not 0 <= value < 2**31:
        raise argparse.ArgumentTypeError(f"client id {value} is out of range")
    return value


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a day; write it as YYYY-MM-DD, e.g. {date.today().isoformat()}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ibticket",
        description="A desktop order ticket for Interactive Brokers. With no options it trades a simulated "
        "paper account on the embedded gateway.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--sim", action="store_true", help="trade the simulated paper account (the default)")
    where.add_argument("--tws", action="store_true", help="connect to a local TWS paper session (port 7497)")
    parser.add_argument("--sim-reset", action="store_true",
                        help="start the simulated account afresh (cash, positions and orders are reset)")
    parser.add_argument("--host", help="TWS / IB Gateway host (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, help="TWS / IB Gateway API port")
    parser.add_argument("--client-id", type=_client_id, help="API client id")
    parser.add_argument("--allow-live", action="store_true",
                        help="allow a live (real money) account; without it a live port or account is refused")
    parser.add_argument("--log-dir", type=Path, help="order log folder (default: your user log folder)")
    parser.add_argument("--data-dir", type=Path,
                        help="folder for the simulated account (default: your user data folder)")
    parser.add_argument("--settings", type=Path, help="an isolated settings file (INI) instead of your own")
    parser.add_argument("--open-day", metavar="YYYY-MM-DD", type=_day,
                        help="open that day of the order log in the viewer")
    parser.add_argument("--smoke", action="store_true",
                        help="open the window offscreen, connect, wait for the first quote, print the "
                        "start-up times and exit (0 on success)")
    parser.add_argument("--smoke-symbol", default="AAPL", help=argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"ibticket {__version__}")
    return parser


def parse_options(argv: list[str] | None = None) -> AppOptions:
    parser = build_parser()
    args = parser.parse_args(argv)
    mode = "sim" if args.sim or args.sim_reset else "tws" if args.tws else None
    if args.host is not None or args.port is not None:
        if args.sim:
            parser.error("--sim uses the embedded gateway; leave out --host/--port")
        mode = "tws" if args.tws and args.host is None and args.port is None else "custom"
    if args.tws and args.port is None:
        mode = "tws"
    return AppOptions(
        mode=mode,
        host=args.host,
        port=args.port,
        client_id=args.client_id,
        sim_reset=args.sim_reset,
        log_dir=args.log_dir,
        data_dir=args.data_dir,
        settings=args.settings,
        smoke=args.smoke,
        smoke_symbol=args.smoke_symbol.upper(),
        allow_live=args.allow_live,
        open_day=args.open_day,
    )
