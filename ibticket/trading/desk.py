"""The one path every order takes from the window: checks, precautions, the duplicate guard, the broker.

The Send button, Enter on the order line, a retry from the orders table and a drag on the chart all
call ``OrderDesk.send`` / ``modify``, so no way of entering an order skips a check. Qt-free: the prompts
are an injected ``Prompter`` (the window's shows message boxes; tests may answer directly).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..core import OrderExecutionHandler, OrderRecord, OrderStatus, OrderValidationError
from ..core.order import OrderRequest
from .orderline import describe
from .precautions import Breach, Precautions, check

log = logging.getLogger(__name__)


class Broker(Protocol):
    """What the desk needs of the broker (``broker.core.BrokerCore``)."""

    handler: OrderExecutionHandler

    async def check(self, request: OrderRequest) -> Any:
        """Raise ``OrderValidationError`` for what the broker would refuse (symbol, tick, lot)."""

    async def submit(self, request: OrderRequest, force: bool = False, checked: bool = False) -> OrderRecord | None: ...

    async def modify(self, order_id: int, quantity: int | None = None, limit_price: float | None = None,
                     stop_price: float | None = None) -> OrderRecord: ...

    async def cancel(self, order_id: int) -> OrderRecord: ...


class Prompter(Protocol):
    async def precautions(self, order: str, breaches: Sequence[Breach]) -> bool: ...

    async def duplicate(self, order: str, reason: str) -> bool: ...

    async def cancel_all(self, count: int) -> bool: ...


@dataclass(frozen=True)
class Outcome:
    """What became of a request: ``record`` when something went to the broker, else ``message`` says why."""

    ok: bool
    message: str
    record: OrderRecord | None = None


class OrderDesk:
    def __init__(
        self,
        core: Broker,
        prompter: Prompter,
        precautions: Callable[[], Precautions],
        quote: Callable[[str], Any],
        fetch_quote: Callable[[str], Awaitable[Any]] | None = None,
    ) -> None:
        self.core = core
        self.prompter = prompter
        self._precautions = precautions
        self._quote = quote
        # For a symbol nobody watches (typed on the order line): subscribe and wait briefly for a quote,
        # so the percent-from-market precaution has a market to measure against.
        self._fetch_quote = fetch_quote

    @property
    def handler(self) -> OrderExecutionHandler:
        return self.core.handler

    async def market_quote(self, symbol: str) -> Any:
        q = self._quote(symbol)
        if q is None and self._fetch_quote is not None:
            try:
                q = await self._fetch_quote(symbol)
            except Exception as exc:  # no quote: the percent check cannot run, the others still do
                log.info("no quote for %s: %s", symbol, exc)
        return q

    def breaches(self, cmd: OrderRequest, q: Any) -> list[Breach]:
        return check(
            self._precautions(), action=cmd.action, quantity=cmd.quantity, order_type=cmd.order_type,
            limit_price=cmd.limit_price, stop_price=cmd.stop_price, bid=getattr(q, "bid", None),
            ask=getattr(q, "ask", None), last=getattr(q, "last", None), symbol=cmd.symbol,
        )

    async def send(self, cmd: OrderRequest) -> Outcome:
        """``cmd`` is checked by being an ``OrderRequest``; what needs the broker is checked next, before any
        prompt, so a prompt only ever asks about an order that can be sent, and shows it as it will be sent."""
        text = describe(cmd)
        try:
            await self.core.check(cmd)
            breaches = self.breaches(cmd, await self.market_quote(cmd.symbol))
            if breaches and not await self.prompter.precautions(text, breaches):
                return Outcome(False, f"Not sent: {breaches[0].message}")
            record = await self.core.submit(cmd, force=False, checked=True)
            if record is None:
                reason = self.handler.last_refusal or "The same order was sent moments ago"
                if not await self.prompter.duplicate(text, reason):
                    return Outcome(False, f"Not sent: {reason}")
                record = await self.core.submit(cmd, force=True, checked=True)
        except (OrderValidationError, ConnectionError) as exc:
            return Outcome(False, str(exc))
        except Exception as exc:  # an unexpected failure must reach the trader, not only a console
            log.exception("sending %s failed", text)
            return Outcome(False, f"Could not send {text}: {exc}")
        if record is None:
            return Outcome(False, self.handler.last_refusal or "Not sent")
        if record.status is OrderStatus.ERROR:
            return Outcome(False, f"#{record.order_id} {text}: {record.error_message}", record)
        return Outcome(True, f"#{record.order_id} sent: {text}", record)

    async def modify(
        self, order_id: int, quantity: int | None = None, limit_price: float | None = None,
        stop_price: float | None = None, confirm: Callable[[str], Any] | None = None,
    ) -> Outcome:
        record = self.handler.get_order(order_id)
        if record is None:
            return Outcome(False, f"There is no order #{order_id}")
        changes = {"quantity": quantity, "limit_price": limit_price, "stop_price": stop_price}
        try:
            new = OrderRequest.of_record(record, **{k: v for k, v in changes.items() if v is not None})
            await self.core.check(new)  # an off-tick price is refused before any prompt, as for a new order
        except (OrderValidationError, ConnectionError) as exc:
            return Outcome(False, str(exc))
        breaches = self.breaches(new, await self.market_quote(new.symbol))
        if breaches and not await self.prompter.precautions(f"Change #{order_id} to {describe(new)}", breaches):
            return Outcome(False, f"Not changed: {breaches[0].message}")
        if confirm is not None and not await confirm(f"Change #{order_id} to {describe(new)}?"):
            return Outcome(False, "Not changed")
        try:
            await self.core.modify(order_id, quantity, limit_price, stop_price)
        except (OrderValidationError, ConnectionError) as exc:
            return Outcome(False, str(exc))
        return Outcome(True, f"#{order_id}: change sent ({describe(new)})", record)

    async def cancel(self, order_id: int) -> Outcome:
        try:
            await self.core.cancel(order_id)
        except (OrderValidationError, ConnectionError) as exc:
            return Outcome(False, str(exc))
        return Outcome(True, f"#{order_id}: cancel sent")

    def working_orders(self) -> list[OrderRecord]:
        return [r for r in self.handler.get_all_orders()
                if r.status in (OrderStatus.PENDING, OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED)
                or (r.status is OrderStatus.ERROR and self.handler.retry_pending(r.order_id))]

    async def cancel_all(self, confirm: bool = True) -> Outcome:
        working = self.working_orders()
        if not working:
            return Outcome(False, "No working orders to cancel")
        if confirm and not await self.prompter.cancel_all(len(working)):
            return Outcome(False, "Nothing cancelled")
        problems = []
        for record in working:
            outcome = await self.cancel(record.order_id)
            if not outcome.ok:
                problems.append(outcome.message)
        if problems:
            return Outcome(False, f"Cancel sent for {len(working) - len(problems)} of {len(working)}: "
                                  + "; ".join(problems[:3]))
        return Outcome(True, f"Cancel sent for {len(working)} order{'s' if len(working) != 1 else ''}")

    async def retry(self, order_id: int) -> Outcome:
        """Send an errored order's unfilled rest again, as a new order through every check."""
        record = self.handler.get_order(order_id)
        if record is None:
            return Outcome(False, f"There is no order #{order_id}")
        if record.status is not OrderStatus.ERROR:
            return Outcome(False, f"#{order_id} is {record.status.value}; only an order in error can be retried")
        if self.handler.retry_pending(order_id):
            return Outcome(False, f"#{order_id} is already being retried")
        # Error is what IB's refusal (or a failure before sending) leaves; an order IB still works after an
        # error keeps its working status (the handler never marks it Error), so sending the rest is no double.
        rest = record.total_quantity - record.filled_quantity
        try:
            cmd = OrderRequest.of_record(record, quantity=rest)
        except OrderValidationError as exc:
            return Outcome(False, str(exc))
        return await self.send(cmd)
