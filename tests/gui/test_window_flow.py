"""The window keeps up with the fill stream without freezing (see bench/window_bench.py).

A lone fill goes to the views on the next loop pass while a stream is coalesced (a flood more so); one socket
read never hands the library more than a chunk it decodes in a few milliseconds; and a running session keeps
full garbage collections short.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time

from windowkit import until

from ibticket.core import OrderExecutionHandler, OrderStatus
from ibticket.core.order import OrderRequest
from ibticket.gui.bridge import OrderBridge
from ibticket.trading import gcpolicy
from ibticket.trading.session import READ_CHUNK


def test_a_lone_fill_reaches_the_views_at_once_and_a_stream_is_coalesced(qt_loop) -> None:
    async def scenario() -> None:
        handler = OrderExecutionHandler()
        bridge = OrderBridge(handler)
        deliveries: list[tuple[float, int]] = []
        bridge.fillsChanged.connect(lambda fills: deliveries.append((time.monotonic(), len(fills))))
        record = handler.create_order("AAPL", "BUY", 100_000)
        exec_ids = (f"0000e0d5.{k:08d}.01" for k in range(100_000))
        await asyncio.sleep(0.1)  # a quiet spell
        sent = time.monotonic()
        handler.handle_fill(record.order_id, 1, 100.0, exec_id=next(exec_ids))
        await until(lambda: deliveries, what="the lone fill")
        # The fixed 50 ms wait (a coarse timer never fires before 47.5 ms) held every lone fill that long.
        assert deliveries[0][0] - sent < 0.04
        await asyncio.sleep(0.1)
        deliveries.clear()
        # A stream: 600 fills, 6 every 5 ms or so, for at least half a second.
        for k in range(600):
            handler.handle_fill(record.order_id, 1, 100.0, exec_id=next(exec_ids))
            if k % 6 == 5:
                await asyncio.sleep(0.005)
        await until(lambda: sum(n for _t, n in deliveries) == 600, what="every fill of the stream")
        spacing = [b[0] - a[0] for a, b in itertools.pairwise(deliveries)]
        assert len(spacing) >= 2 and statistics.median(spacing) >= 0.04, spacing  # batches, not every 10 ms
        await asyncio.sleep(0.2)
        deliveries.clear()
        # A flood: 150 fills every 5 ms or so (thousands a second): about ten batches a second, not twenty.
        for k in range(6_000):
            handler.handle_fill(record.order_id, 1, 100.0, exec_id=next(exec_ids))
            if k % 150 == 149:
                await asyncio.sleep(0.005)
        await until(lambda: sum(n for _t, n in deliveries) == 6_000, what="every fill of the flood")
        spacing = [b[0] - a[0] for a, b in itertools.pairwise(deliveries)]
        assert len(spacing) >= 3 and statistics.median(spacing) >= 0.09, spacing

    qt_loop.run_until_complete(scenario())


def test_one_socket_read_hands_the_library_at_most_a_chunk_during_a_burst(make_app, qt_loop) -> None:
    async def scenario() -> None:
        # The model testers re-check every row at each change: at 3,000 rows they would be the burst.
        app = await make_app(partial_fills=3000, check_models=False).start()
        assert gcpolicy.holding()  # the running session keeps full collections short
        sizes: list[int] = []
        app.session.core.ib.client.conn.hasData += lambda data: sizes.append(len(data))
        record = await app.session.core.submit(OrderRequest("AAPL", "BUY", 3000), force=True)
        # Hold the loop, as a busy window would, so the gateway's output piles up in the socket: asyncio's
        # default read would then take up to 256 KiB, and decode all of it in one callback.
        time.sleep(0.5)
        await until(lambda: record.status is OrderStatus.FILLED, timeout=40, what="3,000 executions")
        assert sum(sizes) > 8 * READ_CHUNK
        assert max(sizes) <= READ_CHUNK
        await app.stop()
        assert not gcpolicy.holding()

    qt_loop.run_until_complete(scenario())
