"""Quotes and symbol lookup through BrokerCore.market, against the embedded gateway with the real client."""

from __future__ import annotations

from datetime import datetime

import pytest

from ibticket.broker import BrokerCore
from ibticket.broker.contracts import size_increment
from ibticket.broker.ib import LIBRARY
from ibticket.broker.market import NOTICE_DELAYED, NOTICE_DISCONNECTED, Quote, SymbolMatch
from ibticket.core.validation import OrderValidationError

from .conftest import eventually
from .corerun import Seen, in_thread, run_core


def latest(symbol: str, predicate=lambda q: True):
    def find(items: list[Quote]) -> Quote | None:
        return next((q for q in reversed(items) if q.symbol == symbol and predicate(q)), None)

    return find


def gateway_streams(gateway, client_id: int) -> list[str]:
    """The symbols the gateway streams to that client (its side of the socket)."""

    def read() -> list[str]:
        session = gateway.gateway._clients.get(client_id)
        return sorted(s.instrument.symbol for s in session.quotes.market_data.values()) if session else []

    return gateway.call(read)


def test_subscribe_delivers_a_quote_without_nans(gateway) -> None:
    gateway.set_quote("AAPL", bid=229.95, ask=230.05, last=230.0, bid_size=300, ask_size=500)

    async def scenario(core: BrokerCore) -> None:
        seen = Seen()
        core.market.register_quote_callback(seen)
        info = await core.market.subscribe(" aapl ")
        assert info.symbol == "AAPL" and info.long_name == "APPLE INC" and info.size_increment == 1
        quote = await seen.until(latest("AAPL", lambda q: q.bid and q.ask and q.last), what="AAPL quote")
        assert quote.bid == 229.95 and quote.ask == 230.05 and quote.bid < quote.ask
        assert quote.bid_size == 300 and quote.ask_size == 500 and quote.last == 230.0
        assert quote.last_size and quote.volume and quote.close
        assert isinstance(quote.time, datetime) and quote.time.tzinfo is None
        assert quote.delayed is False and quote.notice == ""
        assert core.market.quote("AAPL") == quote
        assert core.market.notice("AAPL") == ""
        assert core.market.quote("MSFT") is None  # not subscribed

    run_core(scenario, gateway.port)


def test_subscribe_refuses_unknown_and_malformed_symbols(gateway) -> None:
    async def scenario(core: BrokerCore) -> None:
        with pytest.raises(OrderValidationError, match="Unknown symbol ZZZZQ"):
            await core.market.subscribe("ZZZZQ")
        with pytest.raises(OrderValidationError):
            await core.market.subscribe("AA PL")
        assert core.market.subscriptions() == {}

    run_core(scenario, gateway.port)


def test_many_ticks_give_few_callbacks_with_the_latest_values(gateway) -> None:
    async def scenario(core: BrokerCore) -> None:
        core.market.interval = 0.2
        seen = Seen()
        core.market.register_quote_callback(seen)
        await core.market.subscribe("AAPL")
        await seen.until(latest("AAPL", lambda q: q.bid), what="first quote")
        start = len(seen.items)

        def burst() -> None:
            for i in range(40):
                gateway.set_quote("AAPL", bid=200.0 + i / 100, ask=200.5 + i / 100)
            gateway.set_quote("AAPL", bid=210.11, ask=210.22)

        await in_thread(burst)
        await seen.until(latest("AAPL", lambda q: q.bid == 210.11), what="the last quote of the burst")
        during = seen.items[start:]
        assert during[-1].bid == 210.11 and during[-1].ask == 210.22
        assert len(during) < 20, f"{len(during)} callbacks for 41 quote changes"
        gaps = [b - a for a, b in zip(seen.times, seen.times[1:], strict=False)]
        assert min(gaps) >= 0.2 - 0.01, f"two callbacks {min(gaps):.3f} s apart"

    run_core(scenario, gateway.port)


def test_refcount_and_unsubscribe_stops_callbacks(gateway) -> None:
    async def scenario(core: BrokerCore) -> None:
        seen = Seen()
        core.market.register_quote_callback(seen)
        await core.market.subscribe("AAPL")
        await core.market.subscribe("AAPL")  # a second view of the same symbol
        await core.market.subscribe("MSFT")
        assert core.market.subscriptions() == {"AAPL": 2, "MSFT": 1}
        await seen.until(lambda items: latest("AAPL")(items) and latest("MSFT")(items), what="both streaming")
        assert gateway_streams(gateway, 21) == ["AAPL", "MSFT"]  # one request per symbol

        core.market.unsubscribe("AAPL")
        await in_thread(gateway.set_quote, "AAPL", 201.0, 201.1)
        await seen.until(latest("AAPL", lambda q: q.bid == 201.0), what="AAPL still streaming for its other view")

        core.market.unsubscribe("aapl")
        assert core.market.subscriptions() == {"MSFT": 1}
        assert core.market.quote("AAPL") is None
        count = sum(q.symbol == "AAPL" for q in seen.items)
        # The gateway publishes AAPL before MSFT: once MSFT's new quote is here, an AAPL tick would be too.
        await in_thread(gateway.set_quote, "AAPL", 202.0, 202.1)
        await in_thread(gateway.set_quote, "MSFT", 401.0, 401.1)
        await seen.until(latest("MSFT", lambda q: q.bid == 401.0), what="MSFT quote")
        assert sum(q.symbol == "AAPL" for q in seen.items) == count
        await core.market.lookup("MSFT")  # a round trip behind the cancel on the same socket
        assert gateway_streams(gateway, 21) == ["MSFT"]
        core.market.unsubscribe("AAPL")  # once more than subscribed: nothing happens
        core.market.unsubscribe("NOT A SYMBOL!")

        core.market.unregister_quote_callback(seen)
        still = Seen()  # a callback still registered is called in the same flush as the removed one was
        core.market.register_quote_callback(still)
        await in_thread(gateway.set_quote, "MSFT", 402.0, 402.1)
        await still.until(latest("MSFT", lambda q: q.bid == 402.0), what="MSFT quote")
        assert all(q.bid != 402.0 for q in seen.items)
        assert core.market.quote("MSFT").bid == 402.0

    run_core(scenario, gateway.port)


def test_one_raising_callback_does_not_starve_the_others(gateway) -> None:
    async def scenario(core: BrokerCore) -> None:
        def broken(quote: Quote) -> None:
            raise RuntimeError("a view failed")

        seen = Seen()
        core.market.register_quote_callback(broken)
        core.market.register_quote_callback(seen)
        await core.market.subscribe("AAPL")
        await seen.until(latest("AAPL", lambda q: q.bid), what="quote")

    run_core(scenario, gateway.port)


def test_an_error_for_the_request_is_a_notice_until_data_flows_again(gateway) -> None:
    async def scenario(core: BrokerCore) -> None:
        seen = Seen()
        core.market.register_quote_callback(seen)
        await core.market.subscribe("AAPL")
        await seen.until(latest("AAPL", lambda q: q.bid), what="first quote")
        (req_id,) = gateway.call(lambda: list(gateway.gateway._clients[21].quotes.market_data))
        await in_thread(gateway.faults.send_error, req_id, 10197, "No market data during competing live session", 21)
        quote = await seen.until(latest("AAPL", lambda q: q.notice), what="notice")
        assert quote.notice == "market data: No market data during competing live session"
        assert quote.bid is not None and core.market.notice("AAPL") == quote.notice
        await in_thread(gateway.set_quote, "AAPL", 240.0, 240.1)
        quote = await seen.until(latest("AAPL", lambda q: q.bid == 240.0), what="quote after the error")
        assert quote.notice == ""

    run_core(scenario, gateway.port)


def test_quotes_resume_after_the_gateway_drops_the_connection(gateway) -> None:
    async def scenario(core: BrokerCore) -> None:
        states: list[str] = []
        state_seen = Seen()
        core.register_state_callback(lambda s: (states.append(str(s)), state_seen(str(s))))
        seen = Seen()
        core.market.register_quote_callback(seen)
        await core.market.subscribe("AAPL")
        await seen.until(latest("AAPL", lambda q: q.bid), what="first quote")

        await in_thread(gateway.faults.drop_connections)
        stale = await seen.until(latest("AAPL", lambda q: q.notice == NOTICE_DISCONNECTED), what="stale notice")
        assert stale.bid is not None  # the last values stay on screen, marked
        await state_seen.until(lambda s: "Connected" in s, timeout=15, what="reconnect")
        assert core.market.subscriptions() == {"AAPL": 1}
        await in_thread(gateway.set_quote, "AAPL", 222.22, 222.33)
        fresh = await seen.until(latest("AAPL", lambda q: q.bid == 222.22), what="quote after reconnect")
        assert fresh.notice == "" and fresh.ask == 222.33
        assert gateway_streams(gateway, 21) == ["AAPL"]

    run_core(scenario, gateway.port)


@pytest.mark.parametrize("gateway", [{"seed": 7, "tick_interval": None, "market_data_subscription": False}],
                         indirect=True)
def test_without_a_data_subscription_quotes_fall_back_to_delayed(gateway) -> None:
    async def scenario(core: BrokerCore) -> None:
        seen = Seen()
        core.market.register_quote_callback(seen)
        await core.market.subscribe("AAPL")
        quote = await seen.until(latest("AAPL", lambda q: q.bid and q.ask), what="delayed quote")
        assert quote.delayed is True and quote.notice == NOTICE_DELAYED
        assert quote.bid < quote.ask
        assert core.market.notice("AAPL") == NOTICE_DELAYED

        # The data type is per connection: after a reconnect the quotes come delayed again, at once.
        states = Seen()
        core.register_state_callback(lambda s: states(str(s)))
        await in_thread(gateway.faults.drop_connections)
        await states.until(lambda s: "Connected" in s, timeout=15, what="reconnect")
        await in_thread(gateway.set_quote, "AAPL", 233.33, 233.44)
        quote = await seen.until(latest("AAPL", lambda q: q.bid == 233.33), what="delayed quote after reconnect")
        assert quote.delayed is True and quote.notice == NOTICE_DELAYED

    run_core(scenario, gateway.port)


def test_lookup_finds_symbols_by_prefix_and_name(gateway) -> None:
    async def scenario(core: BrokerCore) -> None:
        matches = await core.market.lookup("AA")
        assert matches[0] == SymbolMatch("AAPL", "APPLE INC", "NASDAQ", "STK")
        assert all(m.symbol.startswith("AA") for m in matches)
        by_name = await core.market.lookup(" apple ")
        assert by_name and by_name[0].symbol == "AAPL"
        goog = await core.market.lookup("GOOG", limit=1)
        assert [m.symbol for m in goog] == ["GOOG"]  # the exact symbol first
        assert await core.market.lookup("ZZZQX") == []
        for bad in ("", "   ", "AA$", "x" * 41):
            with pytest.raises(OrderValidationError):
                await core.market.lookup(bad)
        with pytest.raises(OrderValidationError, match="limit"):
            await core.market.lookup("AA", limit=0)

    run_core(scenario, gateway.port)


def test_size_increment_reads_whole_share_steps() -> None:
    lib = __import__(LIBRARY)
    assert size_increment(lib.ContractDetails(minSize=1, sizeIncrement=1)) == 1
    assert size_increment(lib.ContractDetails(minSize=100, sizeIncrement=100)) == 100
    assert size_increment(lib.ContractDetails(minSize=0.0001, sizeIncrement=0.0001)) == 1  # fractional
    assert size_increment(lib.ContractDetails(minSize=10.0, sizeIncrement=0.0)) == 10
    assert size_increment(lib.ContractDetails()) == 1
    assert size_increment(object()) == 1


def test_the_sync_facade_reads_quotes_positions_and_account(broker) -> None:
    info = broker.subscribe_market_data("AAPL")
    assert info.symbol == "AAPL"
    quote = eventually(lambda: broker.get_quote("AAPL"), what="AAPL quote")
    assert quote.bid < quote.ask
    assert broker.lookup_symbols("MSF")[0].symbol == "MSFT"
    assert eventually(broker.get_account_values, what="account values").net_liquidation > 0
    order = broker.execute_market_order("AAPL", 7, "buy")
    eventually(lambda: [(p.symbol, p.quantity) for p in broker.get_positions()] == [("AAPL", 7.0)],
               what=f"position from order #{order.order_id}")
    broker.unsubscribe_market_data("AAPL")
    assert broker.get_quote("AAPL") is None
