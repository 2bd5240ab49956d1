"""Where the window connects (Qt-free and broker-free, so settings can hold it before ib_insync loads)."""

from __future__ import annotations

from dataclasses import dataclass

# IB's defaults, repeated here so choosing a connection does not import the broker layer.
TWS_PAPER_PORT = 7497
LIVE_PORTS = frozenset({7496, 4001})


@dataclass(frozen=True)
class ConnectionChoice:
    """Where the window connects: the simulated account, a local TWS paper session, or host:port."""

    mode: str = "sim"  # "sim" | "tws" | "custom"
    host: str = "127.0.0.1"
    port: int = TWS_PAPER_PORT
    client_id: int | None = None
    allow_live: bool = False

    def __post_init__(self) -> None:
        if self.mode not in ("sim", "tws", "custom"):
            raise ValueError(f"unknown connection mode {self.mode!r}")

    def describe(self) -> str:
        if self.mode == "sim":
            return "simulated paper account"
        return f"{self.host}:{self.port}"

    @property
    def may_be_live(self) -> bool:
        return self.mode != "sim" and (self.allow_live or self.port in LIVE_PORTS)
