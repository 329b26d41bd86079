"""Land-cover classifier benchmark: accuracy against LightGBM and prediction throughput.

Accuracy (spatial-block 5-fold CV, the same folds for both models, averaged over 3 fold
seeds) of the default model (``"auto"`` = MLP with the compiled kernel) and of LightGBM
(100 rounds, 63 leaves) on

* synthetic data: 8 Huzhou land-cover classes with Sentinel-2-like spring/winter spectra,
  per-patch and per-sub-type spectral variation, illumination and pixel noise on Voronoi
  patches; 16 features (6 bands + NDVI + MNDWI per season); point labels;
* real data: the eo-learn test patch (3 clear L1C scenes × 13 bands, LULC polygons, 5
  classes), with the 39 bands alone and with 15 normalised-difference indices added.

Throughput: ``predict_classes`` over a ``size``² × 16 (synthetic) and × 54 (real-feature
shape) dask array in 1024² chunks on the threaded scheduler, and LightGBM's ``predict`` on a
sample of pixels. Prints one JSON object.

    python -m benchmarks.satellite_classify [--size 2048] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "eo-learn-testeopatch"
TRANSFORM = [10.0, 0.0, 600_000.0, 0.0, -10.0, 3_400_000.0]
BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
# (spring, winter) surface reflectance per band; rough class means for northern Zhejiang
SPECTRA: dict[str, tuple[list[float], list[float]]] = {
    "moso_bamboo": (
        [0.03, 0.06, 0.035, 0.10, 0.28, 0.36, 0.38, 0.40, 0.20, 0.10],
        [0.03, 0.055, 0.035, 0.09, 0.22, 0.28, 0.30, 0.31, 0.18, 0.09],
    ),
    "other_forest": (
        [0.025, 0.05, 0.03, 0.085, 0.24, 0.30, 0.32, 0.34, 0.17, 0.08],
        [0.04, 0.06, 0.06, 0.09, 0.15, 0.18, 0.20, 0.21, 0.20, 0.12],
    ),
    "tea_garden": (
        [0.04, 0.07, 0.05, 0.11, 0.24, 0.29, 0.31, 0.32, 0.22, 0.12],
        [0.045, 0.07, 0.06, 0.10, 0.19, 0.23, 0.24, 0.25, 0.23, 0.14],
    ),
    "paddy_farmland": (
        [0.05, 0.07, 0.07, 0.09, 0.12, 0.14, 0.15, 0.15, 0.12, 0.08],
        [0.07, 0.10, 0.12, 0.15, 0.18, 0.20, 0.21, 0.22, 0.28, 0.20],
    ),
    "wetland_vegetation": (
        [0.04, 0.065, 0.05, 0.10, 0.20, 0.25, 0.27, 0.28, 0.16, 0.08],
        [0.05, 0.07, 0.07, 0.09, 0.12, 0.13, 0.14, 0.14, 0.13, 0.08],
    ),
    "open_water": (
        [0.06, 0.07, 0.05, 0.045, 0.035, 0.03, 0.03, 0.025, 0.015, 0.01],
        [0.055, 0.065, 0.045, 0.04, 0.03, 0.025, 0.025, 0.02, 0.012, 0.008],
    ),
    "built_up": (
        [0.10, 0.12, 0.13, 0.15, 0.17, 0.18, 0.19, 0.20, 0.24, 0.21],
        [0.10, 0.12, 0.13, 0.15, 0.17, 0.18, 0.19, 0.20, 0.24, 0.21],
    ),
    "other": (
        [0.12, 0.15, 0.18, 0.21, 0.24, 0.26, 0.27, 0.28, 0.33, 0.28],
        [0.12, 0.15, 0.18, 0.21, 0.24, 0.26, 0.27, 0.28, 0.33, 0.28],
    ),
}
PRIOR = (0.22, 0.25, 0.08, 0.18, 0.06, 0.08, 0.09, 0.04)


def synthetic_scene(size: int, *, seed: int = 1) -> tuple[xr.DataArray, npt.NDArray[np.uint8]]:
    """Features (16, size, size) float32 and the true class codes 1-8."""
    from scipy.ndimage import gaussian_filter
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    n_patches = max(8, size * size // 144)
    centres = rng.uniform(0, size, (n_patches, 2))
    patch_class = rng.choice(8, n_patches, p=PRIOR)
    yy, xx = np.mgrid[0:size, 0:size]
    jitter = rng.normal(0, 1.5, (2, size * size))
    _, nearest = cKDTree(centres).query(
        np.column_stack([yy.ravel() + jitter[0], xx.ravel() + jitter[1]])
    )
    nearest = nearest.reshape(size, size)
    spectra = np.array([s + w for s, w in SPECTRA.values()])  # (8, 20)
    subtype = np.exp(rng.normal(0, 0.2, (8, 3, 20)))  # 3 sub-types per class (e.g. on/off-year)
    factor = np.exp(rng.normal(0, 0.12, (n_patches, 20)) + rng.normal(0, 0.2, (n_patches, 1)))
    factor *= subtype[patch_class, rng.integers(0, 3, n_patches)]
    illumination = 1 + 0.5 * gaussian_filter(rng.normal(size=(size, size)), 8)
    features = []
    for season in (0, 1):  # one season at a time keeps memory at a few size² float32 layers
        cols = slice(10 * season, 10 * season + 10)
        refl = (spectra[patch_class][:, cols] * factor[:, cols])[nearest].astype(np.float32)
        refl *= illumination[..., None].astype(np.float32)
        refl *= 1 + rng.normal(0, 0.04, refl.shape).astype(np.float32)
        refl += rng.normal(0, 0.02, refl.shape).astype(np.float32)
        np.clip(refl, 1e-4, 1, out=refl)
        b = {name: refl[..., i] for i, name in enumerate(BANDS)}
        features += [b[n] for n in ("B02", "B03", "B04", "B08", "B11", "B12")]
        features.append((b["B08"] - b["B04"]) / (b["B08"] + b["B04"]))
        features.append((b["B03"] - b["B11"]) / (b["B03"] + b["B11"]))
    names = [
        f"{season}_{n}"
        for season in ("spring", "winter")
        for n in ("B02", "B03", "B04", "B08", "B11", "B12", "NDVI", "MNDWI")
    ]
    data = xr.DataArray(
        np.stack(features).astype(np.float32),
        dims=("feature", "y", "x"),
        coords={"feature": names},
        attrs={"crs": "EPSG:32650", "transform": TRANSFORM},
    )
    return data, (patch_class[nearest] + 1).astype(np.uint8)


def _compare(table: Any, seeds: tuple[int, ...] = (0, 1, 2)) -> dict[str, Any]:
    from pipelines.satellite.classify import train_classifier

    out: dict[str, Any] = {}
    for model in ("auto", "lightgbm"):
        runs = []
        t0 = time.perf_counter()
        for seed in seeds:
            runs.append(train_classifier(table, model=model, folds=5, seed=seed))
        out[model] = {
            "overall_accuracy": round(float(np.mean([r.overall_accuracy for r in runs])), 4),
            "overall_accuracy_per_fold_seed": [round(r.overall_accuracy, 4) for r in runs],
            "kappa": round(float(np.mean([r.kappa for r in runs])), 4),
            "train_cv_s": round((time.perf_counter() - t0) / len(seeds), 2),
            "model": runs[0].model,
        }
    out["oa_difference_points"] = round(
        100 * (out["auto"]["overall_accuracy"] - out["lightgbm"]["overall_accuracy"]), 2
    )
    return out


def synthetic_accuracy(size: int = 512, n_labels: int = 10_000) -> dict[str, Any]:
    import geopandas as gpd
    from shapely import points

    from pipelines.satellite.classes import DEFAULT_CLASSES
    from pipelines.satellite.samples import extract_samples

    features, truth = synthetic_scene(size)
    rng = np.random.default_rng(0)
    idx = rng.choice(truth.size, n_labels, replace=False)
    rows, cols = np.divmod(idx, size)
    names = np.array([c.name for c in DEFAULT_CLASSES])[truth[rows, cols] - 1]
    geoms = points(TRANSFORM[2] + (cols + 0.5) * 10, TRANSFORM[5] - (rows + 0.5) * 10)
    labels = gpd.GeoDataFrame({"lc": names}, geometry=geoms, crs="EPSG:32650")
    table = extract_samples(
        features, labels, label_column="lc", classes=DEFAULT_CLASSES, block_size_m=320.0
    )
    result = _compare(table)
    for model in ("auto", "lightgbm"):  # the whole map against the truth
        mapped = result[model].pop("model").predict_block(features.values)
        result[model]["map_accuracy_vs_truth"] = round(float(np.mean(mapped == truth)), 4)
    result["samples"] = table.n_samples
    result["features"] = len(table.feature_names)
    return result


def _real_features(with_indices: bool) -> xr.DataArray:
    scenes = np.load(REAL / "REFERENCE_SCENES.npy")[[2, 3, 4]]  # (3, 101, 100, 13) clear
    bands = [f"B{i:02d}" for i in range(1, 9)] + ["B8A", "B09", "B10", "B11", "B12"]
    layers, names = [], []
    for t, date in enumerate(("20150909", "20150830", "20150711")):
        b = {name: scenes[t, ..., i] for i, name in enumerate(bands)}
        layers += [b[n] for n in bands]
        names += [f"{date}_{n}" for n in bands]
        if with_indices:
            for name, (p, q) in {
                "NDVI": ("B08", "B04"),
                "NDWI": ("B03", "B08"),
                "MNDWI": ("B03", "B11"),
                "NDMI": ("B08", "B11"),
                "NDRE": ("B08", "B05"),
            }.items():
                layers.append((b[p] - b[q]) / (b[p] + b[q]))
                names.append(f"{date}_{name}")
    x0, y0, x1, y1 = 465181.0522318204, 5079244.8912012065, 466180.53145382757, 5080254.63349641
    return xr.DataArray(
        np.stack(layers).astype(np.float32),
        dims=("feature", "y", "x"),
        coords={"feature": names},
        attrs={
            "crs": "EPSG:32633",
            "transform": [(x1 - x0) / 100, 0.0, x0, 0.0, -(y1 - y0) / 101, y1],
        },
    )


def real_accuracy() -> dict[str, Any]:
    import geopandas as gpd

    from pipelines.satellite.samples import extract_samples, read_labels

    names = ["cultivated land", "forest", "grassland", "schrubland", "artificial surface"]
    gdf = gpd.read_file(REAL / "TestEOPatch" / "vector_timeless" / "LULC.gpkg")
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lulc.gpkg"
        gdf[gdf["LULC_NAME"].str.strip() != ""].to_file(path)
        labels = read_labels(path, label_column="LULC_NAME", classes=names)
    for key, with_indices in (("bands", False), ("bands_indices", True)):
        table = extract_samples(
            _real_features(with_indices),
            labels,
            label_column="LULC_NAME",
            classes=names,
            block_size_m=100.0,
        )
        result = _compare(table)
        for model in ("auto", "lightgbm"):
            result[model].pop("model")
        result["features"] = len(table.feature_names)
        result["majority_share"] = round(
            max(table.pixels_per_class().values()) / table.n_samples, 4
        )
        out[key] = result
    return out


def throughput(size: int, workers: int) -> dict[str, Any]:
    import dask
    import dask.array as da

    from pipelines.satellite.classify import fit_model, predict_classes

    out: dict[str, Any] = {}
    features, truth = synthetic_scene(512)
    rng = np.random.default_rng(0)
    idx = rng.choice(truth.size, 10_000, replace=False)
    x = features.values.reshape(16, -1)[:, idx].T
    y = truth.ravel()[idx]
    for n_features in (16, 54):
        xf = np.tile(x, (1, -(-n_features // 16)))[:, :n_features]
        names = [f"f{i}" for i in range(n_features)]
        model = fit_model(xf, y, feature_names=names)
        lgb = fit_model(xf, y, feature_names=names, model="lightgbm")
        big = da.random.default_rng(1).uniform(
            0, 0.4, (n_features, size, size), chunks=(-1, 1024, 1024)
        )
        big = big.astype(np.float32).persist()
        arr = xr.DataArray(
            big, dims=("feature", "y", "x"), coords={"feature": names},
            attrs={"crs": "EPSG:32650", "transform": TRANSFORM},
        )  # fmt: skip
        with dask.config.set(scheduler="threads", num_workers=workers):
            predict_classes(model, arr[:, :1024, :1024]).compute()  # compile once
            best = 0.0
            for _ in range(3):
                t0 = time.perf_counter()
                predict_classes(model, arr).compute()
                best = max(best, size * size / (time.perf_counter() - t0))
        sample = np.asarray(big[:, :100, :1000]).reshape(n_features, -1)
        t0 = time.perf_counter()
        lgb.predict_block(sample)
        lgb_rate = sample.shape[1] / (time.perf_counter() - t0)
        out[f"{n_features}_features"] = {
            "classes": len(model.class_codes),
            "ours_px_per_s": round(best),
            "lightgbm_px_per_s_1_thread": round(lgb_rate),
        }
    out["size"] = size
    out["workers"] = workers
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=2048, help="throughput raster side (px)")
    parser.add_argument("--workers", type=int, default=2, help="dask threads")
    args = parser.parse_args(argv)
    report = {
        "synthetic": synthetic_accuracy(),
        "real": real_accuracy(),
        "throughput": throughput(args.size, args.workers),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
