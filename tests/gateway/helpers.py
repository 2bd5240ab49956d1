"""Shared helpers: run a test coroutine next to a fresh PaperGateway, connect real ib_insync clients."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ib_insync import IB, Contract, Stock, Trade

from ibticket.gateway import GatewayConfig, PaperGateway

T = TypeVar("T")
TEST_TIMEOUT = 8.0


def run_gateway_test(
    body: Callable[[PaperGateway], Awaitable[T]], *, timeout: float = TEST_TIMEOUT, **config: Any
) -> T:
    """Start a gateway (frozen market unless tick_interval is given) on a new loop, run body, stop it."""

    async def main() -> T:
        gw = PaperGateway(GatewayConfig(**{"tick_interval": None, **config}))
        await gw.start("127.0.0.1", 0)
        try:
            return await asyncio.wait_for(body(gw), timeout)
        finally:
            await gw.stop()

    return asyncio.run(main())


async def connect(gw: PaperGateway, client_id: int = 1, timeout: float = 3.0, **kwargs: Any) -> IB:
    ib = IB()
    await ib.connectAsync("127.0.0.1", gw.port, clientId=client_id, timeout=timeout, **kwargs)
    return ib


async def wait_for(predicate: Callable[[], object], timeout: float = 3.0, what: str = "condition") -> None:
    """Poll a condition that an ib_insync event handler or the gateway makes true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def wait_event(event: Any, predicate: Callable[[], object], timeout: float = 3.0, what: str = "event") -> None:
    """Wait until `predicate` holds, checking it now and after every emission of an ib_insync event.

    For state the gateway pushes when it chooses (account values, portfolio, positions, P&L): the test
    wakes up on the push itself instead of polling.
    """
    if predicate():
        return
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def check(*_args: object) -> None:
        if not done.done() and predicate():
            done.set_result(None)

    event.connect(check)
    try:
        await asyncio.wait_for(done, timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None
    finally:
        event.disconnect(check)


async def wait_status(trade: Trade, status: str, timeout: float = 3.0) -> None:
    await wait_for(lambda: trade.orderStatus.status == status, timeout, f"order status {status}")


async def qualified(ib: IB, symbol: str) -> Contract:
    (contract,) = await ib.qualifyContractsAsync(Stock(symbol, "SMART", "USD"))
    return contract


class ErrorLog:
    """Collects ib_insync errorEvent emissions as (reqId, code, text)."""

    def __init__(self, ib: IB) -> None:
        self.items: list[tuple[int, int, str]] = []
        ib.errorEvent += self._on_error

    def _on_error(self, req_id: int, code: int, text: str, _contract: object) -> None:
        self.items.append((req_id, code, text))

    def codes(self, req_id: int | None = None) -> list[int]:
        return [code for rid, code, _ in self.items if req_id is None or rid == req_id]

    def text(self, code: int) -> str:
        return next(text for _, c, text in self.items if c == code)
