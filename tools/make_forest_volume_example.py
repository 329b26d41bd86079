"""Generate the bundled forest-volume example survey (synthetic, seeded, realistic ranges).

Site: an illustrative hillside forest block in south-western Anji county (around 119.487 E,
30.445 N, GCJ-02 as read off AMap), inside the real county boundary
(``aoi/counties/330523.geojson``). Two strata:

* ``fir-plantation``: a ~22-year-old Chinese fir (Cunninghamia lanceolata, 杉木) plantation,
  12 plots; 24-40 trees per 400 m² plot (600-1,000 stems/ha after thinning); plot mean DBH
  ~ N(15.0, 1.5) cm, tree DBH ~ N(plot mean, 3.5) cm.
* ``pine-broadleaf``: a masson pine (Pinus massoniana, 马尾松) - broadleaf mixed secondary
  forest, 12 plots; 18-36 trees per plot; species group drawn per tree with probabilities
  pine 0.45, broadleaf 0.45 (e.g. Schima, Liquidambar, Quercus), fir 0.10; plot mean DBH
  ~ N(15.5, 1.5) cm for pine and fir, N(12.0, 1.2) cm for broadleaf; tree DBH sd 3.5 / 3.0 cm.

All trees DBH ≥ 5 cm (clipped to 5-36 cm). Heights from saturating height-diameter curves
H = 1.3 + Hmax·(1 − exp(−k·D)) with (Hmax, k) = (20, 0.065) fir, (19, 0.07) pine,
(15, 0.09) broadleaf, times a plot site factor N(1, 0.06) and a tree factor N(1, 0.07).
Stand magnitudes that result (fir plots 60-127 m³/ha and 19-41 t C/ha in trees, mixed plots
42-80 m³/ha and 17-32 t C/ha) are in the range of Zhejiang forests (vegetation carbon
27.34 t C/ha on average over 838 provincial plots, Dai et al. 2017, methodologies.md §1.5).

**Stem volume is synthetic**: V = f × g × H with a breast-height form factor f = 0.45 and basal
area g = π/4 · (D/100)² m², rounded to 0.0001 m³. A real survey reads each tree's stem volume
over bark from the official two-way (D, H) volume tables of Zhejiang (立木二元材积表) instead.

Plot area 400 m² (20 m × 20 m); strata 88.5 + 61.5 = 150 ha (2,250 mu).
Run from the repository root: ``python tools/make_forest_volume_example.py``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

OUT = Path("methodologies/forest_volume/example")
FORM_FACTOR = 0.45
PLOT_AREA_M2 = 400
# Project boundary drawn on AMap (GCJ-02): an illustrative forest block in south-western Anji.
BOUNDARY = [
    (119.4780, 30.4385),
    (119.4900, 30.4370),
    (119.4965, 30.4420),
    (119.4955, 30.4510),
    (119.4850, 30.4530),
    (119.4770, 30.4470),
    (119.4780, 30.4385),
]
HEIGHT_CURVE = {
    "cunninghamia": (20.0, 0.065),
    "pinus_massoniana": (19.0, 0.07),
    "broadleaf": (15.0, 0.09),
}
STRATA = (
    # name, prefix, plots, trees per plot (min, max), lon range, lat range
    ("fir-plantation", "FP", 12, (24, 40), (119.4795, 119.4865), (30.4400, 30.4495)),
    ("pine-broadleaf", "PB", 12, (18, 36), (119.4880, 119.4945), (30.4410, 30.4495)),
)
AREA_HA = {"fir-plantation": "88.5", "pine-broadleaf": "61.5"}


def main() -> None:
    """Write plots.csv, trees.csv, strata.csv and boundary.geojson."""
    rng = np.random.default_rng(20241126)
    OUT.mkdir(parents=True, exist_ok=True)
    plots: list[dict[str, object]] = []
    trees: list[dict[str, object]] = []
    for s, (stratum, prefix, n_plots, (lo, hi), lons, lats) in enumerate(STRATA):
        for i in range(n_plots):
            pid = f"{prefix}{i + 1:02d}"
            plots.append(
                {
                    "plot_id": pid,
                    "stratum": stratum,
                    "plot_area_m2": PLOT_AREA_M2,
                    "lon": f"{rng.uniform(*lons):.6f}",
                    "lat": f"{rng.uniform(*lats):.6f}",
                    "survey_date": f"2024-{11 + s:02d}-{4 + i:02d}",
                }
            )
            n = int(rng.integers(lo, hi + 1))
            site = rng.normal(1.0, 0.06)
            if s == 0:
                groups = np.array(["cunninghamia"] * n)
            else:
                groups = rng.choice(
                    ["pinus_massoniana", "broadleaf", "cunninghamia"], size=n, p=[0.45, 0.45, 0.10]
                )
            conifer_mean = rng.normal(15.0 if s == 0 else 15.5, 1.5)
            broad_mean = rng.normal(12.0, 1.2)
            mean = np.where(groups == "broadleaf", broad_mean, conifer_mean)
            sd = np.where(groups == "broadleaf", 3.0, 3.5)
            dbh = np.clip(rng.normal(mean, sd), 5.0, 36.0).round(1)
            hmax = np.array([HEIGHT_CURVE[g][0] for g in groups])
            k = np.array([HEIGHT_CURVE[g][1] for g in groups])
            height = 1.3 + hmax * (1.0 - np.exp(-k * dbh)) * site * rng.normal(1.0, 0.07, n)
            height = np.maximum(height, 2.0).round(1)
            volume = (FORM_FACTOR * np.pi / 4.0 * (dbh / 100.0) ** 2 * height).round(4)
            trees += [
                {
                    "plot_id": pid,
                    "species_group": g,
                    "dbh_cm": f"{d:.1f}",
                    "height_m": f"{h:.1f}",
                    "volume_m3": f"{v:.4f}",
                }
                for g, d, h, v in zip(groups, dbh, height, volume, strict=True)
            ]
    _write(OUT / "plots.csv", plots)
    _write(OUT / "trees.csv", trees)
    _write(OUT / "strata.csv", [{"stratum": k, "area_ha": v} for k, v in AREA_HA.items()])
    geom = {"type": "Polygon", "coordinates": [[list(p) for p in BOUNDARY]]}
    (OUT / "boundary.geojson").write_text(json.dumps(geom) + "\n", encoding="utf-8")


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
