"""Attached, OCA, trailing, GTD and untransmitted orders in the paper account file: kept across a restart
(and still linked, trailing and expiring after it), every new field checked when read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ib_insync import LimitOrder, Order

from ibticket.gateway import PaperGateway
from ibticket.gateway.account import Account
from ibticket.gateway.book import OrderBook
from ibticket.gateway.journal import read_journal
from ibticket.gateway.state import StateFile
from ibticket.gateway.universe import Universe

from .helpers import connect, qualified, run_gateway_test, wait_for, wait_status

CLIENT = 4
NEW_FIELDS = ("oca_type", "trailing_percent", "trail_stop_price", "lmt_price_offset", "good_till_date", "expires_at")


def _first_day(state: Path) -> dict[str, int]:
    """A bracket waiting for its parent, a trailing stop that has moved, a GTD limit, an OCA pair and an
    untransmitted order; returns their order ids by name."""

    async def body(gw: PaperGateway) -> dict[str, int]:
        gw.set_price("AAPL", 200.0)
        gw.set_price("MSFT", 100.0)
        ib = await connect(gw, client_id=CLIENT)
        aapl, msft = await qualified(ib, "AAPL"), await qualified(ib, "MSFT")
        bracket = ib.bracketOrder("BUY", 10, 199.0, 205.0, 195.0)
        trades = [ib.placeOrder(aapl, o) for o in bracket]
        trailing = ib.placeOrder(msft, Order(action="SELL", totalQuantity=5, orderType="TRAIL LIMIT",
                                             trailingPercent=2.0, lmtPriceOffset=0.5, tif="GTC"))
        until = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y%m%d-%H:%M:%S")
        gtd = ib.placeOrder(aapl, LimitOrder("BUY", 1, 150.0, tif="GTD", goodTillDate=until))
        oca = [ib.placeOrder(msft, o) for o in ib.oneCancelsAll(
            [LimitOrder("BUY", 10, 90.0, tif="GTC"), LimitOrder("BUY", 10, 89.0, tif="GTC")], "dip", 2)]
        draft = ib.placeOrder(aapl, LimitOrder("SELL", 3, 250.0, transmit=False))
        await wait_status(draft, "Inactive")
        await wait_status(oca[1], "Submitted")
        await wait_status(trades[2], "PreSubmitted")
        await wait_status(gtd, "Submitted")
        gw.set_price("MSFT", 110.0)  # the trailing stop moves to 107.8 (2 % under the bid)
        await wait_for(lambda: trailing.order.lmtPrice == 107.3, what="the limit followed")
        ib.disconnect()
        return {"parent": bracket.parent.orderId, "take_profit": bracket.takeProfit.orderId,
                "stop_loss": bracket.stopLoss.orderId, "trailing": trailing.order.orderId,
                "gtd": gtd.order.orderId, "oca": oca[0].order.orderId, "draft": draft.order.orderId}

    return run_gateway_test(body, state_path=state)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """The first day's file, compacted into one snapshot line (as every start does) that holds all orders."""
    state = tmp_path_factory.mktemp("linked") / "paper-account.json"
    ids = _first_day(state)
    StateFile(state, Universe.load(None), Account("DU1234567", 0.0, 0.25), OrderBook(1)).close()
    assert len(state.read_bytes().splitlines()) == 1
    return state, ids


def test_the_links_survive_a_restart_and_keep_working(saved: tuple[Path, dict[str, int]], tmp_path: Path):
    source, ids = saved
    state = tmp_path / "paper-account.json"
    state.write_bytes(source.read_bytes())

    async def body(gw: PaperGateway) -> None:
        gw.set_price("AAPL", 200.0)
        gw.set_price("MSFT", 110.0)
        ib = await connect(gw, client_id=CLIENT)
        trades = {t.order.orderId: t for t in ib.openTrades()}
        assert trades[ids["take_profit"]].order.parentId == ids["parent"]
        assert trades[ids["stop_loss"]].orderStatus.status == "PreSubmitted"
        assert (trades[ids["oca"]].order.ocaGroup, trades[ids["oca"]].order.ocaType) == ("dip", 2)
        assert trades[ids["draft"]].orderStatus.status == "Inactive"
        trailing = trades[ids["trailing"]].order
        assert (trailing.trailStopPrice, trailing.lmtPrice, trailing.lmtPriceOffset) == (107.8, 107.3, 0.5)
        assert trailing.trailingPercent == 2.0
        assert trades[ids["gtd"]].order.goodTillDate
        gw.set_price("MSFT", 109.0)  # where a fresh 2 % trail would start lower: the saved stop holds
        assert next(v.trail_stop_price for v in gw.orders() if v.order_id == ids["trailing"]) == 107.8
        gw.set_price("AAPL", 198.5)  # the parent fills; its take-profit works now
        parent, take_profit, stop_loss = (trades[ids[k]] for k in ("parent", "take_profit", "stop_loss"))
        await wait_status(parent, "Filled")
        await wait_status(take_profit, "Submitted")
        gw.set_price("AAPL", 206.0)
        await wait_status(take_profit, "Filled")
        await wait_status(stop_loss, "Cancelled")
        gw.advance_clock(3601)
        await wait_status(trades[ids["gtd"]], "Cancelled")
        ib.disconnect()

    run_gateway_test(body, state_path=state)


def _orders_line(records: list[dict[str, Any]]) -> dict[str, Any]:
    return records[0]  # the snapshot holds every order


def _order(records: list[dict[str, Any]], order_type: str) -> dict[str, Any]:
    return next(o for o in _orders_line(records)["orders"] if o["order_type"] == order_type)


@pytest.mark.parametrize(("order_type", "key", "value", "says"), [
    ("LMT", "oca_type", 7, "oca_type 7 is out of range"),
    ("LMT", "oca_type", "2", "oca_type is not an integer"),
    ("TRAIL LIMIT", "trailing_percent", 150.0, "trailing_percent 150 is not below 100"),
    ("TRAIL LIMIT", "trailing_percent", 0, "trailing_percent 0 is not above 0"),
    ("TRAIL LIMIT", "trailing_percent", None, "needs either a trailing amount or a trailing percent"),
    ("TRAIL LIMIT", "trail_stop_price", -1.0, "trail_stop_price -1 is not above 0"),
    ("TRAIL LIMIT", "trail_stop_price", 1e9, "trail_stop_price 1e+09 is above the highest price"),
    ("TRAIL LIMIT", "lmt_price_offset", -0.5, "lmt_price_offset -0.5 is below 0"),
    ("TRAIL LIMIT", "lmt_price_offset", float("inf"), "not a finite number"),
    ("LMT", "good_till_date", "a\0b", "good_till_date holds a NUL character"),
    ("LMT", "expires_at", "soon", "expires_at is not a time"),
    ("LMT", "status", "Pending", "status is not one of"),
])
def test_a_wrong_new_field_is_refused(saved: tuple[Path, dict[str, int]], order_type: str, key: str, value: Any,
                                      says: str):
    source, _ = saved
    records = [json.loads(line) for line in source.read_bytes().splitlines()]
    assert not read_journal(source.read_bytes()).problem
    _order(records, order_type)[key] = value
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    reading = read_journal(data)
    assert reading.problem.startswith("line 1: ") and says in reading.problem


def test_a_gtd_order_without_its_expiry_is_refused(saved: tuple[Path, dict[str, int]]):
    source, _ = saved
    records = [json.loads(line) for line in source.read_bytes().splitlines()]
    gtd = next(o for o in _orders_line(records)["orders"] if o["tif"] == "GTD")
    gtd["expires_at"] = None
    reading = read_journal(b"".join(json.dumps(r).encode() + b"\n" for r in records))
    assert "a GTD order has no expires_at" in reading.problem


def test_a_file_from_before_these_fields_loads_with_their_defaults(saved: tuple[Path, dict[str, int]]):
    source, _ = saved
    records = [json.loads(line) for line in source.read_bytes().splitlines()]
    plain = [o for o in _orders_line(records)["orders"] if o["order_type"] == "LMT" and o["tif"] != "GTD"]
    for order in plain:
        for key in NEW_FIELDS:
            del order[key]
    reading = read_journal(b"".join(json.dumps(r).encode() + b"\n" for r in records))
    assert not reading.problem
    loaded = [o for o in reading.saved.orders.values() if o.fields["order_id"] in {p["order_id"] for p in plain}]
    assert loaded and all(o.fields["oca_type"] == 0 and o.fields["expires_at"] is None for o in loaded)
