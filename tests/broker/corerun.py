"""Running BrokerCore itself on an asyncio loop, as the desktop app does on its qasync loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ibticket import OrderExecutionHandler
from ibticket.broker import BrokerCore, ConnectionSettings

T = TypeVar("T")


def run_core(
    scenario: Callable[[BrokerCore], Awaitable[T]],
    port: int | None,
    *,
    client_id: int = 21,
    timeout: float = 30.0,
    **options: Any,
) -> T:
    """Connect a BrokerCore (to ``port``, or to an embedded gateway when None), run the scenario, disconnect."""

    async def main() -> T:
        settings = ConnectionSettings("127.0.0.1", port, client_id, paper_trading=True)
        core = BrokerCore(OrderExecutionHandler(initial_retry_delay=0.05), settings, **options)
        await core.connect(5)
        try:
            return await asyncio.wait_for(scenario(core), timeout)
        finally:
            await core.disconnect()

    return asyncio.run(main())


class Seen:
    """What a callback was given, with a way to await a condition on it (no sleeping)."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.times: list[float] = []
        self._changed = asyncio.Event()

    def __call__(self, item: Any) -> None:
        self.items.append(item)
        self.times.append(asyncio.get_running_loop().time())
        self._changed.set()

    async def until(self, predicate: Callable[[list[Any]], Any], timeout: float = 10.0, what: str = "") -> Any:
        async def wait() -> Any:
            while True:
                result = predicate(self.items)
                if result:
                    return result
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what or 'callback'}; saw {self.items[-3:]}") from None


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """A blocking control call of the gateway thread, without blocking the broker's loop meanwhile."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
