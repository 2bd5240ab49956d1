"""Where to connect, and the rules that keep a paper setup from touching a live account by accident."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import LiveTradingRefused
from .identity import DEFAULT_CLIENT_ID as DEFAULT_CLIENT_ID  # where it always was
from .identity import load_identity

# IB's default API ports.
TWS_PAPER_PORT = 7497
TWS_LIVE_PORT = 7496
GATEWAY_PAPER_PORT = 4002
GATEWAY_LIVE_PORT = 4001
LIVE_PORTS = frozenset({TWS_LIVE_PORT, GATEWAY_LIVE_PORT})

ENV_HOST = "IBTICKET_TWS_HOST"
ENV_PORT = "IBTICKET_TWS_PORT"
ENV_CLIENT_ID = "IBTICKET_CLIENT_ID"


@dataclass(frozen=True)
class ConnectionSettings:
    host: str
    port: int | None  # None: start the embedded paper gateway and connect to it
    client_id: int
    paper_trading: bool
    allow_live: bool = False
    # What was wrong with this installation's identity file, for the trader to see (identity.load_identity).
    identity_notice: str = field(default="", compare=False)

    @property
    def embedded(self) -> bool:
        return self.port is None

    def describe(self) -> str:
        if self.embedded:
            return "embedded paper gateway"
        return f"{self.host}:{self.port} (client id {self.client_id})"


def default_port(paper_trading: bool, use_gateway: bool) -> int:
    if use_gateway:
        return GATEWAY_PAPER_PORT if paper_trading else GATEWAY_LIVE_PORT
    return TWS_PAPER_PORT if paper_trading else TWS_LIVE_PORT


def resolve_settings(
    paper_trading: bool = True,
    host: str | None = None,
    port: int | None = None,
    client_id: int | None = None,
    use_gateway: bool = False,
    allow_live: bool = False,
    embedded: bool | None = None,
    *,
    config_dir: str | os.PathLike[str] | None = None,
) -> ConnectionSettings:
    """Explicit arguments win, then the environment, then IB's default ports.

    With nothing configured at all (no host, port, gateway choice or environment) a paper setup uses the
    embedded paper gateway, so the app and scripts run with no IB account. ``embedded=False`` forces a
    real TWS/IB Gateway on IB's default port.

    The client id is ``client_id``, else $IBTICKET_CLIENT_ID, else this installation's stable id
    (``identity.load_identity``, kept in ``config_dir`` / $IBTICKET_CONFIG_DIR / the user's config
    folder): TWS reports an order's fills only to the client id that placed it, so a restart must reuse it.
    """
    env_port = os.environ.get(ENV_PORT)
    explicit_host = host is not None or ENV_HOST in os.environ
    host = host or os.environ.get(ENV_HOST) or "127.0.0.1"
    if port is None and env_port:
        port = _port_from_text(env_port, ENV_PORT)
    notice = ""
    if client_id is None:
        env_id = os.environ.get(ENV_CLIENT_ID)
        if env_id:
            client_id = _int_from_text(env_id, ENV_CLIENT_ID)
        else:
            identity = load_identity(config_dir)
            client_id, notice = identity.client_id, identity.notice
    if not isinstance(client_id, int) or isinstance(client_id, bool) or client_id < 0:
        raise ValueError(f"client id must be a whole number, 0 or more, not {client_id!r}")
    configured = port is not None or use_gateway or embedded is False or explicit_host
    if embedded is None:
        embedded = paper_trading and not configured
    if embedded:
        if not paper_trading:
            raise ValueError("the embedded gateway is paper only; pass paper_trading=True")
        return ConnectionSettings("127.0.0.1", None, client_id, True, allow_live, notice)
    if port is None:
        port = default_port(paper_trading, use_gateway)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port must be 1-65535, not {port!r}")
    # Live protection is enforced by connect(), which refuses with LiveTradingRefused.
    return ConnectionSettings(host, port, client_id, paper_trading, allow_live, notice)


def check_live_port(settings: ConnectionSettings) -> None:
    if settings.allow_live:
        return
    if not settings.paper_trading:
        raise LiveTradingRefused(
            "Refusing a live-trading connection: pass allow_live=True to trade real money"
        )
    if settings.port in LIVE_PORTS:
        raise LiveTradingRefused(
            f"Port {settings.port} is IB's live-trading port; use the paper port "
            f"({TWS_PAPER_PORT} for TWS, {GATEWAY_PAPER_PORT} for IB Gateway) or pass allow_live=True"
        )


def check_live_accounts(accounts: list[str], allow_live: bool) -> None:
    """Paper accounts start with "D" (DU..., DF...); anything else trades real money."""
    live = [a for a in accounts if not a.upper().startswith("D")]
    if live and not allow_live:
        raise LiveTradingRefused(
            f"Account {', '.join(live)} is a live account; disconnecting. Pass allow_live=True to trade it"
        )


def _int_from_text(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a whole number") from None


def _port_from_text(text: str, name: str) -> int:
    port = _int_from_text(text, name)
    if not 0 < port < 65536:
        raise ValueError(f"{name}={text!r} is not a port (1-65535)")
    return port
