"""Vectorised parsing of text cells into typed columns, reporting every bad cell."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from methodologies.schema import Column

_TRUE = {"true", "yes", "y", "1", "是", "t"}
_FALSE = {"false", "no", "n", "0", "否", "f"}


@dataclass(frozen=True)
class Parsed:
    """A parsed column and the positions of the cells that failed."""

    values: pd.Series
    empty: npt.NDArray[np.bool_]
    """Cell was blank."""
    invalid: npt.NDArray[np.bool_]
    """Cell was not blank but could not be parsed (or is not an allowed choice)."""
    reason: str
    """Why invalid cells failed, e.g. ``"not a number"``."""


def as_text(series: pd.Series) -> pd.Series:
    """Cells as stripped strings; integral numbers from Excel lose their ``.0``."""
    if pd.api.types.is_string_dtype(series) and series.dtype != object:
        return series.str.strip()
    values = series.to_numpy(dtype=object)
    kinds = {type(v) for v in values}
    if kinds <= {str}:
        return pd.Series(values, index=series.index, dtype=str).str.strip()

    def _one(v: object) -> str:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, pd.Timestamp):
            return v.strftime("%Y-%m-%d")
        return str(v).strip()

    return pd.Series([_one(v) for v in values], index=series.index, dtype=str)


def _normalise_date(text: pd.Series) -> pd.Series:
    return (
        text.str.replace("年", "-", regex=False)
        .str.replace("月", "-", regex=False)
        .str.replace("日", "", regex=False)
        .str.replace(r"[./]", "-", regex=True)
    )


_DATE_RE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?$")


def parse_column(raw: pd.Series, column: Column) -> Parsed:
    """Parse one column's cells to ``column.kind`` (vectorised)."""
    text = as_text(raw)
    empty = (text == "").to_numpy()
    if column.kind in ("float", "int"):
        values = pd.to_numeric(text.where(~empty, None), errors="coerce").astype("float64")
        invalid = values.isna().to_numpy() & ~empty
        invalid |= ~np.isfinite(values.to_numpy()) & ~values.isna().to_numpy()
        reason = "not a number"
        if column.kind == "int":
            arr = values.to_numpy()
            frac = np.isfinite(arr) & (np.floor(arr) != arr)
            invalid |= frac
            reason = "not a whole number"
        return Parsed(values, empty, invalid, reason)
    if column.kind == "date":
        norm = _normalise_date(text)
        shaped = norm.str.match(_DATE_RE).fillna(False).to_numpy(dtype=bool)
        dates = pd.to_datetime(norm.where(shaped & ~empty, None), errors="coerce")
        invalid = (dates.isna().to_numpy() & ~empty) | (~shaped & ~empty)
        return Parsed(dates, empty, invalid, "not a date (use YYYY-MM-DD)")
    if column.kind == "bool":
        low = text.str.lower()
        is_true = low.isin(_TRUE).to_numpy()
        is_false = low.isin(_FALSE).to_numpy()
        flags = pd.Series([None] * len(low), index=raw.index, dtype=object)
        flags[is_true] = True
        flags[is_false] = False
        invalid = ~(is_true | is_false) & ~empty
        return Parsed(flags, empty, invalid, "not true/false")
    # text
    if column.choices is not None:
        low = text.str.lower()
        invalid = ~low.isin(column.choices).to_numpy() & ~empty
        return Parsed(
            low.where(~empty, None),
            empty,
            invalid,
            f"not one of {', '.join(column.choices)}",
        )
    return Parsed(text.where(~empty, None), empty, np.zeros(len(text), dtype=bool), "")
