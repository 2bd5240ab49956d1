"""Fill prices and the margin check, as IB applies them.

* A stop limit that triggers is a new limit order in the market: it fills at the touch when the touch is
  within its limit, and only rests at its limit when it is not. (It used to fill at its limit at once: a
  SELL STP LMT stop 221.91 / limit 216.91 filled at 216.91 with the bid at 221.90.)
* No execution is ever worse than its limit: a buy at or below it, a sell at or above it, wherever the
  limit sits (inside the spread, at the touch, through it) and however the market moves afterwards.
* The margin check prices an order where it will fill: a marketable limit at the touch, not at its far
  limit (SELL 20,000 AAPL LMT 1.11 on 100k passed, filled at 229.85 and left 1.15M initial margin).
* An order that only reduces a position is accepted even when the account is short of margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ib_insync import IB, LimitOrder, MarketOrder, Order, StopLimitOrder, Trade

from ibticket.gateway import PaperGateway

from .helpers import ErrorLog, connect, qualified, run_gateway_test, wait_for, wait_status

TICK = 0.01
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _cents(ticks: int) -> float:
    return round(ticks * TICK, 2)


async def _placed(ib: IB, symbol: str, order: Order) -> Trade:
    trade = ib.placeOrder(await qualified(ib, symbol), order)
    await wait_for(lambda: trade.orderStatus.status in ("Submitted", "Filled", "Cancelled"), what="an answer")
    return trade


# --- a stop limit that triggers -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("order", "trigger", "price"),
    [
        # The order: triggered with the bid at 221.90, far above the limit: it takes the bid.
        (StopLimitOrder("SELL", 100, 216.91, 221.91), (221.90, 221.92, 221.91), 221.90),
        (StopLimitOrder("BUY", 100, 226.00, 224.50), (224.49, 224.51, 224.50), 224.51),
    ],
    ids=["sell", "buy"],
)
def test_a_triggered_stop_limit_takes_the_market_when_it_is_within_the_limit(order, trigger, price):
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 223.80, spread=0.02)
        ib = await connect(gw)
        trade = ib.placeOrder(await qualified(ib, "AAPL"), order)
        await wait_status(trade, "PreSubmitted")
        bid, ask, last = trigger
        gw.set_quote("AAPL", bid=bid, ask=ask, last=last)
        await wait_status(trade, "Filled")
        assert [f.execution.price for f in trade.fills] == [price]
        ib.disconnect()

    run_gateway_test(body)


def test_a_triggered_stop_limit_beyond_its_limit_rests_and_fills_at_its_limit():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 223.80, spread=0.02)
        ib = await connect(gw)
        trade = ib.placeOrder(await qualified(ib, "AAPL"), StopLimitOrder("SELL", 100, 221.00, 221.91))
        await wait_status(trade, "PreSubmitted")
        gw.set_quote("AAPL", bid=220.50, ask=220.60, last=220.55)  # a gap through the stop and the limit
        await wait_status(trade, "Submitted")
        assert trade.fills == [] and gw.executions() == []
        gw.set_quote("AAPL", bid=221.20, ask=221.22, last=221.21)  # back above the limit: it was waiting there
        await wait_status(trade, "Filled")
        assert [f.execution.price for f in trade.fills] == [221.00]
        ib.disconnect()

    run_gateway_test(body)


# --- never worse than the limit ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Move:
    mid_ticks: int  # the market's move, in ticks
    spread_ticks: int
    last_at: str  # where the print is: "bid", "ask" or "mid"


@dataclass(frozen=True)
class Case:
    action: str
    order_type: str  # LMT or STP LMT
    tif: str
    spread_ticks: int  # of the market when the order is placed
    limit_ticks: int  # the limit, in ticks from the touch the order trades against (ask for a buy, bid for a sell),
    # towards the other side for negative values: -1 is one tick inside the spread (or at the far touch)
    stop_ticks: int  # a stop limit's stop, in ticks from the last print in the order's direction
    moves: tuple[Move, ...]


moves = st.builds(Move, st.integers(-12, 12), st.integers(0, 6), st.sampled_from(["bid", "ask", "mid"]))
cases = st.builds(
    Case, st.sampled_from(["BUY", "SELL"]), st.sampled_from(["LMT", "STP LMT"]), st.sampled_from(["DAY", "IOC"]),
    st.integers(1, 6), st.integers(-9, 4), st.integers(-3, 5), st.lists(moves, max_size=8).map(tuple),
)


def _quote(mid_ticks: int, spread_ticks: int, last_at: str) -> tuple[float, float, float]:
    bid_ticks = mid_ticks - spread_ticks // 2
    ask_ticks = bid_ticks + spread_ticks
    last_ticks = {"bid": bid_ticks, "ask": ask_ticks, "mid": (bid_ticks + ask_ticks) // 2}[last_at]
    return _cents(bid_ticks), _cents(ask_ticks), _cents(last_ticks)


def _order(case: Case, bid_ticks: int, ask_ticks: int, last_ticks: int) -> tuple[Order, float]:
    # Positive limit_ticks go through the touch (a buy above the ask, a sell below the bid).
    direction = 1 if case.action == "BUY" else -1
    touch = ask_ticks if case.action == "BUY" else bid_ticks
    limit = _cents(touch + direction * case.limit_ticks)
    if case.order_type == "LMT":
        return LimitOrder(case.action, 10, limit, tif=case.tif), limit
    stop = _cents(last_ticks + direction * case.stop_ticks)
    return StopLimitOrder(case.action, 10, limit, stop, tif=case.tif), limit


async def _never_worse_than_the_limit(gw: PaperGateway, case: Case) -> None:
    mid = 10_000  # 100.00
    bid, ask, last = _quote(mid, case.spread_ticks, "mid")
    gw.set_quote("MSFT", bid=bid, ask=ask, last=last)
    ib = await connect(gw)
    order, limit = _order(case, round(bid / TICK), round(ask / TICK), round(last / TICK))
    trade = ib.placeOrder(await qualified(ib, "MSFT"), order)
    await wait_for(lambda: trade.orderStatus.status in ("PreSubmitted", "Submitted", "Filled", "Cancelled"),
                   what="the order's first status")
    for move in case.moves:
        mid += move.mid_ticks
        gw.set_quote("MSFT", *_quote(mid, move.spread_ticks, move.last_at))
    executions = gw.executions()
    worse = [e.price for e in executions if (e.price > limit if case.action == "BUY" else e.price < limit)]
    assert worse == [], f"{case.action} limit {limit} executed at {worse}"
    # What the client was sent says the same.
    await wait_for(lambda: len(trade.fills) == len(executions), what="the fills")
    assert [f.execution.price for f in trade.fills] == [e.price for e in executions]
    ib.disconnect()


@PROPERTY
@given(cases)
def test_no_execution_is_worse_than_its_limit(case: Case):
    run_gateway_test(lambda gw: _never_worse_than_the_limit(gw, case))


@pytest.mark.parametrize(
    ("action", "limit", "price"),
    [
        ("BUY", 100.03, 100.03),  # inside the spread: rests, and fills at its limit when the ask comes to it
        ("BUY", 100.05, 100.05),  # at the ask: takes it
        ("BUY", 100.09, 100.05),  # through the ask: takes the ask, below its limit
        ("SELL", 100.02, 100.02),
        ("SELL", 100.00, 100.00),
        ("SELL", 99.95, 100.00),
    ],
)
def test_a_limit_inside_the_spread_at_the_touch_and_through_it(action, limit, price):
    async def body(gw: PaperGateway) -> None:
        gw.set_quote("MSFT", bid=100.00, ask=100.05, last=100.02)
        ib = await connect(gw)
        trade = await _placed(ib, "MSFT", LimitOrder(action, 10, limit))
        if trade.orderStatus.status == "Submitted":
            # Inside the spread: the market comes to it (a buy: the ask falls through it; a sell: the bid rises).
            gw.set_quote("MSFT", bid=99.90, ask=100.01, last=100.00) if action == "BUY" else gw.set_quote(
                "MSFT", bid=100.04, ask=100.10, last=100.05)
        await wait_status(trade, "Filled")
        assert [f.execution.price for f in trade.fills] == [price]
        ib.disconnect()

    run_gateway_test(body)


# --- the margin check -------------------------------------------------------------------------------------
def test_a_marketable_limit_is_margin_checked_where_it_fills_not_at_its_limit():
    async def body(gw: PaperGateway) -> None:
        gw.set_quote("AAPL", bid=229.85, ask=229.87, last=229.86)
        ib = await connect(gw)
        errors = ErrorLog(ib)
        # The order: at its limit it needs 5,550 of margin; it fills at the bid and needs 1,149,250.
        far_sell = await _placed(ib, "AAPL", LimitOrder("SELL", 20_000, 1.11))
        await wait_status(far_sell, "Cancelled")
        assert errors.codes(far_sell.order.orderId) == [201]
        assert "EQUITY WITH LOAN VALUE [100000.00 USD] MUST EXCEED THE INITIAL MARGIN [1149250.00 USD]" in (
            errors.text(201))
        assert gw.executions() == []
        # The mirror image: a far buy limit is not refused for a margin at its limit (375,000); at the ask it
        # needs 86,201.25 and fills there.
        far_buy = await _placed(ib, "AAPL", LimitOrder("BUY", 1_500, 1_000.00))
        await wait_status(far_buy, "Filled")
        assert [f.execution.price for f in far_buy.fills] == [229.87]
        ib.disconnect()

    run_gateway_test(body, start_cash=100_000.0)


def test_a_resting_limit_is_margin_checked_at_its_limit():
    async def body(gw: PaperGateway) -> None:
        gw.set_quote("AAPL", bid=229.85, ask=229.87, last=229.86)
        ib = await connect(gw)
        errors = ErrorLog(ib)
        too_big = await _placed(ib, "AAPL", LimitOrder("BUY", 2_001, 200.00))  # 100,050 at 200.00
        assert errors.codes(too_big.order.orderId) == [201]
        fits = await _placed(ib, "AAPL", LimitOrder("BUY", 2_000, 200.00))  # 100,000 at 200.00 (not at 229.87)
        assert fits.orderStatus.status == "Submitted" and errors.codes(fits.order.orderId) == []
        ib.disconnect()

    run_gateway_test(body, start_cash=100_000.0)


def test_an_order_that_reduces_a_position_is_accepted_when_the_account_is_short_of_margin():
    async def body(gw: PaperGateway) -> None:
        gw.set_price("SPY", 250.00)
        ib = await connect(gw)
        errors = ErrorLog(ib)
        bought = await _placed(ib, "SPY", MarketOrder("BUY", 1_500))  # 93,750 of margin on 100,000
        await wait_status(bought, "Filled")
        gw.set_price("SPY", 230.00)  # equity 69,992.50, initial margin 86,250: short of margin
        assert float(gw.account_values()["AvailableFunds"]) < 0
        more = await _placed(ib, "SPY", MarketOrder("BUY", 1))
        assert errors.codes(more.order.orderId) == [201]
        # Still short of margin after it (80,500 on 69,992.50), but it reduces the position: accepted.
        trim = await _placed(ib, "SPY", MarketOrder("SELL", 100))
        await wait_status(trim, "Filled")
        resting = await _placed(ib, "SPY", LimitOrder("SELL", 1_400, 260.00))
        assert resting.orderStatus.status == "Submitted"
        assert errors.codes(trim.order.orderId) == errors.codes(resting.order.orderId) == []
        # With that one working, a further sell would open a short position: it is checked as any other order
        # (and fits: 0.25 x 100 x 260 = 6,500).
        beyond = await _placed(ib, "SPY", LimitOrder("SELL", 100, 260.00))
        assert beyond.orderStatus.status == "Submitted"
        ib.disconnect()

    run_gateway_test(body, start_cash=100_000.0)
