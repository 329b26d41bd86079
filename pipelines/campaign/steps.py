"""The computing stages of a campaign run (called by :func:`pipelines.campaign.run.run_campaign`
inside its dask scheduler context). Everything written to ``outputs/`` is deterministic."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from methodologies.registry import get
from mrv.errors import InputError
from mrv.hashing import sha256_file
from mrv.settings import Settings
from pipelines import plots as plot_pipeline
from pipelines.campaign.config import Campaign
from pipelines.campaign.progress import Stages
from pipelines.campaign.qa import scene_qa
from pipelines.campaign.removals import attribute_to_parcels, period_removals
from pipelines.campaign.scenes import SyntheticScenes, synthetic_spec
from pipelines.campaign.site import load_site
from pipelines.campaign.summary import build_summary, relativise
from pipelines.satellite.classes import class_table
from pipelines.satellite.runs.carbon import run_carbon
from pipelines.satellite.runs.classify import run_classify
from pipelines.satellite.runs.common import DEFAULT_SEASONS, SceneOptions, parse_season

log = logging.getLogger("mrv.campaign")

SATELLITE_EXCLUDED_POOLS = ("harvested_products",)
"""Plot pools left out of the density the satellite model learns: carbon that left the stand
(harvested culms' products) is not visible from above."""


def _write_json(path: Path, data: Any, run_dir: Path) -> None:
    path.write_text(
        json.dumps(relativise(data, run_dir), ensure_ascii=False, indent=2, allow_nan=False) + "\n",
        encoding="utf-8",
    )


def _scenes(campaign: Campaign, run_dir: Path) -> tuple[list[Path], dict[str, Any] | None]:
    sc = campaign.spec.scenes
    if sc.source == "files":
        return [Path(p) for p in sc.paths], None
    from pipelines.satellite.synthetic import generate_truth, write_scenes

    assert sc.year is not None  # checked by load_campaign
    recipe = SyntheticScenes(
        seed=sc.seed,
        year=sc.year,
        dates=sc.dates,
        proportions=tuple(sc.proportions.items()) if sc.proportions else None,
    )
    site = load_site(campaign.site_dir)
    spec = synthetic_spec(site.boundary, recipe)
    folder = run_dir / "work" / "scenes"
    files = write_scenes(folder, generate_truth(spec), spec, layout="bands")
    generated = {
        "kind": "synthetic",
        "recipe": {
            "generator": "pipelines.campaign.scenes.synthetic_spec + "
            "pipelines.satellite.synthetic.write_scenes(layout='bands')",
            "seed": sc.seed,
            "year": sc.year,
            "dates": sc.dates,
            "proportions": dict(sc.proportions) if sc.proportions else None,
            "grid": {"crs": spec.crs, "width": spec.shape[1], "height": spec.shape[0]},
        },
        "cloud_cover": list(spec.cloud_covers),
        "files": [
            {
                "path": f.relative_to(run_dir).as_posix(),
                "sha256": sha256_file(f),
                "size": f.stat().st_size,
            }
            for f in sorted(files)
        ],
    }
    log.info("synthetic scenes: %d files, %d dates", len(files), len(spec.dates))
    return [folder], generated


def _surveys(campaign: Campaign, settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = campaign.spec
    params = {k: str(v) for k, v in spec.methodology.parameters.items()}
    after = plot_pipeline.load_spec(campaign.resolve(spec.survey.after), get(spec.methodology.id))
    estimate = plot_pipeline.estimate(
        spec.methodology.id,
        named=after.tables,
        params={**after.parameters, **params},
        settings=settings,
        datum=after.datum,
        boundary=after.boundary,
        boundary_datum=after.boundary_datum,
        encoding=after.encoding,
    )
    change = plot_pipeline.change(
        spec.methodology.id,
        campaign.resolve(spec.survey.before),
        campaign.resolve(spec.survey.after),
        params=params,
        settings=settings,
    )
    return estimate, change


def _carbon_plots(estimate: dict[str, Any], campaign: Campaign, path: Path) -> Path:
    """The later survey's plots as the satellite model's training data (class, density)."""
    mapping = campaign.spec.satellite.strata_classes
    rows = []
    unmapped = sorted({str(p["stratum"]) for p in estimate["plots"]} - set(mapping))
    if unmapped:
        raise InputError(
            f"{campaign.path}: survey strata {', '.join(unmapped)} have no land-cover class in "
            "[satellite.strata_classes]"
        )
    for p in estimate["plots"]:
        if p.get("lon") is None or p.get("lat") is None:
            raise InputError(f"plot {p['plot_id']!r} of the later survey has no location")
        excluded = sum(float(p.get(f"{pool}_per_ha") or 0.0) for pool in SATELLITE_EXCLUDED_POOLS)
        rows.append(
            {
                "plot_id": p["plot_id"],
                "stratum": mapping[str(p["stratum"])],
                "lon": p["lon"],
                "lat": p["lat"],
                "stock_tc_per_ha": float(p["stock_tc_per_ha"]) - excluded,
            }
        )
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _class_names(campaign: Campaign) -> list[str]:
    """The classes to map: as listed in the file, else those the labels name (default order)."""
    sat = campaign.spec.satellite
    if sat.classes:
        return list(sat.classes)
    labels = gpd.read_file(campaign.resolve(sat.labels))
    if sat.label_column not in labels.columns:
        raise InputError(f"{campaign.resolve(sat.labels)}: no column {sat.label_column!r}")
    named = set(labels[sat.label_column].astype(str))
    return [c.name for c in class_table(None) if c.name in named] + sorted(
        named - {c.name for c in class_table(None)}
    )


def compute(
    campaign: Campaign, run_dir: Path, settings: Settings, stages: Stages, seed: int
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Scenes → surveys → land cover → carbon → removals → attribution; writes ``outputs/``."""
    spec = campaign.spec
    if spec.removals.uncertainty_rule is not None:
        settings = settings.model_copy(update={"uncertainty_rule": spec.removals.uncertainty_rule})
    out, work = run_dir / "outputs", run_dir / "work"
    site = load_site(campaign.site_dir)
    with stages.step("scenes"):
        sources, generated = _scenes(campaign, run_dir)
    with stages.step("plot surveys"):
        estimate, change = _surveys(campaign, settings)
        _write_json(out / "plots_estimate.json", estimate, run_dir)
        _write_json(out / "plots_change.json", change, run_dir)
    seasons = [parse_season(s) for s in spec.scenes.seasons] or list(DEFAULT_SEASONS)
    explicit = bool(spec.scenes.seasons)
    options = SceneOptions(sources=sources, aoi=site.boundary_path)
    with stages.step("land cover"):
        classes = _class_names(campaign)
        assessment = spec.satellite.assessment
        classify = run_classify(
            options,
            seasons=seasons,
            explicit_seasons=explicit,
            labels=campaign.resolve(spec.satellite.labels),
            label_column=spec.satellite.label_column,
            out_dir=work / "classify",
            class_names=classes,
            assessment=campaign.resolve(assessment) if assessment else None,
        )
        shutil.copyfile(work / "classify" / "land_cover.tif", out / "land_cover.tif")
        _write_json(out / "classify.json", classify, run_dir)
        qa = scene_qa(options, seasons, generated)
    with stages.step("carbon density"):
        carbon = run_carbon(
            options,
            seasons=seasons,
            explicit_seasons=explicit,
            plots=_carbon_plots(estimate, campaign, work / "carbon_plots.csv"),
            out_dir=work / "carbon",
            land_cover=out / "land_cover.tif",
            class_names=classes,
            parcels=site.parcels_path,
            parcel_id="code",
            confidence=settings.confidence,
            seed=seed,
        )
        for name in ("carbon_density.tif", "carbon_uncertainty.tif"):
            shutil.copyfile(work / "carbon" / name, out / name)
        _write_json(out / "carbon.json", carbon, run_dir)
    with stages.step("removals"):
        removals = period_removals(
            change["total"],
            change.get("monte_carlo", {}).get("net_tco2e_per_yr"),
            years=campaign.period_years,
            emissions_tco2e=spec.removals.emissions_tco2e,
            leakage_tco2e=spec.removals.leakage_tco2e,
            rule=settings.uncertainty_rule,
            threshold=settings.target_relative_precision,
        )
        zonal = pd.read_csv(work / "carbon" / "parcels.csv", dtype={"zone": str})
        parcels = attribute_to_parcels(
            pd.DataFrame(gpd.read_file(site.parcels_path).drop(columns="geometry")),
            zonal,
            removals_tco2e=removals["conservative_removals_tco2e"],
            years=campaign.period_years,
        )
        parcels.to_csv(out / "parcels.csv", index=False)
        summary = build_summary(
            campaign, site, estimate, change, classify, carbon, removals, parcels, qa
        )
        _write_json(out / "summary.json", summary, run_dir)
        log.info(
            "removals %.1f t CO2e (conservative %.1f, claimable %d)",
            removals["removals_tco2e"],
            removals["conservative_removals_tco2e"],
            removals["claimable_tco2e"],
        )
    return relativise(summary, run_dir), generated


__all__ = ["SATELLITE_EXCLUDED_POOLS", "compute"]
