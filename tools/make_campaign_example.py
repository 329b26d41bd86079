"""Generate the bundled campaign example of the Anji moso-bamboo site (synthetic, seeded).

Writes ``aoi/anji-bamboo/campaign/``: ``campaign.toml``, ``labels.geojson`` (training points for
the land-cover classifier), two surveys of the same permanent plots (``survey/2023``,
``survey/2025``, bamboo-moso tables) and a README with the truth figures. Everything is drawn
from the synthetic truth of the campaign's own scene recipe (seed 7, 2025), so the campaign's
results can be checked against a known answer:

* plots: 20 m × 20 m squares (2 × 2 pixels) wholly in moso-bamboo truth pixels of one on/off
  phase, wholly inside the site boundary, at least :data:`MIN_SPACING_M` apart;
* 2025 culms: DBH ~ N(plot mean, 1.4) cm (5–14 cm, plot mean rising with the truth density),
  ages as in ``tools/make_bamboo_example.py``, culms added until the methodology's stock
  (E1–E4 of ``methodologies/bamboo_moso/bamboo-moso.md``) is nearest to the truth density at
  the plot × (1 + :data:`MEASUREMENT_CV` · ε);
* 2023 culms: the 2025 culms of age ≥ 2 du one du younger, plus the culms cut in between
  (``harvest.csv`` of 2025, 4–5 du at cutting), as many as make the plot's stock change
  ≈ N(1.2, 0.45) t C/ha/yr (Zhejiang moso AGC gain 0.94 t C/ha/yr × (1 + R 0.5),
  methodologies.md §1.5);
* labels: up to :data:`LABELS_PER_CLASS` random truth pixels per class inside the bounding box
  of the site boundary (the campaign clips its scenes to that box).

Run from the repository root: ``.venv/bin/python tools/make_campaign_example.py``.
"""

from __future__ import annotations

import csv
import json
import math
import textwrap
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from rasterio import features as rio_features
from rasterio.warp import transform_bounds

from methodologies.bamboo_moso import METHODOLOGY, culm_biomass_kg
from methodologies.parameters import ParamValues
from pipelines.campaign.scenes import SyntheticScenes, synthetic_spec
from pipelines.campaign.site import load_site
from pipelines.satellite.cube import Grid
from pipelines.satellite.samples import block_ids
from pipelines.satellite.synthetic import OFF_YEAR, ON_YEAR, Truth, generate_truth

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "aoi" / "anji-bamboo"
OUT = SITE / "campaign"

SEED = 11
YEAR = 2025
DATES = 12
PROPORTIONS: tuple[tuple[str, float], ...] = (
    ("moso_bamboo", 0.8),
    ("other_forest", 0.07),
    ("tea_garden", 0.05),
    ("paddy_farmland", 0.06),
    ("wetland_vegetation", 0.02),
    ("open_water", 0.03),
    ("built_up", 0.06),
    ("other", 0.03),
)
"""Class shares of the synthetic landscape (bamboo-dominated hills), as in campaign.toml."""

PLOT_PX = 2
"""Plot side in 10 m pixels (20 m × 20 m = 400 m²)."""
PLOT_AREA_M2 = 400
PLOTS = {"on-year": 10, "off-year": 20}
"""Plots per stratum (about proportional to the strata's areas, at least 10)."""
PHASE = {"on-year": ON_YEAR, "off-year": OFF_YEAR}
MIN_SPACING_M = 60.0
"""Least distance between plot centres."""
MEASUREMENT_CV = 0.05
"""Relative error of a plot's measured stock against the truth density (tally + allometry)."""
AGE_P = {"on-year": (0.34, 0.30, 0.24, 0.12), "off-year": (0.16, 0.36, 0.30, 0.18)}
"""Shares of 1–4 du culms in 2025 (as tools/make_bamboo_example.py)."""
DBH_SD_CM = 1.4
CHANGE_TC_PER_HA_YR = (1.2, 0.45)
"""Mean and sd of the plots' stock change 2023 → 2025 (t C/ha/yr, AG + BG)."""
LABELS_PER_CLASS = 200
LABEL_MIN_PX = 30
LABEL_MIN_BLOCKS = 2
"""A class is labelled only with this many pixels in this many 500 m CV blocks of the box
(the classifier refuses a class seen in fewer than 2 blocks: ``extract_samples``)."""
BLOCK_SIZE_M = 500.0

# Harvest transport (documented in campaign.toml): fresh culms are 2 × dry mass (≈ 50 % water),
# a 5 t truck uses 25 L diesel per 100 km over a 60 km round trip to the Anji processors
# (3 L/t); diesel 2.676 kg CO2/L = 74,100 kg CO2/TJ × 43.0 TJ/Gg × 0.84 kg/L (IPCC 2006 vol. 2
# tables 1.2 and 1.4).
FRESH_PER_DRY = 2.0
DIESEL_L_PER_T_FRESH = 3.0
DIESEL_KG_CO2_PER_L = 74_100 * 43.0e-6 * 0.84

SURVEY_2025_START = date(2025, 10, 20)
SURVEY_2023_START = date(2023, 10, 20)
PLOTS_PER_DAY = 2

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Plot:
    """A permanent plot: id, stratum, top-left pixel, WGS84 centre, truth density."""

    plot_id: str
    stratum: str
    row: int
    col: int
    lon: float
    lat: float
    truth_tc_per_ha: float


@dataclass
class Tally:
    """The culms of one plot in both surveys and the culms cut in between."""

    culms_2025: list[tuple[float, int]]
    culms_2023: list[tuple[float, int]]
    harvest: list[tuple[float, int]]
    """(DBH, age at cutting) of culms cut 2024–2025."""


def scene_recipe() -> SyntheticScenes:
    """The campaign's synthetic scene recipe (campaign.toml ``[scenes]``)."""
    return SyntheticScenes(seed=SEED, year=YEAR, dates=DATES, proportions=PROPORTIONS)


def boundary_mask(truth: Truth, boundary_utm: shapely.Geometry) -> npt.NDArray[np.bool_]:
    """Pixels whose centre lies inside the boundary (grid CRS)."""
    g = truth.grid
    mask = rio_features.rasterize(
        [(boundary_utm, 1)], out_shape=(g.height, g.width), transform=g.affine, dtype="uint8"
    )
    return np.asarray(mask, dtype=bool)


def _lonlat(truth: Truth, rows: F64, cols: F64) -> tuple[F64, F64]:
    a, _, c, _, e, f = truth.grid.transform
    to_wgs = Transformer.from_crs(truth.grid.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(c + a * cols, f + e * rows)
    return np.asarray(lon, np.float64), np.asarray(lat, np.float64)


def choose_plots(
    truth: Truth, boundary_utm: shapely.Geometry, rng: np.random.Generator
) -> list[Plot]:
    """Plots of 2 × 2 moso pixels of one phase, wholly inside the boundary, spread out."""
    g, k = truth.grid, PLOT_PX
    h, w = truth.class_map.shape
    moso = {c.name: c.code for c in truth.classes}["moso_bamboo"]
    r0, c0 = np.mgrid[0 : h - k + 1, 0 : w - k + 1]
    r0, c0 = r0.ravel(), c0.ravel()
    rr = r0[:, None, None] + np.arange(k)[None, :, None]
    cc = c0[:, None, None] + np.arange(k)[None, None, :]
    year = truth.bamboo_year[rr, cc]
    ok = (truth.class_map[rr, cc] == moso).all(axis=(1, 2))
    ok &= (year == year[:, :1, :1]).all(axis=(1, 2))
    a, _, c, _, e, f = g.transform
    squares = shapely.box(c + a * c0, f + e * (r0 + k), c + a * (c0 + k), f + e * r0)
    ok &= shapely.contains(boundary_utm, squares)
    chosen: list[tuple[str, int, int]] = []
    centres: list[tuple[float, float]] = []
    for stratum, n in PLOTS.items():
        cand = np.flatnonzero(ok & (year[:, 0, 0] == PHASE[stratum]))
        taken = 0
        for i in rng.permutation(cand):
            x, y = c + a * (c0[i] + k / 2), f + e * (r0[i] + k / 2)
            if all(math.hypot(x - px, y - py) >= MIN_SPACING_M for px, py in centres):
                chosen.append((stratum, int(r0[i]), int(c0[i])))
                centres.append((x, y))
                taken += 1
                if taken == n:
                    break
        if taken < n:
            raise RuntimeError(f"only {taken} {stratum} plots fit; lower MIN_SPACING_M")
    plots = []
    for stratum in PLOTS:
        mine = sorted((r, col) for s, r, col in chosen if s == stratum)  # north → south
        prefix = "ON" if stratum == "on-year" else "OF"
        for j, (r, col) in enumerate(mine):
            lon, lat = _lonlat(truth, np.array([r + k / 2]), np.array([col + k / 2]))
            dens = truth.carbon_tc_per_ha[r : r + k, col : col + k].mean(dtype=np.float64)
            plots.append(
                Plot(f"{prefix}{j + 1:02d}", stratum, r, col, float(lon[0]), float(lat[0]), dens)
            )
    return plots


def _tc_per_ha(culms: list[tuple[float, int]], p: ParamValues) -> F64:
    """Each culm's contribution to the plot stock (t C/ha), E1–E4 of bamboo-moso."""
    if not culms:
        return np.zeros(0)
    d, a = zip(*culms, strict=True)
    factor = p.scalar("carbon_fraction") * (1.0 + p.scalar("root_to_shoot_ratio"))
    return culm_biomass_kg(d, a, p) / 1000.0 * (10_000.0 / PLOT_AREA_M2) * factor


def _nearest_count(contrib: F64, target: float) -> int:
    """Number of leading culms whose summed contribution is nearest to ``target``."""
    cum = np.concatenate([[0.0], np.cumsum(contrib)])
    n = int(np.searchsorted(cum, target))
    if n >= cum.size:
        raise RuntimeError("not enough candidate culms")
    return n if n == 0 or cum[n] - target < target - cum[n - 1] else n - 1


def _dbh(rng: np.random.Generator, mean: float, n: int) -> list[float]:
    return [float(x) for x in np.clip(rng.normal(mean, DBH_SD_CM, n), 5.0, 14.0).round(1)]


def tally(plot: Plot, years: float, rng: np.random.Generator, p: ParamValues) -> Tally:
    """Culms of a plot in 2025 matching its truth density, and the 2023 state before them."""
    target = plot.truth_tc_per_ha * (1.0 + MEASUREMENT_CV * rng.standard_normal())
    mean_dbh = 9.0 + 0.08 * (plot.truth_tc_per_ha - 20.0) + 0.3 * rng.standard_normal()
    ages = [int(x) for x in rng.choice([1, 2, 3, 4], size=300, p=AGE_P[plot.stratum])]
    pool = list(zip(_dbh(rng, mean_dbh, 300), ages, strict=True))
    now = pool[: _nearest_count(_tc_per_ha(pool, p), target)]
    survivors = [(d, a - 1) for d, a in now if a >= 2]
    change = max(0.0, rng.normal(*CHANGE_TC_PER_HA_YR)) * years
    cut_tc = float(_tc_per_ha(now, p).sum() - _tc_per_ha(survivors, p).sum()) - change
    cut_age = [int(x) for x in rng.choice([3, 4], size=200, p=(0.6, 0.4))]  # age in 2023
    cut_pool = list(zip(_dbh(rng, mean_dbh, 200), cut_age, strict=True))
    cut = cut_pool[: _nearest_count(_tc_per_ha(cut_pool, p), max(0.0, cut_tc))]
    return Tally(now, survivors + cut, [(d, a + 1) for d, a in cut])


def clip_grid(truth: Truth, box_wgs84: shapely.Geometry) -> Grid:
    """The grid of the scenes clipped to the site's bounding box, as the scene loaders cut it
    (the box's densified projected bounds, snapped outward to the scene's pixel edges); the
    classifier's spatial CV blocks are anchored at its top-left corner."""
    g = truth.grid
    a, _, c, _, e, f = g.transform
    left, bottom, right, top = transform_bounds(
        "EPSG:4326", g.crs, *box_wgs84.bounds, densify_pts=21
    )
    c0, c1 = math.floor((left - c) / a), math.ceil((right - c) / a)
    r0, r1 = math.floor((f - top) / -e), math.ceil((f - bottom) / -e)
    return Grid(g.crs, (a, 0.0, c + a * c0, 0.0, e, f + e * r0), c1 - c0, r1 - r0)


def label_points(
    truth: Truth, box_wgs84: shapely.Geometry, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Random truth pixels per class with their centre inside the site's bounding box; classes
    short of pixels or CV blocks are left out. Returns the points and the pixels per class."""
    g = truth.grid
    h, w = truth.class_map.shape
    rows, cols = np.mgrid[0:h, 0:w]
    rows, cols = rows.ravel() + 0.5, cols.ravel() + 0.5
    lon, lat = _lonlat(truth, rows, cols)
    a, _, c, _, e, f = g.transform
    inside = shapely.contains_xy(box_wgs84, lon, lat)
    block = block_ids(c + a * cols, f + e * rows, clip_grid(truth, box_wgs84), BLOCK_SIZE_M)
    flat = truth.class_map.ravel()
    points: list[dict[str, Any]] = []
    available: dict[str, int] = {}
    for cls in truth.classes:
        idx = np.flatnonzero(inside & (flat == cls.code))
        available[cls.name] = int(idx.size)
        if idx.size < LABEL_MIN_PX or np.unique(block[idx]).size < LABEL_MIN_BLOCKS:
            continue
        take = np.sort(rng.choice(idx, size=min(LABELS_PER_CLASS, idx.size), replace=False))
        points += [
            {"land_cover": cls.name, "lon": float(lon[i]), "lat": float(lat[i])} for i in take
        ]
    return points, available


def _write_csv(path: Path, rows: list[dict[str, object]], fields: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _culm_rows(plot_id: str, culms: list[tuple[float, int]]) -> list[dict[str, object]]:
    return [{"plot_id": plot_id, "dbh_cm": f"{d:.1f}", "age_du": a} for d, a in culms]


def _survey_toml(title: str, harvest: bool) -> str:
    tables = 'plots = "plots.csv"\nculms = "culms.csv"\n'
    if harvest:
        tables += 'harvest = "harvest.csv"\n'
    return (
        f"# Synthetic survey of the AJB-2025 campaign example (tools/make_campaign_example.py).\n"
        f'title = "{title}"\n\n[tables]\n{tables}strata = "strata.csv"\n\n'
        "[options]\n"
        'datum = "wgs84"                            # GNSS positions\n'
        'boundary = "../../../boundary.geojson"     # the site boundary\n'
        'boundary_datum = "wgs84"\n'
    )


def write_survey(
    folder: Path,
    title: str,
    plots: list[Plot],
    culms: dict[str, list[tuple[float, int]]],
    dates: list[date],
    strata_ha: dict[str, float],
    harvest: dict[str, list[tuple[float, int]]] | None,
) -> None:
    """One survey folder: survey.toml and its bamboo-moso tables."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "survey.toml").write_text(_survey_toml(title, harvest is not None), "utf-8")
    _write_csv(
        folder / "plots.csv",
        [
            {
                "plot_id": pl.plot_id,
                "stratum": pl.stratum,
                "plot_area_m2": PLOT_AREA_M2,
                "lon": f"{pl.lon:.6f}",
                "lat": f"{pl.lat:.6f}",
                "survey_date": d.isoformat(),
            }
            for pl, d in zip(plots, dates, strict=True)
        ],
        ["plot_id", "stratum", "plot_area_m2", "lon", "lat", "survey_date"],
    )
    fields = ["plot_id", "dbh_cm", "age_du"]
    _write_csv(
        folder / "culms.csv",
        [r for pl in plots for r in _culm_rows(pl.plot_id, culms[pl.plot_id])],
        fields,
    )
    if harvest is not None:
        rows = [r for pl in plots for r in _culm_rows(pl.plot_id, harvest[pl.plot_id])]
        _write_csv(folder / "harvest.csv", rows, fields)
    _write_csv(
        folder / "strata.csv",
        [
            {"stratum": s, "area_ha": f"{strata_ha[s]:.2f}", "phase": s.removesuffix("-year")}
            for s in PLOTS
        ],
        ["stratum", "area_ha", "phase"],
    )


def write_labels(path: Path, points: list[dict[str, Any]]) -> None:
    """GeoJSON points (WGS84, 1e-7° ≈ 1 cm), one feature a line."""
    lines = [
        json.dumps(
            {
                "type": "Feature",
                "properties": {"land_cover": pt["land_cover"]},
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(pt["lon"], 7), round(pt["lat"], 7)],
                },
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for pt in points
    ]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(text, encoding="utf-8")


CAMPAIGN_TOML = """\
# Campaign example of the Anji moso-bamboo site: synthetic scenes with a known truth and two
# synthetic surveys of the same permanent plots (written by tools/make_campaign_example.py).
[campaign]
id = "AJB-2025"
title = "Anji Tianhuangping moso bamboo, monitoring period 2024–2025"
title_zh = "安吉县天荒坪镇毛竹林碳汇监测（2024–2025 监测期）"
measurer = "安吉县林业局 Anji County Forestry Bureau"
site = ".."                      # the site folder, relative to this file
period_start = 2024-01-01
period_end = 2025-12-31

[methodology]
id = "bamboo-moso"
version = "1.0.0"

[methodology.parameters]          # overrides (none)

[scenes]
source = "synthetic"
seed = {seed}
year = {year}
dates = {dates}

[scenes.proportions]             # class shares of the synthetic landscape (bamboo-dominated hills)
{proportions}

[survey]
before = "survey/2023/survey.toml"
after = "survey/2025/survey.toml"

[satellite]
labels = "labels.geojson"
label_column = "land_cover"

[satellite.strata_classes]       # survey stratum -> land-cover class mapped by the satellite
on-year = "moso_bamboo"
off-year = "moso_bamboo"

[removals]
# Diesel for hauling the culms cut 2024–2025 to the Anji processors: {dry_t:.1f} t dry culms
# (plot harvest tally × {moso_ha:.2f} ha of moso) × {fresh:g} fresh/dry × {litres:g} L/t (5 t truck,
# 25 L/100 km, 60 km round trip) × {ef:.3f} kg CO2/L (IPCC 2006 vol. 2: 74,100 kg CO2/TJ,
# 43.0 TJ/Gg, 0.84 kg/L).
emissions_tco2e = {emissions:.1f}
leakage_tco2e = 0.0               # no activity shifting under AR-CM-005 management

[outputs]
report = true
"""


def campaign_toml(harvest_dry_t: float, moso_ha: float) -> tuple[str, float]:
    """The campaign file and its emissions (t CO2e) from the harvested dry culm mass."""
    emissions = harvest_dry_t * FRESH_PER_DRY * DIESEL_L_PER_T_FRESH * DIESEL_KG_CO2_PER_L / 1000
    props = "\n".join(f"{name} = {share:g}" for name, share in PROPORTIONS)
    text = CAMPAIGN_TOML.format(
        seed=SEED,
        year=YEAR,
        dates=DATES,
        proportions=props,
        dry_t=harvest_dry_t,
        moso_ha=moso_ha,
        fresh=FRESH_PER_DRY,
        litres=DIESEL_L_PER_T_FRESH,
        ef=DIESEL_KG_CO2_PER_L,
        emissions=emissions,
    )
    return text, round(emissions, 1)


def main(out: Path = OUT) -> None:
    """Write the campaign example into ``out`` (default ``aoi/anji-bamboo/campaign``)."""
    site = load_site(SITE)
    spec = synthetic_spec(site.boundary, scene_recipe())
    truth = generate_truth(spec)
    crs = truth.grid.crs
    boundary_utm = gpd.GeoSeries([site.boundary], crs="EPSG:4326").to_crs(crs).iloc[0]
    box_wgs84 = shapely.box(*site.boundary.bounds)
    inside = boundary_mask(truth, boundary_utm)
    pixel_ha = truth.grid.pixel_area_ha
    strata_ha = {
        s: float((inside & (truth.bamboo_year == v)).sum()) * pixel_ha for s, v in PHASE.items()
    }
    moso_ha = sum(strata_ha.values())

    p = ParamValues(METHODOLOGY.parameters)
    plots = choose_plots(truth, boundary_utm, np.random.default_rng([SEED, YEAR, 1]))
    dates_25 = [SURVEY_2025_START + timedelta(days=i // PLOTS_PER_DAY) for i in range(len(plots))]
    dates_23 = [SURVEY_2023_START + timedelta(days=i // PLOTS_PER_DAY) for i in range(len(plots))]
    rng = np.random.default_rng([SEED, YEAR, 2])
    tallies = {
        pl.plot_id: tally(pl, (d25 - d23).days / 365.25, rng, p)
        for pl, d25, d23 in zip(plots, dates_25, dates_23, strict=True)
    }

    out.mkdir(parents=True, exist_ok=True)
    write_survey(
        out / "survey" / "2025",
        "AJB-2025 moso bamboo plots, October–November 2025 (synthetic)",
        plots,
        {k: t.culms_2025 for k, t in tallies.items()},
        dates_25,
        strata_ha,
        {k: t.harvest for k, t in tallies.items()},
    )
    write_survey(
        out / "survey" / "2023",
        "AJB-2025 moso bamboo plots, October–November 2023 (synthetic)",
        plots,
        {k: t.culms_2023 for k, t in tallies.items()},
        dates_23,
        strata_ha,
        None,
    )
    points, available = label_points(truth, box_wgs84, np.random.default_rng([SEED, YEAR, 3]))
    write_labels(out / "labels.geojson", points)

    figures = _figures(truth, inside, plots, tallies, dates_25, dates_23, strata_ha, p)
    harvest_dry_t = figures["harvest_dry_t_per_ha"] * moso_ha
    text, emissions = campaign_toml(harvest_dry_t, moso_ha)
    (out / "campaign.toml").write_text(text, encoding="utf-8")
    labelled: dict[str, int] = {}
    for pt in points:
        labelled[pt["land_cover"]] = labelled.get(pt["land_cover"], 0) + 1
    readme = _reflow(
        _readme(figures, strata_ha, site.boundary_area_ha, available, labelled, emissions)
    )
    (out / "README.md").write_text(readme, encoding="utf-8")


def _figures(
    truth: Truth,
    inside: npt.NDArray[np.bool_],
    plots: list[Plot],
    tallies: dict[str, Tally],
    dates_25: list[date],
    dates_23: list[date],
    strata_ha: dict[str, float],
    p: ParamValues,
) -> dict[str, Any]:
    """Truth and design figures for the README (what the campaign should find)."""
    moso = {c.name: c.code for c in truth.classes}["moso_bamboo"]
    in_moso = inside & (truth.class_map == moso)
    truth_at = np.array([pl.truth_tc_per_ha for pl in plots])
    s25 = np.array([_tc_per_ha(tallies[pl.plot_id].culms_2025, p).sum() for pl in plots])
    s23 = np.array([_tc_per_ha(tallies[pl.plot_id].culms_2023, p).sum() for pl in plots])
    years = np.array([(a - b).days / 365.25 for a, b in zip(dates_25, dates_23, strict=True)])
    rate = (s25 - s23) / years
    n25 = np.array([len(tallies[pl.plot_id].culms_2025) for pl in plots])
    n23 = np.array([len(tallies[pl.plot_id].culms_2023) for pl in plots])
    cut = [d for pl in plots for d, _ in tallies[pl.plot_id].harvest]
    cut_age = [a for pl in plots for _, a in tallies[pl.plot_id].harvest]
    cut_kg = culm_biomass_kg(cut, cut_age, p).sum() if cut else 0.0
    harvest_dry_t_per_ha = float(cut_kg) / 1000.0 * (10_000.0 / PLOT_AREA_M2) / len(plots)
    weights = {s: strata_ha[s] / sum(strata_ha.values()) for s in PLOTS}
    stratum_rate = {s: float(rate[[pl.stratum == s for pl in plots]].mean()) for s in PLOTS}
    project_rate = sum(weights[s] * stratum_rate[s] for s in PLOTS)
    return {
        "moso_in_boundary_ha": float(in_moso.sum()) * truth.grid.pixel_area_ha,
        "moso_truth_mean_tc_per_ha": float(truth.carbon_tc_per_ha[in_moso].mean(dtype=np.float64)),
        "n_plots": {s: sum(pl.stratum == s for pl in plots) for s in PLOTS},
        "truth_at_plots": (float(truth_at.mean()), float(truth_at.min()), float(truth_at.max())),
        "stock_2025": (float(s25.mean()), float(s25.min()), float(s25.max())),
        "stock_2023": float(s23.mean()),
        "rel_error": float(np.mean(np.abs(s25 / truth_at - 1.0))),
        "correlation": float(np.corrcoef(s25, truth_at)[0, 1]),
        "culms": (int(n25.sum()), int(n23.sum()), len(cut)),
        "culms_per_ha": (
            float(n25.min() * 25),
            float(n25.mean() * 25),
            float(n25.max() * 25),
        ),
        "mean_dbh_2025": float(
            np.mean([d for pl in plots for d, _ in tallies[pl.plot_id].culms_2025])
        ),
        "years": float(years.mean()),
        "stratum_rate": stratum_rate,
        "project_rate_tc_per_ha_yr": project_rate,
        "harvest_dry_t_per_ha": harvest_dry_t_per_ha,
        "plots_without_harvest": sum(not tallies[pl.plot_id].harvest for pl in plots),
    }


def _readme(
    fig: dict[str, Any],
    strata_ha: dict[str, float],
    boundary_ha: float,
    available: dict[str, int],
    labelled: dict[str, int],
    emissions: float,
) -> str:
    co2 = 44.0 / 12.0
    moso_ha = sum(strata_ha.values())
    on_ha, off_ha = strata_ha["on-year"], strata_ha["off-year"]
    rate = fig["project_rate_tc_per_ha_yr"]
    t_mean, t_min, t_max = fig["truth_at_plots"]
    s_mean, s_min, s_max = fig["stock_2025"]
    n25, n23, ncut = fig["culms"]
    d_min, d_mean, d_max = fig["culms_per_ha"]
    n_on, n_off = fig["n_plots"]["on-year"], fig["n_plots"]["off-year"]
    r_on, r_off = fig["stratum_rate"]["on-year"], fig["stratum_rate"]["off-year"]
    n_labels = sum(labelled.values())
    density = f"{d_min:,.0f}–{d_max:,.0f} (mean {d_mean:,.0f})"
    left_out = ", ".join(k for k in available if k not in labelled) or "none"
    label_rows = "\n".join(f"| {k} | {v:,} | {labelled.get(k, 0)} |" for k, v in available.items())
    return f"""# Campaign example AJB-2025: Anji moso bamboo, monitoring period 2024–2025

**Synthetic.** A complete monitoring campaign for the site in `..` (`aoi/anji-bamboo`): the
campaign file, training labels for the land-cover classifier and two surveys of the same
{n_on + n_off} permanent plots (October–November 2023 and 2025). The scenes are not stored: the
campaign generates them from its recipe (`[scenes]`: synthetic, seed {SEED}, year {YEAR},
{DATES} dates) on a 10 m grid around the site. Labels and plots are sampled from the **known
truth** of that same recipe (`pipelines.satellite.synthetic.generate_truth`), so every result
can be checked against it. No real plot, culm or household is represented.

Run it:

```
mrv campaign run aoi/anji-bamboo/campaign/campaign.toml --out runs/ajb-2025
```

Regenerate (seeded; byte-identical, checked by `tests/campaign/test_example_data.py`):

```
.venv/bin/python tools/make_campaign_example.py
```

## Files

| file | what |
|---|---|
| `campaign.toml` | site `..`, period 2024–2025, bamboo-moso 1.0.0, scene recipe, surveys |
| `labels.geojson` | {n_labels} training points (WGS84, `land_cover`), see below |
| `survey/2023/` | earlier survey: `survey.toml`, plots, culms, strata |
| `survey/2025/` | later survey of the same plots: the same and `harvest.csv` (cut 2024–25) |

The surveys are in WGS84 (GNSS) and name `../boundary.geojson` as their boundary.

## The truth

| figure | value |
|---|---|
| site boundary | {boundary_ha:.2f} ha |
| moso bamboo inside the boundary (10 m pixels, centre inside) | **{moso_ha:.2f} ha** |
| of which on-year / off-year (`strata.csv` of both surveys) | {on_ha:.2f} / {off_ha:.2f} ha |
| mean truth density of those moso pixels | {fig["moso_truth_mean_tc_per_ha"]:.2f} t C/ha |

Most of the rest of the boundary is other forest in this synthetic landscape. The truth's moso
densities span 20–45 t C/ha of living biomass, i.e. 28–64 t/ha aboveground dry biomass with the
methodology's C = AGB × (1 + 0.5) × 0.47: within what moso stands carry (39–124 t/ha AGB,
methodologies.md §1.3).

Training labels: up to {LABELS_PER_CLASS} random truth pixels per class inside the bounding box
of the site boundary (the campaign clips its scenes to that box):

| class | pixels in the box | labels |
|---|---|---|
{label_rows}

Classes with fewer than {LABEL_MIN_PX} pixels or {LABEL_MIN_BLOCKS} spatial blocks of
{BLOCK_SIZE_M:g} m in the box have no labels ({left_out}); the classifier is to be trained on
the labelled classes only.

## The plots

{n_on} on-year (`ON01`…) and {n_off} off-year (`OF01`…) plots of 400 m²: 20 m × 20 m squares
of 2 × 2 truth pixels, all moso bamboo of one phase, wholly inside the boundary, at least
{MIN_SPACING_M:g} m apart; the coordinates are the square's centre.

| survey | culms | culms/ha | stock t C/ha, mean (range) |
|---|---|---|---|
| truth at the plots | | | {t_mean:.2f} ({t_min:.1f}–{t_max:.1f}) |
| 2025 | {n25:,} | {density} | {s_mean:.2f} ({s_min:.1f}–{s_max:.1f}) |
| 2023 | {n23:,} | | {fig["stock_2023"]:.2f} |

* **2025**: culms (DBH ~ N(plot mean, 1.4) cm, mean {fig["mean_dbh_2025"]:.1f} cm; ages 1–4
  du) were added until the methodology's plot stock was nearest to the truth density at the
  plot × (1 + {MEASUREMENT_CV:g} ε), ε standard normal: mean relative error
  {100 * fig["rel_error"]:.1f} %, correlation {fig["correlation"]:.3f}.
* **2023**: the 2025 culms of 2 du and more, one du younger, plus the {ncut} culms cut in
  between (`survey/2025/harvest.csv`, 4–5 du when cut; {fig["plots_without_harvest"]} plots
  without harvest).

## Expected removals

Plot stock change over {fig["years"]:.4f} years: on-year {r_on:.2f}, off-year {r_off:.2f}
t C/ha/yr; weighted by the strata's areas {rate:.2f} t C/ha/yr = **{rate * co2:.1f} t
CO2e/ha/yr**, about {rate * co2 * moso_ha:,.0f} t CO2e/yr over the {moso_ha:.2f} ha of moso
bamboo ({2 * rate * co2 * moso_ha:,.0f} t CO2e over the two-year period, before the
uncertainty deduction). Order of magnitude: Zhejiang moso plots gained 0.94 t C/ha/yr
aboveground in 2004–2014, ≈ 1.4 t C/ha/yr with roots at R = 0.5 (methodologies.md §1.5).
Cut culms leave the account (`harvested_products_fraction` = 0).

Project emissions in `campaign.toml`: {emissions:.1f} t CO2e, diesel for hauling the cut
culms ({fig["harvest_dry_t_per_ha"]:.2f} t/ha dry over the period × {moso_ha:.2f} ha; fresh =
2 × dry; 3 L/t; 2.676 kg CO2/L). Leakage 0.
"""


def _reflow(markdown: str, width: int = 96) -> str:
    """Re-wrap prose paragraphs and bullets (tables, code and headings kept as they are)."""
    out = []
    for block in markdown.split("\n\n"):
        first = block.lstrip("\n")[:1]
        if first in ("|", "`", "#") or not block.strip():
            out.append(block)
        elif block.startswith("* "):
            items = ["* " + item for item in block[2:].split("\n* ")]
            out.append(
                "\n".join(
                    textwrap.fill(" ".join(i.split()), width, subsequent_indent="  ") for i in items
                )
            )
        else:
            out.append(textwrap.fill(" ".join(block.split()), width))
    return "\n\n".join(out)


if __name__ == "__main__":
    main()
