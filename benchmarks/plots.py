"""Plot-survey benchmark: 1,000,000 culm records in 20,000 plots over 4 strata.

The parent process writes the synthetic survey (plots.csv, culms.csv, strata.csv) to a
temporary folder, then a fresh child process runs what ``mrv plots estimate`` runs (read CSV,
validate, per-plot biomass, stratified estimate, sampling sufficiency, 10,000 Monte Carlo draws)
and reports its wall time per phase and peak RSS. Prints one JSON object.

    python -m benchmarks.plots --json [--culms 1000000] [--plots 20000] [--strata 4]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def write_survey(folder: Path, n_culms: int, n_plots: int, n_strata: int, seed: int = 1) -> None:
    """Synthetic moso survey with realistic ranges (DBH ~ N(9.5, 1.6) cm, ages 1-4 du)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"P{i:06d}" for i in range(n_plots)])
    strata = np.array([f"S{h + 1}" for h in range(n_strata)])
    pd.DataFrame(
        {
            "plot_id": ids,
            "stratum": strata[np.arange(n_plots) % n_strata],
            "plot_area_m2": 400.0,
            "lon": rng.uniform(119.50, 119.70, n_plots).round(6),
            "lat": rng.uniform(30.45, 30.65, n_plots).round(6),
            "survey_date": "2024-10-15",
        }
    ).to_csv(folder / "plots.csv", index=False)
    plot_of = np.sort(rng.integers(0, n_plots, n_culms))
    pd.DataFrame(
        {
            "plot_id": ids[plot_of],
            "dbh_cm": np.clip(rng.normal(9.5, 1.6, n_culms), 3.0, 18.0).round(1),
            "age_du": rng.integers(1, 5, n_culms),
        }
    ).to_csv(folder / "culms.csv", index=False)
    pd.DataFrame({"stratum": strata, "area_ha": rng.uniform(500, 5_000, n_strata).round(1)}).to_csv(
        folder / "strata.csv", index=False
    )


def run(folder: Path, draws: int) -> dict[str, object]:
    """The timed part (child process): read, validate, estimate."""
    t0 = time.perf_counter()
    from methodologies import get
    from methodologies.parameters import ParamValues
    from mrv.settings import Settings
    from pipelines.plots import estimate_survey, survey_inputs, validate_survey

    t_import = time.perf_counter()
    m = get("bamboo-moso")
    values = ParamValues(m.parameters)
    inputs = survey_inputs(m, named={n: folder / f"{n}.csv" for n in ("plots", "culms", "strata")})
    t_read = time.perf_counter()
    report = validate_survey(m, inputs, values)
    if report.survey is None:
        raise SystemExit(f"benchmark survey failed validation: {report.errors[:3]}")
    t_validate = time.perf_counter()
    result = estimate_survey(
        m,
        report.survey,
        values,
        Settings(mc_draws=draws),
    )
    t_end = time.perf_counter()
    n_culms = len(report.survey["culms"])
    wall = t_end - t0  # includes importing the package, as a CLI run would
    return {
        "culm_records": n_culms,
        "plots": len(report.survey.plots),
        "strata": len(result["strata"]),
        "mc_draws": result["monte_carlo"]["draws"],
        "wall_s": round(wall, 3),
        "read_s": round(t_read - t_import, 3),
        "validate_s": round(t_validate - t_read, 3),
        "estimate_s": round(t_end - t_validate, 3),
        "import_s": round(t_import - t0, 3),
        "records_per_s": round(n_culms / wall),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "total_co2e_t": result["total"]["co2e_t"],
        "ci90_relative": result["total"]["ci90_relative"],
    }


def main(argv: list[str] | None = None) -> int:
    """Generate, run the timed child, print JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--culms", type=int, default=1_000_000)
    ap.add_argument("--plots", type=int, default=20_000)
    ap.add_argument("--strata", type=int, default=4)
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(run(args.child, args.draws)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        write_survey(folder, args.culms, args.plots, args.strata)
        generate_s = time.perf_counter() - t0
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.plots",
                "--child",
                str(folder),
                "--draws",
                str(args.draws),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        return proc.returncode
    result = json.loads(proc.stdout)
    result.update(
        {
            "benchmark": "plots",
            "generate_s": round(generate_s, 3),
            "target": {"wall_s": 5.0, "peak_rss_mb": 2048},
            "meets_target": result["wall_s"] <= 5.0 and result["peak_rss_mb"] <= 2048,
        }
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
