"""Message ids of the history, reference-data and the other requests, and who answers each (session.py
merges this into its dispatch table). Every request the TWS API clients send at server version 176 has an
entry here or in session.py, so none gets "unknown message id" on id -1, which ends no request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .histreq import HistoryRequests
from .services import (
    NO_DEPTH,
    NO_FUNDAMENTALS,
    NO_NEWS,
    NO_VERIFY,
    NOT_FA,
    Services,
)
from .streams import LiveStreams


class Routed(Protocol):
    charts: HistoryRequests
    services: Services
    streams: LiveStreams


Handler = Callable[[Routed, list[str]], None]


def _charts(name: str) -> Handler:
    return lambda session, fields: getattr(session.charts, name)(fields)


def _services(name: str) -> Handler:
    return lambda session, fields: getattr(session.services, name)(fields)


def _streams(name: str) -> Handler:
    return lambda session, fields: getattr(session.streams, name)(fields)


def _refuse(code: int, text: str, versioned: bool) -> Handler:
    return lambda session, fields: session.services.refuse(code, text, versioned)(fields)


def _refuse_without_id(code: int, text: str) -> Handler:
    return lambda session, fields: session.services.refuse_without_id(code, text)(fields)


def _empty_list(message_id: int) -> Handler:
    return lambda session, fields: session.services.empty_list(message_id)(fields)


def _nothing(_session: Routed, _fields: list[str]) -> None:
    """A cancel of something that streams nothing here, or a request TWS answers with nothing."""


ROUTES: dict[int, Handler] = {
    10: _refuse(354, NO_DEPTH, versioned=True),  # reqMktDepth
    11: _nothing,  # cancelMktDepth
    12: _nothing,  # reqNewsBulletins: there are none
    13: _nothing,  # cancelNewsBulletins
    14: _nothing,  # setServerLogLevel
    18: _refuse_without_id(321, NOT_FA),  # requestFA
    19: _services("replace_fa"),
    20: _charts("req_historical_data"),
    21: _services("option_computation"),  # exerciseOptions
    22: _services("scanner_subscription"),
    23: _nothing,  # cancelScannerSubscription: a scan is answered once
    24: _services("scanner_parameters"),
    25: _charts("cancel_historical_data"),
    50: _streams("req_real_time_bars"),
    51: _streams("cancel_real_time_bars"),
    52: _refuse(430, NO_FUNDAMENTALS, versioned=True),  # reqFundamentalData
    53: _nothing,  # cancelFundamentalData
    54: _services("option_computation"),  # calculateImpliedVolatility
    55: _services("option_computation"),  # calculateOptionPrice
    56: _nothing,  # cancelCalculateImpliedVolatility
    57: _nothing,  # cancelCalculateOptionPrice
    65: _refuse_without_id(321, NO_VERIFY),  # verifyRequest
    66: _refuse_without_id(321, NO_VERIFY),  # verifyMessage
    67: _services("query_display_groups"),
    68: _services("display_group_event"),  # subscribeToGroupEvents
    69: _services("display_group_event"),  # updateDisplayGroup
    70: _nothing,  # unsubscribeFromGroupEvents
    72: _refuse_without_id(321, NO_VERIFY),  # verifyAndAuthRequest
    73: _refuse_without_id(321, NO_VERIFY),  # verifyAndAuthMessage
    74: _services("positions_multi"),
    75: _nothing,  # cancelPositionsMulti: answered once
    78: _services("sec_def_opt_params"),
    79: _services("soft_dollar_tiers"),
    80: _empty_list(78),  # reqFamilyCodes
    82: _empty_list(80),  # reqMktDepthExchanges
    83: _services("smart_components"),
    84: _refuse(10276, NO_NEWS, versioned=False),  # reqNewsArticle
    85: _empty_list(85),  # reqNewsProviders
    86: _refuse(10276, NO_NEWS, versioned=False),  # reqHistoricalNews
    87: _charts("req_head_timestamp"),
    88: _charts("req_histogram_data"),
    89: _nothing,  # cancelHistogramData
    90: _nothing,  # cancelHeadTimeStamp
    94: _services("pnl_single"),
    95: _services("cancel_pnl_single"),
    96: _charts("req_historical_ticks"),
    97: _streams("req_tick_by_tick"),
    98: _streams("cancel_tick_by_tick"),
    100: _refuse(10276, NO_NEWS, versioned=False),  # reqWshMetaData
    101: _nothing,  # cancelWshMetaData
    102: _refuse(10276, NO_NEWS, versioned=False),  # reqWshEventData
    103: _nothing,  # cancelWshEventData
    104: _services("user_info"),
}
