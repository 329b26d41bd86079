"""Estimates from the bundled bamboo example against independent plain-Python arithmetic."""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections import defaultdict
from pathlib import Path

import prcoords
import pytest
from scipy import stats as st

from pipelines.plots import estimate

EXAMPLE = Path(__file__).resolve().parents[2] / "methodologies" / "bamboo_moso" / "example"
TABLES = {n: EXAMPLE / f"{n}.csv" for n in ("plots", "culms", "strata")}


def culm_kg(d: float, a: float) -> float:
    """methodologies.md §1.3, typed in independently of the package."""
    return 747.787 * d**2.771 * (0.148 * a / (0.028 + a)) ** 5.555 + 3.772


def _rows(name: str) -> list[dict[str, str]]:
    with TABLES[name].open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def independent_estimate(r_ratio: float = 0.5, cf: float = 0.47) -> dict[str, float]:
    plots = _rows("plots")
    kg: dict[str, float] = defaultdict(float)
    for row in _rows("culms"):
        kg[row["plot_id"]] += culm_kg(float(row["dbh_cm"]), int(row["age_du"]))
    areas = {r["stratum"]: float(r["area_ha"]) for r in _rows("strata")}
    by: dict[str, list[float]] = defaultdict(list)
    for p in plots:
        agb = kg[p["plot_id"]] / 1000 * 10_000 / float(p["plot_area_m2"])
        by[p["stratum"]].append(agb * (1 + r_ratio) * cf)
    total = sum(areas[s] * statistics.fmean(v) for s, v in by.items())
    terms = [(areas[s] ** 2 * statistics.variance(v) / len(v), len(v) - 1) for s, v in by.items()]
    var = sum(t for t, _ in terms)
    df = var**2 / sum(t**2 / d for t, d in terms)
    hw = st.t.ppf(0.95, df) * math.sqrt(var)
    return {"carbon_t": total, "hw_c": hw, "df": df}


def test_bundled_example_matches_independent_computation(settings) -> None:
    r = estimate("bamboo-moso", named=TABLES, datum="gcj02", settings=settings)
    ref = independent_estimate()
    t = r["total"]
    assert t["carbon_t"] == pytest.approx(ref["carbon_t"], rel=1e-9)
    assert t["co2e_t"] == pytest.approx(ref["carbon_t"] * 44 / 12, rel=1e-9)
    assert t["ci90_half_width_co2e_t"] == pytest.approx(ref["hw_c"] * 44 / 12, rel=1e-9)
    assert t["df"] == pytest.approx(ref["df"], abs=1e-3)
    assert t["area_mu"] == pytest.approx(320 * 15)
    # Monte Carlo agrees with the analytic interval (only CF is varied, sd 0.00434)
    mc = r["monte_carlo"]["co2e_t"]
    assert mc["mean"] == pytest.approx(t["co2e_t"], rel=0.01)
    assert mc["ci_relative"] == pytest.approx(t["ci90_relative"], rel=0.15)
    assert r["monte_carlo"]["varied_parameters"] == ["carbon_fraction"]


def test_parameter_override_changes_result_as_computed(settings) -> None:
    r = estimate(
        "bamboo-moso",
        named=TABLES,
        datum="gcj02",
        settings=settings,
        params={"root_to_shoot_ratio": "0.3", "carbon_fraction": "0.5"},
    )
    ref = independent_estimate(r_ratio=0.3, cf=0.5)
    assert r["total"]["carbon_t"] == pytest.approx(ref["carbon_t"], rel=1e-9)
    assert r["parameters"]["root_to_shoot_ratio"] == 0.3
    assert "root_to_shoot_ratio" not in r["unconfirmed_parameters"]
    assert "carbon_fraction" not in r["unconfirmed_parameters"]
    assert "culm_equation.a" in r["unconfirmed_parameters"]
    detail = {d["name"]: d for d in r["parameter_details"]}
    assert detail["root_to_shoot_ratio"]["evidence"] == "user"


def test_whole_plant_scope_omits_belowground(settings) -> None:
    r = estimate(
        "bamboo-moso",
        named=TABLES,
        datum="gcj02",
        settings=settings,
        params={"culm_equation_scope": "whole_plant"},
    )
    ref = independent_estimate(r_ratio=0.0)
    assert r["total"]["carbon_t"] == pytest.approx(ref["carbon_t"], rel=1e-9)
    pools = {p["pool"]: p for p in r["pools"]}
    assert pools["belowground_biomass"]["status"] == "omitted"
    assert "whole-plant" in pools["belowground_biomass"]["reason"]
    assert "root_to_shoot_ratio" not in r["parameters"]


def test_harvested_products_pool(tmp_path: Path, settings) -> None:
    harvest = tmp_path / "harvest.csv"
    harvest.write_text("plot_id,dbh_cm,age_du\nON01,10.0,2\nON01,8.0,1\nOF09,10.0,2\n")
    base = estimate("bamboo-moso", named=TABLES, datum="gcj02", settings=settings)
    r = estimate(
        "bamboo-moso",
        named={**TABLES, "harvest": harvest},
        datum="gcj02",
        settings=settings,
        params={"harvested_products_fraction": "0.4"},
    )
    # ON01: (13.819 + 8.789) kg on 100 m² = 2.2608 t/ha; OF09: 1.3819 t/ha; × 0.47 × 0.4
    on = (culm_kg(10, 2) + culm_kg(8, 1)) / 1000 * 100 * 0.47 * 0.4
    of = culm_kg(10, 2) / 1000 * 100 * 0.47 * 0.4
    expected = 182.4 * on / 16 + 137.6 * of / 14
    pools = {p["pool"]: p for p in r["pools"]}
    assert pools["harvested_products"]["status"] == "measured"
    assert pools["harvested_products"]["total"] == pytest.approx(expected, rel=1e-6)
    assert r["total"]["carbon_t"] == pytest.approx(base["total"]["carbon_t"] + expected, rel=1e-9)
    zero = estimate(
        "bamboo-moso", named={**TABLES, "harvest": harvest}, datum="gcj02", settings=settings
    )
    assert any("harvested_products_fraction is 0" in w for w in zero["warnings"])


def test_without_strata_only_per_hectare(settings) -> None:
    r = estimate(
        "bamboo-moso",
        named={"plots": TABLES["plots"], "culms": TABLES["culms"]},
        datum="gcj02",
        settings=settings,
    )
    assert r["total"]["carbon_t"] is None and r["total"]["co2e_t"] is None
    assert [s["stratum"] for s in r["strata"]] == ["on-year", "off-year"]
    assert r["strata"][0]["mean_tc_per_ha"] == pytest.approx(25.7364, abs=1e-4)
    assert any("no strata table" in w for w in r["warnings"])
    assert "monte_carlo" not in r


def test_cli_estimate_json_and_out_file(cli, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "result.json"
    code, stdout, _ = cli(
        "plots",
        "estimate",
        "-m",
        "bamboo-moso",
        "--plots",
        TABLES["plots"],
        "--culms",
        TABLES["culms"],
        "--strata",
        TABLES["strata"],
        "--datum",
        "gcj02",
        "--out",
        out,
        "--json",
    )
    assert code == 0
    data = json.loads(stdout)
    assert json.loads(out.read_text(encoding="utf-8")) == data
    assert data["methodology"]["id"] == "bamboo-moso" and data["methodology"]["version"]
    assert {
        "stratum",
        "n_plots",
        "area_ha",
        "mean_tc_per_ha",
        "ci90_half_width_tc_per_ha",
        "total_tc",
    } <= set(data["strata"][0])
    assert {"carbon_t", "co2e_t", "ci90_half_width_co2e_t", "ci90_relative"} <= set(data["total"])
    assert data["total"]["ci90_relative"] == pytest.approx(0.089446, abs=1e-6)
    assert len(data["plots"]) == 30
    on01 = data["plots"][0]
    # plot locations are in WGS84: the file's GCJ-02 point converted (prcoords as reference)
    assert on01["plot_id"] == "ON01"
    wgs = prcoords.gcj_wgs_bored((30.461613, 119.621869))
    assert (on01["lon"], on01["lat"]) == pytest.approx((wgs.lon, wgs.lat), abs=2e-5)
    assert on01["stock_tc_per_ha"] == pytest.approx(32.544826, abs=1e-6)
    assert len(data["inputs"]) == 3
    code, stdout, _ = cli(
        "plots",
        "estimate",
        "-m",
        "bamboo-moso",
        "--plots",
        TABLES["plots"],
        "--culms",
        TABLES["culms"],
        "--strata",
        TABLES["strata"],
        "--datum",
        "gcj02",
    )
    assert code == 0
    assert "28,664.9 t CO2e ± 2,564.0 (90 % CI, ±8.9 %)" in stdout
    assert "Sampling: 30 plots, 25 needed" in stdout


def test_methodology_commands(cli) -> None:
    code, out, _ = cli("methodology", "list", "--json")
    assert code == 0
    items = {m["id"]: m for m in json.loads(out)}
    assert items["bamboo-moso"]["version"] == "1.0.0"
    assert "carbon_fraction" in items["bamboo-moso"]["unconfirmed_parameters"]
    code, out, _ = cli("methodology", "show", "bamboo-moso", "--json")
    data = json.loads(out)
    params = {p["name"]: p for p in data["parameters"]}
    assert params["root_to_shoot_ratio"]["value"] == 0.5
    assert params["carbon_fraction"]["confirmed"] is False
    assert {t["name"] for t in data["tables"]} == {"plots", "culms", "strata", "harvest"}
    code, out, _ = cli("methodology", "show", "bamboo-moso")
    assert code == 0 and "root_to_shoot_ratio" in out
    code, _, err = cli("methodology", "show", "bamboo-moso", "--version", "9.9.9")
    assert code == 2 and "has no version '9.9.9'" in err


def test_examples_of_the_demo_write_one_result_per_methodology(tmp_path: Path) -> None:
    from pipelines.demo_examples import run_examples

    rows = {r["methodology"]: r for r in run_examples(tmp_path)}
    assert rows["bamboo-moso"]["co2e_t"] == pytest.approx(28664.933295, abs=1e-5)
    saved = json.loads((tmp_path / "bamboo-moso.json").read_text(encoding="utf-8"))
    assert saved["total"]["co2e_t"] == rows["bamboo-moso"]["co2e_t"]
