"""``mrv satellite carbon``: carbon-density map with prediction intervals, zonal totals and the
model-assisted project total beside the plots-only estimate."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from mrv.errors import FileFormatError, InputError
from mrv.raster import read_raster
from mrv.units import CO2_PER_C
from pipelines.satellite.carbon import (
    Method,
    fit_density_model,
    plot_features,
    plots_frame,
    predict_density,
    write_density_cogs,
)
from pipelines.satellite.classes import NODATA_CLASS, class_table
from pipelines.satellite.composite import Season
from pipelines.satellite.cube import grid_of
from pipelines.satellite.model_assisted import Estimator, model_assisted_total
from pipelines.satellite.outputs import Output
from pipelines.satellite.runs.common import (
    SceneOptions,
    grid_summary,
    seasonal_features,
    time_span,
    write_summary,
)
from pipelines.satellite.zonal import zonal_totals


def read_plots(path: Path) -> gpd.GeoDataFrame:
    """Plots with ``plot_id``, ``stratum``, WGS84 location and ``stock_tc_per_ha``.

    Accepts the JSON of ``mrv plots estimate --json`` (its ``plots`` list), a CSV with
    ``lon``/``lat`` columns (WGS84), or a point GeoJSON/GeoPackage.
    """
    file = str(path)
    if not path.exists():
        raise FileFormatError(file, "plots file not found")
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FileFormatError(file, f"not valid JSON: {exc}") from exc
        records = data.get("plots") if isinstance(data, dict) else None
        if not isinstance(records, list):
            raise FileFormatError(file, "no 'plots' list (expected `mrv plots estimate --json`)")
        frame = plots_frame(records)
    elif suffix in (".csv", ".txt"):
        rows: list[dict[str, Any]] = [
            {str(k): v for k, v in row.items()} for row in pd.read_csv(path).to_dict("records")
        ]
        frame = plots_frame(rows)
    else:
        frame = gpd.read_file(path)
        if frame.crs is None:
            raise FileFormatError(file, "plots file has no CRS")
        frame = frame.to_crs("EPSG:4326")
    missing = [c for c in ("plot_id", "stratum", "stock_tc_per_ha") if c not in frame.columns]
    if missing:
        raise FileFormatError(file, f"plots lack column(s) {', '.join(missing)}")
    return frame


def _land_cover(path: Path, like: xr.DataArray) -> xr.DataArray:
    raster = read_raster(path)
    grid, ref = grid_of(raster), grid_of(like)
    if (grid.crs, grid.transform, grid.width, grid.height) != (
        ref.crs,
        ref.transform,
        ref.width,
        ref.height,
    ):
        raise InputError(f"{path}: land-cover grid differs from the scenes' grid")
    return raster.isel(band=0, drop=True).astype(np.uint8)


def run_carbon(
    options: SceneOptions,
    *,
    seasons: Sequence[Season],
    explicit_seasons: bool,
    plots: Path,
    out_dir: Path,
    land_cover: Path | None = None,
    class_names: Sequence[str] | None = None,
    parcels: Path | None = None,
    parcel_id: str | None = None,
    method: Method = "conformal",
    confidence: float = 0.90,
    estimator: Estimator = "greg",
    seed: int | None = None,
) -> dict[str, Any]:
    """Fit the density model at the plots, map it, total it by stratum, parcel and project."""
    cube, composites, feats, notes = seasonal_features(
        options, seasons, explicit_seasons=explicit_seasons
    )
    grid = grid_of(feats)
    plot_table = plot_features(feats, read_plots(plots))
    names = list(feats["feature"].values)
    strata_names = sorted(set(plot_table["stratum"].astype(str)))
    codes = plot_table["stratum"].astype(str).map({s: i for i, s in enumerate(strata_names)})
    model = fit_density_model(
        plot_table[names],
        plot_table["stock_tc_per_ha"].to_numpy(np.float64),
        method=method,
        confidence=confidence,
        strata=codes.to_numpy(),
        seed=seed,
    )
    warnings = list(notes)
    lc = None
    class_codes: dict[str, int] = {}
    mapped = feats
    if land_cover is not None:
        lc = _land_cover(land_cover, feats.isel(feature=0, drop=True))
        table = {c.name: c.code for c in class_table(class_names)}
        unknown = [s for s in strata_names if s not in table]
        if unknown:
            raise InputError(
                f"plot strata {', '.join(unknown)} are not land-cover classes ({', '.join(table)})"
            )
        class_codes = {s: table[s] for s in strata_names}
        # no plots, no map: pixels of classes without plots get NaN features, so the model is
        # not even evaluated there
        keep = da.isin(lc.data, list(class_codes.values())).rechunk(feats.data.chunks[1:])
        mapped = feats.copy(data=da.where(keep[np.newaxis], feats.data, np.float32(np.nan)))
        warnings.append(
            "carbon is mapped only in the classes that have plots: "
            + ", ".join(strata_names)
            + "; other classes are not estimated (NaN)"
        )
    else:
        warnings.append(
            "no --land-cover: the map covers every pixel, the model extrapolates "
            "outside the plots' classes, and no model-assisted total is made"
        )
    cogs = write_density_cogs(predict_density(model, mapped), out_dir)
    written = read_raster(cogs.density).isel(band=0, drop=True)

    result: dict[str, Any] = {
        "command": "carbon",
        "grid": grid_summary(grid),
        "plots": {"n": len(plot_table), "strata": strata_names, "file": str(plots)},
        "model": {
            "method": model.method,
            "confidence": model.confidence,
            "features": names,
            "cv": {
                "folds": model.cv.folds,
                "r2": model.cv.r2,
                "rmse_tc_per_ha": model.cv.rmse_tc_per_ha,
                "bias_tc_per_ha": model.cv.bias_tc_per_ha,
            },
        },
    }
    outputs = [
        Output(cogs.density, "carbon_density", "Carbon density (t C/ha)", grid),
        Output(
            cogs.uncertainty,
            "carbon_uncertainty",
            f"Carbon density {confidence:.0%} prediction-interval bounds (t C/ha)",
            grid,
        ),
    ]
    digests = [
        {"file": cogs.density.name, "sha256": cogs.density_sha256},
        {"file": cogs.uncertainty.name, "sha256": cogs.uncertainty_sha256},
    ]
    if lc is not None:
        labels = {code: name for name, code in class_codes.items()}
        by_stratum = zonal_totals(written, lc, labels=labels)
        result["strata"] = _records(by_stratum)
        ma = model_assisted_total(
            written,
            plot_table,
            lc,
            stratum_codes=class_codes,
            predicted=model.oof_tc_per_ha,
            estimator=estimator,
            confidence=confidence,
        )
        block = ma.to_dict()
        for key in ("model_assisted", "plots_only"):
            block[key]["total_co2e_t"] = block[key]["total_tc"] * CO2_PER_C
            block[key]["ci90_half_width_co2e_t"] = (
                (block[key]["ci90_high_tc"] - block[key]["ci90_low_tc"]) / 2 * CO2_PER_C
            )
        result["total"] = block
    if parcels is not None:
        parcel_frame = gpd.read_file(parcels)
        if parcel_frame.crs is None:
            raise FileFormatError(str(parcels), "parcels file has no CRS")
        by_parcel = zonal_totals(written, parcel_frame, id_column=parcel_id)
        parcels_csv = out_dir / "parcels.csv"
        by_parcel.to_csv(parcels_csv, index=False)
        outputs.append(Output(parcels_csv, "parcel_totals", "Carbon per parcel (CSV)"))
        result["parcels"] = {
            "n": len(by_parcel),
            "file": parcels_csv.name,
            "total_tc": float(by_parcel["total_tc"].sum()),
        }
    result["outputs"] = digests
    result["warnings"] = warnings
    start, end = time_span(composites, cube)
    return write_summary(out_dir, result, outputs, title="Carbon density", start=start, end=end)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.replace({np.nan: None}).to_dict(orient="records")
    return [{str(k): v for k, v in row.items()} for row in out]


__all__ = ["NODATA_CLASS", "read_plots", "run_carbon"]
