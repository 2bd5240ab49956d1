"""The rest of the TWS API's requests: answered with data where the gateway has it, otherwise refused on the
request's own id with the error TWS sends there, so no client waits for an answer that never comes.

Requests without an id (news providers, depth exchanges, family codes, scanner parameters) get their answer
message, possibly empty. The table of what is simulated and what is refused is in docs/gateway.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .account import Account
from .market import Market
from .messages import Fields
from .requests import Cursor, MalformedRequest, parse_int
from .scanner import scan, scanner_parameters_xml
from .universe import Instrument, Universe

Send = Callable[[Fields], None]

NO_SECURITY = "No security definition has been found for the request"
NO_DEPTH = ("Requested market data is not subscribed. The paper gateway has no market depth (Level II); use "
            "reqMktData or reqTickByTickData")
NO_FUNDAMENTALS = ("We are sorry, but fundamentals data for the security specified is not available. The paper "
                   "gateway has no fundamental data")
NO_NEWS = "News feed is not allowed."
NOT_FA = "Error validating request.-'bb' : cause - FA data operations ignored for non FA customers."
NO_VERIFY = "Error validating request.-'bN' : cause - API verification is not used by the paper gateway"
# The exchanges SMART routes to, with the letters TWS uses for them in the bid/ask exchange ticks.
SMART_COMPONENTS = (("NYSE", "N"), ("ISLAND", "Q"), ("ARCA", "P"), ("AMEX", "A"), ("BATS", "Z"), ("IEX", "V"),
                    ("EDGX", "K"), ("MEMX", "U"), ("BYX", "Y"), ("EDGEA", "J"), ("PEARL", "H"), ("LTSE", "L"))


class ServiceHost(Protocol):
    """What these requests need of the gateway (``server.PaperGateway``)."""

    universe: Universe
    market: Market
    account: Account


class Services:
    """One connection's requests for reference data, scanners, news, FA, display groups and the like."""

    def __init__(self, host: ServiceHost, send: Send) -> None:
        self._host = host
        self._send = send
        self._pnl_single: dict[int, Instrument] = {}

    def _error(self, req_id: int, code: int, text: str) -> None:
        self._send([4, 2, req_id, code, text, ""])

    @staticmethod
    def _req_id(fields: list[str], versioned: bool) -> int:
        c = Cursor(fields)
        if versioned:
            c.skip(1)
        return c.int("reqId")

    # --- refused on the request's id --------------------------------------------------------------
    def refuse(self, code: int, text: str, versioned: bool) -> Callable[[list[str]], None]:
        def handler(fields: list[str]) -> None:
            self._error(self._req_id(fields, versioned), code, text)

        return handler

    def replace_fa(self, fields: list[str]) -> None:
        """[19, 1, faDataType, xml, reqId]: the id comes last."""
        req_id = parse_int(fields[4], "reqId", default=-1) if len(fields) > 4 else -1
        self._error(req_id, 321, NOT_FA)

    def refuse_without_id(self, code: int, text: str) -> Callable[[list[str]], None]:
        return lambda _fields: self._error(-1, code, text)

    # --- answered ----------------------------------------------------------------------------------
    def empty_list(self, message_id: int) -> Callable[[list[str]], None]:
        """News providers (85), depth exchanges (80), family codes (78): a list with nothing in it."""
        return lambda _fields: self._send([message_id, 0])

    def user_info(self, fields: list[str]) -> None:
        self._send([107, self._req_id(fields, False), ""])

    def soft_dollar_tiers(self, fields: list[str]) -> None:
        self._send([77, self._req_id(fields, False), 0])

    def query_display_groups(self, fields: list[str]) -> None:
        self._send([67, 1, self._req_id(fields, True), ""])

    def scanner_parameters(self, fields: list[str]) -> None:
        self._send([19, 1, scanner_parameters_xml()])

    def scanner_subscription(self, fields: list[str]) -> None:
        c = Cursor(fields)
        req_id = c.int("reqId")
        try:
            rows = c.int("numberOfRows", default=-1)
            instrument, location, code = c.text("instrument"), c.text("locationCode"), c.text("scanCode")
            above, below, volume = c.opt_float("abovePrice"), c.opt_float("belowPrice"), c.opt_float("aboveVolume")
        except MalformedRequest as exc:
            raise MalformedRequest(str(exc), req_id) from None
        result = scan(self._host.universe, self._host.market, instrument, location, code, rows, above, below, volume)
        if isinstance(result, str):
            self._error(req_id, 162, f"Historical Market Data Service error message:{result}")
            return
        message: Fields = [20, 3, req_id, len(result)]
        for rank, inst in enumerate(result):
            message += [rank, inst.con_id, inst.symbol, inst.sec_type, "", 0.0, "", "SMART", inst.currency,
                        inst.symbol, inst.trading_class, inst.trading_class, "", "", "", ""]
        self._send(message)

    def sec_def_opt_params(self, fields: list[str]) -> None:
        """Option chains of an underlying: the paper gateway lists no options, so a known stock has none."""
        c = Cursor(fields)
        req_id = c.int("reqId")
        symbol, _fut_fop_exchange, sec_type = c.text("underlyingSymbol"), c.text("futFopExchange"), c.text("secType")
        con_id = c.int("underlyingConId")
        if self._host.universe.resolve(con_id=con_id, symbol=symbol.strip(), sec_type=sec_type.strip()) is None:
            self._error(req_id, 200, NO_SECURITY)
            return
        self._send([76, req_id])

    def smart_components(self, fields: list[str]) -> None:
        c = Cursor(fields)
        req_id = c.int("reqId")
        if not c.text("bboExchange").strip():
            self._error(req_id, 321, "Error validating request.-'bS' : cause - the BBO exchange is empty; it is "
                                     "the one tickReqParams named")
            return
        message: Fields = [82, req_id, len(SMART_COMPONENTS)]
        for bit, (exchange, letter) in enumerate(SMART_COMPONENTS, 1):
            message += [bit, exchange, letter]
        self._send(message)

    def display_group_event(self, fields: list[str]) -> None:
        self._error(self._req_id(fields, True), 321,
                    "Error validating request.-'bD' : cause - the paper gateway has no display groups")

    # --- account by model ----------------------------------------------------------------------------
    def _account_ok(self, req_id: int, account: str) -> bool:
        account = account.strip()
        if account and account not in (self._host.account.account_id, "All"):
            self._error(req_id, 321, f"Error validating request: unknown account {account!r}")
            return False
        return True

    def positions_multi(self, fields: list[str]) -> None:
        c = Cursor(fields)
        c.skip(1)
        req_id = c.int("reqId")
        if not self._account_ok(req_id, c.text("account")):
            return
        account = self._host.account
        for h in account.holdings.values():
            if h.qty:
                inst = h.instrument
                self._send([71, 1, req_id, account.account_id, inst.con_id, inst.symbol, inst.sec_type, "", 0.0, "",
                            "", inst.primary_exchange, inst.currency, inst.symbol, inst.trading_class, h.qty,
                            round(h.avg_cost, 6), ""])
        self._send([72, 1, req_id])

    def pnl_single(self, fields: list[str]) -> None:
        c = Cursor(fields)
        req_id = c.int("reqId")
        if not self._account_ok(req_id, c.text("account")):
            return
        c.text("modelCode")
        inst = self._host.universe.by_con_id(c.int("conId"))
        if inst is None:
            self._error(req_id, 200, NO_SECURITY)
            return
        self._pnl_single[req_id] = inst
        self._push_pnl_single(req_id, inst)

    def cancel_pnl_single(self, fields: list[str]) -> None:
        self._pnl_single.pop(self._req_id(fields, False), None)

    def _push_pnl_single(self, req_id: int, inst: Instrument) -> None:
        holding = self._host.account.holdings.get(inst.symbol)
        qty = holding.qty if holding else 0.0
        price = self._host.market.quote(inst.symbol).last
        value = qty * price
        unrealized = value - qty * holding.avg_cost if holding and qty else 0.0
        realized = holding.realized if holding else 0.0
        self._send([95, req_id, qty, round(unrealized + realized, 2), round(unrealized, 2), round(realized, 2),
                    round(value, 2)])

    def account_moved(self) -> None:
        """Prices moved or a fill booked: P&L single subscriptions get their new figures."""
        for req_id, inst in list(self._pnl_single.items()):
            self._push_pnl_single(req_id, inst)

    # --- contracts that need an option -----------------------------------------------------------------
    def option_computation(self, fields: list[str]) -> None:
        """calculateImpliedVolatility / calculateOptionPrice / exerciseOptions: the gateway lists no options."""
        self._error(self._req_id(fields, True), 200, NO_SECURITY)
