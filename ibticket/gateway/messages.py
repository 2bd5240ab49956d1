"""Outgoing TWS messages at server version 176, each as a list of fields.

Field counts matter: ib_insync unpacks execDetails (31), commissionReport (8), position (16),
updatePortfolio (20), tickPrice (7), error (6) and the 9/15 connect messages (3) exactly and drops a
message of any other length. The openOrder and completedOrder layouts follow ib_insync's decoder.py and
ibapi's orderdecoder.py, which agree at 176.
"""

from __future__ import annotations

from datetime import datetime

from .book import WorkingOrder
from .protocol import UNSET_DOUBLE, Field
from .records import Execution
from .universe import MARKET_RULE_ID, VALID_EXCHANGES, Instrument

Fields = list[Field]

ORDER_TYPES = (
    "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,DEACTEOD,GAT,"
    "GTC,GTD,GTT,HID,IOC,LIT,LMT,MIT,MKT,MTL,NGCOMB,NONALGO,OCA,PEGBENCH,SCALE,SCALERST,SNAPMID,SNAPMKT,"
    "SNAPREL,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"
)

# Tick types (see ibapi.ticktype).
BID_SIZE, BID, ASK, ASK_SIZE, LAST, LAST_SIZE, HIGH, LOW, VOLUME, CLOSE, OPEN = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14
LAST_TIMESTAMP = 45
# Delayed data uses its own tick types (bid 1 -> 66 ... open 14 -> 76, last timestamp 45 -> 88).
DELAYED_TICK = {BID: 66, ASK: 67, LAST: 68, BID_SIZE: 69, ASK_SIZE: 70, LAST_SIZE: 71, HIGH: 72, LOW: 73,
                VOLUME: 74, CLOSE: 75, OPEN: 76, LAST_TIMESTAMP: 88}


def exec_time(when: datetime) -> str:
    # Local time with two spaces and no zone: ib_insync then needs no tz database (Windows has none).
    return when.strftime("%Y%m%d  %H:%M:%S")


# --- connection ------------------------------------------------------------------------------------
def handshake_reply(version: int, conn_time: str) -> Fields:
    return [version, conn_time]


def managed_accounts(accounts: str) -> Fields:
    return [15, 1, accounts]


def next_valid_id(order_id: int) -> Fields:
    return [9, 1, order_id]


def error(req_id: int, code: int, text: str, advanced_json: str = "") -> Fields:
    return [4, 2, req_id, code, text, advanced_json]


def current_time(epoch: int) -> Fields:
    return [49, 1, epoch]


# --- contracts -------------------------------------------------------------------------------------
def trading_hours(day: datetime, open_hhmm: str, close_hhmm: str) -> str:
    d = day.strftime("%Y%m%d")
    return f"{d}:{open_hhmm}-{d}:{close_hhmm}"


def contract_details(req_id: int, inst: Instrument, exchange: str, now: datetime) -> Fields:
    return [
        10, req_id, inst.symbol, inst.sec_type, "", 0.0, "", exchange, inst.currency, inst.symbol,
        inst.trading_class, inst.trading_class, inst.con_id, inst.min_tick,
        "", ORDER_TYPES, ",".join(VALID_EXCHANGES), 1, 0, inst.long_name, inst.primary_exchange,
        "", inst.industry, inst.category, "", "US/Eastern",
        trading_hours(now, "0400", "2000"), trading_hours(now, "0930", "1600"),
        "", "",
        0,  # secIdList count
        1, "", "", ",".join([str(MARKET_RULE_ID)] * len(VALID_EXCHANGES)), "", inst.stock_type,
        1, 1, 100,  # minSize, sizeIncrement, suggestedSizeIncrement
    ]


def contract_details_end(req_id: int) -> Fields:
    return [52, 1, req_id]


def symbol_samples(req_id: int, instruments: list[Instrument]) -> Fields:
    fields: Fields = [79, req_id, len(instruments)]
    for inst in instruments:
        fields += [inst.con_id, inst.symbol, inst.sec_type, inst.primary_exchange, inst.currency, 0,
                   inst.long_name, ""]
    return fields


def market_rule(rule_id: int, increments: list[tuple[float, float]]) -> Fields:
    fields: Fields = [93, rule_id, len(increments)]
    for low_edge, increment in increments:
        fields += [low_edge, increment]
    return fields


# --- market data -----------------------------------------------------------------------------------
def market_data_type(req_id: int, data_type: int) -> Fields:
    return [58, 1, req_id, data_type]


def tick_req_params(req_id: int, min_tick: float, bbo_exchange: str) -> Fields:
    return [81, req_id, min_tick, bbo_exchange, 3]


def tick_price(req_id: int, tick_type: int, price: float, size: int) -> Fields:
    return [1, 6, req_id, tick_type, price, size, 0]


def tick_size(req_id: int, tick_type: int, size: int) -> Fields:
    return [2, 6, req_id, tick_type, size]


def tick_string(req_id: int, tick_type: int, value: str) -> Fields:
    return [46, 6, req_id, tick_type, value]


def tick_snapshot_end(req_id: int) -> Fields:
    return [57, 1, req_id]


# --- orders ----------------------------------------------------------------------------------------
def order_status(o: WorkingOrder, status: str | None = None, filled: float | None = None) -> Fields:
    filled = o.filled if filled is None else filled
    remaining = max(0.0, o.total_qty - filled)
    return [3, o.order_id, status or o.status, filled, remaining, o.avg_fill_price, o.perm_id, o.parent_id,
            o.last_fill_price, o.client_id, "", 0.0]


def _contract_block(inst: Instrument, exchange: str = "SMART") -> Fields:
    # conId symbol secType lastTradeDate strike right multiplier exchange currency localSymbol tradingClass
    return [inst.con_id, inst.symbol, inst.sec_type, "", 0.0, "", "", exchange, inst.currency, inst.symbol,
            inst.trading_class]


def open_order(o: WorkingOrder, what_if: dict[str, str] | None = None) -> Fields:
    """128 fields for a plain STK order (no delta-neutral, combo, scale, hedge, algo or condition blocks)."""
    margins = what_if or {}
    fields: Fields = [5, o.order_id, *_contract_block(o.instrument)]
    fields += [
        o.action, o.total_qty, o.order_type, o.lmt_price, o.aux_price, o.tif, o.oca_group, o.account,
        "O", 0, o.order_ref, o.client_id, o.perm_id, o.outside_rth, False, 0.0, "", "",  # [13..30]
        "", "", "", "", "", o.good_till_date, "", "", "",  # fa group/method/pct/profile model GTD rule80A pctOff firm
        0, "", -1, 0, "", "", "", "", "",  # shortSaleSlot designatedLoc exemptCode auction start/ref/delta/range
        "", False, False, False, "", o.oca_type, False, False, "",  # display block sweep AON minQty oca eTrade firmQ
        o.parent_id, 0, "", 0, "", "",  # parentId triggerMethod volatility volatilityType dnOrderType dnAuxPrice
        # continuousUpdate refPriceType trailStopPrice trailingPercent basisPoints basisPointsType comboLegsDescrip
        False, 0, o.trail_stop_price, o.trailing_percent, "", "", "",
        0, 0, 0,  # comboLegs orderComboLegs smartComboRoutingParams
        "", "", "",  # scaleInitLevelSize scaleSubsLevelSize scalePriceIncrement
        "",  # hedgeType
        False, "", "", False, False,  # optOutSmartRouting clearingAccount clearingIntent notHeld dncPresent
        "",  # algoStrategy
        False, bool(what_if), o.status,  # solicited whatIf status
    ]
    fields += [margins.get(k, "") for k in (
        "initMarginBefore", "maintMarginBefore", "equityWithLoanBefore", "initMarginChange",
        "maintMarginChange", "equityWithLoanChange", "initMarginAfter", "maintMarginAfter",
        "equityWithLoanAfter", "commission", "minCommission", "maxCommission")]
    fields += [
        margins.get("commissionCurrency", ""), "",  # commissionCurrency warningText
        False, False,  # randomizeSize randomizePrice
        0,  # conditions
        # adjustedOrderType triggerPrice trailStopPrice lmtPriceOffset adjustedStop/StopLimit/Trailing trailingUnit
        "", "", o.trail_stop_price, o.lmt_price_offset, "", "", "", 0,
        "", "", "",  # softDollarTier name value displayName
        "", False, False, False, False,  # cashQty dontUseAutoPrice isOmsContainer discUpToLimit usePriceMgmtAlgo
        "", "", False,  # duration postToAts autoCancelParent
        "", "", "", "", "",  # minTradeQty minCompeteSize competeAgainstBestOffset midOffsetAtWhole midOffsetAtHalf
    ]
    return fields


def open_order_end() -> Fields:
    return [53, 1]


def completed_order(o: WorkingOrder, parent_perm_id: int = 0) -> Fields:
    """97 fields; completedOrder carries neither orderId nor clientId (ib_insync keys it by permId), so an
    attached order names its parent by permId."""
    completed = o.completed_at.strftime("%Y%m%d %H:%M:%S") if o.completed_at else ""
    return [
        101, *_contract_block(o.instrument),
        o.action, o.total_qty, o.order_type, o.lmt_price, o.aux_price, o.tif, o.oca_group, o.account,
        "O", 0, o.order_ref, o.perm_id, o.outside_rth, False, 0.0, "",
        "", "", "", "", "", o.good_till_date, "", "", "",  # fa* modelCode goodTillDate rule80A pctOffset firm
        0, "", -1,  # shortSaleSlot designatedLocation exemptCode
        "", "", "", "", "", "", False, False, "", o.oca_type, 0,  # prices, ranges, display sweep AON minQty oca trig
        "", 0, "", "",  # volatility volatilityType dnOrderType dnAuxPrice
        False, 0, o.trail_stop_price, o.trailing_percent, "",  # continuousUpdate refPriceType trail* comboLegsDescrip
        0, 0, 0,  # comboLegs orderComboLegs smartComboRoutingParams
        "", "", "",  # scale
        "",  # hedgeType
        "", "", False, False,  # clearingAccount clearingIntent notHeld dncPresent
        "",  # algoStrategy
        False, o.status, False, False,  # solicited status randomizeSize randomizePrice
        0,  # conditions
        o.trail_stop_price, o.lmt_price_offset, "", False, False,  # trailStop lmtOffset cashQty dontUseAutoPrice isOms
        "", o.filled, 0, False, "", False, False, parent_perm_id,  # autoCancelDate filledQty .. parentPermId
        completed, o.completed_status,
        "", "", "", "", "",  # minTradeQty minCompeteSize competeAgainstBestOffset midOffsets
    ]


def completed_orders_end() -> Fields:
    return [102]


def exec_details(req_id: int, e: Execution, inst: Instrument) -> Fields:
    return [
        11, req_id, e.order_id, *_contract_block(inst, e.exchange),
        e.exec_id, exec_time(e.time), e.account, e.exchange, e.side, e.shares, e.price, e.perm_id,
        e.client_id, 0, e.cum_qty, e.avg_price, e.order_ref, "", "", "", 2,
    ]


def exec_details_end(req_id: int) -> Fields:
    return [55, 1, req_id]


def commission_report(e: Execution) -> Fields:
    pnl = UNSET_DOUBLE if e.realized_pnl is None else round(e.realized_pnl, 4)
    return [59, 1, e.exec_id, round(e.commission, 4), "USD", pnl, UNSET_DOUBLE, ""]


# --- account ---------------------------------------------------------------------------------------
def position(account: str, inst: Instrument, qty: float, avg_cost: float) -> Fields:
    return [61, 3, account, inst.con_id, inst.symbol, inst.sec_type, "", 0.0, "", "", inst.primary_exchange,
            inst.currency, inst.symbol, inst.trading_class, qty, avg_cost]


def position_end() -> Fields:
    return [62, 1]


def account_value(key: str, value: str, currency: str, account: str) -> Fields:
    return [6, 2, key, value, currency, account]


def portfolio_value(
    inst: Instrument, qty: float, market_price: float, market_value: float, avg_cost: float,
    unrealized: float, realized: float, account: str,
) -> Fields:
    return [7, 8, inst.con_id, inst.symbol, inst.sec_type, "", 0.0, "", "", inst.primary_exchange,
            inst.currency, inst.symbol, inst.trading_class, qty, market_price, market_value, avg_cost,
            unrealized, realized, account]


def account_time(now: datetime) -> Fields:
    return [8, 1, now.strftime("%H:%M")]


def account_download_end(account: str) -> Fields:
    return [54, 1, account]


def account_update_multi(req_id: int, account: str, key: str, value: str, currency: str) -> Fields:
    return [73, 1, req_id, account, "", key, value, currency]


def account_update_multi_end(req_id: int) -> Fields:
    return [74, 1, req_id]


def account_summary(req_id: int, account: str, tag: str, value: str, currency: str) -> Fields:
    return [63, 1, req_id, account, tag, value, currency]


def account_summary_end(req_id: int) -> Fields:
    return [64, 1, req_id]


def pnl(req_id: int, daily: float, unrealized: float, realized: float) -> Fields:
    return [94, req_id, daily, unrealized, realized]
