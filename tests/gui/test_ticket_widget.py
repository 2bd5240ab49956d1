"""The ticket on its own: ticks, size increments, the touch, and the Send text."""

from __future__ import annotations

from datetime import datetime

from ibticket.broker.market import Quote
from ibticket.gui.widgets.ticket import Instrument, OrderTicket


def _quote(symbol: str, bid: float, ask: float, last: float) -> Quote:
    return Quote(symbol=symbol, bid=bid, ask=ask, last=last, bid_size=100, ask_size=200, last_size=10, close=None,
                 time=datetime.now(), delayed=False)


def test_a_price_off_the_tick_is_marked_not_rounded(keep) -> None:
    t = keep(OrderTicket())
    t.set_instrument(Instrument("XYZ", "XYZ CORP", tick=0.05))
    t.order_type.setCurrentText("LMT")
    t.limit.setValue(10.02)
    assert t.limit.value() == 10.02  # kept as typed
    problems = t.problems()
    assert problems == ["Limit price 10.02 is not on the 0.05 tick; use 10.00 or 10.05"]
    assert not t.send.isEnabled() and "border" in t.limit.styleSheet()
    t.limit.setValue(10.05)
    assert t.problems() == [] and t.send.isEnabled() and t.limit.styleSheet() == ""
    assert t.send.text() == "BUY 100 XYZ LMT 10.05 DAY"


def test_a_lot_size_is_enforced_and_the_limit_starts_at_the_touch(keep) -> None:
    t = keep(OrderTicket())
    t.set_instrument(Instrument("LOT", tick=0.01, size_increment=100))
    assert t.quantity.singleStep() == 100
    t.quantity.setValue(150)
    assert t.problems() == ["Enter a limit price", "LOT trades in lots of 100"]  # no quote yet: no price
    t.quantity.setValue(200)
    t.set_quote(_quote("LOT", 9.98, 10.02, 10.00))
    assert t.limit.value() == 10.02  # a buy limit starts at the ask
    t.sell.click()
    assert t.limit.value() == 9.98  # and a sell at the bid, until the trader types a price
    assert "1,996.00 USD" in t.value.text()
    t.bid.click()  # take the bid: sell at 9.98
    assert t.side == "SELL" and t.send.text() == "SELL 200 LOT LMT 9.98 DAY"
