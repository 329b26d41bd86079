"""Samples of the truth: reference classes at points, labelled points and field plots."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import Transformer

from mrv.errors import InputError
from pipelines.satellite.cube import Grid
from pipelines.satellite.synthetic._spec import F64, RESOLUTION_M, SyntheticSpec
from pipelines.satellite.synthetic._truth import Truth, check_truth


def _to_lonlat(grid: Grid, rows: F64, cols: F64) -> tuple[F64, F64]:
    a, _, c, _, e, f = grid.transform
    x = c + a * cols
    y = f + e * rows
    lon, lat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(x, y)
    return np.asarray(lon, np.float64), np.asarray(lat, np.float64)


def truth_class_at(truth: Truth, lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Class code of the truth at WGS84 points (−1 outside the grid), e.g. reference labels for
    an accuracy-assessment sample."""
    g = truth.grid
    x, y = Transformer.from_crs("EPSG:4326", g.crs, always_xy=True).transform(
        np.asarray(lon, np.float64), np.asarray(lat, np.float64)
    )
    a, _, c, _, e, f = g.transform
    col = np.floor((np.asarray(x) - c) / a).astype(np.int64)
    row = np.floor((np.asarray(y) - f) / e).astype(np.int64)
    inside = (row >= 0) & (row < g.height) & (col >= 0) & (col < g.width)
    out = np.full(row.shape, -1, np.int64)
    out[inside] = truth.class_map[row[inside], col[inside]]
    return out


def sample_labels(truth: Truth, spec: SyntheticSpec, *, n_per_class: int, seed: int) -> Any:
    """Stratified random labelled points (pixel centres), ``n_per_class`` per class (all of a
    class's pixels if it has fewer): GeoDataFrame in WGS84 with ``land_cover`` (class name) and
    ``code``."""
    import geopandas as gpd

    check_truth(truth, spec)
    if n_per_class < 1:
        raise InputError("n_per_class must be ≥ 1")
    rng = np.random.default_rng([seed, spec.seed, 900])
    flat = truth.class_map.ravel()
    picks, names, codes = [], [], []
    for c in truth.classes:
        idx = np.flatnonzero(flat == c.code)
        take = rng.choice(idx, size=min(n_per_class, idx.size), replace=False)
        picks.append(np.sort(take))
        names += [c.name] * take.size
        codes += [c.code] * take.size
    sel = np.concatenate(picks) if picks else np.empty(0, np.intp)
    rows, cols = np.divmod(sel, truth.grid.width)
    lon, lat = _to_lonlat(truth.grid, rows + 0.5, cols + 0.5)
    return gpd.GeoDataFrame(
        {"land_cover": names, "code": np.asarray(codes, np.uint8)},
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


DEFAULT_PLOT_STRATA: tuple[str, ...] = ("moso_bamboo", "other_forest", "tea_garden")
"""Strata sampled by :func:`sample_plots` unless told otherwise (the carbon-bearing classes)."""


def sample_plots(
    truth: Truth,
    spec: SyntheticSpec,
    *,
    n_per_stratum: int,
    plot_area_m2: float = 900.0,
    seed: int,
    strata: Sequence[str] = DEFAULT_PLOT_STRATA,
    measurement_cv: float = 0.08,
) -> Any:
    """Stratified random field plots with measured carbon stock.

    Each plot is a square of ``round(√area / 10 m)`` pixels on a side lying wholly in one class
    (field crews place plots inside stands). Its true stock is the mean truth density over the
    square (``true_stock_tc_per_ha``); the measured ``stock_tc_per_ha`` adds a normal
    measurement error with coefficient of variation ``measurement_cv``. Columns follow the plot
    pipeline's estimate JSON: ``plot_id``, ``stratum``, ``lon``, ``lat`` (WGS84 plot centre),
    ``stock_tc_per_ha``; returns a GeoDataFrame (WGS84 points).
    """
    import geopandas as gpd

    check_truth(truth, spec)
    codes = {c.name: c.code for c in truth.classes}
    unknown = [s for s in strata if s not in codes]
    if unknown:
        raise InputError(f"unknown strata {unknown}; classes are {list(codes)}")
    if n_per_stratum < 1:
        raise InputError("n_per_stratum must be ≥ 1")
    k = max(1, round(math.sqrt(plot_area_m2) / RESOLUTION_M))
    h, w = spec.shape
    rng = np.random.default_rng([seed, spec.seed, 901])
    offs = np.arange(k)
    records: list[pd.DataFrame] = []
    for name in strata:
        code = codes[name]
        # candidate top-left corners of k × k squares, checked for purity vectorised
        tl = np.flatnonzero(truth.class_map[: h - k + 1, : w - k + 1].ravel() == code)
        if tl.size == 0:
            raise InputError(f"stratum {name!r} has no {k} × {k} px area in the scene")
        cand = rng.choice(tl, size=min(tl.size, 30 * n_per_stratum), replace=False)
        r0, c0 = np.divmod(cand, w - k + 1)
        rr = r0[:, None, None] + offs[None, :, None]
        cc = c0[:, None, None] + offs[None, None, :]
        pure = (truth.class_map[rr, cc] == code).all(axis=(1, 2))
        r0, c0, rr, cc = r0[pure], c0[pure], rr[pure], cc[pure]
        if r0.size < n_per_stratum:
            raise InputError(
                f"stratum {name!r}: only {r0.size} plots of {k} × {k} px fit wholly inside it"
            )
        r0, c0 = r0[:n_per_stratum], c0[:n_per_stratum]
        true = truth.carbon_tc_per_ha[rr[:n_per_stratum], cc[:n_per_stratum]].mean(
            axis=(1, 2), dtype=np.float64
        )
        measured = np.clip(true * (1.0 + measurement_cv * rng.standard_normal(true.size)), 0, None)
        lon, lat = _to_lonlat(truth.grid, r0 + k / 2.0, c0 + k / 2.0)
        records.append(
            pd.DataFrame(
                {
                    "stratum": name,
                    "lon": lon,
                    "lat": lat,
                    "stock_tc_per_ha": measured,
                    "true_stock_tc_per_ha": true,
                    "plot_area_m2": float(k * k * RESOLUTION_M**2),
                }
            )
        )
    df = pd.concat(records, ignore_index=True)
    df.insert(0, "plot_id", [f"P{i + 1:04d}" for i in range(len(df))])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
