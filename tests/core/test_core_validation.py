"""Symbols: only the ASCII characters IB symbols use get through, checked before any case change.

``str.upper()`` maps look-alike letters to ASCII (long s U+017F → "S", dotless i U+0131 → "I"), so
checking after it would send a ticker the trader never typed.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ibticket.core import OrderValidationError
from ibticket.core.validation import normalize_symbol

SYMBOL_CHARS = string.ascii_letters + string.digits + ". -"


@pytest.mark.parametrize(
    ("typed", "char", "code"),
    [
        ("\u017fpy", "\u017f", "U+017F"),  # long s: upper() gives "S"
        ("\u0131bm", "\u0131", "U+0131"),  # dotless i: upper() gives "I"
        ("\u212aO", "\u212a", "U+212A"),  # Kelvin sign: lower() gives "k"
        ("\uff21\uff21\uff30\uff2c", "\uff21", "U+FF21"),  # fullwidth letters
        ("AAPL\u200b", "\u200b", "U+200B"),  # a zero-width space pasted along
        ("BRK\u00a0B", "\u00a0", "U+00A0"),  # a no-break space is not IB's space
        ("AAPL$", "$", "U+0024"),
    ],
)
def test_a_character_ib_symbols_never_use_is_named(typed: str, char: str, code: str) -> None:
    with pytest.raises(OrderValidationError) as info:
        normalize_symbol(typed)
    assert str(info.value) == f"Symbol {typed!r} has a character IB symbols never use: {char!r} ({code})"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("aapl", "AAPL"), (" msft ", "MSFT"), ("brk b", "BRK B"), ("brk.b", "BRK.B"), ("X", "X")],
)
def test_ascii_symbols_are_upper_cased(typed: str, expected: str) -> None:
    assert normalize_symbol(typed) == expected


@given(st.text(min_size=1, max_size=14))
@example("\u017fpy")
@example("\u0131bm")
@example("ß")
@example("\ufb00")  # a ligature: upper() makes two letters of it
def test_what_gets_through_is_what_was_typed(text: str) -> None:
    try:
        symbol = normalize_symbol(text)
    except OrderValidationError as exc:
        assert str(exc)
        return
    # Only a case change and surrounding blanks: every character of the result was typed as it is sent.
    assert symbol.isascii()
    assert symbol == text.strip(string.whitespace).upper()
    assert symbol.lower() == text.strip(string.whitespace).lower()


@given(st.text(min_size=1, max_size=12).filter(lambda t: not t.isascii()))
def test_any_non_ascii_symbol_is_refused_naming_the_first_odd_character(text: str) -> None:
    first = next(c for c in text.strip(string.whitespace) if c not in SYMBOL_CHARS)
    with pytest.raises(OrderValidationError) as info:
        normalize_symbol(text)
    assert f"{first!r} (U+{ord(first):04X})" in str(info.value)


@given(st.text(alphabet=SYMBOL_CHARS, min_size=1, max_size=12).filter(lambda t: t[0].isalpha()))
def test_every_plain_symbol_is_accepted(text: str) -> None:
    assert normalize_symbol(text) == text.rstrip().upper()
