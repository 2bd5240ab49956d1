"""Every field of every journal line is type- and range-checked: a wrong value stops the restore at its line.

The lines are a real day's journal written by the gateway (journalkit.trade_a_day); each test changes one
field of one line and reads the file back (journal.read_journal, then a StateFile on real files).
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ibticket.gateway.account import Account
from ibticket.gateway.book import OrderBook
from ibticket.gateway.journal import read_journal
from ibticket.gateway.market import Market
from ibticket.gateway.state import StateError, StateFile
from ibticket.gateway.state_market import MarketJournal
from ibticket.gateway.universe import Universe

from .journalkit import trade_a_day

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNIVERSE = Universe.load(None)


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    state = tmp_path_factory.mktemp("journal") / "paper-account.json"
    trade_a_day(state)
    records = [json.loads(line) for line in state.read_bytes().splitlines()]
    assert not read_journal(state.read_bytes()).problem  # what the gateway writes reads back whole
    return records


def _line_with(records: list[dict[str, Any]], test: Callable[[dict[str, Any]], bool]) -> int:
    return next(i for i, r in enumerate(records) if i and test(r))


def _is_limit_order(r: dict[str, Any]) -> bool:
    return any(o["order_type"] == "LMT" for o in r.get("orders", []))


TARGETS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "top": lambda r: "cash" in r and "perm_id" in r,
    "holdings": lambda r: bool(r.get("holdings")),
    "orders": _is_limit_order,
    "executions": lambda r: bool(r.get("executions")),
}
# (section, field, bad value, what the problem says); section "top" is the line itself.
CASES = [
    ("top", "cash", math.nan, "cash is not a finite number: nan"),
    ("top", "cash", math.inf, "cash is not a finite number: inf"),
    ("top", "cash", "1000", "cash is not a number: '1000'"),
    ("top", "cash", 10**400, "cash is too large"),
    ("top", "realized_pnl", True, "realized_pnl is not a number: True"),
    ("top", "perm_id", 1.5, "perm_id is not an integer"),
    ("top", "exec_seq", -1, "exec_seq -1 is out of range"),
    ("top", "exec_seq", 2**64, "exec_seq 18446744073709551616 is out of range"),
    ("top", "order_ids", {"3": "7"}, "3 is not an integer"),
    ("top", "order_ids", {" 3": 7}, "order_ids has a key that is not a client id: ' 3'"),
    ("top", "order_ids", [3, 7], "order_ids is not a mapping"),
    ("top", "holdings", "AAPL", "holdings is not a list"),
    ("top", "orders", [5], "a record is not a JSON object: 5"),
    ("holdings", "qty", 1.5, "qty is not a whole number: 1.5"),
    ("holdings", "qty", None, "qty is not a number: None"),
    ("holdings", "avg_cost", -math.inf, "avg_cost is not a finite number"),
    ("holdings", "symbol", "", "symbol is empty"),
    ("holdings", "realized", [[[1]]], "realized is not a number"),
    ("orders", "total_qty", 0, "total_qty 0 is not above 0"),
    ("orders", "filled", 6, "filled 6 is more than the order's quantity 5"),
    ("orders", "filled", -1, "filled -1 is below 0"),
    ("orders", "lmt_price", -1.0, "lmt_price -1 is not above 0"),
    ("orders", "lmt_price", None, "lmt_price is not a number: None"),
    ("orders", "lmt_price", 1e8, "lmt_price 1e+08 is above the highest price"),
    ("orders", "aux_price", 1e300, "aux_price 1e+300 is above the highest price"),
    ("orders", "action", "buy", "action is not one of BUY, SELL: 'buy'"),
    ("orders", "order_type", "REL", "order_type is not one of"),
    ("orders", "tif", ["GTC"], "tif is not one of"),
    ("orders", "status", "Exploded", "status is not one of"),
    ("orders", "outside_rth", 1, "outside_rth is not true or false: 1"),
    ("orders", "placed_at", "yesterday", "placed_at is not a time: 'yesterday'"),
    ("orders", "placed_at", "0001-01-01T00:00:00+00:00", "placed_at is not a plausible time"),
    ("orders", "completed_at", 12, "completed_at is not text: 12"),
    ("orders", "order_ref", "a\0b", "order_ref holds a NUL character"),
    ("orders", "order_ref", "\ud800", "order_ref holds a lone surrogate"),
    ("orders", "order_id", 0, "order_id 0 is out of range"),
    ("orders", "perm_id", 2**63, "perm_id 9223372036854775808 is out of range"),
    ("orders", "client_id", "3", "client_id is not an integer: '3'"),
    ("orders", "commission_paid", -0.5, "commission_paid -0.5 is below 0"),
    ("executions", "shares", -5, "shares -5 is not above 0"),
    ("executions", "price", 0, "price 0 is not above 0"),
    ("executions", "commission", -1, "commission -1 is below 0"),
    ("executions", "side", "BUY", "side is not one of BOT, SLD: 'BUY'"),
    ("executions", "time", 12, "time is not text: 12"),
    ("executions", "time", "2026-02-30T10:00:00", "time is not a time"),
    ("executions", "exec_id", "", "exec_id is empty"),
    ("executions", "con_id", 0, "con_id 0 is out of range"),
    ("executions", "realized_pnl", math.nan, "realized_pnl is not a finite number"),
    ("executions", "corrects", 5, "corrects is not text: 5"),
    ("executions", "cum_qty", 2.5, "cum_qty is not a whole number"),
]


def _encode(records: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


@pytest.mark.parametrize(("section", "key", "value", "says"), CASES, ids=[f"{c[0]}.{c[1]}" for c in CASES])
def test_a_wrong_field_stops_the_restore_at_its_line(
    journal: list[dict[str, Any]], section: str, key: str, value: Any, says: str,
):
    records = json.loads(json.dumps(journal))
    bad = _line_with(records, TARGETS[section])
    record = records[bad] if section == "top" else records[bad][section][0]
    record[key] = value
    reading = read_journal(_encode(records))
    assert reading.problem.startswith(f"line {bad + 1}: ")
    assert says in reading.problem
    assert (reading.applied, reading.dropped) == (bad, len(records) - bad)


def _with_market_line(journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The journal and a last line holding quotes, as a save of the moving market writes it."""
    records = json.loads(json.dumps(journal))
    records.append({"market": json.loads(json.dumps(records[0]["market"])), "at": records[0]["saved"]})
    return records


# (field of the first quote, or of the "market" itself with a leading "market.", bad value, the problem)
MARKET_CASES = [
    ("bid", math.nan, "bid is not a finite number: nan"),
    ("bid", 0, "bid 0 is not above 0"),
    ("ask", "230", "ask is not a number: '230'"),
    ("last", 1e8, "last 1e+08 is above the highest price"),
    ("close", -math.inf, "close is not a finite number"),
    ("ask", 0.5, "ask 0.5 is below bid"),
    ("low", 9_999_999.0, "is below low 1e+07"),
    ("volume", -1, "volume -1 is out of range"),
    ("volume", 2.5, "volume is not an integer: 2.5"),
    ("symbol", "", "symbol is empty"),
    ("symbol", 7, "symbol is not text: 7"),
    ("market.at", "yesterday", "at is not a time: 'yesterday'"),
    ("market.at", None, "at is not text: None"),
    ("market.quotes", {"AAPL": 1}, "quotes is not a list"),
    ("market.", [1], "market is not a JSON object: [1]"),
]


@pytest.mark.parametrize(("key", "value", "says"), MARKET_CASES, ids=[c[0] for c in MARKET_CASES])
def test_a_wrong_quote_stops_the_restore_at_its_line(journal: list[dict[str, Any]], key: str, value: Any, says: str):
    records = _with_market_line(journal)
    line = records[-1]
    if key == "market.":
        line["market"] = value
    elif key.startswith("market."):
        line["market"][key.removeprefix("market.")] = value
    else:
        line["market"]["quotes"][0][key] = value
    reading = read_journal(_encode(records))
    assert reading.problem.startswith(f"line {len(records)}: ") and says in reading.problem
    assert (reading.applied, reading.dropped) == (len(records) - 1, 1)
    assert not read_journal(_encode(_with_market_line(journal))).problem  # as written, it reads back


def test_a_missing_field_and_a_bad_snapshot(journal: list[dict[str, Any]]):
    records = json.loads(json.dumps(journal))
    bad = _line_with(records, TARGETS["executions"])
    del records[bad]["executions"][0]["price"]
    assert "missing field 'price'" in read_journal(_encode(records)).problem
    snapshot_without_cash = {k: v for k, v in journal[0].items() if k != "cash"}
    reading = read_journal(_encode([snapshot_without_cash, *journal[1:]]))
    assert reading.problem == "line 1: missing field 'cash'" and reading.applied == 0
    assert reading.head == (1, "DU1234567")  # still known to be this account's file


# --- fuzzing ---------------------------------------------------------------------------------------------
TRICKY = [math.nan, math.inf, -math.inf, 10**400, 2**63, -(2**63) - 1, -1, 0, 0.5, 1e308, -1e-320, True, False,
          None, "", "\0", "\ud800", "NaN", "1000", "BUY", "LMT", "2026-01-01T00:00:00", "0001-01-01T00:00:00",
          "9999-12-31T23:59:59-12:00", [], {}, [[[[1]]]], {"cash": math.nan}]
json_values = st.one_of(
    st.sampled_from(TRICKY),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                  st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8)),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
        max_leaves=6,
    ),
)


def _load_file(data: bytes) -> tuple[StateFile, Account, OrderBook, bytes]:
    """A StateFile on `data`; returns it (closed), the account and book it loaded, and the file it wrote."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "paper-account.json"
        path.write_bytes(data)
        account, book, market = Account("DU1234567", 1_000_000.0, 0.25), OrderBook(1), Market(UNIVERSE, 1)
        state = StateFile(path, UNIVERSE, account, book, today=date.today(), market=MarketJournal(market, 1, 0.25))
        state.close()
        return state, account, book, market, path.read_bytes()


def _assert_sound(account: Account, book: OrderBook, market: Market, written: bytes) -> None:
    for q in market.quotes().values():
        assert 0 < q.bid <= q.ask < 1e8 and 0 < q.last < 1e8 and q.low <= q.high and q.volume >= 0
    numbers = [account.cash, account.realized_pnl]
    for h in account.holdings.values():
        numbers += [h.qty, h.avg_cost, h.realized]
    for o in book.all_orders():
        numbers += [o.total_qty, o.filled, o.avg_fill_price, o.commission_paid, o.lmt_price or 0, o.aux_price or 0]
    for e in book.executions():
        numbers += [e.shares, e.price, e.cum_qty, e.avg_price, e.commission, e.realized_pnl or 0]
    assert all(math.isfinite(n) for n in numbers)
    again = read_journal(written)
    assert not again.problem and again.applied == 1  # what loaded is saved back loadable, as one snapshot


@FUZZ
@given(data=st.data())
def test_any_value_in_any_field_never_escapes(journal: list[dict[str, Any]], data: st.DataObject):
    records = _with_market_line(journal)
    index = data.draw(st.integers(0, len(records) - 1), label="line")
    record = records[index]
    sections = [k for k in ("holdings", "orders", "executions", "market") if record.get(k)]
    section = data.draw(st.sampled_from(["top", *sections]), label="section")
    if section == "market":
        record = data.draw(st.sampled_from([record["market"], record["market"]["quotes"][0]]), label="part")
    elif section != "top":
        record = record[section][0]
    keys = sorted(k for k in record if k not in ("format", "version", "account"))
    record[data.draw(st.sampled_from(keys), label="field")] = data.draw(json_values, label="value")
    state, account, book, market, written = _load_file(_encode(records))
    _assert_sound(account, book, market, written)
    if state.report is not None:
        assert state.report.problem.startswith(f"line {index + 1}: ")


@FUZZ
@given(data=st.data())
def test_damaged_bytes_never_escape(journal: list[dict[str, Any]], data: st.DataObject):
    raw = bytearray(_encode(_with_market_line(journal)))
    for _ in range(data.draw(st.integers(1, 4), label="flips")):
        at = data.draw(st.integers(0, len(raw) - 1), label="at")
        raw[at] = data.draw(st.sampled_from(b'\x00\xff{}[]",:\n0123456789e-.tfn '), label="byte")
    try:
        _state, account, book, market, written = _load_file(bytes(raw))
    except StateError as exc:
        # Only a damaged account id or version can say "not this account's file": it is left alone.
        assert "holds account" in str(exc) or "newer ibticket" in str(exc)
        return
    _assert_sound(account, book, market, written)
