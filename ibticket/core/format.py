"""Text for numbers as a trader reads them (Qt-free)."""

from __future__ import annotations

import math
from datetime import datetime

TYPE_SHORT = {"MARKET": "MKT", "LIMIT": "LMT", "STOP": "STP", "STOP_LIMIT": "STP LMT"}
TYPE_LONG = {v: k for k, v in TYPE_SHORT.items()}


def decimals_for_tick(tick: float) -> int:
    text = f"{tick:.10f}".rstrip("0")
    return max(2, len(text.split(".")[1])) if "." in text else 2


def price(value: float | None, decimals: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:,.{decimals}f}"


def qty(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def money(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:,.2f}"


def signed_money(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:+,.2f}"


def clock(when: datetime | None) -> str:
    return when.strftime("%H:%M:%S") if when else ""


def on_tick(value: float, tick: float) -> bool:
    ticks = value / tick
    return abs(ticks - round(ticks)) <= 1e-6


def round_to_tick(value: float, tick: float) -> float:
    return round(round(value / tick) * tick, decimals_for_tick(tick) + 2)
