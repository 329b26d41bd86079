"""Model-assisted (GREG / difference) totals: formulas against an independent least-squares
oracle, and design properties over repeated stratified samples of a synthetic population."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from pyproj import Transformer
from scipy import stats as st

from mrv.errors import InputError
from mrv.stats import stratified_estimate
from pipelines.satellite.carbon import (
    fit_density_model,
    plot_features,
    plots_frame,
    predict_density,
    predict_intervals,
)
from pipelines.satellite.model_assisted import model_assisted_estimate, model_assisted_total

CRS = "EPSG:32650"
X0, Y0, RES = 600_000.0, 3_420_000.0, 10.0
TRANSFORM = [RES, 0.0, X0, 0.0, -RES, Y0]
PIXEL_HA = 0.01


def test_greg_matches_weighted_least_squares_oracle() -> None:
    rng = np.random.default_rng(0)
    names = ["bamboo", "forest", "tea"]
    n_h = np.array([9, 7, 5])
    codes = np.repeat(np.arange(3), n_h)
    yhat = rng.uniform(10, 80, codes.size)
    y = 5 + 0.8 * yhat + rng.normal(0, 6, codes.size)
    areas = np.array([1200.0, 800.0, 300.0])
    map_means = np.array([52.0, 41.0, 18.0])
    r = model_assisted_estimate(y, yhat, codes, names, areas, map_means)
    # oracle: WLS of y on stratum dummies + ŷ with weights A_h / n_h
    w = (areas / n_h)[codes]
    design = np.column_stack([codes == 0, codes == 1, codes == 2, yhat]).astype(float)
    coef = np.linalg.lstsq(design * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
    a_h, b = coef[:3], coef[3]
    assert r.slope == pytest.approx(b, rel=1e-10)
    assert r.total.mean == pytest.approx(np.sum(areas * (a_h + b * map_means)), rel=1e-12)
    e = y - design @ coef
    n, h = codes.size, 3
    s2 = np.array([np.var(e[codes == k], ddof=1) for k in range(3)]) * (n - h) / (n - h - 1)
    terms = areas**2 * s2 / n_h
    assert r.total.se == pytest.approx(math.sqrt(terms.sum()), rel=1e-10)
    dfs = (n_h - 1) * (n - h - 1) / (n - h)
    df = terms.sum() ** 2 / np.sum(terms**2 / dfs)
    assert r.total.df == pytest.approx(df, rel=1e-10)
    assert r.total.half_width == pytest.approx(st.t.ppf(0.95, df) * math.sqrt(terms.sum()))
    # plots-only estimate and relative efficiency beside it
    ref = stratified_estimate(y, codes, names, areas)
    assert r.plots_only.total.mean == pytest.approx(ref.total.mean)
    assert r.relative_efficiency == pytest.approx(ref.total.se**2 / r.total.se**2)
    assert r.map_total_tc == pytest.approx(np.sum(areas * map_means))
    d = r.to_dict()
    assert d["model_assisted"]["total_tc"] == pytest.approx(r.total.mean)
    assert [s["stratum"] for s in d["strata"]] == names


def test_difference_estimator_is_map_total_plus_mean_residuals() -> None:
    y = np.array([30.0, 34, 41, 10, 12, 15, 9])
    yhat = np.array([28.0, 35, 38, 11, 10, 14, 12])
    codes = np.array([0, 0, 0, 1, 1, 1, 1])
    r = model_assisted_estimate(
        y, yhat, codes, ["a", "b"], [100.0, 50.0], [33.0, 11.5], estimator="difference"
    )
    e = y - yhat  # [2, -1, 3] and [-1, 2, 1, -3]
    expect = 100 * (33.0 + 4 / 3) + 50 * (11.5 - 1 / 4)
    assert r.total.mean == pytest.approx(expect)
    var = 100**2 * np.var(e[:3], ddof=1) / 3 + 50**2 * np.var(e[3:], ddof=1) / 4
    assert r.total.se == pytest.approx(math.sqrt(var))
    assert r.slope == 1.0
    # a perfect map leaves no sampling error
    exact = model_assisted_estimate(
        y, y, codes, ["a", "b"], [100.0, 50.0], [33.0, 11.5], estimator="difference"
    )
    assert exact.total.se == 0.0 and exact.relative_efficiency == math.inf


def _population(
    seed: int, informative: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Densities, map, stratum code of every pixel, stratum areas (ha)."""
    rng = np.random.default_rng(seed)
    sizes = np.array([9000, 6000, 3000])
    stratum = np.repeat(np.arange(3), sizes)
    signal = rng.gamma(4.0, 1.0, stratum.size) * np.array([12.0, 8.0, 3.0])[stratum]
    y = np.maximum(0, signal + rng.normal(0, 0.25, stratum.size) * signal.std())
    yhat = signal if informative else rng.permutation(signal)  # pure noise: unrelated to y
    return y, yhat, stratum, sizes * PIXEL_HA


def _monte_carlo(informative: bool, estimator: str, draws: int = 200) -> dict[str, np.ndarray]:
    y, yhat, stratum, areas = _population(42, informative)
    truth = y.sum() * PIXEL_HA
    map_means = np.array([yhat[stratum == h].mean() for h in range(3)])
    members = [np.nonzero(stratum == h)[0] for h in range(3)]
    n_h = (20, 14, 8)
    rng = np.random.default_rng(7)
    out: dict[str, list[float]] = {k: [] for k in ("err", "hw", "se", "cover", "hw_plots", "re")}
    for _ in range(draws):
        idx = np.concatenate(
            [rng.choice(m, n, replace=False) for m, n in zip(members, n_h, strict=True)]
        )
        r = model_assisted_estimate(
            y[idx], yhat[idx], stratum[idx], ["a", "b", "c"], areas, map_means,
            estimator=estimator,  # type: ignore[arg-type]
        )  # fmt: skip
        out["err"].append(r.total.mean - truth)
        out["hw"].append(r.total.half_width)
        out["se"].append(r.total.se)
        out["cover"].append(r.total.low <= truth <= r.total.high)
        out["hw_plots"].append(r.plots_only.total.half_width)
        out["re"].append(r.relative_efficiency)
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


@pytest.mark.parametrize("estimator", ["greg", "difference"])
def test_informative_map_narrows_the_interval_and_keeps_coverage(estimator: str) -> None:
    mc = _monte_carlo(True, estimator)
    err, n = mc["err"], mc["err"].size
    print(estimator, "coverage", mc["cover"].mean(), "median RE", np.median(mc["re"]))
    assert abs(err.mean()) < 3 * err.std(ddof=1) / math.sqrt(n)  # unbiased over samples
    assert 0.85 <= mc["cover"].mean() <= 0.95
    assert np.median(mc["re"]) > 4.0
    assert np.mean(mc["hw"] < mc["hw_plots"]) > 0.95
    # the design-based SE estimates the actual spread of the estimates
    assert 0.8 < mc["se"].mean() / err.std(ddof=1) < 1.25


def test_noise_map_greg_is_no_worse_than_plots_only() -> None:
    mc = _monte_carlo(False, "greg")
    err, n = mc["err"], mc["err"].size
    print("noise greg coverage", mc["cover"].mean(), "mean 1/RE", np.mean(1 / mc["re"]))
    assert abs(err.mean()) < 3 * err.std(ddof=1) / math.sqrt(n)
    assert 0.85 <= mc["cover"].mean() <= 0.95
    assert np.mean(1.0 / mc["re"]) < 1.10  # variance at most ~10 % above plots-only
    # the plain difference estimator is hurt by a noise map (Var(y − ŷ) = Var y + Var ŷ)
    diff = _monte_carlo(False, "difference", draws=40)
    assert np.median(diff["re"]) < 0.7


def _features(ny: int, nx: int, rng: np.random.Generator) -> np.ndarray:
    """Two smooth-ish feature fields and three of pure noise."""
    yy, xx = np.mgrid[0:ny, 0:nx] / 10.0
    f0 = np.sin(xx) + np.cos(0.7 * yy) + 0.3 * rng.normal(size=(ny, nx))
    f1 = np.cos(0.5 * xx + 0.3 * yy) + 0.3 * rng.normal(size=(ny, nx))
    return np.stack([f0, f1, *rng.normal(size=(3, ny, nx))]).astype(np.float32)


def _landscape(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features (5, 60, 90), strata codes 1-3 and the true density (t C/ha) of every pixel.

    The strata shift the density by +10 / −25 t C/ha, which no feature shows: the map is biased
    within strata, and the model-assisted estimator must correct that from the plots.
    """
    rng = np.random.default_rng(seed)
    ny, nx = 60, 90
    feats = _features(ny, nx, rng)
    strata = np.ones((ny, nx), dtype=np.uint8)
    strata[:, 40:] = 2
    strata[45:, 70:] = 3
    shift = 10.0 * (strata == 2) - 25.0 * (strata == 3)
    truth = 40 + 18 * np.tanh(feats[0]) + 8 * feats[1] + shift + rng.normal(0, 4, (ny, nx))
    return feats, strata, np.maximum(truth, 0.0)


N_PLOTS = {1: 45, 2: 40, 3: 20}


def test_end_to_end_map_plots_and_model_assisted_total() -> None:
    feats, strata, truth = _landscape(3)
    rng = np.random.default_rng(30)
    ny, nx = strata.shape
    coords = {"y": Y0 - RES * (np.arange(ny) + 0.5), "x": X0 + RES * (np.arange(nx) + 0.5)}
    names = ["f0", "f1", "f2", "f3", "f4"]
    features = xr.DataArray(
        feats, dims=("feature", "y", "x"), coords={"feature": names, **coords},
        attrs={"crs": CRS, "transform": TRANSFORM},
    ).chunk({"y": 32, "x": 32})  # fmt: skip
    strata_da = xr.DataArray(strata, dims=("y", "x"), coords=coords,
                             attrs={"crs": CRS, "transform": TRANSFORM})  # fmt: skip
    # stratified random sample of plot pixels, located by their WGS84 centres
    code_of = {"bamboo": 1, "forest": 2, "tea": 3}
    picks = []
    for name, code in code_of.items():
        rows, cols = np.nonzero(strata == code)
        chosen = rng.choice(rows.size, N_PLOTS[code], replace=False)
        picks += [(name, int(rows[i]), int(cols[i])) for i in chosen]
    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    records = []
    for i, (name, r, c) in enumerate(picks):
        lon, lat = to_wgs.transform(X0 + RES * (c + 0.5), Y0 - RES * (r + 0.5))
        records.append({"plot_id": f"P{i:03d}", "stratum": name, "lon": lon, "lat": lat,
                        "stock_tc_per_ha": float(truth[r, c])})  # fmt: skip
    table = plot_features(features, plots_frame(records))
    assert [(r, c) for _, r, c in picks] == list(zip(table["row"], table["col"], strict=True))
    model = fit_density_model(table[names], table["stock_tc_per_ha"], seed=0,
                              strata=table["stratum"])  # fmt: skip
    density = predict_density(model, features)["carbon_tc_per_ha"]
    total_truth = truth.sum() * PIXEL_HA
    ma = model_assisted_total(
        density, table, strata_da, stratum_codes=code_of, predicted=model.oof_tc_per_ha
    )
    print("truth", total_truth, ma.total, "RE", ma.relative_efficiency)
    assert abs(ma.total.mean - total_truth) < 3 * ma.total.se
    assert ma.total.half_width < ma.plots_only.total.half_width
    assert ma.relative_efficiency > 1.5
    assert ma.map_total_tc == pytest.approx(float(density.sum()) * PIXEL_HA, rel=1e-6)
    assert [s.area_ha for s in ma.strata] == [
        pytest.approx((strata == k).sum() * PIXEL_HA) for k in (1, 2, 3)
    ]
    # the map read at the plots it was fitted to gives too small residuals
    in_sample = model_assisted_total(density, table, strata_da, stratum_codes=code_of,
                                     predicted="map")  # fmt: skip
    assert in_sample.total.se < ma.total.se
    # given (e.g. error-adjusted) areas replace the pixel areas
    adjusted = model_assisted_total(
        density, table, strata_da, stratum_codes=code_of, predicted=model.oof_tc_per_ha,
        areas_ha={"bamboo": 20.0, "forest": 20.0, "tea": 5.0},
    )  # fmt: skip
    assert [s.area_ha for s in adjusted.strata] == [20.0, 20.0, 5.0]


def test_map_fitted_to_the_sample_needs_out_of_fold_residuals() -> None:
    """Repeated samples, the map refitted to each: out-of-fold residuals give an unbiased total
    with an honest SE; the map's in-sample values at the plots bias it."""
    feats, strata, truth = _landscape(3)
    x, y, s = feats.reshape(5, -1).T, truth.ravel(), strata.ravel() - 1
    areas = np.bincount(s) * PIXEL_HA
    total = y.sum() * PIXEL_HA
    members = [np.nonzero(s == h)[0] for h in range(3)]
    rng = np.random.default_rng(11)
    oof, ins = [], []
    for draw in range(30):
        idx = np.concatenate(
            [rng.choice(m, N_PLOTS[h + 1], replace=False) for h, m in enumerate(members)]
        )
        model = fit_density_model(x[idx], y[idx], seed=draw, strata=s[idx], trees=40)
        full_map = predict_intervals(model, x)["carbon_tc_per_ha"].to_numpy()
        means = np.bincount(s, weights=full_map) / np.bincount(s)
        for out, pred in ((oof, model.oof_tc_per_ha), (ins, full_map[idx])):
            r = model_assisted_estimate(y[idx], pred, s[idx], ["a", "b", "c"], areas, means)
            out.append((r.total.mean - total, r.total.se))
    e_oof, se_oof = np.array(oof).T
    e_ins, _ = np.array(ins).T
    print("oof bias", e_oof.mean(), "sd", e_oof.std(ddof=1), "mean se", se_oof.mean())
    print("in-sample bias", e_ins.mean(), "sd", e_ins.std(ddof=1))
    mc_se = e_oof.std(ddof=1) / np.sqrt(e_oof.size)
    assert abs(e_oof.mean()) < 3 * mc_se
    assert 0.7 < se_oof.mean() / e_oof.std(ddof=1) < 1.4
    assert e_ins.mean() < -3 * e_ins.std(ddof=1) / np.sqrt(e_ins.size)


def test_bad_inputs() -> None:
    y = np.array([1.0, 2, 3, 4])
    with pytest.raises(InputError, match="fewer than 2 plots"):
        model_assisted_estimate(y, y, [0, 0, 0, 1], ["a", "b"], [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(InputError, match="finite"):
        model_assisted_estimate(y, [1, np.nan, 3, 4], [0, 0, 1, 1], ["a", "b"], [1, 1], [1, 1])
    with pytest.raises(InputError, match="unknown estimator"):
        model_assisted_estimate(y, y, [0, 0, 1, 1], ["a", "b"], [1, 1], [1, 1],
                                estimator="ratio")  # type: ignore[arg-type]  # fmt: skip
    density = xr.DataArray(np.ones((4, 4), np.float32), dims=("y", "x"),
                           attrs={"crs": CRS, "transform": TRANSFORM})  # fmt: skip
    strata = xr.DataArray(np.ones((4, 4), np.uint8), dims=("y", "x"))
    plots = pd.DataFrame({"stratum": ["a", "z"], "stock_tc_per_ha": [1.0, 2.0],
                          "row": [0, 1], "col": [0, 1]})  # fmt: skip
    with pytest.raises(InputError, match="without a map code: z"):
        model_assisted_total(density, plots, strata, stratum_codes={"a": 1}, predicted="map")
    with pytest.raises(InputError, match="no density in stratum"):
        model_assisted_total(
            density, plots.assign(stratum=["a", "a"]), strata, stratum_codes={"a": 1, "b": 2},
            predicted=[1.0, 1.0],
        )  # fmt: skip
