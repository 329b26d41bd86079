"""Stock change and net removals between two surveys of the same permanent plots.

Per re-measured plot i: ΔC_i = (C_i,after − C_i,before) / years_i (t C/ha/yr) over the stock
pools measured in both surveys (plus pools that record additions during the period, such as
harvested products; a pool measured only once is left out and reported), years_i from the two
survey dates; net_i = ΔC_i × 44/12 + removal pools − emission pools of the later survey
(t CO2e/ha/yr). The annual flows are those the later survey measured (e.g. the fertiliser of its
last 12 months, accretion above a marker laid before the period); where flows vary from year to
year, survey them every year and average outside this estimator. Paired differences are then
estimated by stratum (strata and areas of the later survey) exactly like stocks (E5 of the
methodology documents). Plots measured only once are listed and left out. Monte Carlo: stratum
means of the per-plot component changes and later-survey components are drawn jointly
(multivariate t), parameters from their pdfs; pools are linear in components, so pools of the
component change are the pool changes.
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


def _pools(methodology: Methodology, comps: pd.DataFrame, p: ParamValues) -> dict[str, FloatArray]:
    """Per-plot value of every pool the survey measured."""
    n = len(comps)
    pools = methodology.pool_values(
        {str(c): comps[c].to_numpy(np.float64) for c in comps.columns}, p
    )
    return {k: np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)) for k, v in pools.items()}


def _comparable_stocks(
    methodology: Methodology, before: set[str], after: set[str]
) -> tuple[list[str], list[str]]:
    """Stock pools that enter the change, and warnings about those left out."""
    used, notes = [], []
    for pool in methodology.pools:
        if pool.kind != "stock" or not ({pool.name} & (before | after)):
            continue
        if pool.name in after and (pool.name in before or pool.period_addition):
            used.append(pool.name)
        else:
            which = "earlier" if pool.name in before else "later"
            notes.append(
                f"pool {pool.name} was measured only in the {which} survey and is left out of "
                "the change (a pool must be measured in both surveys)"
            )
    return used, notes


def _flow_sum(methodology: Methodology, pools: dict[str, FloatArray], n: int) -> FloatArray:
    """removal pools × 44/12 − emission pools (t CO2e/ha/yr)."""
    flow = np.zeros(n)
    for name, values in pools.items():
        kind = methodology.pool(name).kind
        if kind == "removal":
            flow = flow + values * CO2_PER_C
        elif kind == "emission":
            flow = flow - values
    return flow


def estimate_change(
    methodology: Methodology,
    before: Survey,
    after: Survey,
    p: ParamValues,
    settings: Settings,
) -> dict[str, Any]:
    """Stock change per year and net removals between two surveys (JSON-ready mapping)."""
    if methodology.change_unsupported:
        raise InputError(
            f"{methodology.id} does not support a two-survey change: "
            f"{methodology.change_unsupported}"
        )
    conf = settings.confidence
    ids_b, ids_a = before.plot_ids, after.plot_ids
    paired = ids_a[ids_a.isin(ids_b)]
    after_only = [str(x) for x in ids_a[~ids_a.isin(ids_b)]]
    before_only = [str(x) for x in ids_b[~ids_b.isin(ids_a)]]
    own_b = _components(methodology, before, p).loc[paired]
    own_a = _components(methodology, after, p).loc[paired]
    names = sorted(set(own_b.columns) | set(own_a.columns))
    # for Monte Carlo the two component sets are aligned; a component absent from a survey is 0
    # there, and pools measured in one survey only are dropped from the change below
    comp_b = own_b.reindex(columns=names, fill_value=0.0)
    comp_a = own_a.reindex(columns=names, fill_value=0.0)
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
    pools_b = _pools(methodology, own_b, p)
    pools_a = _pools(methodology, own_a, p)
    stocks, left_out = _comparable_stocks(methodology, set(pools_b), set(pools_a))
    zero = np.zeros(len(paired))
    stock_b = sum((pools_b.get(n, zero) for n in stocks), start=zero)
    stock_a = sum((pools_a.get(n, zero) for n in stocks), start=zero)
    flow_a = _flow_sum(methodology, pools_a, len(paired))
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
    warnings += left_out
    warnings += methodology.compare(before, after, p)

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
        stocks,
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
    stocks: list[str],
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
        if name in stocks:
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
