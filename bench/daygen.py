"""A realistic busy day of the order log, written through the real ``OrderLogger``.

Orders arrive through the trading day on a few dozen symbols; each is written ahead, sent, then filled in
one or more executions (with late commission reports), cancelled, or refused and retried, with the odd
broker notice, as ``OrderExecutionHandler`` logs them. Used by ``bench/log_viewer.py --make`` and for the
log viewer's screenshots.

    .venv/bin/python bench/daygen.py --events 100000 DIR   # write a day into DIR, read it back, print the counts
    .venv/bin/python bench/daygen.py --quick               # the same with 2,000 events in a temporary folder
"""

from __future__ import annotations

import argparse
import random
import tempfile
import timeit
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

from ibticket.core import Fill, OrderLogger, OrderRecord, OrderStatus, read_day, summarize
from ibticket.core.logreader import log_path

SYMBOLS = {
    "AAPL": 189.5, "MSFT": 411.2, "NVDA": 721.3, "AMZN": 171.8, "GOOGL": 141.6, "META": 468.9, "TSLA": 199.6,
    "AMD": 177.4, "NFLX": 583.0, "INTC": 43.2, "CSCO": 49.1, "ORCL": 113.7, "CRM": 291.4, "ADBE": 562.5,
    "QCOM": 161.3, "AVGO": 1251.0, "TXN": 165.9, "IBM": 183.6, "JPM": 179.3, "BAC": 34.1, "WFC": 49.8,
    "GS": 387.4, "MS": 86.2, "V": 275.5, "MA": 459.1, "KO": 60.2, "PEP": 168.9, "XOM": 104.7, "CVX": 151.3,
    "SPY": 502.4, "QQQ": 438.2, "IWM": 199.1,
}
NOTICES = (
    "Order held while securities are located",
    "Order will not be placed at the exchange until market open",
    "The order size exceeds the displayed size; it will be worked",
)
ERRORS = (
    (201, "Order rejected - reason: insufficient buying power"),
    (504, "Not connected"),
    (110, "The price does not conform to the minimum price variation for this contract"),
    (399, "Order message: warning, your order will not be placed at the exchange until 09:30:00 US/Eastern"),
)


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def write_day(folder: Path, events: int, day: date = date(2026, 2, 18), seed: int = 7) -> Path:
    """Write about ``events`` events (exactly that many) for ``day`` into ``folder``; returns the file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = log_path(folder, day)
    if path.exists():
        path.unlink()
    clock = _Clock(datetime.combine(day, time(9, 30)))
    logger = OrderLogger(log_dir=folder, log_to_console=False, now=clock)
    rng = random.Random(seed)
    step = timedelta(seconds=23_400 / max(events, 1))  # spread over 09:30-16:00
    written = 0
    try:
        for line in _events(rng, day, clock, step):
            kind, record, fields = line
            if kind == "SUBMISSION":
                logger.log_submission(record, **fields)
            elif kind == "STATUS_CHANGE":
                logger.log_status_change(record, **fields)
            elif kind == "FILL":
                logger.log_fill(record, **fields)
            elif kind == "CANCELLATION":
                logger.log_cancellation(record, **fields)
            elif kind == "ERROR":
                logger.log_error(record, **fields)
            elif kind == "RETRY":
                logger.log_retry(record, **fields)
            else:
                logger.log_event(kind, record, **fields)
            written += 1
            if written >= events:
                break
    finally:
        logger.close()
    return path


def _events(rng: random.Random, day: date, clock: _Clock,
            step: timedelta) -> Iterator[tuple[str, OrderRecord, dict[str, object]]]:
    symbols = list(SYMBOLS)
    order_id = 0
    exec_no = 0
    stamp = day.strftime("%Y%m%d")
    while True:
        order_id += 1
        clock.now += step
        symbol = rng.choice(symbols)
        price = round(SYMBOLS[symbol] * (1 + rng.uniform(-0.01, 0.01)), 2)
        kind = rng.choices(("MARKET", "LIMIT", "STOP"), (5, 8, 1))[0]
        qty = rng.choice((1, 5, 10, 25, 50, 100, 100, 200, 250, 500, 1000))
        ref = f"ibt-11-{stamp}-{clock.now:%H%M%S}-{order_id}"
        record = OrderRecord(order_id, symbol, rng.choice(("BUY", "SELL")), qty, order_type=kind,
                             limit_price=price if kind == "LIMIT" else None,
                             stop_price=round(price * 1.01, 2) if kind == "STOP" else None,
                             submission_time=clock.now, order_ref=ref,
                             tif=rng.choices(("DAY", "GTC"), (9, 1))[0])
        yield "SUBMISSION", record, {"write_ahead": False, "attempt": 1, "attempt_ref": ref + "/1"}
        broker_id = 1000 + order_id
        clock.now += step
        record.status = OrderStatus.SUBMITTED
        yield "STATUS_CHANGE", record, {"old_status": OrderStatus.PENDING, "new_status": OrderStatus.SUBMITTED,
                                        "message": f"sent as broker order {broker_id}", "broker_order_id": broker_id,
                                        "attempt": 1, "attempt_ref": ref + "/1"}
        fate = rng.random()
        if fate < 0.04:
            code, text = rng.choice(ERRORS)
            clock.now += step
            record.status = OrderStatus.ERROR
            record.error_message = text
            yield "ERROR", record, {"error_message": text, "error_code": code}
            if code == 504:
                record.retry_count += 1
                clock.now += step
                yield "RETRY", record, {"delay": 2.0, "retry_scheduled": True, "max_retries": 3}
            continue
        if fate < 0.07:
            clock.now += step
            yield "NOTICE", record, {"message": rng.choice(NOTICES)}
        if fate < 0.22:
            clock.now += step
            yield "CANCELLATION", record, {"reason": "cancelled by the trader", "requested": True}
            clock.now += step
            old = record.status
            record.status = OrderStatus.CANCELLED
            yield "STATUS_CHANGE", record, {"old_status": old, "new_status": OrderStatus.CANCELLED,
                                            "message": "cancelled at IB"}
            continue
        pieces = rng.choices((1, 2, 3, 5, 8), (6, 3, 2, 1, 1))[0]
        pieces = min(pieces, qty)
        left = qty
        for k in range(pieces):
            part = left if k == pieces - 1 else max(1, left // (pieces - k) + rng.randint(-1, 1))
            part = min(part, left - (pieces - k - 1)) if k < pieces - 1 else part
            left -= part
            exec_no += 1
            clock.now += step
            fill_price = round(price + rng.choice((-0.02, -0.01, 0.0, 0.01, 0.02)), 2)
            exec_id = f"0000e0d5.{0x65540000 + exec_no:08x}.01.01"
            commission = round(max(1.0, part * 0.005), 2)
            late = rng.random() < 0.3
            fill = Fill(exec_id, order_id, symbol, part, fill_price, clock.now, 0.0 if late else commission)
            record.add_fill(fill)
            yield "FILL", record, {"fill": fill}
            if late:
                clock.now += step
                fill.commission = commission
                yield "COMMISSION", record, {"fill_id": exec_id, "commission": commission}


def write_and_read(folder: Path, events: int) -> None:
    """Write a day, read it back with the order log's reader; exit 1 unless every event reads."""
    timer = timeit.default_timer
    start = timer()
    path = write_day(folder, events)
    written = timer() - start
    start = timer()
    day = read_day(folder, date(2026, 2, 18))
    read = timer() - start
    summary = summarize(day.events)
    print(f"{len(day.events):,} events, {path.stat().st_size / 1e6:,.1f} MB: written in {written:.2f} s "
          f"({events / written:,.0f}/s), read back in {read:.2f} s ({events / read:,.0f}/s)")
    print(f"  {summary['total_orders']:,} orders ({summary['filled_orders']:,} filled, {summary['cancelled_orders']:,} "
          f"cancelled, {summary['error_orders']:,} in error), {summary['total_fills']:,} fills")
    if len(day.events) != events or day.bad_lines or day.problem:
        raise SystemExit(f"daygen: read {len(day.events)} of {events} events back; {day.report()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, help="where to write the day (its file is replaced)")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="2,000 events in a temporary folder")
    args = parser.parse_args()
    if args.quick:
        with tempfile.TemporaryDirectory(prefix="ibticket-daygen-") as folder:
            write_and_read(Path(folder), 2000)
    elif args.folder is not None:
        write_and_read(args.folder, args.events)
    else:
        parser.error("give a folder to write the day into, or --quick")


if __name__ == "__main__":
    main()
