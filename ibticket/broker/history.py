"""The day's 1-minute bars for the chart, from the gateway's historical data, as plain records.

TWS, IB Gateway and the embedded paper gateway (which simulates the day's history, see docs/gateway.md) are
asked the same way. An older paper gateway answers with "message id 20 is not supported" (an error without
the request's id, which the library cannot match to the request): that is noticed and answered [] at once,
and anything else that never answers is given up after ``timeout`` seconds. History is a nicety: no
failure here ever reaches the trader as an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

log = logging.getLogger(__name__)

HISTORICAL_DATA_REQUEST = 20  # the TWS API's message id of reqHistoricalData
UNSUPPORTED = 321
DEFAULT_TIMEOUT = 8.0


@dataclass(frozen=True)
class Bar:
    """One bar. ``start`` is naive local time (like ``Quote.time``), the bar's first second."""

    start: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


def bars_from(items: Iterable[Any]) -> list[Bar]:
    """The library's BarData as Bars: UTC times become local, bars without a price are left out."""
    bars: list[Bar] = []
    for item in items:
        when = item.date
        if isinstance(when, datetime):
            if when.tzinfo is not None:
                when = when.astimezone().replace(tzinfo=None)
        elif isinstance(when, date):
            when = datetime(when.year, when.month, when.day)
        else:
            continue
        prices = (item.open, item.high, item.low, item.close)
        if not all(isinstance(p, int | float) and p > 0 for p in prices):
            continue
        volume = item.volume if isinstance(item.volume, int | float) and item.volume >= 0 else 0.0
        bars.append(Bar(when, float(item.open), float(item.high), float(item.low), float(item.close), float(volume)))
    return bars


async def day_bars(core: Any, symbol: str, timeout: float = DEFAULT_TIMEOUT, bar_size: str = "1 min") -> list[Bar]:
    """Today's (or the last session's) trade bars for ``symbol``, oldest first; [] when there is no history."""
    if not core.is_connected:
        return []  # disconnected, nothing can be asked
    try:
        info = await core.contracts.resolve(symbol)
    except Exception as exc:
        log.info("no history for %s: %s", symbol, exc)
        return []
    ib = core.ib
    loop = asyncio.get_running_loop()
    unsupported: asyncio.Future[None] = loop.create_future()

    def on_error(req_id: int, code: int, message: str, *_rest: Any) -> None:
        if (req_id is None or req_id < 0) and code == UNSUPPORTED and \
                f"message id {HISTORICAL_DATA_REQUEST} " in message and not unsupported.done():
            unsupported.set_result(None)

    ib.errorEvent += on_error
    request = asyncio.ensure_future(ib.reqHistoricalDataAsync(
        info.contract, "", "1 D", bar_size, "TRADES", useRTH=False, formatDate=2, timeout=timeout))
    try:
        await asyncio.wait({request, unsupported}, timeout=timeout + 1, return_when=asyncio.FIRST_COMPLETED)
        if not request.done():
            log.info("no history for %s: %s", symbol,
                     "the gateway does not support historical data" if unsupported.done() else "no answer")
            return []
        return bars_from(request.result() or [])
    except Exception as exc:  # a refused request (no permission, pacing): the chart shows ticks only
        log.info("no history for %s: %s", symbol, exc)
        return []
    finally:
        ib.errorEvent -= on_error
        if not request.done():
            request.cancel()
        if not unsupported.done():
            unsupported.cancel()
