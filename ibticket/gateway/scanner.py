"""Market scanners over the gateway's US stocks: top % gainers and losers and the most active, ranked on the
live quotes; and the scanner parameters XML that lists them."""

from __future__ import annotations

from collections.abc import Callable

from .market import Market, Quote
from .universe import Instrument, Universe

DEFAULT_ROWS = 50
MAX_ROWS = 50
# Scan code -> (display name, sort key, descending). Change is against the previous close.
SCANS: dict[str, tuple[str, Callable[[Quote], float], bool]] = {
    "TOP_PERC_GAIN": ("Top % Gainers", lambda q: q.last / q.close - 1, True),
    "TOP_PERC_LOSE": ("Top % Losers", lambda q: q.last / q.close - 1, False),
    "MOST_ACTIVE": ("Most Active", lambda q: float(q.volume), True),
    "HOT_BY_VOLUME": ("Hot Contracts by Volume", lambda q: float(q.volume), True),
    "HOT_BY_PRICE": ("Hot Contracts by Price", lambda q: abs(q.last / q.close - 1), True),
}
# Location code -> the primary exchanges it covers.
LOCATIONS = {
    "STK.US": ("NASDAQ", "NYSE", "ARCA", "AMEX"),
    "STK.US.MAJOR": ("NASDAQ", "NYSE", "ARCA", "AMEX"),
    "STK.NASDAQ": ("NASDAQ",),
    "STK.NYSE": ("NYSE",),
    "STK.ARCA": ("ARCA",),
    "STK.AMEX": ("AMEX",),
}


def scan(universe: Universe, market: Market, instrument: str, location: str, code: str, rows: int,
         above_price: float | None, below_price: float | None, above_volume: float | None) -> list[Instrument] | str:
    """The ranked instruments, or why the scan is not possible (TWS answers that with error 162)."""
    instrument, location, code = instrument.strip().upper(), location.strip().upper(), code.strip().upper()
    if instrument != "STK":
        return f"Scanner instrument {instrument or '(empty)'!r} is not available: the paper gateway scans STK only"
    if location not in LOCATIONS:
        return f"Scanner location {location or '(empty)'!r} is not available; use one of {', '.join(LOCATIONS)}"
    if code not in SCANS:
        return f"Scan code {code or '(empty)'!r} is not available; use one of {', '.join(SCANS)}"
    _name, key, descending = SCANS[code]
    picked = []
    for inst in universe:
        q = market.quote(inst.symbol)
        if inst.primary_exchange not in LOCATIONS[location] or q.close <= 0:
            continue
        if above_price is not None and q.last <= above_price:
            continue
        if below_price is not None and q.last >= below_price:
            continue
        if above_volume is not None and q.volume <= above_volume:
            continue
        picked.append((key(q), inst.symbol, inst))
    picked.sort(key=lambda item: (-item[0] if descending else item[0], item[1]))
    limit = DEFAULT_ROWS if rows <= 0 else min(rows, MAX_ROWS)
    return [inst for _key, _symbol, inst in picked[:limit]]


def scanner_parameters_xml() -> str:
    scans = "".join(
        f"<ScanType><displayName>{name}</displayName><scanCode>{code}</scanCode><instruments>STK</instruments>"
        "<absoluteColumns>false</absoluteColumns></ScanType>"
        for code, (name, _key, _descending) in SCANS.items()
    )
    locations = "".join(
        f"<Location><displayName>{code}</displayName><locationCode>{code}</locationCode>"
        "<instruments>STK</instruments></Location>"
        for code in LOCATIONS
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ScanParameterResponse>'
        "<InstrumentList varName=\"instrumentList\"><Instrument><name>US Stocks</name><type>STK</type>"
        "<filters>PRICE,VOLUME</filters></Instrument></InstrumentList>"
        f"<LocationTree varName=\"locationTree\">{locations}</LocationTree>"
        f"<ScanTypeList varName=\"scanTypeList\">{scans}</ScanTypeList>"
        "<FilterList varName=\"filterList\"><SimpleFilter><id>PRICE</id><AbstractField><code>abovePrice</code>"
        "</AbstractField><AbstractField><code>belowPrice</code></AbstractField></SimpleFilter>"
        "<SimpleFilter><id>VOLUME</id><AbstractField><code>aboveVolume</code></AbstractField></SimpleFilter>"
        "</FilterList></ScanParameterResponse>"
    )
