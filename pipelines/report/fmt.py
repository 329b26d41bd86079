"""Number formatting for the report (pure): thousands separators, fixed decimals, a dash for
missing values. Every formatted number of the report goes through these functions, so the tests
can format the expected values the same documented way."""

from __future__ import annotations

import math
from typing import Any

MISSING = "—"
"""Shown where a value is absent, ``None`` or not finite."""


def as_float(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` (absent, ``None``, text, NaN, inf)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def num(value: Any, decimals: int = 1) -> str:
    """``12345.678`` → ``"12,345.7"`` (comma thousands separator, ``decimals`` places)."""
    x = as_float(value)
    if x is None:
        return MISSING
    if round(x, decimals) == 0:
        x = 0.0  # no "-0.0"
    return f"{x:,.{decimals}f}"


def integer(value: Any) -> str:
    """``12345`` → ``"12,345"`` (rounded half to even if not whole)."""
    x = as_float(value)
    return MISSING if x is None else f"{round(x):,d}"


def pct(value: Any, decimals: int = 1) -> str:
    """A share as a percentage: ``0.1234`` → ``"12.3 %"``."""
    x = as_float(value)
    return MISSING if x is None else f"{x * 100:,.{decimals}f} %"


def plus_minus(value: Any, half_width: Any, decimals: int = 1) -> str:
    """``"12,345.7 ± 1,234.5"``; the value alone when the half-width is missing."""
    hw = as_float(half_width)
    head = num(value, decimals)
    return head if hw is None else f"{head} ± {num(hw, decimals)}"


def interval(low: Any, high: Any, decimals: int = 1) -> str:
    """``"[11,111.2, 13,580.2]"``, or a dash when either bound is missing."""
    lo, hi = as_float(low), as_float(high)
    if lo is None or hi is None:
        return MISSING
    return f"[{num(lo, decimals)}, {num(hi, decimals)}]"


__all__ = ["MISSING", "as_float", "integer", "interval", "num", "pct", "plus_minus"]
