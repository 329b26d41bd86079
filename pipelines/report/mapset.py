"""Draw the report's four maps from a run folder's outputs (I/O) into ``report/maps/``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.report.context import MapFigure
from pipelines.report.fmt import as_float
from pipelines.report.mapdata import class_names_from_tags, read_layer, read_raster
from pipelines.report.maps import change_map, continuous_map, land_cover_map

LAND_COVER_NODATA = (0.0, 255.0)
"""0 = not classified (``pipelines.satellite.classes.NODATA_CLASS``), 255 = outside the site."""


def draw_maps(
    run_dir: Path,
    maps_dir: Path,
    summary: Mapping[str, Any],
    parcel_rows: Sequence[Mapping[str, Any]],
) -> list[MapFigure]:
    """Land cover, carbon density, uncertainty and per-parcel removals as PNG files."""
    out, site = run_dir / "outputs", run_dir / "inputs" / "site"
    land = read_raster(out / "land_cover.tif", nodata=LAND_COVER_NODATA)
    crs = land.crs
    boundary = read_layer(site / "boundary.geojson", crs)
    parcels = read_layer(site / "parcels.geojson", crs)
    classes = class_names_from_tags(land.tags)
    if not classes:
        names = (summary.get("classification") or {}).get("classes") or []
        classes = {i: str(n) for i, n in enumerate(names, start=1)}
    land_cover_map(land, classes, boundary, parcels, maps_dir / "land_cover.png")

    density = read_raster(out / "carbon_density.tif")
    continuous_map(
        density.bands[0],
        density,
        boundary,
        parcels,
        maps_dir / "carbon_density.png",
        title="碳密度 Carbon density",
        label="碳密度 Carbon density (t C/ha)",
        cmap="YlGn",
    )

    bounds = read_raster(out / "carbon_uncertainty.tif")
    width = bounds.bands[1] - bounds.bands[0] if bounds.bands.shape[0] >= 2 else bounds.bands[0]
    continuous_map(
        width,
        bounds,
        boundary,
        parcels,
        maps_dir / "carbon_uncertainty.png",
        title="不确定性 Uncertainty (90 % 预测区间宽度 prediction-interval width)",
        label="90 % 预测区间宽度 PI width (t C/ha)",
        cmap="magma_r",
    )

    per_ha = {
        str(r.get("parcel_code")): as_float(r.get("removals_tco2e_per_ha_yr")) for r in parcel_rows
    }
    code_column = "code" if "code" in parcels.columns else "parcel_code"
    values = [per_ha.get(str(c)) for c in parcels[code_column]]
    parcels["removals_tco2e_per_ha_yr"] = [np.nan if v is None else v for v in values]
    change_map(
        parcels,
        "removals_tco2e_per_ha_yr",
        boundary,
        maps_dir / "removals.png",
        projected=land.projected,
    )

    rel = maps_dir.name
    return [
        MapFigure(
            f"{rel}/land_cover.png",
            "土地覆盖",
            "Land cover",
            "分类结果（像元）Classified pixels; 黑线为项目边界 black line: site boundary",
        ),
        MapFigure(
            f"{rel}/carbon_density.png",
            "碳密度",
            "Carbon density",
            "模型预测的碳密度 Model-predicted carbon density (t C/ha)",
        ),
        MapFigure(
            f"{rel}/carbon_uncertainty.png",
            "不确定性",
            "Uncertainty",
            "90 % 预测区间宽度（上限 − 下限）90 % prediction-interval width (upper − lower)",
        ),
        MapFigure(
            f"{rel}/removals.png",
            "地块清除量",
            "Removals per parcel",
            "按地块分配的保守清除量 Conservative removals attributed per parcel (t CO2e/ha/yr)",
        ),
    ]


__all__ = ["LAND_COVER_NODATA", "draw_maps"]
