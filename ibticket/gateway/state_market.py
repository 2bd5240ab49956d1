"""The market in the state file: the quotes are saved with the time they were taken, and the next start
resumes from them (Market.resume) instead of starting again from stocks.csv.

Quotes move four times a second, so they are not written with every move: a journal line carries the
quotes that changed at most every SAVE_INTERVAL seconds (the desk tells the state file each time the market
moves), and always in a snapshot and when the gateway stops. After a kill -9 the saved quotes are at most
that old, and the restart walks them on for the time since they were taken.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from .journal_records import QUOTE_PRICES, market_record
from .market import Market, Quote, SavedQuote

# Seconds between two saves of the moving market: about 1.5 MB of journal an hour with 35 symbols.
SAVE_INTERVAL = 10.0


def _key(q: Quote) -> tuple[float | int, ...]:
    return (*(getattr(q, key) for key in QUOTE_PRICES), q.volume)


class MarketJournal:
    """What the state file needs of the market: resume it on load, and its changed quotes when a save is due."""

    def __init__(self, market: Market, seed: int, tick_interval: float | None) -> None:
        self._market = market
        self._seed = seed
        self._tick_interval = tick_interval
        self._written: dict[str, tuple[float | int, ...]] = {}
        self._pending: dict[str, tuple[float | int, ...]] | None = None
        self._last_save = -math.inf
        # The next line carries the changed quotes.
        self.due = False

    def restore(self, saved: Iterable[SavedQuote], now: datetime) -> list[str]:
        return self._market.resume(saved, self._seed, now, self._tick_interval)

    def moved(self) -> bool:
        """The market moved; whether a save is due now."""
        if not self.due and time.monotonic() - self._last_save >= SAVE_INTERVAL:
            self.due = True
        return self.due

    def record(self, everything: bool = False) -> dict[str, Any] | None:
        """The "market" of the line about to be written: every quote (a snapshot), or, when a save is due,
        those that changed since the last one written; else None. written() makes it the saved state once
        that line is on disk (a line that failed leaves nothing behind: the next record() replaces it)."""
        self._pending = None
        if not (everything or self.due):
            return None
        quotes = self._market.quotes()
        keys = {symbol: _key(q) for symbol, q in quotes.items()}
        changed = {s: q for s, q in quotes.items() if everything or self._written.get(s) != keys[s]}
        if not changed:
            self._saved()
            return None
        self._pending = keys
        return market_record(changed, datetime.now().astimezone())

    def written(self) -> None:
        """The line made by the last record() is on disk."""
        if self._pending is not None:
            self._written, self._pending = self._pending, None
            self._saved()

    def _saved(self) -> None:
        self.due = False
        self._last_save = time.monotonic()
