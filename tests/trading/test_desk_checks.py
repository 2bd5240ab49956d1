"""The desk's order of checks, with the real BrokerCore on the embedded gateway and the prompts answered by a
fake Prompter (the injected boundary): what makes an order invalid is refused before any prompt, a prompt
names exactly the order that is sent, and a stop that would trigger at once asks first."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from ibticket.broker import BrokerCore, ConnectionSettings
from ibticket.core import OrderExecutionHandler, OrderLogger, OrderStatus
from ibticket.core.order import OrderRequest
from ibticket.trading.desk import OrderDesk
from ibticket.trading.orderline import describe
from ibticket.trading.precautions import Breach, Precautions


class Prompts:
    """Answers every prompt with ``answer`` and remembers what was asked."""

    def __init__(self, answer: bool = False) -> None:
        self.answer = answer
        self.asked: list[tuple[str, str, list[str]]] = []

    async def precautions(self, order: str, breaches: Sequence[Breach]) -> bool:
        self.asked.append(("precautions", order, [b.message for b in breaches]))
        return self.answer

    async def duplicate(self, order: str, reason: str) -> bool:
        self.asked.append(("duplicate", order, [reason]))
        return self.answer

    async def cancel_all(self, count: int) -> bool:
        self.asked.append(("cancel_all", str(count), []))
        return self.answer


class Requests:
    """A wire tap: the message ids of the requests the gateway reads (called on the gateway's thread)."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def request(self, client_id: int | None, fields: list[str]) -> None:
        self.ids.append(fields[0])

    def written(self, client_id: int | None, frames: Sequence[bytes]) -> None:
        pass


REQ_CONTRACT_DETAILS = "9"


def run_desk(tmp_path: Path, scenario: Callable[[OrderDesk, Prompts, Any], Awaitable[None]],
             precautions: Precautions | None = None) -> None:
    async def main() -> None:
        handler = OrderExecutionHandler(logger=OrderLogger(log_dir=tmp_path / "log", log_to_console=False))
        core = BrokerCore(handler, ConnectionSettings("127.0.0.1", None, 41, paper_trading=True),
                          gateway_options={"seed": 5, "tick_interval": None})
        await core.connect(10)
        prompts = Prompts()

        async def fetch(symbol: str) -> Any:  # as the window does for a symbol nobody watches
            info = await core.market.subscribe(symbol)
            while (q := core.market.quote(info.symbol)) is None or q.last is None:
                await asyncio.sleep(0.01)
            return q

        desk = OrderDesk(core, prompts, lambda: precautions or Precautions(), core.market.quote, fetch)
        try:
            await asyncio.wait_for(scenario(desk, prompts, core.gateway), 30)
        finally:
            await core.disconnect()

    asyncio.run(main())


async def taken(record: Any) -> None:
    """Until IB (the gateway) has acknowledged the order: it has read it by then."""
    while not record.acknowledged:
        await asyncio.sleep(0.01)


async def gateway_call(fn: Callable[..., Any], *args: Any) -> Any:
    # The gateway thread's control calls block; off the loop, so the broker keeps reading meanwhile.
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def test_an_off_tick_price_is_refused_before_the_precaution_prompt(tmp_path: Path) -> None:
    async def scenario(desk: OrderDesk, prompts: Prompts, gateway: Any) -> None:
        # NVDA trades near 130: 12.345 is far from the market (a precaution) and off the 0.01 tick (invalid).
        outcome = await desk.send(OrderRequest("NVDA", "BUY", 100, "LIMIT", 12.345))
        assert not outcome.ok
        assert outcome.message == "Limit price 12.345 is not on NVDA's 0.01 tick; use 12.34 or 12.35"
        assert prompts.asked == []
        assert await gateway_call(gateway.orders) == [] and desk.handler.get_all_orders() == []

    run_desk(tmp_path, scenario)


def test_an_unknown_symbol_is_refused_before_the_size_prompt(tmp_path: Path) -> None:
    async def scenario(desk: OrderDesk, prompts: Prompts, gateway: Any) -> None:
        outcome = await desk.send(OrderRequest("ZZQX", "BUY", 9000))
        assert not outcome.ok and outcome.message.startswith("Unknown symbol ZZQX")
        assert prompts.asked == []

    run_desk(tmp_path, scenario)


def test_an_off_tick_change_is_refused_before_the_precaution_prompt(tmp_path: Path) -> None:
    async def scenario(desk: OrderDesk, prompts: Prompts, gateway: Any) -> None:
        sent = await desk.send(OrderRequest("AAPL", "BUY", 10, "LIMIT", 225.00))
        assert sent.ok and sent.record is not None and prompts.asked == []
        outcome = await desk.modify(sent.record.order_id, limit_price=150.005)
        assert not outcome.ok and "not on AAPL's 0.01 tick" in outcome.message
        assert prompts.asked == []

    run_desk(tmp_path, scenario)


def test_the_prompt_names_the_order_that_is_sent(tmp_path: Path) -> None:
    async def scenario(desk: OrderDesk, prompts: Prompts, gateway: Any) -> None:
        prompts.answer = True
        cmd = OrderRequest("NVDA", "BUY", 100, "LIMIT", 12.35)
        outcome = await desk.send(cmd)
        assert outcome.ok and outcome.record is not None
        [(kind, order, messages)] = prompts.asked
        assert kind == "precautions" and order == describe(cmd) == "BUY 100 NVDA LMT 12.35 DAY"
        assert messages[0].startswith("Limit price 12.35 is ")
        await taken(outcome.record)
        [sent] = await gateway_call(gateway.orders)
        assert sent.lmt_price == 12.35 and sent.total_qty == 100 and sent.action == "BUY"

    run_desk(tmp_path, scenario)


def test_a_stop_through_the_market_asks_and_escape_sends_nothing(tmp_path: Path) -> None:
    async def scenario(desk: OrderDesk, prompts: Prompts, gateway: Any) -> None:
        await gateway_call(gateway.set_price, "AAPL", 230.50)
        outcome = await desk.send(OrderRequest("AAPL", "SELL", 10, "STOP", stop_price=232.80))
        assert prompts.asked == [("precautions", "SELL 10 AAPL STP 232.80 DAY",
                                  ["SELL STP 232.80 is above the market 230.50: it triggers at once"])]
        assert not outcome.ok and outcome.message == (
            "Not sent: SELL STP 232.80 is above the market 230.50: it triggers at once")
        assert await gateway_call(gateway.orders) == []

        prompts.asked.clear()
        outcome = await desk.send(OrderRequest("AAPL", "BUY", 10, "STOP_LIMIT", 231.00, 229.90))
        assert prompts.asked == [("precautions", "BUY 10 AAPL STP LMT 229.90 231.00 DAY",
                                  ["BUY STP LMT 229.90 is below the market 230.50: it triggers at once"])]
        assert not outcome.ok and await gateway_call(gateway.orders) == []

    run_desk(tmp_path, scenario)


def test_a_stop_on_its_own_side_of_the_market_goes_out_without_a_prompt(tmp_path: Path) -> None:
    async def scenario(desk: OrderDesk, prompts: Prompts, gateway: Any) -> None:
        await gateway_call(gateway.set_price, "AAPL", 230.50)
        outcome = await desk.send(OrderRequest("AAPL", "SELL", 10, "STOP", stop_price=228.00))
        assert outcome.ok and outcome.record is not None and prompts.asked == []
        await taken(outcome.record)
        assert outcome.record.status is OrderStatus.SUBMITTED  # working, not triggered

    run_desk(tmp_path, scenario)


def test_a_stop_through_the_market_is_sent_after_override(tmp_path: Path) -> None:
    async def scenario(desk: OrderDesk, prompts: Prompts, gateway: Any) -> None:
        await gateway_call(gateway.set_price, "AAPL", 230.50)
        prompts.answer = True
        outcome = await desk.send(OrderRequest("AAPL", "SELL", 10, "STOP", stop_price=232.80))
        assert outcome.ok and outcome.record is not None and len(prompts.asked) == 1
        record = outcome.record
        while record.status is not OrderStatus.FILLED:  # it triggered at once, as the prompt said
            await asyncio.sleep(0.01)

    run_desk(tmp_path, scenario, Precautions())


def test_a_second_order_for_a_known_symbol_asks_ib_nothing_before_placing(tmp_path: Path) -> None:
    async def scenario(desk: OrderDesk, prompts: Prompts, gateway: Any) -> None:
        first = await desk.send(OrderRequest("AAPL", "BUY", 10, "LIMIT", 225.00))
        assert first.ok and first.record is not None
        await taken(first.record)
        tap = Requests()
        await gateway_call(gateway.add_wire_tap, tap)
        second = await desk.send(OrderRequest("AAPL", "BUY", 20, "LIMIT", 225.00))
        assert second.ok and second.record is not None
        await taken(second.record)
        await gateway_call(gateway.remove_wire_tap, tap)
        assert REQ_CONTRACT_DETAILS not in tap.ids
        assert tap.ids.count("3") == 1  # the one placeOrder

    run_desk(tmp_path, scenario)
