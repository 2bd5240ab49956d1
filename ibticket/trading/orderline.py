"""The order line: one typed line becomes an order, a cancel or a modify.

Grammar (case-insensitive, words separated by spaces)::

    buy|b|sell|s QTY SYMBOL [mkt | lmt PRICE | @PRICE | stp STOP | stplmt STOP LIMIT] [day|gtc|ioc] [orth]
    cancel ID | cancel all
    modify ID [qty N] [lmt PRICE | @PRICE] [stp PRICE]

With no order type the order is a market order (MKT); with no time in force it is DAY. Options follow the
symbol in any order, each at most once. ``stp lmt STOP LIMIT`` is accepted too, because that is how
:func:`describe` writes a stop-limit order and its text must read back as the same command. IDs may be
written ``#12`` or ``12``.

No Qt here, so the whole grammar is tested without a QApplication; docs/orderline.md is the user guide.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ibticket.core.order import OrderRequest
from ibticket.core.validation import MAX_QUANTITY, OrderValidationError, normalize_symbol

MAX_ORDER_ID = 2**31 - 1  # IB order ids are 32-bit; the app's own ids count up from 1 each day
MAX_DECIMALS = 6
MAX_SYMBOL = 12

# Only ASCII whitespace separates words: a no-break space pasted from a web page is named, not guessed at.
_WORD = re.compile(r"[^ \t\r\n\v\f]+")
# Explicit [0-9]: \d would accept other scripts' digits, which float() and int() then happily read.
_INT = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(?:\.([0-9]+))?|\.([0-9]+)")
_SYMBOL_CHARS = re.compile(r"[A-Za-z0-9.]+")
# Thousands grouped by commas, as describe() writes them. A price needs its decimal point after the groups:
# "187,250" may mean 187.25 to a trader used to a decimal comma, and is refused rather than read as 187,250.
_GROUPED_INT = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")
_GROUPED_PRICE = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+")

_ACTIONS = {"buy": "BUY", "b": "BUY", "sell": "SELL", "s": "SELL"}
_TIFS = ("day", "gtc", "ioc")
_OPTIONS = "mkt, lmt, @, stp, stplmt, day, gtc, ioc, orth"
_TYPE_HELP = "give one order type: mkt, lmt PRICE, @PRICE, stp STOP or stplmt STOP LIMIT"
_EXAMPLE = "buy 100 AAPL lmt 187.25"


@dataclass(frozen=True)
class CancelCommand:
    order_id: int | None  # None: cancel all open orders


@dataclass(frozen=True)
class ModifyCommand:
    order_id: int
    quantity: int | None
    limit_price: float | None
    stop_price: float | None


Command = OrderRequest | CancelCommand | ModifyCommand


class OrderLineError(ValueError):
    """A line that cannot be read. ``start:end`` is the span of ``word`` in the line, so the window can mark
    it; a missing word has an empty span at the end of the line and ``word == ""``."""

    def __init__(self, message: str, start: int, end: int, word: str) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end
        self.word = word


@dataclass(frozen=True)
class _Word:
    text: str
    start: int
    end: int

    @property
    def key(self) -> str:
        return self.text.lower()


def _show(text: str) -> str:
    """A word as it can be quoted in a message: visible, short, and unable to reorder the text around it."""
    shown = "".join(c if c.isprintable() else "?" for c in text)
    return shown if len(shown) <= 24 else shown[:23] + "…"


def _fail(word: _Word, message: str) -> OrderLineError:
    return OrderLineError(message, word.start, word.end, word.text)


def _name_char(char: str) -> str:
    code = f"U+{ord(char):04X}"
    name = unicodedata.name(char, "")
    label = f"{code} {name}" if name else code
    return f"'{char}' ({label})" if char.isprintable() and not char.isspace() else label


def _check_ascii(word: _Word) -> None:
    for char in word.text:
        if not " " < char < "\x7f":
            raise _fail(word, f'"{_show(word.text)}" contains {_name_char(char)}: type plain ASCII letters, '
                              "digits and . @ # only")


class _Words:
    def __init__(self, line: str) -> None:
        self.line = line
        self._items = [_Word(m.group(), m.start(), m.end()) for m in _WORD.finditer(line)]
        self._pos = 0

    def peek(self) -> _Word | None:
        if self._pos >= len(self._items):
            return None
        word = self._items[self._pos]
        _check_ascii(word)
        return word

    def take(self) -> _Word | None:
        word = self.peek()
        if word is not None:
            self._pos += 1
        return word

    def missing(self, message: str) -> OrderLineError:
        end = len(self.line)
        return OrderLineError(message, end, end, "")


def _looks_numeric(text: str) -> bool:
    return text[:1] in ("-", "+", ".") or text[:1].isdigit()


def _whole(word: _Word, what: str, limit: int, not_whole: str) -> int:
    """A whole number above 0 and at most ``limit``; ``not_whole`` is the message for anything else."""
    text = word.text
    if text.startswith("-") and _DECIMAL.fullmatch(text[1:]):
        raise _fail(word, f"{what} must be above 0")
    if not _INT.fullmatch(text):
        raise _fail(word, not_whole)
    digits = text.lstrip("0")
    if not digits:
        raise _fail(word, f"{what} must be above 0")
    # Checked on the digits first: int() refuses strings past a few thousand digits with its own error.
    if len(digits) > len(str(limit)) or int(digits) > limit:
        raise _fail(word, f'{what} "{_show(text)}" is above the limit of {limit:,}')
    return int(digits)


def _quantity(word: _Word) -> int:
    text = word.text
    if "," in text:
        if not _GROUPED_INT.fullmatch(text):
            raise _fail(word, f'"{_show(text)}" is not a quantity: group thousands by three digits (10,000) '
                              "or not at all (10000)")
        try:
            return _quantity(_Word(text.replace(",", ""), word.start, word.end))
        except OrderLineError as exc:
            raise _fail(word, exc.message) from None
    if _DECIMAL.fullmatch(text) and not _INT.fullmatch(text):
        whole, _, fraction = text.partition(".")
        if fraction.strip("0"):
            raise _fail(word, f'"{_show(text)}" shares: IB stock orders take whole shares')
        if not whole.strip("0"):
            raise _fail(word, "quantity must be above 0")
        raise _fail(word, f'"{_show(text)}": write whole shares without a decimal point, e.g. '
                          f"{_show(whole.lstrip('0'))}")
    return _whole(word, "quantity", MAX_QUANTITY, f'"{_show(text)}" is not a quantity: use a whole number of shares')


def _order_id(word: _Word) -> int:
    hint = f'"{_show(word.text)}" is not an order ID: use the number from the orders table, e.g. #12'
    digits = word.text[1:] if word.text.startswith("#") else word.text
    try:
        return _whole(_Word(digits, word.start, word.end), "order ID", MAX_ORDER_ID, hint)
    except OrderLineError as exc:
        raise _fail(word, exc.message) from None


def _price(word: _Word, text: str | None = None) -> float:
    text = word.text if text is None else text
    if "," in text:
        if not _GROUPED_PRICE.fullmatch(text):
            raise _fail(word, f'"{_show(text)}" is not a price: decimals follow a point (187.25); a comma only '
                              "groups thousands before one (1,234.50)")
        text = text.replace(",", "")
    if text.startswith("-") and _DECIMAL.fullmatch(text[1:]):
        raise _fail(word, f"price must be above 0, not {_show(text)}")
    match = _DECIMAL.fullmatch(text)
    if match is None:
        raise _fail(word, f'"{_show(text)}" is not a price')
    decimals = (match.group(1) or match.group(2) or "").rstrip("0")
    if len(decimals) > MAX_DECIMALS:
        raise _fail(word, f'"{_show(text)}" has {len(decimals)} decimals; a price takes at most {MAX_DECIMALS}')
    value = float(text)
    if not math.isfinite(value):
        raise _fail(word, f'"{_show(text)}" is too large for a price')
    if value <= 0:
        raise _fail(word, "price must be above 0")
    return value


def _symbol(word: _Word) -> str:
    text = word.text
    if not _SYMBOL_CHARS.fullmatch(text):
        bad = next(c for c in text if not _SYMBOL_CHARS.fullmatch(c))
        raise _fail(word, f"\"{_show(text)}\" is not a symbol: '{bad}' cannot be in one "
                          "(use letters, digits and '.', e.g. BRK.B)")
    if not text[0].isalpha():
        raise _fail(word, f'"{_show(text)}" is not a symbol: a symbol starts with a letter')
    if len(text) > MAX_SYMBOL:
        raise _fail(word, f'"{_show(text)}" is too long for a symbol (at most {MAX_SYMBOL} characters)')
    try:
        return normalize_symbol(text)
    except OrderValidationError as exc:  # the core's rule is the last word on what a symbol may be
        raise _fail(word, str(exc)) from None


def _price_after(words: _Words, needs: str) -> float:
    """The price word that must come next; ``needs`` says what asks for it, e.g. '"lmt" needs a price'."""
    following = words.peek()
    if following is None:
        raise words.missing(needs)
    if not _looks_numeric(following.text):
        raise _fail(following, f'{needs}, not "{_show(following.text)}"')
    words.take()
    return _price(following)


def _once(seen: _Word | None, word: _Word, conflict_help: str) -> None:
    if seen is None:
        return
    if seen.key == word.key:
        raise _fail(word, f'"{word.text}" given twice')
    raise _fail(word, f'"{word.text}" conflicts with "{seen.text}": {conflict_help}')


def _stray(word: _Word, expected: str) -> OrderLineError:
    if _looks_numeric(word.text):
        return _fail(word, f'"{_show(word.text)}" is not expected here: a price goes right after lmt, @, stp '
                           "or stplmt")
    return _fail(word, f'"{_show(word.text)}" is not {expected}')


def _parse_order(words: _Words, verb: _Word) -> OrderRequest:
    qty_word = words.take()
    if qty_word is None:
        raise words.missing(f'"{verb.text}" needs a quantity and a symbol after it, e.g. {verb.key} 100 AAPL')
    quantity = _quantity(qty_word)
    sym_word = words.take()
    if sym_word is None:
        raise words.missing(f'"{qty_word.text}" needs a symbol after it, e.g. {verb.key} {quantity} AAPL')
    symbol = _symbol(sym_word)

    order_type, limit, stop = "MARKET", None, None
    type_word: _Word | None = None
    tif_word: _Word | None = None
    orth_word: _Word | None = None
    while (word := words.take()) is not None:
        key = word.key
        if key in ("mkt", "lmt", "stp", "stplmt") or key.startswith("@"):
            _once(type_word, word, _TYPE_HELP)
            type_word = word
            if key == "mkt":
                order_type = "MARKET"
            elif key == "lmt":
                order_type, limit = "LIMIT", _price_after(words, f'"{word.text}" needs a price after it')
            elif key.startswith("@"):
                order_type = "LIMIT"
                limit = (_price(word, word.text[1:]) if len(key) > 1
                         else _price_after(words, f'"{word.text}" needs a price after it'))
            elif key == "stplmt" or ((following := words.peek()) is not None and following.key == "lmt"):
                if key == "stp":  # "stp lmt", as describe() writes it, reads as one keyword
                    lmt_word = words.take()
                    assert lmt_word is not None
                    word = type_word = _Word(f"{word.text} {lmt_word.text}", word.start, lmt_word.end)
                order_type = "STOP_LIMIT"
                stop_word = words.peek()
                stop = _price_after(words, f'"{word.text}" needs a stop price and a limit price after it, '
                                           "e.g. stplmt 500 501")
                assert stop_word is not None
                limit = _price_after(words, f'"{word.text} {stop_word.text}" needs a limit price after the '
                                            "stop price")
            else:
                order_type, stop = "STOP", _price_after(words, f'"{word.text}" needs a price after it')
        elif key in _TIFS:
            _once(tif_word, word, "give one time in force: day, gtc or ioc")
            tif_word = word
        elif key == "orth":
            _once(orth_word, word, "")
            orth_word = word
        else:
            raise _stray(word, f"an order type, TIF or option ({_OPTIONS})")
    try:
        return OrderRequest(
            symbol=symbol,
            action=_ACTIONS[verb.key],
            quantity=quantity,
            order_type=order_type,
            limit_price=limit,
            stop_price=stop,
            tif=tif_word.key.upper() if tif_word else "DAY",
            outside_rth=orth_word is not None,
        )
    except OrderValidationError as exc:  # what the grammar lets through and the order does not
        end = len(words.line.rstrip())
        raise OrderLineError(str(exc), verb.start, end, words.line[verb.start:end]) from None


def _parse_cancel(words: _Words, verb: _Word) -> CancelCommand:
    target = words.take()
    if target is None:
        raise words.missing(f'"{verb.text}" needs an order ID or "all", e.g. cancel #12')
    command = CancelCommand(None if target.key == "all" else _order_id(target))
    extra = words.take()
    if extra is not None:
        raise _fail(extra, f'"{_show(extra.text)}" is not expected: cancel takes one order ID or "all"')
    return command


def _parse_modify(words: _Words, verb: _Word) -> ModifyCommand:
    target = words.take()
    if target is None:
        raise words.missing(f'"{verb.text}" needs an order ID and a change, e.g. modify #12 lmt 187.30')
    order_id = _order_id(target)
    quantity: int | None = None
    limit: float | None = None
    stop: float | None = None
    qty_word: _Word | None = None
    lmt_word: _Word | None = None
    stp_word: _Word | None = None
    while (word := words.take()) is not None:
        key = word.key
        if key == "qty":
            _once(qty_word, word, "")
            qty_word = word
            following = words.peek()
            needs = f'"{word.text}" needs a quantity after it'
            if following is None:
                raise words.missing(needs)
            if not _looks_numeric(following.text):
                raise _fail(following, f'{needs}, not "{_show(following.text)}"')
            words.take()
            quantity = _quantity(following)
        elif key == "lmt" or key.startswith("@"):
            _once(lmt_word, word, "give one new limit price")
            lmt_word = word
            limit = (_price(word, word.text[1:]) if len(key) > 1 and key[0] == "@"
                     else _price_after(words, f'"{word.text}" needs a price after it'))
        elif key == "stp":
            _once(stp_word, word, "")
            stp_word = word
            stop = _price_after(words, f'"{word.text}" needs a price after it')
        else:
            raise _stray(word, "a change modify understands (qty N, lmt PRICE, @PRICE, stp PRICE)")
    if quantity is None and limit is None and stop is None:
        raise words.missing(f'"{verb.text} {target.text}" needs a change: qty N, lmt PRICE or stp PRICE')
    return ModifyCommand(order_id=order_id, quantity=quantity, limit_price=limit, stop_price=stop)


def parse(line: str) -> Command:
    """Read one order line. Raises :class:`OrderLineError` naming the first word it cannot read."""
    words = _Words(line)
    verb = words.take()
    if verb is None:
        raise words.missing(f"the line is empty: type an order, e.g. {_EXAMPLE}")
    if verb.key in _ACTIONS:
        return _parse_order(words, verb)
    if verb.key == "cancel":
        return _parse_cancel(words, verb)
    if verb.key == "modify":
        return _parse_modify(words, verb)
    raise _fail(verb, f'unknown command "{_show(verb.text)}": start with buy, sell, cancel or modify')


def format_price(price: float) -> str:
    """A price with at least two decimals and every digit it has, never in exponent form (so it parses)."""
    text = format(Decimal(repr(price)), "f")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def _grouped(price: float) -> str:
    whole, point, fraction = format_price(price).partition(".")
    return f"{int(whole):,}{point}{fraction}"


_TYPE_TEXT = {"MARKET": "MKT", "LIMIT": "LMT", "STOP": "STP", "STOP_LIMIT": "STP LMT"}


def describe(cmd: Command) -> str:
    """The command in the order line's own words, upper case: the Send button text and the confirmation.
    Quantities and prices have their thousands grouped (BUY 10,000 AAPL LMT 1,234.50 DAY); order ids not.

    ``parse(describe(cmd)) == cmd`` for every command :func:`parse` returns.
    """
    if isinstance(cmd, CancelCommand):
        return "CANCEL ALL" if cmd.order_id is None else f"CANCEL #{cmd.order_id}"
    if isinstance(cmd, ModifyCommand):
        parts = [f"MODIFY #{cmd.order_id}"]
        if cmd.quantity is not None:
            parts.append(f"QTY {cmd.quantity:,}")
        if cmd.limit_price is not None:
            parts.append(f"LMT {_grouped(cmd.limit_price)}")
        if cmd.stop_price is not None:
            parts.append(f"STP {_grouped(cmd.stop_price)}")
        return " ".join(parts)
    parts = [cmd.action, f"{cmd.quantity:,}", cmd.symbol, _TYPE_TEXT[cmd.order_type]]
    if cmd.stop_price is not None:
        parts.append(_grouped(cmd.stop_price))
    if cmd.limit_price is not None:
        parts.append(_grouped(cmd.limit_price))
    parts.append(cmd.tif)
    if cmd.outside_rth:
        parts.append("ORTH")
    return " ".join(parts)


class LineHistory:
    """Up/Down recall of sent lines, as in a shell.

    The first :meth:`previous` keeps the text being edited; stepping :meth:`next` past the newest line gives
    it back. Consecutive duplicates and blank lines are not recorded; the oldest lines fall off past
    ``max_size``.
    """

    def __init__(self, max_size: int = 200, entries: Iterable[str] = ()) -> None:
        if max_size < 1:
            raise ValueError(f"history size must be at least 1, not {max_size}")
        self._entries: deque[str] = deque(maxlen=max_size)
        self._index: int | None = None  # the recalled entry; None while the draft is shown
        self._draft = ""
        for line in entries:
            self.add(line)

    @property
    def entries(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, line: str) -> None:
        """Record a sent line; recall starts again from the newest."""
        self._index = None
        self._draft = ""
        text = line.strip()
        if text and (not self._entries or self._entries[-1] != text):
            self._entries.append(text)

    def previous(self, current_text: str) -> str:
        """The line before the one shown; at the oldest, the oldest again."""
        if not self._entries:
            return current_text
        if self._index is None:
            self._draft = current_text
            self._index = len(self._entries) - 1
        elif self._index > 0:
            self._index -= 1
        return self._entries[self._index]

    def next(self, current_text: str | None = None) -> str:
        """The line after the one shown; past the newest, the text that was being edited.

        When nothing is being recalled the line stays as it is: pass ``current_text`` to get it back.
        """
        if self._index is None:
            return self._draft if current_text is None else current_text
        if self._index < len(self._entries) - 1:
            self._index += 1
            return self._entries[self._index]
        self._index = None
        return self._draft
