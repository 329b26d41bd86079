"""A tiny but real run folder for package tests, in the layout of the campaign runner.

``compute`` is a small computation from the inputs (plot biomass × carbon fraction → a carbon
summary, per-parcel table and two GeoTIFFs, plus a "synthetic scene" generated from a seed), so a
package built from it can be re-computed for real by ``verify_package``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.transform import Affine

CRS = "EPSG:32650"
TRANSFORM = Affine(10.0, 0.0, 745_390.0, 0.0, -10.0, 3_390_290.0)  # inside BOUNDARY
SHAPE = (4, 5)
BOUNDARY = [[119.55, 30.60], [119.58, 30.60], [119.58, 30.63], [119.55, 30.63], [119.55, 30.60]]
CAMPAIGN_TOML = """\
[campaign]
id = "toy-2024"
title = "Toy bamboo season"
period_start = "2024-01-01"
period_end = "2024-12-31"

[inputs]
plots = "survey/plots.csv"
parcels = "site/parcels.geojson"

[parameters]
carbon_fraction = 0.47

[scenes]
seed = 7
"""
PLOTS = [("P1", 40.0), ("P2", 55.5), ("P3", 61.25), ("P4", 72.0), ("P5", 38.75), ("P6", 80.5)]
PARCELS = [("A-001", 1.25), ("A-002", 2.5), ("A-003", 0.75)]
TOLERANCE = {"rel": 1e-6, "abs": 1e-9}
COMPARE = {
    "outputs/summary.json": "numeric",
    "outputs/parcels.csv": "numeric",
    "outputs/carbon_density.tif": "numeric",
    "outputs/land_cover.tif": "exact",
}
INPUT_FILES = [
    ("inputs/campaign.toml", "campaign"),
    ("inputs/methodology/toy-bamboo.md", "methodology"),
    ("inputs/site/boundary.geojson", "site"),
    ("inputs/site/parcels.geojson", "site"),
    ("inputs/survey/plots.csv", "survey"),
]
REPORT_FILES = ["report/report.html"]
SCENE = "work/scenes/scene.bin"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tif(path: Path, data: np.ndarray[Any, Any], nodata: float) -> None:
    profile = {
        "driver": "GTiff", "width": SHAPE[1], "height": SHAPE[0], "count": 1,
        "dtype": str(data.dtype), "crs": CRS, "transform": TRANSFORM, "nodata": nodata,
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


def compute(
    campaign_file: Path, out_dir: Path, *, cf_scale: float = 1.0, seed_offset: int = 0
) -> Path:
    """Run the toy campaign: outputs/ and work/scenes/ under ``out_dir``; returns ``out_dir``."""
    inputs = campaign_file.parent
    cfg = tomllib.loads(campaign_file.read_text(encoding="utf-8"))
    cf = cfg["parameters"]["carbon_fraction"] * cf_scale
    with (inputs / cfg["inputs"]["plots"]).open(encoding="utf-8", newline="") as fh:
        biomass = [float(row["biomass_t_per_ha"]) for row in csv.DictReader(fh)]
    carbon = [b * cf for b in biomass]
    mean_tc_per_ha = sum(carbon) / len(carbon)
    parcels = json.loads((inputs / cfg["inputs"]["parcels"]).read_text(encoding="utf-8"))
    out = out_dir / "outputs"
    out.mkdir(parents=True)
    rows = [
        (f["properties"]["parcel_code"], f["properties"]["area_ha"]) for f in parcels["features"]
    ]
    with (out / "parcels.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["parcel_code", "area_ha", "carbon_tc"])
        writer.writerows([code, area, repr(area * mean_tc_per_ha)] for code, area in rows)
    summary = {
        "campaign": {k: cfg["campaign"][k] for k in ("id", "title", "period_start", "period_end")},
        "stock": {"n_plots": len(carbon), "mean_tc_per_ha": mean_tc_per_ha},
        "parameters": [
            {"name": "carbon_fraction", "value": cf, "unit": "t C/t dm", "confirmed": True}
        ],
        "unconfirmed_parameters": [],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    idx = np.arange(SHAPE[0] * SHAPE[1]).reshape(SHAPE) % len(carbon)
    density = np.asarray(carbon, dtype=np.float64)[idx].astype(np.float32)
    density[0, 0] = np.nan
    _tif(out / "carbon_density.tif", density, float("nan"))
    cover = np.where(np.asarray(biomass)[idx] >= 60.0, 1, 2).astype(np.uint8)
    cover[0, 0] = 255
    _tif(out / "land_cover.tif", cover, 255)
    scene = out_dir / SCENE
    scene.parent.mkdir(parents=True)
    scene.write_bytes(np.random.default_rng(cfg["scenes"]["seed"] + seed_offset).bytes(256))
    return out_dir


def _write_inputs(inputs: Path) -> None:
    (inputs / "site").mkdir(parents=True)
    (inputs / "survey").mkdir()
    (inputs / "methodology").mkdir()
    (inputs / "campaign.toml").write_text(CAMPAIGN_TOML, encoding="utf-8")
    (inputs / "methodology" / "toy-bamboo.md").write_text(
        "# Toy bamboo methodology v1.0\n\nCarbon = biomass × carbon fraction (IPCC 2006).\n",
        encoding="utf-8",
    )
    boundary = {"type": "Polygon", "coordinates": [BOUNDARY]}
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "toy"}, "geometry": boundary}
    ]}  # fmt: skip
    (inputs / "site" / "boundary.geojson").write_text(json.dumps(collection), encoding="utf-8")
    parcels = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"parcel_code": code, "area_ha": area},
         "geometry": boundary}
        for code, area in PARCELS
    ]}  # fmt: skip
    (inputs / "site" / "parcels.geojson").write_text(json.dumps(parcels), encoding="utf-8")
    lines = ["plot_id,biomass_t_per_ha"] + [f"{p},{b}" for p, b in PLOTS]
    (inputs / "survey" / "plots.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def make_run(run_dir: Path) -> Path:
    """Write a complete run folder (inputs, work, outputs, report, run.log, run.json)."""
    _write_inputs(run_dir / "inputs")
    compute(run_dir / "inputs" / "campaign.toml", run_dir)
    (run_dir / "report").mkdir()
    (run_dir / "report" / "report.html").write_text(
        "<html><body><h1>Toy 监测报告</h1></body></html>\n", encoding="utf-8"
    )
    (run_dir / "run.log").write_text("2024-12-31 INFO run finished\n", encoding="utf-8")

    def rec(rel: str) -> dict[str, Any]:
        path = run_dir / rel
        return {"path": rel, "sha256": _sha(path), "size": path.stat().st_size}

    scene = rec(SCENE)
    record = {
        "campaign_id": "toy-2024",
        "started_utc": "2025-01-05T08:00:00+00:00",
        "finished_utc": "2025-01-05T08:00:02+00:00",
        "duration_s": 2.0,
        "scheduler": None,
        "code_version": {"package": "huzhou-mrv", "version": "0.1.0", "git_commit": None,
                         "git_dirty": None},
        "packages": {"numpy": np.__version__, "rasterio": rasterio.__version__},
        "methodology": {"id": "toy-bamboo", "version": "1.0",
                        "document": "inputs/methodology/toy-bamboo.md",
                        "document_sha256": _sha(run_dir / "inputs/methodology/toy-bamboo.md")},
        "inputs": [{**rec(p), "role": role} for p, role in INPUT_FILES],
        "external_inputs": [{"location": "/archive/s2/T50RQU_20240612.zip",
                             "sha256": "ab" * 32, "size": 812_345_678, "role": "scenes"}],
        "generated_inputs": {"kind": "synthetic", "recipe": {"seed": 7, "bytes": 256},
                             "files": [scene]},
        "outputs": [{**rec(p), "compare": mode} for p, mode in COMPARE.items()],
        "tolerance": TOLERANCE,
    }  # fmt: skip
    (run_dir / "run.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return run_dir


def data_files() -> list[str]:
    """Package paths of the copied files and the files the builder writes besides STAC."""
    copied = [p for p, _ in INPUT_FILES] + list(COMPARE) + REPORT_FILES + ["run.json", "run.log"]
    return sorted([*copied, "parameters.json"])


def expected_package_files() -> list[str]:
    """Every file the package of :func:`make_run` holds (STAC layout of the package builder)."""
    part = {"inputs": "inputs", "outputs": "outputs", "report": "report"}
    stac = ["catalog.json"] + [f"stac/{p}/catalog.json" for p in ("inputs", "outputs", "report")]
    stac.append("stac/run/catalog.json")
    for rel in data_files():
        folder = part.get(rel.split("/", 1)[0], "run")
        stac.append(f"stac/{folder}/{rel.replace('/', '--')}.json")
    stac += ["stac/inputs/generated-inputs.json", "stac/inputs/external-inputs.json"]
    return sorted([*data_files(), *stac, "manifest.json", "manifest.sig.json"])
