"""One definition of a partial fill: an execution that leaves its order not yet complete. The handler's
``summary()`` (its records), the order log's ``get_todays_summary()`` / ``summarize`` (its lines) and a
handler restored from that log count the same day the same way."""

from __future__ import annotations

from datetime import datetime

from ibticket.core import ManualClock, OrderExecutionHandler, OrderLogger, summarize
from ibticket.core.recovery import restore_day

NOON = datetime(2026, 3, 4, 12, 0)


def test_the_handler_and_the_order_log_count_partial_fills_alike(tmp_path):
    logger = OrderLogger(log_dir=tmp_path, log_to_console=False, now=lambda: NOON)
    handler = OrderExecutionHandler(logger=logger, clock=ManualClock(), now=lambda: NOON)

    def order(symbol, quantity):
        return handler.create_order(symbol, "BUY", quantity, "LIMIT", limit_price=10.0, force=True).order_id

    cut = order("AAPL", 100)
    handler.handle_fill(cut, 40, 10.0, exec_id="a.01")  # leaves 60: partial
    handler.amend(cut, total_quantity=40)  # now Filled, by the change, not by an execution
    two = order("MSFT", 100)
    handler.handle_fill(two, 60, 10.0, exec_id="b.01")  # partial
    handler.handle_fill(two, 40, 10.0, exec_id="c.01")  # complete
    cancelled = order("IBM", 50)
    handler.handle_fill(cancelled, 20, 10.0, exec_id="d.01")  # partial
    handler.handle_status(cancelled, "Cancelled")
    corrected = order("TSLA", 100)
    handler.handle_fill(corrected, 60, 10.0, exec_id="e.01")  # partial
    handler.handle_fill(corrected, 40, 10.0, exec_id="f.01")  # complete
    handler.handle_fill(corrected, 50, 9.9, exec_id="e.02")  # corrects e.01 (and leaves 10): still partial
    whole = order("NVDA", 10)
    handler.handle_fill(whole, 10, 10.0, exec_id="g.01")  # complete

    from_log = logger.get_todays_summary()
    assert (from_log["partial_fills"], from_log["complete_fills"], from_log["total_fills"]) == (4, 3, 7)
    assert handler.summary() == from_log == summarize(logger.read_day().events)

    restored = OrderExecutionHandler(clock=ManualClock(), now=lambda: NOON)
    restored.restore(restore_day(logger).records)
    assert restored.summary() == from_log
