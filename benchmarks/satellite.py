"""Satellite benchmark: a synthetic size × size px × dates × 10-band Sentinel-2 L2A stack written
as tiled GeoTIFF band files (not timed), then, in a fresh child process (timed, with its peak
RSS): read + mask + seasonal median composites (written as COGs), indices and features,
classification (training with spatial-block CV, then the whole map predicted and written), and
the carbon-density map with its prediction intervals. Prints one JSON object.

    python -m benchmarks.satellite --size 4096 --dates 12 --json [--naive]

``--naive`` also runs the straightforward path on a 1024 × 1024 subset held in memory — xarray
median over time per season and a scikit-learn RandomForest(100) ``predict`` on the whole array —
beside ours (the numba median, the MLP on whole chunks) on the same data, timing exactly those two
steps for both, and prints ``speedup_vs_naive``; ``composite_pixel_dates_per_s`` and
``predict_px_per_s`` are ours there. The ``*_stage_*`` figures of the whole chain include reading
the scenes from disk and writing the COGs.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

SEASONS = (
    ("spring", "03-01", "05-31"),
    ("summer", "06-01", "08-31"),
    ("autumn", "09-01", "11-30"),
    ("winter", "12-01", "02-28"),
)


def _spec(size: int, dates: int) -> Any:
    from pipelines.satellite.synthetic import SyntheticSpec

    when = tuple(
        datetime(2024, 1, 10) + timedelta(days=round(i * 365 / dates)) for i in range(dates)
    )
    return SyntheticSpec(size_px=size, dates=when, seed=7)


def generate(folder: Path, size: int, dates: int) -> dict[str, Any]:
    """Write scenes, truth, labels and plots (parent process, not timed)."""
    from pipelines.satellite.synthetic import (
        generate_truth,
        sample_labels,
        sample_plots,
        write_scenes,
        write_truth,
    )

    spec = _spec(size, dates)
    truth = generate_truth(spec)
    write_scenes(folder / "scenes", truth, spec, layout="bands", workers=2)
    write_truth(folder / "truth", truth, spec)
    labels = sample_labels(truth, spec, n_per_class=400, seed=11)
    labels.to_file(folder / "labels.geojson", driver="GeoJSON")
    plots = sample_plots(truth, spec, n_per_stratum=60, seed=12)
    plots.drop(columns="geometry").to_csv(folder / "plots.csv", index=False)
    return {"area_ha": float(sum(truth.area_ha().values()))}


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run(folder: Path) -> dict[str, Any]:
    """The timed chain (child process)."""
    t0 = time.perf_counter()
    import dask
    import dask.array as da
    import rasterio

    from mrv.raster import CogSpec, read_raster, write_cogs
    from pipelines.satellite.carbon import (
        fit_density_model,
        plot_features,
        predict_density,
        write_density_cogs,
    )
    from pipelines.satellite.classes import DEFAULT_CLASSES
    from pipelines.satellite.classify import predict_classes, train_classifier
    from pipelines.satellite.composite import Season, composite
    from pipelines.satellite.features import build_features
    from pipelines.satellite.runs.carbon import read_plots
    from pipelines.satellite.runs.change import read_composite
    from pipelines.satellite.runs.common import fill_gaps
    from pipelines.satellite.runs.composite import composite_specs
    from pipelines.satellite.samples import extract_samples, read_labels
    from pipelines.satellite.sources import load_scenes

    dask.config.set(scheduler="threads")
    out = folder / "out"
    t_import = time.perf_counter()

    cube = load_scenes(folder / "scenes")
    n_time, n_band, ny, nx = (int(v) for v in cube["reflectance"].shape)
    comps = {name: composite(cube, Season(name, a, b)) for name, a, b in SEASONS}
    specs = composite_specs(out, comps)
    write_cogs(specs)
    t_comp = time.perf_counter()
    pixel_dates = ny * nx * n_band * sum(len(c.attrs["dates"]) for c in comps.values())

    stored = {name: read_composite(out / f"composite_{name}.tif") for name in comps}
    filled, _ = fill_gaps(stored)
    feats = build_features(filled)
    labels = read_labels(
        folder / "labels.geojson", label_column="land_cover", classes=DEFAULT_CLASSES
    )
    table = extract_samples(feats, labels, label_column="land_cover", classes=DEFAULT_CLASSES)
    result = train_classifier(table, folds=5)
    t_train = time.perf_counter()
    class_map = predict_classes(result.model, feats)
    grid_attrs = feats.attrs
    write_cogs(
        [
            CogSpec(
                out / "land_cover.tif",
                class_map,
                grid_attrs["crs"],
                grid_attrs["transform"],
                0,
                "uint8",
            )
        ]
    )
    t_pred = time.perf_counter()

    plots = plot_features(feats, read_plots(folder / "plots.csv"))
    names = list(feats["feature"].values)
    model = fit_density_model(plots[names], plots["stock_tc_per_ha"].to_numpy(np.float64))
    # as `mrv satellite carbon --land-cover`: carbon only where the map has the plots' classes
    land_cover = read_raster(out / "land_cover.tif").isel(band=0, drop=True).data
    plot_classes = [c.code for c in DEFAULT_CLASSES if c.name in set(plots["stratum"])]
    keep = da.isin(land_cover, plot_classes).rechunk(feats.data.chunks[1:])
    mapped = feats.copy(data=da.where(keep[np.newaxis], feats.data, np.float32(np.nan)))
    write_density_cogs(predict_density(model, mapped), out)
    t_carbon = time.perf_counter()

    with (
        rasterio.open(out / "land_cover.tif") as a,
        rasterio.open(folder / "truth" / "truth_class.tif") as b,
    ):
        mapped, truth = a.read(1), b.read(1)
    ok = (mapped > 0) & (truth > 0)
    map_oa = float((mapped[ok] == truth[ok]).mean())

    # LightGBM(100 rounds, 63 leaves) on the same samples and pixels: the accuracy reference
    lgb = train_classifier(table, folds=5, model="lightgbm")
    rng = np.random.default_rng(0)
    idx = rng.choice(np.flatnonzero(ok.ravel()), size=min(200_000, int(ok.sum())), replace=False)
    rows, cols = np.divmod(idx, nx)
    sample = np.asarray(feats.isel(y=("p", rows), x=("p", cols)).values, dtype=np.float32)
    ref = lgb.model.predict_block(sample)
    lgb_oa = float((ref == truth[rows, cols]).mean())
    ours_oa_sample = float((mapped[rows, cols] == truth[rows, cols]).mean())
    t_end = time.perf_counter()
    return {
        "size": nx,
        "dates": n_time,
        "bands": n_band,
        "features": len(names),
        "wall_s": round(t_carbon - t0, 2),
        "import_s": round(t_import - t0, 2),
        "composite_stage_s": round(t_comp - t_import, 2),
        "composite_stage_pixel_dates_per_s": round(pixel_dates / (t_comp - t_import)),
        "train_s": round(t_train - t_comp, 2),
        "predict_stage_s": round(t_pred - t_train, 2),
        "predict_stage_px_per_s": round(nx * ny / (t_pred - t_train)),
        "carbon_stage_s": round(t_carbon - t_pred, 2),
        "carbon_stage_px_per_s": round(nx * ny / (t_carbon - t_pred)),
        "peak_rss_mb": _rss_mb(),
        "classifier": result.to_dict()["model"],
        "cv_overall_accuracy": round(result.overall_accuracy, 4),
        "map_overall_accuracy_vs_truth": round(map_oa, 4),
        "lightgbm_cv_overall_accuracy": round(lgb.overall_accuracy, 4),
        "lightgbm_overall_accuracy_vs_truth_sample": round(lgb_oa, 4),
        "ours_overall_accuracy_vs_truth_sample": round(ours_oa_sample, 4),
        "carbon_cv_r2": round(model.cv.r2, 4),
        "reference_s": round(t_end - t_carbon, 2),
    }


def naive(folder: Path, size: int = 1024) -> dict[str, Any]:
    """xarray median + RandomForest predict vs ours on a size × size subset (child process)."""
    import dask
    from dask.base import compute, persist
    from sklearn.ensemble import RandomForestClassifier

    from pipelines.satellite.classes import DEFAULT_CLASSES
    from pipelines.satellite.classify import predict_classes, train_classifier
    from pipelines.satellite.composite import Season, composite
    from pipelines.satellite.features import build_features
    from pipelines.satellite.mask import MaskSpec, valid_mask
    from pipelines.satellite.runs.common import fill_gaps
    from pipelines.satellite.samples import extract_samples, read_labels
    from pipelines.satellite.sources import load_scenes

    dask.config.set(scheduler="threads")
    cube = load_scenes(folder / "scenes").isel(y=slice(0, size), x=slice(0, size))
    cube.attrs["transform"] = list(cube.attrs["transform"])
    cube = cube.persist()  # both paths start from the same scenes in memory: compute compared
    seasons = [Season(n, a, b) for n, a, b in SEASONS]
    labels = read_labels(
        folder / "labels.geojson", label_column="land_cover", classes=DEFAULT_CLASSES
    )

    # warm-up: numba compiles its typed list once per process (about 1 s), not per call
    small = cube.isel(y=slice(0, 64), x=slice(0, 64))
    compute(composite(small, seasons[0])["reflectance"])

    # ours: the numba median per season (the composite step), then the MLP on whole chunks
    t0 = time.perf_counter()
    comps = {s.name: composite(cube, s) for s in seasons}
    comps = dict(zip(comps, persist(*comps.values()), strict=True))
    t_ours_comp = time.perf_counter()
    feats = build_features(fill_gaps(comps)[0]).persist()  # shared by both paths, not timed
    table = extract_samples(
        feats, labels, label_column="land_cover", classes=DEFAULT_CLASSES, min_blocks_per_class=1
    )
    result = train_classifier(table, folds=3)
    t1 = time.perf_counter()
    predict_classes(result.model, feats).compute()
    t_ours_pred = time.perf_counter()

    # naive: xarray median over time per season, scikit-learn RandomForest on the whole array
    valid = valid_mask(cube, MaskSpec()).persist()
    t2 = time.perf_counter()
    for s in seasons:
        sel = np.flatnonzero(s.contains(cube["time"].to_index()))
        refl = cube["reflectance"].isel(time=sel)
        refl.where(valid.isel(time=sel)).median("time").compute()
    t_naive_comp = time.perf_counter()
    rf = RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=0)
    rf.fit(table.X, table.y)
    flat = np.asarray(feats.values).reshape(feats.shape[0], -1).T
    ok = np.isfinite(flat).all(axis=1)
    t3 = time.perf_counter()
    rf.predict(flat[ok])
    t_naive_pred = time.perf_counter()
    ours = (t_ours_comp - t0) + (t_ours_pred - t1)
    theirs = (t_naive_comp - t2) + (t_naive_pred - t3)
    n_values = int(cube["reflectance"].size)
    return {
        "naive_subset_px": size,
        "composite_pixel_dates_per_s": round(n_values / (t_ours_comp - t0)),
        "predict_px_per_s": round(size * size / (t_ours_pred - t1)),
        "naive_composite_pixel_dates_per_s": round(n_values / (t_naive_comp - t2)),
        "naive_predict_px_per_s": round(size * size / (t_naive_pred - t3)),
        "ours_composite_s": round(t_ours_comp - t0, 2),
        "ours_predict_s": round(t_ours_pred - t1, 2),
        "naive_composite_s": round(t_naive_comp - t2, 2),
        "naive_predict_s": round(t_naive_pred - t3, 2),
        "speedup_vs_naive": round(theirs / ours, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Generate, run the timed child(ren), print JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--dates", type=int, default=12)
    ap.add_argument("--naive", action="store_true")
    ap.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    ap.add_argument("--keep", type=Path, help="write the data here and keep it")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--child-naive", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(run(args.child)))
        return 0
    if args.child_naive is not None:
        print(json.dumps(naive(args.child_naive, min(1024, args.size))))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        t0 = time.perf_counter()
        reuse = args.keep is not None and (folder / "truth" / "truth_class.tif").exists()
        info = {"reused_data": True} if reuse else generate(folder, args.size, args.dates)
        generate_s = time.perf_counter() - t0
        result: dict[str, Any] = {
            "benchmark": "satellite",
            "generate_s": round(generate_s, 1),
            **info,
        }
        for flag in ("--child", *(("--child-naive",) if args.naive else ())):
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.satellite",
                    flag,
                    str(folder),
                    "--size",
                    str(args.size),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr)
                return proc.returncode
            result.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    result["targets"] = {
        "wall_s": 180,
        "peak_rss_mb": 4096,
        "composite_pixel_dates_per_s": 100_000_000,
        "predict_px_per_s": 1_000_000,
        "accuracy_within_points_of_lightgbm": 1.0,
        "speedup_vs_naive": 10,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
