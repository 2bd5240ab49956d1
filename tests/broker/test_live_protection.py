"""A paper setup never reaches a live account without allow_live=True."""

from __future__ import annotations

import time

import pytest

from ibticket import IBKRBroker
from ibticket.broker import LiveTradingRefused, resolve_settings
from ibticket.broker.settings import GATEWAY_LIVE_PORT, GATEWAY_PAPER_PORT, TWS_LIVE_PORT, TWS_PAPER_PORT


@pytest.mark.parametrize("port", [TWS_LIVE_PORT, GATEWAY_LIVE_PORT])
def test_live_port_refused_by_connect(port: int, tmp_path) -> None:
    with IBKRBroker(port=port, log_dir=str(tmp_path)) as broker, pytest.raises(
        LiveTradingRefused, match="live-trading port"
    ):
        broker.connect(timeout=1)


def test_live_mode_refused_by_connect_without_allow_live(tmp_path) -> None:
    with IBKRBroker(paper_trading=False, log_dir=str(tmp_path)) as broker:
        with pytest.raises(LiveTradingRefused, match="allow_live=True"):
            broker.connect(timeout=1)
        assert not broker.is_connected()


def test_an_explicit_host_means_a_real_tws() -> None:
    settings = resolve_settings(host="127.0.0.2")
    assert not settings.embedded and (settings.host, settings.port) == ("127.0.0.2", TWS_PAPER_PORT)


def test_default_ports() -> None:
    assert resolve_settings(paper_trading=True, embedded=False).port == TWS_PAPER_PORT
    assert resolve_settings(paper_trading=True, use_gateway=True).port == GATEWAY_PAPER_PORT
    assert resolve_settings(paper_trading=False, allow_live=True).port == TWS_LIVE_PORT
    assert resolve_settings(paper_trading=False, use_gateway=True, allow_live=True).port == GATEWAY_LIVE_PORT
    assert resolve_settings().embedded


def test_environment_configures_tws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IBTICKET_TWS_PORT", "4002")
    monkeypatch.setenv("IBTICKET_CLIENT_ID", "5")
    settings = resolve_settings()
    assert (settings.port, settings.client_id, settings.embedded) == (4002, 5, False)
    monkeypatch.setenv("IBTICKET_TWS_PORT", "lots")
    with pytest.raises(ValueError, match="IBTICKET_TWS_PORT"):
        resolve_settings()


@pytest.mark.parametrize("gateway", [{"account": "U7654321"}], indirect=True)
def test_live_account_refused_at_connect(make_broker, gateway) -> None:
    broker = make_broker()
    with pytest.raises(LiveTradingRefused, match="U7654321"):
        broker.connect(timeout=5)
    assert not broker.is_connected()
    deadline = time.monotonic() + 5
    while 11 in gateway.connected_client_ids() and time.monotonic() < deadline:
        time.sleep(0.01)  # the gateway notices the closed socket on its next read
    assert 11 not in gateway.connected_client_ids()


@pytest.mark.parametrize("gateway", [{"account": "U7654321"}], indirect=True)
def test_live_account_allowed_explicitly(make_broker, gateway) -> None:
    broker = make_broker(allow_live=True)
    assert broker.connect(timeout=5), broker.last_error
    assert broker.is_connected()
