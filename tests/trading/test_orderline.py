"""The order line grammar, its error messages and spans, describe() and the Up/Down history."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ibticket.core.order import OrderRequest, validate_request
from ibticket.core.records import ORDER_TYPES, TIME_IN_FORCE
from ibticket.core.validation import MAX_QUANTITY
from ibticket.trading.orderline import (
    MAX_ORDER_ID,
    CancelCommand,
    LineHistory,
    ModifyCommand,
    OrderLineError,
    describe,
    format_price,
    parse,
)


def order(action: str, quantity: int, symbol: str, order_type: str = "MARKET", limit: float | None = None,
          stop: float | None = None, tif: str = "DAY", orth: bool = False) -> OrderRequest:
    return OrderRequest(symbol, action, quantity, order_type, limit, stop, tif, orth)


FORMS = [
    ("buy 100 AAPL mkt", order("BUY", 100, "AAPL")),
    ("buy 100 AAPL", order("BUY", 100, "AAPL")),  # no type: market
    ("b 1 aapl", order("BUY", 1, "AAPL")),
    ("SELL 5 IBM", order("SELL", 5, "IBM")),
    ("s 50 msft @412.30 gtc", order("SELL", 50, "MSFT", "LIMIT", limit=412.3, tif="GTC")),
    ("s 50 msft @ 412.30", order("SELL", 50, "MSFT", "LIMIT", limit=412.3)),
    ("buy 100 aapl lmt 187.25", order("BUY", 100, "AAPL", "LIMIT", limit=187.25)),
    ("buy 100 aapl LMT .5", order("BUY", 100, "AAPL", "LIMIT", limit=0.5)),
    ("buy 100 aapl lmt 0.000001", order("BUY", 100, "AAPL", "LIMIT", limit=0.000001)),
    ("buy 100 aapl lmt 1.5000000", order("BUY", 100, "AAPL", "LIMIT", limit=1.5)),  # trailing zeros are no decimals
    ("sell 50 msft stp 400 gtc orth", order("SELL", 50, "MSFT", "STOP", stop=400.0, tif="GTC", orth=True)),
    ("b 10 spy stplmt 500 501 ioc orth", order("BUY", 10, "SPY", "STOP_LIMIT", 501.0, 500.0, "IOC", True)),
    ("BUY 10 SPY STP LMT 500.00 501.00 IOC", order("BUY", 10, "SPY", "STOP_LIMIT", 501.0, 500.0, "IOC")),
    ("b 10 spy orth ioc lmt 3", order("BUY", 10, "SPY", "LIMIT", limit=3.0, tif="IOC", orth=True)),  # any order
    ("  buy\t100   brk.b  ", order("BUY", 100, "BRK.B")),
    ("buy 0100 aapl", order("BUY", 100, "AAPL")),
    (f"buy {MAX_QUANTITY} aapl", order("BUY", MAX_QUANTITY, "AAPL")),
    ("buy 10,000 aapl @1,234.50", order("BUY", 10_000, "AAPL", "LIMIT", limit=1234.5)),  # as describe() groups
    ("modify 12 qty 1,500 stp 1,000.0", ModifyCommand(12, 1500, None, 1000.0)),
    ("buy 1 day", order("BUY", 1, "DAY")),  # positional: a keyword in the symbol place is a symbol (NYSE: DAY)
    ("buy 1 abcdefghijkl", order("BUY", 1, "ABCDEFGHIJKL")),
    ("cancel #12", CancelCommand(12)),
    ("cancel 12", CancelCommand(12)),
    ("CANCEL ALL", CancelCommand(None)),
    (f"cancel {MAX_ORDER_ID}", CancelCommand(MAX_ORDER_ID)),
    ("modify #12 qty 200", ModifyCommand(12, 200, None, None)),
    ("modify 12 lmt 187.3", ModifyCommand(12, None, 187.3, None)),
    ("modify 12 @187.3", ModifyCommand(12, None, 187.3, None)),
    ("modify 12 stp 186 lmt 187 qty 5", ModifyCommand(12, 5, 187.0, 186.0)),
]


@pytest.mark.parametrize(("line", "expected"), FORMS, ids=[f[0] for f in FORMS])
def test_every_form_parses(line: str, expected: object) -> None:
    assert parse(line) == expected


def test_order_command_is_what_the_core_accepts() -> None:
    for line, cmd in FORMS:
        if isinstance(cmd, OrderRequest):
            assert cmd.order_type in ORDER_TYPES and cmd.tif in TIME_IN_FORCE, line
            request = validate_request(cmd.symbol, cmd.action, cmd.quantity, cmd.order_type, cmd.limit_price,
                                       cmd.stop_price, cmd.tif, cmd.outside_rth)
            assert (request.symbol, request.quantity, request.limit_price) == (cmd.symbol, cmd.quantity,
                                                                               cmd.limit_price)


ASCII = ": type plain ASCII letters, digits and . @ # only"

# (line, message, the word it names); a missing word is "" with an empty span at the end of the line.
ERRORS = [
    ("", "the line is empty: type an order, e.g. buy 100 AAPL lmt 187.25", ""),
    ("   ", "the line is empty: type an order, e.g. buy 100 AAPL lmt 187.25", ""),
    ("bye 100 AAPL", 'unknown command "bye": start with buy, sell, cancel or modify', "bye"),
    ("buy", '"buy" needs a quantity and a symbol after it, e.g. buy 100 AAPL', ""),
    ("b 100", '"100" needs a symbol after it, e.g. b 100 AAPL', ""),
    ("buy abc AAPL", '"abc" is not a quantity: use a whole number of shares', "abc"),
    ("buy AAPL 100", '"AAPL" is not a quantity: use a whole number of shares', "AAPL"),
    ("buy 1_000 AAPL", '"1_000" is not a quantity: use a whole number of shares', "1_000"),
    ("buy 1,00 AAPL", '"1,00" is not a quantity: group thousands by three digits (10,000) or not at all (10000)',
     "1,00"),
    ("buy 10,000,000,000 AAPL", 'quantity "10000000000" is above the limit of 10,000,000', "10,000,000,000"),
    ("buy 100 AAPL lmt 187,25", '"187,25" is not a price: decimals follow a point (187.25); a comma only groups '
     "thousands before one (1,234.50)", "187,25"),
    ("buy 100 AAPL @187,250", '"187,250" is not a price: decimals follow a point (187.25); a comma only groups '
     "thousands before one (1,234.50)", "@187,250"),
    ("buy 1e3 AAPL", '"1e3" is not a quantity: use a whole number of shares', "1e3"),
    ("buy inf AAPL", '"inf" is not a quantity: use a whole number of shares', "inf"),
    ("buy +5 AAPL", '"+5" is not a quantity: use a whole number of shares', "+5"),
    ("buy 0 AAPL", "quantity must be above 0", "0"),
    ("buy 000 AAPL", "quantity must be above 0", "000"),
    ("buy -5 AAPL", "quantity must be above 0", "-5"),
    ("buy 0.0 AAPL", "quantity must be above 0", "0.0"),
    ("buy 1.5 AAPL", '"1.5" shares: IB stock orders take whole shares', "1.5"),
    ("buy 100.0 AAPL", '"100.0": write whole shares without a decimal point, e.g. 100', "100.0"),
    (f"buy {MAX_QUANTITY + 1} AAPL", f'quantity "{MAX_QUANTITY + 1}" is above the limit of 10,000,000',
     str(MAX_QUANTITY + 1)),
    # more digits than int() converts at all: refused as too large, not by int()'s own error
    ("buy " + "9" * 5000 + " AAPL", f'quantity "{"9" * 23}…" is above the limit of 10,000,000', "9" * 5000),
    ("buy " + "9" * 400 + ".0 AAPL", f'"{"9" * 23}…": write whole shares without a decimal point, e.g. {"9" * 23}…',
     "9" * 400 + ".0"),
    ("buy 100 AA$L", "\"AA$L\" is not a symbol: '$' cannot be in one (use letters, digits and '.', e.g. BRK.B)",
     "AA$L"),
    ("buy 100 BRK-B", "\"BRK-B\" is not a symbol: '-' cannot be in one (use letters, digits and '.', e.g. BRK.B)",
     "BRK-B"),
    ("buy 100 1AAPL", '"1AAPL" is not a symbol: a symbol starts with a letter', "1AAPL"),
    ("buy 100 .A", '".A" is not a symbol: a symbol starts with a letter', ".A"),
    ("buy 100 ABCDEFGHIJKLM", '"ABCDEFGHIJKLM" is too long for a symbol (at most 12 characters)', "ABCDEFGHIJKLM"),
    ("buy 100 ÄPPL", "\"ÄPPL\" contains 'Ä' (U+00C4 LATIN CAPITAL LETTER A WITH DIAERESIS)" + ASCII, "ÄPPL"),
    ("buy 100 \uff21APL", "\"\uff21APL\" contains '\uff21' (U+FF21 FULLWIDTH LATIN CAPITAL LETTER A)" + ASCII,
     "\uff21APL"),
    ("buy \u0661\u0662 AAPL", "\"\u0661\u0662\" contains '\u0661' (U+0661 ARABIC-INDIC DIGIT ONE)" + ASCII,
     "\u0661\u0662"),
    ("buy\u00a0100 AAPL", '"buy?100" contains U+00A0 NO-BREAK SPACE' + ASCII, "buy\u00a0100"),
    ("buy 100 AAPL\x1b", '"AAPL?" contains U+001B' + ASCII, "AAPL\x1b"),
    ("buy 100 AAPL \u202egtc", '"?gtc" contains U+202E RIGHT-TO-LEFT OVERRIDE' + ASCII, "\u202egtc"),
    ("buy 100 AAPL lmt", '"lmt" needs a price after it', ""),
    ("buy 100 AAPL lmt gtc", '"lmt" needs a price after it, not "gtc"', "gtc"),
    ("buy 100 AAPL lmt inf", '"lmt" needs a price after it, not "inf"', "inf"),
    ("buy 100 AAPL lmt nan", '"lmt" needs a price after it, not "nan"', "nan"),
    ("buy 100 AAPL @", '"@" needs a price after it', ""),
    ("buy 100 AAPL stp", '"stp" needs a price after it', ""),
    ("buy 100 AAPL lmt 12.3.4", '"12.3.4" is not a price', "12.3.4"),
    ("buy 100 AAPL @12.3.4", '"12.3.4" is not a price', "@12.3.4"),
    ("buy 100 AAPL @inf", '"inf" is not a price', "@inf"),
    ("buy 100 AAPL lmt 1e5", '"1e5" is not a price', "1e5"),
    ("buy 100 AAPL lmt 1_000", '"1_000" is not a price', "1_000"),
    ("buy 100 AAPL lmt 12.", '"12." is not a price', "12."),
    ("buy 100 AAPL lmt \u0661", "\"\u0661\" contains '\u0661' (U+0661 ARABIC-INDIC DIGIT ONE)" + ASCII, "\u0661"),
    ("buy 100 AAPL lmt 0", "price must be above 0", "0"),
    ("buy 100 AAPL lmt 0.0000001", '"0.0000001" has 7 decimals; a price takes at most 6', "0.0000001"),
    ("buy 100 AAPL @-1", "price must be above 0, not -1", "@-1"),
    ("buy 100 AAPL lmt -1.5", "price must be above 0, not -1.5", "-1.5"),
    ("buy 100 AAPL lmt 187.1234567", '"187.1234567" has 7 decimals; a price takes at most 6', "187.1234567"),
    ("buy 100 AAPL lmt " + "9" * 400, f'"{"9" * 23}…" is too large for a price', "9" * 400),
    ("buy 100 AAPL stplmt", '"stplmt" needs a stop price and a limit price after it, e.g. stplmt 500 501', ""),
    ("buy 100 AAPL stplmt 500", '"stplmt 500" needs a limit price after the stop price', ""),
    ("buy 100 AAPL stplmt 500 gtc", '"stplmt 500" needs a limit price after the stop price, not "gtc"', "gtc"),
    ("buy 100 AAPL stp lmt 500", '"stp lmt 500" needs a limit price after the stop price', ""),
    ("buy 100 AAPL foo", '"foo" is not an order type, TIF or option (mkt, lmt, @, stp, stplmt, day, gtc, ioc, '
                         'orth)', "foo"),
    ("buy 100 AAPL lmt 5 6", '"6" is not expected here: a price goes right after lmt, @, stp or stplmt', "6"),
    ("buy 100 AAPL day day", '"day" given twice', "day"),
    ("buy 100 AAPL DAY gtc day", '"gtc" conflicts with "DAY": give one time in force: day, gtc or ioc', "gtc"),
    ("buy 100 AAPL orth orth", '"orth" given twice', "orth"),
    ("buy 100 AAPL lmt 5 lmt 6", '"lmt" given twice', "lmt"),
    ("buy 100 AAPL mkt lmt 5", '"lmt" conflicts with "mkt": give one order type: mkt, lmt PRICE, @PRICE, stp STOP '
                               "or stplmt STOP LIMIT", "lmt"),
    ("buy 100 AAPL @5 @6", '"@6" conflicts with "@5": give one order type: mkt, lmt PRICE, @PRICE, stp STOP or '
                           "stplmt STOP LIMIT", "@6"),
    ("cancel", '"cancel" needs an order ID or "all", e.g. cancel #12', ""),
    ("cancel abc", '"abc" is not an order ID: use the number from the orders table, e.g. #12', "abc"),
    ("cancel #", '"#" is not an order ID: use the number from the orders table, e.g. #12', "#"),
    ("cancel ##1", '"##1" is not an order ID: use the number from the orders table, e.g. #12', "##1"),
    ("cancel #0", "order ID must be above 0", "#0"),
    ("cancel -3", "order ID must be above 0", "-3"),
    (f"cancel {MAX_ORDER_ID + 1}", f'order ID "{MAX_ORDER_ID + 1}" is above the limit of 2,147,483,647',
     str(MAX_ORDER_ID + 1)),
    ("cancel 12 13", '"13" is not expected: cancel takes one order ID or "all"', "13"),
    ("cancel all now", '"now" is not expected: cancel takes one order ID or "all"', "now"),
    ("modify", '"modify" needs an order ID and a change, e.g. modify #12 lmt 187.30', ""),
    ("modify #12", '"modify #12" needs a change: qty N, lmt PRICE or stp PRICE', ""),
    ("modify x lmt 5", '"x" is not an order ID: use the number from the orders table, e.g. #12', "x"),
    ("modify 12 qty", '"qty" needs a quantity after it', ""),
    ("modify 12 qty lmt 5", '"qty" needs a quantity after it, not "lmt"', "lmt"),
    ("modify 12 qty 1.5", '"1.5" shares: IB stock orders take whole shares', "1.5"),
    ("modify 12 qty 0", "quantity must be above 0", "0"),
    ("modify 12 qty 5 qty 6", '"qty" given twice', "qty"),
    ("modify 12 lmt 5 @6", '"@6" conflicts with "lmt": give one new limit price', "@6"),
    ("modify 12 stp 5 stp 6", '"stp" given twice', "stp"),
    ("modify 12 lmt", '"lmt" needs a price after it', ""),
    ("modify 12 gtc", '"gtc" is not a change modify understands (qty N, lmt PRICE, @PRICE, stp PRICE)', "gtc"),
    ("modify 12 lmt 5 7", '"7" is not expected here: a price goes right after lmt, @, stp or stplmt', "7"),
]


@pytest.mark.parametrize(("line", "message", "word"), ERRORS, ids=[e[0] for e in ERRORS])
def test_every_error_names_the_word(line: str, message: str, word: str) -> None:
    with pytest.raises(OrderLineError) as caught:
        parse(line)
    error = caught.value
    assert (error.message, error.word) == (message, word)
    assert str(error) == message
    if word:
        assert line[error.start:error.end] == word
    else:
        assert error.start == error.end == len(line)


def test_the_leftmost_problem_is_reported() -> None:
    # the bad symbol comes before the non-ASCII option, so it is the one named
    with pytest.raises(OrderLineError) as caught:
        parse("buy 100 AA$ \uff47\uff54\uff43")
    assert caught.value.word == "AA$"


DESCRIBED = [
    (order("BUY", 100, "AAPL", "LIMIT", limit=187.25), "BUY 100 AAPL LMT 187.25 DAY"),
    (order("SELL", 50, "MSFT", "STOP", stop=400.0, tif="GTC", orth=True), "SELL 50 MSFT STP 400.00 GTC ORTH"),
    (order("BUY", 10, "SPY", "STOP_LIMIT", 501.0, 500.0, "IOC"), "BUY 10 SPY STP LMT 500.00 501.00 IOC"),
    (order("BUY", 100, "AAPL"), "BUY 100 AAPL MKT DAY"),
    (order("BUY", 1, "X", "LIMIT", limit=0.000001), "BUY 1 X LMT 0.000001 DAY"),
    (order("SELL", 10_000, "BRK.A", "STOP_LIMIT", 712_345.5, 712_000.0),
     "SELL 10,000 BRK.A STP LMT 712,000.00 712,345.50 DAY"),
    (ModifyCommand(1234, 25_000, 1234.5, None), "MODIFY #1234 QTY 25,000 LMT 1,234.50"),
    (CancelCommand(12), "CANCEL #12"),
    (CancelCommand(None), "CANCEL ALL"),
    (ModifyCommand(12, 200, 187.3, None), "MODIFY #12 QTY 200 LMT 187.30"),
    (ModifyCommand(12, None, 187.3, 186.0), "MODIFY #12 LMT 187.30 STP 186.00"),
]


@pytest.mark.parametrize(("cmd", "text"), DESCRIBED, ids=[d[1] for d in DESCRIBED])
def test_describe(cmd: object, text: str) -> None:
    assert describe(cmd) == text  # type: ignore[arg-type]
    assert parse(text) == cmd


@pytest.mark.parametrize(("price", "text"), [(187.25, "187.25"), (500.0, "500.00"), (1e-06, "0.000001"),
                                             (1e16, "10000000000000000.00"), (0.1, "0.10"), (412.3, "412.30")])
def test_format_price_never_uses_an_exponent(price: float, text: str) -> None:
    assert format_price(price) == text


# -- properties ----------------------------------------------------------------------------------------------

prices = st.decimals(min_value="0.000001", max_value="100000000", places=6, allow_nan=False,
                     allow_infinity=False).map(lambda d: float(str(d)))
symbols = st.from_regex(r"[A-Za-z][A-Za-z0-9.]{0,11}", fullmatch=True).map(str.upper)
quantities = st.integers(1, MAX_QUANTITY)
order_ids = st.integers(1, MAX_ORDER_ID)


@st.composite
def order_commands(draw: st.DrawFn) -> OrderRequest:
    kind = draw(st.sampled_from(ORDER_TYPES))
    limit = draw(prices) if kind in ("LIMIT", "STOP_LIMIT") else None
    stop = draw(prices) if kind in ("STOP", "STOP_LIMIT") else None
    action, quantity, symbol = draw(st.sampled_from(("BUY", "SELL"))), draw(quantities), draw(symbols)
    return OrderRequest(symbol, action, quantity, kind, limit, stop, draw(st.sampled_from(TIME_IN_FORCE)),
                        draw(st.booleans()))


@st.composite
def modify_commands(draw: st.DrawFn) -> ModifyCommand:
    quantity, limit, stop = draw(st.tuples(st.none() | quantities, st.none() | prices, st.none() | prices)
                                 .filter(lambda t: t != (None, None, None)))
    return ModifyCommand(draw(order_ids), quantity, limit, stop)


commands = order_commands() | modify_commands() | st.builds(CancelCommand, st.none() | order_ids)


@settings(max_examples=400, deadline=None)
@given(commands)
def test_describe_reads_back_as_the_same_command(cmd: OrderRequest | CancelCommand | ModifyCommand) -> None:
    assert parse(describe(cmd)) == cmd
    assert parse(describe(cmd).lower()) == cmd


def _check_error_only(line: str) -> None:
    try:
        cmd = parse(line)
    except OrderLineError as error:
        assert error.message
        assert 0 <= error.start <= error.end <= len(line)
        assert line[error.start:error.end] == error.word
    else:
        assert parse(describe(cmd)) == cmd


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_parse_raises_only_order_line_errors_on_any_text(line: str) -> None:
    _check_error_only(line)


VERBS = ["buy", "b", "sell", "s", "cancel", "modify", "bye", ""]
WORDS = ["all", "qty", "mkt", "lmt", "@", "stp", "stplmt", "day", "gtc", "ioc", "orth", "#", "#12", "12", "0", "-1",
         "1.5", "1e5", "inf", "nan", ".", "@3", "@-2", "AAPL", "brk.b", "1_0", "\u0661", "\uff21", "\u00a0", "ß",
         "9" * 5000, "0." + "1" * 50, "1" * 20 + ".0", "9" * 400 + ".0", "-" + "9" * 400]


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(VERBS),
       st.lists(st.sampled_from(WORDS) | st.from_regex(r"[0-9.@#-]{1,8}", fullmatch=True), max_size=7),
       st.sampled_from([" ", "  ", "\t"]))
def test_parse_raises_only_order_line_errors_on_near_misses(verb: str, words: list[str], separator: str) -> None:
    _check_error_only(separator.join([verb, *words]))


# -- history ------------------------------------------------------------------------------------------------

def test_history_recalls_like_a_shell_and_keeps_the_line_being_edited() -> None:
    history = LineHistory()
    for line in ("buy 100 AAPL", "sell 5 IBM", "cancel all"):
        history.add(line)
    assert history.previous("buy 3 sp") == "cancel all"
    assert history.previous("ignored while recalling") == "sell 5 IBM"
    assert history.previous("") == "buy 100 AAPL"
    assert history.previous("") == "buy 100 AAPL"  # the oldest stays
    assert history.next() == "sell 5 IBM"
    assert history.next() == "cancel all"
    assert history.next() == "buy 3 sp"  # past the newest: the draft comes back
    assert history.next("buy 3 spy") == "buy 3 spy"  # not recalling: the line stays as it is
    assert history.previous("buy 3 spy") == "cancel all"


def test_history_skips_blanks_and_consecutive_duplicates_and_is_bounded() -> None:
    history = LineHistory(max_size=3)
    for line in ("a", "a ", "", "   ", "b", "a", "c", "c", "d"):
        history.add(line)
    assert history.entries == ("a", "c", "d")
    assert len(history) == 3


def test_history_add_restarts_recall_from_the_newest() -> None:
    history = LineHistory(entries=["x", "y", "z"])
    assert history.previous("") == "z"
    assert history.previous("") == "y"
    history.add("w")
    assert history.previous("draft") == "w"
    assert history.next() == "draft"


def test_empty_history_leaves_the_line_alone() -> None:
    history = LineHistory()
    assert history.previous("buy 1") == "buy 1"
    assert history.next("buy 1") == "buy 1"
    with pytest.raises(ValueError, match="at least 1"):
        LineHistory(max_size=0)
