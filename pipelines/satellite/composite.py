"""Seasonal median composites with a per-pixel count of valid observations (QA layer).

For each pixel and band the composite is the median of the observations of the season that the
mask (:mod:`pipelines.satellite.mask`) leaves clear and that are finite; ``valid_count`` says how
many observations entered (the largest count over the bands; the bands of one observation are
normally valid together). A pixel with no valid observation is NaN with ``valid_count`` 0 — never
a zero reflectance. If *no* pixel of the area has a valid observation in the season (an all-cloud
period), :func:`composite` raises :class:`InputError` naming the season and the dates looked at.

The median is computed by a compiled sorting-network kernel (:mod:`pipelines.satellite._kernels`)
on whole dask blocks: one task per pixel window receives the blocks of all dates of the season
and reads them in place, so a task holds ``dates × bands × rows × columns`` values (at most
:data:`BLOCK_BYTES`; larger windows are split into fewer bands or rows) and memory does not grow
with the area. The graph stays lazy. Only the mask is computed when :func:`composite` is
called (a cheap pass over SCL or cloud probability; over the reflectance only when there is no
mask band) to detect an all-cloud season and to record the share of pixels left without data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import dask.array as da
import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr
from dask.base import compute as dask_compute

from mrv.errors import InputError, Problem
from pipelines.satellite._kernels import median_count_block
from pipelines.satellite.cube import check_cube
from pipelines.satellite.mask import MaskSpec, valid_mask

__all__ = ["Season", "composite", "median_composite_numpy"]

BLOCK_BYTES = 128 * 2**20
"""Most input bytes (all dates of a block) one compositing task may hold; larger blocks are
split by band, then by rows."""

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


def _parse_bound(value: date | str, what: str) -> date | tuple[int, int]:
    """A season bound: a :class:`date` (``YYYY-MM-DD``) or a (month, day) pair (``MM-DD``)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    m = _MONTH_DAY.match(text)
    try:
        if m:
            month, day = int(m.group(1)), int(m.group(2))
            date(2000, month, day)  # validates, leap year allows 02-29
            return (month, day)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(
            f"season {what} {value!r} is neither a date YYYY-MM-DD nor a month-day MM-DD"
        ) from exc


@dataclass(frozen=True)
class Season:
    """A named window of dates: ``start``..``end`` inclusive.

    Either two dates (``date`` or ``"2024-04-01"``) — one period — or two month-days
    (``"04-01"``, ``"05-31"``) — that window in every year of the cube; a month-day window with
    ``start`` after ``end`` wraps over the new year (``Season("winter", "12-01", "02-28")``).
    """

    name: str
    start: date | str
    end: date | str

    def __post_init__(self) -> None:
        start = _parse_bound(self.start, "start")
        end = _parse_bound(self.end, "end")
        if isinstance(start, date) != isinstance(end, date):
            raise InputError(
                f"season {self.name!r}: start and end must both be dates or both month-days"
            )
        if isinstance(start, date) and isinstance(end, date) and end < start:
            raise InputError(f"season {self.name!r}: end {end} is before start {start}")

    @property
    def recurring(self) -> bool:
        """True for a month-day window (every year), false for a single dated period."""
        return not isinstance(_parse_bound(self.start, "start"), date)

    def label(self) -> str:
        """``start … end`` as written in attributes and messages (``2024-04-01`` / ``04-01``)."""
        return f"{self._text(self.start)} … {self._text(self.end)}"

    @staticmethod
    def _text(value: date | str) -> str:
        bound = _parse_bound(value, "bound")
        if isinstance(bound, date):
            return bound.isoformat()
        return f"{bound[0]:02d}-{bound[1]:02d}"

    def contains(self, times: pd.Index | npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Which of ``times`` (compared by calendar date) fall in the season."""
        idx = pd.DatetimeIndex(np.asarray(times, dtype="datetime64[ns]"))
        start = _parse_bound(self.start, "start")
        end = _parse_bound(self.end, "end")
        if isinstance(start, date) and isinstance(end, date):
            days = idx.normalize()
            return np.asarray((days >= pd.Timestamp(start)) & (days <= pd.Timestamp(end)))
        if isinstance(start, tuple) and isinstance(end, tuple):
            md = np.asarray(idx.month * 100 + idx.day)
            lo, hi = start[0] * 100 + start[1], end[0] * 100 + end[1]
            if lo <= hi:
                return (md >= lo) & (md <= hi)
            return (md >= lo) | (md <= hi)
        raise InputError(f"season {self.name!r}: mixed date and month-day bounds")


def median_composite_numpy(
    values: npt.NDArray[np.floating], valid: npt.NDArray[np.bool_] | None = None
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint16]]:
    """Median over time of a ``(t, b, y, x)`` array with NaN gaps, and the count per pixel.

    The same compiled kernel as :func:`composite`, on numpy arrays: returns the ``(b, y, x)``
    float32 median of the finite values (equal to :func:`numpy.nanmedian` over axis 0, including
    even counts = mean of the two middle values; NaN where none) and the ``(y, x)`` uint16 count
    of observations that entered (largest over bands). ``valid`` (``(t, y, x)`` bool) masks
    observations in addition to NaN.
    """
    arr = np.asarray(values, dtype=np.float32)
    if arr.ndim != 4:
        raise InputError(f"values must be (time, band, y, x), got shape {arr.shape}")
    ok = np.ones((arr.shape[0], arr.shape[2], arr.shape[3]), np.bool_) if valid is None else valid
    out = median_count_block(arr, np.asarray(ok, dtype=np.bool_))
    return out[0], out[1].max(axis=0, initial=0).astype(np.uint16)


def _mask_description(cube: xr.Dataset, spec: MaskSpec) -> str:
    if "scl" in cube:
        text = f"scl classes {sorted(spec.masked_classes)} masked"
    elif "cloud_probability" in cube:
        text = f"cloud_probability > {spec.probability_threshold} masked"
    else:
        return "no cloud mask: every finite observation used"
    if spec.dilate_px:
        text += f", dilated {spec.dilate_px} px"
    return text


def _fit_budget(arr: da.Array, budget: int) -> da.Array:
    """Rechunk a (time, band, y, x) array so all dates of one block hold at most ``budget`` bytes.

    Bands are split first (slicing a one-date block along bands gives contiguous views, no copy;
    each band's median is independent), rows only if one band of a block is still too large.
    """
    t, item = arr.shape[0], arr.dtype.itemsize
    per_band = t * max(arr.chunks[2], default=0) * max(arr.chunks[3], default=0) * item
    bands = max(1, budget // max(per_band, 1))
    if max(arr.chunks[1], default=0) > bands:
        arr = arr.rechunk({1: int(bands)})
    if per_band > budget:
        rows = max(1, budget // max(t * max(arr.chunks[3]) * item, 1))
        arr = arr.rechunk({2: int(rows)})
    return arr


def composite(cube: xr.Dataset, season: Season, *, mask: MaskSpec | None = None) -> xr.Dataset:
    """The median composite of ``cube`` over ``season`` (Composite contract, cube.py).

    Returns a lazy Dataset with ``reflectance`` (band, y, x) float32 and ``valid_count`` (y, x)
    uint16, attributes ``season``, ``start``, ``end``, ``crs``, ``transform``, ``dates`` (the
    dates looked at), ``clear_fraction`` (per date, share of pixels the mask leaves clear),
    ``nodata_fraction`` (share of pixels the mask leaves without any clear observation; those are
    NaN with ``valid_count`` 0), ``mask`` (what was masked) and the cube's ``product_level`` and
    ``source``.

    Raises :class:`InputError` if the season holds none of the cube's dates, or if no pixel has
    a clear observation on any of its dates (an all-cloud season: the error names the dates).
    The mask is computed here (SCL/cloud probability only; reflectance is read when the result
    is computed); the median is not.
    """
    spec = mask if mask is not None else MaskSpec()
    check_cube(cube)
    times = cube.indexes["time"]
    inside = season.contains(times)
    where = f"season {season.name!r} ({season.label()})"
    if not inside.any():
        span = f"{times[0]:%Y-%m-%d} … {times[-1]:%Y-%m-%d}" if len(times) else "none"
        raise InputError(
            f"{where} contains none of the cube's {len(times)} dates ({span})",
            [Problem(reason="no scene dates in the season", feature=season.name)],
        )
    picked = np.flatnonzero(inside)
    contiguous = picked[-1] - picked[0] + 1 == picked.size
    # a slice keeps the dask blocks as they are; fancy indexing would copy them
    sub = cube.isel(time=slice(picked[0], picked[-1] + 1) if contiguous else picked)
    dates = [f"{t:%Y-%m-%d}" for t in sub.indexes["time"]]
    valid = valid_mask(sub, spec)

    clear_px, clear_by_date = dask_compute(valid.any("time").sum(), valid.sum(("y", "x")))
    n_px = int(valid.sizes["y"] * valid.sizes["x"])
    clear_fraction = [round(float(c) / n_px, 6) for c in np.asarray(clear_by_date)]
    if int(clear_px) == 0:
        masked = _mask_description(sub, spec)
        raise InputError(
            f"{where}: no pixel of the area has a clear observation on any of the "
            f"{len(dates)} dates looked at ({', '.join(dates)}); mask: {masked}",
            [
                Problem(reason="every pixel masked (cloud, shadow or no data)", feature=d)
                for d in dates
            ],
        )

    refl = sub["reflectance"].data
    if not isinstance(refl, da.Array):
        refl = da.from_array(refl, chunks=(-1, -1, 1024, 1024))
    refl = _fit_budget(refl, BLOCK_BYTES)
    vmask = valid.data
    if not isinstance(vmask, da.Array):
        vmask = da.from_array(vmask, chunks=-1)
    vmask = vmask.rechunk({0: refl.chunks[0], 1: refl.chunks[2], 2: refl.chunks[3]})
    # all dates of a pixel window go to one task as a list of blocks (concatenate=False):
    # the kernel reads them in place
    out = da.blockwise(
        median_count_block, "sbyx",
        refl, "tbyx",
        vmask, "tyx",
        new_axes={"s": 2},
        concatenate=False,
        dtype=np.float32,
        meta=np.empty((0, 0, 0, 0), dtype=np.float32),
    )  # fmt: skip
    median = out[0]
    count = out[1].max(axis=0).astype(np.uint16)

    base = sub["reflectance"]
    coords = {k: v for k, v in base.coords.items() if "time" not in v.dims}
    attrs: dict[str, object] = {
        "season": season.name,
        "start": Season._text(season.start),
        "end": Season._text(season.end),
        "crs": cube.attrs["crs"],
        "transform": list(cube.attrs["transform"]),
        "dates": dates,
        "clear_fraction": clear_fraction,
        "nodata_fraction": round(1.0 - int(clear_px) / n_px, 6),
        "mask": _mask_description(sub, spec),
    }
    for key in ("product_level", "source"):
        if key in cube.attrs:
            attrs[key] = cube.attrs[key]
    return xr.Dataset(
        {
            "reflectance": (("band", "y", "x"), median),
            "valid_count": (("y", "x"), count),
        },
        coords=coords,
        attrs=attrs,
    )
