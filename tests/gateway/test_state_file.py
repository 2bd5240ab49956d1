"""The state file itself: a new day, a torn or corrupt file, a file that is not ours, reset, the command."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from ib_insync import LimitOrder, MarketOrder

from ibticket.gateway import GatewayConfig, GatewayThread, PaperGateway, StateError
from ibticket.gateway.cli import main

from .helpers import connect, qualified, run_gateway_test, wait_for, wait_status


def _trade_a_little(state: Path, **config: object) -> list[str]:
    """A resting GTC limit, a filled MKT and a resting DAY limit (the highest order id) on a gateway that is
    then stopped; returns the execIds."""

    async def body(gw: PaperGateway) -> list[str]:
        ib = await connect(gw, client_id=3)
        contract = await qualified(ib, "AAPL")
        gtc = ib.placeOrder(contract, LimitOrder("BUY", 1, 1.00, orderRef="gtc", tif="GTC"))
        filled = ib.placeOrder(contract, MarketOrder("BUY", 10, orderRef="filled"))
        day = ib.placeOrder(contract, LimitOrder("BUY", 1, 1.00, orderRef="day"))
        for trade, status in ((filled, "Filled"), (day, "Submitted"), (gtc, "Submitted")):
            await wait_status(trade, status)
        ib.disconnect()
        return [e.exec_id for e in gw.executions()]

    return run_gateway_test(body, state_path=state, **config)


def _load(state: Path, **config: object) -> tuple[list, list, list, dict[str, str]]:
    """(orders, executions, positions, account values) of a gateway started on `state`."""

    async def body(gw: PaperGateway) -> tuple[list, list, list, dict[str, str]]:
        return gw.orders(), gw.executions(), gw.positions(), gw.account_values()

    return run_gateway_test(body, state_path=state, **config)


def _shift_back_one_day(state: Path) -> None:
    """Make the saved account yesterday's, as if the gateway had last run then."""

    def earlier(text: str) -> str:
        return (datetime.fromisoformat(text) - timedelta(days=1)).isoformat()

    lines = [json.loads(line) for line in state.read_text().splitlines()]
    for record in lines:
        for order in record.get("orders", []):
            order["placed_at"] = earlier(order["placed_at"])
            if order["completed_at"]:
                order["completed_at"] = earlier(order["completed_at"])
        for execution in record.get("executions", []):
            execution["time"] = earlier(execution["time"])
    state.write_text("".join(json.dumps(record) + "\n" for record in lines))


def test_a_new_day_drops_yesterdays_executions_and_day_orders_and_keeps_gtc_and_positions(tmp_path: Path):
    state = tmp_path / "paper-account.json"
    _trade_a_little(state)
    (day_order_id,) = [o["order_id"] for line in state.read_text().splitlines()
                       for o in json.loads(line).get("orders", []) if o["order_ref"] == "day"][-1:]
    _shift_back_one_day(state)

    async def next_day(gw: PaperGateway) -> None:
        assert gw.executions() == []
        assert [(o.order_ref, o.status) for o in gw.orders()] == [("gtc", "Submitted")]
        assert [(p.symbol, p.position) for p in gw.positions()] == [("AAPL", 10)]
        ib = await connect(gw, client_id=3)
        assert [t.order.orderRef for t in ib.openTrades()] == ["gtc"]
        assert ib.fills() == [] and await ib.reqExecutionsAsync() == []
        assert [t.order.orderRef for t in await ib.reqCompletedOrdersAsync(False)] == []
        # The order ids of yesterday stay used, those of dropped orders too: the client continues above them.
        assert ib.client.getReqId() > day_order_id
        ib.disconnect()

    run_gateway_test(next_day, state_path=state)


def test_a_torn_last_line_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    state = tmp_path / "paper-account.json"
    exec_ids = _trade_a_little(state)
    with state.open("ab") as fh:
        fh.write(b'{"executions":[{"exec_id":"0000')  # a write cut short by a crash
    with caplog.at_level(logging.WARNING, logger="ibticket.gateway.state"):
        orders, executions, positions, _ = _load(state)
    assert [e.exec_id for e in executions] == exec_ids
    assert sorted(o.order_ref for o in orders) == ["day", "filled", "gtc"]
    assert [(p.symbol, p.position) for p in positions] == [("AAPL", 10)]
    assert "torn last line" in caplog.text
    assert state.read_bytes().endswith(b"\n") and len(state.read_text().splitlines()) == 1  # compacted


def test_a_corrupt_file_is_moved_aside_and_a_new_account_starts(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    state = tmp_path / "paper-account.json"
    _trade_a_little(state)
    lines = state.read_text().splitlines()
    broken = "\n".join([lines[0][: len(lines[0]) // 2], *lines[1:]]) + "\n"
    state.write_text(broken)
    with caplog.at_level(logging.ERROR, logger="ibticket.gateway.state"):
        orders, executions, positions, values = _load(state)
    assert (orders, executions, positions) == ([], [], [])
    assert float(values["TotalCashValue"]) == 1_000_000.0
    (aside,) = tmp_path.glob("paper-account.json.corrupt-*")
    assert aside.read_text() == broken
    assert str(aside) in caplog.text and "a new account was started" in caplog.text
    # The new account is saved in the usual place.
    assert json.loads(state.read_text().splitlines()[0])["format"] == "ibticket-paper-account"


def test_a_snapshot_with_a_wrong_field_counts_as_corrupt(tmp_path: Path):
    state = tmp_path / "paper-account.json"
    _trade_a_little(state)
    _trade_a_little(state)  # the second start's snapshot holds the first run's orders
    records = [json.loads(line) for line in state.read_text().splitlines()]
    records[0]["orders"][0]["filled"] = "lots"
    state.write_text("".join(json.dumps(r) + "\n" for r in records))
    orders, _, _, _ = _load(state)
    assert orders == []
    assert len(list(tmp_path.glob("paper-account.json.corrupt-*"))) == 1


def test_another_accounts_file_is_refused(tmp_path: Path):
    state = tmp_path / "paper-account.json"
    _trade_a_little(state)
    with pytest.raises(StateError, match=r"holds account DU1234567, not DU7654321.*--reset"):
        PaperGateway(GatewayConfig(state_path=state, account="DU7654321", tick_interval=None))
    # Refused, not touched: the account is still there.
    assert len(_load(state)[1]) == 1


def test_a_second_gateway_on_the_same_file_is_refused_until_the_first_stops(tmp_path: Path):
    config = GatewayConfig(state_path=tmp_path / "paper-account.json", tick_interval=None)
    with GatewayThread(config) as first:
        assert first.connected_client_ids() == []
        with pytest.raises(StateError, match="in use by another paper gateway"):
            GatewayThread(config).start()
    with GatewayThread(config) as second:
        assert second.executions() == []


def test_reset_starts_a_new_account(tmp_path: Path):
    state = tmp_path / "paper-account.json"
    _trade_a_little(state)
    orders, executions, positions, values = _load(state, reset_state=True)
    assert (orders, executions, positions) == ([], [], [])
    assert float(values["TotalCashValue"]) == 1_000_000.0
    assert _load(state)[0] == []  # and that new account is what the file holds now


def test_the_saved_account_outranks_the_configured_start_cash(tmp_path: Path):
    state = tmp_path / "paper-account.json"
    _trade_a_little(state)
    _, _, _, values = _load(state, start_cash=5.0)
    assert float(values["TotalCashValue"]) > 990_000


def test_a_long_day_compacts_the_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from ibticket.gateway import state as state_module

    monkeypatch.setattr(state_module, "COMPACT_MIN_BYTES", 0)
    path = tmp_path / "paper-account.json"

    async def body(gw: PaperGateway) -> list[str]:
        ib = await connect(gw, client_id=3)
        contract = await qualified(ib, "AAPL")
        for _ in range(20):
            await wait_status(ib.placeOrder(contract, MarketOrder("BUY", 1)), "Filled")
        await wait_for(lambda: len(gw.executions()) == 20, what="executions")
        ib.disconnect()
        return [e.exec_id for e in gw.executions()]

    exec_ids = run_gateway_test(body, state_path=path)
    # The snapshot written at start held no executions: this one was written on the way.
    assert json.loads(path.read_text().splitlines()[0])["executions"]
    assert [e.exec_id for e in _load(path)[1]] == exec_ids


def test_the_command_takes_state_reset_and_master_client_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["--state", str(tmp_path), "--port", "0"]) == 1  # a folder is not a file
    err = capsys.readouterr().err
    assert err.startswith("ibticket-gateway: cannot read the paper account file") and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:
        main(["--reset"])
    assert exc.value.code == 2
    assert "--reset needs --state" in capsys.readouterr().err
    from ibticket.gateway.cli import build_parser

    args = build_parser().parse_args(["--state", "x.json", "--reset", "--master-client-id", "5"])
    assert (args.state, args.reset, args.master_client_id) == (Path("x.json"), True, 5)


def test_a_failed_write_is_logged_and_the_next_change_rewrites_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
):
    from ibticket.gateway import state as state_module

    path = tmp_path / "paper-account.json"
    real_write = state_module._write_all
    failures = [OSError(28, "No space left on device")]

    def disk_full_once(fd: int, data: bytes) -> None:
        if failures:
            real_write(fd, data[: len(data) // 2])  # half a line made it to the file
            raise failures.pop()
        real_write(fd, data)

    monkeypatch.setattr(state_module, "_write_all", disk_full_once)

    async def body(gw: PaperGateway) -> list[str]:
        ib = await connect(gw, client_id=3)
        contract = await qualified(ib, "AAPL")
        first = ib.placeOrder(contract, LimitOrder("BUY", 1, 1.00, orderRef="first"))  # its write fails
        await wait_status(first, "Submitted")
        second = ib.placeOrder(contract, MarketOrder("BUY", 2, orderRef="second"))
        await wait_status(second, "Filled")
        ib.disconnect()
        return sorted(o.order_ref for o in gw.orders())

    with caplog.at_level(logging.WARNING, logger="ibticket.gateway.state"):
        refs = run_gateway_test(body, state_path=path)
    assert refs == ["first", "second"]
    assert "No space left on device" in caplog.text and "is written again" in caplog.text
    orders, executions, _, _ = _load(path)
    assert sorted(o.order_ref for o in orders) == refs and len(executions) == 1


def test_a_new_day_starts_the_realized_pnl_afresh_and_forgets_yesterdays_closed_positions(tmp_path: Path):
    """Realized P&L is the day's: yesterday's closed AAPL is not a position of today, and the MSFT still held
    keeps its cost but not yesterday's realized P&L."""
    state = tmp_path / "paper-account.json"

    async def trade(gw: PaperGateway) -> None:
        ib = await connect(gw, client_id=3)
        for symbol, orders in (("AAPL", (("BUY", 10), ("SELL", 10))), ("MSFT", (("BUY", 10), ("SELL", 4)))):
            contract = await qualified(ib, symbol)
            for action, quantity in orders:
                await wait_status(ib.placeOrder(contract, MarketOrder(action, quantity)), "Filled")
        assert sorted((p.symbol, p.position) for p in gw.positions()) == [("AAPL", 0), ("MSFT", 6)]
        assert all(p.realized_pnl for p in gw.positions())
        ib.disconnect()

    run_gateway_test(trade, state_path=state)
    same_day = _load(state)
    assert float(same_day[3]["RealizedPnL"]) != 0.0 and len(same_day[2]) == 2
    lines = [json.loads(line) for line in state.read_text().splitlines()]
    for record in lines:
        for name in ("saved", "at"):
            if record.get(name):
                record[name] = (datetime.fromisoformat(record[name]) - timedelta(days=1)).isoformat()
    state.write_text("".join(json.dumps(record) + "\n" for record in lines))
    _shift_back_one_day(state)

    _orders, _executions, positions, values = _load(state)
    assert [(p.symbol, p.position, p.realized_pnl) for p in positions] == [("MSFT", 6, 0.0)]
    assert float(values["RealizedPnL"]) == 0.0
