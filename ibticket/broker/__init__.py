"""The broker layer: ib_insync (or ib_async) driving the core's order handler."""

from .core import BrokerCore, ConnectionState, NotConnectedError
from .settings import ConnectionSettings, LiveTradingRefused, resolve_settings
from .sync import BrokerClosedError, IBKRBroker

__all__ = [
    "BrokerClosedError",
    "BrokerCore",
    "ConnectionSettings",
    "ConnectionState",
    "IBKRBroker",
    "LiveTradingRefused",
    "NotConnectedError",
    "resolve_settings",
]
