"""Money and shares, exactly: decimal yuan outside, integers inside.

Amounts are integer fen (0.01 yuan), prices per mu integer li (0.001 yuan: Anji's collection
price is ¥16.926/mu/yr, registries.md §2.5), shares integer basis points (8000 = 80 %). Floats
are refused: a value must be a Decimal, a decimal string or an int.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from mrv.errors import RegistryInputError

BP_PER_UNIT = 10_000
FEN = Decimal("0.01")
"""One fen, the smallest amount paid."""
MAX_YUAN = Decimal(10) ** 12
"""Amounts from a trillion yuan up are refused (they would not fit the 64-bit fen/li columns
exactly, and no carbon-credit amount comes near)."""


def decimal_value(value: Decimal | str | int, field: str) -> Decimal:
    """``value`` as a finite Decimal (floats and booleans refused, naming ``field``)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise RegistryInputError(
            f"{field} must be a decimal string or Decimal, got {value!r}", field=field
        )
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation as exc:
        raise RegistryInputError(f"{field} {value!r} is not a number", field=field) from exc
    if not number.is_finite():
        raise RegistryInputError(f"{field} must be a finite number", field=field)
    if abs(number) >= MAX_YUAN:
        raise RegistryInputError(f"{field} {value!r} is too large (≥ 10^12)", field=field)
    return number


def to_fen(value: Decimal | str | int, field: str, *, allow_zero: bool = True) -> int:
    """Decimal yuan → integer fen, refusing more than 2 decimal places or negatives."""
    amount = decimal_value(value, field)
    if amount != amount.quantize(Decimal("0.01")):
        raise RegistryInputError(f"{field} must have at most 2 decimals: {value}", field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise RegistryInputError(f"{field} must be positive: {value}", field=field)
    return int(amount * 100)


def yuan(fen: int | None) -> str | None:
    """Integer fen → decimal yuan string with 2 places (``1693`` → ``"16.93"``)."""
    return None if fen is None else str((Decimal(fen) / 100).quantize(Decimal("0.01")))


def yuan_to_li(value: Decimal | str | int, field: str) -> int:
    """Decimal yuan → integer li (0.001 yuan), exactly (``"16.926"`` → 16926)."""
    amount = decimal_value(value, field)
    li = amount * 1000
    if li != li.to_integral_value():
        raise RegistryInputError(
            f"{field} {value} yuan is not a whole number of li (0.001 yuan)", field=field
        )
    if amount < 0:
        raise RegistryInputError(f"{field} must not be negative", field=field)
    return int(li)


def li_to_yuan(li: int) -> str:
    """Integer li → decimal yuan string with 3 places (``16926`` → ``"16.926"``)."""
    return str((Decimal(li) / 1000).quantize(Decimal("0.001")))


def share_to_bp(value: Decimal | str | int, field: str) -> int:
    """A fraction 0–1 → basis points, exactly (``"0.8"`` → 8000)."""
    bp = decimal_value(value, field) * BP_PER_UNIT
    if bp != bp.to_integral_value() or not 0 <= bp <= BP_PER_UNIT:
        raise RegistryInputError(
            f"{field} {value} must be a fraction from 0 to 1 in steps of 0.0001", field=field
        )
    return int(bp)
