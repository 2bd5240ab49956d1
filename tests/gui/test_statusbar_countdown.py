"""The reconnect countdown comes with the status (pushed by the session), not from a lambda the bar polls."""

from __future__ import annotations

import asyncio

from ibticket.gui.widgets.statusbar import TradingStatusBar
from ibticket.trading.session import ConnectionPhase, ConnectionStatus


def test_the_countdown_reads_the_next_attempt_from_the_status(qt_loop, keep) -> None:
    bar = keep(TradingStatusBar())

    async def scenario() -> None:
        now = asyncio.get_running_loop().time()
        where = "embedded gateway 127.0.0.1:4002"
        bar.set_connection(ConnectionStatus(ConnectionPhase.RECONNECTING, where, "SIMULATED",
                                            message="connection lost", next_attempt_at=now + 5.2))
        assert "next try in 5 s" in bar.connection.text() and "connection lost" in bar.connection.text()
        bar.set_connection(ConnectionStatus(ConnectionPhase.RECONNECTING, where, "SIMULATED", next_attempt_at=now))
        assert "trying now" in bar.connection.text()
        bar.set_connection(ConnectionStatus(ConnectionPhase.CONNECTED, where, "SIMULATED", account="DU1"))
        assert "next try" not in bar.connection.text()

    qt_loop.run_until_complete(scenario())
