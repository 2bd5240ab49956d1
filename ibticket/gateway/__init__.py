"""Embedded paper gateway: a loopback TWS API server with simulated quotes, matching and fault injection.

Stdlib only; it imports nothing from the rest of ibticket, so any TWS API client can use it.
"""

from .config import GatewayConfig
from .faults import Faults
from .journal import StateReport
from .records import Execution, OrderView, PositionView, QuoteView
from .server import PaperGateway
from .state import StateError
from .thread import GatewayThread
from .wiretap import WireTap

__all__ = [
    "Execution", "Faults", "GatewayConfig", "GatewayThread", "OrderView", "PaperGateway", "PositionView",
    "QuoteView", "StateError", "StateReport", "WireTap",
]
