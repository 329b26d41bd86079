"""Carbon-density model: compiled forest = scikit-learn, CV+ = its definition, ~90 % coverage
of held-out truth, lazy maps with NaN where features are missing, COG output, plot sampling."""

from __future__ import annotations

from pathlib import Path

import dask
import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import xarray as xr
from pyproj import Transformer
from sklearn.ensemble import RandomForestRegressor

from mrv.errors import InputError
from pipelines.satellite.carbon import (
    _order_ranks,
    fit_density_model,
    flatten_forests,
    leaf_samples,
    plot_features,
    plots_frame,
    predict_density,
    predict_intervals,
    write_density_cogs,
)

CRS = "EPSG:32650"
X0, Y0, RES = 600_000.0, 3_420_000.0, 10.0
TRANSFORM = [RES, 0.0, X0, 0.0, -RES, Y0]
NAMES = ["ndvi", "b8", "b11", "texture", "noise1", "noise2"]


def true_density(f: np.ndarray) -> np.ndarray:
    """Known carbon density (t C/ha) of feature rows: saturating in NDVI, interactions, ≥ 0."""
    return np.maximum(
        0.0, 45 + 30 * np.tanh(1.5 * f[:, 0]) + 8 * f[:, 1] - 5 * f[:, 2] + 4 * f[:, 1] * f[:, 3]
    )


def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, observed density (heteroscedastic noise: sd 2 + 0.15·truth) and the truth."""
    f = rng.normal(size=(n, len(NAMES)))
    t = true_density(f)
    return f, np.maximum(0.0, t + rng.normal(size=n) * (2.0 + 0.15 * t)), t


def features_raster(values: np.ndarray, chunks: int | None = 16) -> xr.DataArray:
    nf, ny, nx = values.shape
    data = da.from_array(values, chunks=(1, chunks, chunks)) if chunks else values
    return xr.DataArray(
        data, dims=("feature", "y", "x"),
        coords={"feature": NAMES[:nf], "y": Y0 - RES * (np.arange(ny) + 0.5),
                "x": X0 + RES * (np.arange(nx) + 0.5)},
        attrs={"crs": CRS, "transform": TRANSFORM},
    )  # fmt: skip


class _NoCompute:
    def __call__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("computed although only a lazy graph was asked for")


def test_compiled_forest_reproduces_sklearn_including_ties_at_thresholds() -> None:
    rng = np.random.default_rng(0)
    x, y, _ = draw(rng, 300)
    rf = RandomForestRegressor(25, min_samples_leaf=2, random_state=0).fit(x.astype(np.float32), y)
    forest = flatten_forests([rf])
    test = rng.normal(size=(4000, len(NAMES))).astype(np.float32)
    # put many values exactly on (float32-rounded) split thresholds: the <= rule must match
    thr = np.concatenate([e.tree_.threshold[e.tree_.feature >= 0] for e in rf.estimators_])
    feat = np.concatenate([e.tree_.feature[e.tree_.feature >= 0] for e in rf.estimators_])
    pick = rng.integers(0, thr.size, 2000)
    test[np.arange(2000), feat[pick]] = thr[pick].astype(np.float32)
    np.testing.assert_allclose(forest.fold_means(test)[:, 0], rf.predict(test), rtol=1e-12)


def test_quantile_forest_weights_follow_meinshausen() -> None:
    """Each tree gives 1/|leaf| to the training plots in the pixel's leaf; the q-quantile is the
    smallest y whose cumulative weight reaches q (brute force with scikit-learn's apply)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(60, 3))
    y = 10 * x[:, 0] + rng.normal(size=60)
    folds = np.arange(60) % 3
    forests = [
        RandomForestRegressor(7, min_samples_leaf=3, random_state=k).fit(
            x[folds != k].astype(np.float32), y[folds != k]
        )
        for k in range(3)
    ]
    forest = flatten_forests(forests)
    leaves = leaf_samples(forests, forest, x, y, folds)
    test = rng.normal(size=(30, 3)).astype(np.float32)
    only_fold = rng.integers(-1, 3, 30)  # -1: all trees; k: fold k's trees only
    got = leaves.quantiles(forest, test, only_fold, np.array([0.05, 0.95]))
    order = np.argsort(y)
    for i in range(30):
        w, n_trees = np.zeros(60), 0
        for k, rf in enumerate(forests):
            if only_fold[i] >= 0 and only_fold[i] != k:
                continue
            train = np.nonzero(folds != k)[0]
            train_leaf, test_leaf = rf.apply(x[train].astype(np.float32)), rf.apply(test[[i]])
            for t in range(train_leaf.shape[1]):
                same = train[train_leaf[:, t] == test_leaf[0, t]]
                w[same] += 1 / same.size
                n_trees += 1
        cum = np.cumsum(w[order]) / n_trees
        expect = [y[order][np.argmax(cum >= q - 1e-12)] for q in (0.05, 0.95)]
        np.testing.assert_allclose(got[i], expect)


def test_cv_plus_bounds_follow_the_definition() -> None:
    """Lower/upper = ⌊α(n+1)⌋-th / ⌈(1−α)(n+1)⌉-th smallest of μ̂_k(i)(x) ∓ σ(μ̂_k(i)(x))·R_i."""
    rng = np.random.default_rng(1)
    x, y, _ = draw(rng, 97)
    model = fit_density_model(x, y, seed=3, folds=4, trees=40)
    new = rng.normal(size=(60, len(NAMES)))
    fold_pred = model.forest.fold_means(new.astype(np.float32))
    lo_rank, hi_rank = _order_ranks(model.n, model.alpha)
    assert (lo_rank, hi_rank) == (9, 89)  # ⌊0.1·98⌋ = ⌊9.8⌋, ⌈0.9·98⌉ = ⌈88.2⌉
    c0, c1 = model.scale
    res = np.abs(y - model.oof_tc_per_ha)
    scores = res / (c0 + c1 * np.maximum(model.oof_tc_per_ha, 0))
    a = fold_pred[:, model.folds]  # (pixels, plots): the forest that did not see plot i
    b = c0 + c1 * np.maximum(a, 0)
    lower = np.sort(a - b * scores, axis=1)[:, lo_rank - 1]
    upper = np.sort(a + b * scores, axis=1)[:, hi_rank - 1]
    got = predict_intervals(model, new)
    np.testing.assert_allclose(got["lower_tc_per_ha"], np.maximum(lower, 0), rtol=1e-12)
    np.testing.assert_allclose(got["upper_tc_per_ha"], np.maximum(upper, 0), rtol=1e-12)
    np.testing.assert_allclose(got["carbon_tc_per_ha"], np.maximum(fold_pred.mean(1), 0))
    # out-of-fold predictions are the held-out fold forest's
    oof = model.forest.fold_means(x.astype(np.float32))[np.arange(model.n), model.folds]
    np.testing.assert_allclose(model.oof_tc_per_ha, np.maximum(oof, 0))


@pytest.mark.parametrize("method", ["conformal", "quantile"])
def test_90_percent_intervals_cover_about_90_percent_of_held_out_truth(method: str) -> None:
    rng = np.random.default_rng(2024)
    coverages, low_half, high_half, widths_low, widths_high = [], [], [], [], []
    for rep in range(4):
        x, y, _ = draw(rng, 160)
        xt, yt, tt = draw(rng, 600)
        model = fit_density_model(pd.DataFrame(x, columns=NAMES), y, method=method, seed=rep)
        p = predict_intervals(model, pd.DataFrame(xt, columns=NAMES))
        inside = (yt >= p["lower_tc_per_ha"]) & (yt <= p["upper_tc_per_ha"])
        width = p["upper_tc_per_ha"] - p["lower_tc_per_ha"]
        high = tt > np.median(tt)
        coverages.append(inside.mean())
        low_half.append(inside[~high].mean())
        high_half.append(inside[high].mean())
        widths_low.append(width[~high].mean())
        widths_high.append(width[high].mean())
    print(method, np.round(coverages, 3), np.round(low_half, 3), np.round(high_half, 3))
    # CV+ is slightly conservative (≈ 0.93 here over many replicates); one replicate's coverage
    # varies by about ±0.03 with its training sample
    assert 0.86 <= np.mean(coverages) <= 0.95
    assert all(0.83 <= c <= 0.97 for c in coverages)
    # the intervals adapt to the larger errors of dense stands: both halves are covered
    assert 0.82 <= np.mean(low_half) <= 0.97 and 0.82 <= np.mean(high_half) <= 0.97
    assert np.mean(widths_high) > 1.3 * np.mean(widths_low)


def test_cross_validation_and_map_accuracy_against_truth() -> None:
    rng = np.random.default_rng(7)
    x, y, _ = draw(rng, 200)
    model = fit_density_model(x, y, seed=1)
    assert model.cv.folds == 5 and model.feature_names == tuple(f"f{i}" for i in range(6))
    assert 0.55 < model.cv.r2 < 0.95
    assert abs(model.cv.bias_tc_per_ha) < 2.0
    xt, _, tt = draw(rng, 2000)
    pred = predict_intervals(model, xt)["carbon_tc_per_ha"].to_numpy()
    r2_truth = 1 - np.mean((pred - tt) ** 2) / np.var(tt)
    assert r2_truth > 0.75  # the map recovers the known density function
    # same inputs and seed → same model; another seed → another fold split
    again = fit_density_model(x, y, seed=1)
    np.testing.assert_array_equal(again.oof_tc_per_ha, model.oof_tc_per_ha)
    assert not np.array_equal(fit_density_model(x, y, seed=2).folds, model.folds)


def test_folds_are_balanced_within_strata() -> None:
    rng = np.random.default_rng(3)
    x, y, _ = draw(rng, 60)
    strata = np.repeat(["bamboo", "forest", "tea"], [30, 20, 10])
    model = fit_density_model(x, y, seed=0, strata=strata)
    for s in ("bamboo", "forest", "tea"):
        counts = np.bincount(model.folds[strata == s], minlength=5)
        assert counts.max() - counts.min() <= 1


def test_predict_density_is_lazy_masks_nan_and_matches_table_prediction() -> None:
    rng = np.random.default_rng(11)
    x, y, _ = draw(rng, 120)
    model = fit_density_model(pd.DataFrame(x, columns=NAMES), y, seed=0)
    ny, nx = 37, 45
    values = rng.normal(size=(len(NAMES), ny, nx)).astype(np.float32)
    values[2, 5, 7] = np.nan
    values[:, 30:, 40:] = np.nan
    feats = features_raster(values[::-1].copy()).assign_coords(feature=NAMES[::-1])
    with dask.config.set(scheduler=_NoCompute()):
        out = predict_density(model, feats)
    assert set(out.data_vars) == {"carbon_tc_per_ha", "lower_tc_per_ha", "upper_tc_per_ha"}
    assert out["carbon_tc_per_ha"].dims == ("y", "x") and out.attrs["crs"] == CRS
    assert out["carbon_tc_per_ha"].dtype == np.float32
    got = out.compute()
    table = predict_intervals(model, values.reshape(len(NAMES), -1).T)
    for name in out.data_vars:
        expect = table[name].to_numpy().reshape(ny, nx).astype(np.float32)
        np.testing.assert_allclose(got[name].values, expect, rtol=1e-6, equal_nan=True)
    c = got["carbon_tc_per_ha"].values
    assert (
        np.isnan(c[5, 7])
        and np.isnan(c[30:, 40:]).all()
        and np.isfinite(c[:30, :40]).sum() == (30 * 40 - 1)
    )
    lo, hi = got["lower_tc_per_ha"].values, got["upper_tc_per_ha"].values
    ok = np.isfinite(c)
    assert (lo[ok] <= c[ok]).all() and (c[ok] <= hi[ok]).all() and (lo[ok] >= 0).all()
    # a numpy-backed feature array gives the same map
    plain = predict_density(model, features_raster(values, chunks=None)).compute()
    np.testing.assert_array_equal(plain["upper_tc_per_ha"].values, got["upper_tc_per_ha"].values)


def test_density_and_uncertainty_cogs(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    x, y, _ = draw(rng, 80)
    model = fit_density_model(pd.DataFrame(x, columns=NAMES), y, seed=0, method="quantile")
    values = rng.normal(size=(len(NAMES), 40, 30)).astype(np.float32)
    values[0, :3, :3] = np.nan
    pred = predict_density(model, features_raster(values))
    cogs = write_density_cogs(pred, tmp_path)
    ref = pred.compute()
    with rasterio.open(cogs.density) as src:
        assert src.count == 1 and src.crs.to_epsg() == 32650 and src.tags()["units"] == "t C/ha"
        np.testing.assert_array_equal(src.read(1), ref["carbon_tc_per_ha"].values)
    with rasterio.open(cogs.uncertainty) as src:
        assert src.descriptions == ("lower_tc_per_ha", "upper_tc_per_ha")
        assert src.tags()["interval_method"] == "quantile"
        np.testing.assert_array_equal(src.read(1), ref["lower_tc_per_ha"].values)
        np.testing.assert_array_equal(src.read(2), ref["upper_tc_per_ha"].values)
        assert np.isnan(src.read(2)[:3, :3]).all()
    assert len(cogs.density_sha256) == 64 and cogs.density_sha256 != cogs.uncertainty_sha256


def _wgs84(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    return to_wgs.transform(X0 + RES * (cols + 0.5), Y0 - RES * (rows + 0.5))


def test_plot_features_reads_each_plots_pixel() -> None:
    ny, nx = 20, 30
    yy, xx = np.mgrid[0:ny, 0:nx]
    values = np.stack([yy * 1000.0 + xx, -xx.astype(float)]).astype(np.float32)
    rows, cols = np.array([0, 5, 19, 7]), np.array([0, 29, 3, 11])
    lon, lat = _wgs84(rows, cols)
    records = [
        {"plot_id": f"P{i}", "stratum": "bamboo", "lon": lon[i], "lat": lat[i],
         "stock_tc_per_ha": 40.0 + i, "agb_per_ha": 1.0}
        for i in range(4)
    ]  # fmt: skip
    table = plot_features(features_raster(values), plots_frame(records))
    assert list(table.columns) == [
        "plot_id",
        "stratum",
        "stock_tc_per_ha",
        "row",
        "col",
        *NAMES[:2],
    ]
    np.testing.assert_array_equal(table["row"], rows)
    np.testing.assert_array_equal(table["col"], cols)
    np.testing.assert_array_equal(table["ndvi"], rows * 1000.0 + cols)
    np.testing.assert_array_equal(table["b8"], -cols)
    np.testing.assert_array_equal(table["stock_tc_per_ha"], [40, 41, 42, 43])


def test_plot_features_errors_list_the_plot_ids() -> None:
    values = np.ones((2, 10, 10), dtype=np.float32)
    values[1, 4, 4] = np.nan
    lon, lat = _wgs84(np.array([1, 4, 2, 25]), np.array([1, 4, -3, 2]))
    plots = gpd.GeoDataFrame(
        {"plot_id": ["ok", "cloud", "west", "south"]},
        geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326",
    )  # fmt: skip
    with pytest.raises(InputError, match="outside the feature raster: west, south") as err:
        plot_features(features_raster(values), plots)
    assert [p.feature for p in err.value.problems] == ["west", "south"]
    with pytest.raises(InputError, match="without features: cloud") as err:
        plot_features(features_raster(values), plots.iloc[:2])
    assert err.value.problems[0].column == "b8"
    with pytest.raises(InputError, match="no WGS84 location") as err:
        plots_frame([{"plot_id": "A", "lon": 120.0, "lat": None}])
    assert err.value.problems[0].feature == "A"


def test_bad_model_inputs() -> None:
    rng = np.random.default_rng(0)
    x, y, _ = draw(rng, 30)
    with pytest.raises(InputError, match="cannot give a 90% interval"):
        fit_density_model(x[:8], y[:8], seed=0)
    x_bad = x.copy()
    x_bad[4, 2] = np.nan
    with pytest.raises(InputError, match="non-finite") as err:
        fit_density_model(x_bad, y, seed=0)
    assert err.value.problems[0].row == 4
    with pytest.raises(InputError, match="unknown interval method"):
        fit_density_model(x, y, method="bootstrap", seed=0)  # type: ignore[arg-type]
    model = fit_density_model(pd.DataFrame(x, columns=NAMES), y, seed=0)
    feats = features_raster(np.ones((3, 8, 8), dtype=np.float32))
    with pytest.raises(InputError, match="lack texture, noise1, noise2"):
        predict_density(model, feats)
