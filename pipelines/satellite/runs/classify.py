"""``mrv satellite classify``: land-cover strata, their accuracy and their areas."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import rasterio
from rasterio import features as rio_features
from shapely.geometry import shape

from mrv.errors import InputError
from mrv.raster import CogSpec, write_cogs
from mrv.units import ha_to_mu
from pipelines.satellite.areas import area_estimates
from pipelines.satellite.classes import NODATA_CLASS, LandCoverClass, class_table
from pipelines.satellite.classify import ModelName, predict_classes, train_classifier
from pipelines.satellite.composite import Season
from pipelines.satellite.cube import Grid, grid_of
from pipelines.satellite.outputs import Output
from pipelines.satellite.runs.common import (
    SceneOptions,
    aoi_mask,
    grid_summary,
    seasonal_features,
    time_span,
    write_summary,
)
from pipelines.satellite.samples import CODE_COLUMN, extract_samples, read_labels

STRATA_MIN_PX = 10
"""Patches of fewer pixels are merged into their neighbours before vectorising (0.1 ha)."""


def class_at_points(
    class_map: npt.NDArray[np.uint8], grid: Grid, points: gpd.GeoDataFrame
) -> npt.NDArray[np.uint8]:
    """Map class at each point (0 outside the grid)."""
    pts = points.to_crs(grid.crs) if points.crs is not None else points
    xs = np.asarray(pts.geometry.centroid.x, dtype=np.float64)
    ys = np.asarray(pts.geometry.centroid.y, dtype=np.float64)
    col, row = ~grid.affine * (xs, ys)
    col = np.floor(col).astype(np.int64)
    row = np.floor(row).astype(np.int64)
    inside = (col >= 0) & (col < grid.width) & (row >= 0) & (row < grid.height)
    out = np.zeros(len(points), dtype=np.uint8)
    out[inside] = class_map[row[inside], col[inside]]
    return out


def sample_confusion(
    map_codes: npt.NDArray[np.uint8],
    reference_codes: npt.NDArray[np.integer[Any]],
    classes: Sequence[LandCoverClass],
) -> npt.NDArray[np.int64]:
    """Counts n_ij of sample units mapped as class i with reference class j."""
    codes = [c.code for c in classes]
    index = np.full(256, -1, dtype=np.int64)
    index[codes] = np.arange(len(codes))
    i = index[map_codes]
    j = index[np.asarray(reference_codes, dtype=np.int64)]
    ok = (i >= 0) & (j >= 0)
    k = len(codes)
    return np.bincount(i[ok] * k + j[ok], minlength=k * k).reshape(k, k)


def strata_polygons(
    class_map: npt.NDArray[np.uint8], grid: Grid, classes: Sequence[LandCoverClass]
) -> gpd.GeoDataFrame:
    """The class map as polygons (patches under :data:`STRATA_MIN_PX` merged first)."""
    sieved = rio_features.sieve(class_map, size=STRATA_MIN_PX, connectivity=8)
    names = {c.code: c.name for c in classes}
    records = [
        (int(v), shape(geom))
        for geom, v in rio_features.shapes(
            sieved, mask=sieved != NODATA_CLASS, connectivity=8, transform=grid.affine
        )
    ]
    codes = [r[0] for r in records]
    frame = gpd.GeoDataFrame(
        {"class_code": codes, "land_cover": [names.get(c, str(c)) for c in codes]},
        geometry=[r[1] for r in records],
        crs=grid.crs,
    )
    frame["area_ha"] = frame.geometry.area / 10_000.0
    return frame


def run_classify(
    options: SceneOptions,
    *,
    seasons: Sequence[Season],
    explicit_seasons: bool,
    labels: Path,
    label_column: str,
    out_dir: Path,
    class_names: Sequence[str] | None = None,
    assessment: Path | None = None,
    assessment_column: str | None = None,
    block_size_m: float = 500.0,
    folds: int = 5,
    model: ModelName = "auto",
) -> dict[str, Any]:
    """Train on the labels with spatial-block CV, map the classes, estimate their areas."""
    classes = class_table(class_names)
    cube, composites, feats, notes = seasonal_features(
        options, seasons, explicit_seasons=explicit_seasons
    )
    grid = grid_of(feats)
    label_frame = read_labels(labels, label_column=label_column, classes=classes)
    table = extract_samples(
        feats, label_frame, label_column=label_column, classes=classes, block_size_m=block_size_m
    )
    result = train_classifier(table, model=model, folds=folds)
    class_map = predict_classes(result.model, feats)
    inside = aoi_mask(class_map, options.aoi_geometry())
    if inside is not None:
        class_map = class_map.where(inside, NODATA_CLASS).astype(np.uint8)
    map_path = out_dir / "land_cover.tif"
    names = ",".join(f"{c.code}={c.name}" for c in classes)
    (map_sha,) = write_cogs(
        [
            CogSpec(
                map_path,
                class_map,
                grid.crs,
                grid.transform,
                NODATA_CLASS,
                "uint8",
                ["land_cover"],
                {"classes": names},
            )
        ]
    )
    with rasterio.open(map_path) as src:  # the written map, not a second run of the model
        mapped: npt.NDArray[np.uint8] = src.read(1)
    counts = np.bincount(mapped.ravel(), minlength=256)
    map_counts = {c.name: float(counts[c.code]) for c in classes}

    warnings = list(notes)
    if assessment is not None:
        column = assessment_column or label_column
        ref = read_labels(assessment, label_column=column, classes=classes)
        n_ij = sample_confusion(class_at_points(mapped, grid, ref), ref[CODE_COLUMN], classes)
        sample_kind = f"accuracy-assessment sample {assessment} ({int(n_ij.sum())} units)"
    else:
        n_ij = result.confusion_matrix.T.astype(np.int64)
        sample_kind = "out-of-fold predictions of the training labels"
        warnings.append(
            "areas use the training labels' out-of-fold predictions as the accuracy sample; the "
            "Olofsson estimator is unbiased only for a probability sample stratified by map "
            "class: give --assessment with such a sample for the areas you report"
        )
    areas = area_estimates(map_counts, n_ij, grid.pixel_area_ha, classes)
    for row in areas:
        row["map_area_mu"] = ha_to_mu(float(row["map_area_ha"]))

    strata = strata_polygons(mapped, grid, classes)
    strata_path = out_dir / "strata.gpkg"
    strata.to_file(strata_path, driver="GPKG", layer="strata")
    start, end = time_span(composites, cube)
    summary: dict[str, Any] = {
        "command": "classify",
        **result.to_dict(),
        "areas": areas,
        "area_sample": sample_kind,
        "samples": {
            "pixels": table.n_samples,
            "pixels_per_class": table.pixels_per_class(),
            "blocks_per_class": table.blocks_per_class(),
            "dropped": dict(table.dropped),
        },
        "features": list(table.feature_names),
        "seasons": {
            n: {
                "dates": c.attrs.get("dates", []),
                "nodata_fraction": c.attrs.get("nodata_fraction"),
            }
            for n, c in composites.items()
        },
        "grid": grid_summary(grid),
        "outputs": [{"file": map_path.name, "sha256": map_sha}, {"file": strata_path.name}],
        "warnings": warnings,
    }
    if any(row["map_area_ha"] > 0 and row.get("adjusted_area_ha") is None for row in areas):
        raise InputError("area estimation failed for a mapped class")
    return write_summary(
        out_dir,
        summary,
        [
            Output(
                map_path, "land_cover", "Land-cover strata (class codes)", grid, {"classes": names}
            ),
            Output(strata_path, "strata", "Land-cover strata (polygons)", grid),
        ],
        title="Land-cover strata",
        start=start,
        end=end,
    )


__all__ = ["class_at_points", "run_classify", "sample_confusion", "strata_polygons"]
