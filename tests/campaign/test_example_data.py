"""The bundled campaign example of the Anji moso-bamboo site against its synthetic truth."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer
from rasterio import features as rio_features

from methodologies import get
from mrv.settings import Settings
from pipelines.campaign.scenes import SyntheticScenes, synthetic_spec
from pipelines.campaign.site import load_site
from pipelines.plots import change, estimate, load_spec
from pipelines.satellite.synthetic import OFF_YEAR, ON_YEAR, Truth, generate_truth, truth_class_at

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "aoi" / "anji-bamboo"
CAMPAIGN = SITE / "campaign"
BEFORE = CAMPAIGN / "survey" / "2023" / "survey.toml"
AFTER = CAMPAIGN / "survey" / "2025" / "survey.toml"
GENERATED = [
    "README.md",
    "campaign.toml",
    "labels.geojson",
    *(
        f"survey/{y}/{t}"
        for y in ("2023", "2025")
        for t in ("survey.toml", "plots.csv", "culms.csv", "strata.csv")
    ),
    "survey/2025/harvest.csv",
]
PHASE = {"on-year": ON_YEAR, "off-year": OFF_YEAR}


@pytest.fixture(scope="module")
def campaign() -> dict[str, Any]:
    return tomllib.loads((CAMPAIGN / "campaign.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def truth(campaign: dict[str, Any]) -> Truth:
    """The truth of the campaign's own scene recipe (read from campaign.toml)."""
    scenes = campaign["scenes"]
    recipe = SyntheticScenes(
        seed=scenes["seed"],
        year=scenes["year"],
        dates=scenes["dates"],
        proportions=tuple(scenes["proportions"].items()),
    )
    return generate_truth(synthetic_spec(load_site(SITE).boundary, recipe))


@pytest.fixture(scope="module")
def boundary_utm(truth: Truth) -> shapely.Geometry:
    return gpd.GeoSeries([load_site(SITE).boundary], crs="EPSG:4326").to_crs(truth.grid.crs)[0]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _plot_pixels(truth: Truth, plots: list[dict[str, str]]) -> tuple[Any, Any, Any, Any]:
    """UTM centres of the plots and the four 10 m pixels of each (centre ± 5 m)."""
    to_utm = Transformer.from_crs("EPSG:4326", truth.grid.crs, always_xy=True)
    x, y = to_utm.transform([float(p["lon"]) for p in plots], [float(p["lat"]) for p in plots])
    x, y = np.asarray(x), np.asarray(y)
    a, _, c, _, e, f = truth.grid.transform
    dx = np.array([-5.0, 5.0, -5.0, 5.0])
    dy = np.array([-5.0, -5.0, 5.0, 5.0])
    col = np.floor((x[:, None] + dx - c) / a).astype(int)
    row = np.floor((y[:, None] + dy - f) / e).astype(int)
    return x, y, row, col


def test_generator_reproduces_the_example_bytes(tmp_path: Path) -> None:
    import tools.make_campaign_example as gen

    gen.main(tmp_path)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(GENERATED)
    for name in written:  # other files in the folder (e.g. a run's scratch copy) are not ours
        assert (tmp_path / name).read_bytes() == (CAMPAIGN / name).read_bytes(), name


def test_campaign_file_names_the_example(campaign: dict[str, Any]) -> None:
    assert campaign["campaign"]["id"] == "AJB-2025"
    assert (CAMPAIGN / campaign["campaign"]["site"]).resolve() == SITE.resolve()
    assert campaign["methodology"] == {"id": "bamboo-moso", "version": "1.0.0", "parameters": {}}
    assert campaign["scenes"]["seed"] == 11
    assert campaign["scenes"]["proportions"]["moso_bamboo"] == 0.8
    for key in ("before", "after"):
        assert (CAMPAIGN / campaign["survey"][key]).is_file()
    assert (CAMPAIGN / campaign["satellite"]["labels"]).is_file()
    assert 0.0 < campaign["removals"]["emissions_tco2e"] < 50.0
    for spec in (BEFORE, AFTER):
        s = load_spec(spec, get("bamboo-moso"))
        assert s.datum == "wgs84" and s.boundary_datum == "wgs84"
        assert s.boundary is not None and s.boundary.resolve() == (SITE / "boundary.geojson")


def test_plots_are_permanent_inside_the_boundary_and_in_moso_truth(
    truth: Truth, boundary_utm: shapely.Geometry
) -> None:
    plots = _rows(AFTER.parent / "plots.csv")
    before = _rows(BEFORE.parent / "plots.csv")
    key = [(p["plot_id"], p["stratum"], p["lon"], p["lat"], p["plot_area_m2"]) for p in plots]
    assert key == [
        (p["plot_id"], p["stratum"], p["lon"], p["lat"], p["plot_area_m2"]) for p in before
    ]
    assert 25 <= len(plots) <= 35
    assert {p["plot_area_m2"] for p in plots} == {"400"}
    assert all(p["survey_date"][:7] in ("2025-10", "2025-11") for p in plots)
    assert all(p["survey_date"][:7] in ("2023-10", "2023-11") for p in before)
    x, y, row, col = _plot_pixels(truth, plots)
    squares = shapely.box(x - 10, y - 10, x + 10, y + 10)
    assert shapely.contains(boundary_utm, squares).all()
    moso = {c.name: c.code for c in truth.classes}["moso_bamboo"]
    assert (truth.class_map[row, col] == moso).all()
    phase = np.array([PHASE[p["stratum"]] for p in plots])
    assert (truth.bamboo_year[row, col] == phase[:, None]).all()
    assert {p["stratum"] for p in plots} == {"on-year", "off-year"}


def test_strata_areas_are_the_truth_moso_area_in_the_boundary(
    truth: Truth, boundary_utm: shapely.Geometry
) -> None:
    g = truth.grid
    inside = rio_features.rasterize(
        [(boundary_utm, 1)], out_shape=(g.height, g.width), transform=g.affine, dtype="uint8"
    ).astype(bool)
    for spec in (BEFORE, AFTER):
        areas = {r["stratum"]: float(r["area_ha"]) for r in _rows(spec.parent / "strata.csv")}
        for stratum, year in PHASE.items():
            n = int(np.count_nonzero(inside & (truth.bamboo_year == year)))
            assert areas[stratum] == pytest.approx(n * g.pixel_area_ha, abs=0.005), stratum


def test_later_survey_stocks_track_the_truth(truth: Truth, settings: Settings) -> None:
    spec = load_spec(AFTER, get("bamboo-moso"))
    result = estimate(
        "bamboo-moso",
        named=spec.tables,
        settings=settings,
        datum=spec.datum,
        boundary=spec.boundary,
        boundary_datum=spec.boundary_datum,
    )
    assert result["validation_warnings"] == []
    plots = _rows(AFTER.parent / "plots.csv")
    _, _, row, col = _plot_pixels(truth, plots)
    true = truth.carbon_tc_per_ha[row, col].astype(np.float64).mean(axis=1)
    by_id = {p["plot_id"]: p["stock_tc_per_ha"] for p in result["plots"]}
    stock = np.array([by_id[p["plot_id"]] for p in plots])
    assert np.corrcoef(stock, true)[0, 1] > 0.9
    assert np.mean(np.abs(stock / true - 1.0)) < 0.10
    assert abs(stock.mean() / true.mean() - 1.0) < 0.05
    culms = _rows(AFTER.parent / "culms.csv")
    per_ha = np.array([sum(c["plot_id"] == p["plot_id"] for c in culms) for p in plots]) * 25
    assert per_ha.min() >= 2000 and per_ha.max() <= 4500


def test_change_is_a_plausible_moso_removal(settings: Settings) -> None:
    r = change("bamboo-moso", BEFORE, AFTER, settings=settings)
    assert r["paired_plots"] == len(_rows(AFTER.parent / "plots.csv"))
    assert r["unpaired"] == {"before_only": [], "after_only": []}
    area_ha = sum(float(s["area_ha"]) for s in _rows(AFTER.parent / "strata.csv"))
    per_ha = r["total"]["net_tco2e_per_yr"] / area_ha
    # Zhejiang moso: 0.94 t C/ha/yr aboveground (methodologies.md §1.5) ≈ 5 t CO2e/ha/yr with roots
    assert 2.0 < per_ha < 8.0
    assert r["total"]["ci90_half_width_tco2e_per_yr"] < 0.5 * r["total"]["net_tco2e_per_yr"]
    for s in r["strata"]:
        assert 0.5 < s["mean_stock_change_tc_per_ha_yr"] < 2.0, s["stratum"]
    harvest = _rows(AFTER.parent / "harvest.csv")
    assert harvest and {int(h["age_du"]) for h in harvest} <= {4, 5}


def test_labels_lie_in_the_box_on_their_truth_class(truth: Truth) -> None:
    data = json.loads((CAMPAIGN / "labels.geojson").read_text(encoding="utf-8"))
    lon = np.array([f["geometry"]["coordinates"][0] for f in data["features"]])
    lat = np.array([f["geometry"]["coordinates"][1] for f in data["features"]])
    names = [f["properties"]["land_cover"] for f in data["features"]]
    x0, y0, x1, y1 = load_site(SITE).boundary.bounds
    assert ((lon > x0) & (lon < x1) & (lat > y0) & (lat < y1)).all()
    codes = {c.name: c.code for c in truth.classes}
    assert (truth_class_at(truth, lon, lat) == np.array([codes[n] for n in names])).all()
    counts = {n: names.count(n) for n in set(names)}
    # classes with < 30 pixels or < 2 blocks of 500 m in the box get no labels (README table)
    assert counts == {"moso_bamboo": 200, "other_forest": 200, "tea_garden": 200, "other": 170}
