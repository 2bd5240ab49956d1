"""Incoming TWS requests (server version 176): parsers from text fields to typed records.

Numbers are read strictly as the TWS API clients write them: ASCII digits, an optional sign, point and
exponent. An empty field is "unset". Anything else ('1_000', non-ASCII digits, 'nan', 'inf', padding)
raises MalformedRequest, which the session answers with an error message instead of crashing.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass

from .protocol import UNSET_DOUBLE, UNSET_INTEGER

# [0-9], not \d: Python's int() and float() also take '١٢٣', '1_000' and surrounding blanks.
_INT = re.compile(r"[+-]?[0-9]{1,19}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# ib_insync writes math.inf as 'Infinite'; it is read so that order validation can refuse it by name.
_INFINITE = {"Infinite": float("inf"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_INT_RANGE = 2**63


class MalformedRequest(Exception):
    """A request whose fields cannot be read; req_id is the request/order id if it was readable."""

    def __init__(self, message: str, req_id: int = -1) -> None:
        super().__init__(message)
        self.req_id = req_id


class Truncated(MalformedRequest):
    """The message ended before a field: unreadable for a required field, "not given" for an optional tail."""


def parse_int(raw: str, what: str, default: int = 0) -> int:
    """An integer field: ASCII digits (a whole decimal such as '3.0' too); empty is `default`."""
    if raw == "":
        return default
    if _INT.fullmatch(raw):
        number = int(raw)
    elif _DECIMAL.fullmatch(raw) and float(raw).is_integer():
        number = int(float(raw))
    else:
        raise MalformedRequest(f"{what} is not a whole number: {raw[:20]!r}")
    if not -_INT_RANGE <= number < _INT_RANGE:
        raise MalformedRequest(f"{what} is out of range: {raw[:20]!r}")
    return number


def parse_float(raw: str, what: str) -> float | None:
    """A double field; None when empty or TWS's "unset". A value too large for a double is infinite."""
    if raw == "":
        return None
    if _DECIMAL.fullmatch(raw):
        number = float(raw)
    elif raw in _INFINITE:
        number = _INFINITE[raw]
    else:
        raise MalformedRequest(f"{what} is not a number: {raw[:20]!r}")
    return None if number == UNSET_DOUBLE else number


class Cursor:
    """Sequential reader over a message's fields (field 0, the message id, is already consumed)."""

    def __init__(self, fields: list[str], start: int = 1) -> None:
        self._fields = fields
        self._pos = start

    def _next(self, what: str) -> str:
        if self._pos >= len(self._fields):
            raise Truncated(f"message truncated before {what}")
        value = self._fields[self._pos]
        self._pos += 1
        return value

    def text(self, what: str = "text") -> str:
        return self._next(what)

    def int(self, what: str = "int", default: int = 0) -> int:
        return parse_int(self._next(what), what, default)

    def opt_float(self, what: str = "float") -> float | None:
        """A double, None when empty or UNSET; infinity is kept so that validation can refuse it."""
        return parse_float(self._next(what), what)

    def float(self, what: str = "float", default: float = 0.0) -> float:
        value = self.opt_float(what)
        return default if value is None else value

    def bool(self, what: str = "flag") -> bool:
        raw = self._next(what)
        if raw.lower() in ("", "false"):
            return False
        if raw.lower() == "true":
            return True
        try:
            return parse_int(raw, what) != 0
        except MalformedRequest:
            raise MalformedRequest(f"{what} is not a flag: {raw[:20]!r}") from None

    def skip(self, count: builtins.int) -> None:
        if count < 0 or self._pos + count > len(self._fields):
            raise Truncated("message truncated")
        self._pos += count

    @property
    def remaining(self) -> builtins.int:  # ``int`` here is the method above
        return len(self._fields) - self._pos


@dataclass(frozen=True)
class ContractSpec:
    con_id: int
    symbol: str
    sec_type: str
    last_trade_date: str
    strike: float | None
    right: str
    multiplier: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str
    trading_class: str


def read_contract(c: Cursor) -> ContractSpec:
    return ContractSpec(
        con_id=c.int("conId"), symbol=c.text("symbol").strip().upper(), sec_type=c.text("secType").strip().upper(),
        last_trade_date=c.text("lastTradeDate"), strike=c.opt_float("strike"), right=c.text("right"),
        multiplier=c.text("multiplier"), exchange=c.text("exchange").strip().upper(),
        primary_exchange=c.text("primaryExchange").strip().upper(), currency=c.text("currency").strip().upper(),
        local_symbol=c.text("localSymbol"), trading_class=c.text("tradingClass"),
    )


# --- order entry -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderTail:
    """The optional part of placeOrder after the fixed head: absent fields keep these defaults."""

    good_till_date: str = ""
    oca_type: int = 0
    trail_stop_price: float | None = None
    trailing_percent: float | None = None
    what_if: bool = False
    conditions: int = 0
    lmt_price_offset: float | None = None


@dataclass(frozen=True)
class PlaceOrder:
    order_id: int
    contract: ContractSpec
    action: str
    total_qty: float | None
    order_type: str
    lmt_price: float | None
    aux_price: float | None
    tif: str
    oca_group: str
    account: str
    order_ref: str
    transmit: bool
    parent_id: int
    outside_rth: bool
    tail: OrderTail = OrderTail()

    @property
    def what_if(self) -> bool:
        return self.tail.what_if


def parse_place_order(fields: list[str]) -> PlaceOrder:
    c = Cursor(fields)
    order_id = c.int("orderId")
    try:
        contract = read_contract(c)
        c.skip(2)  # secIdType secId
        action = c.text("action").strip().upper()
        total_qty = c.opt_float("totalQuantity")
        order_type = " ".join(c.text("orderType").strip().upper().split())
        lmt_price = c.opt_float("lmtPrice")
        aux_price = c.opt_float("auxPrice")
        tif = c.text("tif").strip().upper()
        oca_group = c.text("ocaGroup")
        account = c.text("account")
        c.skip(2)  # openClose origin
        order_ref = c.text("orderRef")
        transmit = c.bool("transmit")
        parent_id = c.int("parentId")
        c.skip(4)  # blockOrder sweepToFill displaySize triggerMethod
        outside_rth = c.bool("outsideRth")
        c.skip(1)  # hidden
        tail = _read_tail(c, contract.sec_type, order_type)
    except MalformedRequest as exc:
        raise MalformedRequest(str(exc), order_id) from None
    return PlaceOrder(
        order_id=order_id, contract=contract, action=action, total_qty=total_qty, order_type=order_type,
        lmt_price=lmt_price, aux_price=aux_price, tif=tif, oca_group=oca_group, account=account,
        order_ref=order_ref, transmit=transmit, parent_id=parent_id, outside_rth=outside_rth, tail=tail,
    )


def _read_tail(c: Cursor, sec_type: str, order_type: str) -> OrderTail:
    """Walk the optional blocks of placeOrder (same conditions as the clients' encoders at 176).

    A message that ends early keeps the defaults for the rest: only the fixed head is needed to trade. A
    field that is there but unreadable is an error like any other.
    """
    got: dict[str, object] = {}
    try:
        if sec_type == "BAG":
            legs = c.int("comboLegsCount")
            c.skip(8 * legs)
            c.skip(c.int("orderComboLegsCount"))
            c.skip(2 * c.int("smartComboRoutingParamsCount"))
        c.skip(3)  # sharesAllocation discretionaryAmt goodAfterTime
        got["good_till_date"] = c.text("goodTillDate").strip()
        c.skip(8)  # faGroup faMethod faPercentage faProfile modelCode shortSaleSlot designatedLocation exemptCode
        got["oca_type"] = c.int("ocaType")
        c.skip(17)  # rule80A .. volatilityType
        if c.text("deltaNeutralOrderType"):
            c.skip(1 + 8)
        else:
            c.skip(1)
        c.skip(2)  # continuousUpdate referencePriceType
        got["trail_stop_price"] = c.opt_float("trailStopPrice")
        got["trailing_percent"] = c.opt_float("trailingPercent")
        c.skip(2)  # scaleInitLevelSize scaleSubsLevelSize
        increment = c.float("scalePriceIncrement")
        if 0 < increment < UNSET_DOUBLE:
            c.skip(7)
        c.skip(3)  # scaleTable activeStartTime activeStopTime
        if c.text("hedgeType"):
            c.skip(1)
        c.skip(4)  # optOutSmartRouting clearingAccount clearingIntent notHeld
        if c.bool("deltaNeutralContractPresent"):
            c.skip(3)
        if c.text("algoStrategy"):
            c.skip(2 * c.int("algoParamsCount"))
        c.skip(1)  # algoId
        got["what_if"] = c.bool("whatIf")
        c.skip(4)  # orderMiscOptions solicited randomizeSize randomizePrice
        if order_type in ("PEG BENCH", "PEGBENCH"):
            c.skip(5)
        got["conditions"] = conditions = c.int("conditionsCount")
        if conditions == 0:  # an order with conditions is refused; its condition blocks are not walked
            c.skip(2)  # adjustedOrderType triggerPrice
            got["lmt_price_offset"] = c.opt_float("lmtPriceOffset")
    except Truncated:
        pass
    return OrderTail(**got)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CancelOrder:
    order_id: int


def parse_cancel_order(fields: list[str]) -> CancelOrder:
    c = Cursor(fields)
    c.skip(1)  # version
    return CancelOrder(order_id=c.int("orderId"))


# --- reference and market data -----------------------------------------------------------------------
@dataclass(frozen=True)
class ReqContractDetails:
    req_id: int
    contract: ContractSpec


def parse_req_contract_details(fields: list[str]) -> ReqContractDetails:
    c = Cursor(fields)
    c.skip(1)
    req_id = c.int("reqId")
    try:
        return ReqContractDetails(req_id=req_id, contract=read_contract(c))
    except MalformedRequest as exc:
        raise MalformedRequest(str(exc), req_id) from None


@dataclass(frozen=True)
class ReqMktData:
    req_id: int
    contract: ContractSpec
    generic_ticks: str
    snapshot: bool


def parse_req_mkt_data(fields: list[str]) -> ReqMktData:
    c = Cursor(fields)
    c.skip(1)
    req_id = c.int("reqId")
    try:
        contract = read_contract(c)
        if contract.sec_type == "BAG":
            c.skip(4 * c.int("comboLegsCount"))
        if c.bool("deltaNeutralContractPresent"):
            c.skip(3)
        generic = c.text("genericTickList")
        snapshot = c.bool("snapshot")
    except MalformedRequest as exc:
        raise MalformedRequest(str(exc), req_id) from None
    return ReqMktData(req_id=req_id, contract=contract, generic_ticks=generic, snapshot=snapshot)


@dataclass(frozen=True)
class ExecFilter:
    req_id: int
    client_id: int
    account: str
    time: str
    symbol: str
    sec_type: str
    exchange: str
    side: str


def parse_req_executions(fields: list[str]) -> ExecFilter:
    c = Cursor(fields)
    c.skip(1)
    req_id = c.int("reqId")
    try:
        return ExecFilter(
            req_id=req_id, client_id=c.int("clientId"), account=c.text("acctCode").strip(),
            time=c.text("time").strip(), symbol=c.text("symbol").strip().upper(),
            sec_type=c.text("secType").strip().upper(), exchange=c.text("exchange").strip().upper(),
            side=c.text("side").strip().upper(),
        )
    except MalformedRequest as exc:
        raise MalformedRequest(str(exc), req_id) from None


def versioned_ints(fields: list[str], *names: str) -> list[int]:
    """Messages of the form [id, version, int, int, ...]."""
    c = Cursor(fields)
    c.skip(1)
    return [c.int(name) for name in names]


def plain_ints(fields: list[str], *names: str) -> list[int]:
    """Messages of the form [id, int, int, ...] (the newer, unversioned ones)."""
    c = Cursor(fields)
    return [c.int(name) for name in names]


__all__ = [
    "UNSET_INTEGER", "CancelOrder", "ContractSpec", "Cursor", "ExecFilter", "MalformedRequest", "OrderTail",
    "PlaceOrder", "ReqContractDetails", "ReqMktData", "Truncated", "parse_cancel_order", "parse_float",
    "parse_int", "parse_place_order", "parse_req_contract_details", "parse_req_executions", "parse_req_mkt_data",
    "plain_ints", "versioned_ints",
]
