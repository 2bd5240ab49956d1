"""Fuzzed settings files: whatever the .ini holds, the window starts, every value it uses is a usable one,
what it ignored is named, and starting writes nothing to the file."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QByteArray, QDataStream, QIODevice, QSettings
from windowkit import Unconnected

from ibticket.gui.appsettings import MAX_CLIENT_ID, MAX_QUANTITY, AppSettings
from ibticket.gui.mainwindow import LAYOUT_VERSION, MainWindow
from ibticket.gui.theme import THEMES

KEYS = ["connection/mode", "connection/host", "connection/port", "connection/client_id", "precautions",
        "presets/default_quantity", "presets/quantity", "ticket/recent", "view/theme", "view/chart_mode",
        "view/geometry", "view/state", "orderline/history"]


def _escaped(data: bytes) -> str:
    # Every byte escaped: QSettings reads hex digits after \x greedily, so "\x0" then "e" would be one byte.
    return "".join(f"\\x{b:x}" for b in data)


def _variant(value: Any) -> bytes:
    """``value`` encoded as QSettings writes it after @Variant( in an INI file."""
    data = QByteArray()
    stream = QDataStream(data, QIODevice.OpenModeFlag.WriteOnly)
    stream.setVersion(QDataStream.Version.Qt_4_0)  # what QSettings uses for INI files
    stream.writeQVariant(value)
    return bytes(data.data())


MAP = _variant({"size_limit": 5000, "enabled": True})
_LAYOUT: list[bytes] = []


def _layout() -> bytes:
    """A real saved window layout (made once, when the first example needs it: Qt is up by then)."""
    if not _LAYOUT:
        import tempfile

        window = MainWindow(AppSettings(Path(tempfile.mkdtemp()) / "layout.ini"))
        _LAYOUT.append(bytes(window.saveState(LAYOUT_VERSION).data()))
        window.deleteLater()
    return _LAYOUT[0]

# Raw text after "key=": plain words and numbers, QSettings' own @-forms (with random payloads), lists.
raw_values = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"), max_size=40),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "sim", "tws", "custom", "dark", "candles", "true", "@Invalid()", "@Rect(1 2 3 4)",
                     "@Size(1 2)", "@Point(1 2)", "a, b, c", '"x, y"', "@Variant()", "@ByteArray()"]),
    st.binary(max_size=64).map(lambda b: f"@ByteArray({_escaped(b)})"),
    st.binary(max_size=64).map(lambda b: f"@Variant({_escaped(b)})"),
    # A real map's encoding cut short or with bytes changed: the damage a truncated file does.
    st.tuples(st.integers(0, len(MAP)), st.binary(max_size=8)).map(
        lambda t: f"@Variant({_escaped(MAP[: t[0]] + t[1])})"),
    # ... and a real window layout's.
    st.tuples(st.integers(0, 2000), st.binary(max_size=8)).map(
        lambda t: f"@ByteArray({_escaped(_layout()[: t[0]] + t[1])})"),
)

# Values as the app (or another version of it) could store them: QSettings encodes them itself.
stored_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(),
                           st.text(max_size=20), st.binary(max_size=32).map(QByteArray))
stored_values = st.one_of(
    stored_scalars,
    st.lists(stored_scalars, max_size=5),
    st.dictionaries(st.one_of(st.sampled_from(["size_limit", "value_limit", "percent_from_market", "enabled",
                                               "AAPL", "msft"]), st.text(max_size=14)),
                    stored_scalars, max_size=5),
)


def _check_start(root: Path) -> None:
    path = root / "settings.ini"
    before = path.read_bytes()
    opened = Unconnected(root)
    try:
        _check_window(path, before, opened.settings, opened.window)
    finally:
        opened.discard()


def _check_window(path: Path, before: bytes, app_settings: AppSettings, window: MainWindow) -> None:

    choice = app_settings.connection()  # what app.run remembers at start: nothing has changed
    app_settings.set_connection(choice)
    app_settings.sync()
    assert path.read_bytes() == before

    assert choice.mode in ("sim", "tws", "custom") and choice.host and 1 <= choice.port <= 65535
    assert choice.client_id is None or 0 <= choice.client_id <= MAX_CLIENT_ID
    p = app_settings.precautions()
    assert p.size_limit > 0 and math.isfinite(p.value_limit) and p.percent_from_market > 0
    assert all(0 < q <= MAX_QUANTITY for q in app_settings.default_quantities().values())
    assert 1 <= app_settings.default_quantity() <= MAX_QUANTITY
    assert all(isinstance(s, str) and s for s in app_settings.recent_symbols())
    assert app_settings.theme() in THEMES and app_settings.chart_mode() in ("line", "candles")
    assert all(isinstance(line, str) for line in app_settings.line_history())
    assert window.ticket.quantity.value() == app_settings.default_quantity()

    named = window.notices.notices().get("settings", "")
    for problem in app_settings.problems:
        assert problem.key in KEYS and f"   • {problem}" in named
    assert bool(named) == bool(app_settings.problems or app_settings.file_problem)


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(values=st.dictionaries(st.sampled_from(KEYS), raw_values, min_size=1, max_size=6))
def test_any_ini_text_starts_the_window(qapp, tmp_path_factory: pytest.TempPathFactory,
                                        values: dict[str, str]) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    groups: dict[str, list[str]] = {}
    for key, value in values.items():
        group, _, name = key.rpartition("/")
        groups.setdefault(group or "General", []).append(f"{name}={value}")
    text = "".join(f"[{group}]\n" + "\n".join(lines) + "\n" for group, lines in groups.items())
    (root / "settings.ini").write_text(text, encoding="utf-8")
    _check_start(root)


@FUZZ
@given(values=st.dictionaries(st.sampled_from(KEYS), stored_values, min_size=1, max_size=6))
def test_any_stored_value_starts_the_window(qapp, tmp_path_factory: pytest.TempPathFactory,
                                            values: dict[str, Any]) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    qs = QSettings(str(root / "settings.ini"), QSettings.Format.IniFormat)
    for key, value in values.items():
        qs.setValue(key, value)
    qs.sync()
    del qs
    _check_start(root)
