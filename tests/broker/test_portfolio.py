"""Positions and account values through BrokerCore.portfolio, against the embedded gateway."""

from __future__ import annotations

import pytest

from ibticket import OrderStatus
from ibticket.broker import BrokerCore
from ibticket.broker.portfolio import AccountValues, Position
from ibticket.core.order import OrderRequest

from .corerun import Seen, in_thread, run_core

ACCOUNT = "DU1234567"


def holding(symbol: str, quantity: float):
    def find(items: list[list[Position]]) -> Position | None:
        if not items:
            return None
        return next((p for p in items[-1] if p.symbol == symbol and p.quantity == quantity), None)

    return find


async def buy(core: BrokerCore, symbol: str, quantity: int) -> None:
    filled = Seen()
    core.handler.register_fill_callback(filled)
    record = await core.submit(OrderRequest(symbol, "BUY", quantity))
    await filled.until(lambda items: record.status is OrderStatus.FILLED, what=f"{symbol} buy filled")
    core.handler.unregister_fill_callback(filled)


def test_account_values_arrive_on_connect(gateway) -> None:
    async def scenario(core: BrokerCore) -> None:
        accounts = Seen()
        core.portfolio.register_account_callback(accounts)
        values: AccountValues = await accounts.until(lambda items: items and items[-1], what="account values")
        assert values.account == ACCOUNT and values.currency == "USD"
        assert values.net_liquidation == pytest.approx(1_000_000.0)
        assert values.available_funds == pytest.approx(1_000_000.0)
        assert values.buying_power == pytest.approx(4_000_000.0)
        assert values.unrealized_pnl == 0.0 and values.realized_pnl == 0.0
        values = await accounts.until(lambda items: items[-1].day_pnl is not None and items[-1],
                                      what="day P&L (reqPnL)")
        assert values.day_pnl == 0.0
        assert core.portfolio.account() == values
        assert core.portfolio.account(ACCOUNT) == values
        assert core.portfolio.account("DU0000000") is None
        assert core.portfolio.positions() == []
        assert core.portfolio.accounts() == [ACCOUNT]

    run_core(scenario, gateway.port)


def test_a_filled_buy_shows_as_a_position_with_its_cost(gateway) -> None:
    gateway.set_price("AAPL", 200.0, spread=0.02)

    async def scenario(core: BrokerCore) -> None:
        positions, accounts = Seen(), Seen()
        core.portfolio.register_positions_callback(positions)
        core.portfolio.register_account_callback(accounts)
        await accounts.until(lambda items: items, what="account values")
        await buy(core, "AAPL", 100)
        aapl = await positions.until(holding("AAPL", 100), what="AAPL position")
        assert aapl.account == ACCOUNT and aapl.sec_type == "STK"
        # Bought at the ask, 200.01; IB's average cost includes the $1 commission. Marked at the last, 200.
        assert aapl.avg_cost == pytest.approx(200.02)
        assert aapl.market_price == pytest.approx(200.0)
        assert aapl.market_value == pytest.approx(20_000.0)
        assert aapl.unrealized_pnl == pytest.approx(-2.0)
        assert aapl.realized_pnl == 0.0
        assert core.portfolio.positions() == [aapl]
        assert core.portfolio.positions(ACCOUNT) == [aapl] and core.portfolio.positions("DU0000000") == []
        values = await accounts.until(
            lambda items: items[-1].net_liquidation == pytest.approx(999_998.0) and items[-1],
            what="account after the buy",
        )
        assert values.available_funds < 999_998.0 and values.unrealized_pnl == pytest.approx(-2.0)

    run_core(scenario, gateway.port)


def test_positions_and_account_survive_a_dropped_connection(gateway) -> None:
    gateway.set_price("MSFT", 400.0)

    async def scenario(core: BrokerCore) -> None:
        positions, accounts, states = Seen(), Seen(), Seen()
        core.portfolio.register_positions_callback(positions)
        core.portfolio.register_account_callback(accounts)
        core.register_state_callback(lambda s: states(str(s)))
        await buy(core, "MSFT", 10)
        await positions.until(holding("MSFT", 10), what="MSFT position")

        await in_thread(gateway.faults.drop_connections)
        await states.until(lambda s: "Disconnected" in s, what="disconnect")
        # While away, the last known records stand instead of an empty portfolio.
        assert [p.symbol for p in core.portfolio.positions()] == ["MSFT"]
        assert core.portfolio.account() is not None
        await states.until(lambda s: "Connected" in s, timeout=15, what="reconnect")

        # A fill after the reconnect is reported: the callbacks were not lost with the connection.
        await buy(core, "MSFT", 5)
        msft = await positions.until(holding("MSFT", 15), what="MSFT position after reconnect")
        assert msft.avg_cost == pytest.approx(400.0 + 2 / 15)  # two $1 minimum commissions
        await accounts.until(lambda items: items[-1].day_pnl is not None and items[-1] == core.portfolio.account(),
                             what="account after reconnect")

    run_core(scenario, gateway.port)


def test_embedded_gateway_portfolio() -> None:
    """BrokerCore with no port starts the embedded gateway itself; the portfolio works the same."""

    async def scenario(core: BrokerCore) -> None:
        assert core.gateway is not None
        positions = Seen()
        core.portfolio.register_positions_callback(positions)
        await buy(core, "SPY", 3)
        spy = await positions.until(holding("SPY", 3), what="SPY position")
        assert spy.market_price is not None and spy.avg_cost > 0

    run_core(scenario, None, gateway_options={"seed": 3, "tick_interval": None})


def test_a_position_closed_while_disconnected_is_closed_after_the_reconnect(gateway) -> None:
    gateway.set_price("MSFT", 400.0)

    async def scenario(core: BrokerCore) -> None:
        positions, states, statuses = Seen(), Seen(), Seen()
        core.portfolio.register_positions_callback(positions)
        core.register_state_callback(lambda s: states(str(s)))
        core.handler.register_status_callback(statuses)
        await buy(core, "MSFT", 10)
        await positions.until(holding("MSFT", 10), what="MSFT position")
        sell = await core.submit(OrderRequest("MSFT", "SELL", 10, "LIMIT", limit_price=410.0))
        await statuses.until(lambda items: sell.status is OrderStatus.SUBMITTED, what="sell working")

        await in_thread(gateway.faults.refuse_connections, 1.5)
        await in_thread(gateway.faults.drop_connections)
        await states.until(lambda s: "Disconnected" in s, what="disconnect")
        await in_thread(gateway.set_price, "MSFT", 411.0)  # the sell fills while the app is away
        assert [p.symbol for p in core.portfolio.positions()] == ["MSFT"]  # what was last known
        await states.until(lambda s: "Connected" in s, timeout=15, what="reconnect")
        (closed,) = await positions.until(lambda items: [p for p in items[-1] if p.closed], what="it closed")
        assert core.portfolio.positions() == [] and core.portfolio.day_positions() == [closed]
        assert closed.symbol == "MSFT" and closed.quantity == 0 and closed.realized_pnl > 0
        assert sell.status is OrderStatus.FILLED

    run_core(scenario, gateway.port)


def test_a_position_closed_today_stays_for_the_day_with_its_realized_pnl(gateway) -> None:
    """IB drops a closed position from positions() but updatePortfolio reports it (position 0, its realized
    P&L) for the rest of the day: the day's rows, open and closed, add up to the day's P&L."""
    gateway.set_price("AAPL", 200.0, spread=0.02)
    gateway.set_price("MSFT", 400.0, spread=0.02)

    async def scenario(core: BrokerCore) -> None:
        positions, accounts, states = Seen(), Seen(), Seen()
        core.portfolio.register_positions_callback(positions)
        core.portfolio.register_account_callback(accounts)
        core.register_state_callback(lambda s: states(str(s)))
        await buy(core, "AAPL", 100)
        await positions.until(holding("AAPL", 100), what="AAPL held")
        filled = Seen()
        core.handler.register_fill_callback(filled)
        sell = await core.submit(OrderRequest("AAPL", "SELL", 100))
        await filled.until(lambda items: sell.status is OrderStatus.FILLED, what="AAPL sold")
        await buy(core, "MSFT", 10)
        realized = 100 * (199.99 - 200.02) - 1.0  # sold at the bid; the buy's commission is in its cost

        def day(items: list[list[Position]]) -> list[Position] | None:
            rows = {p.symbol: p for p in items[-1]} if items else {}
            return list(rows.values()) if "MSFT" in rows and "AAPL" in rows and rows["AAPL"].closed else None

        rows = await positions.until(day, what="AAPL closed, MSFT open")
        aapl = next(p for p in rows if p.symbol == "AAPL")
        assert aapl.quantity == 0 and aapl.realized_pnl == pytest.approx(realized, abs=0.01)
        assert [p.symbol for p in core.portfolio.positions()] == ["MSFT"]

        def adds_up(items: list[AccountValues]) -> AccountValues | None:
            rows = core.portfolio.day_positions()
            total = sum((p.unrealized_pnl or 0.0) + (p.realized_pnl or 0.0) for p in rows)
            values = items[-1] if items else None
            ok = values is not None and values.day_pnl is not None and abs(values.day_pnl - total) < 0.015
            return values if ok and len(rows) == 2 else None

        await accounts.until(adds_up, what="the day's P&L equal to the rows' P&L")

        await in_thread(gateway.faults.drop_connections)
        await states.until(lambda s: "Disconnected" in s, what="disconnect")
        assert [p.symbol for p in core.portfolio.day_positions()] == ["AAPL", "MSFT"]  # the last known, meanwhile
        await states.until(lambda s: "Connected" in s, timeout=15, what="reconnect")
        # Synced from the new connection: the gateway reported the closed position again, as TWS does.
        after = {p.symbol: p for p in core.portfolio.day_positions()}
        assert after["AAPL"].closed and after["AAPL"].realized_pnl == aapl.realized_pnl and after["MSFT"].quantity

    run_core(scenario, gateway.port)
