"""A bracket through IB's own client (ibapi): transmit=False legs, the last leg transmitting the group,
children held until the parent fills, the take-profit's fill cancelling the stop, and the links and the
trailing stop decoded from openOrder by ibapi."""

from __future__ import annotations

from decimal import Decimal

import pytest

pytest.importorskip("ibapi")

from ibapi.order import Order

from .test_ibapi_client import app_and_gateway, has, order, stock  # noqa: F401 - the fixture


def _leg(action: str, kind: str, parent_id: int, transmit: bool, lmt: float | None = None,
         aux: float | None = None) -> Order:
    leg = order(action, 10, kind, lmt=lmt)
    if aux is not None:
        leg.auxPrice = aux
    leg.parentId, leg.transmit = parent_id, transmit
    return leg


def _status(app, order_id: int, status: str):  # type: ignore[no-untyped-def]
    return has("orderStatus", lambda a: a[0] == order_id and a[1] == status)


def test_a_bracket_through_ibapi(app_and_gateway):  # noqa: F811 - the fixture
    app, gw = app_and_gateway
    gw.set_price("AAPL", 200.0)
    parent_id = app.named("nextValidId")[0][0]
    tp_id, sl_id = parent_id + 1, parent_id + 2
    app.placeOrder(parent_id, stock("AAPL"), _leg("BUY", "LMT", 0, False, lmt=199.0))
    app.placeOrder(tp_id, stock("AAPL"), _leg("SELL", "LMT", parent_id, False, lmt=205.0))
    app.wait(_status(app, tp_id, "Inactive"), what="the untransmitted take-profit")
    app.placeOrder(sl_id, stock("AAPL"), _leg("SELL", "STP", parent_id, True, aux=195.0))
    app.wait(_status(app, sl_id, "PreSubmitted"), what="the bracket transmitted")
    app.wait(_status(app, parent_id, "Submitted"), what="the parent working")
    decoded = {a[0]: a[2] for a in app.named("openOrder")}
    assert decoded[tp_id].parentId == decoded[sl_id].parentId == parent_id
    assert decoded[parent_id].parentId == 0
    gw.set_price("AAPL", 198.0)
    app.wait(_status(app, parent_id, "Filled"), what="the parent filled")
    app.wait(_status(app, tp_id, "Submitted"), what="the take-profit working")
    gw.set_price("AAPL", 206.0)
    app.wait(_status(app, tp_id, "Filled"), what="the take-profit filled")
    app.wait(_status(app, sl_id, "Cancelled"), what="the stop cancelled")
    app.wait(has("error", lambda a: a[0] == sl_id and a[1] == 202), what="error 202 for the stop")
    fills = [(a[2].orderId, a[2].shares) for a in app.named("execDetails")]
    assert fills == [(parent_id, Decimal(10)), (tp_id, Decimal(10))]


def test_a_trailing_stop_decoded_by_ibapi(app_and_gateway):  # noqa: F811 - the fixture
    app, gw = app_and_gateway
    gw.set_price("MSFT", 100.0)
    order_id = app.named("nextValidId")[0][0]
    trail = order("SELL", 5, "TRAIL")
    trail.trailingPercent = 1.0
    app.placeOrder(order_id, stock("MSFT"), trail)
    app.wait(_status(app, order_id, "PreSubmitted"), what="the trailing stop")
    gw.set_price("MSFT", 110.0)
    app.wait(has("openOrder", lambda a: a[0] == order_id and a[2].trailStopPrice == 108.9), what="the moved stop")
    moved = [a[2] for a in app.named("openOrder") if a[0] == order_id][-1]
    assert moved.trailingPercent == 1.0 and moved.orderType == "TRAIL"
