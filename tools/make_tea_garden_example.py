"""Generate the bundled tea-garden example survey (synthetic, seeded, realistic magnitudes).

Anji white tea (安吉白茶, Camellia sinensis 'Baiye 1') gardens near Huangdu village, Xilong
township, Anji County; plot and boundary coordinates are GCJ-02 (as read off AMap) and lie inside
the real county boundary (checked against huzhou-boundaries/330523.geojson when it is present).

Design: 28 plots of 10 m × 10 m in three strata, mature gardens under conventional management
(MC, 10 plots, 118.6 ha, stand age 6-18 yr), mature gardens under ecological low-carbon
management (ME, 10 plots, 86.4 ha, 8-20 yr; organic fertiliser, pruning mulch) and young gardens
(YG, 8 plots, 24.8 ha, 1-2 yr). Per plot: 3 harvested bush subplots and 3 litter frames of
1.0 m of row × 1.5 m row spacing = 1.5 m²; 2 soil cores sampled at 0-10, 10-20, 20-30 cm;
the N applications of the 12 months before the survey (October-November 2024).

Magnitudes (methodologies.md §4.2-4.4): plot aboveground bush biomass ~ N(21, 4) t/ha (MC),
N(24, 4) (ME), N(2.0, 0.6) at 1 yr and N(4.5, 1.0) at 2 yr (YG); subplot scatter ×lognormal
(sd 0.15); ME subplots weighed fresh with a dry-matter fraction ~ N(0.48, 0.02), the others
oven-dried whole. Litter N(3.0, 0.8), N(5.5, 1.2), N(0.6, 0.2) t dry matter/ha. Topsoil
(0-10 cm) SOC N(16, 2.5), N(19, 2.5), N(13, 2) g/kg, × 0.78 at 10-20 cm and × 0.60 at 20-30 cm;
bulk density 1.12 / 1.25 / 1.33 g/cm³ (± 0.06); rock fragments 0-0.12 (→ SOC 0-30 cm
≈ 35-55 t C/ha; China tea SOC mean 59 t C/ha, §4.3). N: conventional 400-600 kg N/ha/yr mostly
synthetic (§4.4 brief: 300-600), ecological 200-300 with 55-65 % organic, young 150-250.

Follow-up (``example/followup/``): the same plots re-measured on the same dates in 2027
(3 years): aboveground biomass + 0.6 (MC) / 0.8 (ME) t/ha/yr (± 1 t/ha), young gardens grow
to N(11, 2) t/ha (now 4-5 yr, mature model); SOC of every layer × (1 − 0.004/yr) (MC),
× (1 + 0.012/yr) (ME), × (1 + 0.010/yr) (YG) (soil C gain 0.55-1.0 t C/ha/yr in Chinese tea,
§4.3), cores re-taken at the same marked points with layer and bulk-density noise re-drawn;
litter re-drawn; N of the 12 months before the 2027 survey (young gardens × 1.4).
Run from the repository root: ``python tools/make_tea_garden_example.py``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

OUT = Path("methodologies/tea_garden/example")
COUNTY = Path("aoi/counties/330523.geojson")
# Project boundary drawn on AMap (GCJ-02): tea hills around Huangdu village, Xilong, Anji.
BOUNDARY = [
    (119.7280, 30.5680),
    (119.7470, 30.5650),
    (119.7620, 30.5720),
    (119.7640, 30.5850),
    (119.7510, 30.5930),
    (119.7330, 30.5910),
    (119.7250, 30.5800),
    (119.7280, 30.5680),
]
SUBPLOT_M2 = 1.5
STRATA = {
    # name: (prefix, n plots, area ha, lon range, lat range)
    "mature-conventional": ("MC", 10, "118.6", (119.731, 119.745), (30.571, 30.582)),
    "mature-ecological": ("ME", 10, "86.4", (119.748, 119.760), (30.574, 30.586)),
    "young": ("YG", 8, "24.8", (119.736, 119.750), (30.584, 30.589)),
}


def _agb(stratum: str, age: float, rng: np.random.Generator) -> float:
    if stratum == "mature-conventional":
        return float(np.clip(rng.normal(21.0, 4.0), 12.0, 32.0))
    if stratum == "mature-ecological":
        return float(np.clip(rng.normal(24.0, 4.0), 14.0, 34.0))
    mean, sd = (2.0, 0.6) if age < 2 else (4.5, 1.0)
    return float(np.clip(rng.normal(mean, sd), 0.8, 8.0))


def _bush_rows(
    pid: str, stratum: str, agb: float, rng: np.random.Generator
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for k, f in enumerate(np.exp(rng.normal(0.0, 0.15, 3))):
        dry = agb / 10.0 * SUBPLOT_M2 * f
        row: dict[str, object] = {
            "plot_id": pid,
            "subplot_id": f"S{k + 1}",
            "subplot_area_m2": SUBPLOT_M2,
            "aboveground_dry_mass_kg": "",
            "aboveground_fresh_mass_kg": "",
            "dry_matter_fraction": "",
        }
        if stratum == "mature-ecological":
            dmf = float(np.clip(rng.normal(0.48, 0.02), 0.42, 0.54))
            row["aboveground_fresh_mass_kg"] = f"{dry / dmf:.2f}"
            row["dry_matter_fraction"] = f"{dmf:.3f}"
        else:
            row["aboveground_dry_mass_kg"] = f"{dry:.3f}"
        rows.append(row)
    return rows


def _litter_rows(pid: str, stratum: str, rng: np.random.Generator) -> list[dict[str, object]]:
    mean, sd = {
        "mature-conventional": (3.0, 0.8),
        "mature-ecological": (5.5, 1.2),
        "young": (0.6, 0.2),
    }[stratum]
    level = max(rng.normal(mean, sd), 0.1)
    return [
        {
            "plot_id": pid,
            "frame_area_m2": SUBPLOT_M2,
            "dry_mass_kg": f"{level / 10 * SUBPLOT_M2 * f:.3f}",
        }
        for f in np.exp(rng.normal(0.0, 0.25, 3))
    ]


def _core_rows(
    pid: str, top_soc: float, coarse: float, points: list[float], rng: np.random.Generator
) -> list[dict[str, object]]:
    """Two cores at marked points (point effect ``points``), three layers each."""
    rows: list[dict[str, object]] = []
    for core, point in zip(("A", "B"), points, strict=True):
        for (top, bottom), share, bd in zip(
            ((0, 10), (10, 20), (20, 30)), (1.0, 0.78, 0.60), (1.12, 1.25, 1.33), strict=True
        ):
            rows.append(
                {
                    "plot_id": pid,
                    "core_id": core,
                    "depth_top_cm": top,
                    "depth_bottom_cm": bottom,
                    "bulk_density_g_cm3": f"{bd + rng.normal(0.0, 0.06):.2f}",
                    "soc_g_per_kg": f"{top_soc * share * point * rng.normal(1.0, 0.04):.1f}",
                    "coarse_fraction": f"{coarse:.2f}",
                }
            )
    return rows


def _fertiliser_rows(
    pid: str, stratum: str, year: int, rng: np.random.Generator, young_grown: bool = False
) -> list[dict[str, object]]:
    def row(date: str, kg: float, source: str, product: str) -> dict[str, object]:
        return {
            "plot_id": pid,
            "application_date": date,
            "product": product,
            "n_source": source,
            "n_kg_per_ha": f"{kg:.0f}",
        }

    y0, y1 = year - 1, year
    if stratum == "mature-conventional":
        rows = [
            row(f"{y0}-10-20", rng.uniform(120, 180), "synthetic", "compound fertiliser 15-15-15"),
            row(f"{y1}-02-25", rng.uniform(150, 220), "synthetic", "urea"),
            row(f"{y1}-05-30", rng.uniform(100, 160), "synthetic", "urea"),
        ]
        if rng.uniform() < 0.5:
            rows.append(row(f"{y0}-10-20", rng.uniform(30, 60), "organic", "rapeseed cake"))
        return rows
    if stratum == "mature-ecological":
        return [
            row(f"{y0}-10-25", rng.uniform(120, 180), "organic", "rapeseed cake"),
            row(f"{y1}-02-28", rng.uniform(60, 100), "synthetic", "slow-release compound"),
        ]
    scale = 1.4 if young_grown else 1.0
    return [
        row(
            f"{y0}-11-05", rng.uniform(60, 100) * scale, "organic", "commercial organic fertiliser"
        ),
        row(
            f"{y1}-03-10", rng.uniform(60, 100) * scale, "synthetic", "compound fertiliser 15-15-15"
        ),
        row(f"{y1}-06-15", rng.uniform(30, 50) * scale, "synthetic", "urea"),
    ]


def main() -> None:
    """Write the example tables, the follow-up survey and the boundary."""
    rng = np.random.default_rng(20241020)
    OUT.mkdir(parents=True, exist_ok=True)
    plots, bushes, litter, cores, fert, state = [], [], [], [], [], []
    day = 0
    for stratum, (prefix, n_plots, _, lons, lats) in STRATA.items():
        for i in range(n_plots):
            pid = f"{prefix}{i + 1:02d}"
            if stratum == "young":
                age = float(rng.choice([1, 2]))
            else:
                age = float(rng.integers(6, 19) if prefix == "MC" else rng.integers(8, 21))
            date = np.datetime64("2024-10-15") + np.timedelta64(day, "D")
            day += 1
            plots.append(
                {
                    "plot_id": pid,
                    "stratum": stratum,
                    "plot_area_m2": 100,
                    "lon": f"{rng.uniform(*lons):.6f}",
                    "lat": f"{rng.uniform(*lats):.6f}",
                    "survey_date": str(date),
                    "stand_age_yr": f"{age:g}",
                }
            )
            agb = _agb(stratum, age, rng)
            bushes += _bush_rows(pid, stratum, agb, rng)
            litter += _litter_rows(pid, stratum, rng)
            top_soc = {"MC": (16.0, 2.5), "ME": (19.0, 2.5), "YG": (13.0, 2.0)}[prefix]
            soc0 = float(rng.normal(*top_soc))
            coarse = float(np.clip(rng.uniform(-0.04, 0.12), 0.0, None))
            points = [float(x) for x in rng.normal(1.0, 0.06, 2)]
            cores += _core_rows(pid, soc0, coarse, points, rng)
            fert += _fertiliser_rows(pid, stratum, 2024, rng)
            state.append((pid, stratum, age, agb, soc0, coarse, points))
    _check_inside(plots)
    _write(OUT / "plots.csv", plots)
    _write(OUT / "bushes.csv", bushes)
    _write(OUT / "litter.csv", litter)
    _write(OUT / "cores.csv", cores)
    _write(OUT / "fertiliser.csv", fert)
    strata = [{"stratum": s, "area_ha": v[2]} for s, v in STRATA.items()]
    _write(OUT / "strata.csv", strata)
    geom = {"type": "Polygon", "coordinates": [[list(p) for p in BOUNDARY]]}
    (OUT / "boundary.geojson").write_text(json.dumps(geom) + "\n", encoding="utf-8")
    followup(plots, state, strata)


def followup(
    plots: list[dict[str, object]],
    state: list[tuple[str, str, float, float, float, float, list[float]]],
    strata: list[dict[str, str]],
) -> None:
    """The same plots re-measured three years later (see the module docstring)."""
    rng = np.random.default_rng(20271020)
    out = OUT / "followup"
    out.mkdir(parents=True, exist_ok=True)
    new_plots, bushes, litter, cores, fert = [], [], [], [], []
    soc_rate = {"mature-conventional": -0.004, "mature-ecological": 0.012, "young": 0.010}
    for plot, (pid, stratum, age, agb, soc0, coarse, points) in zip(plots, state, strict=True):
        new_plots.append(
            {
                **plot,
                "survey_date": str(plot["survey_date"]).replace("2024-", "2027-"),
                "stand_age_yr": f"{age + 3:g}",
            }
        )
        if stratum == "young":
            agb_new = float(np.clip(rng.normal(11.0, 2.0), 7.0, 16.0))
        else:
            growth = 0.6 if stratum == "mature-conventional" else 0.8
            agb_new = agb + 3 * growth + rng.normal(0.0, 1.0)
        bushes += _bush_rows(pid, stratum, agb_new, rng)
        litter += _litter_rows(pid, stratum, rng)
        soc_new = soc0 * (1 + 3 * soc_rate[stratum])
        cores += _core_rows(pid, soc_new, coarse, points, rng)
        fert += _fertiliser_rows(pid, stratum, 2027, rng, young_grown=True)
    _write(out / "plots.csv", new_plots)
    _write(out / "bushes.csv", bushes)
    _write(out / "litter.csv", litter)
    _write(out / "cores.csv", cores)
    _write(out / "fertiliser.csv", fert)
    _write(out / "strata.csv", strata)


def _check_inside(plots: list[dict[str, object]]) -> None:
    """Plots inside the project boundary, and the boundary inside Anji County (if available)."""
    from shapely.geometry import Point, Polygon

    project = Polygon(BOUNDARY)
    for p in plots:
        pt = Point(float(str(p["lon"])), float(str(p["lat"])))
        assert project.contains(pt), f"{p['plot_id']} outside the project boundary"
    if COUNTY.exists():
        from shapely.geometry import shape

        county = shape(json.loads(COUNTY.read_text(encoding="utf-8")))
        assert county.contains(project), "project boundary outside Anji County"


def _write(path: Path, rows: list[dict[str, object]] | list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
