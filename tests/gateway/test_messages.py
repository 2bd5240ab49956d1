"""Every outgoing layout decoded offline by both client decoders (ib_insync and ibapi) at version 176.

ib_insync drops a message whose field count is off, and ibapi raises, so a layout error shows up here as a
missing or wrong callback rather than as a hang in a socket test.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from ib_insync.decoder import Decoder as InsyncDecoder

from ibticket.gateway import messages as m
from ibticket.gateway.book import WorkingOrder
from ibticket.gateway.protocol import fmt
from ibticket.gateway.records import Execution
from ibticket.gateway.universe import Universe

ibapi_decoder = pytest.importorskip("ibapi.decoder")
from .test_ibapi_client import Recorder  # noqa: E402

UNIVERSE = Universe.load()
AAPL = UNIVERSE.get("AAPL")


class InsyncRecorder:
    """Stands in for ib_insync's Wrapper: records each callback."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.ib = type("IBStub", (), {"TimezoneTWS": None})()

    def __getattr__(self, name: str):
        return lambda *args: self.calls.append((name, args))


def via_insync(fields: list) -> tuple[str, tuple[Any, ...]]:
    wrapper = InsyncRecorder()
    InsyncDecoder(wrapper, 176).interpret([fmt(f) for f in fields])  # type: ignore[arg-type]
    assert len(wrapper.calls) == 1, f"ib_insync could not decode {fields[:3]}..."
    return wrapper.calls[0]


def via_ibapi(fields: list) -> tuple[str, tuple[Any, ...]]:
    rec = Recorder()
    decoder = ibapi_decoder.Decoder(rec, 176)
    decoder.interpret(tuple(fmt(f).encode() for f in fields[1:]), int(fields[0]))
    assert len(rec.events) == 1 or fields[0] in (1,), f"ibapi could not decode {fields[:3]}..."
    return rec.events[0]


def sample_order(**changes: Any) -> WorkingOrder:
    order = WorkingOrder(order_id=17, client_id=3, perm_id=1234567890, instrument=AAPL, action="BUY",
                         total_qty=100, order_type="LMT", lmt_price=199.5, aux_price=None, tif="GTC",
                         order_ref="my-ref", account="DU1234567", status="Submitted")
    for key, value in changes.items():
        setattr(order, key, value)
    return order


def sample_execution(realized: float | None = None) -> Execution:
    return Execution("0001a2b3.6543abcd.01.01", 17, 1234567890, 3, "AAPL", 265598, "BOT", 40, 199.5, 40, 199.5,
                     "my-ref", datetime(2025, 1, 2, 10, 11, 12).astimezone(), "DU1234567", "ISLAND", 1.0, realized)


@pytest.mark.parametrize("order", [sample_order(), sample_order(order_type="MKT", lmt_price=None, status="Filled",
                                                                filled=100.0, avg_fill_price=200.0),
                                   sample_order(order_type="STP LMT", aux_price=198.0, tif="DAY")])
def test_open_order(order):
    name, (order_id, contract, decoded, state) = via_insync(m.open_order(order))
    assert name == "openOrder" and order_id == 17
    assert (contract.conId, contract.symbol, contract.exchange) == (265598, "AAPL", "SMART")
    assert contract.tradingClass == "NMS"
    assert (decoded.clientId, decoded.permId, decoded.orderRef, decoded.tif) == (3, 1234567890, "my-ref", order.tif)
    assert (decoded.orderType, decoded.totalQuantity, state.status) == (order.order_type, 100, order.status)
    assert decoded.lmtPrice == (order.lmt_price if order.lmt_price is not None else 1.7976931348623157e308)
    name, (order_id, contract, decoded, state) = via_ibapi(m.open_order(order))
    assert name == "openOrder" and order_id == 17 and contract.conId == 265598
    assert (decoded.clientId, decoded.permId, decoded.orderRef, state.status) == (3, 1234567890, "my-ref", order.status)


def test_what_if_open_order():
    margins = {"initMarginChange": "5000.00", "equityWithLoanAfter": "1000000.00", "commission": "1.0",
               "commissionCurrency": "USD"}
    _, (_, _, decoded, state) = via_insync(m.open_order(sample_order(), what_if=margins))
    assert decoded.whatIf and state.initMarginChange == "5000.00" and state.commission == 1.0
    _, (_, _, decoded, state) = via_ibapi(m.open_order(sample_order(), what_if=margins))
    assert decoded.whatIf and state.initMarginChange == "5000.00"


def test_completed_order():
    order = sample_order(status="Filled", filled=100.0, completed_at=datetime(2025, 1, 2, 10, 0, 0),
                         completed_status="Filled")
    name, (contract, decoded, state) = via_insync(m.completed_order(order))
    assert name == "completedOrder" and contract.conId == 265598
    assert (decoded.permId, decoded.orderRef, decoded.filledQuantity) == (1234567890, "my-ref", 100)
    assert state.status == "Filled"
    assert state.completedTime == "20250102 10:00:00" and state.completedStatus == "Filled"
    name, (contract, decoded, state) = via_ibapi(m.completed_order(order))
    assert name == "completedOrder" and decoded.permId == 1234567890 and state.completedStatus == "Filled"


def test_order_status():
    order = sample_order(filled=40.0, avg_fill_price=199.5, last_fill_price=199.5)
    name, args = via_insync(m.order_status(order))
    assert name == "orderStatus" and args[:4] == (17, "Submitted", 40.0, 60.0) and args[8] == 3
    name, args = via_ibapi(m.order_status(order))
    assert name == "orderStatus" and args[1] == "Submitted" and args[6] == 3


@pytest.mark.parametrize("realized", [None, 12.5])
def test_exec_details_and_commission_report(realized):
    execution = sample_execution(realized)
    name, (req_id, contract, decoded) = via_insync(m.exec_details(-1, execution, AAPL))
    assert name == "execDetails" and req_id == -1 and contract.exchange == "ISLAND"
    assert (decoded.execId, decoded.side, decoded.shares, decoded.clientId, decoded.orderRef) == (
        execution.exec_id, "BOT", 40, 3, "my-ref")
    assert decoded.time.astimezone() == execution.time
    name, (req_id, contract, decoded) = via_ibapi(m.exec_details(5, execution, AAPL))
    assert name == "execDetails" and req_id == 5 and decoded.execId == execution.exec_id
    name, (report,) = via_insync(m.commission_report(execution))
    assert name == "commissionReport" and report.commission == 1.0
    assert report.realizedPNL == (realized if realized is not None else 1.7976931348623157e308)
    name, (report,) = via_ibapi(m.commission_report(execution))
    assert name == "commission" and report.execId == execution.exec_id


def test_contract_details_and_reference_data():
    fields = m.contract_details(9, AAPL, "SMART", datetime(2025, 1, 2))
    name, (req_id, details) = via_insync(fields)
    assert name == "contractDetails" and req_id == 9
    assert (details.contract.conId, details.contract.primaryExchange) == (265598, "NASDAQ")
    assert details.longName == "APPLE INC"
    assert details.timeZoneId == "US/Eastern" and details.minSize == 1
    name, (req_id, details) = via_ibapi(fields)
    assert name == "contractDetails" and details.contract.conId == 265598 and details.stockType == "COMMON"
    name, (req_id, samples) = via_insync(m.symbol_samples(4, [AAPL, UNIVERSE.get("SPY")]))
    assert [s.contract.symbol for s in samples] == ["AAPL", "SPY"]
    name, (rule_id, increments) = via_insync(m.market_rule(26, [(0.0, 0.01)]))
    assert rule_id == 26 and increments[0].increment == 0.01


def test_account_and_position_messages():
    name, args = via_insync(m.position("DU1234567", AAPL, 100, 200.01))
    assert name == "position" and args[0] == "DU1234567" and args[2:] == (100.0, 200.01)
    assert via_ibapi(m.position("DU1234567", AAPL, 100, 200.01))[0] == "position"
    name, args = via_insync(m.portfolio_value(AAPL, 100, 201.0, 20100.0, 200.01, 99.0, 0.0, "DU1234567"))
    assert name == "updatePortfolio" and args[1:3] == (100.0, 201.0)
    assert via_ibapi(m.portfolio_value(AAPL, 100, 201.0, 20100.0, 200.01, 99.0, 0.0, "DU1234567"))[0] == (
        "updatePortfolio")
    assert via_insync(m.account_value("NetLiquidation", "1000.00", "USD", "DU1"))[1] == (
        "NetLiquidation", "1000.00", "USD", "DU1")
    assert via_insync(m.account_summary(3, "DU1", "BuyingPower", "4.00", "USD"))[0] == "accountSummary"
    assert via_insync(m.account_update_multi(3, "DU1", "CashBalance", "1.00", "USD"))[0] == "accountUpdateMulti"
    assert via_insync(m.pnl(5, 1.0, 2.0, 3.0)) == ("pnl", (5, 1.0, 2.0, 3.0))


def test_ticks_and_errors():
    assert via_insync(m.tick_price(4, 1, 199.99, 300)) == ("priceSizeTick", (4, 1, 199.99, 300.0))
    assert via_insync(m.tick_size(4, 8, 123400)) == ("tickSize", (4, 8, 123400.0))
    assert via_insync(m.tick_snapshot_end(4)) == ("tickSnapshotEnd", (4,))
    assert via_insync(m.market_data_type(4, 1)) == ("marketDataType", (4, 1))
    assert via_insync(m.error(17, 202, "Order Canceled - reason:")) == (
        "error", (17, 202, "Order Canceled - reason:", ""))
    assert via_ibapi(m.error(17, 202, "Order Canceled - reason:"))[1] == (17, 202, "Order Canceled - reason:")
    assert via_insync(m.next_valid_id(5)) == ("nextValidId", (5,))
    assert via_ibapi(m.managed_accounts("DU1234567")) == ("managedAccounts", ("DU1234567",))
