"""Market.resume: a restart continues each symbol from its saved quote, moved by the walk it would have made
while the gateway was away: deterministic under the seed, bounded however long the gateway was away."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ibticket.gateway.market import GAP_LIMIT, GAP_SIGMA, Market, SavedQuote, gap_move
from ibticket.gateway.universe import Universe

UNIVERSE = Universe.load(None)
SAVED_AT = datetime(2026, 3, 2, 15, 30, tzinfo=datetime.now().astimezone().tzinfo)
MOST = math.exp(GAP_SIGMA * GAP_LIMIT)


def _saved(symbol: str = "AAPL", last: float = 223.80, at: datetime = SAVED_AT) -> SavedQuote:
    return SavedQuote(symbol, bid=round(last - 0.01, 2), ask=round(last + 0.01, 2), last=last, volume=1_234_500,
                      open=225.10, high=226.40, low=last, close=224.00, at=at)


def _resumed(saved: list[SavedQuote], now: datetime, tick_interval: float | None = 0.25, seed: int = 1) -> Market:
    market = Market(UNIVERSE, seed)
    market.resume(saved, seed, now, tick_interval)
    return market


def test_a_market_that_moves_only_by_hand_resumes_exactly_where_it_was():
    q = _resumed([_saved()], SAVED_AT + timedelta(days=3), tick_interval=None).quote("AAPL")
    assert (q.bid, q.ask, q.last) == (223.79, 223.81, 223.80)
    assert gap_move(1, "AAPL", SAVED_AT, 86_400.0, None) == 1.0


def test_within_the_same_day_the_session_carries_on():
    q = _resumed([_saved()], SAVED_AT + timedelta(seconds=5)).quote("AAPL")
    assert (q.open, q.close, q.volume) == (225.10, 224.00, 1_234_500)
    assert q.high == 226.40 and q.low == min(223.80, q.last)
    assert abs(q.last - 223.80) < 1.0  # five seconds of walk: cents, not dollars
    assert q.bid < q.ask and q.bid <= q.last <= q.ask + 0.01


def test_on_a_later_day_the_saved_last_is_the_close_and_a_new_session_opens():
    q = _resumed([_saved()], SAVED_AT + timedelta(days=1)).quote("AAPL")
    assert q.close == 223.80
    assert q.open == q.high == q.low == q.last and q.volume == 0


def test_the_move_is_deterministic_under_the_seed():
    later = SAVED_AT + timedelta(hours=2)
    first, again = _resumed([_saved()], later).quote("AAPL"), _resumed([_saved()], later).quote("AAPL")
    assert (first.bid, first.ask, first.last) == (again.bid, again.ask, again.last)
    other = _resumed([_saved()], later, seed=2).quote("AAPL")
    assert other.last != first.last
    # The walk after the restart is the same for the same file, and not the first launch's walk replayed.
    markets = [_resumed([_saved()], later) for _ in range(2)]
    for market in markets:
        market.step()
    assert markets[0].quote("AAPL") == markets[1].quote("AAPL")
    fresh, resumed = Market(UNIVERSE, 1), Market(UNIVERSE, 1)
    resumed.resume([_saved("MSFT", 400.0)], 1, SAVED_AT, 0.25)
    sizes = {id(m): [m.step() and m.quote("AAPL").bid_size for _ in range(10)] for m in (fresh, resumed)}
    assert sizes[id(fresh)] != sizes[id(resumed)]


@settings(max_examples=200, deadline=None)
@given(seconds=st.floats(0, 400 * 86_400), seed=st.integers(0, 2**32))
def test_no_absence_moves_a_price_absurdly(seconds: float, seed: int):
    factor = gap_move(seed, "AAPL", SAVED_AT, seconds, 0.25)
    assert 1 / MOST - 1e-12 <= factor <= MOST + 1e-12  # at most about 5 % either way


def test_a_month_away_moves_prices_like_days_not_like_a_month_of_the_running_walk():
    now = SAVED_AT + timedelta(days=30)
    moves = [gap_move(seed, "AAPL", SAVED_AT, (now - SAVED_AT).total_seconds(), 0.25) for seed in range(400)]
    spread = math.sqrt(sum(math.log(m) ** 2 for m in moves) / len(moves))
    assert 0.01 < spread < 0.025  # about GAP_SIGMA; the running walk's own would be 0.0004 * sqrt(10.4M) = 1.3
    assert max(moves) <= MOST + 1e-12


def test_a_clock_that_went_back_does_not_move_prices():
    q = _resumed([_saved()], SAVED_AT - timedelta(hours=1)).quote("AAPL")
    assert q.last == 223.80


def test_symbols_the_list_no_longer_has_are_left_out_and_the_rest_start_as_before():
    market = Market(UNIVERSE, 1)
    start = market.quote("MSFT")
    assert market.resume([_saved("GONE", 10.0), _saved("AAPL")], 1, SAVED_AT, None) == ["AAPL"]
    assert market.quote("MSFT") == start


@pytest.mark.parametrize("last", [0.02, 9_999_999.98])
def test_extreme_saved_prices_stay_on_the_tick(last: float):
    q = _resumed([_saved(last=last)], SAVED_AT + timedelta(minutes=3)).quote("AAPL")
    assert q.bid >= 0.01 and q.ask >= q.bid and q.last >= 0.01
    assert all(abs(p * 100 - round(p * 100)) < 1e-6 for p in (q.bid, q.ask, q.last))
