"""The broker layer: ib_insync (or ib_async) driving the core's order handler."""

from .core import BrokerCore, ConnectionState, NotConnectedError
from .identity import ClientIdInUse, stable_client_id
from .settings import ConnectionSettings, LiveTradingRefused, resolve_settings
from .sync import BrokerClosedError, IBKRBroker

__all__ = [
    "BrokerClosedError",
    "BrokerCore",
    "ClientIdInUse",
    "ConnectionSettings",
    "ConnectionState",
    "IBKRBroker",
    "LiveTradingRefused",
    "NotConnectedError",
    "resolve_settings",
    "stable_client_id",
]
