"""Historical data over the socket with ib_insync: bar counts, the session, the last bar at the live price, a
past day the same every time (and in another gateway), head timestamp, keepUpToDate, and TWS's refusals."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from ib_insync import IB, BarDataList, Contract, RequestError, Stock

from ibticket.gateway import PaperGateway
from ibticket.gateway.clock import at_eastern, to_eastern, utc_offset_hours

from .helpers import connect, qualified, run_gateway_test, wait_event

LIMIT = 5.0


def past_friday() -> date:
    """A Friday two to three weeks back: inside the year of history, whatever day the tests run."""
    day = to_eastern(time.time()).date() - timedelta(days=14)
    return day - timedelta(days=(day.weekday() - 4) % 7)


def end_at(day: date, clock: str) -> str:
    return f"{day:%Y%m%d} {clock} US/Eastern"


def history(body: Any, **config: Any) -> Any:
    async def run(gw: PaperGateway) -> Any:
        ib = await connect(gw, client_id=3)
        ib.RaiseRequestErrors = True
        try:
            return await body(ib, await qualified(ib, "AAPL"), gw)
        finally:
            ib.disconnect()

    return run_gateway_test(run, timeout=20.0, **config)


async def bars_of(ib: IB, contract: Contract, end: str, duration: str, size: str, what: str = "TRADES",
                  rth: bool = True, fmt: int = 2) -> BarDataList:
    return await ib.reqHistoricalDataAsync(contract, end, duration, size, what, rth, formatDate=fmt, timeout=LIMIT)


def eastern(bar_date: datetime) -> datetime:
    return to_eastern(bar_date.timestamp())


@pytest.mark.parametrize(
    ("duration", "size", "rth", "clock", "count"),
    [
        ("1 D", "1 min", True, "16:00:00", 390),
        ("1 D", "1 min", False, "20:00:00", 960),
        ("1 D", "1 hour", True, "16:00:00", 7),
        ("2 D", "30 mins", True, "16:00:00", 26),
        ("1800 S", "1 secs", True, "11:00:00", 1800),
        ("3600 S", "5 secs", True, "11:00:00", 720),
        ("1 W", "1 day", True, "16:00:00", 5),
    ],
)
def test_bar_count_for_duration_and_size(duration: str, size: str, rth: bool, clock: str, count: int) -> None:
    async def body(ib: IB, contract: Contract, gw: PaperGateway) -> BarDataList:
        return await bars_of(ib, contract, end_at(past_friday(), clock), duration, size, rth=rth)

    bars = history(body)
    assert len(bars) == count
    if size == "1 hour":  # the first hourly bar is the session's first half hour, labelled 09:30
        assert [eastern(b.date).strftime("%H:%M") for b in bars] == \
            ["09:30", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"]
    if size == "1 min" and rth:
        assert [eastern(bars[i].date).strftime("%H:%M") for i in (0, -1)] == ["09:30", "15:59"]
    assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in bars)


def test_the_last_bar_ends_at_the_live_price_for_every_kind() -> None:
    async def body(ib: IB, contract: Contract, gw: PaperGateway) -> dict[str, float]:
        gw.set_quote("AAPL", 231.10, 231.14, last=231.12)
        closes = {}
        for what in ("TRADES", "MIDPOINT", "BID", "ASK"):
            closes[what] = (await bars_of(ib, contract, "", "1 D", "1 min", what, rth=False))[-1].close
        closes["seconds"] = (await bars_of(ib, contract, "", "60 S", "1 secs", rth=False))[-1].close
        closes["daily"] = (await bars_of(ib, contract, "", "1 M", "1 day"))[-1].close
        return closes

    assert history(body) == {"TRADES": 231.12, "MIDPOINT": 231.12, "BID": 231.10, "ASK": 231.14, "seconds": 231.12,
                             "daily": 231.12}


def test_a_past_day_is_the_same_every_time_and_in_another_gateway() -> None:
    end = end_at(past_friday(), "20:00:00")

    async def body(ib: IB, contract: Contract, gw: PaperGateway) -> tuple[list[Any], list[Any], list[Any]]:
        first = await bars_of(ib, contract, end, "1 D", "1 min", rth=False)
        gw.set_price("AAPL", 250.0)  # today moving changes nothing of the past
        again = await bars_of(ib, contract, end, "1 D", "1 min", rth=False)
        daily = await bars_of(ib, contract, end, "1 W", "1 day", rth=False)
        assert list(again) == list(first)
        return list(first), list(daily), list(await bars_of(ib, contract, end, "1 D", "5 mins", "MIDPOINT"))

    minutes, daily, mids = history(body, seed=4)
    other_minutes, other_daily, other_mids = history(body, seed=4)
    assert (other_minutes, other_daily, other_mids) == (minutes, daily, mids)
    day = daily[-1]  # the minutes add up to the day's bar
    assert (day.open, day.high, day.low, day.close) == \
        (minutes[0].open, max(b.high for b in minutes), min(b.low for b in minutes), minutes[-1].close)
    assert day.volume == sum(b.volume for b in minutes)


def test_the_head_timestamp_is_before_the_first_bar_and_earlier_there_is_no_data() -> None:
    async def body(ib: IB, contract: Contract, gw: PaperGateway) -> tuple[datetime, BarDataList, int]:
        head = await ib.reqHeadTimeStampAsync(contract, "TRADES", True, 2)
        year = await bars_of(ib, contract, "", "1 Y", "1 day")
        before = (head - timedelta(days=3)).strftime("%Y%m%d-%H:%M:%S")
        with pytest.raises(RequestError) as refused:
            await bars_of(ib, contract, before, "1 D", "1 hour")
        return head, year, refused.value.code

    head, year, code = history(body)
    first = year[0].date
    assert head <= datetime(first.year, first.month, first.day, 23, tzinfo=UTC)
    assert head.astimezone(UTC) < datetime.now(UTC) - timedelta(days=360)
    assert 240 <= len(year) <= 262 and code == 162


def test_format_date_1_and_2_are_the_same_instants() -> None:
    end = end_at(past_friday(), "12:00:00")

    async def body(ib: IB, contract: Contract, gw: PaperGateway) -> tuple[BarDataList, BarDataList]:
        return (await bars_of(ib, contract, end, "3600 S", "5 mins", fmt=1),
                await bars_of(ib, contract, end, "3600 S", "5 mins", fmt=2))

    local, epoch = history(body)
    assert [b.date.astimezone(UTC) for b in local] == [b.date for b in epoch]  # formatDate 1: naive local time
    assert all(b.date.tzinfo is None for b in local)


def test_keep_up_to_date_streams_the_newest_bar_until_cancelled() -> None:
    async def body(ib: IB, contract: Contract, gw: PaperGateway) -> None:
        bars = await ib.reqHistoricalDataAsync(contract, "", "1800 S", "1 min", "TRADES", False, formatDate=2,
                                               keepUpToDate=True, timeout=LIMIT)
        count = len(bars)
        gw.set_price("AAPL", 199.99)
        await wait_event(bars.updateEvent, lambda: bars[-1].close == 199.99, LIMIT, "the update")
        assert len(bars) in (count, count + 1)
        ib.cancelHistoricalData(bars)
        gw.set_price("AAPL", 188.88)
        await ib.reqCurrentTimeAsync()  # answered after anything the price move sent
        assert bars[-1].close == 199.99

    history(body)


@pytest.mark.parametrize(
    ("end", "duration", "size", "what", "keep", "code"),
    [
        ("", "1 D", "1 sec", "TRADES", False, 321),  # IB's bar size is "1 secs"
        ("", "1 day", "1 min", "TRADES", False, 321),
        ("", "1 D", "1 secs", "TRADES", False, 162),  # too many bars for the step size
        ("", "1 D", "1 min", "BID_ASK", False, 162),  # not simulated
        ("20250101 25:00:00", "1 D", "1 min", "TRADES", False, 321),
        ("20250101 12:00:00 Mars/Olympus", "1 D", "1 min", "TRADES", False, 321),
        ("20250101 12:00:00 US/Eastern", "1 D", "1 min", "TRADES", True, 321),  # live updates need no end
    ],
)
def test_refusals_end_the_request_on_its_id(end: str, duration: str, size: str, what: str, keep: bool,
                                            code: int) -> None:
    async def body(ib: IB, contract: Contract, gw: PaperGateway) -> RequestError:
        with pytest.raises(RequestError) as refused:
            await ib.reqHistoricalDataAsync(contract, end, duration, size, what, True, keepUpToDate=keep,
                                            timeout=LIMIT)
        return refused.value

    error = history(body)
    assert error.code == code and error.reqId > 0 and error.message


def test_an_unknown_contract_gets_200() -> None:
    async def body(ib: IB, contract: Contract, gw: PaperGateway) -> int:
        with pytest.raises(RequestError) as refused:
            await ib.reqHistoricalDataAsync(Stock("ZZZZQ", "SMART", "USD"), "", "1 D", "1 min", "TRADES", True,
                                            timeout=LIMIT)
        return refused.value.code

    assert history(body) == 200


def test_new_york_time_follows_the_us_daylight_saving_rule() -> None:
    assert utc_offset_hours(datetime(2025, 3, 9, 6, 59, tzinfo=UTC)) == -5
    assert utc_offset_hours(datetime(2025, 3, 9, 7, 0, tzinfo=UTC)) == -4
    assert utc_offset_hours(datetime(2025, 11, 2, 5, 59, tzinfo=UTC)) == -4
    assert utc_offset_hours(datetime(2025, 11, 2, 6, 0, tzinfo=UTC)) == -5
    assert at_eastern(date(2025, 7, 1), datetime.min.time().replace(hour=9, minute=30)) == \
        datetime(2025, 7, 1, 13, 30, tzinfo=UTC).timestamp()
    assert at_eastern(date(2025, 1, 2), datetime.min.time().replace(hour=16)) == \
        datetime(2025, 1, 2, 21, 0, tzinfo=UTC).timestamp()
