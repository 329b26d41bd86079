"""A small, complete run folder for the report tests (layout in .helpers/CAMPAIGN.md).

Site: a 560 m × 460 m rectangle on a 10 m UTM 50N grid near 119.60 E 30.48 N, tiled by ``n``
rectangular parcels. Land cover: moso bamboo (1) left, other forest (2) middle, tea (3) right, a
pond (6) top-left; 255 outside the boundary. Carbon density rises 0.1 t C/ha per column; the 90 %
interval is [density − 4 − 0.05 row, density + 6]. Removals follow the project's equations with
known inputs (ccer-conservative deduction: fraction = relative half-width when it exceeds 10 %).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import box, mapping

CRS = "EPSG:32650"
PIXEL_M = 10.0
WIDTH, HEIGHT = 60, 50
CLASSES = (
    "1=moso_bamboo,2=other_forest,3=tea_garden,4=paddy_farmland,5=wetland_vegetation,"
    "6=open_water,7=built_up,8=other"
)
OWNERS = ("递铺镇鲁家村村民委员会", "张建国", "李秀英", "天荒坪镇大溪村股份经济合作社")


@dataclass(frozen=True)
class Built:
    run_dir: Path
    summary: dict[str, Any]
    parcels: list[dict[str, Any]]


def _origin() -> tuple[float, float]:
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    x, y = to_utm.transform(119.60, 30.48)
    return math.floor(x / 10) * 10 - 300, math.floor(y / 10) * 10 + 250


def _write_tif(
    path: Path, bands: np.ndarray, dtype: str, nodata: float | None, tags: dict[str, str]
) -> None:
    x0, y0 = _origin()
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=WIDTH,
        height=HEIGHT,
        count=bands.shape[0],
        dtype=dtype,
        crs=CRS,
        transform=from_origin(x0, y0, PIXEL_M, PIXEL_M),
        nodata=nodata,
    ) as dst:
        dst.write(bands.astype(dtype))
        dst.update_tags(**tags)


def _wgs84(geom: Any) -> dict[str, Any]:
    return mapping(gpd.GeoSeries([geom], crs=CRS).to_crs("EPSG:4326").iloc[0])


def _geojson(path: Path, features: list[dict[str, Any]]) -> None:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )


def removals_block(
    stock_change: float, hw: float, emissions: float, leakage: float
) -> dict[str, Any]:
    """The ``removals`` block computed by hand from the project's equations."""
    removals = stock_change - emissions - leakage
    rel = hw / abs(removals)
    fraction = rel if rel > 0.10 else 0.0
    deduction = abs(removals) * fraction
    conservative = removals - deduction
    return {
        "period_years": 2.0,
        "stock_change_tco2e": stock_change,
        "ci90_half_width_tco2e": hw,
        "ci90_basis": "monte_carlo",
        "emissions_tco2e": emissions,
        "leakage_tco2e": leakage,
        "removals_tco2e": removals,
        "ci90_low_tco2e": removals - hw,
        "ci90_high_tco2e": removals + hw,
        "ci90_relative": rel,
        "uncertainty_deduction": {
            "rule": "ccer-conservative",
            "value": removals,
            "relative_half_width": rel,
            "deduction_fraction": fraction,
            "deduction": deduction,
            "conservative_value": conservative,
            "rule_confirmed": False,
            "basis": "monte_carlo",
        },
        "conservative_removals_tco2e": conservative,
        "claimable_tco2e": max(0, math.floor(conservative)),
    }


def build_run(root: Path, n_parcels: int = 4) -> Built:
    """Write the run folder under ``root`` and return it with its summary and parcel rows."""
    run = root / "run"
    (run / "outputs").mkdir(parents=True)
    (run / "inputs" / "site").mkdir(parents=True)
    x0, y0 = _origin()
    left, right = x0 + 20, x0 + WIDTH * PIXEL_M - 20
    bottom, top = y0 - HEIGHT * PIXEL_M + 20, y0 - 20
    site = box(left, bottom, right, top)
    _geojson(
        run / "inputs" / "site" / "boundary.geojson",
        [{"type": "Feature", "properties": {"name": "test site"}, "geometry": _wgs84(site)}],
    )

    cols = math.ceil(math.sqrt(n_parcels))
    rows_n = math.ceil(n_parcels / cols)
    w, h = (right - left - 20) / cols, (top - bottom - 20) / rows_n
    rem = removals_block(612.345, 98.7654, 6.1, 0.0)
    weights = np.arange(1, n_parcels + 1, dtype=float)
    shares = weights / weights.sum()
    features, parcels = [], []
    for i in range(n_parcels):
        c, r = i % cols, i // cols
        geom = box(
            left + 10 + c * w, top - 10 - (r + 1) * h, left + 10 + (c + 1) * w, top - 10 - r * h
        )
        area_ha = geom.area / 10_000
        code = f"TSP-{i + 1:04d}"
        owner = OWNERS[i % len(OWNERS)]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": code,
                    "owner": owner,
                    "land_type": "bamboo",
                    "area_ha": round(area_ha, 4),
                },
                "geometry": _wgs84(geom),
            }
        )
        removals = round(rem["conservative_removals_tco2e"] * shares[i], 3)
        parcels.append(
            {
                "parcel_code": code,
                "owner": owner,
                "land_type": "bamboo",
                "area_ha": round(area_ha, 4),
                "area_mu": round(area_ha * 15, 3),
                "mapped_area_ha": round(area_ha, 4),
                "mapped_carbon_tc": round(1000.0 * weights[i], 3),
                "share": round(shares[i], 8),
                "removals_tco2e": removals,
                "removals_tco2e_per_ha_yr": round(removals / area_ha / 2.0, 4),
            }
        )
    _geojson(run / "inputs" / "site" / "parcels.geojson", features)
    with (run / "outputs" / "parcels.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(parcels[0]))
        writer.writeheader()
        writer.writerows(parcels)

    # rasters: pixel centres inside the boundary are mapped
    col = np.arange(WIDTH)[np.newaxis, :].repeat(HEIGHT, 0)
    row = np.arange(HEIGHT)[:, np.newaxis].repeat(WIDTH, 1)
    xc, yc = x0 + (col + 0.5) * PIXEL_M, y0 - (row + 0.5) * PIXEL_M
    inside = (xc > left) & (xc < right) & (yc > bottom) & (yc < top)
    land = np.where(col < 20, 1, np.where(col < 40, 2, 3))
    land[(row < 12) & (col < 12)] = 6
    land[~inside] = 255
    density = 20.0 + 0.1 * col
    density[(land == 6) | ~inside] = np.nan
    _write_tif(
        run / "outputs" / "land_cover.tif", land[np.newaxis], "uint8", 255, {"classes": CLASSES}
    )
    _write_tif(run / "outputs" / "carbon_density.tif", density[np.newaxis], "float32", None, {})
    bounds = np.stack([density - 4.0 - 0.05 * row, density + 6.0])
    _write_tif(run / "outputs" / "carbon_uncertainty.tif", bounds, "float32", None, {})

    summary = _summary(rem, parcels, site.area / 10_000)
    (run / "outputs" / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return Built(run, summary, parcels)


def _summary(
    rem: dict[str, Any], parcels: list[dict[str, Any]], boundary_ha: float
) -> dict[str, Any]:
    area_ha = sum(p["area_ha"] for p in parcels)
    classes = ["moso_bamboo", "other_forest", "tea_garden"]
    return {
        "campaign": {
            "id": "TST-2025",
            "title": "Test bamboo site, monitoring period 2024–2025",
            "title_zh": "测试毛竹林碳汇监测（2024–2025 监测期）",
            "measurer": "安吉县林业局 Anji County Forestry Bureau",
            "site": "test-site",
            "period_start": "2024-01-01",
            "period_end": "2025-12-31",
            "period_years": 2.0,
        },
        "methodology": {
            "id": "bamboo-moso",
            "version": "1.0.0",
            "title": "Moso bamboo carbon sink",
            "title_zh": "毛竹林碳汇",
        },
        "site": {
            "name": "test-site",
            "boundary_area_ha": boundary_ha,
            "parcels_n": len(parcels),
            "parcels_area_ha": area_ha,
            "parcels_area_mu": area_ha * 15,
        },
        "scenes": {
            "source": "synthetic",
            "n_dates": 4,
            "dates": ["2025-03-01", "2025-05-10", "2025-08-02", "2025-10-21"],
            "cloud_cover": [0.12, 0.4567, 0.0, 0.08],
            "valid_obs": {
                "spring": {"min": 1, "mean": 1.8, "p05": 1.0},
                "autumn": {"min": 2, "mean": 2.0, "p05": 2.0},
            },
        },
        "classification": {
            "overall_accuracy": 0.91234,
            "kappa": 0.8765,
            "classes": classes,
            "confusion_matrix": [[120, 5, 3], [7, 88, 2], [1, 4, 1234]],
            "areas": [
                {
                    "class": c,
                    "map_area_ha": 10.0 + i,
                    "adjusted_area_ha": 10.5 + i,
                    "ci95_ha": 1.25 + i,
                }
                for i, c in enumerate(classes)
            ],
            "cv": {"method": "spatial blocks", "folds": 5},
            "area_sample": "out-of-fold predictions",
        },
        "stock": {
            "n_plots": 24,
            "plots_only": {"total_co2e_t": 5_432.1098, "ci90_half_width_co2e_t": 543.2109},
            "model_assisted": {
                "total_tc": 1_480.25,
                "ci90_low_tc": 1_431.5,
                "ci90_high_tc": 1_529.0,
            },
            "relative_efficiency": 2.345,
            "strata": [
                {
                    "stratum": "on-year",
                    "area_ha": 11.41,
                    "n_plots": 10,
                    "plot_mean_tc_per_ha": 61.234,
                    "map_mean_tc_per_ha": 59.9,
                    "total_tc": 698.68,
                },
                {
                    "stratum": "off-year",
                    "area_ha": 33.22,
                    "n_plots": 14,
                    "plot_mean_tc_per_ha": 55.5,
                    "map_mean_tc_per_ha": 54.1,
                    "total_tc": 1843.71,
                },
            ],
            "cv": {"r2": 0.71234, "rmse_tc_per_ha": 8.4, "bias_tc_per_ha": -0.31},
        },
        "change": {
            "paired_plots": 24,
            "mean_years": 2.01,
            "net_tco2e_per_yr": 306.1725,
            "ci90_half_width_tco2e_per_yr": 49.3827,
            "strata": [
                {
                    "stratum": "on-year",
                    "n_plots": 10,
                    "area_ha": 11.41,
                    "mean_net_tco2e_per_ha_yr": 14.2345,
                    "ci90_half_width_tco2e_per_ha_yr": 2.1,
                    "total_net_tco2e_per_yr": 162.4,
                },
                {
                    "stratum": "off-year",
                    "n_plots": 14,
                    "area_ha": 33.22,
                    "mean_net_tco2e_per_ha_yr": 11.5,
                    "ci90_half_width_tco2e_per_ha_yr": 1.7,
                    "total_net_tco2e_per_yr": 382.0,
                },
            ],
        },
        "removals": rem,
        "parcels": {
            "n": len(parcels),
            "file": "parcels.csv",
            "attributed_tco2e": sum(p["removals_tco2e"] for p in parcels),
            "unmapped_parcels": [],
        },
        "qa": {
            "plot_validation": [
                {
                    "reason": "DBH 2.1 cm below the 5 cm threshold",
                    "file": "culms.csv",
                    "row": 17,
                    "column": "dbh_cm",
                    "feature": None,
                    "severity": "warning",
                }
            ],
            "sampling": {
                "n_plots": 24,
                "n_required": 31,
                "sufficient": False,
                "target_relative_precision": 0.1,
                "achieved_relative_precision": 0.1234,
                "strata": [
                    {"stratum": "on-year", "n_plots": 10, "n_required": 12, "sufficient": False},
                    {"stratum": "off-year", "n_plots": 14, "n_required": 19, "sufficient": False},
                ],
            },
            "classification": {"overall_accuracy": 0.91234, "kappa": 0.8765},
        },
        "parameters": [
            {
                "name": "carbon_fraction",
                "value": 0.5042,
                "unit": "t C/t dm",
                "source": "LY/T 2253-2014 Table 3",
                "confirmed": True,
                "evidence": "V",
            },
            {
                "name": "root_shoot_ratio",
                "value": 0.2766,
                "unit": "1",
                "source": "Zhou et al. 2010 (recalled)",
                "confirmed": False,
                "evidence": "R",
            },
            {
                "name": "harvest_age_du",
                "value": 3,
                "unit": "du",
                "source": "common practice",
                "confirmed": True,
            },
        ],
        "unconfirmed_parameters": ["root_shoot_ratio"],
        "warnings": [
            "plots AJB-07 and AJB-09 were not found in the later survey & were left out <check>"
        ],
        "outputs": [],
    }
