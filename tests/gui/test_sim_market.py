"""The window's SIMULATED account keeps its market with the account: after a restart of the app its
positions are valued where the market was, not at the prices stocks.csv starts from."""

from __future__ import annotations

from typing import Any

from windowkit import until

from ibticket.core import OrderStatus


def _aapl(app: Any) -> Any:
    model = app.window.positions_model
    rows = [model.position(r) for r in range(model.rowCount())]
    return next((p for p in rows if p.symbol == "AAPL"), None)


def test_the_simulated_market_continues_after_the_app_restarts(make_app, qt_loop) -> None:
    async def scenario() -> None:
        from ibticket.trading.precautions import Precautions

        first = await make_app().start()
        first.settings.set_precautions(Precautions(enabled=False))
        first.gateway.set_price("AAPL", 223.80)  # stocks.csv starts AAPL at 230.00
        first.type_line("buy 20 AAPL mkt")
        await until(lambda: first.orders() and first.orders()[0].status is OrderStatus.FILLED, what="the fill")
        before = await until(lambda: (p := _aapl(first)) and p.market_price == 223.80 and p, what="the position")
        await first.stop()

        second = await make_app().start()
        assert second.gateway.quote("AAPL").last == 223.80
        after = await until(lambda: _aapl(second), what="the position after the restart")
        assert (after.market_price, after.unrealized_pnl) == (223.80, before.unrealized_pnl)

    qt_loop.run_until_complete(scenario())

