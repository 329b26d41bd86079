"""Generate the bundled farmland-soc example survey (synthetic, seeded, realistic magnitudes).

A 1,100 ha illustrative farmland project in Nanxun District (南浔区), Huzhou, on the Taihu plain,
with two strata and 26 plots of 1 mu (667 m²):

``paddy-straw`` (14 plots, 620 ha)
    Single-season japonica rice after winter wheat with straw return. Paddy soils: SOC 0-10 cm
    ~ N(19.5, 2.0) g/kg, 10-20 cm × 0.80-0.90, plough pan 20-30 cm × 0.45-0.55; bulk density
    1.08 / 1.22 / 1.42 g/cm³ (sd 0.04-0.05) - about 57 t C/ha in 0-30 cm (East China cropland
    ~30 t C/ha in 0-20 cm, paddy soils higher: methodologies.md §3.1). True SOC gain
    ~ N(0.45, 0.25) t C/ha/yr from straw return. Rice straw 6.0-7.5 t DM/ha returned in autumn
    (> 30 d before rice); on 9 of 14 plots also 3.5-4.5 t DM/ha wheat straw incorporated within
    30 d before transplanting. Mid-season drainage (烤田) on 10 plots, multiple drainage on 4;
    non-flooded pre-season > 180 d (wheat in winter); 125-140 days of rice. Rice synthetic N
    200-260 and wheat synthetic N 150-200 kg N/ha.
``upland-biochar`` (12 plots, 185 ha)
    Vegetables with manure and biochar. SOC 0-10 cm ~ N(14.0, 1.6) g/kg, 10-20 cm × 0.70-0.80,
    20-30 cm × 0.40-0.50; bulk density 1.24 / 1.34 / 1.44 g/cm³. Native SOC change
    ~ N(0.10, 0.20) t C/ha/yr. Biochar 1.5-3.0 t/ha/yr (bamboo/wood on 8 plots, rice-straw on
    4; pyrolysis at 500-550 °C, or 650 °C on 3 plots); 95 % of the biochar C applied is still
    found in 0-20 cm at the follow-up, and biochar lowers the topsoil bulk density slightly.
    Synthetic N 380-520 and manure N 100-180 kg N/ha/yr.

Baseline cores (0-10, 10-20, 20-30 cm) in autumn 2020; follow-up cores at the same points in
autumn 2025 one layer deeper (30-40 cm) so the equivalent soil mass needs no extrapolation.
Laboratory and re-location noise N(0, 0.4) g/kg on SOC per layer.

Plot coordinates are GCJ-02 (as read off AMap) inside the example project boundary, itself
inside the real Nanxun boundary (checked when run).
Run from the repository root: ``python tools/make_farmland_soc_example.py``.
"""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import shapely

from mrv.datums import to_wgs84
from mrv.geo import convert_datum, points_inside, read_boundary

OUT = Path("methodologies/farmland_soc/example")
COUNTY = Path("aoi/counties/330503.geojson")
# Project boundary drawn on AMap (GCJ-02): an illustrative block of the Taihu plain in Nanxun.
BOUNDARY = [
    (120.2520, 30.7815),
    (120.2860, 30.7805),
    (120.2895, 30.7950),
    (120.2870, 30.8085),
    (120.2560, 30.8090),
    (120.2505, 30.7950),
    (120.2520, 30.7815),
]
F_C_TRUE = {"wood": 0.77, "rice_husk_straw": 0.49}


def _layer_mass(bd: float, dz: float) -> float:
    return bd * dz * 100.0


def main() -> None:
    """Write the example tables and boundary."""
    rng = np.random.default_rng(20251104)
    OUT.mkdir(parents=True, exist_ok=True)
    plots: list[dict[str, object]] = []
    cores: list[dict[str, object]] = []
    management: list[dict[str, object]] = []
    base0 = date(2020, 10, 26)
    for s, (stratum, prefix, n_plots) in enumerate(
        (("paddy-straw", "PS", 14), ("upland-biochar", "UB", 12))
    ):
        paddy = s == 0
        for i in range(n_plots):
            pid = f"{prefix}{i + 1:02d}"
            lon = (
                (120.2560 + rng.uniform(0, 0.0160))
                if paddy
                else (120.2735 + rng.uniform(0, 0.0120))
            )
            lat = 30.7840 + rng.uniform(0, 0.0220)
            d0 = base0 + timedelta(days=int(i // 3) + 7 * s)
            d1 = d0 + timedelta(days=1826 + int(rng.integers(-4, 5)))
            years = (d1 - d0).days / 365.25
            plots.append(
                {
                    "plot_id": pid,
                    "stratum": stratum,
                    "plot_area_m2": 667,
                    "lon": f"{lon:.6f}",
                    "lat": f"{lat:.6f}",
                    "survey_date": d1.isoformat(),
                }
            )
            if paddy:
                s1 = rng.normal(19.5, 2.0)
                soc = [s1, s1 * rng.uniform(0.80, 0.90), s1 * rng.uniform(0.45, 0.55)]
                bd = [rng.normal(1.08, 0.05), rng.normal(1.22, 0.05), rng.normal(1.42, 0.04)]
                gain = rng.normal(0.45, 0.25) * years
                dbd = [rng.normal(-0.03, 0.03), rng.normal(0.0, 0.03), rng.normal(0.0, 0.02)]
                deep = (rng.normal(1.48, 0.03), soc[2] * rng.uniform(0.70, 0.85))
            else:
                s1 = rng.normal(14.0, 1.6)
                soc = [s1, s1 * rng.uniform(0.70, 0.80), s1 * rng.uniform(0.40, 0.50)]
                bd = [rng.normal(1.24, 0.05), rng.normal(1.34, 0.05), rng.normal(1.44, 0.04)]
                rate = round(float(rng.uniform(1.5, 3.0)), 1)
                feed = "wood" if i < 8 else "rice_husk_straw"
                temp = 650 if i in (2, 5, 9) else int(rng.choice([500, 550]))
                gain = (rng.normal(0.10, 0.20) + rate * F_C_TRUE[feed] * 0.95) * years
                dbd = [
                    rng.normal(-0.004 * rate * years, 0.03),
                    rng.normal(-0.002 * rate * years, 0.03),
                    rng.normal(0.0, 0.02),
                ]
                deep = (rng.normal(1.50, 0.03), soc[2] * rng.uniform(0.70, 0.85))
            tops = (0, 10, 20)
            base_bd = [round(float(b), 2) for b in bd]
            base_soc = [round(float(c + rng.normal(0, 0.4)), 1) for c in soc]
            follow_soc = [
                soc[0] + 0.6 * gain * 1000.0 / _layer_mass(bd[0], 10),
                soc[1] + 0.4 * gain * 1000.0 / _layer_mass(bd[1], 10),
                soc[2],
            ]
            follow_bd = [round(float(b + d), 2) for b, d in zip(bd, dbd, strict=True)]
            follow_soc = [round(float(c + rng.normal(0, 0.4)), 1) for c in follow_soc]
            for rnd, day, bds, socs, layers in (
                ("baseline", d0, base_bd, base_soc, 3),
                (
                    "followup",
                    d1,
                    [*follow_bd, round(float(deep[0]), 2)],
                    [*follow_soc, round(float(deep[1]), 1)],
                    4,
                ),
            ):
                for k in range(layers):
                    top = (*tops, 30)[k]
                    cores.append(
                        {
                            "plot_id": pid,
                            "round": rnd,
                            "sample_date": day.isoformat(),
                            "depth_top_cm": top,
                            "depth_bottom_cm": top + 10,
                            "bulk_density_g_cm3": f"{bds[k]:.2f}",
                            "soc_g_per_kg": f"{socs[k]:.1f}",
                        }
                    )
            row: dict[str, object] = {
                "plot_id": pid,
                "land_use": "paddy" if paddy else "upland",
                "tillage": "full",
                "input_level": "high" if paddy else "high_manure",
                "soil_class": "hac",
                "baseline_land_use": "paddy" if paddy else "upland",
                "baseline_tillage": "full",
                "baseline_input_level": "medium" if paddy else "high_manure",
                "water_regime": "",
                "preseason_water": "",
                "rice_days": "",
                "straw_dm_t_per_ha": "",
                "straw_within_30d_dm_t_per_ha": "",
                "synthetic_n_kg_per_ha": "",
                "organic_n_kg_per_ha": "",
                "rice_synthetic_n_kg_per_ha": "",
                "biochar_t_per_ha_yr": "",
                "biochar_feedstock": "",
                "biochar_process": "",
                "biochar_temperature_c": "",
            }
            if paddy:
                rice_straw = round(float(rng.uniform(6.0, 7.5)), 1)
                wheat_straw = round(float(rng.uniform(3.5, 4.5)), 1) if i < 9 else 0.0
                row.update(
                    {
                        "water_regime": "single_drainage" if i % 7 < 5 else "multiple_drainage",
                        "preseason_water": "dry_gt180d",
                        "rice_days": int(rng.integers(125, 141)),
                        "straw_dm_t_per_ha": f"{rice_straw + wheat_straw:.1f}",
                        "straw_within_30d_dm_t_per_ha": f"{wheat_straw:.1f}",
                        "synthetic_n_kg_per_ha": int(rng.integers(150, 201)),
                        "organic_n_kg_per_ha": 0,
                        "rice_synthetic_n_kg_per_ha": int(rng.integers(200, 261)),
                    }
                )
            else:
                row.update(
                    {
                        "synthetic_n_kg_per_ha": int(rng.integers(380, 521)),
                        "organic_n_kg_per_ha": int(rng.integers(100, 181)),
                        "biochar_t_per_ha_yr": f"{rate:.1f}",
                        "biochar_feedstock": feed,
                        "biochar_process": "pyrolysis",
                        "biochar_temperature_c": temp,
                    }
                )
            management.append(row)
    _check_locations(plots)
    _write(OUT / "plots.csv", plots)
    _write(OUT / "cores.csv", cores)
    _write(OUT / "management.csv", management)
    _write(
        OUT / "strata.csv",
        [
            {"stratum": "paddy-straw", "area_ha": "620.0"},
            {"stratum": "upland-biochar", "area_ha": "185.0"},
        ],
    )
    geom = {"type": "Polygon", "coordinates": [[list(p) for p in BOUNDARY]]}
    (OUT / "boundary.geojson").write_text(json.dumps(geom) + "\n", encoding="utf-8")


def _check_locations(plots: list[dict[str, object]]) -> None:
    """Plots inside the project boundary, the boundary inside Nanxun (all GCJ-02)."""
    project = convert_datum(shapely.Polygon(BOUNDARY), "gcj02")
    county = read_boundary(COUNTY, "gcj02")
    if not county.contains(project):
        raise SystemExit("project boundary is not inside Nanxun District")
    lon = np.array([float(str(p["lon"])) for p in plots])
    lat = np.array([float(str(p["lat"])) for p in plots])
    wlon, wlat = to_wgs84(lon, lat, "gcj02")
    if not points_inside(project, wlon, wlat).all():
        raise SystemExit("a plot lies outside the project boundary")


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
