"""The window's connection choice repeats two IB constants so it can load before the broker: keep them equal."""

from __future__ import annotations

import pytest

from ibticket.broker import settings
from ibticket.gui.options import parse_options
from ibticket.trading.connection import LIVE_PORTS, TWS_PAPER_PORT, ConnectionChoice


def test_the_constants_match_the_broker() -> None:
    assert TWS_PAPER_PORT == settings.TWS_PAPER_PORT
    assert LIVE_PORTS == settings.LIVE_PORTS


def test_a_live_port_is_flagged_and_the_simulator_never_is() -> None:
    assert ConnectionChoice("custom", "127.0.0.1", 7496).may_be_live
    assert not ConnectionChoice("custom", "127.0.0.1", 7497).may_be_live
    assert not ConnectionChoice("sim", allow_live=True).may_be_live
    with pytest.raises(ValueError, match="unknown connection mode"):
        ConnectionChoice("tcp")


@pytest.mark.parametrize("argv, mode, port", [
    ([], None, None), (["--sim"], "sim", None), (["--tws"], "tws", None), (["--port", "4002"], "custom", 4002),
    (["--host", "127.0.0.2"], "custom", None), (["--sim-reset"], "sim", None),
])
def test_the_command_line_picks_the_connection(argv: list[str], mode: str | None, port: int | None) -> None:
    options = parse_options(argv)
    assert (options.mode, options.port) == (mode, port)


def test_sim_with_a_host_is_refused() -> None:
    with pytest.raises(SystemExit):
        parse_options(["--sim", "--port", "4002"])
