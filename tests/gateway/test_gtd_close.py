"""Good-till-date orders (the gateway's clock moved forward instead of waiting) and orders at the close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ib_insync import LimitOrder, Order

from ibticket.gateway import PaperGateway
from ibticket.gateway.expiry import FORMAT_HELP, parse_good_till_date

from .helpers import ErrorLog, connect, qualified, run_gateway_test, wait_for, wait_status


def utc_in(seconds: float) -> str:
    """A goodTillDate in TWS's UTC form ("yyyymmdd-hh:mm:ss")."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y%m%d-%H:%M:%S")


def test_a_gtd_order_works_until_its_time_and_is_then_cancelled():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 200.0)
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        until = utc_in(3600)
        trade = ib.placeOrder(contract, LimitOrder("BUY", 10, 190.0, tif="GTD", goodTillDate=until))
        keeper = ib.placeOrder(contract, LimitOrder("BUY", 10, 189.0, tif="GTC"))
        await wait_status(keeper, "Submitted")
        assert trade.orderStatus.status == "Submitted"
        watcher = await connect(gw, client_id=9)
        (seen,) = [t for t in await watcher.reqAllOpenOrdersAsync() if t.order.orderId == trade.order.orderId]
        assert (seen.order.tif, seen.order.goodTillDate) == ("GTD", until)
        watcher.disconnect()
        gw.advance_clock(1800)
        assert trade.orderStatus.status == "Submitted"
        gw.advance_clock(1801)
        await wait_status(trade, "Cancelled")
        await wait_for(lambda: 202 in errors.codes(trade.order.orderId), what="error 202")
        assert keeper.orderStatus.status == "Submitted"
        ib.disconnect()

    run_gateway_test(body)


def test_the_expiry_timer_fires_by_itself():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("MSFT", 400.0)
        ib = await connect(gw)
        contract = await qualified(ib, "MSFT")
        trade = ib.placeOrder(contract, LimitOrder("SELL", 5, 420.0, tif="GTD", goodTillDate=utc_in(600)))
        await wait_status(trade, "Submitted")
        gw.advance_clock(599.7)  # a few tenths of a second before its time: the timer takes it from here
        assert trade.orderStatus.status == "Submitted"
        await wait_status(trade, "Cancelled", timeout=3.0)
        ib.disconnect()

    run_gateway_test(body)


def test_a_gtd_order_in_a_named_time_zone_and_in_local_time():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("IBM", 220.0)
        ib = await connect(gw)
        contract = await qualified(ib, "IBM")
        eastern = (datetime.now(ZoneInfo("US/Eastern")) + timedelta(hours=2)).strftime("%Y%m%d %H:%M:%S US/Eastern")
        local = (datetime.now() + timedelta(hours=1)).strftime("%Y%m%d %H:%M:%S")
        in_zone = ib.placeOrder(contract, LimitOrder("BUY", 1, 200.0, tif="GTD", goodTillDate=eastern))
        in_local = ib.placeOrder(contract, LimitOrder("BUY", 1, 201.0, tif="GTD", goodTillDate=local))
        await wait_status(in_local, "Submitted")
        gw.advance_clock(3601)
        await wait_status(in_local, "Cancelled")
        assert in_zone.orderStatus.status == "Submitted"
        gw.advance_clock(3600)
        await wait_status(in_zone, "Cancelled")
        ib.disconnect()

    run_gateway_test(body)


@pytest.mark.parametrize(("good_till", "says"), [
    ("", "needs a good-till date"),
    ("tomorrow", "The date, time, or time-zone entered is invalid"),
    ("20260101 25:00:00", "The date, time, or time-zone entered is invalid"),
    ("20260101 10:00:00 Mars/Olympus", "The date, time, or time-zone entered is invalid"),
    ("20000101-10:00:00", "has already passed"),
])
def test_gtd_orders_tws_refuses(good_till: str, says: str):
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "AAPL")
        trade = ib.placeOrder(contract, LimitOrder("BUY", 1, 100.0, tif="GTD", goodTillDate=good_till))
        await wait_for(lambda: errors.codes(trade.order.orderId), what="the refusal")
        assert errors.codes(trade.order.orderId) == [321]
        assert says in errors.text(321)
        assert gw.orders() == []
        ib.disconnect()

    run_gateway_test(body)


def test_good_till_date_formats():
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    assert parse_good_till_date("20260315-19:30:00", now) == datetime(2026, 3, 15, 19, 30, tzinfo=UTC)
    eastern = parse_good_till_date("20260315 15:30:00 US/Eastern", now)
    assert eastern == datetime(2026, 3, 15, 19, 30, tzinfo=UTC)  # EDT from March 8th
    assert parse_good_till_date("  20260315   15:30:00  UTC ", now) == datetime(2026, 3, 15, 15, 30, tzinfo=UTC)
    assert parse_good_till_date("15:30:00 UTC", now) == datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
    local = parse_good_till_date("20260315 15:30:00", now)
    assert local.tzinfo is not None and local.replace(tzinfo=None) == datetime(2026, 3, 15, 15, 30)
    for bad in ("20260315", "2026-03-15 15:30:00", "20260230 10:00:00", "20260315 15:30", "20260315 15:30:00 ../x"):
        with pytest.raises(ValueError) as info:
            parse_good_till_date(bad, now)
        assert str(info.value) == FORMAT_HELP


# --- at the close --------------------------------------------------------------------------------------------
def test_moc_and_loc_orders_trade_at_the_close():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("SPY", 500.0)
        ib = await connect(gw)
        contract = await qualified(ib, "SPY")
        moc = ib.placeOrder(contract, Order(action="BUY", totalQuantity=10, orderType="MOC"))
        loc_in = ib.placeOrder(contract, Order(action="BUY", totalQuantity=5, orderType="LOC", lmtPrice=502.0))
        loc_out = ib.placeOrder(contract, Order(action="SELL", totalQuantity=5, orderType="LOC", lmtPrice=505.0))
        await wait_status(loc_out, "PreSubmitted")
        gw.set_price("SPY", 498.0)
        assert gw.executions() == []  # nothing trades before the close
        gw.set_price("SPY", 501.0)
        assert gw.expire_day_orders() == 1  # the LOC whose limit the close did not reach
        await wait_status(moc, "Filled")
        await wait_status(loc_in, "Filled")
        await wait_status(loc_out, "Cancelled")
        assert moc.fills[0].execution.price == loc_in.fills[0].execution.price == 501.0
        ib.disconnect()

    run_gateway_test(body)


def test_at_the_close_orders_must_be_day_orders():
    async def body(gw: PaperGateway) -> None:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        contract = await qualified(ib, "SPY")
        trade = ib.placeOrder(contract, Order(action="BUY", totalQuantity=1, orderType="MOC", tif="GTC"))
        await wait_for(lambda: errors.codes(trade.order.orderId), what="the refusal")
        assert errors.codes(trade.order.orderId) == [321]
        assert "must be DAY orders" in errors.text(321)
        ib.disconnect()

    run_gateway_test(body)
