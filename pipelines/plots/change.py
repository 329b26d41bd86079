"""Stock change and net removals between two surveys of the same permanent plots.

Per re-measured plot i: ΔC_i = (C_i,after − C_i,before) / years_i (t C/ha/yr) over the stock
pools, years_i from the two survey dates; net_i = ΔC_i × 44/12 + removal pools − emission pools
of the later survey (t CO2e/ha/yr). Paired differences are then estimated by stratum (strata
and areas of the later survey) exactly like stocks (E5 of the methodology documents). Plots
measured only once are listed and left out. Monte Carlo: stratum means of the per-plot component
changes and later-survey components are drawn jointly (multivariate t), parameters from their
pdfs; pools are linear in components, so pools of the component change are the pool changes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from methodologies.base import Methodology, Survey
from methodologies.parameters import ParamValues
from mrv.errors import InputError, Problem
from mrv.montecarlo import seed_from, summarize_draws
from mrv.settings import Settings
from mrv.stats import stratified_estimate
from mrv.units import CO2_PER_C, ha_to_mu
from pipelines.plots.estimate import _deduction, _round, methodology_block
from pipelines.plots.montecarlo import draw_parameters, draw_stratum_means

FloatArray = npt.NDArray[np.float64]
DAYS_PER_YEAR = 365.25


def _components(methodology: Methodology, survey: Survey, p: ParamValues) -> pd.DataFrame:
    comps = methodology.plot_components(survey, p)
    return comps.frame.reindex(survey.plot_ids)


def _pool_sums(
    methodology: Methodology, comps: pd.DataFrame, p: ParamValues
) -> tuple[FloatArray, FloatArray]:
    """Per-plot stock (t C/ha) and flow (t CO2e/ha/yr) sums of the pools."""
    pools = methodology.pool_values(
        {str(c): comps[c].to_numpy(np.float64) for c in comps.columns}, p
    )
    n = len(comps)
    stock, flow = np.zeros(n), np.zeros(n)
    for name, values in pools.items():
        kind = methodology.pool(name).kind
        v = np.broadcast_to(np.asarray(values, dtype=np.float64), (n,))
        if kind == "stock":
            stock = stock + v
        elif kind == "removal":
            flow = flow + v * CO2_PER_C
        else:
            flow = flow - v
    return stock, flow


def estimate_change(
    methodology: Methodology,
    before: Survey,
    after: Survey,
    p: ParamValues,
    settings: Settings,
) -> dict[str, Any]:
    """Stock change per year and net removals between two surveys (JSON-ready mapping)."""
    conf = settings.confidence
    ids_b, ids_a = before.plot_ids, after.plot_ids
    paired = ids_a[ids_a.isin(ids_b)]
    after_only = [str(x) for x in ids_a[~ids_a.isin(ids_b)]]
    before_only = [str(x) for x in ids_b[~ids_b.isin(ids_a)]]
    comp_b = _components(methodology, before, p)
    comp_a = _components(methodology, after, p)
    names = sorted(set(comp_b.columns) | set(comp_a.columns))
    comp_b = comp_b.reindex(columns=names, fill_value=0.0).loc[paired]
    comp_a = comp_a.reindex(columns=names, fill_value=0.0).loc[paired]
    plots_a = after.plots.set_index("plot_id").loc[paired]
    plots_b = before.plots.set_index("plot_id").loc[paired]
    days = (plots_a["survey_date"] - plots_b["survey_date"]).dt.days.to_numpy(np.float64)
    bad = ~(days > 0)
    if bad.any():
        bad_rows = plots_a["_row"].to_numpy()[bad]
        raise InputError(
            "the later survey must be dated after the earlier one for every re-measured plot",
            [
                Problem(
                    reason=f"plot {pid!r} is not dated after its earlier measurement",
                    file=after.files.get("plots"),
                    row=int(r),
                    column="survey_date",
                )
                for pid, r in zip(paired[bad], bad_rows, strict=True)
            ],
        )
    years = days / DAYS_PER_YEAR
    stock_b, _ = _pool_sums(methodology, comp_b, p)
    stock_a, flow_a = _pool_sums(methodology, comp_a, p)
    change = (stock_a - stock_b) / years
    net = change * CO2_PER_C + flow_a

    if after.has("strata"):
        strata = after["strata"]
        snames = [str(s) for s in strata["stratum"]]
        areas = strata["area_ha"].to_numpy(np.float64)
    else:
        raise InputError(
            "a strata table with areas is needed with the later survey to total the change"
        )
    code_of = {n: i for i, n in enumerate(snames)}
    codes = np.asarray(plots_a["stratum"].map(code_of).to_numpy(), dtype=np.intp)
    moved = plots_a["stratum"].to_numpy() != plots_b["stratum"].to_numpy()
    warnings = (
        [
            f"{len(before_only)} plot(s) measured only in the earlier survey are left out: "
            + ", ".join(before_only[:20])
        ]
        if before_only
        else []
    )
    if after_only:
        warnings.append(
            f"{len(after_only)} plot(s) measured only in the later survey are left out: "
            + ", ".join(after_only[:20])
        )
    if moved.any():
        warnings.append(
            f"{int(moved.sum())} plot(s) changed stratum; the later survey's stratum is used"
        )
    warnings += methodology.compare(before, after)

    change_est = stratified_estimate(change, codes, snames, areas, conf)
    net_est = stratified_estimate(net, codes, snames, areas, conf)
    mean_years = pd.Series(years).groupby(codes).mean()
    rows: list[dict[str, Any]] = []
    for h, (c, n) in enumerate(zip(change_est.strata, net_est.strata, strict=True)):
        rows.append(
            {
                "stratum": c.name,
                "n_plots": c.n,
                "area_ha": _round(c.area_ha),
                "area_mu": _round(ha_to_mu(c.area_ha), 3),
                "mean_years": _round(float(mean_years.get(h, np.nan)), 4),
                "mean_stock_change_tc_per_ha_yr": _round(c.mean),
                "ci90_half_width_tc_per_ha_yr": _round(c.estimate.half_width),
                "mean_net_tco2e_per_ha_yr": _round(n.mean),
                "ci90_half_width_tco2e_per_ha_yr": _round(n.estimate.half_width),
                "total_net_tco2e_per_yr": _round(n.total.mean),
            }
        )
    tot = net_est.total
    total: dict[str, Any] = {
        "area_ha": _round(net_est.area_ha),
        "n_plots": tot.n,
        "stock_change_tc_per_yr": _round(change_est.total.mean),
        "ci90_half_width_tc_per_yr": _round(change_est.total.half_width),
        "net_tco2e_per_yr": _round(tot.mean),
        "ci90_half_width_tco2e_per_yr": _round(tot.half_width),
        "ci90_relative": _round(tot.relative_half_width),
        "df": _round(tot.df, 3),
        "confidence": conf,
    }
    diff = comp_a.to_numpy(np.float64) - comp_b.to_numpy(np.float64)
    mc = _monte_carlo(
        methodology,
        diff / years[:, np.newaxis],
        comp_a.to_numpy(np.float64),
        names,
        codes,
        areas,
        p,
        settings,
    )
    total["uncertainty_deduction"] = _deduction(
        tot.mean, tot.half_width, tot.df, mc["net_tco2e_per_yr"], settings
    )
    return {
        "methodology": methodology_block(methodology),
        "quantity": "change per year between two surveys of the same plots",
        "period": {
            "before": [
                str(before.plots["survey_date"].min().date()),
                str(before.plots["survey_date"].max().date()),
            ],
            "after": [
                str(after.plots["survey_date"].min().date()),
                str(after.plots["survey_date"].max().date()),
            ],
            "mean_years": _round(float(years.mean()), 4),
        },
        "paired_plots": len(paired),
        "unpaired": {"before_only": before_only, "after_only": after_only},
        "strata": rows,
        "total": total,
        "monte_carlo": mc,
        "parameters": p.used_values(),
        "unconfirmed_parameters": p.unconfirmed(),
        "warnings": warnings,
        "plots": [
            {
                "plot_id": str(pid),
                "years": _round(float(y), 4),
                "stock_before_tc_per_ha": _round(float(b)),
                "stock_after_tc_per_ha": _round(float(a)),
                "net_tco2e_per_ha_yr": _round(float(n)),
            }
            for pid, y, b, a, n in zip(paired, years, stock_b, stock_a, net, strict=True)
        ],
    }


def _monte_carlo(
    methodology: Methodology,
    change_comps: FloatArray,
    after_comps: FloatArray,
    names: list[str],
    codes: npt.NDArray[np.intp],
    areas: FloatArray,
    p: ParamValues,
    settings: Settings,
) -> dict[str, Any]:
    draws = settings.mc_draws
    joint = np.hstack([change_comps, after_comps])
    seed = seed_from(
        methodology.id, methodology.version, "change", joint, codes, areas, p.used_values(), draws
    )
    rng = np.random.default_rng(seed)
    means = draw_stratum_means(joint, codes, areas.size, draws, rng)
    pdraws = draw_parameters(p.params, draws, rng)
    values = ParamValues(p.params, draws=pdraws)
    k = len(names)
    delta = methodology.pool_values({n: means[:, :, i] for i, n in enumerate(names)}, values)
    later = methodology.pool_values({n: means[:, :, k + i] for i, n in enumerate(names)}, values)
    net = np.zeros(draws)
    for name, v in delta.items():
        if methodology.pool(name).kind == "stock":
            net += np.broadcast_to(v, (draws, areas.size)) @ areas * CO2_PER_C
    for name, v in later.items():
        kind = methodology.pool(name).kind
        if kind != "stock":
            sign = CO2_PER_C if kind == "removal" else -1.0
            net += np.broadcast_to(v, (draws, areas.size)) @ areas * sign
    return {
        "draws": draws,
        "seed": seed,
        "varied_parameters": sorted(n for n in pdraws if n in values.used),
        "net_tco2e_per_yr": summarize_draws(
            net, seed=seed, confidence=settings.confidence
        ).to_dict(),
    }
