"""Symbol lookup: each symbol is qualified with IB once and cached, with the tick its prices must sit on."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..core.order import OrderRequest
from ..core.validation import OrderValidationError, normalize_symbol
from .ib import IB, Contract, Stock


@dataclass(frozen=True)
class ContractInfo:
    symbol: str
    contract: Contract
    min_tick: float
    long_name: str
    primary_exchange: str
    # Orders must be a multiple of this many shares (1 for US stocks; IB's fractional 0.0001 counts as 1:
    # the ticket trades whole shares).
    size_increment: int = 1


class ContractBook:
    def __init__(self, ib: IB) -> None:
        self._ib = ib
        self._cache: dict[str, ContractInfo] = {}

    def cached(self, symbol: str) -> ContractInfo | None:
        return self._cache.get(symbol)

    async def resolve(self, symbol: str) -> ContractInfo:
        """The qualified US stock for ``symbol``; unknown or ambiguous symbols are refused."""
        name = normalize_symbol(symbol)
        info = self._cache.get(name)
        if info is not None:
            return info
        details = await self._ib.reqContractDetailsAsync(Stock(name, "SMART", "USD"))
        if not details:
            raise OrderValidationError(f"Unknown symbol {name}: IB has no US stock or ETF by that name")
        if len(details) > 1:
            raise OrderValidationError(f"Symbol {name} is ambiguous at IB ({len(details)} matches)")
        detail = details[0]
        contract = detail.contract
        contract.exchange = "SMART"  # route smart; the primary exchange stays in primaryExchange
        info = ContractInfo(
            symbol=name,
            contract=contract,
            min_tick=detail.minTick if detail.minTick and detail.minTick > 0 else 0.01,
            long_name=detail.longName or "",
            primary_exchange=contract.primaryExchange or "",
            size_increment=size_increment(detail),
        )
        self._cache[name] = info
        return info


def size_increment(detail: Any) -> int:
    """Whole shares an order must step by: sizeIncrement, else minSize, when IB reports a whole number."""
    for name in ("sizeIncrement", "minSize"):
        value = getattr(detail, name, None)
        if isinstance(value, int | float) and math.isfinite(value) and value >= 1 and float(value).is_integer():
            return int(value)
    return 1


def check_tick(info: ContractInfo, price: float, what: str) -> None:
    """Refuse a price off the instrument's tick; IB answers such an order with error 110."""
    ticks = price / info.min_tick
    nearest = round(ticks)
    if abs(ticks - nearest) > 1e-6:
        below = (nearest if nearest < ticks else nearest - 1) * info.min_tick
        decimals = max(0, len(f"{info.min_tick:.10f}".rstrip("0").split(".")[1]))
        raise OrderValidationError(
            f"{what} {price:g} is not on {info.symbol}'s {info.min_tick:g} tick; "
            f"use {below:.{decimals}f} or {below + info.min_tick:.{decimals}f}"
        )


def check_order(info: ContractInfo, request: OrderRequest) -> None:
    """Refuse what IB would refuse of this instrument: a price off its tick, a size off its lot."""
    if request.limit_price is not None:
        check_tick(info, request.limit_price, "Limit price")
    if request.stop_price is not None:
        check_tick(info, request.stop_price, "Stop price")
    lot = info.size_increment
    if lot > 1 and request.quantity % lot:
        below = request.quantity // lot * lot
        hint = f"use {below:,} or {below + lot:,}" if below else f"use {lot:,}"
        raise OrderValidationError(
            f"{request.symbol} trades in lots of {lot:,} shares, not {request.quantity:,}; {hint}"
        )
