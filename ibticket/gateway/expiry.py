"""Good-till-date orders: reading goodTillDate as TWS does, the gateway's clock, and the timer that cancels
a GTD order when its time comes.

goodTillDate takes TWS's formats: "20260315 15:30:00 US/Eastern" (any IANA zone name), "20260315-19:30:00"
(UTC, with the dash), "20260315 15:30:00" (the gateway's local time; TWS deprecates this one) and the same
without the date (today). It is used with tif="GTD" only; with another TIF it is echoed and ignored.

The clock is the wall clock, which tests and tools may move forward (`PaperGateway.advance_clock`): GTD
orders then expire as if that much time had passed, without waiting for it.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .book import OrderBook, WorkingOrder

FORMAT_HELP = (
    "The date, time, or time-zone entered is invalid. The correct format is yyyymmdd hh:mm:ss xx/xxxx where "
    "yyyymmdd and xx/xxxx are optional. E.g.: 20031126 15:59:00 US/Eastern  Note that there is a space between "
    "the date and time, and between the time and time-zone.  If no date is specified, current date is assumed. "
    "If no time-zone is specified, local time-zone is assumed(deprecated).  You can also provide "
    "yyyymmddd-hh:mm:ss time is in UTC. Note that there is a dash between the date and time in UTC notation."
)
_UTC_FORM = re.compile(r"(\d{8})-(\d{2}:\d{2}:\d{2})")
_LOCAL_FORM = re.compile(r"(?:(\d{8}) )?(\d{2}:\d{2}:\d{2})(?: ([A-Za-z][A-Za-z0-9_+\-/]{0,63}))?")


def parse_good_till_date(text: str, now: datetime) -> datetime:
    """The moment goodTillDate names (aware); ValueError with TWS's explanation when it names none."""
    text = " ".join(text.split())
    utc = _UTC_FORM.fullmatch(text)
    try:
        if utc:
            return datetime.combine(_day(utc.group(1)), _time(utc.group(2)), UTC)
        local = _LOCAL_FORM.fullmatch(text)
        if local is None:
            raise ValueError(FORMAT_HELP)
        day_text, time_text, zone_name = local.groups()
        zone = _zone(zone_name) if zone_name else None
        day = _day(day_text) if day_text else now.astimezone(zone).date()
        when = datetime.combine(day, _time(time_text))
        return when.replace(tzinfo=zone) if zone is not None else when.astimezone()
    except (ValueError, OverflowError, OSError):
        raise ValueError(FORMAT_HELP) from None


def _day(text: str) -> date:
    return datetime.strptime(text, "%Y%m%d").date()


def _time(text: str) -> time:
    return datetime.strptime(text, "%H:%M:%S").time()


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(FORMAT_HELP) from None


class Clock:
    """The wall clock, plus whatever time tests have skipped ahead (advance)."""

    def __init__(self) -> None:
        self._skipped = timedelta(0)

    def now(self) -> datetime:
        return datetime.now().astimezone() + self._skipped

    def advance(self, seconds: float) -> None:
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"the clock only moves forward: {seconds!r}")
        self._skipped += timedelta(seconds=seconds)


class ExpiryTimer:
    """One asyncio timer for the earliest deadline; `on_due` runs when it passes (and re-arms the timer)."""

    # A due order that is still filling is looked at again this much later.
    RETRY = 0.05

    def __init__(self, clock: Clock, on_due: Callable[[], None]) -> None:
        self._clock = clock
        self._on_due = on_due
        self._handle: asyncio.TimerHandle | None = None

    def arm(self, deadlines: Iterable[datetime]) -> None:
        self.close()
        earliest = min(deadlines, default=None)
        if earliest is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not serving yet: PaperGateway.start arms it
        delay = max(self.RETRY, (earliest - self._clock.now()).total_seconds())
        self._handle = loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._on_due()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class GoodTillDate:
    """Cancels GTD orders when their time comes (by `cancel`), on a timer armed for the earliest one."""

    def __init__(self, book: OrderBook, cancel: Callable[[WorkingOrder], None]) -> None:
        self.clock = Clock()
        self._book = book
        self._cancel = cancel
        self._timer = ExpiryTimer(self.clock, self.expire_due)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.expire_due()

    def expire_due(self) -> None:
        """Cancel the GTD orders whose time has come (one still filling is looked at again shortly)."""
        due = self.clock.now()
        for order in self._gtd_orders():
            if order.expires_at is not None and order.expires_at <= due and not order.filling:
                self._cancel(order)
        self.arm()

    def arm(self) -> None:
        self._timer.arm(o.expires_at for o in self._gtd_orders() if o.expires_at is not None)

    def close(self) -> None:
        self._timer.close()

    def _gtd_orders(self) -> list[WorkingOrder]:
        return [o for o in self._book.live_orders() if o.tif == "GTD"]
