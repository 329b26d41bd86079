"""What every scene source shares: band names, warnings, time windows, grids, AOI clipping, and
assembling the scene cube of :mod:`pipelines.satellite.cube`."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
import pyproj
import xarray as xr
from pyproj.exceptions import CRSError
from rasterio.warp import transform_bounds

from mrv.errors import InputError
from pipelines.satellite.cube import BAND_RESOLUTION_M, Grid, check_cube, grid_attrs

DEFAULT_BANDS: tuple[str, ...] = (
    "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12",
)  # fmt: skip
"""The ten 10 m and 20 m Sentinel-2 bands used by the pipeline (no 60 m atmospheric bands)."""

REFLECTANCE_BANDS: frozenset[str] = frozenset(b for b in BAND_RESOLUTION_M if b != "SCL")
"""Every Sentinel-2 reflectance band (B10 exists only in L1C)."""

Bounds = tuple[float, float, float, float]
"""(left, bottom, right, top)."""

_BAND_RE = re.compile(r"B0?(\d{1,2})(A?)")


class SceneWarning(UserWarning):
    """Base class of the warnings a scene source emits."""


class NoCloudMaskWarning(SceneWarning):
    """The scenes carry no SCL and no cloud mask was given: clouds stay in the cube."""


class ScalingAssumptionWarning(SceneWarning):
    """The DN → reflectance offset was decided by the acquisition-date rule, not by metadata."""


def normalise_band(name: str) -> str | None:
    """Canonical Sentinel-2 name of a band label (``"b4"``, ``"B04"`` → ``"B04"``; ``"scl"`` →
    ``"SCL"``), or ``None`` when the label names no Sentinel-2 band."""
    text = name.strip().upper()
    if text == "SCL":
        return "SCL"
    match = _BAND_RE.fullmatch(text)
    if match is None:
        return None
    number = int(match[1])
    if match[2]:
        return "B8A" if number == 8 else None
    canonical = f"B{number:02d}"
    return canonical if canonical in REFLECTANCE_BANDS else None


def check_bands(bands: Sequence[str]) -> tuple[str, ...]:
    """Validate the requested reflectance bands; returns their canonical names in order."""
    if isinstance(bands, str):
        bands = [bands]
    out: list[str] = []
    for name in bands:
        canonical = normalise_band(str(name))
        if canonical == "SCL":
            raise InputError("SCL is not a reflectance band; it is returned as the 'scl' variable")
        if canonical is None:
            known = ", ".join(sorted(REFLECTANCE_BANDS))
            raise InputError(f"unknown band {name!r}; Sentinel-2 bands are {known}")
        if canonical in out:
            raise InputError(f"band {canonical} requested twice")
        out.append(canonical)
    if not out:
        raise InputError("no bands requested")
    return tuple(out)


def check_options(*, resolution: float, chunks: int) -> None:
    """Validate the grid options shared by every source."""
    if not (isinstance(resolution, int | float) and math.isfinite(resolution) and resolution > 0):
        raise InputError(f"resolution must be a positive number of metres, got {resolution!r}")
    if not isinstance(chunks, int) or chunks < 16:
        raise InputError(f"chunks must be an integer of at least 16 pixels, got {chunks!r}")


def time_window(time: tuple[str, str] | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """Parse ``(start, end)``; a date-only end includes that whole day. Times are naive UTC."""
    if time is None:
        return None
    if isinstance(time, str) or len(time) != 2:
        raise InputError(f"time must be a (start, end) pair, got {time!r}")
    try:
        start = pd.Timestamp(time[0])
        end = pd.Timestamp(time[1])
    except (ValueError, TypeError) as exc:
        raise InputError(f"time {time!r} is not a pair of dates: {exc}") from exc
    start = start.tz_convert(None) if start.tzinfo else start
    end = end.tz_convert(None) if end.tzinfo else end
    if end == end.normalize() and len(str(time[1]).strip()) <= 10:
        end = end + pd.Timedelta(days=1) - pd.Timedelta(nanoseconds=1)
    if end < start:
        raise InputError(f"time window ends before it starts: {time!r}")
    return start, end


def crs_string(crs: Any) -> str:
    """A canonical CRS string: ``"EPSG:n"`` when the CRS has an EPSG code, else its WKT."""
    try:
        parsed = pyproj.CRS.from_user_input(crs)
    except CRSError as exc:
        raise InputError(f"not a CRS: {crs!r} ({exc})") from exc
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg}" if epsg is not None else parsed.to_wkt()


def check_projected(crs: str) -> None:
    """The cube grid must be in a projected CRS with metre units."""
    parsed = pyproj.CRS.from_user_input(crs)
    unit = parsed.axis_info[0].unit_name if parsed.axis_info else ""
    if not parsed.is_projected or unit not in ("metre", "meter"):
        raise InputError(f"grid CRS {crs} is not a projected CRS in metres; pass crs='EPSG:326xx'")


def utm_crs(lon: float, lat: float) -> str:
    """The WGS84 / UTM zone CRS containing (lon, lat) (Huzhou: EPSG:32650 or 32651)."""
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def check_aoi(aoi: Any) -> Bounds:
    """Bounds of a WGS84 AOI geometry, validated."""
    bounds = getattr(aoi, "bounds", None)
    if bounds is None or len(bounds) != 4 or getattr(aoi, "is_empty", True):
        raise InputError("aoi must be a non-empty shapely geometry in WGS84 lon/lat")
    left, bottom, right, top = (float(v) for v in bounds)
    if not (-180 <= left <= right <= 180 and -90 <= bottom <= top <= 90):
        raise InputError(f"aoi bounds {bounds} are not WGS84 lon/lat degrees")
    return left, bottom, right, top


def to_crs(bounds: Bounds, src: str, dst: str) -> Bounds:
    """Bounds reprojected (densified edges) from ``src`` to ``dst``."""
    if src == dst:
        return bounds
    out = transform_bounds(src, dst, *bounds, densify_pts=21)
    return float(out[0]), float(out[1]), float(out[2]), float(out[3])


def union(bounds: Sequence[Bounds]) -> Bounds:
    """Smallest bounds containing all of ``bounds``."""
    return (
        min(b[0] for b in bounds),
        min(b[1] for b in bounds),
        max(b[2] for b in bounds),
        max(b[3] for b in bounds),
    )


def describe_extent(bounds: Bounds, crs: str) -> str:
    """Human-readable extent: lon/lat degrees, plus the native CRS numbers when projected."""
    lonlat = to_crs(bounds, crs, "EPSG:4326")
    text = (
        f"lon {lonlat[0]:.4f}–{lonlat[2]:.4f}, lat {lonlat[1]:.4f}–{lonlat[3]:.4f}"
    )  # fmt: skip
    if crs != "EPSG:4326":
        short = crs if len(crs) < 20 else "grid CRS"
        text += (
            f" ({short} x {bounds[0]:.0f}–{bounds[2]:.0f}, y {bounds[1]:.0f}–{bounds[3]:.0f})"
        )  # fmt: skip
    return text


def clip_to_aoi(extent: Bounds, crs: str, aoi: Any) -> Bounds:
    """The part of ``extent`` (in ``crs``) inside the AOI's bounding box; raises
    :class:`InputError` naming both extents when they do not overlap."""
    aoi_wgs84 = check_aoi(aoi)
    aoi_bounds = to_crs(aoi_wgs84, "EPSG:4326", crs)
    left = max(extent[0], aoi_bounds[0])
    bottom = max(extent[1], aoi_bounds[1])
    right = min(extent[2], aoi_bounds[2])
    top = min(extent[3], aoi_bounds[3])
    if left >= right or bottom >= top:
        raise InputError(
            f"the AOI ({describe_extent(aoi_wgs84, 'EPSG:4326')}) is outside the scenes "
            f"({describe_extent(extent, crs)})"
        )
    return left, bottom, right, top


def snap_grid(
    bounds: Bounds,
    crs: str,
    resolution: float,
    *,
    anchor: tuple[float, float] = (0.0, 0.0),
) -> Grid:
    """A north-up grid of ``resolution`` covering ``bounds``, its pixel edges on
    ``anchor + k·resolution`` (so a 10 m grid lines up with the source tiles' pixels)."""
    ax, ay = anchor
    eps = 1e-6
    left = ax + math.floor((bounds[0] - ax) / resolution + eps) * resolution
    right = ax + math.ceil((bounds[2] - ax) / resolution - eps) * resolution
    bottom = ay + math.floor((bounds[1] - ay) / resolution + eps) * resolution
    top = ay + math.ceil((bounds[3] - ay) / resolution - eps) * resolution
    width = round((right - left) / resolution)
    height = round((top - bottom) / resolution)
    if width < 1 or height < 1:
        raise InputError(f"the requested area is smaller than one {resolution} m pixel")
    transform = (float(resolution), 0.0, float(left), 0.0, -float(resolution), float(top))
    return Grid(crs, transform, int(width), int(height))


def block_starts(size: int, chunk: int) -> list[tuple[int, int]]:
    """(offset, length) of the blocks that split ``size`` pixels into ``chunk``-sized pieces."""
    return [(start, min(chunk, size - start)) for start in range(0, size, chunk)]


def assemble_cube(
    reflectance: da.Array,
    *,
    times: Sequence[pd.Timestamp] | pd.DatetimeIndex,
    bands: Sequence[str],
    grid: Grid,
    product_level: str,
    source: str,
    scl: da.Array | None = None,
    cloud_probability: da.Array | None = None,
) -> xr.Dataset:
    """Wrap lazy arrays into a scene cube and check it against the contract."""
    y, x = grid.coords()
    coords = {
        "time": pd.DatetimeIndex(list(times)).as_unit("ns").values,
        "band": np.array(list(bands), dtype=object),
        "y": y,
        "x": x,
    }
    data_vars: dict[str, tuple[tuple[str, ...], da.Array]] = {
        "reflectance": (("time", "band", "y", "x"), reflectance)
    }
    if scl is not None:
        data_vars["scl"] = (("time", "y", "x"), scl)
    if cloud_probability is not None:
        data_vars["cloud_probability"] = (("time", "y", "x"), cloud_probability)
    ds = xr.Dataset(data_vars, coords=coords)
    ds.attrs.update(grid_attrs(grid))
    ds.attrs["product_level"] = product_level
    ds.attrs["source"] = source
    check_cube(ds, bands=bands)
    return ds
