"""A complete demo data set (scenes, truth, labels, plots) and its command line."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pipelines.satellite.synthetic._files import write_scenes, write_truth
from pipelines.satellite.synthetic._samples import sample_labels, sample_plots
from pipelines.satellite.synthetic._spec import SyntheticSpec, default_dates
from pipelines.satellite.synthetic._truth import generate_truth


def write_demo(
    out_dir: Path,
    spec: SyntheticSpec,
    *,
    layout: Literal["bands", "multiband", "safe"] = "bands",
    n_labels_per_class: int = 200,
    n_plots_per_stratum: int = 30,
    cog: bool = False,
    workers: int = 1,
) -> dict[str, Any]:
    """Everything a demo or benchmark run needs, in one folder: ``scenes/`` (see
    :func:`write_scenes`), ``truth/`` (:func:`write_truth`), ``labels.geojson`` (training
    points, column ``land_cover``) and ``plots.csv`` (field plots with measured stock).
    Returns the paths and a summary (class areas, carbon total)."""
    out_dir = Path(out_dir)
    truth = generate_truth(spec)
    scenes = write_scenes(out_dir / "scenes", truth, spec, layout=layout, cog=cog, workers=workers)
    truth_files = write_truth(out_dir / "truth", truth, spec)
    labels = sample_labels(truth, spec, n_per_class=n_labels_per_class, seed=spec.seed + 1)
    labels_path = out_dir / "labels.geojson"
    labels.to_file(labels_path, driver="GeoJSON")
    plots = sample_plots(truth, spec, n_per_stratum=n_plots_per_stratum, seed=spec.seed + 2)
    plots_path = out_dir / "plots.csv"
    plots.drop(columns="geometry").to_csv(plots_path, index=False)
    return {
        "scenes": scenes,
        "truth": truth_files,
        "labels": labels_path,
        "plots": plots_path,
        "area_ha": truth.area_ha(),
        "carbon_total_tc": truth.carbon_total_tc(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pipelines.satellite.synthetic OUT [--size N] [--dates N] [--seed S]
    [--layout bands|multiband|safe] [--cog] [--workers N]``: write a demo data set."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", type=int, default=512, help="grid side, 10 m pixels")
    parser.add_argument("--dates", type=int, default=12, help="acquisitions (first N of 12)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--layout", choices=("bands", "multiband", "safe"), default="bands")
    parser.add_argument("--cog", action="store_true", help="rewrite files as COGs")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    dates = default_dates()[: max(1, min(12, args.dates))]
    spec = SyntheticSpec(size_px=args.size, dates=dates, seed=args.seed)
    out = write_demo(args.out, spec, layout=args.layout, cog=args.cog, workers=args.workers)
    summary = {k: v for k, v in out.items() if k in ("area_ha", "carbon_total_tc")}
    print(json.dumps({"out": str(args.out), "files": len(out["scenes"]), **summary}, indent=2))
    return 0
