"""The history requests' own fields: bar sizes, durations, end dates and what to show, read as TWS reads them.

Each problem raises ``Refusal`` with the code and text TWS answers on the request's id, so the client's
request ends instead of waiting for data that will not come.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .clock import EASTERN_NAMES, eastern_epoch
from .history import BarSize, Duration

HMDS = "Historical Market Data Service error message:"
BAR_SIZE_TEXTS = ("1 secs", "5 secs", "10 secs", "15 secs", "30 secs", "1 min", "2 mins", "3 mins", "5 mins",
                  "10 mins", "15 mins", "20 mins", "30 mins", "1 hour", "2 hours", "3 hours", "4 hours",
                  "8 hours", "1 day", "1W", "1M")
_BAR_SIZES = {
    **{f"{n} secs": BarSize(n, "", f"{n} secs") for n in (1, 5, 10, 15, 30)},
    "1 min": BarSize(60, "", "1 min"),
    **{f"{n} mins": BarSize(60 * n, "", f"{n} mins") for n in (2, 3, 5, 10, 15, 20, 30)},
    "1 hour": BarSize(3600, "", "1 hour"),
    **{f"{n} hours": BarSize(3600 * n, "", f"{n} hours") for n in (2, 3, 4, 8)},
    "1 day": BarSize(0, "day", "1 day"),
    "1 week": BarSize(0, "week", "1 week"), "1w": BarSize(0, "week", "1W"),
    "1 month": BarSize(0, "month", "1 month"), "1m": BarSize(0, "month", "1M"),
}
BAR_WHATS = ("TRADES", "MIDPOINT", "BID", "ASK")
TICK_WHATS = ("TRADES", "MIDPOINT", "BID_ASK")
_DURATION = re.compile(r"([0-9]{1,6}) ([SDWMY])")
_END = re.compile(r"([0-9]{8})(?:([ -])([0-9]{2}):([0-9]{2}):([0-9]{2}))?(?: (\S+))?")
# The shortest bar TWS allows for a duration (its "step sizes"; a week of 1-minute bars is allowed, as TWS
# does in practice), by the duration's length in seconds.
_STEPS = ((1800, 1), (3600, 5), (14400, 10), (28800, 30), (7 * 86_400, 60), (31 * 86_400, 1800))


class Refusal(Exception):
    """The error TWS sends on the request's id for this request."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def bar_size(text: str) -> BarSize:
    key = " ".join(text.split())
    size = _BAR_SIZES.get(key) or _BAR_SIZES.get(key.lower())
    if size is None:
        raise Refusal(321, "Error validating request.-'bK' : cause - Historical data bar size setting is invalid. "
                           f"Legal ones are: {', '.join(BAR_SIZE_TEXTS)}")
    return size


def duration(text: str) -> Duration:
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise Refusal(321, f"Error validating request.-'bH' : cause - Historical data query duration {text!r} is "
                           "invalid. It is a whole number, a space and S, D, W, M or Y, e.g. '1 D' or '3600 S'")
    return Duration(int(match.group(1)), match.group(2))


def check_step(span: Duration, size: BarSize) -> None:
    """Too many bars for one request: TWS refuses bars smaller than its step size for the duration."""
    seconds = span.seconds
    smallest = next((step for limit, step in _STEPS if seconds <= limit), 86_400)
    bar = size.seconds or 86_400
    if bar < smallest:
        shortest = next(b.text for b in _BAR_SIZES.values() if (b.seconds or 86_400) >= smallest and b.text)
        raise Refusal(162, f"{HMDS}invalid step: bars of {size.text} over {span.count} {span.unit} are too many; "
                           f"use bars of at least {shortest} or a shorter duration")


def end_time(text: str) -> float | None:
    """An end date/time: '' is now; 'YYYYMMDD HH:MM:SS' is the gateway's local time (TWS's login time zone),
    with a zone name after it in that zone, and 'YYYYMMDD-HH:MM:SS' is UTC. A date alone is its midnight."""
    text = text.strip()
    if not text:
        return None
    match = _END.fullmatch(text)
    if match is None:
        raise _bad_end(text)
    day, dash, hh, mm, ss, zone = match.groups()
    try:
        wall = datetime.strptime(day + (f"{hh}{mm}{ss}" if hh else "000000"), "%Y%m%d%H%M%S")
    except ValueError:
        raise _bad_end(text) from None
    if dash == "-" or (zone or "").upper() in ("UTC", "GMT"):
        if dash == "-" and zone:
            raise _bad_end(text)
        return wall.replace(tzinfo=UTC).timestamp()
    if not zone:
        return wall.timestamp()
    if zone.upper() in EASTERN_NAMES:
        return eastern_epoch(wall)
    try:
        return wall.replace(tzinfo=ZoneInfo(zone)).timestamp()
    except (ZoneInfoNotFoundError, ValueError):
        raise Refusal(321, f"Error validating request.-'bP' : cause - unknown time zone {zone!r} in the end "
                           f"date/time {text!r}; use UTC, US/Eastern or no zone (the gateway's local time)") from None


def _bad_end(text: str) -> Refusal:
    return Refusal(321, f"Error validating request.-'bP' : cause - Historical data query end date/time string "
                        f"[{text}] is invalid. Format is 'YYYYMMDD{{SPACE}}hh:mm:ss[{{SPACE}}TMZ]'.")


def what_to_show(text: str, symbol: str, exchange: str, allowed: tuple[str, ...] = BAR_WHATS) -> str:
    what = text.strip().upper()
    if what not in allowed:
        raise Refusal(162, f"{HMDS}No historical market data for {symbol}/STK@{exchange or 'SMART'} "
                           f"{text.strip() or '(empty)'}: the paper gateway has {', '.join(allowed)}")
    return what


def no_data(symbol: str, exchange: str, what: str) -> Refusal:
    return Refusal(162, f"{HMDS}HMDS query returned no data: {symbol}@{exchange or 'SMART'} {what.title()}")
