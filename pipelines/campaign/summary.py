"""``outputs/summary.json`` of a campaign run: the figures a report, a verifier and a registry
submission need, gathered from the stages' results (pure; see the README's "Campaigns")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mrv.hashing import sha256_file
from mrv.units import ha_to_mu
from pipelines.campaign.config import Campaign
from pipelines.campaign.site import Site

_SUMMARY_FILES = (
    "plots_estimate.json", "plots_change.json", "land_cover.tif", "classify.json",
    "carbon_density.tif", "carbon_uncertainty.tif", "carbon.json", "parcels.csv",
)  # fmt: skip


def relativise(value: Any, run_dir: Path) -> Any:
    """``value`` with every string path under ``run_dir`` made relative to it (outputs must not
    depend on where the run folder was)."""
    prefix = str(run_dir.absolute()).rstrip("/") + "/"
    if isinstance(value, str):
        return value[len(prefix) :] if value.startswith(prefix) else value
    if isinstance(value, dict):
        return {k: relativise(v, run_dir) for k, v in value.items() if k != "catalog"}
    if isinstance(value, list | tuple):
        return [relativise(v, run_dir) for v in value]
    return value


def _pick(block: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: block.get(k) for k in keys}


def build_summary(
    campaign: Campaign,
    site: Site,
    estimate: dict[str, Any],
    change: dict[str, Any],
    classify: dict[str, Any],
    carbon: dict[str, Any],
    removals: dict[str, Any],
    parcels: pd.DataFrame,
    qa: dict[str, Any],
) -> dict[str, Any]:
    """The summary (keys: campaign, methodology, site, scenes, classification, stock, change,
    removals, parcels, qa, parameters, unconfirmed_parameters, warnings, outputs)."""
    c = campaign.spec.campaign
    run_dir = campaign.path.parent.parent  # inputs/campaign.toml → run folder
    area = float(site.parcels["area_ha"].sum())
    total = carbon.get("total", {})
    unconfirmed = sorted(
        set(estimate.get("unconfirmed_parameters", []))
        | set(change.get("unconfirmed_parameters", []))
    )
    warnings = [
        *[f"plot survey (later): {w}" for w in estimate.get("warnings", [])],
        *[f"stock change: {w}" for w in change.get("warnings", [])],
        *[f"land cover: {w}" for w in classify.get("warnings", [])],
        *[f"carbon map: {w}" for w in carbon.get("warnings", [])],
    ]
    unmapped = parcels.loc[parcels["mapped_carbon_tc"] <= 0, "parcel_code"].tolist()
    if unmapped:
        warnings.append(
            f"{len(unmapped)} parcel(s) have no mapped carbon and receive no removals: "
            + ", ".join(unmapped[:20])
        )
    return {
        "campaign": {
            "id": c.id,
            "title": c.title,
            "title_zh": c.title_zh,
            "measurer": c.measurer,
            "site": c.site_name or site.name,
            "period_start": c.period_start.isoformat(),
            "period_end": c.period_end.isoformat(),
            "period_years": round(campaign.period_years, 6),
        },
        "methodology": estimate["methodology"],
        "site": {
            "name": c.site_name or site.name,
            "boundary_area_ha": round(site.boundary_area_ha, 4),
            "parcels_n": len(site.parcels),
            "parcels_area_ha": round(area, 4),
            "parcels_area_mu": round(ha_to_mu(area), 3),
        },
        "scenes": {
            "source": campaign.spec.scenes.source,
            "n_dates": len(qa["dates"]),
            "dates": qa["dates"],
            "cloud_cover": qa["cloud_cover"],
            "valid_obs": qa["valid_obs"],
        },
        "classification": {
            **_pick(classify, "overall_accuracy", "kappa", "classes", "confusion_matrix", "cv"),
            "areas": classify.get("areas", []),
            "area_sample": classify.get("area_sample"),
        },
        "stock": {
            "n_plots": estimate["total"]["n_plots"],
            "survey": _pick(
                estimate["total"],
                "area_ha",
                "carbon_t",
                "co2e_t",
                "ci90_half_width_co2e_t",
                "ci90_relative",
                "uncertainty_deduction",
            ),
            "plots_only": total.get("plots_only"),
            "model_assisted": total.get("model_assisted"),
            "relative_efficiency": total.get("relative_efficiency"),
            "strata": carbon.get("strata", []),
            "cv": carbon.get("model", {}).get("cv"),
        },
        "change": {
            "paired_plots": change["paired_plots"],
            "mean_years": change["period"]["mean_years"],
            "period": change["period"],
            **_pick(
                change["total"],
                "net_tco2e_per_yr",
                "ci90_half_width_tco2e_per_yr",
                "ci90_relative",
                "stock_change_tc_per_yr",
                "ci90_half_width_tc_per_yr",
                "df",
            ),
            "monte_carlo": change.get("monte_carlo", {}).get("net_tco2e_per_yr"),
            "strata": change["strata"],
        },
        "removals": removals,
        "parcels": {
            "n": len(parcels),
            "file": "parcels.csv",
            "attributed_tco2e": round(float(parcels["removals_tco2e"].sum()), 3),
            "unmapped_parcels": unmapped,
        },
        "qa": {
            "plot_validation": estimate.get("validation_warnings", []),
            "sampling": estimate.get("sampling"),
            "classification": _pick(classify, "overall_accuracy", "kappa"),
            "cloud_cover": {"dates": qa["dates"], "share": qa["cloud_cover"]},
            "valid_obs": qa["valid_obs"],
            "model_cv": carbon.get("model", {}).get("cv"),
        },
        "parameters": estimate.get("parameter_details", []),
        "unconfirmed_parameters": unconfirmed,
        "warnings": warnings,
        "outputs": [
            {"file": name, "sha256": sha256_file(run_dir / "outputs" / name)}
            for name in _SUMMARY_FILES
            if (run_dir / "outputs" / name).exists()
        ],
    }


__all__ = ["build_summary", "relativise"]
