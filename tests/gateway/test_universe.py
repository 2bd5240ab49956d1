"""The instrument file, its lookup rules and the seeded random walk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ibticket.gateway.market import Market
from ibticket.gateway.universe import STOCKS_FILE, Universe, find_resources_dir

REAL_CON_IDS = {
    "AAPL": 265598, "MSFT": 272093, "SPY": 756733, "GOOGL": 208813720, "AMZN": 3691937, "TSLA": 76792991,
    "NVDA": 4815747, "META": 107113386, "QQQ": 320227571, "IWM": 9579970,
}


def test_universe_has_enough_real_instruments():
    universe = Universe.load()
    assert len(universe) >= 30
    for symbol, con_id in REAL_CON_IDS.items():
        assert universe.get(symbol).con_id == con_id
    for inst in universe:
        assert inst.primary_exchange in {"NASDAQ", "NYSE", "ARCA"}
        assert inst.min_tick == 0.01 and inst.start_price > 0
        assert inst.long_name and inst.long_name == inst.long_name.upper()
        assert (inst.sec_type, inst.currency) == ("STK", "USD")


def test_resolve_rules():
    u = Universe.load()
    assert u.resolve(symbol="aapl").symbol == "AAPL"
    assert u.resolve(con_id=756733).symbol == "SPY"
    assert u.resolve(con_id=756733, symbol="SPY", exchange="SMART", currency="USD").symbol == "SPY"
    assert u.resolve(symbol="AAPL", primary_exchange="ISLAND").symbol == "AAPL"
    assert u.resolve(con_id=756733, symbol="AAPL") is None
    assert u.resolve(symbol="AAPL", currency="EUR") is None
    assert u.resolve(symbol="AAPL", sec_type="OPT") is None
    assert u.resolve(symbol="AAPL", primary_exchange="NYSE") is None
    assert u.resolve(symbol="AAPL", exchange="MOON") is None
    assert u.resolve(symbol="") is None
    assert [i.symbol for i in u.search("goo")] == ["GOOGL", "GOOG"]
    assert "JPM" in [i.symbol for i in u.search("chase")]


def test_resources_lookup_prefers_the_environment(tmp_path, monkeypatch):
    shutil.copy(find_resources_dir() / STOCKS_FILE, tmp_path / STOCKS_FILE)
    with (tmp_path / STOCKS_FILE).open("a", encoding="utf-8") as fh:
        fh.write("ZZZT,999999999,STK,USD,NYSE,TEST CORP,Test,Test,COMMON,0.01,10.00\n")
    monkeypatch.setenv("IBTICKET_RESOURCES", str(tmp_path))
    assert find_resources_dir() == tmp_path
    assert Universe.load().get("ZZZT").con_id == 999999999
    monkeypatch.setenv("IBTICKET_RESOURCES", str(tmp_path / "missing"))
    assert find_resources_dir() == Path(__file__).resolve().parents[2] / "resources"


def test_wheel_install_location_and_missing_resources(tmp_path, monkeypatch):
    import ibticket.resources as resources_module

    # as installed from a wheel: no checkout around the package, data-files under sys.prefix
    monkeypatch.delenv("IBTICKET_RESOURCES", raising=False)
    monkeypatch.setattr(resources_module, "__file__", str(tmp_path / "site" / "ibticket" / "resources.py"))
    monkeypatch.setattr(resources_module.sys, "prefix", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"stocks\.csv not found"):
        find_resources_dir()
    installed = tmp_path / "share" / "ibticket" / "resources"
    installed.mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[2] / "resources" / STOCKS_FILE, installed / STOCKS_FILE)
    assert find_resources_dir() == installed


def test_random_walk_is_seeded_and_stays_on_the_tick():
    universe = Universe.load()
    a, b, c = Market(universe, 11), Market(universe, 11), Market(universe, 12)
    for _ in range(50):
        a.step(), b.step(), c.step()
    assert a.quote("AAPL") == b.quote("AAPL")
    assert a.quote("AAPL") != c.quote("AAPL")
    q = a.quote("AAPL")
    assert 0 < q.bid < q.ask
    for price in (q.bid, q.ask, q.last):
        assert abs(price * 100 - round(price * 100)) < 1e-6
    a.frozen = True
    assert a.step() == [] and a.quote("AAPL") == q
