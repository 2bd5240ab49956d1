"""Admitting an order, as TWS does before it works one: the request's checks (contract, side, type, TIF,
size, prices and their tick) and the margin check, each refusal with the code and text TWS sends."""

from __future__ import annotations

import math

from .account import Account
from .book import OrderBook, WorkingOrder
from .market import Market
from .matching import MAX_PRICE, SUPPORTED_ORDER_TYPES, SUPPORTED_TIFS, on_tick, reference_price
from .ordertypes import PRICES_USED, request_problem
from .requests import PlaceOrder
from .universe import Instrument, Universe

MARGIN_TEXT = (
    "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY "
    "WITH LOAN VALUE [{elv:.2f} USD] MUST EXCEED THE INITIAL MARGIN [{margin:.2f} USD]"
)


class OrderRejected(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def validate(req: PlaceOrder, universe: Universe, account_id: str) -> Instrument:
    """The instrument of an acceptable request; raises ``OrderRejected`` as TWS would refuse it."""
    c = req.contract
    inst = universe.resolve(
        con_id=c.con_id, symbol=c.symbol, sec_type=c.sec_type, currency=c.currency, exchange=c.exchange,
        primary_exchange=c.primary_exchange,
    )
    if inst is None:
        raise OrderRejected(200, "No security definition has been found for the request")
    if req.action not in ("BUY", "SELL"):
        raise OrderRejected(321, f"Error validating request.-'bN' : cause - Invalid action: {req.action!r}")
    if req.order_type not in SUPPORTED_ORDER_TYPES:
        raise OrderRejected(387, f"Unsupported order type for this exchange and security type: {req.order_type!r}")
    if (req.tif or "DAY") not in SUPPORTED_TIFS:
        raise OrderRejected(321, f"Error validating request.-'bN' : cause - Unsupported time in force: {req.tif!r}")
    if req.account and req.account != account_id:
        raise OrderRejected(321, f"Error validating request.-'bN' : cause - Invalid account: {req.account!r}")
    qty = req.total_qty
    if qty is None or qty == 0:
        raise OrderRejected(434, "The order size cannot be zero")
    if not math.isfinite(qty) or qty < 0:
        raise OrderRejected(321, "Error validating request.-'bN' : cause - Invalid order size")
    if qty != int(qty):
        raise OrderRejected(10318, "This order doesn't support fractional quantity trading")
    needs = PRICES_USED[req.order_type]
    for which, price in (("lmt", req.lmt_price), ("aux", req.aux_price)):
        label = "limit" if which == "lmt" else "stop"
        if which in needs and (price is None or not price > 0):
            raise OrderRejected(
                321, f"Error validating request.-'bN' : cause - The {label} price must be a positive number")
        # Checked even where the order type ignores the price: it is echoed back and must stay a number.
        if price is not None and not (math.isfinite(price) and abs(price) <= MAX_PRICE):
            raise OrderRejected(
                321, f"Error validating request.-'bN' : cause - The {label} price {price:g} is out of range: "
                     f"the paper gateway accepts prices up to {MAX_PRICE:,.0f}")
        if which in needs and price is not None and not on_tick(price, inst.min_tick):
            raise OrderRejected(
                110, "The price does not conform to the minimum price variation for this contract.")
    problem = request_problem(req, inst.min_tick)
    if problem is not None:
        raise OrderRejected(*problem)
    return inst


class MarginCheck:
    """The account's initial margin if an order (or a change of one) were working, against its equity."""

    def __init__(self, account: Account, market: Market, book: OrderBook) -> None:
        self._account = account
        self._market = market
        self._book = book

    def mark(self, symbol: str) -> float:
        return self._market.quote(symbol).last

    def exposure_after(
        self, order: WorkingOrder, replacing: WorkingOrder | None = None
    ) -> dict[str, tuple[float, float]]:
        symbol = order.instrument.symbol
        quote = self._market.quote(symbol)
        qty = self._account.position(symbol) + order.sign * order.remaining
        for other in self._book.live_orders(symbol=symbol):
            # Untransmitted orders and attached children (which close what their parent opens) add no margin.
            if other is not replacing and other is not order and other.transmitted and not other.parent_id:
                qty += other.sign * other.remaining
        return {symbol: (qty, reference_price(order, quote))}

    def reduces(self, order: WorkingOrder, replacing: WorkingOrder | None = None) -> bool:
        """Whether the order only closes part of the position, with the other working orders on its side.

        IB does not refuse closing trades for want of margin (it may liquidate instead): such an order is
        accepted even when the account is short of margin. One that would open the other side is checked.
        """
        symbol = order.instrument.symbol
        position = self._account.position(symbol)
        if position * order.sign >= 0:
            return False
        closing = order.remaining + sum(
            o.remaining for o in self._book.live_orders(symbol=symbol)
            if o.sign == order.sign and o is not replacing and o is not order)
        return closing <= abs(position)

    def check(self, order: WorkingOrder, replacing: WorkingOrder | None = None) -> None:
        if self.reduces(order, replacing):
            return
        marks = self.mark
        margin = self._account.margin_after(self.exposure_after(order, replacing), marks)
        elv = self._account.net_liquidation(marks)
        if not margin <= elv:  # a NaN figure is refused too, never waved through
            raise OrderRejected(201, MARGIN_TEXT.format(elv=elv, margin=margin))
