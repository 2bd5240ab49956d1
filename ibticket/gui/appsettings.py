"""What the window remembers (QSettings): connection, precautions, presets, theme, layout, recent symbols.

Every value read back is checked: a hand-edited or stale settings file falls back to the default for that
value instead of breaking the window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from ..trading.connection import ConnectionChoice
from ..trading.precautions import Precautions
from .theme import THEMES

MAX_RECENT = 12


class AppSettings:
    def __init__(self, path: Path | None = None) -> None:
        if path is not None:
            self.qs = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.qs = QSettings("ibticket", "ibticket")

    def sync(self) -> None:
        self.qs.sync()

    # -- connection --------------------------------------------------------------------------------

    def connection(self) -> ConnectionChoice:
        mode = self._str("connection/mode", "sim")
        try:
            return ConnectionChoice(
                mode=mode if mode in ("sim", "tws", "custom") else "sim",
                host=self._str("connection/host", "127.0.0.1") or "127.0.0.1",
                port=self._int("connection/port", 7497, 1, 65535),
                client_id=self._int("connection/client_id", -1, -1, 2**31 - 1) if self.qs.contains(
                    "connection/client_id") else None,
                allow_live=False,  # never remembered: real money is an explicit choice each time
            )
        except ValueError:
            return ConnectionChoice()

    def set_connection(self, choice: ConnectionChoice) -> None:
        self.qs.setValue("connection/mode", choice.mode)
        self.qs.setValue("connection/host", choice.host)
        self.qs.setValue("connection/port", choice.port)
        if choice.client_id is None:
            self.qs.remove("connection/client_id")
        else:
            self.qs.setValue("connection/client_id", choice.client_id)

    # -- trading -----------------------------------------------------------------------------------

    def precautions(self) -> Precautions:
        stored = self.qs.value("precautions")
        return Precautions.from_dict(stored if isinstance(stored, dict) else {})

    def set_precautions(self, p: Precautions) -> None:
        self.qs.setValue("precautions", p.to_dict())

    def default_quantities(self) -> dict[str, int]:
        stored = self.qs.value("presets/default_quantity")
        result: dict[str, int] = {}
        if isinstance(stored, dict):
            for symbol, qty in stored.items():
                try:
                    value = int(qty)
                except (TypeError, ValueError):
                    continue
                if isinstance(symbol, str) and 0 < value <= 10_000_000:
                    result[symbol.upper()] = value
        return result

    def set_default_quantities(self, values: dict[str, int]) -> None:
        self.qs.setValue("presets/default_quantity", {k: int(v) for k, v in values.items()})

    def default_quantity(self) -> int:
        return self._int("presets/quantity", 100, 1, 10_000_000)

    def set_default_quantity(self, value: int) -> None:
        self.qs.setValue("presets/quantity", int(value))

    def recent_symbols(self) -> list[str]:
        stored = self.qs.value("ticket/recent")
        if isinstance(stored, str):
            stored = [stored]
        if not isinstance(stored, list):
            return []
        return [s for s in stored if isinstance(s, str) and s.isascii() and 0 < len(s) <= 12][:MAX_RECENT]

    def add_recent_symbol(self, symbol: str) -> None:
        recent = [symbol] + [s for s in self.recent_symbols() if s != symbol]
        self.qs.setValue("ticket/recent", recent[:MAX_RECENT])

    def last_symbol(self) -> str:
        recent = self.recent_symbols()
        return recent[0] if recent else "AAPL"

    # -- look --------------------------------------------------------------------------------------

    def theme(self) -> str:
        value = self._str("view/theme", "system")
        return value if value in THEMES else "system"

    def set_theme(self, name: str) -> None:
        self.qs.setValue("view/theme", name)

    def chart_mode(self) -> str:
        value = self._str("view/chart_mode", "line")
        return value if value in ("line", "candles") else "line"

    def set_chart_mode(self, mode: str) -> None:
        self.qs.setValue("view/chart_mode", mode)

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry = self.qs.value("view/geometry")
        state = self.qs.value("view/state")
        return (geometry if isinstance(geometry, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)

    def set_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qs.setValue("view/geometry", geometry)
        self.qs.setValue("view/state", state)

    def clear_window_state(self) -> None:
        self.qs.remove("view/geometry")
        self.qs.remove("view/state")

    def line_history(self) -> list[str]:
        stored = self.qs.value("orderline/history")
        if isinstance(stored, str):
            stored = [stored]
        return [s for s in stored if isinstance(s, str)][-200:] if isinstance(stored, list) else []

    def set_line_history(self, lines: list[str]) -> None:
        self.qs.setValue("orderline/history", lines[-200:])

    # -- typed reads -------------------------------------------------------------------------------

    def _str(self, key: str, default: str) -> str:
        value: Any = self.qs.value(key, default)
        return value if isinstance(value, str) else default

    def _int(self, key: str, default: int, low: int, high: int) -> int:
        value: Any = self.qs.value(key, default)
        try:
            number = int(value)
        except (TypeError, ValueError):
            return default
        return number if low <= number <= high else default
