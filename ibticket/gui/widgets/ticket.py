"""The order ticket: symbol, live quote and position, side, quantity, type, prices, TIF, Send.

The ticket only composes an ``OrderRequest``; sending goes through the window's ``OrderDesk`` exactly
as the order line does. The frame takes the side's colour (blue buy, red sell, as in TWS).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core import format as fmt
from ...core.order import OrderRequest
from ...core.validation import OrderValidationError
from ...trading.orderline import describe
from ..appsettings import DEFAULT_LOT
from ..theme import LIGHT, Colors, ticket_style
from .labels import TwoLineButton, WrapLabel
from .symbols import SymbolListModel

if TYPE_CHECKING:  # Types only: the window is painted before the broker (and ib_insync, numpy) is imported.
    from ...broker.market import Quote

TYPES = ("MKT", "LMT", "STP", "STP LMT")
TIFS = ("DAY", "GTC", "IOC")
MAX_QTY = 10_000_000
MAX_PRICE = 1_000_000.0


@dataclass
class Instrument:
    symbol: str
    name: str = ""
    tick: float = 0.01
    size_increment: int = 1


class OrderTicket(QFrame):
    sendRequested = Signal(object)  # OrderRequest
    symbolRequested = Signal(str)  # the trader entered a symbol: load its contract and quote
    symbolTyped = Signal(str)  # a prefix, for completion
    instrumentChanged = Signal(object)  # Instrument: the contract the ticket now shows (the chart follows it)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("orderTicket")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._colors: Colors = LIGHT
        self.instrument: Instrument | None = None
        self._quote: Quote | None = None
        self._position = 0.0
        self._price_touched = False  # the trader typed a price: quotes no longer move it
        self._default_qty: dict[str, int] = {}
        self._lot = DEFAULT_LOT
        self._lots: dict[str, int] = {}
        self._stale_on_change = False  # the message is an error that a new symbol makes stale
        self._message_error = False
        self._pending_load: OrderRequest | None = None  # applied once its symbol's contract has loaded
        self._build()
        self._wire()
        self._set_side("BUY")
        self._type_changed()
        self.refresh()

    # -- layout --------------------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 10, 10, 10)
        outer.setSpacing(8)

        self.symbol = QLineEdit(objectName="ticketSymbol", placeholderText="Symbol, e.g. AAPL")
        self.symbol.setMaxLength(12)
        self.symbol_model = SymbolListModel(self)
        completer = QCompleter(self.symbol_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionRole(Qt.ItemDataRole.EditRole)
        self.symbol.setCompleter(completer)
        f = self.symbol.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        f.setBold(True)
        self.symbol.setFont(f)
        self.name = QLabel(objectName="ticketName")
        self.name.setWordWrap(True)
        self.name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        outer.addWidget(self.symbol)
        outer.addWidget(self.name)

        quote = QGridLayout()
        quote.setHorizontalSpacing(6)
        self.bid = QPushButton("—", objectName="ticketBid")
        self.ask = QPushButton("—", objectName="ticketAsk")
        for b, tip in ((self.bid, "Sell at the bid"), (self.ask, "Buy at the ask")):
            b.setToolTip(tip + " (fills the ticket; Send still needed)")
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.setMinimumHeight(34)
        self.last = QLabel("Last —", objectName="ticketLast")
        self.position = QLabel("Position 0", objectName="ticketPosition")
        self.quote_note = WrapLabel(objectName="ticketQuoteNote", lines=2)
        quote.addWidget(QLabel("Bid"), 0, 0, alignment=Qt.AlignmentFlag.AlignHCenter)
        quote.addWidget(QLabel("Ask"), 0, 1, alignment=Qt.AlignmentFlag.AlignHCenter)
        quote.addWidget(self.bid, 1, 0)
        quote.addWidget(self.ask, 1, 1)
        quote.addWidget(self.last, 2, 0)
        quote.addWidget(self.position, 2, 1, alignment=Qt.AlignmentFlag.AlignRight)
        quote.addWidget(self.quote_note, 3, 0, 1, 2)
        outer.addLayout(quote)

        sides = QHBoxLayout()
        self.buy = QPushButton("&Buy", objectName="ticketBuy", checkable=True)
        self.sell = QPushButton("&Sell", objectName="ticketSell", checkable=True)
        self.side_group = QButtonGroup(self)
        for b in (self.buy, self.sell):
            b.setMinimumHeight(32)
            self.side_group.addButton(b)
            sides.addWidget(b)
        outer.addLayout(sides)

        form = QGridLayout()
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(6)
        self.quantity = QSpinBox(objectName="ticketQuantity")
        self.quantity.setRange(1, MAX_QTY)
        self.quantity.setGroupSeparatorShown(True)
        self.quantity.setValue(100)
        self.quantity.setAccelerated(True)
        self.order_type = QComboBox(objectName="ticketType")
        self.order_type.addItems(TYPES)
        self.order_type.setCurrentText("LMT")
        self.limit = self._price_box("ticketLimit")
        self.stop = self._price_box("ticketStop")
        self.tif = QComboBox(objectName="ticketTif")
        self.tif.addItems(TIFS)
        self.outside_rth = QCheckBox("Outside RTH", objectName="ticketOutsideRth")
        self.outside_rth.setToolTip("Allow the order to fill outside regular trading hours")
        # The stop above the limit, in the order the Send button reads a stop-limit order (STP LMT stop limit).
        rows = (("&Quantity", self.quantity), ("T&ype", self.order_type), ("Sto&p", self.stop),
                ("&Limit", self.limit), ("T&IF", self.tif))
        self._labels: dict[QWidget, QLabel] = {}
        for row, (title, widget) in enumerate(rows):
            label = QLabel(title)
            label.setBuddy(widget)
            self._labels[widget] = label
            form.addWidget(label, row, 0)
            form.addWidget(widget, row, 1)
        form.addWidget(self.outside_rth, len(rows), 1)
        form.setColumnStretch(1, 1)
        outer.addLayout(form)
        for (_a, first), (_b, second) in itertools.pairwise(rows):
            QWidget.setTabOrder(first, second)
        QWidget.setTabOrder(self.tif, self.outside_rth)

        self.value = QLabel(objectName="ticketValue")
        outer.addWidget(self.value)
        self.send = TwoLineButton(objectName="ticketSend")
        self.send.setMinimumHeight(40)
        bold = self.send.font()
        bold.setBold(True)
        self.send.setFont(bold)
        self.send.setToolTip("Send the order (Ctrl+Enter)")
        outer.addWidget(self.send)
        self.message = WrapLabel(objectName="ticketMessage")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.message)
        outer.addStretch(1)

    def _price_box(self, name: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox(objectName=name)
        box.setRange(0.0, MAX_PRICE)
        box.setDecimals(2)
        box.setSingleStep(0.01)
        box.setGroupSeparatorShown(True)
        box.setAccelerated(True)
        box.setSpecialValueText("—")  # 0.00 shows as "no price yet"
        return box

    def _wire(self) -> None:
        self.symbol.returnPressed.connect(self._symbol_entered)
        self.symbol.editingFinished.connect(self._symbol_entered)
        self.symbol.textEdited.connect(lambda text: self.symbolTyped.emit(text.strip().upper()))
        self.symbol.completer().activated[str].connect(lambda s: self._symbol_entered())
        self.buy.clicked.connect(lambda: self._set_side("BUY"))
        self.sell.clicked.connect(lambda: self._set_side("SELL"))
        self.bid.clicked.connect(lambda: self._take("SELL"))
        self.ask.clicked.connect(lambda: self._take("BUY"))
        self.order_type.currentTextChanged.connect(self._type_changed)
        for box in (self.limit, self.stop):
            box.valueChanged.connect(self.refresh)
            box.lineEdit().textEdited.connect(self._touched)
        self.limit.editingFinished.connect(self.refresh)
        self.quantity.valueChanged.connect(self.refresh)
        self.tif.currentTextChanged.connect(self.refresh)
        self.outside_rth.toggled.connect(self.refresh)
        self.send.clicked.connect(self._send_clicked)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self._send_clicked)

    # -- state -----------------------------------------------------------------------------------------

    @property
    def side(self) -> str:
        return "BUY" if self.buy.isChecked() else "SELL"

    def set_colors(self, colors: Colors) -> None:
        self._colors = colors
        self._set_side(self.side)
        self.message.setStyleSheet(f"color: {colors.error if self._message_error else colors.filled};")

    def _set_side(self, side: str) -> None:
        (self.buy if side == "BUY" else self.sell).setChecked(True)
        self.setStyleSheet(ticket_style(self._colors, side))
        if not self._price_touched:
            self._price_from_touch()
        self.refresh()

    def _touched(self) -> None:
        self._price_touched = True

    def _type_changed(self) -> None:
        kind = self.order_type.currentText()
        self.limit.setEnabled(kind in ("LMT", "STP LMT"))
        self.stop.setEnabled(kind in ("STP", "STP LMT"))
        if not self._price_touched:
            self._price_from_touch()
        self.refresh()

    def _symbol_entered(self) -> None:
        text = self.symbol.text().strip().upper()
        if text and (self.instrument is None or text != self.instrument.symbol):
            self.symbolRequested.emit(text)

    def set_instrument(self, instrument: Instrument) -> None:
        """The contract for the symbol just entered: its name, tick and size increment."""
        changed = self.instrument is None or self.instrument.symbol != instrument.symbol
        self.instrument = instrument
        self.symbol.setText(instrument.symbol)
        self.name.setText(instrument.name)
        decimals = fmt.decimals_for_tick(instrument.tick)
        for box in (self.limit, self.stop):
            box.setDecimals(decimals)
            box.setSingleStep(instrument.tick)
        self._set_step()
        if changed:
            if self._stale_on_change:
                self.show_message("")
            self._quote = None
            self._price_touched = False
            self.limit.setValue(0.0)
            self.stop.setValue(0.0)
            self.bid.setText("—")
            self.ask.setText("—")
            self.last.setText("Last —")
            self.quote_note.setText("")
            default = self._default_qty.get(instrument.symbol)
            if default:
                self.quantity.setValue(default)
        pending, self._pending_load = self._pending_load, None
        if pending is not None and pending.symbol == instrument.symbol:
            self.load(pending)
        self.refresh()
        self.instrumentChanged.emit(instrument)

    def set_default_quantities(self, defaults: dict[str, int]) -> None:
        self._default_qty = dict(defaults)

    def set_lots(self, lot: int, lots: dict[str, int]) -> None:
        """The quantity's step (arrows, wheel, Page Up/Down): ``lots`` per symbol, else ``lot``."""
        self._lot, self._lots = max(1, lot), dict(lots)
        self._set_step()

    def _set_step(self) -> None:
        inst = self.instrument
        step = self._lots.get(inst.symbol, self._lot) if inst is not None else self._lot
        increment = max(1, inst.size_increment) if inst is not None else 1
        self.quantity.setSingleStep(max(increment, step // increment * increment))  # whole lots of IB's size

    def set_quote(self, quote: Quote) -> None:
        if self.instrument is None or quote.symbol != self.instrument.symbol:
            return
        first = self._quote is None
        self._quote = quote
        d = fmt.decimals_for_tick(self.instrument.tick)
        self.bid.setText(_side_text(quote.bid, quote.bid_size, d))
        self.ask.setText(_side_text(quote.ask, quote.ask_size, d))
        self.last.setText(f"Last {fmt.price(quote.last, d) or '—'}")
        # The broker's own words ("delayed 15 min: no market data subscription", "no market data while
        # disconnected"), so stale or delayed numbers are never shown as live.
        note = getattr(quote, "notice", "") or ("Delayed quotes" if getattr(quote, "delayed", False) else "")
        self.quote_note.setText(note)
        self.quote_note.setStyleSheet(f"color: {self._colors.error};" if note else "")
        if first and not self._price_touched:
            self._price_from_touch()
        self.refresh()

    def set_position(self, quantity: float) -> None:
        self._position = quantity
        self.position.setText(f"Position {fmt.qty(quantity)}")

    def _touch(self, side: str) -> float | None:
        q = self._quote
        if q is None:
            return None
        price = q.ask if side == "BUY" else q.bid
        return price or q.last

    def _price_from_touch(self) -> None:
        # A limit that starts at the touch for its side; a stop at the last price.
        touch = self._touch(self.side)
        if touch and self.limit.isEnabled():
            self.limit.setValue(touch)
        if self._quote is not None and self._quote.last and self.stop.isEnabled():
            self.stop.setValue(self._quote.last)

    def _take(self, side: str) -> None:
        """Click on the bid or ask: that price, and the side that takes it."""
        price = self._touch(side)
        if price is None:
            return
        if self.order_type.currentText() not in ("LMT", "STP LMT"):
            self.order_type.setCurrentText("LMT")
        self._set_side(side)
        self.limit.setValue(price)
        self._price_touched = True
        self.refresh()

    def load(self, cmd: OrderRequest) -> None:
        """Fill the ticket from an order (Shift+Enter on the order line, a click on a position)."""
        if self.instrument is None or self.instrument.symbol != cmd.symbol:
            self._pending_load = cmd
            self.symbol.setText(cmd.symbol)
            self.symbolRequested.emit(cmd.symbol)
            return
        self._pending_load = None
        self._set_side(cmd.action)
        self.quantity.setValue(cmd.quantity)
        self.order_type.setCurrentText(fmt.TYPE_SHORT[cmd.order_type])
        if cmd.limit_price is not None:
            self.limit.setValue(cmd.limit_price)
            self._price_touched = True
        if cmd.stop_price is not None:
            self.stop.setValue(cmd.stop_price)
            self._price_touched = True
        self.tif.setCurrentText(cmd.tif)
        self.outside_rth.setChecked(cmd.outside_rth)
        self.refresh()

    # -- the order ---------------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """What stops this ticket from being an order, in words; marks the offending fields."""
        problems: list[str] = []
        marks: dict[QWidget, str] = {}
        symbol = self.symbol.text().strip().upper()
        if not symbol:
            problems.append("Enter a symbol")
        elif self.instrument is None or self.instrument.symbol != symbol:
            problems.append(f"{symbol}: press Enter to load it")
        kind = self.order_type.currentText()
        inst = self.instrument
        if inst is not None and inst.size_increment > 1 and self.quantity.value() % inst.size_increment:
            marks[self.quantity] = f"{inst.symbol} trades in lots of {inst.size_increment}"
        for box, needed, what in ((self.limit, kind in ("LMT", "STP LMT"), "limit"),
                                  (self.stop, kind in ("STP", "STP LMT"), "stop")):
            if not needed:
                continue
            value = box.value()
            if value <= 0:
                problems.append(f"Enter a {what} price")  # not marked red: an empty field is not a mistake
            elif inst is not None and not fmt.on_tick(value, inst.tick):
                d = fmt.decimals_for_tick(inst.tick)
                below = fmt.round_to_tick(value - inst.tick / 2, inst.tick)
                marks[box] = (f"{what.capitalize()} price {value:.{d}f} is not on the {inst.tick:g} tick; "
                              f"use {below:.{d}f} or {below + inst.tick:.{d}f}")
        for widget in (self.quantity, self.limit, self.stop):
            text = marks.get(widget) or ""
            if widget.toolTip() != text:  # a style sheet change re-polishes the widget: only when it changes
                widget.setStyleSheet("border: 2px solid #d32f2f;" if text else "")
                widget.setToolTip(text)
        return problems + list(marks.values())

    def command(self, checked: bool = False) -> OrderRequest | None:
        """The ticket as an order, or None while it has problems (``checked``: the caller just asked)."""
        if not checked and self.problems():
            return None
        try:
            return self._request()
        except OrderValidationError:
            return None

    def _request(self) -> OrderRequest:
        kind = fmt.TYPE_LONG[self.order_type.currentText()]
        return OrderRequest(
            symbol=self.symbol.text().strip().upper(),
            action=self.side,
            quantity=self.quantity.value(),
            order_type=kind,
            limit_price=self.limit.value() if kind in ("LIMIT", "STOP_LIMIT") else None,
            stop_price=self.stop.value() if kind in ("STOP", "STOP_LIMIT") else None,
            tif=self.tif.currentText(),
            outside_rth=self.outside_rth.isChecked(),
        )

    def refresh(self) -> None:
        problems = self.problems()
        cmd = None if problems else self.command(checked=True)
        self.send.setText(describe(cmd) if cmd else "Send")
        self.send.setEnabled(cmd is not None)
        self.send.setToolTip(problems[0] if problems else "Send the order (Ctrl+Enter)")
        value = self._estimated_value()
        self.value.setText(f"Estimated value  {fmt.money(value)} USD" if value else "Estimated value  —")

    def _estimated_value(self) -> float | None:
        kind = self.order_type.currentText()
        price = None
        if kind in ("LMT", "STP LMT") and self.limit.value() > 0:
            price = self.limit.value()
        elif kind == "STP" and self.stop.value() > 0:
            price = self.stop.value()
        else:
            price = self._touch(self.side)
        return price * self.quantity.value() if price else None

    def _send_clicked(self) -> None:
        problems = self.problems()
        if problems:
            self.show_message(problems[0], error=True)
            return
        try:
            request = self._request()
        except OrderValidationError as exc:
            self.show_message(str(exc), error=True)
            return
        self.sendRequested.emit(request)

    def show_message(self, text: str, error: bool = False, keep: bool = False) -> None:
        """``text`` under the Send button, red if ``error``; an error goes when the symbol changes unless
        ``keep`` (what the trader must read whatever the symbol, such as a damaged account's report)."""
        color = self._colors.error if error else self._colors.filled
        self.message.setStyleSheet(f"color: {color};")
        self.message.setText(text)
        self._message_error = error
        self._stale_on_change = error and not keep


def _side_text(price: float | None, size: float | None, decimals: int) -> str:
    if not price:
        return "—"
    return f"{fmt.price(price, decimals)}  ×{fmt.qty(size)}" if size else fmt.price(price, decimals)
