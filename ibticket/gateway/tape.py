"""The live walk as minute bars: what the gateway's quotes did today, for today's history.

The gateway calls ``record`` whenever quotes change (every walk step, set_price, set_quote), so the bars of
today after the gateway started are the prices its clients saw. One New York day is kept; at the day's
change the tape starts again, and the day before becomes a simulated past day (see history.py).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from .clock import to_eastern
from .market import Quote
from .pricepath import ASK, BID, MIDPOINT, TRADES, Row

# A minute: open, high, low, close for each series, then volume and trade count.
_GROUP = {TRADES: 0, BID: 4, ASK: 8, MIDPOINT: 12}
_VOLUME, _COUNT, _SIZE = 16, 17, 18


class QuoteSource(Protocol):
    def quote(self, symbol: str) -> Quote: ...


@dataclass
class _SymbolTape:
    first_minute: int  # epoch // 60 of the first minute recorded
    prev_close: float  # the previous session's close when the tape started (the past days' anchor)
    start_price: float  # the last price when the tape started (today's simulated morning ends there)
    last_volume: int
    minutes: dict[int, array[float]] = field(default_factory=dict)
    last: array[float] | None = None


class Tape:
    def __init__(self, symbols: Iterable[str], market: QuoteSource, clock: Callable[[], float]) -> None:
        self._symbols = list(symbols)
        self._market = market
        self._clock = clock
        self.started = clock()
        self.day: date = to_eastern(self.started).date()
        self._tapes: dict[str, _SymbolTape] = {}
        self._begin(first_day=True)

    def _begin(self, first_day: bool) -> None:
        self._tapes.clear()
        minute = int(self.started // 60)
        for symbol in self._symbols:
            q = self._market.quote(symbol)
            # On a new day while running, yesterday ended at the last price: that is the new previous close.
            prev_close = q.close if first_day else q.last
            tape = _SymbolTape(minute, prev_close, q.last, q.volume)
            self._tapes[symbol] = tape
            self._update(tape, minute, q)

    def _roll(self) -> float:
        now = self._clock()
        if to_eastern(now).date() != self.day:
            self.started = now
            self.day = to_eastern(now).date()
            self._begin(first_day=False)
        return now

    def record(self, symbols: Iterable[str]) -> None:
        minute = int(self._roll() // 60)
        for symbol in symbols:
            tape = self._tapes.get(symbol)
            if tape is not None:
                self._update(tape, minute, self._market.quote(symbol))

    def _update(self, tape: _SymbolTape, minute: int, q: Quote) -> None:
        bar = tape.minutes.get(minute)
        if bar is None:
            bar = array("d", [0.0] * _SIZE)
            previous = tape.last
            for what, price in ((TRADES, q.last), (BID, q.bid), (ASK, q.ask), (MIDPOINT, (q.bid + q.ask) / 2)):
                g = _GROUP[what]
                opening = previous[g + 3] if previous is not None else price
                bar[g:g + 4] = array("d", [opening, opening, opening, opening])
            tape.minutes[minute] = bar
            tape.last = bar
        for what, price in ((TRADES, q.last), (BID, q.bid), (ASK, q.ask), (MIDPOINT, (q.bid + q.ask) / 2)):
            g = _GROUP[what]
            bar[g + 1] = max(bar[g + 1], price)
            bar[g + 2] = min(bar[g + 2], price)
            bar[g + 3] = price
        traded = q.volume - tape.last_volume
        if traded > 0:
            bar[_VOLUME] += traded
            bar[_COUNT] += max(1, math.ceil(traded / 100))
        tape.last_volume = q.volume

    def prev_close(self, symbol: str) -> float:
        self._roll()
        return self._tapes[symbol].prev_close

    def start_price(self, symbol: str) -> float:
        self._roll()
        return self._tapes[symbol].start_price

    def rows(self, symbol: str, what: str, start: float, end: float) -> list[Row]:
        """Today's minutes since the tape started that begin in [start, end), with the current quote as the
        newest close. A minute without a quote change repeats the last close (the market was quiet)."""
        now = self._roll()
        self.record([symbol])
        tape = self._tapes[symbol]
        g = _GROUP[what]
        rows: list[Row] = []
        last_minute = int(now // 60)
        first = max(tape.first_minute, math.ceil(start / 60))
        stop = min(last_minute, math.ceil(end / 60) - 1)
        previous: array[float] | None = None
        for minute in range(tape.first_minute, first):
            previous = tape.minutes.get(minute, previous)
        for minute in range(first, stop + 1):
            bar = tape.minutes.get(minute)
            if bar is None:
                if previous is None:
                    continue
                c = previous[g + 3]
                rows.append((minute * 60.0, c, c, c, c, 0, 0))
                continue
            rows.append((minute * 60.0, bar[g], bar[g + 1], bar[g + 2], bar[g + 3], int(bar[_VOLUME]),
                         int(bar[_COUNT])))
            previous = bar
        return rows
