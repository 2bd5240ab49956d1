"""permIds and execIds are unique across gateway processes whatever the seed, as IB's are.

A gateway restarted within the same second used to repeat the execIds of the previous run, so a client
(or an order log) that had seen them took a real fill for a replay.
"""

from __future__ import annotations

import asyncio
import re
import time

from ib_insync import IB, LimitOrder, MarketOrder

from ibticket.gateway import GatewayConfig, PaperGateway

from .helpers import qualified, wait_status

EXEC_ID = re.compile(r"^[0-9a-f]{8}\.[0-9a-f]{8}\.01\.01$")


async def _trade(gw: PaperGateway) -> tuple[set[int], set[str]]:
    ib = IB()
    await ib.connectAsync("127.0.0.1", gw.port, clientId=1, timeout=3)
    contract = await qualified(ib, "AAPL")
    filled = ib.placeOrder(contract, MarketOrder("BUY", 30))
    resting = ib.placeOrder(contract, LimitOrder("BUY", 1, 1.00))
    await wait_status(filled, "Filled")
    await wait_status(resting, "Submitted")
    perm_ids = {filled.order.permId, resting.order.permId}
    exec_ids = {f.execution.execId for f in filled.fills}
    ib.disconnect()
    return perm_ids, exec_ids


def test_two_gateways_started_in_the_same_second_with_the_same_seed_use_different_ids():
    async def main() -> list[tuple[set[int], set[str]]]:
        config = GatewayConfig(seed=1, tick_interval=None, partial_fills=3)
        first, second = PaperGateway(config), PaperGateway(config)
        started = time.monotonic()
        await first.start("127.0.0.1", 0)
        await second.start("127.0.0.1", 0)
        assert time.monotonic() - started < 1.0
        try:
            return [await _trade(first), await _trade(second)]
        finally:
            await first.stop()
            await second.stop()

    (perm_a, exec_a), (perm_b, exec_b) = asyncio.run(asyncio.wait_for(main(), 10))
    assert len(perm_a) == len(perm_b) == 2 and len(exec_a) == len(exec_b) == 3
    assert perm_a.isdisjoint(perm_b)
    assert exec_a.isdisjoint(exec_b)
    # Still IB's shapes: execIds like "0000e0d5.6554a1b2.01.01", permIds a 32-bit int as v176 clients read it.
    assert all(EXEC_ID.match(e) for e in exec_a | exec_b)
    assert all(1 << 30 <= p < 1 << 31 for p in perm_a | perm_b)
