"""A property over random message sequences for one order: the quantities always add up and agree with a
simple model of the executions, the average price is a real average, and Filled is final."""

from __future__ import annotations

import asyncio
import itertools
import math
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ibticket.core import ManualClock, OrderExecutionHandler, OrderLogger, OrderStatus

TABLE_CODES = [
    2104, 2106, 2158, 2103, 2105, 2157, 2107, 2108, 2100, 2102, 2109, 2137, 2110, 399, 404, 10167, 10168, 202,
    10349, 1102, 502, 504, 1100, 1101, 1300, 326, 100, 200, 201, 203, 110, 103, 104, 105, 161, 10147, 10148,
    320, 321, 322, 354, 10197, 107, 111, 160, 434, 303, 355, 388, 382, 383, 109, 163, 387, 411, 426, 460, 10015,
    10318, 165, 492,
]
MESSAGES = ["Not connected", "Order rejected - reason:Exchange is closed.",
            "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED ... INITIAL MARGIN", ""]

price = st.one_of(st.integers(1, 1000), st.floats(1, 1000, allow_nan=False, allow_infinity=False))
pick = st.integers(0, 1_000)  # an index into whatever the op needs to choose from
# Mostly codes from the table (one_of would give the few table codes the same weight as all other ints).
codes = st.integers(0, 3).flatmap(lambda i: st.integers(-5, 20_000) if i == 0 else st.sampled_from(TABLE_CODES))


def operations(total: int):
    quantity = st.integers(1, total)
    return st.one_of(
        st.tuples(st.just("fill"), quantity, price),
        st.tuples(st.just("fill_rest"), price),  # a new execution for exactly what is left: reaches Filled
        st.tuples(st.just("replay"), pick),
        st.tuples(st.just("correct"), pick, quantity, price, st.integers(1, 3)),
        st.tuples(st.just("older"), pick, pick),
        st.tuples(st.just("status"), st.sampled_from(list(OrderStatus)), st.sampled_from([None, "first", "last"])),
        st.tuples(st.just("error"), codes, st.sampled_from(MESSAGES)),
        st.tuples(st.just("advance"), st.sampled_from([0.5, 1.0, 2.0, 4.0, 60.0])),
        st.tuples(st.just("commission"), pick, st.floats(0, 10)),
        st.tuples(st.just("cancel")),
    )


@st.composite
def scenarios(draw):
    total = draw(st.integers(1, 500))
    ops = draw(st.lists(operations(total), min_size=10, max_size=60))
    return total, ops


class Model:
    """The executions that should be applied: exec id base -> (correction number, shares, price)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.applied: dict[str, tuple[int, int, float]] = {}
        self.seen: list[str] = []  # exec ids the handler has accepted (replays of these are no-ops)
        self.bases = itertools.count(1)

    @property
    def filled(self) -> int:
        return sum(q for _, q, _ in self.applied.values())

    def fits(self, quantity: int, replacing: str | None = None) -> bool:
        already = self.filled - (self.applied[replacing][1] if replacing else 0)
        return already + quantity <= self.total


async def _run(total: int, ops: list[tuple]) -> None:
    clock = ManualClock()
    wall = datetime(2026, 2, 18, 10, 30)
    ids = itertools.count(1001)
    placed: list[tuple[int, int, OrderStatus]] = []

    async def place(record, attempt):
        placed.append((attempt.quantity, record.remaining_quantity, record.status))
        attempt.order_id = next(ids)

    handler = OrderExecutionHandler(
        logger=OrderLogger(log_to_file=False, log_to_console=False, now=lambda: wall),  # still JSON-encodes
        clock=clock, place_order=place, now=lambda: wall,
    )
    record = await handler.submit_order("AAPL", "BUY", total)
    oid = record.order_id
    model = Model(total)

    for op in ops:
        was_filled = record.status is OrderStatus.FILLED
        kind = op[0]
        if kind == "fill":
            _, qty, px = op
            exec_id = f"E{next(model.bases)}.01"
            expected = model.fits(qty)
            assert handler.handle_fill(oid, qty, px, exec_id=exec_id) is expected
            if expected:
                model.applied[exec_id[:-3]] = (1, qty, float(px))
                model.seen.append(exec_id)
        elif kind == "fill_rest" and model.filled < total:
            qty = total - model.filled
            exec_id = f"E{next(model.bases)}.01"
            assert handler.handle_fill(oid, qty, op[1], exec_id=exec_id) is True
            model.applied[exec_id[:-3]] = (1, qty, float(op[1]))
            model.seen.append(exec_id)
        elif kind == "replay" and model.seen:
            exec_id = model.seen[op[1] % len(model.seen)]
            assert handler.handle_fill(oid, 1, 1.0, exec_id=exec_id) is False
        elif kind == "correct" and model.applied:
            _, which, qty, px, step = op
            base = sorted(model.applied)[which % len(model.applied)]
            number = model.applied[base][0] + step  # IB may skip a correction number we never see
            exec_id = f"{base}.{number:02d}"
            expected = model.fits(qty, replacing=base)
            assert handler.handle_fill(oid, qty, px, exec_id=exec_id) is expected
            if expected:
                model.applied[base] = (number, qty, float(px))
                model.seen.append(exec_id)
        elif kind == "older" and model.applied:
            # A correction older than the applied one (seen before or not) changes nothing.
            base = sorted(model.applied)[op[1] % len(model.applied)]
            number = model.applied[base][0]
            if number > 1:
                older = 1 + op[2] % (number - 1)
                assert handler.handle_fill(oid, 1, 1.0, exec_id=f"{base}.{older:02d}") is False
        elif kind == "status":
            _, status, about = op
            broker_ids = record.broker_order_ids
            broker_id = None if about is None or not broker_ids else broker_ids[0 if about == "first" else -1]
            handler.handle_status(oid, status, "from the property", broker_order_id=broker_id)
        elif kind == "error":
            handler.handle_error(oid, op[1], op[2])
        elif kind == "advance":
            clock.advance(op[1])
            await handler.drain()
        elif kind == "commission" and model.seen:
            handler.handle_commission(model.seen[op[1] % len(model.seen)], op[2])
        elif kind == "cancel":
            handler.request_cancel(oid)

        # -- the invariants, after every message --
        assert record.filled_quantity + record.remaining_quantity == record.total_quantity == total
        assert 0 <= record.filled_quantity <= total
        assert record.filled_quantity == model.filled
        assert len(record.fills) == len(model.applied)
        if record.filled_quantity:
            prices = [p for _, _, p in model.applied.values()]
            assert min(prices) - 1e-9 <= record.avg_fill_price <= max(prices) + 1e-9
            value = sum(q * p for _, q, p in model.applied.values())
            assert math.isclose(record.avg_fill_price, value / model.filled, rel_tol=1e-9)
        else:
            assert record.avg_fill_price == 0.0
        if was_filled:
            assert record.status is OrderStatus.FILLED, op
        if record.remaining_quantity == 0:
            assert record.status is OrderStatus.FILLED
        assert isinstance(record.status, OrderStatus)

    # Every resubmission asked for exactly what was left, never for a done order.
    for asked, remaining, status in placed:
        assert asked == remaining > 0
        assert status in (OrderStatus.PENDING, OrderStatus.ERROR)
    await handler.drain()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_random_message_sequences_keep_the_order_consistent(scenario):
    total, ops = scenario
    asyncio.run(_run(total, ops))
