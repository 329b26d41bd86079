"""Model-assisted estimate of the project carbon total from a plot sample and a density map.

Design: a stratified random sample of plots (stratum h has area A_h and n_h plots; plots are a
negligible fraction of a stratum, so no finite-population correction, as in
:func:`mrv.stats.stratified_estimate`). Each plot has its observed density y_i and the map's
prediction ŷ_i; each stratum has the map mean m_h = mean of ŷ over the stratum's pixels.

``estimator="greg"`` (default) — the generalised regression estimator with working model
    y = a_h + b·ŷ (stratum intercepts, one slope), fitted by design-weighted least squares
    (weights A_h/n_h): T̂ = Σ_h A_h [ȳ_h + b̂ (m_h − ȳ̂_h)] (Särndal, Swensson & Wretman 1992,
    *Model Assisted Survey Sampling*, ch. 6–7; with one slope across strata it is the combined
    regression estimate of Cochran 1977, ch. 7). The slope calibrates the map: b̂ ≈ 1 for an
    unbiased map, b̂ ≈ 0 for a map unrelated to the plots, where T̂ falls back to the plots-only
    estimate.
``estimator="difference"`` — the difference estimator with the map taken as is (a = 0,
    b = 1): T̂ = Σ_h A_h (m_h + ē_h), ē_h = mean_h(y − ŷ), i.e. the map total plus the
    area-weighted mean residual (Särndal et al. 1992, ch. 6; McRoberts, Næsset & Gobakken 2013,
    "Inference for lidar-assisted estimation of forest growing stock volume", Remote Sens.
    Environ. 128:268–275). Exactly design-unbiased for a map made without the sample; a map
    that is pure noise makes it *worse* than plots only (Var(y − ŷ) = Var y + Var ŷ).

With A_h equal to the stratum's pixel area, Σ_h A_h m_h = Σ_pixels ŷ × pixel area, the map
total. Variance (both): V̂ = Σ_h A_h² s²_e,h / n_h from the residuals e_i = y_i − â_h − b̂ ŷ_i
(the Taylor-linearised GREG variance of Särndal et al. 1992 with g-weights set to 1), scaled by
(n − H)/(n − H − 1) for the fitted slope; the 90 % interval uses Student's t with Satterthwaite
degrees of freedom from per-stratum residual df (n_h − 1, times (n − H − 1)/(n − H) for GREG).
The plots-only stratified estimate is returned beside it, and the relative efficiency
V̂_plots / V̂_model-assisted (> 1: the map helped; plots-only would need that many times more
plots for the same precision).

**Plot predictions.** If the map was fitted to the same plots, its value at a plot is an
in-sample prediction: for flexible models (random forests) these residuals are far too small and
the interval too narrow; worse, they under-correct the map's bias, so the total itself is biased
(150 repeated samples of the synthetic landscape of tests/satellite/test_model_assisted.py,
true total ≈ 2 230 t C, map refitted each time, strata the features do not see: in-sample
residuals −57 ± 3 t C bias and 39 % coverage of the nominal 90 %; out-of-fold residuals
+1 ± 4 t C and 91 %). Use out-of-fold predictions instead
(:attr:`pipelines.satellite.carbon.DensityModel.oof_tc_per_ha`): with the cross-fitted map (the
mean of the K fold forests) and folds balanced within strata, the mean out-of-fold residual
estimates the map's error without that optimism (cross-fitting; Chernozhukov et al. 2018,
Econometrics J. 21:C1–C68). A map made independently of the sample can be read at the plots'
pixels (``predicted="map"`` in :func:`model_assisted_total`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr

from mrv.errors import InputError, Problem
from mrv.stats import Estimate, StratifiedEstimate, group_moments, satterthwaite_df
from mrv.stats import stratified_estimate as plots_only_estimate
from pipelines.satellite.zonal import zonal_totals

FloatArray = npt.NDArray[np.float64]
Estimator = Literal["greg", "difference"]


@dataclass(frozen=True)
class StratumTerm:
    """One stratum's part of the model-assisted total."""

    name: str
    area_ha: float
    n: int
    map_mean_tc_per_ha: float
    """m_h: mean map density over the stratum's pixels."""
    plot_mean_tc_per_ha: float
    """ȳ_h: mean observed density of its plots."""
    predicted_mean_tc_per_ha: float
    """ȳ̂_h: mean map prediction at its plots."""
    residual_sd_tc_per_ha: float
    """s_e,h of the residuals y − â_h − b̂ŷ."""
    total: Estimate
    """A_h [ȳ_h + b̂ (m_h − ȳ̂_h)] with SE A_h s_e,h/√n_h."""


@dataclass(frozen=True)
class ModelAssistedEstimate:
    """Model-assisted total beside the plots-only stratified estimate."""

    estimator: Estimator
    total: Estimate
    """Model-assisted total (t C) with its design-based interval."""
    plots_only: StratifiedEstimate
    slope: float
    """b̂ (1 for the difference estimator)."""
    strata: tuple[StratumTerm, ...]

    @property
    def relative_efficiency(self) -> float:
        """V̂(plots only) / V̂(model-assisted); ``inf`` if the model-assisted SE is 0."""
        v = self.total.se**2
        return self.plots_only.total.se**2 / v if v > 0 else math.inf

    @property
    def map_total_tc(self) -> float:
        """Σ_h A_h m_h: the map's own (synthetic) total."""
        return sum(s.area_ha * s.map_mean_tc_per_ha for s in self.strata)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""

        def est(e: Estimate) -> dict[str, float]:
            return {
                "total_tc": e.mean, "se_tc": e.se, "df": e.df, "ci90_low_tc": e.low,
                "ci90_high_tc": e.high, "ci90_relative": e.relative_half_width,
            }  # fmt: skip

        return {
            "estimator": self.estimator,
            "model_assisted": est(self.total),
            "plots_only": est(self.plots_only.total),
            "relative_efficiency": self.relative_efficiency,
            "slope": self.slope,
            "map_total_tc": self.map_total_tc,
            "confidence": self.total.confidence,
            "strata": [
                {
                    "stratum": s.name,
                    "area_ha": s.area_ha,
                    "n_plots": s.n,
                    "map_mean_tc_per_ha": s.map_mean_tc_per_ha,
                    "plot_mean_tc_per_ha": s.plot_mean_tc_per_ha,
                    "predicted_mean_tc_per_ha": s.predicted_mean_tc_per_ha,
                    "residual_sd_tc_per_ha": s.residual_sd_tc_per_ha,
                    "total_tc": s.total.mean,
                    "se_tc": s.total.se,
                }
                for s in self.strata
            ],
        }


def model_assisted_estimate(
    observed: npt.ArrayLike,
    predicted: npt.ArrayLike,
    codes: npt.ArrayLike,
    names: Sequence[str],
    areas_ha: npt.ArrayLike,
    map_means_tc_per_ha: npt.ArrayLike,
    *,
    estimator: Estimator = "greg",
    confidence: float = 0.90,
) -> ModelAssistedEstimate:
    """Model-assisted total from plot values and map summaries (module docstring).

    ``observed``/``predicted`` are each plot's density y_i and map prediction ŷ_i (t C/ha);
    ``codes[i]`` indexes ``names``/``areas_ha``/``map_means_tc_per_ha`` (stratum area A_h in ha,
    map mean m_h over the stratum). Every stratum needs at least 2 plots.
    """
    y = np.asarray(observed, dtype=np.float64)
    yhat = np.asarray(predicted, dtype=np.float64)
    c = np.asarray(codes, dtype=np.intp)
    a = np.asarray(areas_ha, dtype=np.float64)
    m = np.asarray(map_means_tc_per_ha, dtype=np.float64)
    n_strata = len(names)
    if estimator not in ("greg", "difference"):
        raise InputError(f"unknown estimator {estimator!r}; use 'greg' or 'difference'")
    if y.shape != yhat.shape or y.shape != c.shape or y.ndim != 1:
        raise InputError("observed, predicted and codes must be 1-D arrays of equal length")
    if a.shape != (n_strata,) or m.shape != (n_strata,):
        raise InputError(f"{n_strata} strata named but {a.size} areas and {m.size} map means")
    bad = ~(np.isfinite(y) & np.isfinite(yhat))
    if bad.any():
        raise InputError(
            "plots need finite observed and predicted densities",
            [Problem(reason="not finite", row=int(i)) for i in np.nonzero(bad)[0]],
        )
    if not np.all(np.isfinite(m)) or np.any(a < 0):
        raise InputError("map means must be finite and areas non-negative for every stratum")
    plots_only = plots_only_estimate(y, c, names, a, confidence)  # checks n_h >= 2
    counts, ybar, _ = group_moments(y, c, n_strata)
    _, yhat_bar, _ = group_moments(yhat, c, n_strata)
    n, h = int(counts.sum()), n_strata
    if estimator == "greg":
        w = (a / counts)[c]  # design weight (area per plot) of each plot
        dx = yhat - yhat_bar[c]
        sxx = float(np.sum(w * dx * dx))
        slope = float(np.sum(w * dx * (y - ybar[c])) / sxx) if sxx > 0 else 0.0
        resid = y - ybar[c] - slope * dx
        synthetic = ybar + slope * (m - yhat_bar)
        if n - h - 1 < 1:
            raise InputError(f"{n} plots in {h} strata leave no degrees of freedom for GREG")
        inflate = (n - h) / (n - h - 1.0)
        dfs = (counts - 1.0) * (n - h - 1.0) / (n - h)
    else:
        slope = 1.0
        resid = y - yhat
        synthetic = m + np.bincount(c, weights=resid, minlength=n_strata) / counts
        inflate = 1.0
        dfs = (counts - 1.0).astype(np.float64)
    _, _, sd = group_moments(resid, c, n_strata)
    var_terms = a**2 * sd**2 * inflate / counts
    totals = a * synthetic
    strata = tuple(
        StratumTerm(
            name=names[k],
            area_ha=float(a[k]),
            n=int(counts[k]),
            map_mean_tc_per_ha=float(m[k]),
            plot_mean_tc_per_ha=float(ybar[k]),
            predicted_mean_tc_per_ha=float(yhat_bar[k]),
            residual_sd_tc_per_ha=float(sd[k]),
            total=Estimate(
                float(totals[k]),
                float(math.sqrt(var_terms[k])),
                int(counts[k]),
                float(dfs[k]),
                confidence,
            ),
        )
        for k in range(n_strata)
    )
    total = Estimate(
        mean=float(totals.sum()),
        se=float(math.sqrt(var_terms.sum())),
        n=n,
        df=satterthwaite_df(var_terms, dfs),
        confidence=confidence,
    )
    return ModelAssistedEstimate(estimator, total, plots_only, slope, strata)


def model_assisted_total(
    density: xr.DataArray,
    plots: pd.DataFrame,
    strata: xr.DataArray,
    *,
    stratum_codes: Mapping[str, int],
    predicted: npt.ArrayLike | Literal["map"],
    areas_ha: Mapping[str, float] | None = None,
    estimator: Estimator = "greg",
    pixel_area_ha: float | None = None,
    confidence: float = 0.90,
) -> ModelAssistedEstimate:
    """Model-assisted total of a density map over sampling strata given as a class raster.

    ``plots`` has ``stratum`` (a key of ``stratum_codes``, which maps each stratum to its code in
    ``strata``) and ``stock_tc_per_ha``. ``predicted`` is each plot's map prediction: the
    out-of-fold predictions (``DensityModel.oof_tc_per_ha``, same plot order) when the map was
    fitted to these plots — required then, because in-sample predictions are optimistic and
    *bias* the total (see the module docstring) — or ``"map"`` to read the map at the plots'
    pixel ``row``/``col`` (as from :func:`pipelines.satellite.carbon.plot_features`) for a map
    made independently of them. Stratum areas A_h default to the stratum's pixel area on ``strata``;
    ``areas_ha`` overrides them (e.g. error-adjusted areas). m_h is the map mean over the
    stratum's mapped pixels.
    """
    missing = [c for c in ("stratum", "stock_tc_per_ha") if c not in plots.columns]
    if missing:
        raise InputError(f"plots lack column(s) {', '.join(missing)}")
    names = list(stratum_codes)
    labels = plots["stratum"].astype(str).to_numpy()
    unknown = sorted(set(labels) - set(names))
    if unknown:
        raise InputError(f"plots in strata without a map code: {', '.join(unknown)}")
    codes = np.array([names.index(s) for s in labels], dtype=np.intp)
    if isinstance(predicted, str):
        if predicted != "map":
            raise InputError(f"predicted must be an array or 'map', not {predicted!r}")
        if not {"row", "col"} <= set(plots.columns):
            raise InputError("plots need row/col pixel positions or explicit predictions")
        rows = xr.DataArray(plots["row"].to_numpy(np.intp), dims="plot")
        cols = xr.DataArray(plots["col"].to_numpy(np.intp), dims="plot")
        yhat = np.asarray(density.isel(y=rows, x=cols).to_numpy(), dtype=np.float64)
        if not np.all(np.isfinite(yhat)):
            ids = plots.get("plot_id", pd.Series(range(len(plots)))).to_numpy()
            bad = [str(i) for i in ids[~np.isfinite(yhat)]]
            raise InputError(f"the map has no value at plot(s) {', '.join(bad)}")
    else:
        yhat = np.asarray(predicted, dtype=np.float64)
        if yhat.shape != (len(plots),):
            raise InputError(f"{yhat.size} predictions for {len(plots)} plots")
    label_of = {int(code): name for name, code in stratum_codes.items()}
    zonal = zonal_totals(density, strata, pixel_area_ha=pixel_area_ha, labels=label_of)
    by_code = zonal.set_index("zone")
    map_means = by_code.loc[[stratum_codes[s] for s in names], "mean_tc_per_ha"].to_numpy()
    empty = [s for s, v in zip(names, map_means, strict=True) if not np.isfinite(v)]
    if empty:
        raise InputError(f"the map has no density in stratum(s) {', '.join(empty)}")
    if areas_ha is None:
        areas = by_code.loc[[stratum_codes[s] for s in names], "area_ha"].to_numpy()
    else:
        lacking = [s for s in names if s not in areas_ha]
        if lacking:
            raise InputError(f"no area given for stratum(s) {', '.join(lacking)}")
        areas = np.array([areas_ha[s] for s in names], dtype=np.float64)
    return model_assisted_estimate(
        plots["stock_tc_per_ha"].to_numpy(np.float64), yhat, codes, names, areas, map_means,
        estimator=estimator, confidence=confidence,
    )  # fmt: skip
