"""tea-garden: reference cases, the example recomputed independently, bad input, overrides."""

from __future__ import annotations

import csv
import json
import math
import shutil
import statistics
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as st

from methodologies.parameters import ParamValues
from methodologies.tea_garden import (
    METHODOLOGY,
    belowground_biomass_t_per_ha,
    layer_soc_t_per_ha,
    n2o_direct_tco2e_per_ha_yr,
    n2o_indirect_tco2e_per_ha_yr,
    net_removals_tco2e_per_ha_yr,
    subplot_dry_mass_kg,
)
from pipelines.plots import change, estimate

EXAMPLE = METHODOLOGY.example_dir
NAMES = ("plots", "bushes", "litter", "cores", "fertiliser", "strata")
TABLES = {n: EXAMPLE / f"{n}.csv" for n in NAMES}
GEO = {"datum": "gcj02", "boundary": EXAMPLE / "boundary.geojson", "boundary_datum": "gcj02"}
N2O_AR5 = 44 / 28 * 265 / 1000  # t CO2e per kg N2O-N


@pytest.fixture
def p() -> ParamValues:
    return ParamValues(METHODOLOGY.parameters)


# ---------------------------------------------------------------- reference cases (§4, §6)


def test_t13_belowground_models(p: ParamValues) -> None:
    """methodologies.md §4.2 / T13: B_a 5, 10, 20 → mature 3.159, 3.699, 6.729; young 3.108,
    6.433, 13.083."""
    mature = belowground_biomass_t_per_ha([5.0, 10.0, 20.0], [False] * 3, p)
    young = belowground_biomass_t_per_ha([5.0, 10.0, 20.0], [True] * 3, p)
    assert mature == pytest.approx([3.159, 3.699, 6.729], abs=5e-4)
    assert young == pytest.approx([3.108, 6.433, 13.083], abs=5e-4)
    # young model negative below 0.217/0.665 = 0.326 t/ha → clipped to 0, just above it positive
    clipped = belowground_biomass_t_per_ha([0.0, 0.3, 0.33], [True] * 3, p)
    assert clipped[:2] == pytest.approx([0.0, 0.0])
    assert clipped[2] == pytest.approx(0.665 * 0.33 - 0.217)


def test_t11_tea_n2o(p: ParamValues) -> None:
    """T11: 450 kg N × 0.0231 → 10.395 kg N2O-N → 16.335 kg N2O → 4.459 t CO2e (GWP 273);
    IPCC wet synthetic EF1 0.016 → 3.09."""
    assert n2o_direct_tco2e_per_ha_yr(450.0, 0.0, 0.0231, 0.0231, 273.0) == pytest.approx(
        4.459, abs=5e-4
    )
    assert n2o_direct_tco2e_per_ha_yr(450.0, 0.0, 0.016, 0.006, 273.0) == pytest.approx(
        3.09, abs=5e-3
    )
    # organic N gets EF_ON: 100 kg × 0.006 × 44/28 × 265 / 1000
    assert n2o_direct_tco2e_per_ha_yr(0.0, 100.0, 0.016, 0.006, 265.0) == pytest.approx(
        100 * 0.006 * 44 / 28 * 265 / 1000
    )


def test_indirect_n2o_by_hand() -> None:
    # (300·0.11 + 100·0.21)·0.014 + 400·0.24·0.011 = 0.756 + 1.056 = 1.812 kg N2O-N
    got = n2o_indirect_tco2e_per_ha_yr(300.0, 100.0, 0.11, 0.21, 0.014, 0.24, 0.011, 265.0)
    assert got == pytest.approx(1.812 * N2O_AR5)


def test_soc_layers_and_partial_depth() -> None:
    # 12 g/kg × 1.3 × 20 cm × 0.1 = 31.2; 15-45 cm counted to 30 → 15 cm; 30-40 → 0
    got = layer_soc_t_per_ha(
        [12.0, 8.0, 8.0], [1.3, 1.4, 1.4], [0, 15, 30], [20, 45, 40], [0.0, 0.2, 0.0], 30.0
    )
    assert got == pytest.approx([31.2, 8 * 1.4 * 15 * 0.8 * 0.1, 0.0])


def test_dry_mass_prefers_oven_dry() -> None:
    got = subplot_dry_mass_kg([2.0, math.nan, math.nan], [9.0, 5.0, math.nan], [0.5, 0.4, 0.5])
    assert got[:2] == pytest.approx([2.0, 2.0])
    assert math.isnan(got[2])


def test_net_removals_function() -> None:
    # stock 60 → 63 t C/ha in 3 yr = 1 t C/ha/yr = 3.6667 t CO2; minus 2.5 t CO2e N2O
    assert net_removals_tco2e_per_ha_yr(60.0, 63.0, 3.0, 2.5) == pytest.approx(44 / 12 - 2.5)
    arr = net_removals_tco2e_per_ha_yr(np.array([60.0, 50.0]), np.array([63.0, 49.0]), 2.0, 1.0)
    assert arr == pytest.approx([1.5 * 44 / 12 - 1, -0.5 * 44 / 12 - 1])


# ------------------------------------------------- the bundled example, recomputed independently


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def independent_plots(
    base: Path = EXAMPLE,
    cf: float = 0.47,
    depth: float = 30.0,
    young_below: float = 3.0,
) -> dict[str, dict[str, float | str]]:
    """Per-plot values typed in from methodologies.md §4 with plain Python."""
    plots = {r["plot_id"]: r for r in _rows(base / "plots.csv")}
    mass: dict[str, float] = defaultdict(float)
    area: dict[str, float] = defaultdict(float)
    for r in _rows(base / "bushes.csv"):
        dry = r["aboveground_dry_mass_kg"]
        m = (
            float(dry)
            if dry
            else float(r["aboveground_fresh_mass_kg"]) * float(r["dry_matter_fraction"])
        )
        mass[r["plot_id"]] += m
        area[r["plot_id"]] += float(r["subplot_area_m2"])
    lit_kg: dict[str, float] = defaultdict(float)
    lit_m2: dict[str, float] = defaultdict(float)
    for r in _rows(base / "litter.csv"):
        lit_kg[r["plot_id"]] += float(r["dry_mass_kg"])
        lit_m2[r["plot_id"]] += float(r["frame_area_m2"])
    soc: dict[str, float] = defaultdict(float)
    cores: dict[str, set[str]] = defaultdict(set)
    for r in _rows(base / "cores.csv"):
        top, bottom = float(r["depth_top_cm"]), min(float(r["depth_bottom_cm"]), depth)
        thick = max(bottom - top, 0.0)
        coarse = float(r["coarse_fraction"] or 0)
        soc[r["plot_id"]] += (
            float(r["soc_g_per_kg"]) * float(r["bulk_density_g_cm3"]) * thick * (1 - coarse) / 10
        )
        cores[r["plot_id"]].add(r["core_id"])
    n_syn: dict[str, float] = defaultdict(float)
    n_org: dict[str, float] = defaultdict(float)
    for r in _rows(base / "fertiliser.csv"):
        (n_org if r["n_source"] == "organic" else n_syn)[r["plot_id"]] += float(r["n_kg_per_ha"])
    out: dict[str, dict[str, float | str]] = {}
    for pid, row in plots.items():
        ba = mass[pid] / area[pid] * 10
        if float(row["stand_age_yr"]) < young_below:
            bb = max(0.665 * ba - 0.217, 0.0)
        else:
            bb = 0.013 * ba**2 - 0.087 * ba + 3.269
        litter = lit_kg[pid] / lit_m2[pid] * 10
        s = soc[pid] / len(cores[pid])
        fs, fo = n_syn[pid], n_org[pid]
        direct = (fs + fo) * 0.0231 * N2O_AR5
        indirect = ((fs * 0.11 + fo * 0.21) * 0.014 + (fs + fo) * 0.24 * 0.011) * N2O_AR5
        out[pid] = {
            "stratum": row["stratum"],
            "ba": ba,
            "bb": bb,
            "stock": (ba + bb) * cf + litter * 0.37 + s,
            "soc": s,
            "fs": fs,
            "fo": fo,
            "n2o": direct + indirect,
        }
    return out


def stratified(values: dict[str, list[float]], areas: dict[str, float]) -> dict[str, float]:
    total = sum(areas[s] * statistics.fmean(v) for s, v in values.items())
    terms = [
        (areas[s] ** 2 * statistics.variance(v) / len(v), len(v) - 1) for s, v in values.items()
    ]
    var = sum(t for t, _ in terms)
    df = var**2 / sum(t**2 / d for t, d in terms)
    return {"total": total, "hw": st.t.ppf(0.95, df) * math.sqrt(var), "df": df}


def _by_stratum(plots: dict[str, dict[str, float | str]], key: str) -> dict[str, list[float]]:
    by: dict[str, list[float]] = defaultdict(list)
    for v in plots.values():
        by[str(v["stratum"])].append(float(v[key]))
    return by


AREAS = {r["stratum"]: float(r["area_ha"]) for r in _rows(EXAMPLE / "strata.csv")}


def test_example_matches_independent_computation(settings) -> None:
    r = estimate("tea-garden", named=TABLES, settings=settings, **GEO)
    ref = independent_plots()
    got = {row["plot_id"]: row for row in r["plots"]}
    for pid, v in ref.items():
        stock = sum(
            got[pid][f"{k}_per_ha"]
            for k in (
                "bush_aboveground",
                "bush_belowground",
                "pruning_litter",
                "soil_organic_carbon",
            )
        )
        assert stock == pytest.approx(v["stock"], abs=5e-6)
        n2o = got[pid]["fertiliser_n2o_per_ha"] + got[pid]["fertiliser_n2o_indirect_per_ha"]
        assert n2o == pytest.approx(v["n2o"], abs=5e-6)
    by = _by_stratum(ref, "stock")
    for s in r["strata"]:
        assert s["mean_tc_per_ha"] == pytest.approx(statistics.fmean(by[s["stratum"]]), abs=1e-6)
        assert s["n_plots"] == len(by[s["stratum"]])
    exp = stratified(by, AREAS)
    t = r["total"]
    assert t["carbon_t"] == pytest.approx(exp["total"], rel=1e-9)
    assert t["ci90_half_width_co2e_t"] == pytest.approx(exp["hw"] * 44 / 12, rel=1e-6)
    assert t["df"] == pytest.approx(exp["df"], abs=1e-3)
    assert t["area_ha"] == pytest.approx(229.8)
    # annual block: only emissions, net = −N2O
    net = {s: [-x for x in v] for s, v in _by_stratum(ref, "n2o").items()}
    exp_net = stratified(net, AREAS)
    a = r["annual"]["total"]
    assert a["net_tco2e_per_yr"] == pytest.approx(exp_net["total"], rel=1e-9)
    assert a["ci90_half_width_tco2e_per_yr"] == pytest.approx(exp_net["hw"], rel=1e-6)
    assert a["net_tco2e_per_yr"] < 0
    # Monte Carlo varies CF and the tea EF; its mean agrees with the analytic totals
    mc = r["monte_carlo"]
    assert mc["varied_parameters"] == ["carbon_fraction.bush", "ef1.tea"]
    assert mc["co2e_t"]["mean"] == pytest.approx(t["co2e_t"], rel=0.01)
    assert mc["net_tco2e_per_yr"]["mean"] == pytest.approx(a["net_tco2e_per_yr"], rel=0.02)
    # EF uncertainty (sd 8.8 %) dominates the N2O interval: far wider than sampling alone
    assert mc["net_tco2e_per_yr"]["ci_relative"] > 3 * a["ci90_relative"]
    assert "ef1.tea" not in r["unconfirmed_parameters"]
    assert "belowground.mature.a2" in r["unconfirmed_parameters"]
    assert r["warnings"] == [
        "uncertainty deduction rule 'ccer-conservative' is recalled, not read in its primary text"
    ]


def test_example_magnitudes_are_realistic() -> None:
    """The synthetic example stays inside the ranges of methodologies.md §4.3-4.4."""
    ref = independent_plots()
    for v in ref.values():
        n = float(v["fs"]) + float(v["fo"])
        if v["stratum"] == "mature-conventional":
            assert 300 <= n <= 600
        else:
            assert n < 300
        assert 25 <= float(v["soc"]) <= 90  # China tea SOC mean 59 t C/ha
        assert float(v["ba"]) < 40


def test_change_net_matches_hand_formula(settings) -> None:
    """mrv plots change on the follow-up survey equals E10 applied to two independent estimates."""
    r = change("tea-garden", EXAMPLE / "example.toml", EXAMPLE / "followup.toml", settings=settings)
    before = independent_plots()
    after = independent_plots(EXAMPLE / "followup")
    got = {x["plot_id"]: x for x in r["plots"]}
    nets: dict[str, list[float]] = defaultdict(list)
    for pid, b in before.items():
        a = after[pid]
        years = 1095 / 365.25
        net = (float(a["stock"]) - float(b["stock"])) / years * 44 / 12 - float(a["n2o"])
        assert got[pid]["net_tco2e_per_ha_yr"] == pytest.approx(net, abs=1e-5)
        nets[str(a["stratum"])].append(net)
    exp = stratified(nets, AREAS)
    assert r["total"]["net_tco2e_per_yr"] == pytest.approx(exp["total"], rel=1e-6)
    assert r["total"]["ci90_half_width_tco2e_per_yr"] == pytest.approx(exp["hw"], rel=1e-6)
    assert any("young to the mature belowground model" in w for w in r["warnings"])


def test_cli_estimate_json(cli) -> None:
    args = [f"--{n}={TABLES[n]}" for n in NAMES]
    code, out, _ = cli(
        "plots", "estimate", "-m", "tea-garden", *args, "--datum", "gcj02",
        "--boundary", EXAMPLE / "boundary.geojson", "--boundary-datum", "gcj02", "--json",
    )  # fmt: skip
    assert code == 0
    r = json.loads(out)
    exp = stratified(_by_stratum(independent_plots(), "stock"), AREAS)
    assert r["total"]["carbon_t"] == pytest.approx(exp["total"], rel=1e-9)


# ------------------------------------------------------------------------ parameter overrides


def _estimate(settings, params: dict[str, str] | None = None, **tables: Path) -> dict:
    named = {**TABLES, **tables}
    return estimate("tea-garden", named=named, params=params, settings=settings, **GEO)


def _pool(r: dict, name: str) -> dict:
    return next(x for x in r["pools"] if x["pool"] == name)


def test_override_carbon_fraction(settings) -> None:
    r = _estimate(settings, {"carbon_fraction.bush": "0.5"})
    ref = independent_plots(cf=0.5)
    exp = stratified(_by_stratum(ref, "stock"), AREAS)
    assert r["total"]["carbon_t"] == pytest.approx(exp["total"], rel=1e-9)
    assert r["parameters"]["carbon_fraction.bush"] == 0.5
    assert "carbon_fraction.bush" not in r["unconfirmed_parameters"]
    assert r["monte_carlo"]["varied_parameters"] == ["ef1.tea"]


def test_override_gwp_set_and_ef_source(settings) -> None:
    base = _estimate(settings)
    ar6 = _estimate(settings, {"gwp_set": "AR6"})
    for name in ("fertiliser_n2o", "fertiliser_n2o_indirect"):
        assert _pool(ar6, name)["total"] == pytest.approx(
            _pool(base, name)["total"] * 273 / 265, abs=2e-6
        )
    assert ar6["total"]["carbon_t"] == pytest.approx(base["total"]["carbon_t"], rel=1e-12)
    ipcc = _estimate(settings, {"n2o.ef1_source": "ipcc2019_wet"})
    ref = independent_plots()
    per_plot = {
        pid: (float(v["fs"]) * 0.016 + float(v["fo"]) * 0.006) * N2O_AR5 for pid, v in ref.items()
    }
    got = {x["plot_id"]: x["fertiliser_n2o_per_ha"] for x in ipcc["plots"]}
    for pid, v in per_plot.items():
        assert got[pid] == pytest.approx(v, abs=5e-6)
    assert ipcc["monte_carlo"]["varied_parameters"] == [
        "carbon_fraction.bush",
        "ef1.other_wet",
        "ef1.synthetic_wet",
    ]


def test_override_indirect_off_and_soc_depth(settings) -> None:
    r = _estimate(settings, {"n2o.include_indirect": "false", "soc.depth_cm": "20"})
    pool = _pool(r, "fertiliser_n2o_indirect")
    assert pool["status"] == "omitted" and pool["reason"] == "n2o.include_indirect = false"
    ref = independent_plots(depth=20.0)
    got = {x["plot_id"]: x["soil_organic_carbon_per_ha"] for x in r["plots"]}
    for pid, v in ref.items():
        assert got[pid] == pytest.approx(v["soc"], abs=5e-6)
    # the example's 20-30 cm layers now lie below the depth: warned, not counted
    warned = [w for w in r["validation_warnings"] if "below soc.depth_cm" in w["reason"]]
    assert len(warned) == 28 * 2
    assert all(w["column"] == "depth_top_cm" for w in warned)


def test_override_young_age_limit(settings) -> None:
    r = _estimate(settings, {"belowground.young_below_age_yr": "1.5"})
    ref = independent_plots(young_below=1.5)
    got = {x["plot_id"]: x["bgb_t_per_ha"] for x in r["plots"]}
    for pid, v in ref.items():
        assert got[pid] == pytest.approx(v["bb"], abs=5e-6)
    # a 2-year-old plot now uses the mature model
    ba = float(ref["YG01"]["ba"])
    assert got["YG01"] == pytest.approx(0.013 * ba**2 - 0.087 * ba + 3.269, abs=5e-6)


def test_bad_parameter_values_exit_2(cli) -> None:
    args = [f"--{n}={TABLES[n]}" for n in NAMES]
    code, _, err = cli(
        "plots", "estimate", "-m", "tea-garden", *args, "--datum", "gcj02",
        "--param", "gwp_set=AR7",
    )  # fmt: skip
    assert code == 2 and "'AR7' is not one of AR4, AR5, AR6" in err
    code, _, err = cli(
        "plots", "estimate", "-m", "tea-garden", *args, "--datum", "gcj02",
        "--param", "carbon_fraction.bush=0.9",
    )  # fmt: skip
    assert code == 2 and "0.9 is above the maximum 0.6" in err


# ------------------------------------------------------------------- optional tables and pools


def test_biomass_only_survey_omits_pools(settings) -> None:
    named = {n: TABLES[n] for n in ("plots", "bushes", "strata")}
    r = estimate("tea-garden", named=named, settings=settings, **GEO)
    status = {x["pool"]: (x["status"], x.get("reason", "")) for x in r["pools"]}
    assert status["pruning_litter"][0] == "omitted" and "Zhao" in status["pruning_litter"][1]
    assert status["soil_organic_carbon"] == ("omitted", "no cores table supplied")
    assert status["fertiliser_n2o"] == ("omitted", "no fertiliser table supplied")
    assert status["harvested_tea_and_wood_products"][0] == "excluded"
    assert "annual" not in r
    assert any("fertiliser N2O is not accounted" in w for w in r["warnings"])
    ref = independent_plots()
    bush = {pid: (float(v["ba"]) + float(v["bb"])) * 0.47 for pid, v in ref.items()}
    by: dict[str, list[float]] = defaultdict(list)
    for pid, v in ref.items():
        by[str(v["stratum"])].append(bush[pid])
    assert r["total"]["carbon_t"] == pytest.approx(stratified(by, AREAS)["total"], rel=1e-9)


def test_young_plot_below_model_zero_is_clipped_and_warned(tmp_path: Path, settings) -> None:
    bushes = tmp_path / "bushes.csv"
    text = TABLES["bushes"].read_text(encoding="utf-8").splitlines()
    # YG03 (1 yr): replace its three subplots by 0.04 kg each → B_a = 0.12/4.5×10 = 0.267 t/ha
    kept = [line for line in text if not line.startswith("YG03,")]
    kept += [f"YG03,S{k},1.5,0.040,," for k in (1, 2, 3)]
    bushes.write_text("\n".join(kept) + "\n", encoding="utf-8")
    r = _estimate(settings, bushes=bushes)
    row = next(x for x in r["plots"] if x["plot_id"] == "YG03")
    assert row["agb_t_per_ha"] == pytest.approx(0.12 / 4.5 * 10, abs=1e-6)
    assert row["bgb_t_per_ha"] == 0.0
    assert any("young plot(s) have B_a below 0.326" in w for w in r["warnings"])


def test_chinese_headers(tmp_path: Path, settings) -> None:
    cores = tmp_path / "cores.csv"
    text = TABLES["cores"].read_text(encoding="utf-8")
    _, rest = text.split("\n", 1)
    cores.write_text(
        "样地号,土芯号,上界_cm,下界_cm,容重,有机碳,砾石含量\n" + rest, encoding="utf-8"
    )
    r = _estimate(settings, cores=cores)
    base = _estimate(settings)
    assert r["total"]["carbon_t"] == pytest.approx(base["total"]["carbon_t"], rel=1e-12)


def test_pool_measured_in_one_survey_only_is_left_out(tmp_path: Path, settings) -> None:
    """A litter layer measured only in the later survey must not count as a gain."""
    before = tmp_path / "before.toml"
    tables = "\n".join(f'{n} = "{TABLES[n]}"' for n in NAMES if n != "litter")
    before.write_text(f'[tables]\n{tables}\n[options]\ndatum = "gcj02"\n', encoding="utf-8")
    full = change("tea-garden", EXAMPLE / "example.toml", EXAMPLE / "followup.toml",
                  settings=settings)  # fmt: skip
    part = change("tea-garden", before, EXAMPLE / "followup.toml", settings=settings)
    assert any(
        "pool pruning_litter was measured only in the later survey and is left out" in w
        for w in part["warnings"]
    )
    full_plots = {x["plot_id"]: x for x in full["plots"]}
    for x in part["plots"]:
        f = full_plots[x["plot_id"]]
        litter_before = f["stock_before_tc_per_ha"] - x["stock_before_tc_per_ha"]
        litter_after = f["stock_after_tc_per_ha"] - x["stock_after_tc_per_ha"]
        assert litter_after > 0
        assert litter_before > 0  # the earlier survey of the full run did measure litter
        expected = (litter_after - litter_before) / x["years"] * 44 / 12
        assert f["net_tco2e_per_ha_yr"] - x["net_tco2e_per_ha_yr"] == pytest.approx(
            expected, abs=1e-4
        )


# ----------------------------------------------------------------------------------- bad input


def _copy_example(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for n in NAMES:
        out[n] = tmp_path / f"{n}.csv"
        shutil.copy(TABLES[n], out[n])
    return out


def _edit(path: Path, line_no: int, new: str) -> None:
    """Replace spreadsheet row ``line_no`` (header = 1) of a CSV."""
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[line_no - 1] = new
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _run_bad(cli, files: dict[str, Path]) -> tuple[set[tuple[str, int | None, str | None]], str]:
    args = [f"--{n}={files[n]}" for n in NAMES if n in files]
    code, out, err = cli(
        "plots", "estimate", "-m", "tea-garden", *args, "--datum", "gcj02", "--json"
    )
    assert code == 2
    problems = json.loads(out)["problems"]
    located = {
        (Path(p["file"]).name if p["file"] else "", p["row"], p["column"])
        for p in problems
        if p["severity"] == "error"
    }
    return located, err


def test_bad_values_located(cli, tmp_path: Path) -> None:
    f = _copy_example(tmp_path)
    _edit(f["fertiliser"], 3, "MC01,2024-02-25,urea,manure,209")  # not a choice
    _edit(f["cores"], 2, "MC01,A,0,10,3.10,17.2,0.02")  # bulk density > 2.65
    _edit(f["litter"], 4, "MC01,1.5,-0.2")  # negative mass
    _edit(f["bushes"], 7, "MC03,S1,1.5,2.1,,1.4")  # dry-matter fraction > 1
    located, err = _run_bad(cli, f)
    assert located == {
        ("fertiliser.csv", 3, "n_source"),
        ("cores.csv", 2, "bulk_density_g_cm3"),
        ("litter.csv", 4, "dry_mass_kg"),
        ("bushes.csv", 7, "dry_matter_fraction"),
    }
    assert "fertiliser.csv, row 3, column n_source" in err
    assert "cores.csv, row 2, column bulk_density_g_cm3" in err


def test_core_gaps_overlaps_and_unsampled_plots(cli, tmp_path: Path) -> None:
    f = _copy_example(tmp_path)
    # MC01 core A: 0-10, 12-20 (gap of 2 cm), 20-30 → covers 28 of 0-30 cm
    _edit(f["cores"], 3, "MC01,A,12,20,1.26,11.7,0.02")
    # MC02 core A: 0-10, 8-20 overlaps the layer above
    _edit(f["cores"], 9, "MC02,A,8,20,1.26,11.7,0.02")
    # MC03 core A second layer: bottom above top
    _edit(f["cores"], 15, "MC03,A,20,10,1.26,11.7,0.02")
    _edit(f["bushes"], 5, "MC02,S1,1.5,,,")  # no mass at all
    _edit(f["bushes"], 6, "MC02,S2,1.5,,6.1,")  # fresh mass without dry-matter fraction
    # remove every fertiliser row of ME01 and every subplot of YG08
    fert = [ln for ln in f["fertiliser"].read_text().splitlines() if not ln.startswith("ME01,")]
    f["fertiliser"].write_text("\n".join(fert) + "\n")
    bush = [ln for ln in f["bushes"].read_text().splitlines() if not ln.startswith("YG08,")]
    f["bushes"].write_text("\n".join(bush) + "\n")
    located, err = _run_bad(cli, f)
    assert ("cores.csv", 2, "depth_bottom_cm") in located  # MC01 core A covers 28 cm
    assert ("cores.csv", 9, "depth_top_cm") in located  # overlap
    assert ("cores.csv", 15, "depth_bottom_cm") in located  # bottom <= top
    assert ("plots.csv", 12, "plot_id") in located  # ME01 has no fertiliser record
    assert ("plots.csv", 29, "plot_id") in located  # YG08 has no harvested subplot
    assert ("bushes.csv", 5, "aboveground_dry_mass_kg") in located
    assert ("bushes.csv", 6, "aboveground_dry_mass_kg") in located
    assert ("cores.csv", 14, "depth_bottom_cm") in located  # MC03 core A then covers 20 cm
    assert len(located) == 8
    assert "covers 28 cm of 0-30 cm" in err
    assert "plot has no harvested subplot in" in err
    assert "give n_kg_per_ha = 0 for an unfertilised plot" in err


def test_missing_column_and_subplots_larger_than_plot(cli, tmp_path: Path) -> None:
    f = _copy_example(tmp_path)
    text = f["cores"].read_text(encoding="utf-8").splitlines()
    cols = text[0].split(",")
    drop = cols.index("soc_g_per_kg")
    f["cores"].write_text(
        "\n".join(",".join(c for i, c in enumerate(ln.split(",")) if i != drop) for ln in text)
        + "\n",
        encoding="utf-8",
    )
    located, err = _run_bad(cli, f)
    assert ("cores.csv", 1, "soc_g_per_kg") in located
    assert "missing required column soc_g_per_kg" in err
    (tmp_path / "b").mkdir()
    g = _copy_example(tmp_path / "b")
    _edit(g["bushes"], 2, "MC01,S1,99.0,2.468,,")  # 99 + 1.5 + 1.5 m² > 100 m² plot
    located, err = _run_bad(cli, g)
    assert ("plots.csv", 2, "plot_area_m2") in located
    assert "harvested subplots cover more than the plot area" in err
