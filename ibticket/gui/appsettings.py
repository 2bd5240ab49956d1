"""What the window remembers (QSettings): connection, precautions, presets, theme, layout, recent symbols.

Every value read back is checked. A hand-edited or damaged settings file never stops the window: a value
that cannot be used is ignored (its default is used), recorded in ``problems`` with its key and value for
the window to name, and never written back — reading never writes, and a start writes only what changed.
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from ..trading.connection import ConnectionChoice
from ..trading.precautions import Precautions
from .theme import THEMES

MAX_RECENT = 12
MAX_HISTORY = 200
MAX_CLIENT_ID = 2**31 - 1
MAX_QUANTITY = 10_000_000
DEFAULT_LOT = 100  # a stock's round lot: what the ticket's quantity steps by unless a symbol has its own
_WHOLE = re.compile(r"[+-]?\d{1,30}")
_HOST = re.compile(r"[A-Za-z0-9._:%\[\]-]{1,255}")  # a name, an IPv4 or an IPv6 address


@dataclass(frozen=True)
class SettingProblem:
    """A value in the settings file the window does not use: where, what it holds, and what is used instead."""

    key: str
    value: str  # as found, shortened for the notice
    reason: str

    def __str__(self) -> str:
        return f"{self.key} = {self.value}: {self.reason}"


class AppSettings:
    def __init__(self, path: Path | None = None) -> None:
        if path is not None:
            self.qs = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.qs = QSettings("ibticket", "ibticket")
        self.path = Path(self.qs.fileName())
        self.problems: list[SettingProblem] = []
        self.file_problem = ""  # the file as a whole: unreadable, not a settings file, cannot be saved
        self._listeners: list[Callable[[], Any]] = []
        self._check_file()

    # -- problems ----------------------------------------------------------------------------------

    def on_problem(self, callback: Callable[[], Any]) -> None:
        """``callback()`` whenever a new problem is found (values are read lazily, e.g. at the first order)."""
        self._listeners.append(callback)

    def reject(self, key: str, value: object, reason: str) -> None:
        """Record that ``key``'s ``value`` is not used; the same key and value are recorded once."""
        problem = SettingProblem(key, value if isinstance(value, _Entry) else _shown(value), reason)
        if problem in self.problems:
            return
        self.problems.append(problem)
        self._changed()

    def check(self) -> list[SettingProblem]:
        """Read every value a start uses, so that what is wrong is known at once; returns the problems."""
        self.connection()
        self.precautions()
        self.default_quantities()
        self.default_quantity()
        self.lots()
        self.default_lot()
        self.fill_alert()
        self.recent_symbols()
        self.theme()
        self.chart_mode()
        self.window_state()
        self.line_history()
        return list(self.problems)

    def notice(self) -> str:
        """What the window says about this file: empty when all is well."""
        lines = [self.file_problem] if self.file_problem else []
        if self.problems:
            lines.append(f"Settings file {self.path}: these values are ignored and their defaults used "
                         "(they stay in the file until changed here):")
            lines.extend(f"   • {p}" for p in self.problems)
        return "\n".join(lines)

    def _changed(self) -> None:
        for callback in list(self._listeners):
            callback()

    def _check_file(self) -> None:
        status = self.qs.status()
        if status is QSettings.Status.AccessError:
            why = "it is a folder" if self.path.is_dir() else "it cannot be read"
            self.file_problem = (f"Settings file {self.path} cannot be used ({why}): every setting has its "
                                 "default, and changes are not saved.")
        elif status is QSettings.Status.FormatError:
            # Saving rewrites the file from what could be read: keep the original for the trader.
            copy = self.path.with_name(f"{self.path.name}.unreadable-{datetime.now():%Y%m%d-%H%M%S}")
            try:
                shutil.copyfile(self.path, copy)
                kept = f"a copy of it is kept as {copy.name}"
            except OSError as exc:
                kept = f"no copy of it could be kept ({exc.strerror or exc})"
            self.file_problem = (f"Settings file {self.path} has lines that are not settings: they are "
                                 f"skipped, the rest is used; {kept}.")

    def sync(self) -> None:
        self.qs.sync()
        if self.qs.status() is QSettings.Status.AccessError and not self.file_problem:
            self.file_problem = f"Settings file {self.path} cannot be written: changes are not saved."
            self._changed()

    # -- connection --------------------------------------------------------------------------------

    def connection(self) -> ConnectionChoice:
        return ConnectionChoice(
            mode=self._one_of("connection/mode", ("sim", "tws", "custom"), "sim"),
            host=self._host(),
            port=self._int("connection/port", 7497, 1, 65535, "a port (1-65535)"),
            client_id=self._client_id(),
            allow_live=False,  # never remembered: real money is an explicit choice each time
        )

    def set_connection(self, choice: ConnectionChoice) -> None:
        """Remember ``choice``: only what differs from what a start reads now, so a value that was ignored
        stays as the trader wrote it (and is named again) unless the trader chose something else."""
        stored = self.connection()
        if choice.mode != stored.mode:
            self.qs.setValue("connection/mode", choice.mode)
        if choice.host != stored.host:
            self.qs.setValue("connection/host", choice.host)
        if choice.port != stored.port:
            self.qs.setValue("connection/port", choice.port)
        if choice.client_id != stored.client_id:
            if choice.client_id is None:
                self.qs.remove("connection/client_id")
            else:
                self.qs.setValue("connection/client_id", choice.client_id)

    def _host(self) -> str:
        value = self.qs.value("connection/host")
        if value is None and not self.qs.contains("connection/host"):
            return "127.0.0.1"
        if isinstance(value, str) and _HOST.fullmatch(value):
            return value
        self.reject("connection/host", value, "not a host name or address; 127.0.0.1 is used")
        return "127.0.0.1"

    def _client_id(self) -> int | None:
        if not self.qs.contains("connection/client_id"):
            return None
        value = self.qs.value("connection/client_id")
        number = _whole(value)
        if number is not None and 0 <= number <= MAX_CLIENT_ID:
            return number
        self.reject("connection/client_id", value, f"not a client id (a whole number from 0 to {MAX_CLIENT_ID}); "
                    "this installation's own client id is used")
        return None

    # -- trading -----------------------------------------------------------------------------------

    def precautions(self) -> Precautions:
        if not self.qs.contains("precautions"):
            return Precautions()
        stored = self.qs.value("precautions")
        if not isinstance(stored, dict):
            self.reject("precautions", stored, "not a set of precautions; the default precautions are used")
            return Precautions()

        def bad(name: str, value: object, reason: str) -> None:
            self.reject("precautions", _Entry(f"{{{name}: {_shown(value)}}}"), f"{reason}; its default is used")

        return Precautions.from_dict(stored, on_bad=bad)

    def set_precautions(self, p: Precautions) -> None:
        self.qs.setValue("precautions", p.to_dict())

    def default_quantities(self) -> dict[str, int]:
        return self._per_symbol("presets/default_quantity", "quantities", "that preset")

    def set_default_quantities(self, values: dict[str, int]) -> None:
        self.qs.setValue("presets/default_quantity", {k: int(v) for k, v in values.items()})

    def default_quantity(self) -> int:
        return self._int("presets/quantity", 100, 1, MAX_QUANTITY, f"a quantity from 1 to {MAX_QUANTITY:,}")

    def set_default_quantity(self, value: int) -> None:
        self.qs.setValue("presets/quantity", int(value))

    def lots(self) -> dict[str, int]:
        """The quantity's step per symbol (its lot)."""
        return self._per_symbol("presets/lots", "lots", "that lot")

    def set_lots(self, values: dict[str, int]) -> None:
        self.qs.setValue("presets/lots", {k: int(v) for k, v in values.items()})

    def default_lot(self) -> int:
        return self._int("presets/lot", DEFAULT_LOT, 1, MAX_QUANTITY, f"a lot from 1 to {MAX_QUANTITY:,}")

    def set_default_lot(self, value: int) -> None:
        self.qs.setValue("presets/lot", int(value))

    def fill_alert(self) -> bool:
        """Whether a fill beeps, flashes and notifies the desktop (on unless switched off)."""
        return self._bool("alerts/fills", True)

    def set_fill_alert(self, on: bool) -> None:
        self.qs.setValue("alerts/fills", bool(on))

    def recent_symbols(self) -> list[str]:
        stored = self._list("ticket/recent", "recent symbols")
        good = [s for s in stored if _is_symbol(s)]
        for s in stored:
            if not _is_symbol(s):
                self.reject("ticket/recent", s, "not a symbol; left out of the recent symbols")
        return good[:MAX_RECENT]

    def add_recent_symbol(self, symbol: str) -> None:
        recent = [symbol] + [s for s in self.recent_symbols() if s != symbol]
        self.qs.setValue("ticket/recent", recent[:MAX_RECENT])

    def last_symbol(self) -> str:
        recent = self.recent_symbols()
        return recent[0] if recent else "AAPL"

    # -- look --------------------------------------------------------------------------------------

    def theme(self) -> str:
        return self._one_of("view/theme", THEMES, "system")

    def set_theme(self, name: str) -> None:
        self.qs.setValue("view/theme", name)

    def chart_mode(self) -> str:
        return self._one_of("view/chart_mode", ("line", "candles"), "line")

    def set_chart_mode(self, mode: str) -> None:
        self.qs.setValue("view/chart_mode", mode)

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        """The saved window position and layout; the window names one it cannot restore (``reject``)."""
        found: list[QByteArray | None] = []
        for key in ("view/geometry", "view/state"):
            value = self.qs.value(key)
            if (value is not None and not isinstance(value, QByteArray)) or (value is None and self.qs.contains(key)):
                self.reject(key, value, "not a saved window layout; the default layout is used")
            found.append(value if isinstance(value, QByteArray) and not value.isEmpty() else None)
        return found[0], found[1]

    def set_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qs.setValue("view/geometry", geometry)
        self.qs.setValue("view/state", state)

    def clear_window_state(self) -> None:
        self.qs.remove("view/geometry")
        self.qs.remove("view/state")

    def line_history(self) -> list[str]:
        return [line for line in self._list("orderline/history", "order lines") if line][-MAX_HISTORY:]

    def set_line_history(self, lines: list[str]) -> None:
        """Remember the order line's history; unchanged since the start, nothing is written."""
        lines = lines[-MAX_HISTORY:]
        if lines != self.line_history():
            self.qs.setValue("orderline/history", lines)

    # -- typed reads -------------------------------------------------------------------------------

    def _one_of(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        if not self.qs.contains(key):
            return default
        value = self.qs.value(key)
        if isinstance(value, str) and value in allowed:
            return value
        self.reject(key, value, f"not one of {', '.join(allowed)}; {default} is used")
        return default

    def _int(self, key: str, default: int, low: int, high: int, what: str) -> int:
        if not self.qs.contains(key):
            return default
        value = self.qs.value(key)
        number = _whole(value)
        if number is not None and low <= number <= high:
            return number
        self.reject(key, value, f"not {what}; {default} is used")
        return default

    def _bool(self, key: str, default: bool) -> bool:
        if not self.qs.contains(key):
            return default
        value = self.qs.value(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"  # an INI file keeps a bool as text
        self.reject(key, value, f"not true or false; {str(default).lower()} is used")
        return default

    def _per_symbol(self, key: str, what: str, entry: str) -> dict[str, int]:
        """A map of symbol to a whole number from 1 to MAX_QUANTITY; a bad entry is named and left out."""
        if not self.qs.contains(key):
            return {}
        stored = self.qs.value(key)
        if not isinstance(stored, dict):
            self.reject(key, stored, f"not a list of per-symbol {what}; none are used")
            return {}
        result: dict[str, int] = {}
        for symbol, qty in stored.items():
            value = _whole(qty)
            if _is_symbol(symbol) and value is not None and 0 < value <= MAX_QUANTITY:
                result[symbol.upper()] = value
            else:
                self.reject(key, _Entry(f"{{{_shown(symbol)}: {_shown(qty)}}}"),
                            f"not a symbol and a quantity from 1 to {MAX_QUANTITY:,}; {entry} is ignored")
        return result

    def _list(self, key: str, what: str) -> list[str]:
        """A list of texts. QSettings writes an empty list as an invalid value: that one is not a problem."""
        value = self.qs.value(key)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.reject(key, value, f"not a list of {what}; none are used")
            return []
        texts = [v for v in value if isinstance(v, str)]
        for v in value:
            if not isinstance(v, str):
                self.reject(key, v, f"not text; left out of the {what}")
        return texts


class _Entry(str):
    """One entry of a stored map, already written as the notice shows it: {name: value}."""


def _whole(value: object) -> int | None:
    """A whole number from a stored value (INI files keep text), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value.strip())
    return None


def _is_symbol(value: object) -> bool:
    return isinstance(value, str) and value.isascii() and value.isprintable() and 0 < len(value) <= 12


def _shown(value: object) -> str:
    """A stored value as the notice shows it: quoted text, shortened; not a dump of binary data."""
    if value is None:
        return "(unreadable)"
    if isinstance(value, QByteArray):
        return f"(binary data, {value.size()} bytes)"
    if isinstance(value, list):
        text = ", ".join(_shown(v) for v in value[:5]) + (", …" if len(value) > 5 else "")
        return f"[{text}]"
    text = value if isinstance(value, str) else str(value)
    text = "".join(c if c.isprintable() else "?" for c in text[:60]) + ("…" if len(text) > 60 else "")
    return repr(text) if isinstance(value, str) else text


__all__ = ["AppSettings", "SettingProblem"]
