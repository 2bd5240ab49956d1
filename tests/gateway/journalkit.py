"""A real day's paper account file, written by the gateway, for the tests that damage it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ib_insync import LimitOrder, MarketOrder

from ibticket.gateway import PaperGateway

from .helpers import connect, qualified, run_gateway_test, wait_status

CLIENT = 3
DEEP = b'{"cash":' + b"[" * 200_000 + b"]" * 200_000 + b"}"


@dataclass
class DayOne:
    """What the client saw before the file was damaged."""

    aapl_exec_ids: list[str]
    perm_ids: list[int]
    order_ids: list[int]


def trade_a_day(state: Path) -> DayOne:
    """100 AAPL bought; then (in later lines) a resting MSFT limit and 10 MSFT bought."""

    async def body(gw: PaperGateway) -> DayOne:
        ib = await connect(gw, client_id=CLIENT)
        aapl, msft = await qualified(ib, "AAPL"), await qualified(ib, "MSFT")
        bought = ib.placeOrder(aapl, MarketOrder("BUY", 100, orderRef="aapl"))
        await wait_status(bought, "Filled")
        resting = ib.placeOrder(msft, LimitOrder("BUY", 5, 1.00, orderRef="msft-rest", tif="GTC"))
        more = ib.placeOrder(msft, MarketOrder("BUY", 10, orderRef="msft"))
        await wait_status(resting, "Submitted")
        await wait_status(more, "Filled")
        ib.disconnect()
        trades = (bought, resting, more)
        return DayOne([f.execution.execId for f in bought.fills], [t.order.permId for t in trades],
                      [t.order.orderId for t in trades])

    return run_gateway_test(body, state_path=state)


def lines_of(state: Path) -> list[bytes]:
    data = state.read_bytes()
    assert data.endswith(b"\n")
    return data.split(b"\n")[:-1]


def first_line_with(lines: list[bytes], symbol: str) -> int:
    return next(i for i, line in enumerate(lines) if i and symbol.encode() in line)


def write(state: Path, lines: list[bytes]) -> bytes:
    data = b"".join(line + b"\n" for line in lines)
    state.write_bytes(data)
    return data


def aside(state: Path) -> Path:
    (path,) = state.parent.glob(state.name + ".corrupt-*")
    return path
