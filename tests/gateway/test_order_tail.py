"""placeOrder's attributes beyond the fixed head, read where both clients write them at server version 176:
goodTillDate, ocaType, trailStopPrice, trailingPercent, whatIf, conditions and lmtPriceOffset."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ib_insync import Order, PriceCondition

from ibticket.gateway.requests import MalformedRequest, OrderTail, parse_place_order

from .rawclient import place_order_fields

ibapi = pytest.importorskip("ibapi")

from ibapi.client import EClient  # noqa: E402
from ibapi.contract import Contract  # noqa: E402
from ibapi.order import Order as IbapiOrder  # noqa: E402
from ibapi.wrapper import EWrapper  # noqa: E402

LINKED = {
    "action": "SELL", "totalQuantity": 10, "orderType": "TRAIL LIMIT", "trailingPercent": 1.5,
    "trailStopPrice": 99.5, "lmtPriceOffset": 0.1, "tif": "GTD", "goodTillDate": "20300101 10:00:00 US/Eastern",
    "ocaGroup": "g", "ocaType": 2, "parentId": 7, "transmit": False,
}


class _IbapiEncoder(EClient):
    """IB's client writing placeOrder at server version 176, with no socket."""

    def __init__(self) -> None:
        super().__init__(EWrapper())
        self.sent: list[list[str]] = []

    def isConnected(self) -> bool:
        return True

    def serverVersion(self) -> int:
        return 176

    def sendMsg(self, msg_id, msg: str = "") -> None:  # type: ignore[override]
        self.sent.append([str(int(msg_id)), *msg.split("\0")[:-1]])


def _ibapi_fields(order_id: int, fields: dict[str, object]) -> list[str]:
    order = IbapiOrder()
    for name, value in fields.items():
        setattr(order, name, Decimal(value) if name == "totalQuantity" else value)  # type: ignore[arg-type]
    contract = Contract()
    contract.symbol, contract.secType, contract.exchange, contract.currency = "AAPL", "STK", "SMART", "USD"
    encoder = _IbapiEncoder()
    encoder.placeOrder(order_id, contract, order)
    return encoder.sent[-1]


@pytest.mark.parametrize("encode", [
    lambda: place_order_fields(9, Order(**LINKED)),  # type: ignore[arg-type]
    lambda: _ibapi_fields(9, LINKED),
], ids=["ib_insync", "ibapi"])
def test_both_clients_encodings_are_read(encode):
    req = parse_place_order(encode())
    assert (req.order_id, req.parent_id, req.transmit, req.oca_group) == (9, 7, False, "g")
    assert req.tail == OrderTail(good_till_date="20300101 10:00:00 US/Eastern", oca_type=2, trail_stop_price=99.5,
                                 trailing_percent=1.5, what_if=False, conditions=0, lmt_price_offset=0.1)


def test_unset_fields_are_unset():
    for fields in (place_order_fields(3, Order(action="BUY", totalQuantity=1, orderType="MKT")),
                   _ibapi_fields(3, {"action": "BUY", "totalQuantity": 1, "orderType": "MKT"})):
        req = parse_place_order(fields)
        assert req.tail == OrderTail() and req.transmit and req.parent_id == 0


def test_conditions_are_counted_and_not_walked():
    order = Order(action="BUY", totalQuantity=1, orderType="LMT", lmtPrice=10.0,
                  conditions=[PriceCondition(price=5.0, conId=265598, exch="SMART")])
    assert parse_place_order(place_order_fields(4, order)).tail.conditions == 1


def test_a_short_message_keeps_the_defaults_and_a_bad_field_is_an_error():
    fields = place_order_fields(5, Order(**LINKED))  # type: ignore[arg-type]
    head = fields[:fields.index("20300101 10:00:00 US/Eastern")]
    assert parse_place_order(head).tail == OrderTail()  # ends before goodTillDate: nothing of the tail
    oca_at = fields.index("20300101 10:00:00 US/Eastern") + 9
    assert fields[oca_at] == "2"
    broken = [*fields[:oca_at], "two", *fields[oca_at + 1:]]
    with pytest.raises(MalformedRequest) as info:
        parse_place_order(broken)
    assert info.value.req_id == 5 and "ocaType" in str(info.value)
