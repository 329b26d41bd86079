"""Carbon-density maps from plots and pixel features, with 90 % prediction intervals.

**Model.** Plot carbon density (t C/ha, from the plot-survey pipeline) is regressed on the pixel
features at the plots with a *cross-fitted random forest*: the plots are split into K folds
(balanced within sampling strata) and one forest of ``trees / K`` trees is grown on each fold's
complement (Breiman 2001, "Random forests", Mach. Learn. 45:5–32). The map is the mean of the K
fold forests — itself a subagged forest of ``trees`` trees — and every plot also gets an
*out-of-fold* prediction from the one forest that never saw it. Random forests are the most used
model for forest carbon/biomass from optical imagery and need little tuning on a few hundred
plots; the cross-fitting costs nothing at prediction time (the pixel still visits ``trees``
trees) and yields honest residuals for the intervals and for the model-assisted total
(:mod:`pipelines.satellite.model_assisted`).

**Prediction path.** scikit-learn's tree arrays (``tree_.children_left/right``, ``feature``,
``threshold``, ``value``) are flattened once and walked by a compiled kernel (numba, GIL
released) on whole blocks of valid pixels, so dask threads predict several blocks at once and no
Python runs per pixel. Comparisons follow scikit-learn exactly (``float32(x) <= threshold``), so
the kernel reproduces ``RandomForestRegressor.predict``.

**Intervals** (``method``):

``"conformal"`` (default) — CV+ (Barber, Candès, Ramdas & Tibshirani 2021, "Predictive inference
    with the jackknife+", Ann. Statist. 49(1):486–507, §3–4) with *normalised* (locally weighted)
    scores (Lei, G'Sell, Rinaldo, Tibshirani & Wasserman 2018, JASA 113:1094–1111): for plot i in
    fold k(i), ``R_i = |y_i − μ̂_k(i)(x_i)| / σ(μ̂_k(i)(x_i))`` with ``σ(m) = c₀ + c₁·max(m, 0)``, a
    two-parameter spread fitted by non-negative least squares to the out-of-fold absolute
    residuals (carbon errors grow with density: a pixel of farmland and a pixel of dense bamboo
    should not share one interval width). At a pixel x, with α = 1 − confidence,
    ``lower = ⌊α(n+1)⌋-th smallest of {μ̂_k(i)(x) − σ(μ̂_k(i)(x))·R_i}`` and
    ``upper = ⌈(1−α)(n+1)⌉-th smallest of {μ̂_k(i)(x) + σ(μ̂_k(i)(x))·R_i}``. CV+ guarantees
    coverage ≥ 1 − 2α less a term of order K/n for any model (their Theorem 4), and gives about
    1 − α or slightly more in practice (their experiments; ≈ 0.93 in our tests); fitting the
    two scale parameters on all residuals is a small reuse of the data that makes the bound
    approximate. Each fold's
    candidates are sorted once its scores are, so a pixel finds both order statistics by a K-way
    merge of about α(n+1) steps instead of sorting n values.
``"quantile"`` — quantile regression forest (Meinshausen 2006, "Quantile regression forests",
    JMLR 7:983–999) on the same forests, with weights from the training plots sharing each
    tree's leaf, conformalised as in CQR (Romano, Patterson & Candès 2019, NeurIPS 32): the
    out-of-fold scores ``E_i = max(q̂_lo,k(i)(x_i) − y_i, y_i − q̂_hi,k(i)(x_i))`` give the
    ``⌈(1−α)(n+1)⌉``-th smallest margin Q and the interval is ``[q̂_lo(x) − Q, q̂_hi(x) + Q]``.
    Raw forest quantiles from a few hundred plots are not calibrated; Q corrects them (CV, not
    CV+: the fold forests are smaller than the full one, so this is approximate too).

Both are tested to cover ≈ 90 % of held-out truth (tests/satellite/test_carbon.py); the
conformal method is the default because its coverage has a distribution-free basis and it is
cheaper per pixel. Densities and bounds are clipped at ``floor_tc_per_ha`` (0: a negative carbon
density does not exist; clipping a bound at 0 can only raise coverage).

**Outputs** (:func:`write_density_cogs`): a one-band density COG and a two-band uncertainty COG
holding the lower and upper 90 % bounds (not a half-width: the intervals are asymmetric,
especially near 0 and for dense stands).

Exchangeability (the basis of conformal coverage) holds for a probability sample of plots and
for pixels drawn from the same population; it does not hold for pixels outside the range of the
plots' features (e.g. a land-cover class without plots), where intervals are extrapolations.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import dask.array as da
import numba
import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr
from scipy.optimize import nnls

from mrv.errors import InputError, Problem
from mrv.montecarlo import seed_from
from mrv.raster import CogSpec, write_cogs
from pipelines.satellite._forest import TILE, Forest, LeafSamples, flatten_forests, leaf_samples
from pipelines.satellite.cube import grid_attrs, grid_of

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Method = Literal["conformal", "quantile"]
PLOT_COLUMNS = ("plot_id", "stratum", "stock_tc_per_ha")
"""Plot attributes carried into :func:`plot_features`' table (those present)."""
OUTPUT_VARIABLES = ("carbon_tc_per_ha", "lower_tc_per_ha", "upper_tc_per_ha")


# --------------------------------------------------------------------------- plots → features


def plots_frame(records: Sequence[Mapping[str, Any]]) -> Any:
    """A WGS84 point GeoDataFrame from the plot estimate JSON's ``plots`` list.

    Records need ``plot_id``, ``lon`` and ``lat``; plots without a location raise
    :class:`InputError` naming them.
    """
    import geopandas as gpd

    frame = pd.DataFrame.from_records(list(records))
    missing = [c for c in ("plot_id", "lon", "lat") if c not in frame.columns]
    if missing:
        raise InputError(f"plot records lack {', '.join(missing)} (need a WGS84 location)")
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(np.float64)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(np.float64)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        ids = [str(v) for v in frame["plot_id"].to_numpy()[bad]]
        raise InputError(
            f"{len(ids)} plot(s) have no WGS84 location",
            [Problem(reason="no lon/lat", feature=i, column="lon/lat") for i in ids],
        )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _feature_names(features: xr.DataArray) -> list[str]:
    if "feature" in features.coords:
        return [str(v) for v in features["feature"].to_numpy()]
    return [f"f{i}" for i in range(features.sizes["feature"])]


def plot_features(features: xr.DataArray, plots: Any) -> pd.DataFrame:
    """Feature values at each plot's pixel.

    ``features`` is a Features array (``feature, y, x``; crs/transform attributes); ``plots`` a
    GeoDataFrame of points with ``plot_id`` (WGS84 when it has no CRS, as in the plot estimate
    JSON). Returns one row per plot: ``plot_id``, ``stratum`` and ``stock_tc_per_ha`` (those
    present), the pixel ``row``/``col`` and one column per feature. Plots outside the raster or
    on a pixel with a NaN feature raise :class:`InputError` listing the plot ids.
    """
    if features.dims != ("feature", "y", "x"):
        raise InputError(f"features dims are {features.dims}, expected ('feature', 'y', 'x')")
    if "plot_id" not in plots.columns:
        raise InputError("plots have no 'plot_id' column")
    grid = grid_of(features)
    names = _feature_names(features)
    clash = sorted(set(names) & {*PLOT_COLUMNS, "row", "col"})
    if clash:
        raise InputError(f"feature names clash with plot columns: {', '.join(clash)}")
    ids = [str(v) for v in plots["plot_id"].to_numpy()]
    geoms = plots.geometry
    kinds = geoms.geom_type.to_numpy()
    not_point = [i for i, k in zip(ids, kinds, strict=True) if k != "Point"]
    if not_point or geoms.is_empty.any():
        bad = not_point or [i for i, e in zip(ids, geoms.is_empty, strict=True) if e]
        raise InputError(
            "plot locations must be points",
            [Problem(reason="not a point geometry", feature=i) for i in bad],
        )
    pts = plots.set_crs("EPSG:4326") if plots.crs is None else plots
    pts = pts.to_crs(grid.crs)
    inv = ~grid.affine
    col_f, row_f = inv @ (pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())
    col = np.floor(np.asarray(col_f, dtype=np.float64))
    row = np.floor(np.asarray(row_f, dtype=np.float64))
    inside = (col >= 0) & (col < grid.width) & (row >= 0) & (row < grid.height)
    if not inside.all():
        outside = [i for i, ok in zip(ids, inside, strict=True) if not ok]
        raise InputError(
            f"{len(outside)} plot(s) lie outside the feature raster: {', '.join(outside)}",
            [Problem(reason="outside the raster", feature=i) for i in outside],
        )
    rows, cols = row.astype(np.intp), col.astype(np.intp)
    values = np.asarray(
        features.isel(y=xr.DataArray(rows, dims="plot"), x=xr.DataArray(cols, dims="plot"))
        .transpose("plot", "feature")
        .to_numpy(),
        dtype=np.float64,
    )
    nan = ~np.isfinite(values)
    if nan.any():
        problems = [
            Problem(reason=f"no value for feature {names[j]}", feature=ids[i], column=names[j])
            for i, j in zip(*np.nonzero(nan), strict=True)
        ]
        bad_ids = sorted({ids[i] for i in np.nonzero(nan.any(axis=1))[0]})
        raise InputError(
            f"{len(bad_ids)} plot(s) fall on pixels without features: {', '.join(bad_ids)}",
            problems,
        )
    out = pd.DataFrame({c: plots[c].to_numpy() for c in PLOT_COLUMNS if c in plots.columns})
    out["row"] = rows
    out["col"] = cols
    for j, name in enumerate(names):
        out[name] = values[:, j]
    return out


# --------------------------------------------------------------------------- compiled forest


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold accuracy of the density model on the plots."""

    folds: int
    r2: float
    rmse_tc_per_ha: float
    bias_tc_per_ha: float
    """Mean of (prediction − observed)."""


@dataclass(frozen=True, eq=False)
class DensityModel:
    """A fitted carbon-density model with prediction intervals (see the module docstring)."""

    feature_names: tuple[str, ...]
    method: Method
    confidence: float
    seed: int
    folds: IntArray
    """Fold of each training plot."""
    observed_tc_per_ha: FloatArray
    oof_tc_per_ha: FloatArray
    """Out-of-fold prediction at each training plot (use these residuals for totals)."""
    cv: CrossValidation
    floor_tc_per_ha: float
    forest: Forest = field(repr=False)
    scale: tuple[float, float] = (1.0, 0.0)
    """Conformal spread σ(m) = scale[0] + scale[1]·max(m, 0)."""
    fold_scores: tuple[FloatArray, ...] = field(default=(), repr=False)
    """Conformal: each fold's normalised scores, largest first."""
    leaf_samples: LeafSamples | None = field(default=None, repr=False)
    cqr_margin_tc_per_ha: float = 0.0
    """Quantile: conformal margin Q added outside the forest quantiles."""
    fingerprint: str = ""

    @property
    def n(self) -> int:
        """Number of training plots."""
        return int(self.observed_tc_per_ha.size)

    @property
    def alpha(self) -> float:
        """Miscoverage rate 1 − confidence."""
        return 1.0 - self.confidence

    def __dask_tokenize__(self) -> tuple[str, str]:
        return ("mrv.DensityModel", self.fingerprint)


def _order_ranks(n: int, alpha: float) -> tuple[int, int]:
    """(⌊α(n+1)⌋, ⌈(1−α)(n+1)⌉) with a tolerance for binary fractions."""
    return math.floor(alpha * (n + 1) + 1e-9), math.ceil((1.0 - alpha) * (n + 1) - 1e-9)


def _fold_assignment(n: int, k: int, strata: IntArray | None, seed: int) -> IntArray:
    """Random folds of near-equal size, balanced within strata when given."""
    order = np.random.default_rng(seed).permutation(n)
    if strata is not None:
        order = order[np.argsort(strata[order], kind="stable")]
    folds = np.empty(n, dtype=np.intp)
    folds[order] = np.arange(n) % k
    return folds


def _check_xy(x: Any, y: Any) -> tuple[FloatArray, FloatArray, tuple[str, ...]]:
    if isinstance(x, pd.DataFrame):
        names = tuple(str(c) for c in x.columns)
        arr = x.to_numpy(np.float64)
    else:
        arr = np.asarray(x, dtype=np.float64)
        names = tuple(f"f{i}" for i in range(arr.shape[1])) if arr.ndim == 2 else ()
    target = np.asarray(y, dtype=np.float64)
    if arr.ndim != 2 or target.ndim != 1 or arr.shape[0] != target.size:
        raise InputError(f"X must be (plots, features) and y (plots,), got {arr.shape} and "
                         f"{target.shape}")  # fmt: skip
    bad = ~np.isfinite(arr).all(axis=1) | ~np.isfinite(target)
    if bad.any():
        rows = [int(i) for i in np.nonzero(bad)[0]]
        raise InputError(
            f"{len(rows)} training row(s) have missing or non-finite values",
            [Problem(reason="not finite", row=r) for r in rows],
        )
    return arr, target, names


def fit_density_model(
    x: Any,
    y: npt.ArrayLike,
    *,
    method: Method = "conformal",
    confidence: float = 0.90,
    seed: int | None = None,
    folds: int = 5,
    trees: int = 100,
    min_samples_leaf: int = 3,
    max_features: float = 0.5,
    strata: npt.ArrayLike | None = None,
    floor_tc_per_ha: float = 0.0,
) -> DensityModel:
    """Fit the cross-fitted forest and calibrate its prediction intervals.

    ``x`` is a (plots × features) DataFrame (column names become the feature names that
    :func:`predict_density` selects) or array; ``y`` the plots' carbon density (t C/ha).
    ``strata`` (optional, one label per plot) balances the folds within sampling strata. Each of
    the ``folds`` forests has ``trees // folds`` trees. Without ``seed`` the seed is derived from
    the inputs (:func:`mrv.montecarlo.seed_from`).
    """
    from sklearn.ensemble import RandomForestRegressor

    if method not in ("conformal", "quantile"):
        raise InputError(f"unknown interval method {method!r}; use 'conformal' or 'quantile'")
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must be in (0, 1), got {confidence}")
    arr, target, names = _check_xy(x, y)
    n = target.size
    alpha = 1.0 - confidence
    lo_rank, hi_rank = _order_ranks(n, alpha)
    if lo_rank < 1 or hi_rank > n or folds < 2 or folds > n:
        need = math.ceil((1.0 - alpha) / alpha)
        raise InputError(
            f"{n} plots cannot give a {confidence:.0%} interval with {folds} folds "
            f"(need at least {max(need, folds)} plots and 2 ≤ folds ≤ plots)"
        )
    if trees < folds:
        raise InputError(f"trees ({trees}) must be at least folds ({folds})")
    used_seed = seed if seed is not None else seed_from(arr, target, method, confidence)
    codes = None
    if strata is not None:
        codes = pd.factorize(np.asarray(strata))[0].astype(np.intp)
        if codes.size != n:
            raise InputError(f"{codes.size} strata labels for {n} plots")
    fold = _fold_assignment(n, folds, codes, used_seed)
    forests = []
    for k in range(folds):
        rf = RandomForestRegressor(
            n_estimators=trees // folds, min_samples_leaf=min_samples_leaf,
            max_features=max_features, random_state=(used_seed + k) % 2**32, n_jobs=1,
        )  # fmt: skip
        train = fold != k
        rf.fit(arr[train].astype(np.float32), target[train])
        forests.append(rf)
    forest = flatten_forests(forests)
    x32 = arr.astype(np.float32)
    oof = forest.fold_means(x32)[np.arange(n), fold]
    oof = np.maximum(oof, floor_tc_per_ha)
    common: dict[str, Any] = {
        "feature_names": names, "method": method, "confidence": confidence, "seed": used_seed,
        "folds": fold, "observed_tc_per_ha": target, "oof_tc_per_ha": oof,
        "cv": _cross_validation(target, oof, folds), "floor_tc_per_ha": floor_tc_per_ha,
        "forest": forest,
        "fingerprint": f"{seed_from(arr, target, method, confidence, used_seed, trees, folds):x}",
    }  # fmt: skip
    if method == "conformal":
        abs_res = np.abs(target - oof)
        scale = _fit_scale(oof, abs_res)
        scores = abs_res / (scale[0] + scale[1] * np.maximum(oof, 0.0))
        fold_scores = tuple(np.sort(scores[fold == k])[::-1].copy() for k in range(folds))
        return DensityModel(**common, scale=scale, fold_scores=fold_scores)
    leaves = leaf_samples(forests, forest, arr, target, fold)
    levels = np.array([alpha / 2.0, 1.0 - alpha / 2.0])
    q = leaves.quantiles(forest, x32, fold, levels)  # each plot: its out-of-fold forest only
    e = np.maximum(q[:, 0] - target, target - q[:, 1])
    margin = float(np.sort(e)[hi_rank - 1])
    return DensityModel(**common, leaf_samples=leaves, cqr_margin_tc_per_ha=margin)


def _fit_scale(pred: FloatArray, abs_res: FloatArray) -> tuple[float, float]:
    """σ(m) = c₀ + c₁·max(m, 0) ≥ 0 by non-negative least squares on |residual|; c₀ floored."""
    design = np.column_stack([np.ones_like(pred), np.maximum(pred, 0.0)])
    (c0, c1), _ = nnls(design, abs_res)
    floor = max(0.05 * float(abs_res.mean()), 1e-9)
    return max(float(c0), floor), float(c1)


def _cross_validation(y: FloatArray, oof: FloatArray, folds: int) -> CrossValidation:
    res = oof - y
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return CrossValidation(
        folds=folds,
        r2=1.0 - float(np.sum(res**2)) / ss_tot if ss_tot > 0 else math.nan,
        rmse_tc_per_ha=float(np.sqrt(np.mean(res**2))),
        bias_tc_per_ha=float(res.mean()),
    )


@numba.njit(nogil=True, cache=True)
def _cv_plus_kernel(
    fold_pred: FloatArray,
    top: FloatArray,
    lo_rank: int,
    hi_from_top: int,
    c0: float,
    c1: float,
) -> FloatArray:  # pragma: no cover - compiled
    """CV+ bounds ``(pixels, 2)`` from the fold predictions ``(pixels, folds)``.

    ``top[k]`` holds fold k's largest normalised scores, largest first, padded with −inf. With
    ``a_k = μ̂_k(x)``, ``b_k = σ(a_k)``, fold k's candidates ``a_k − b_k·R`` ascend along
    ``top[k]``, so the ``lo_rank``-th smallest of all folds' candidates (the lower bound) is
    reached by a K-way merge of ``lo_rank`` steps; the upper bound, the ``hi_from_top``-th
    largest of ``a_k + b_k·R``, is minus the same merge on ``−a_k``. A tile of pixels merges in
    lockstep (the argmin over K is branch-free), and −inf padding turns into +inf candidates
    that are never taken.
    """
    n_px, n_folds = fold_pred.shape
    out = np.empty((n_px, 2))
    cur = np.empty((n_folds, TILE))
    head = np.zeros((n_folds, TILE), dtype=np.int64)
    a = np.empty((n_folds, TILE))
    b = np.empty((n_folds, TILE))
    value = np.empty(TILE)
    for start in range(0, n_px, TILE):
        count = min(TILE, n_px - start)
        for side in range(2):
            steps = lo_rank if side == 0 else hi_from_top
            sign = 1.0 if side == 0 else -1.0
            for k in range(n_folds):
                for i in range(count):
                    pred = fold_pred[start + i, k]
                    a[k, i] = sign * pred
                    b[k, i] = c0 + c1 * max(pred, 0.0)
                    head[k, i] = 0
                    cur[k, i] = a[k, i] - b[k, i] * top[k, 0]
            for _ in range(steps):
                for i in range(count):
                    v = cur[0, i]
                    best = 0
                    for k in range(1, n_folds):
                        ck = cur[k, i]
                        best = k if ck < v else best
                        v = ck if ck < v else v
                    value[i] = v
                    h = head[best, i] + 1
                    head[best, i] = h
                    cur[best, i] = a[best, i] - b[best, i] * top[best, h]
            for i in range(count):
                out[start + i, side] = sign * value[i]
    return out


def _cv_plus_intervals(model: DensityModel, fold_pred: FloatArray) -> tuple[FloatArray, FloatArray]:
    """CV+ bounds from the fold forests' predictions ``(pixels, folds)`` (module docstring)."""
    lo_rank, hi_rank = _order_ranks(model.n, model.alpha)
    hi_from_top = model.n + 1 - hi_rank
    steps = max(lo_rank, hi_from_top)
    top = np.full((len(model.fold_scores), steps + 1), -np.inf)
    for k, scores in enumerate(model.fold_scores):
        m = min(steps, scores.size)
        top[k, :m] = scores[:m]
    out = _cv_plus_kernel(
        np.ascontiguousarray(fold_pred, dtype=np.float64), top, lo_rank, hi_from_top,
        model.scale[0], model.scale[1],
    )  # fmt: skip
    return out[:, 0], out[:, 1]


def _bounds_rows(
    model: DensityModel, x: npt.NDArray[np.float32], fold_pred: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Interval bounds for rows of finite features, given their fold predictions."""
    if model.method == "conformal":
        return _cv_plus_intervals(model, fold_pred)
    if model.leaf_samples is None:  # pragma: no cover - built by fit_density_model
        raise InputError("quantile model has no leaf samples")
    levels = np.array([model.alpha / 2.0, 1.0 - model.alpha / 2.0])
    all_trees = np.full(x.shape[0], -1, dtype=np.intp)
    q = model.leaf_samples.quantiles(model.forest, x, all_trees, levels)
    return q[:, 0] - model.cqr_margin_tc_per_ha, q[:, 1] + model.cqr_margin_tc_per_ha


def _predict_rows(model: DensityModel, x: npt.NDArray[np.float32]) -> FloatArray:
    """``(pixels, 3)`` density, lower, upper for rows of finite features."""
    fold_pred = model.forest.fold_means(x)
    lower, upper = _bounds_rows(model, x, fold_pred)
    point = fold_pred.mean(axis=1)
    return np.maximum(np.column_stack([point, lower, upper]), model.floor_tc_per_ha)


def predict_intervals(model: DensityModel, x: Any) -> pd.DataFrame:
    """Density and 90 % bounds (t C/ha) for a table of feature rows (NaN rows give NaN)."""
    if isinstance(x, pd.DataFrame):
        missing = [n for n in model.feature_names if n not in x.columns]
        if missing:
            raise InputError(f"feature table lacks {', '.join(missing)}")
        arr = x[list(model.feature_names)].to_numpy(np.float32)
    else:
        arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != len(model.feature_names):
        raise InputError(f"expected {len(model.feature_names)} feature columns, got {arr.shape}")
    out = np.full((arr.shape[0], 3), np.nan)
    ok = np.isfinite(arr).all(axis=1)
    if ok.any():
        out[ok] = _predict_rows(model, arr[ok])
    return pd.DataFrame(out, columns=list(OUTPUT_VARIABLES))


def _valid_rows(
    block: npt.NDArray[np.floating[Any]],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """Block ``(feature, y, x)`` → pixel rows ``(y·x, feature)`` and which are all finite."""
    n_feat, ny, nx = block.shape
    rows = np.ascontiguousarray(block.reshape(n_feat, ny * nx).T, dtype=np.float32)
    return rows, np.asarray(np.isfinite(rows).all(axis=1), dtype=np.bool_)


def _fold_block(block: npt.NDArray[np.floating[Any]], model: DensityModel) -> Any:
    """Block ``(feature, y, x)`` → the fold forests' means ``(folds, y, x)`` float32 (NaN where
    any feature is NaN): the one forest pass shared by the density and its bounds."""
    rows, ok = _valid_rows(block)
    folds = model.forest.n_folds
    out = np.full((rows.shape[0], folds), np.nan, dtype=np.float32)
    if ok.any():
        out[ok] = model.forest.fold_means(rows[ok])
    return out.T.reshape(folds, *block.shape[1:])


def _point_from_folds(fold: npt.NDArray[np.float32], model: DensityModel) -> Any:
    """``(folds, y, x)`` → density ``(y, x)``: the mean of the fold forests, floored."""
    with np.errstate(invalid="ignore"):
        point = fold.mean(axis=0)
    return np.where(np.isnan(point), np.nan, np.maximum(point, model.floor_tc_per_ha)).astype(
        np.float32
    )


def _bounds_from_folds(fold: npt.NDArray[np.float32], model: DensityModel) -> Any:
    """``(folds, y, x)`` → CV+ ``(2, y, x)`` lower/upper bounds (conformal models)."""
    rows = fold.reshape(fold.shape[0], -1).T
    ok = np.isfinite(rows).all(axis=1)
    out = np.full((rows.shape[0], 2), np.nan, dtype=np.float32)
    if ok.any():
        lower, upper = _cv_plus_intervals(model, rows[ok].astype(np.float64))
        out[ok] = np.maximum(np.column_stack([lower, upper]), model.floor_tc_per_ha)
    return out.T.reshape(2, *fold.shape[1:])


def _bounds_block(block: npt.NDArray[np.floating[Any]], model: DensityModel) -> Any:
    """Block ``(feature, y, x)`` → ``(2, y, x)`` float32 lower/upper bounds (quantile models)."""
    rows, ok = _valid_rows(block)
    out = np.full((rows.shape[0], 2), np.nan, dtype=np.float32)
    if ok.any():
        x = rows[ok]
        lower, upper = _bounds_rows(model, x, model.forest.fold_means(x))
        out[ok] = np.maximum(np.column_stack([lower, upper]), model.floor_tc_per_ha)
    return out.T.reshape(2, *block.shape[1:])


def predict_density(model: DensityModel, features: xr.DataArray) -> xr.Dataset:
    """Lazy carbon-density map and 90 % prediction bounds (t C/ha) on the features' grid.

    Returns ``carbon_tc_per_ha``, ``lower_tc_per_ha``, ``upper_tc_per_ha`` (float32, ``y, x``,
    dask-backed; NaN where any feature is NaN). Features are selected by name in the model's
    order. Nothing is computed here. One forest pass per block (the fold forests' means) feeds
    both the density and the conformal bounds, so computing them together (e.g.
    :func:`write_density_cogs`) runs the forest once; the density alone costs only that pass.
    """
    if features.dims != ("feature", "y", "x"):
        raise InputError(f"features dims are {features.dims}, expected ('feature', 'y', 'x')")
    grid = grid_of(features)
    have = _feature_names(features)
    missing = [n for n in model.feature_names if n not in have]
    if missing:
        raise InputError(f"features lack {', '.join(missing)} used by the carbon model")
    idx = [have.index(n) for n in model.feature_names]
    data = features.data
    if not isinstance(data, da.Array):
        data = da.from_array(np.asarray(data), chunks=(-1, 512, 512))
    data = data[idx].rechunk({0: -1})
    folds = model.forest.n_folds
    fold = da.map_blocks(
        _fold_block, data, model, dtype=np.float32,
        chunks=((folds,), data.chunks[1], data.chunks[2]),
    )  # fmt: skip
    point = da.map_blocks(_point_from_folds, fold, model, dtype=np.float32, drop_axis=0)
    if model.method == "conformal":
        bounds = da.map_blocks(
            _bounds_from_folds, fold, model, dtype=np.float32,
            chunks=((2,), data.chunks[1], data.chunks[2]),
        )  # fmt: skip
    else:
        bounds = da.map_blocks(
            _bounds_block, data, model, dtype=np.float32,
            chunks=((2,), data.chunks[1], data.chunks[2]),
        )  # fmt: skip
    out = [point, bounds[0], bounds[1]]
    coords = {c: features.coords[c] for c in ("y", "x") if c in features.coords}
    attrs = {
        **grid_attrs(grid), "units": "t C/ha", "confidence": model.confidence,
        "interval_method": model.method,
    }  # fmt: skip
    return xr.Dataset(
        {
            name: xr.DataArray(out[i], dims=("y", "x"), coords=coords, attrs=attrs)
            for i, name in enumerate(OUTPUT_VARIABLES)
        },
        attrs=attrs,
    )


@dataclass(frozen=True)
class DensityCogs:
    """The written density and uncertainty COGs with their SHA-256."""

    density: Path
    density_sha256: str
    uncertainty: Path
    uncertainty_sha256: str


def write_density_cogs(
    prediction: xr.Dataset, out_dir: Path, *, stem: str = "carbon"
) -> DensityCogs:
    """Write ``<stem>_density.tif`` (1 band) and ``<stem>_uncertainty.tif`` (lower, upper).

    Both are float32 COGs with NaN as nodata, units t C/ha in the tags; the uncertainty COG's
    bands are the lower and upper bounds of the prediction interval (asymmetric, so not a
    half-width). Both are written together by :func:`mrv.raster.write_cogs`.
    """
    crs = str(prediction.attrs["crs"])
    transform = [float(v) for v in prediction.attrs["transform"]]
    conf = float(prediction.attrs.get("confidence", 0.90))
    tags = {
        "units": "t C/ha", "confidence": f"{conf:g}",
        "interval_method": str(prediction.attrs.get("interval_method", "")),
    }  # fmt: skip
    density = out_dir / f"{stem}_density.tif"
    uncertainty = out_dir / f"{stem}_uncertainty.tif"
    bounds = da.stack([prediction["lower_tc_per_ha"].data, prediction["upper_tc_per_ha"].data])
    d_sha, u_sha = write_cogs(
        [
            CogSpec(
                density,
                prediction["carbon_tc_per_ha"],
                crs,
                transform,
                np.nan,
                "float32",
                ["carbon_tc_per_ha"],
                tags,
            ),
            CogSpec(
                uncertainty,
                bounds,
                crs,
                transform,
                np.nan,
                "float32",
                ["lower_tc_per_ha", "upper_tc_per_ha"],
                {**tags, "interval": f"{conf:.0%} prediction interval bounds"},
            ),
        ]
    )  # the model runs once per block for the density and both bounds
    return DensityCogs(density, d_sha, uncertainty, u_sha)
