"""The broker layer: ib_insync (or ib_async) driving the core's order handler."""

from .contracts import ContractInfo
from .core import BrokerCore, ConnectionState
from .errors import BrokerClosedError, ClientIdInUse, LiveTradingRefused, LogFolderUnwritable, NotConnectedError
from .identity import stable_client_id
from .market import MarketData, Quote, SymbolMatch
from .portfolio import AccountValues, Portfolio, Position
from .settings import ConnectionSettings, resolve_settings
from .sync import IBKRBroker

__all__ = [
    "AccountValues",
    "BrokerClosedError",
    "BrokerCore",
    "ClientIdInUse",
    "ConnectionSettings",
    "ConnectionState",
    "ContractInfo",
    "IBKRBroker",
    "LiveTradingRefused",
    "LogFolderUnwritable",
    "MarketData",
    "NotConnectedError",
    "Portfolio",
    "Position",
    "Quote",
    "SymbolMatch",
    "resolve_settings",
    "stable_client_id",
]
