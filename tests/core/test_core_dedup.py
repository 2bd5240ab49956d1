"""The duplicate guard: what a key is, how long it lives, and that checking one costs the same however
many keys are inside the window (counted in lines run, not timed)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from ibticket.core import ManualClock, OrderExecutionHandler
from ibticket.core import dedup as dedup_module
from ibticket.core.dedup import DuplicateGuard, OrderKey


def key(quantity: int = 100, symbol: str = "AAPL") -> OrderKey:
    return OrderKey(symbol, "BUY", quantity, "LIMIT", 150.0, None)


def test_a_key_lives_for_the_window_after_its_last_submission() -> None:
    clock = ManualClock()
    guard = DuplicateGuard(clock, window=60)
    guard.remember(key(), 1)
    clock.advance(59.5)
    reason = guard.check(key())
    assert reason is not None and "as order #1" in reason and "wait 0 s" in reason
    guard.remember(key(), 2)  # sent again with force=True: the window starts again, the order is #2
    clock.advance(1)
    reason = guard.check(key())
    assert reason is not None and "as order #2" in reason
    assert len(guard) == 1
    clock.advance(59)
    assert guard.check(key()) is None and len(guard) == 0


def test_forgetting_an_order_releases_its_key_only_while_it_holds_it() -> None:
    clock = ManualClock()
    guard = DuplicateGuard(clock, window=60)
    guard.remember(key(), 1)
    guard.remember(key(), 2)
    guard.remember(key(7), 3)
    guard.forget_order(1)  # key() is order 2's now
    assert guard.check(key()) is not None
    guard.forget_order(2)
    assert guard.check(key()) is None
    assert guard.check(key(7)) is not None
    guard.forget_order(99)  # unknown: nothing to release
    assert len(guard) == 1
    # The released key's old queue entries expire without touching a key sent again since.
    guard.remember(key(), 4)
    clock.advance(30)
    guard.remember(key(), 5)
    clock.advance(31)
    assert "as order #5" in (guard.check(key()) or "")
    guard.forget_order(4)  # no longer the holder
    assert guard.check(key()) is not None
    clock.advance(30)
    assert guard.check(key()) is None and len(guard) == 0


def test_a_changed_window_applies_to_keys_already_remembered() -> None:
    clock = ManualClock()
    guard = DuplicateGuard(clock, window=60)
    for n in range(5):
        guard.remember(key(n + 1), n + 1)
        clock.advance(1)
    guard.window = 2.5  # the oldest three are now past it
    assert len(guard) == 2
    guard.window = 0
    assert len(guard) == 0


def test_a_window_of_zero_refuses_nothing() -> None:
    guard = DuplicateGuard(ManualClock(), window=0)
    guard.remember(key(), 1)
    assert guard.check(key()) is None


def lines_run(module_file: str, action: Callable[[], Any]) -> int:
    """Lines of ``module_file`` executed while ``action`` runs (a loop body counts once per pass)."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename == module_file else None

    sys.settrace(tracer)
    try:
        action()
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize("expiring", [False, True], ids=["keys inside the window", "keys expiring"])
def test_checking_an_order_runs_the_same_lines_with_10_or_10_000_keys_remembered(expiring: bool) -> None:
    def lines_for_one_order(keys: int) -> tuple[int, int]:
        clock = ManualClock()
        handler = OrderExecutionHandler(clock=clock, duplicate_window=60)
        for n in range(keys):
            assert handler.create_order("AAPL", "BUY", n + 1, "LIMIT", 150.0) is not None
            clock.advance(1e-3 if not expiring else 60 / keys)
        if expiring:
            clock.advance(60)  # all of them expire at the next check
        new = lines_run(dedup_module.__file__, lambda: handler.create_order("AAPL", "BUY", keys + 1, "LIMIT", 150.0))
        # A second order's check: the expired keys are gone by now, so this is the steady cost.
        after = lines_run(dedup_module.__file__, lambda: handler.create_order("AAPL", "BUY", keys + 2, "LIMIT", 150.0))
        return new, after

    few_first, few_next = lines_for_one_order(10)
    many_first, many_next = lines_for_one_order(10_000)
    assert many_next <= few_next, (few_next, many_next)
    if not expiring:
        assert many_first <= few_first, (few_first, many_first)
    else:
        # Expiring N keys is work per key, done once: it must stay linear in the keys expired.
        assert many_first - few_first <= 10 * (10_000 - 10)


def test_releasing_an_order_runs_the_same_lines_with_10_or_10_000_keys_remembered() -> None:
    def lines_to_forget(keys: int) -> int:
        guard = DuplicateGuard(ManualClock(), window=60)
        for n in range(keys):
            guard.remember(key(n + 1), n + 1)
        return lines_run(dedup_module.__file__, lambda: guard.forget_order(keys // 2))

    assert lines_to_forget(10_000) <= lines_to_forget(10)


@pytest.mark.parametrize("order_type, limit, stop, text", [
    ("LIMIT", 185.0, None, "BUY 10,000 AAPL LMT 185"),
    ("STOP_LIMIT", 185.25, 186.5, "BUY 10,000 AAPL STP LMT 186.5 185.25"),
    ("MARKET", None, None, "BUY 10,000 AAPL MKT"),
    ("LIMIT", 1234.5, None, "BUY 10,000 AAPL LMT 1,234.5"),
])
def test_a_duplicate_is_named_as_the_send_button_names_it(order_type: str, limit: float | None,
                                                            stop: float | None, text: str) -> None:
    # Not "LIMIT limit 185": the order type once, short, the stop before the limit, thousands grouped.
    assert OrderKey("AAPL", "BUY", 10_000, order_type, limit, stop).describe() == text
