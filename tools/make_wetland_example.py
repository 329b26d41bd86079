"""Generate the bundled wetland example survey (synthetic, seeded, magnitudes from the reference).

Site: Xiazhu Lake (下渚湖) national wetland park, Deqing county, ~120.055 E, 30.525 N (GCJ-02, as
read off AMap; the project boundary is illustrative, not the park's real boundary). 27 plots of
10 m × 10 m in three strata that together cover 150 ha = 2,250 mu, the area of the Xiazhu Lake
"water and vegetation restoration" target (methodologies.md §2.1):

* reed marsh (芦苇沼泽, 10 plots, 62.0 ha): three 1 m² frames per plot, aboveground dry mass
  ~N(1,800, 300) g/m² per plot (peak standing stock, September). The only reed figure in the
  reference is the Chongming reed belt's vegetation carbon 2.66-5.74 kg C/m² with root:shoot 2.96
  (§2.5): 4.02 / 3.96 / 0.47 ≈ 2.2 kg/m² aboveground dry mass; lake reed is somewhat lower.
  Soil: one feldspar marker-horizon core per plot, laid 5 years before; accretion ~N(0.30, 0.07)
  cm/yr, bulk density ~N(0.62, 0.06) g/cm³, organic carbon ~N(2.6, 0.35) %.
* lotus / emergent (莲藕-挺水, 9 plots, 48.5 ha): three 1 m² frames, lotus ~N(650, 150) g/m²
  (no sourced lotus value exists, §2.5 [GAP]; the magnitude is an assumption); two plots have one
  frame of wild rice Zizania (菰, "other"); one plot is open water without frames. Soil: repeated
  stock surveys (September 2019 and 2024), one core per round, layers 0-15 and 15-30 cm; true
  gain 0.35 t C/ha/yr in the top layer plus re-coring noise (OC ±0.05 %, BD ±0.015 g/cm³).
* sedge meadow (苔草草甸, 8 plots, 39.5 ha): three 0.25 m² frames, ~N(750, 150) g/m² (of the
  order of Poyang Lake Carex, ~600 g/m², §2.5). Soil: feldspar marker cores (5 years),
  accretion ~N(0.20, 0.05) cm/yr, bulk density ~N(0.80, 0.07), organic matter by loss on
  ignition ~N(4.6, 0.6) % (converted with Craft et al. 1991).

The resulting gross soil burial (~0.2-0.6 t C/ha/yr) lies within Lake Chaohu's 16.6-71.2 g C/m²/yr
and above the 64-lake mean of 22 g C/m²/yr (§2.5), as expected for vegetated littoral zones.
Run from the repository root: ``python tools/make_wetland_example.py``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

OUT = Path("methodologies/wetland/example")
# Illustrative project boundary around Xiazhu Lake drawn in GCJ-02 (AMap) coordinates.
BOUNDARY = [
    (120.0430, 30.5165),
    (120.0560, 30.5140),
    (120.0690, 30.5175),
    (120.0705, 30.5270),
    (120.0650, 30.5345),
    (120.0520, 30.5360),
    (120.0415, 30.5290),
    (120.0430, 30.5165),
]
# stratum, plot prefix, plots, area ha, lon range, lat range (boxes inside the boundary)
STRATA = [
    ("reed-marsh", "RM", 10, 62.0, (120.0450, 120.0530), (30.5200, 30.5320)),
    ("lotus-emergent", "LE", 9, 48.5, (120.0540, 120.0610), (30.5180, 30.5320)),
    ("sedge-meadow", "SM", 8, 39.5, (120.0620, 120.0680), (30.5200, 30.5300)),
]


def main() -> None:
    """Write plots, vegetation, cores, strata and the boundary."""
    rng = np.random.default_rng(20240918)
    OUT.mkdir(parents=True, exist_ok=True)
    plots: list[dict[str, object]] = []
    veg: list[dict[str, object]] = []
    cores: list[dict[str, object]] = []
    for s, (stratum, prefix, n, _area, (lo0, lo1), (la0, la1)) in enumerate(STRATA):
        for i in range(n):
            pid = f"{prefix}{i + 1:02d}"
            day = 9 + s * 5 + i // 3
            plots.append(
                {
                    "plot_id": pid,
                    "stratum": stratum,
                    "plot_area_m2": 100,
                    "lon": f"{rng.uniform(lo0, lo1):.6f}",
                    "lat": f"{rng.uniform(la0, la1):.6f}",
                    "survey_date": f"2024-09-{day:02d}",
                }
            )
            veg += _frames(rng, prefix, pid, i, f"2024-09-{day:02d}")
            cores += _cores(rng, prefix, pid, i)
    _write(OUT / "plots.csv", plots)
    _write(OUT / "vegetation.csv", veg)
    _write(OUT / "cores.csv", cores)
    _write(
        OUT / "strata.csv",
        [{"stratum": name, "area_ha": f"{area:.1f}"} for name, _, _, area, _, _ in STRATA],
    )
    geom = {"type": "Polygon", "coordinates": [[list(p) for p in BOUNDARY]]}
    (OUT / "boundary.geojson").write_text(json.dumps(geom) + "\n", encoding="utf-8")


def _frames(
    rng: np.random.Generator, prefix: str, pid: str, i: int, date: str
) -> list[dict[str, object]]:
    if prefix == "LE" and i == 4:
        return []  # open water: no vegetation
    kind, mean, sd, frame_m2 = {
        "RM": ("reed", 1800.0, 300.0, 1.0),
        "LE": ("lotus", 650.0, 150.0, 1.0),
        "SM": ("sedge", 750.0, 150.0, 0.25),
    }[prefix]
    plot_mean = max(rng.normal(mean, sd), 0.2 * mean)
    rows: list[dict[str, object]] = []
    for k in range(3):
        veg_type, density = kind, max(rng.normal(plot_mean, 0.12 * plot_mean), 0.0)
        if prefix == "LE" and i in (1, 6) and k == 2:
            veg_type, density = "other", max(rng.normal(1100.0, 150.0), 0.0)  # Zizania (菰)
        rows.append(
            {
                "plot_id": pid,
                "frame_id": f"F{k + 1}",
                "veg_type": veg_type,
                "frame_area_m2": f"{frame_m2:g}",
                "aboveground_dry_g": f"{density * frame_m2:.1f}",
                "harvest_date": date,
            }
        )
    return rows


def _cores(rng: np.random.Generator, prefix: str, pid: str, i: int) -> list[dict[str, object]]:
    base: dict[str, object] = {
        "plot_id": pid,
        "core_id": "C1",
        "method": "",
        "accretion_cm_per_yr": "",
        "reference_age_yr": "",
        "survey_round": "",
        "sample_date": "",
        "top_cm": "",
        "bottom_cm": "",
        "bulk_density_g_cm3": "",
        "organic_carbon_pct": "",
        "organic_matter_pct": "",
    }
    if prefix == "RM":
        return [
            base
            | {
                "method": "accretion",
                "accretion_cm_per_yr": f"{max(rng.normal(0.30, 0.07), 0.08):.3f}",
                "reference_age_yr": "5.0",
                "bulk_density_g_cm3": f"{rng.normal(0.62, 0.06):.3f}",
                "organic_carbon_pct": f"{rng.normal(2.6, 0.35):.2f}",
            }
        ]
    if prefix == "SM":
        return [
            base
            | {
                "method": "accretion",
                "accretion_cm_per_yr": f"{max(rng.normal(0.20, 0.05), 0.05):.3f}",
                "reference_age_yr": "5.0",
                "bulk_density_g_cm3": f"{rng.normal(0.80, 0.07):.3f}",
                "organic_matter_pct": f"{rng.normal(4.6, 0.6):.2f}",
            }
        ]
    oc1, oc2 = rng.normal(2.3, 0.3), rng.normal(1.5, 0.2)
    bd1, bd2 = rng.normal(0.72, 0.05), rng.normal(0.92, 0.05)
    gain_oc = 0.35 * 5.0 / (bd1 * 15.0)  # 0.35 t C/ha/yr over 5 years, in the top layer
    rows = []
    for rnd, date, d_oc in ((1, f"2019-09-{10 + i:02d}", 0.0), (2, f"2024-09-{14 + i:02d}", 1.0)):
        for top, bottom, oc, bd, gain in ((0, 15, oc1, bd1, gain_oc), (15, 30, oc2, bd2, 0.0)):
            noise_oc = rng.normal(0.0, 0.05) * d_oc
            noise_bd = rng.normal(0.0, 0.015) * d_oc
            rows.append(
                base
                | {
                    "method": "stock",
                    "survey_round": rnd,
                    "sample_date": date,
                    "top_cm": top,
                    "bottom_cm": bottom,
                    "bulk_density_g_cm3": f"{bd + noise_bd:.3f}",
                    "organic_carbon_pct": f"{oc + gain * d_oc + noise_oc:.2f}",
                }
            )
    return rows


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    fields = list(rows[0])
    for row in rows[1:]:
        fields += [k for k in row if k not in fields]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
