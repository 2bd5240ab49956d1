"""The broker layer: ib_insync (or ib_async) driving the core's order handler."""

from .contracts import ContractInfo
from .core import BrokerCore, ConnectionState, NotConnectedError
from .market import MarketData, Quote, SymbolMatch
from .portfolio import AccountValues, Portfolio, Position
from .settings import ConnectionSettings, LiveTradingRefused, resolve_settings
from .sync import IBKRBroker

__all__ = [
    "AccountValues",
    "BrokerCore",
    "ConnectionSettings",
    "ConnectionState",
    "ContractInfo",
    "IBKRBroker",
    "LiveTradingRefused",
    "MarketData",
    "NotConnectedError",
    "Portfolio",
    "Position",
    "Quote",
    "SymbolMatch",
    "resolve_settings",
]
