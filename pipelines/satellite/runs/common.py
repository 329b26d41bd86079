"""What every satellite run shares: scene options, seasons, the AOI mask, writing outputs."""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr
from shapely.geometry.base import BaseGeometry

from mrv.errors import InputError
from mrv.geo import read_boundary
from pipelines.satellite.composite import Season, composite, median_composite_numpy
from pipelines.satellite.cube import Grid, grid_of
from pipelines.satellite.features import build_features
from pipelines.satellite.mask import MaskSpec
from pipelines.satellite.outputs import Output, write_catalog
from pipelines.satellite.sources import DEFAULT_BANDS, SceneWarning, load_scenes

DEFAULT_SEASONS: tuple[Season, ...] = (
    Season("spring", "03-01", "05-31"),
    Season("summer", "06-01", "08-31"),
    Season("autumn", "09-01", "11-30"),
    Season("winter", "12-01", "02-28"),
)
"""Month-day seasons; spring and winter separate moso bamboo (remote-sensing.md §3), summer
holds the paddy flooding and growth."""


def parse_season(text: str) -> Season:
    """``NAME:START:END`` with dates (``2024-03-01``) or month-days (``03-01``)."""
    parts = text.split(":")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise InputError(f"season {text!r} is not NAME:START:END (e.g. spring:03-01:05-31)")
    name, start, end = (p.strip() for p in parts)
    return Season(name, start, end)


@dataclass(frozen=True)
class SceneOptions:
    """Where the scenes come from and which part of them to use."""

    sources: Sequence[str | Path]
    aoi: Path | None = None
    aoi_datum: str = "wgs84"
    time: tuple[str, str] | None = None
    bands: Sequence[str] = DEFAULT_BANDS
    mask: MaskSpec = field(default_factory=MaskSpec)
    chunks: int = 512
    cloud_mask: Path | None = None

    def aoi_geometry(self) -> BaseGeometry | None:
        """The AOI in WGS84, or None."""
        return read_boundary(self.aoi, self.aoi_datum) if self.aoi is not None else None

    def load(self) -> tuple[xr.Dataset, list[str]]:
        """The lazy scene cube clipped to the AOI's bounding box, and the sources' warnings
        (e.g. an L1C product without a cloud mask, an assumed processing baseline)."""
        if not self.sources:
            raise InputError("no scenes given (--scenes PATH)")
        source: Any = list(self.sources) if len(self.sources) > 1 else self.sources[0]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SceneWarning)
            cube = load_scenes(
                source,
                bands=self.bands,
                aoi=self.aoi_geometry(),
                time=self.time,
                chunks=self.chunks,
                cloud_mask=self.cloud_mask,
            )
        notes = [str(w.message) for w in caught if issubclass(w.category, SceneWarning)]
        for w in caught:  # anything else is passed on unchanged
            if not issubclass(w.category, SceneWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return cube, notes


def seasonal_composites(
    cube: xr.Dataset,
    seasons: Sequence[Season],
    *,
    mask: MaskSpec,
    explicit: bool,
) -> tuple[dict[str, xr.Dataset], list[str]]:
    """Median composites of the seasons that have scenes; warnings for default seasons skipped.

    An explicitly requested season without scenes, or without any clear observation, is an
    error; a default season without scenes is skipped with a warning.
    """
    times = pd.DatetimeIndex(cube["time"].values)
    out: dict[str, xr.Dataset] = {}
    notes: list[str] = []
    for season in seasons:
        if not season.contains(times).any():
            if explicit:
                raise InputError(
                    f"season {season.name!r} ({season.label()}) has no scenes; scene dates "
                    f"are {', '.join(str(t.date()) for t in times)}"
                )
            notes.append(f"season {season.name!r} ({season.label()}) has no scenes: skipped")
            continue
        out[season.name] = composite(cube, season, mask=mask)
    if not out:
        raise InputError("none of the seasons has scenes")
    return out, notes


def _median_block(block: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return median_composite_numpy(block)[0]


def seasonal_filler(composites: Mapping[str, xr.Dataset]) -> xr.DataArray:
    """Per pixel and band, the median of the seasons' composites (NaN seasons skipped), by the
    compiled median kernel of the composites (numpy's NaN median is ten times slower)."""
    arrays = [c["reflectance"] for c in composites.values()]
    first = arrays[0]
    data = [a.data if isinstance(a.data, da.Array) else da.from_array(a.data) for a in arrays]
    stack = da.stack([d.rechunk(data[0].chunks) for d in data]).rechunk({0: -1, 1: -1})
    median = da.map_blocks(_median_block, stack, drop_axis=0, dtype=np.float32)
    return first.copy(data=median)


def fill_gaps(
    composites: Mapping[str, xr.Dataset], filler: xr.DataArray | None = None
) -> tuple[dict[str, xr.Dataset], dict[str, float]]:
    """Fill each season's pixels without a clear observation from ``filler``.

    A season's no-data pixels (``valid_count`` 0, typically 1-10 % under persistent cloud) would
    otherwise leave holes in the class and carbon maps. The default filler is the median of the
    other seasons' composites (:func:`seasonal_filler`): the closest available observation of the
    same surface, at no extra read of the scenes. ``valid_count`` keeps 0 there, so the QA layer
    still shows the gap, and the filled fraction is reported. Pixels never clear in any season
    stay NaN.
    """
    fill = seasonal_filler(composites) if filler is None else filler
    filled: dict[str, xr.Dataset] = {}
    fractions: dict[str, float] = {}
    for name, comp in composites.items():
        gap = comp["valid_count"] == 0
        out = comp.copy()
        out["reflectance"] = comp["reflectance"].where(~gap, fill).astype(np.float32)
        out.attrs = dict(comp.attrs)
        out.attrs["gap_filled_fraction"] = float(comp.attrs.get("nodata_fraction", 0.0))
        out.attrs["gap_fill"] = "median of the other seasons where this season has no clear view"
        filled[name] = out
        fractions[name] = out.attrs["gap_filled_fraction"]
    return filled, fractions


def features_of(composites: Mapping[str, xr.Dataset]) -> xr.DataArray:
    """The multi-season feature stack (bands and indices of every season)."""
    return build_features(composites)


def seasonal_features(
    options: SceneOptions, seasons: Sequence[Season], *, explicit_seasons: bool
) -> tuple[xr.Dataset, dict[str, xr.Dataset], xr.DataArray, list[str]]:
    """Scenes → seasonal composites (gaps filled) → features, with every warning on the way."""
    cube, scene_notes = options.load()
    composites, season_notes = seasonal_composites(
        cube, seasons, mask=options.mask, explicit=explicit_seasons
    )
    composites, filled = fill_gaps(composites)
    notes = scene_notes + season_notes
    notes += [
        f"season {k!r}: {v:.1%} of pixels had no clear observation and were filled from the "
        "median of the other seasons (valid_count 0 in the QA layer)"
        for k, v in filled.items()
        if v > 0
    ]
    return cube, composites, features_of(composites), notes


def aoi_mask(like: xr.DataArray, aoi: BaseGeometry | None) -> xr.DataArray | None:
    """Lazy boolean (y, x) mask of the pixels whose centre is inside the AOI (None: no AOI)."""
    if aoi is None:
        return None
    import geopandas as gpd

    from pipelines.satellite.zonal import rasterize_zones

    zones = gpd.GeoDataFrame({"zone": [1]}, geometry=[aoi], crs="EPSG:4326")
    return rasterize_zones(zones, like) > 0


def write_summary(
    out_dir: Path,
    summary: dict[str, Any],
    outputs: Sequence[Output],
    *,
    title: str,
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """Write ``summary.json`` and the STAC catalog of all outputs (the summary included)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "summary.json"
    path.write_text(
        json.dumps(summary, ensure_ascii=False, indent=2, allow_nan=False, default=_json) + "\n",
        encoding="utf-8",
    )
    catalog = write_catalog(
        out_dir,
        [*outputs, Output(path, "summary", "Run summary (JSON)")],
        title=title,
        start=start,
        end=end,
    )
    summary["catalog"] = str(catalog)
    return summary


def _json(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def time_span(composites: Mapping[str, xr.Dataset], cube: xr.Dataset) -> tuple[datetime, datetime]:
    """First and last scene date used."""
    times = pd.DatetimeIndex(cube["time"].values)
    return times.min().to_pydatetime(), times.max().to_pydatetime()


def grid_summary(grid: Grid) -> dict[str, Any]:
    """The grid as JSON."""
    return {
        "crs": grid.crs,
        "transform": list(grid.transform),
        "width": grid.width,
        "height": grid.height,
        "pixel_area_ha": grid.pixel_area_ha,
    }


__all__ = [
    "DEFAULT_SEASONS",
    "SceneOptions",
    "aoi_mask",
    "features_of",
    "grid_of",
    "grid_summary",
    "parse_season",
    "seasonal_composites",
    "seasonal_features",
    "time_span",
    "write_summary",
]
