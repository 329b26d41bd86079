"""``mrv satellite change``: disturbance patches between two composites, their area and carbon
lost, and the wetland no-net-loss balance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from mrv.errors import InputError
from mrv.raster import CogSpec, read_raster, write_cogs
from pipelines.satellite.change import CHANGE_CODES, NO_DATA, ChangeSpec, detect_change
from pipelines.satellite.cube import grid_of
from pipelines.satellite.outputs import Output
from pipelines.satellite.runs.common import grid_summary, write_summary


def read_composite(path: Path) -> xr.Dataset:
    """A composite COG written by ``mrv satellite composite`` (with its valid-count sibling)."""
    refl = read_raster(path)
    tags = refl.attrs.get("tags", {})
    season = str(tags.get("season", path.stem.removeprefix("composite_")))
    count_path = path.with_name(f"valid_count_{season}.tif")
    if count_path.exists():
        count = read_raster(count_path).isel(band=0, drop=True).astype(np.uint16)
    else:
        raise InputError(
            f"{path}: no {count_path.name} beside it; the valid-observation counts are needed "
            "to tell no-data pixels from change"
        )
    attrs = {
        "crs": refl.attrs["crs"],
        "transform": refl.attrs["transform"],
        "season": season,
        "start": tags.get("start", ""),
        "end": tags.get("end", ""),
        "dates": [d for d in str(tags.get("dates", "")).split(",") if d],
    }
    return xr.Dataset({"reflectance": refl.astype(np.float32), "valid_count": count}, attrs=attrs)


def _band0(path: Path | None, dtype: type) -> xr.DataArray | None:
    if path is None:
        return None
    return read_raster(path).isel(band=0, drop=True).astype(dtype)


def run_change(
    before: Path,
    after: Path,
    *,
    out_dir: Path,
    classes_before: Path | None = None,
    classes_after: Path | None = None,
    density_before: Path | None = None,
    spec: ChangeSpec | None = None,
) -> dict[str, Any]:
    """Detect change, write the change COG and the disturbance polygons, summarise."""
    if (classes_before is None) != (classes_after is None):
        raise InputError("give both --classes-before and --classes-after, or neither")
    b, a = read_composite(before), read_composite(after)
    result = detect_change(
        b,
        a,
        classes_before=_band0(classes_before, np.uint8),
        classes_after=_band0(classes_after, np.uint8),
        density_before=_band0(density_before, np.float32),
        spec=spec,
    )
    grid = grid_of(b)
    out_dir.mkdir(parents=True, exist_ok=True)
    raster_path = out_dir / "change.tif"
    codes = ",".join(f"{k}={v}" for k, v in CHANGE_CODES.items())
    (sha,) = write_cogs(
        [
            CogSpec(
                raster_path,
                result.filtered_raster(),
                grid.crs,
                grid.transform,
                NO_DATA,
                "uint8",
                ["change"],
                {"codes": codes},
            )
        ]
    )
    gpkg = out_dir / "disturbances.gpkg"
    geojson = out_dir / "disturbances.geojson"
    polygons = result.polygons
    if len(polygons):
        polygons.to_file(gpkg, driver="GPKG", layer="disturbances")
        result.polygons_wgs84().to_file(geojson, driver="GeoJSON")
    else:  # an empty but valid layer, so downstream tools need no special case
        empty = polygons.iloc[:0]
        empty.to_file(gpkg, driver="GPKG", layer="disturbances")
        geojson.write_text('{"type": "FeatureCollection", "features": []}\n', encoding="utf-8")
    summary: dict[str, Any] = {
        "command": "change",
        **result.summary,
        "grid": grid_summary(grid),
        "before": str(before),
        "after": str(after),
        "outputs": [
            {"file": raster_path.name, "sha256": sha},
            {"file": gpkg.name},
            {"file": geojson.name},
        ],
    }
    dates = pd.to_datetime([*b.attrs["dates"], *a.attrs["dates"]], errors="coerce").dropna()
    if len(dates) == 0:
        raise InputError(f"{before} and {after} carry no scene dates (tags 'dates')")
    start, end = dates.min().to_pydatetime(), dates.max().to_pydatetime()
    return write_summary(
        out_dir,
        summary,
        [
            Output(raster_path, "change", "Change codes", grid, {"codes": codes}),
            Output(gpkg, "disturbances", "Disturbance patches (grid CRS)", grid),
            Output(geojson, "disturbances", "Disturbance patches (WGS84)", grid),
        ],
        title="Change between composites",
        start=start,
        end=end,
    )
