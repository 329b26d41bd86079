"""Compare a re-computed output with the packaged one: bit for bit (``exact``) or, for
``numeric``, numbers within a declared tolerance and everything else equal (JSON values, CSV
cells, GeoTIFF arrays and georeferencing). Two numbers agree when
``|a − b| <= abs + rel·max(|a|, |b|)`` (the rule of :func:`math.isclose`); two NaNs agree.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

DEFAULT_REL = 1e-9
DEFAULT_ABS = 1e-9


@dataclass(frozen=True)
class Tolerance:
    """Relative and absolute tolerance of a numeric comparison."""

    rel: float = DEFAULT_REL
    abs: float = DEFAULT_ABS

    @classmethod
    def from_mapping(cls, data: Any) -> Tolerance:
        """From ``{"rel": .., "abs": ..}``; missing or non-numeric values take the defaults."""
        data = data if isinstance(data, Mapping) else {}
        rel, abs_ = data.get("rel"), data.get("abs")
        number = (int, float)
        return cls(
            float(rel) if isinstance(rel, number) and not isinstance(rel, bool) else DEFAULT_REL,
            float(abs_) if isinstance(abs_, number) and not isinstance(abs_, bool) else DEFAULT_ABS,
        )

    def close(self, a: float, b: float) -> bool:
        """Whether two numbers agree (NaN agrees with NaN, infinities with themselves)."""
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=self.rel, abs_tol=self.abs)

    def __str__(self) -> str:
        return f"rel {self.rel:g}, abs {self.abs:g}"


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def json_difference(a: Any, b: Any, tol: Tolerance, where: str = "$") -> str | None:
    """The first place where two JSON values differ beyond ``tol``, or None."""
    if _is_number(a) and _is_number(b):
        return None if tol.close(float(a), float(b)) else f"{where}: {b!r} vs {a!r} ({tol})"
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{where}: keys differ ({sorted(set(a) ^ set(b))})"
        for k in a:
            found = json_difference(a[k], b[k], tol, f"{where}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where}: {len(b)} items vs {len(a)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = json_difference(x, y, tol, f"{where}[{i}]")
            if found:
                return found
        return None
    return None if type(a) is type(b) and a == b else f"{where}: {b!r} vs {a!r}"


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def csv_difference(a: list[list[str]], b: list[list[str]], tol: Tolerance) -> str | None:
    """The first differing cell of two CSV tables (first row = header), or None."""
    if not a or not b or a[0] != b[0]:
        return f"header {b[0] if b else []} vs {a[0] if a else []}"
    if len(a) != len(b):
        return f"{len(b) - 1} rows vs {len(a) - 1}"
    header = a[0]
    for r, (row_a, row_b) in enumerate(zip(a[1:], b[1:], strict=True), start=2):
        if len(row_a) != len(row_b):
            return f"row {r}: {len(row_b)} cells vs {len(row_a)}"
        for c, (x, y) in enumerate(zip(row_a, row_b, strict=True)):
            fx, fy = _float(x), _float(y)
            numbers = fx is not None and fy is not None
            if not (tol.close(fx, fy) if fx is not None and fy is not None else x == y):
                column = header[c] if c < len(header) else str(c + 1)
                return f"row {r}, column {column}: {y!r} vs {x!r}" + (f" ({tol})" * numbers)
    return None


def array_difference(
    a: npt.NDArray[Any], b: npt.NDArray[Any], tol: Tolerance, what: str = "band"
) -> str | None:
    """How many cells of two arrays differ beyond ``tol`` (and the largest), or None."""
    if a.shape != b.shape:
        return f"{what}: shape {b.shape} vs {a.shape}"
    x, y = a.astype(np.float64), b.astype(np.float64)
    both_nan = np.isnan(x) & np.isnan(y)
    with np.errstate(invalid="ignore"):
        ok = (x == y) | (np.abs(x - y) <= tol.abs + tol.rel * np.maximum(np.abs(x), np.abs(y)))
    bad = ~(ok | both_nan)
    n = int(bad.sum())
    if n == 0:
        return None
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    diff = np.abs(x - y)[bad]
    largest = float(np.nanmax(diff)) if np.isfinite(diff).any() else math.nan
    return f"{what}: {n} cells differ beyond {tol}, first at {first}, largest difference {largest}"


def raster_difference(a: Path, b: Path, tol: Tolerance) -> str | None:
    """Differences of two GeoTIFFs: georeferencing, dtype and nodata equal, values within tol."""
    import rasterio

    with rasterio.open(a) as ra, rasterio.open(b) as rb:
        meta_a = (ra.count, ra.dtypes, ra.crs, (ra.height, ra.width))
        meta_b = (rb.count, rb.dtypes, rb.crs, (rb.height, rb.width))
        if meta_a != meta_b:
            return f"bands/dtypes/CRS/shape {meta_b} vs {meta_a}"
        if not _same_nodata(ra.nodata, rb.nodata):
            return f"nodata {rb.nodata} vs {ra.nodata}"
        if not all(tol.close(p, q) for p, q in zip(ra.transform, rb.transform, strict=True)):
            return f"transform {tuple(rb.transform)} vs {tuple(ra.transform)}"
        for band in range(1, ra.count + 1):
            found = array_difference(ra.read(band), rb.read(band), tol, f"band {band}")
            if found:
                return found
    return None


def _same_nodata(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b or (math.isnan(a) and math.isnan(b))


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def file_difference(packaged: Path, recomputed: Path, mode: str, tol: Tolerance) -> str | None:
    """Why ``recomputed`` does not reproduce ``packaged`` under ``mode`` (None when it does)."""
    if not recomputed.is_file():
        return "not produced by the re-run"
    if packaged.read_bytes() == recomputed.read_bytes():
        return None
    if mode != "numeric":
        return "re-computed bytes differ (compared bit for bit)"
    suffix = packaged.suffix.lower()
    try:
        if suffix == ".json":
            found = json_difference(
                json.loads(packaged.read_text("utf-8")), json.loads(recomputed.read_text("utf-8")),
                tol,
            )  # fmt: skip
        elif suffix == ".csv":
            found = csv_difference(_read_csv(packaged), _read_csv(recomputed), tol)
        elif suffix in (".tif", ".tiff"):
            found = raster_difference(packaged, recomputed, tol)
        else:
            return "re-computed bytes differ (no numeric comparison for this file type)"
    except (ValueError, OSError) as exc:  # unreadable JSON/CSV/raster (RasterioIOError is OSError)
        return f"cannot be compared: {exc}"
    return None if found is None else f"re-computed value differs at {found}"
