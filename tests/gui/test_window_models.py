"""What the orders and fills models answer for each role, and that a theme change reaches cached colors.

The models answer the view's per-cell questions from caches (see orders_model.py); these pin the answers.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QColor

from ibticket.core import Fill, ManualClock, OrderExecutionHandler, OrderRecord, OrderStatus
from ibticket.gui.bridge import OrderBridge
from ibticket.gui.models.fills import FillsModel
from ibticket.gui.models.orders import COL, OrdersModel
from ibticket.gui.theme import DARK, LIGHT, status_color

R = Qt.ItemDataRole


def _order(order_id: int, status: OrderStatus, action: str = "BUY", limit: float | None = 187.25) -> OrderRecord:
    return OrderRecord(order_id=order_id, symbol="AAPL", action=action, total_quantity=100,
                       order_type="LIMIT" if limit else "MARKET", limit_price=limit, status=status,
                       order_ref=f"ibt-1-x-{order_id}", submission_time=datetime(2026, 1, 2, 9, 30))


def test_the_orders_model_answers_each_role_and_follows_the_theme(qapp, model_tester) -> None:
    model = OrdersModel()
    model_tester(model)
    model.apply([_order(1, OrderStatus.SUBMITTED), _order(2, OrderStatus.FILLED, "SELL", None)])
    status, side, limit, qty = COL["status"], COL["side"], COL["limit"], COL["qty"]
    assert model.data(model.index(0, status)) == "Submitted"
    assert model.data(model.index(0, qty), R.EditRole) == "100"
    assert model.data(model.index(0, status), R.ForegroundRole) == status_color(LIGHT, "Submitted")
    assert model.data(model.index(1, status), R.ForegroundRole) == status_color(LIGHT, "Filled")
    assert model.data(model.index(0, side), R.ForegroundRole) == QColor(LIGHT.buy)
    assert model.data(model.index(1, side), R.ForegroundRole) == QColor(LIGHT.sell)
    assert model.data(model.index(0, qty), R.ForegroundRole) is None
    assert model.data(model.index(0, qty), R.TextAlignmentRole) == int(Qt.AlignmentFlag.AlignRight
                                                                       | Qt.AlignmentFlag.AlignVCenter)
    assert model.data(model.index(0, COL["id"]), R.ToolTipRole) == "Order reference ibt-1-x-1"
    assert model.data(model.index(0, 0), R.UserRole).order_id == 1
    assert model.data(model.index(0, 0), R.FontRole) is None
    model.set_colors(DARK)
    assert model.data(model.index(0, status), R.ForegroundRole) == status_color(DARK, "Submitted")
    assert model.data(model.index(1, side), R.ForegroundRole) == QColor(DARK.sell)
    # Editable: the quantity and limit of a working order; nothing of a finished one, no missing price.
    editable = Qt.ItemFlag.ItemIsEditable
    assert model.flags(model.index(0, qty)) & editable and model.flags(model.index(0, limit)) & editable
    assert not model.flags(model.index(0, COL["stop"])) & editable
    assert not model.flags(model.index(1, qty)) & editable
    assert model.flags(model.index(1, 0)) & Qt.ItemFlag.ItemIsSelectable


def test_the_fills_model_answers_each_role_and_follows_the_theme(qapp, model_tester) -> None:
    model = FillsModel()
    model_tester(model)
    when = datetime(2026, 1, 2, 9, 30, 5)
    model.apply([Fill("0001.a.01.01", 1, "AAPL", 10, 187.25, when, 1.0, "BUY"),
                 Fill("0002.a.01.01", 2, "AAPL", 5, 0.5, when, side="SELL")])
    assert [model.data(model.index(0, c)) for c in (1, 2, 3, 4, 6, 7)] == [
        "AAPL", "BUY", "10", "187.25", "1", "0001.a.01.01"]
    assert model.data(model.index(0, 0)).startswith("09:30:05") and model.data(model.index(0, 5))
    assert model.data(model.index(1, 4)) == "0.5000"
    assert model.data(model.index(0, 2), R.ForegroundRole) == QColor(LIGHT.buy)
    assert model.data(model.index(1, 2), R.ForegroundRole) == QColor(LIGHT.sell)
    assert model.data(model.index(0, 1), R.ForegroundRole) is None
    assert model.data(model.index(0, 3), R.TextAlignmentRole) == int(Qt.AlignmentFlag.AlignRight
                                                                      | Qt.AlignmentFlag.AlignVCenter)
    assert model.data(model.index(0, 1), R.TextAlignmentRole) == int(Qt.AlignmentFlag.AlignLeft
                                                                      | Qt.AlignmentFlag.AlignVCenter)
    assert model.data(model.index(1, 0), R.UserRole).fill_id == "0002.a.01.01"
    model.set_colors(DARK)
    assert model.data(model.index(0, 2), R.ForegroundRole) == QColor(DARK.buy)


def test_the_fills_model_keeps_one_row_per_execution_through_commissions_and_corrections(qapp, model_tester) -> None:
    model = FillsModel()
    model_tester(model)
    when = datetime(2026, 1, 2, 9, 30, 5)
    first = Fill("0000e0d5.6554a1b2.01.01", 1, "AAPL", 10, 100.0, when, side="BUY")
    second = Fill("0000e0d6.6554a1b2.01.01", 1, "AAPL", 5, 101.0, when, side="BUY")
    model.apply([first, second])
    first.commission = 1.25  # the handler sets a late commission on the same object, the bridge re-delivers it
    model.apply([first])
    corrected = Fill("0000e0d6.6554a1b2.01.02", 1, "AAPL", 5, 100.5, when, side="BUY")
    model.apply([corrected])
    manual = Fill("manual-1", 2, "AAPL", 3, 99.0, when, side="BUY")  # an id without IB's dots
    model.apply([manual])
    model.apply([manual])  # delivered again (its commission, say): the same row
    assert [f.fill_id for f in model.fills()] == ["0000e0d5.6554a1b2.01.01", "0000e0d6.6554a1b2.01.02", "manual-1"]
    totals = model.totals["AAPL"]
    assert (totals.fills, totals.bought, totals.commission) == (3, 18, 1.25)
    assert totals.bought_value == 10 * 100.0 + 5 * 100.5 + 3 * 99.0
    corrected.commission = 0.75  # the correction's own commission, reported later
    model.apply([corrected])
    assert model.totals["AAPL"].commission == 2.0 and model.rowCount() == 3
    # Another order's execution with an id already shown (never from IB) still gets a row of its own.
    model.apply([Fill("0000e0d5.6554a1b2.01.02", 9, "AAPL", 1, 100.0, when, side="BUY")])
    assert model.rowCount() == 4 and model.totals["AAPL"].bought == 19
    model.clear()
    assert model.rowCount() == 0 and model.totals == {}


def test_a_correction_in_the_same_batch_as_its_execution_replaces_it(qapp, model_tester) -> None:
    """The soak's "corrected execution ... is still counted in the fills model": an execution and its
    correction (or a chain of them) delivered in one batch must still make one row."""
    model = FillsModel()
    model_tester(model)
    when = datetime(2026, 1, 2, 9, 30, 5)
    original = Fill("0000e0d5.6554a1b2.01.01", 1, "AAPL", 10, 100.0, when, 1.0, side="BUY")
    corrected = Fill("0000e0d5.6554a1b2.01.02", 1, "AAPL", 10, 100.5, when, 1.0, side="BUY")
    again = Fill("0000e0d5.6554a1b2.01.03", 1, "AAPL", 8, 100.5, when, 0.8, side="BUY")
    other = Fill("0000e0d6.6554a1b2.01.01", 1, "AAPL", 5, 101.0, when, side="BUY")
    model.apply([original, other, corrected])
    assert [f.fill_id for f in model.fills()] == [corrected.fill_id, other.fill_id]
    totals = model.totals["AAPL"]
    assert (totals.fills, totals.bought, totals.bought_value, totals.commission) == (2, 15, 1005.0 + 505.0, 1.0)
    model.clear()
    model.apply([original, corrected, again])
    assert [f.fill_id for f in model.fills()] == [again.fill_id]
    assert (model.totals["AAPL"].fills, model.totals["AAPL"].bought, model.totals["AAPL"].commission) == (1, 8, 0.8)


def test_the_bridge_delivers_an_execution_its_commission_and_its_correction_as_one_row(qapp, model_tester) -> None:
    """The same race through the app's wiring: the handler reports all three before the bridge's timer fires."""
    handler = OrderExecutionHandler(clock=ManualClock())
    record = handler.create_order("AAPL", "BUY", 100)
    bridge = OrderBridge(handler)
    model = FillsModel()
    model_tester(model)
    bridge.fillsChanged.connect(model.apply)
    handler.handle_fill(record.order_id, 40, 100.0, exec_id="0000e0d5.6554a1b2.01.01")
    handler.handle_commission("0000e0d5.6554a1b2.01.01", 1.0)
    handler.handle_fill(record.order_id, 40, 100.25, commission=1.0, exec_id="0000e0d5.6554a1b2.01.02")
    handler.handle_fill(record.order_id, 60, 100.5, exec_id="0000e0d6.6554a1b2.01.01")
    bridge.flush()
    assert [f.fill_id for f in model.fills()] == ["0000e0d5.6554a1b2.01.02", "0000e0d6.6554a1b2.01.01"]
    assert [f.fill_id for f in model.fills()] == [f.fill_id for f in record.fills]
    totals = model.totals["AAPL"]
    assert (totals.fills, totals.bought, totals.commission) == (2, 100, 1.0)
    assert totals.bought_value == 40 * 100.25 + 60 * 100.5
    bridge.detach()



def test_fills_go_in_where_their_time_puts_them_in_either_order_and_by_any_column(qapp, model_tester) -> None:
    """The blotter stays sorted however fills arrive (a restart replays the day order by order): one insert for
    the live flow, a few for a batch that lands in a few places, a merge for a scattered one; a header sorts
    by any column keeping the selection; a correction that changes the sorted value moves its row."""
    rng = random.Random(7)
    model = FillsModel()
    model_tester(model)
    inserts: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserts.append((first, last)))
    base = datetime(2026, 1, 2, 9, 30)
    made: list[Fill] = []

    def fills(count: int, after: datetime | None = None) -> list[Fill]:
        batch = []
        for _ in range(count):
            seconds = rng.randrange(3600) if after is None else rng.randrange(1, 60)
            when = (after or base) + timedelta(seconds=seconds)
            batch.append(Fill(f"{len(made) + len(batch):08x}.6554a1b2.01.01", rng.randrange(1, 9),
                              rng.choice(["AAPL", "MSFT"]), rng.randrange(1, 500), round(rng.uniform(10, 500), 2),
                              when, 0.0, rng.choice(["BUY", "SELL"])))
        made.extend(batch)
        model.apply(batch)
        return batch

    def by(key) -> list[Fill]:
        return sorted(made, key=key)

    def time_key(f: Fill):
        return (f.timestamp, f.fill_id)

    for size in (1, 30, 3, 60, 5):  # scattered over the hour: merges and in-place inserts
        fills(size)
        assert model.fills() == by(time_key)
    inserts.clear()
    fills(30, after=max(f.timestamp for f in made))  # the live flow: all after the last row
    assert inserts == [(len(made) - 30, len(made) - 1)] and model.fills() == by(time_key)

    model.sort(0, Qt.SortOrder.DescendingOrder)  # newest first: the list is read from the end
    assert model.fills() == by(time_key)[::-1]
    inserts.clear()
    fills(4, after=max(f.timestamp for f in made))
    assert inserts == [(0, 3)] and model.fills() == by(time_key)[::-1]
    selection = QItemSelectionModel(model)
    picked = model.fill(40)
    selection.select(model.index(40, 0), QItemSelectionModel.SelectionFlag.Select
                     | QItemSelectionModel.SelectionFlag.Rows)
    layouts: list[int] = []
    model.layoutChanged.connect(lambda *_a: layouts.append(model.rowCount()))
    fills(60)  # scattered: merged in a layout change, the selection stays on its fill
    assert model.fills() == by(time_key)[::-1] and layouts == [len(made)]
    assert [model.fill(i.row()) for i in selection.selectedRows()] == [picked]

    model.sort(1, Qt.SortOrder.AscendingOrder)  # by symbol, each symbol's fills in time order
    assert model.fills() == by(lambda f: (f.symbol, f.timestamp, f.fill_id))
    fills(6)
    assert model.fills() == by(lambda f: (f.symbol, f.timestamp, f.fill_id))

    selection.clear()
    picked = model.fill(10)
    selection.select(model.index(10, 0), QItemSelectionModel.SelectionFlag.Select
                     | QItemSelectionModel.SelectionFlag.Rows)
    model.sort(4, Qt.SortOrder.DescendingOrder)  # by price, highest first
    assert model.fills() == by(lambda f: (f.price, f.timestamp, f.fill_id))[::-1]
    assert [model.fill(i.row()) for i in selection.selectedRows()] == [picked]
    cheapest = model.fill(model.rowCount() - 1)
    corrected = Fill(cheapest.fill_id[:-2] + "02", cheapest.order_id, cheapest.symbol, cheapest.quantity, 999.0,
                     cheapest.timestamp, 0.0, cheapest.side)
    model.apply([corrected])  # now the highest price: its row moves to the top
    made[made.index(cheapest)] = corrected
    assert model.fill(0) is corrected and model.rowCount() == len(made)
    assert model.fills() == by(lambda f: (f.price, f.timestamp, f.fill_id))[::-1]
    late = Fill(corrected.fill_id, corrected.order_id, corrected.symbol, corrected.quantity, 999.0,
                corrected.timestamp, 1.5, corrected.side)
    model.apply([late])  # its commission: the same row
    assert model.fill(0) is late and model.row_of(corrected) == 0
    totals = model.totals
    assert sum(t.fills for t in totals.values()) == len(made) and sum(t.commission for t in totals.values()) == 1.5
    assert sum(t.bought + t.sold for t in totals.values()) == sum(f.quantity for f in made)
