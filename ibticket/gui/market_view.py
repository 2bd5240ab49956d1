"""The ticket's symbol, quotes and positions: load a symbol, fetch a quote for one typed on the line, complete
symbols, the chart's day bars. A mixin of ``WindowController`` (its state is the controller's)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal

from ..core.order import OrderRequest
from .widgets.ticket import Instrument

if TYPE_CHECKING:
    from ..broker.market import Quote
    from ..trading.session import TradingSession
    from .appsettings import AppSettings
    from .mainwindow import MainWindow

log = logging.getLogger(__name__)
MAX_EXTRA_QUOTES = 8


class MarketView:
    window: MainWindow
    settings: AppSettings
    session: TradingSession | None
    firstQuote: Signal
    _symbol: str | None
    _extra_quotes: list[str]
    _loading: str | None
    _symbol_note: str

    async def load_symbol(self, symbol: str, force: bool = False) -> None:
        w = self.window
        if self.session is None or (symbol == self._loading and not force):
            return  # Enter and leaving the field both ask for it: one load is enough
        market = self.session.core.market
        if not self.session.core.is_connected:
            self._symbol_note = f"{symbol}: loads when connected"
            w.ticket.show_message(self._symbol_note, error=False)
            self._symbol = symbol
            return
        self._loading = symbol
        try:
            info = await market.subscribe(symbol)
        except Exception as exc:
            self._symbol_note = str(exc)
            w.ticket.show_message(self._symbol_note, error=True)
            return
        finally:
            self._loading = None
        previous, self._symbol = self._symbol, info.symbol
        if previous and previous != info.symbol and not force:
            market.unsubscribe(previous)
        w.ticket.set_instrument(Instrument(info.symbol, info.long_name, info.min_tick, info.size_increment or 1))
        w.ticket.set_position(w.positions_model.quantity_of(info.symbol))
        if self._symbol_note and w.ticket.message.text() == self._symbol_note:
            w.ticket.show_message("")  # only our own note about loading; an order's outcome stays
        self._symbol_note = ""
        self.settings.add_recent_symbol(info.symbol)
        self._refresh_completion()
        quote = market.quote(info.symbol)
        if quote is not None:
            w.ticket.set_quote(quote)

    def _quote_of(self, symbol: str) -> Quote | None:
        return self.session.core.market.quote(symbol) if self.session else None

    async def _fetch_quote(self, symbol: str, wait: float = 1.5) -> Any:
        """Subscribe to a symbol the ticket does not show and wait briefly for its first quote. A few such
        symbols stay subscribed (the trader is likely to trade them again); the oldest is dropped."""
        if self.session is None or not self.session.core.is_connected:
            return None
        market = self.session.core.market
        info = await market.subscribe(symbol)
        if info.symbol not in self._extra_quotes:
            self._extra_quotes.append(info.symbol)
            if len(self._extra_quotes) > MAX_EXTRA_QUOTES:
                oldest = self._extra_quotes.pop(0)
                market.unsubscribe(oldest)
        deadline = asyncio.get_running_loop().time() + wait
        while asyncio.get_running_loop().time() < deadline:
            q = market.quote(info.symbol)
            if q is not None and (q.bid or q.ask or q.last):
                return q
            await asyncio.sleep(0.02)
        return market.quote(info.symbol)

    def _on_quote(self, quote: Any) -> None:
        self.window.ticket.set_quote(quote)
        self.firstQuote.emit(quote.symbol)
        self.window.chart_holder.arm()

    def _on_positions(self, positions: list[Any]) -> None:
        w = self.window
        w.positions_model.apply(positions)
        if w.ticket.instrument is not None:
            w.ticket.set_position(w.positions_model.quantity_of(w.ticket.instrument.symbol))

    def _close_position(self, symbol: str, side: str, quantity: int) -> None:
        t = self.window.ticket
        t.load(OrderRequest(symbol, side, quantity))
        self.window.focus_ticket()

    async def _lookup(self, text: str) -> None:
        prefix = text.strip().upper()
        if self.session is None or not prefix or not self.session.core.is_connected:
            return
        try:
            matches = await self.session.core.market.lookup(prefix)
        except Exception as exc:  # a bad prefix: the symbol field says so when Enter is pressed
            log.debug("lookup %r: %s", prefix, exc)
            return
        self._refresh_completion([(m.symbol, m.name) for m in matches])

    def _refresh_completion(self, known: list[tuple[str, str]] | None = None) -> None:
        self.window.ticket.symbol_model.set_rows(self.settings.recent_symbols(), known or [])

    async def _day_bars(self, symbol: str) -> list[Any]:
        if self.session is None:
            return []
        from ..broker.history import day_bars

        return await day_bars(self.session.core, symbol)

