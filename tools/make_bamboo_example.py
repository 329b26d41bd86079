"""Generate the bundled bamboo-moso example survey (synthetic, seeded, realistic ranges).

30 plots of 100 m² in two Anji strata (on-year and off-year stands); 16-45 culms per plot
(1,600-4,500 culms/ha); plot mean DBH ~ N(9.6 or 9.2, 0.9) cm and culm DBH ~ N(plot mean, 1.4) cm
clipped to 5-14 cm; ages 1-4 du (on-year stands have more 1-du culms).
Plot coordinates are GCJ-02 (as read off AMap) inside the example project boundary.
Run from the repository root: ``python tools/make_bamboo_example.py``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

OUT = Path("methodologies/bamboo_moso/example")
# Project boundary drawn on AMap (GCJ-02): an illustrative hillside block in southern Anji.
BOUNDARY = [
    (119.6080, 30.4590),
    (119.6260, 30.4570),
    (119.6310, 30.4660),
    (119.6270, 30.4740),
    (119.6120, 30.4750),
    (119.6060, 30.4670),
    (119.6080, 30.4590),
]


def main() -> None:
    """Write the example tables and boundary."""
    rng = np.random.default_rng(20240915)
    OUT.mkdir(parents=True, exist_ok=True)
    plots, culms = [], []
    for s, (stratum, n_plots, age_p) in enumerate(
        (("on-year", 16, (0.34, 0.30, 0.24, 0.12)), ("off-year", 14, (0.16, 0.36, 0.30, 0.18)))
    ):
        for i in range(n_plots):
            pid = f"{'ON' if s == 0 else 'OF'}{i + 1:02d}"
            lon = 119.610 + rng.uniform(0, 0.017)
            lat = 30.461 + rng.uniform(0, 0.010) if s == 0 else 30.462 + rng.uniform(0, 0.009)
            plots.append(
                {
                    "plot_id": pid,
                    "stratum": stratum,
                    "plot_area_m2": 100,
                    "lon": f"{lon:.6f}",
                    "lat": f"{lat:.6f}",
                    "survey_date": f"2024-{10 + s:02d}-{3 + i:02d}",
                }
            )
            n = int(rng.integers(16, 46))
            plot_dbh = rng.normal(9.6 if s == 0 else 9.2, 0.9)
            dbh = np.clip(rng.normal(plot_dbh, 1.4, n), 5.0, 14.0).round(1)
            age = rng.choice([1, 2, 3, 4], size=n, p=age_p)
            culms += [
                {"plot_id": pid, "dbh_cm": f"{d:.1f}", "age_du": int(a)}
                for d, a in zip(dbh, age, strict=True)
            ]
    _write(OUT / "plots.csv", plots)
    _write(OUT / "culms.csv", culms)
    _write(
        OUT / "strata.csv",
        [
            {"stratum": "on-year", "area_ha": "182.4", "phase": "on"},
            {"stratum": "off-year", "area_ha": "137.6", "phase": "off"},
        ],
    )
    geom = {"type": "Polygon", "coordinates": [[list(p) for p in BOUNDARY]]}
    (OUT / "boundary.geojson").write_text(json.dumps(geom) + "\n", encoding="utf-8")
    followup(plots, culms)


def followup(plots: list[dict[str, object]], culms: list[dict[str, object]]) -> None:
    """The same plots re-measured two years later (same on/off phase, 1 du older).

    Culms of 4 du and more after ageing are cut with probability 0.5 (stump tally in
    harvest.csv); new 1-du culms ~ Poisson(0.3 × standing culms) with DBH ~ N(plot mean, 1.4) cm;
    one plot (OF14) was not found again and one new plot (ON17) was added.
    """
    rng = np.random.default_rng(20261010)
    out = OUT / "followup"
    out.mkdir(parents=True, exist_ok=True)
    by_plot: dict[str, list[tuple[float, int]]] = {}
    for c in culms:
        by_plot.setdefault(str(c["plot_id"]), []).append(
            (float(str(c["dbh_cm"])), int(str(c["age_du"])))
        )
    new_plots, new_culms, harvest = [], [], []
    for p in plots:
        pid = str(p["plot_id"])
        if pid == "OF14":
            continue
        date = str(p["survey_date"]).replace("2024-", "2026-")
        new_plots.append({**p, "survey_date": date})
        standing = [(d, a + 1) for d, a in by_plot.get(pid, [])]
        kept = []
        for d, a in standing:
            if a >= 4 and rng.uniform() < 0.5:
                harvest.append({"plot_id": pid, "dbh_cm": f"{d:.1f}", "age_du": a})
            else:
                kept.append((d, a))
        mean_dbh = float(np.mean([d for d, _ in standing])) if standing else 9.0
        shoots = rng.poisson(0.3 * len(standing))
        kept += [(float(x), 1) for x in np.clip(rng.normal(mean_dbh, 1.4, shoots), 5, 14).round(1)]
        new_culms += [{"plot_id": pid, "dbh_cm": f"{d:.1f}", "age_du": a} for d, a in kept]
    new_plots.append({**plots[0], "plot_id": "ON17", "survey_date": "2026-10-20"})
    new_culms += [
        {"plot_id": "ON17", "dbh_cm": f"{d:.1f}", "age_du": int(a)}
        for d, a in zip(rng.normal(9.5, 1.4, 28).round(1), rng.integers(1, 5, 28), strict=True)
    ]
    _write(out / "plots.csv", new_plots)
    _write(out / "culms.csv", new_culms)
    _write(out / "harvest.csv", harvest)
    _write(
        out / "strata.csv",
        [
            {"stratum": "on-year", "area_ha": "182.4", "phase": "on"},
            {"stratum": "off-year", "area_ha": "137.6", "phase": "off"},
        ],
    )


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
