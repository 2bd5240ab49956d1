"""Exchange time for US stocks: America/New_York without a time-zone database, trading days and sessions.

The US rule (since 2007) is computed by hand: daylight time from the second Sunday of March, 02:00 local,
to the first Sunday of November, 02:00 local. zoneinfo is not used because Windows has no zone data unless
the tzdata package is installed, and the gateway imports only the standard library.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

# The extended session TWS reports for US stocks with useRTH=0, and the regular one (useRTH=1).
EXTENDED_OPEN = time(4, 0)
RTH_OPEN = time(9, 30)
RTH_CLOSE = time(16, 0)
EXTENDED_CLOSE = time(20, 0)
EXCHANGE_TZ_NAME = "US/Eastern"
# The names a client may give the exchange's zone in an end date/time.
EASTERN_NAMES = frozenset({"US/EASTERN", "AMERICA/NEW_YORK", "EST", "EDT", "EST5EDT", "ET"})


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    first_sunday = first + timedelta(days=(6 - first.weekday()) % 7)
    return first_sunday + timedelta(weeks=n - 1)


def _dst_bounds_utc(year: int) -> tuple[datetime, datetime]:
    start = datetime.combine(_nth_sunday(year, 3, 2), time(7, 0), UTC)  # 02:00 EST
    end = datetime.combine(_nth_sunday(year, 11, 1), time(6, 0), UTC)  # 02:00 EDT
    return start, end


def utc_offset_hours(at: datetime) -> int:
    """ET's offset from UTC (-4 or -5) at an aware instant."""
    at = at.astimezone(UTC)
    start, end = _dst_bounds_utc(at.year)
    return -4 if start <= at < end else -5


def to_eastern(epoch: float) -> datetime:
    """The naive New York wall-clock time of an epoch second."""
    at = datetime.fromtimestamp(epoch, UTC)
    return (at + timedelta(hours=utc_offset_hours(at))).replace(tzinfo=None)


def eastern_epoch(wall: datetime) -> float:
    """The epoch second of a naive New York wall-clock time (the repeated autumn hour: its first pass)."""
    for offset in (-4, -5):
        candidate = wall.replace(tzinfo=UTC) - timedelta(hours=offset)
        if utc_offset_hours(candidate) == offset:
            return candidate.timestamp()
    # The skipped spring hour does not exist; TWS moves such a time forward, so do we.
    return (wall.replace(tzinfo=UTC) + timedelta(hours=5)).timestamp()


def at_eastern(day: date, clock: time) -> float:
    return eastern_epoch(datetime.combine(day, clock))


def is_trading_day(day: date) -> bool:
    """Monday to Friday. Exchange holidays are not simulated."""
    return day.weekday() < 5


def previous_trading_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day


def session_bounds(day: date, use_rth: bool) -> tuple[float, float]:
    """Epoch start and end of a day's session: 09:30-16:00 with useRTH, else 04:00-20:00."""
    if use_rth:
        return at_eastern(day, RTH_OPEN), at_eastern(day, RTH_CLOSE)
    return at_eastern(day, EXTENDED_OPEN), at_eastern(day, EXTENDED_CLOSE)


def local_text(epoch: float) -> str:
    """formatDate=1 for intraday times: the gateway machine's local time, IB's two-space form.

    The zone-suffixed form ("20250102 09:30:00 US/Eastern") would make ib_insync need zone data, which
    Windows lacks without tzdata: the request would fail inside the client's decoder and never end.
    """
    return datetime.fromtimestamp(epoch).strftime("%Y%m%d  %H:%M:%S")


def schedule_text(epoch: float) -> str:
    """A trading schedule's times: New York wall clock, IB's "YYYYMMDD-HH:MM:SS"."""
    return to_eastern(epoch).strftime("%Y%m%d-%H:%M:%S")
