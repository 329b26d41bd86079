"""Plot survey → per-plot pools → per-stratum means with 90 % CI → project totals.

Also the sampling sufficiency (AR-Tool03 plots needed for the target precision), a Monte Carlo
propagation of sampling and parameter uncertainty, and the uncertainty deduction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from methodologies.base import Methodology, PlotComponents, Survey
from methodologies.parameters import ParamValues
from mrv.montecarlo import seed_from, summarize_draws
from mrv.settings import Settings
from mrv.stats import StratifiedEstimate, required_plots, stratified_estimate
from mrv.uncertainty import deduct
from mrv.units import CO2_PER_C, ha_to_mu
from pipelines.plots.montecarlo import simulate_totals

FloatArray = npt.NDArray[np.float64]


def _strata_frame(survey: Survey) -> tuple[list[str], FloatArray | None]:
    """Stratum names (strata file order, else order of first appearance) and areas."""
    if survey.has("strata"):
        strata = survey["strata"]
        return [str(s) for s in strata["stratum"]], strata["area_ha"].to_numpy(np.float64)
    return [str(s) for s in pd.unique(survey.plots["stratum"])], None


def _evaluate(
    methodology: Methodology, survey: Survey, p: ParamValues
) -> tuple[pd.DataFrame, PlotComponents]:
    comps = methodology.plot_components(survey, p)
    frame = comps.frame.reindex(survey.plot_ids)
    if frame.isna().to_numpy().any():
        raise ValueError(f"{methodology.id}: components missing for some plots")
    pools = methodology.pool_values({c: frame[c].to_numpy(np.float64) for c in frame.columns}, p)
    out = frame.copy()
    for name, values in pools.items():
        out[f"pool:{name}"] = np.broadcast_to(values, (len(frame),))
    return out, comps


def per_plot_pools(
    methodology: Methodology, survey: Survey, p: ParamValues
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Per-plot components and pool values (t C/ha, t C/ha/yr, t CO2e/ha/yr) as one frame,
    the omitted pools and the methodology's warnings."""
    frame, comps = _evaluate(methodology, survey, p)
    return frame, dict(comps.omitted), list(comps.warnings)


def methodology_block(methodology: Methodology) -> dict[str, str]:
    """The ``methodology`` key of every result: id, version and titles."""
    return {
        "id": methodology.id,
        "version": methodology.version,
        "title": methodology.title,
        "title_zh": methodology.title_zh,
    }


def _round(x: float, digits: int = 6) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, digits)


def _stratified_block(
    est: StratifiedEstimate, per_ha_key: str, hw_key: str, total_key: str
) -> list[dict[str, Any]]:
    rows = []
    for s in est.strata:
        rows.append(
            {
                "stratum": s.name,
                "n_plots": s.n,
                "area_ha": _round(s.area_ha),
                "area_mu": _round(ha_to_mu(s.area_ha), 3),
                per_ha_key: _round(s.mean),
                "sd" + per_ha_key.removeprefix("mean"): _round(s.sd),
                "se" + per_ha_key.removeprefix("mean"): _round(s.estimate.se),
                hw_key: _round(s.estimate.half_width),
                "ci90_relative": _round(s.estimate.relative_half_width),
                total_key: _round(s.total.mean),
            }
        )
    return rows


def estimate_survey(
    methodology: Methodology,
    survey: Survey,
    p: ParamValues,
    settings: Settings,
) -> dict[str, Any]:
    """The complete plot-based estimate as a JSON-ready mapping (keys documented in README)."""
    conf = settings.confidence
    plots, comps = _evaluate(methodology, survey, p)
    warnings = list(comps.warnings)
    names, areas = _strata_frame(survey)
    code_of = {n: i for i, n in enumerate(names)}
    codes: npt.NDArray[np.intp] = np.asarray(
        survey.plots["stratum"].map(code_of).to_numpy(), dtype=np.intp
    )
    pool_cols = [c for c in plots.columns if c.startswith("pool:")]
    measured = [c.removeprefix("pool:") for c in pool_cols]
    kinds = {name: methodology.pool(name).kind for name in measured}
    stock = plots[[f"pool:{n}" for n in measured if kinds[n] == "stock"]].sum(axis=1).to_numpy()
    flows = [n for n in measured if kinds[n] != "stock"]
    net = None
    if flows:
        net = sum(
            (
                plots[f"pool:{n}"].to_numpy() * (CO2_PER_C if kinds[n] == "removal" else -1.0)
                for n in flows
            ),
            start=np.zeros(len(plots)),
        )
    has_areas = areas is not None
    area_arr = areas if areas is not None else np.ones(len(names))
    mc = (
        _monte_carlo(methodology, plots, codes, names, area_arr, p, kinds, settings)
        if has_areas
        else None
    )
    stock_est = stratified_estimate(stock, codes, names, area_arr, conf)
    result: dict[str, Any] = {
        "methodology": methodology_block(methodology),
        "quantity": "carbon stock of the measured pools at survey time",
        "strata": _stratified_block(
            stock_est, "mean_tc_per_ha", "ci90_half_width_tc_per_ha", "total_tc"
        ),
    }
    if not has_areas:
        warnings.append("no strata table with areas was given: totals are not computed")
        for row in result["strata"]:
            row["area_ha"] = row["area_mu"] = row["total_tc"] = None
    result["total"] = _total_block(stock_est, has_areas, settings, mc)
    result["pools"] = _pools_block(
        methodology, plots, measured, comps, codes, names, area_arr, has_areas, conf
    )
    result["sampling"] = _sampling_block(stock_est, settings)
    if net is not None:
        result["annual"] = _annual_block(
            stratified_estimate(net, codes, names, area_arr, conf), has_areas, settings, mc
        )
    if mc is not None:
        result["monte_carlo"] = mc
    result["parameters"] = p.used_values()
    result["parameter_details"] = p.details()
    result["unconfirmed_parameters"] = p.unconfirmed()
    if result["total"].get("uncertainty_deduction", {}).get("rule_confirmed") is False:
        warnings.append(
            f"uncertainty deduction rule {settings.uncertainty_rule!r} is recalled, not read in "
            "its primary text"
        )
    result["warnings"] = warnings
    result["plots"] = _plots_block(survey, plots, stock)
    return result


def _deduction(
    value: float,
    sampling_half_width: float,
    df: float,
    mc: Mapping[str, Any] | None,
    settings: Settings,
) -> dict[str, Any]:
    """The deduction on the wider of the sampling and Monte Carlo 90 % half-widths."""
    half_width, basis = sampling_half_width, "sampling"
    if mc is not None:
        mc_half = (mc["ci_high"] - mc["ci_low"]) / 2.0
        if mc_half > half_width:
            half_width, basis = mc_half, "monte_carlo"
    out = deduct(
        value,
        half_width,
        rule=settings.uncertainty_rule,
        df=df,
        threshold=settings.target_relative_precision,
    ).to_dict()
    out["basis"] = basis
    return out


def _total_block(
    est: StratifiedEstimate,
    has_areas: bool,
    settings: Settings,
    mc: Mapping[str, Any] | None,
) -> dict[str, Any]:
    mean = est.mean
    block: dict[str, Any] = {
        "area_ha": _round(est.area_ha) if has_areas else None,
        "area_mu": _round(ha_to_mu(est.area_ha), 3) if has_areas else None,
        "n_plots": est.total.n,
        "mean_tc_per_ha": _round(mean.mean) if has_areas else None,
        "ci90_half_width_tc_per_ha": _round(mean.half_width) if has_areas else None,
        "carbon_t": None,
        "co2e_t": None,
        "ci90_half_width_co2e_t": None,
        "ci90_relative": _round(mean.relative_half_width) if has_areas else None,
        "df": _round(est.total.df, 3),
        "confidence": settings.confidence,
    }
    if not has_areas:
        return block
    co2 = est.total.scaled(CO2_PER_C)
    block.update(
        {
            "carbon_t": _round(est.total.mean),
            "ci90_half_width_carbon_t": _round(est.total.half_width),
            "co2e_t": _round(co2.mean),
            "ci90_half_width_co2e_t": _round(co2.half_width),
            "ci90_low_co2e_t": _round(co2.low),
            "ci90_high_co2e_t": _round(co2.high),
        }
    )
    block["uncertainty_deduction"] = _deduction(
        co2.mean, co2.half_width, co2.df, mc["co2e_t"] if mc else None, settings
    )
    return block


def _annual_block(
    est: StratifiedEstimate,
    has_areas: bool,
    settings: Settings,
    mc: Mapping[str, Any] | None,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "quantity": "annual removal and emission pools of this survey: removals × 44/12 − "
        "emissions (stock changes need two surveys: mrv plots change)",
        "strata": _stratified_block(
            est, "mean_tco2e_per_ha_yr", "ci90_half_width_tco2e_per_ha_yr", "total_tco2e_per_yr"
        ),
        "total": None,
        "sampling": _sampling_block(est, settings),
    }
    if has_areas:
        tot = est.total
        mc_net = mc.get("net_tco2e_per_yr") if mc else None
        block["total"] = {
            "net_tco2e_per_yr": _round(tot.mean),
            "ci90_half_width_tco2e_per_yr": _round(tot.half_width),
            "ci90_relative": _round(tot.relative_half_width),
            "df": _round(tot.df, 3),
            "uncertainty_deduction": _deduction(tot.mean, tot.half_width, tot.df, mc_net, settings),
        }
        if mc_net is not None:
            block["total"]["mc_ci90_low_tco2e_per_yr"] = _round(mc_net["ci_low"])
            block["total"]["mc_ci90_high_tco2e_per_yr"] = _round(mc_net["ci_high"])
    return block


def _pools_block(
    methodology: Methodology,
    plots: pd.DataFrame,
    measured: list[str],
    comps: PlotComponents,
    codes: npt.NDArray[np.intp],
    names: list[str],
    areas: FloatArray,
    has_areas: bool,
    confidence: float,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for pool in methodology.pools:
        row: dict[str, Any] = {"pool": pool.name, "kind": pool.kind, "unit": pool.unit}
        if pool.name in measured:
            est = stratified_estimate(
                plots[f"pool:{pool.name}"].to_numpy(), codes, names, areas, confidence
            )
            if pool.name in comps.defaulted:
                row["status"] = "default"
                row["reason"] = comps.defaulted[pool.name]
            else:
                row["status"] = "measured"
            row["by_stratum"] = {s.name: _round(s.mean) for s in est.strata}
            if has_areas:
                row["mean_per_ha"] = _round(est.mean.mean)
                row["total"] = _round(est.total.mean)
                row["ci90_half_width_total"] = _round(est.total.half_width)
        else:
            row["status"] = "omitted"
            row["reason"] = comps.omitted.get(pool.name, "not measured in this survey")
        rows.append(row)
    for name, why in methodology.excluded_pools.items():
        rows.append({"pool": name, "status": "excluded", "reason": why})
    return rows


def _sampling_block(est: StratifiedEstimate, settings: Settings) -> dict[str, Any]:
    target = settings.target_relative_precision
    area = est.area_ha
    weights = np.array([s.area_ha / area for s in est.strata])
    sds = np.array([s.sd for s in est.strata])
    mean = abs(est.mean.mean)
    block: dict[str, Any] = {
        "target_relative_precision": target,
        "confidence": settings.confidence,
        "achieved_relative_precision": _round(est.mean.relative_half_width),
        "n_plots": est.total.n,
        "method": "CDM AR-Tool03, allocation proportional to w_h·s_h, t iterated with n−1 df",
    }
    if mean == 0 or not np.all(np.isfinite(sds)):
        block.update({"n_required": None, "sufficient": None, "strata": []})
        return block
    size = required_plots(weights, sds, target * mean, confidence=settings.confidence)
    block["n_required"] = size.n_required
    block["sufficient"] = bool(est.mean.relative_half_width <= target)
    block["strata"] = [
        {"stratum": s.name, "n_plots": s.n, "n_required": n_req, "sufficient": s.n >= n_req}
        for s, n_req in zip(est.strata, size.allocation_required, strict=True)
    ]
    return block


def _monte_carlo(
    methodology: Methodology,
    plots: pd.DataFrame,
    codes: npt.NDArray[np.intp],
    names: list[str],
    areas: FloatArray,
    p: ParamValues,
    kinds: Mapping[str, str],
    settings: Settings,
) -> dict[str, Any]:
    comp_names = [c for c in plots.columns if not c.startswith("pool:")]
    comps = plots[comp_names].to_numpy(np.float64)
    params_used = p.used_values()
    seed = seed_from(
        methodology.id, methodology.version, comps, codes, areas, params_used, settings.mc_draws
    )
    totals, varied = simulate_totals(
        methodology.pool_values,
        comps,
        comp_names,
        codes,
        areas,
        p.params,
        draws=settings.mc_draws,
        seed=seed,
    )
    stock = sum(
        (v for n, v in totals.items() if kinds.get(n) == "stock"),
        start=np.zeros(settings.mc_draws),
    )
    block: dict[str, Any] = {
        "draws": settings.mc_draws,
        "seed": seed,
        "varied_parameters": varied,
        "sampling_error": "multivariate t per stratum (n_h − 1 df)",
        "co2e_t": summarize_draws(
            stock * CO2_PER_C, seed=seed, confidence=settings.confidence
        ).to_dict(),
    }
    flows = [n for n, k in kinds.items() if k != "stock"]
    if flows:
        net = sum(
            (totals[n] * (CO2_PER_C if kinds[n] == "removal" else -1.0) for n in flows),
            start=np.zeros(settings.mc_draws),
        )
        block["net_tco2e_per_yr"] = summarize_draws(
            net, seed=seed, confidence=settings.confidence
        ).to_dict()
    return block


def _plots_block(survey: Survey, plots: pd.DataFrame, stock: FloatArray) -> list[dict[str, Any]]:
    """Per-plot rows: id, stratum, WGS84 location, stock (t C/ha), components and pools."""
    frame = pd.DataFrame(
        {
            "plot_id": survey.plots["plot_id"].to_numpy(),
            "stratum": survey.plots["stratum"].to_numpy(),
        }
    )
    if {"lon", "lat"} <= set(survey.plots.columns):
        frame["lon"] = survey.plots["lon"].to_numpy(np.float64).round(8)
        frame["lat"] = survey.plots["lat"].to_numpy(np.float64).round(8)
    frame["stock_tc_per_ha"] = np.asarray(stock, dtype=np.float64).round(6)
    for col in plots.columns:
        key = col.removeprefix("pool:") + ("_per_ha" if col.startswith("pool:") else "")
        frame[key] = plots[col].to_numpy().round(6)
    return frame.to_dict(orient="records")  # type: ignore[return-value]
