"""Day files of the order log for the log viewer's tests, written by the real handler and logger."""

from __future__ import annotations

import asyncio
import itertools
from datetime import date, datetime, time, timedelta
from pathlib import Path

from ibticket.core import ManualClock, OrderExecutionHandler, OrderLogger
from ibticket.core.records import BrokerAttempt, OrderRecord

DAY = date(2026, 2, 18)
SYMBOLS = ("AAPL", "MSFT", "IBM", "SPY", "NVDA")


class DayWriter:
    """A handler and a file logger for one day; the wall clock moves a millisecond per log line."""

    def __init__(self, folder: Path, day: date = DAY, start: time = time(9, 30)) -> None:
        self.clock = ManualClock()
        self._start = datetime.combine(day, start)
        self._ticks = itertools.count()
        self.logger = OrderLogger(log_dir=folder, log_to_console=False, now=self.now)
        self._broker_ids = itertools.count(5001)
        self.handler = OrderExecutionHandler(logger=self.logger, clock=self.clock, place_order=self._place,
                                             now=self.now)
        self.path = folder / f"orders-{day.isoformat()}.jsonl"
        self._orders = itertools.count()  # across calls of trade(), so no order repeats an earlier one
        self._execs = itertools.count(1)

    def now(self) -> datetime:
        return self._start + timedelta(milliseconds=next(self._ticks))

    async def _place(self, record: OrderRecord, attempt: BrokerAttempt) -> None:
        attempt.order_id = next(self._broker_ids)

    def submit(self, symbol: str, action: str, quantity: int, order_type: str = "MARKET",
               limit_price: float | None = None) -> OrderRecord:
        record = asyncio.run(self.handler.submit_order(symbol, action, quantity, order_type, limit_price))
        assert record is not None, self.handler.last_refusal
        return record

    def trade(self, orders: int) -> list[OrderRecord]:
        """``orders`` orders of every kind: filled in one or more executions (some with a commission
        that comes later, one corrected), cancelled, refused by IB."""
        h = self.handler
        made = []
        execs = self._execs
        for k in itertools.islice(self._orders, orders):
            symbol = SYMBOLS[k % len(SYMBOLS)]
            fate = k % 6
            record = self.submit(symbol, "BUY" if k % 2 == 0 else "SELL", 100, "LIMIT", 100.0 + k)
            made.append(record)
            if fate in (0, 1, 2):
                pieces = 1 + fate
                for piece in range(pieces):
                    exec_id = f"0000e0d5.{next(execs):08d}.01"
                    qty = 100 // pieces if piece < pieces - 1 else 100 - (100 // pieces) * (pieces - 1)
                    late = piece == 0 and fate == 1
                    h.handle_fill(record.order_id, qty, 100.0 + k + piece * 0.01,
                                  commission=0.0 if late else 1.0, exec_id=exec_id)
                    if late:
                        h.handle_commission(exec_id, 0.75)
                if fate == 2 and k % 12 == 2:
                    h.handle_fill(record.order_id, 34, 99.5 + k, commission=1.0,
                                  exec_id=exec_id[:-2] + "02")  # a correction of the last execution
            elif fate == 3:
                h.request_cancel(record.order_id)
                h.handle_error(record.order_id, 202, "Order Canceled - reason:")
            elif fate == 4:
                h.handle_error(record.order_id, 201, "Order rejected - reason: insufficient buying power")
            else:
                h.handle_fill(record.order_id, 40, 100.0 + k, commission=0.5, exec_id=f"0000e0d5.{next(execs):08d}.01")
        return made

    def close(self) -> None:
        self.logger.close()


def write_day(folder: Path, orders: int = 30, day: date = DAY) -> Path:
    writer = DayWriter(folder, day)
    writer.trade(orders)
    writer.close()
    return writer.path
