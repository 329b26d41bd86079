"""farmland-soc: values recomputed independently (plain pandas/numpy from the example CSVs and by
hand from methodologies.md §6), bad inputs, parameter overrides and the GWP switch."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from methodologies.farmland_soc import (
    METHODOLOGY,
    biochar_persistent_c_t,
    biochar_temperature_class,
    esm_soc_t_per_ha,
    rice_ch4_kg_per_ha,
    rice_ef_kg_ch4_per_ha_day,
    rice_sf_o,
    tier1_change_tc_per_ha_yr,
    tier1_soc_t_per_ha,
)
from methodologies.parameters import ParamValues
from pipelines.plots.examples import load_example, run_example

EXAMPLE = Path(METHODOLOGY.example_dir)
TABLES = {
    "plots": EXAMPLE / "plots.csv",
    "cores": EXAMPLE / "cores.csv",
    "management": EXAMPLE / "management.csv",
    "strata": EXAMPLE / "strata.csv",
}
GEO = ("--datum", "gcj02")


def _params(**overrides: object) -> ParamValues:
    return ParamValues(
        METHODOLOGY.parameters.with_overrides({k: str(v) for k, v in overrides.items()})
    )


# --------------------------------------------------------------------------- independent model
def _esm_stock(layers: pd.DataFrame, m_ref: float) -> float:
    """Plain-Python ESM: walk down the layers accumulating soil mass until m_ref is reached."""
    total_c, total_m = 0.0, 0.0
    conc = 0.0
    for _, row in layers.sort_values("depth_top_cm").iterrows():
        mass = row.bulk_density_g_cm3 * (row.depth_bottom_cm - row.depth_top_cm) * 100.0
        conc = row.soc_g_per_kg / 1000.0
        take = min(mass, max(m_ref - total_m, 0.0))
        total_c += take * conc
        total_m += mass
    return total_c + max(m_ref - total_m, 0.0) * conc


def _independent() -> pd.DataFrame:
    """Every plot's pools from the example CSVs with IPCC defaults, coded here from scratch."""
    cores = pd.read_csv(TABLES["cores"], parse_dates=["sample_date"])
    mg = pd.read_csv(TABLES["management"]).set_index("plot_id")
    plots = pd.read_csv(TABLES["plots"])
    out = []
    for pid, stratum in zip(plots.plot_id, plots.stratum, strict=True):
        c = cores[cores.plot_id == pid]
        b, f = c[c["round"] == "baseline"], c[c["round"] == "followup"]
        m_ref = float((b.bulk_density_g_cm3 * 10 * 100).sum())  # three 10 cm layers to 30 cm
        s0, s1 = _esm_stock(b, m_ref), _esm_stock(f, m_ref)
        years = (f.sample_date.iloc[0] - b.sample_date.iloc[0]).days / 365.25
        r = mg.loc[pid]

        def z(col: str, r: pd.Series = r) -> float:
            return 0.0 if pd.isna(r[col]) else float(r[col])

        bc = z("biochar_t_per_ha_yr")
        f_c = {"wood": 0.77, "rice_husk_straw": 0.49}.get(str(r.biochar_feedstock), 0.0)
        f_perm = 0.0 if bc == 0 else (0.80 if r.biochar_temperature_c <= 600 else 0.89)
        soc_change = (s1 - s0) / years - bc * f_c
        ch4 = 0.0
        paddy = r.land_use == "paddy"
        if paddy:
            within, straw = z("straw_within_30d_dm_t_per_ha"), z("straw_dm_t_per_ha")
            sf_o = (1 + within * 1.00 + (straw - within) * 0.19) ** 0.59
            sf_w = {"single_drainage": 0.71, "multiple_drainage": 0.55}[r.water_regime]
            ch4 = 1.32 * sf_w * 0.89 * sf_o * z("rice_days") * 28 / 1000
        f_cr = z("straw_dm_t_per_ha") * 7.0
        f_som = max(-soc_change, 0.0) * 100.0
        syn, org, rsyn = (
            z("synthetic_n_kg_per_ha"),
            z("organic_n_kg_per_ha"),
            z("rice_synthetic_n_kg_per_ha"),
        )
        if paddy:
            direct = syn * 0.016 + org * 0.006 + (rsyn + f_cr + f_som) * 0.005
        else:
            direct = syn * 0.016 + (org + f_cr + f_som) * 0.006
        indirect = ((syn + rsyn) * 0.11 + org * 0.21) * 0.014 + (
            syn + org + rsyn + f_cr + f_som
        ) * 0.24 * 0.011
        n2o = (direct + indirect) * 44 / 28 * 265 / 1000
        biochar = bc * f_c * f_perm
        out.append(
            {
                "plot_id": pid,
                "stratum": stratum,
                "stock": s1,
                "soc_change": soc_change,
                "biochar": biochar,
                "ch4": ch4,
                "n2o": n2o,
                "net": (soc_change + biochar) * 44 / 12 - ch4 - n2o,
            }
        )
    return pd.DataFrame(out).set_index("plot_id")


@pytest.fixture(scope="module")
def example_result() -> dict:
    return run_example(load_example(METHODOLOGY))


def test_example_per_plot_pools_match_independent_computation(example_result) -> None:
    ref = _independent()
    got = pd.DataFrame(example_result["plots"]).set_index("plot_id")
    assert list(got.index) == list(ref.index)
    pairs = {
        "soc_stock_per_ha": "stock",
        "soc_change_per_ha": "soc_change",
        "paddy_ch4_per_ha": "ch4",
        "n2o_per_ha": "n2o",
    }
    for mine, theirs in pairs.items():
        np.testing.assert_allclose(got[mine], ref[theirs], atol=2e-6)
    upland = ref.stratum == "upland-biochar"
    np.testing.assert_allclose(
        got.loc[upland, "biochar_per_ha"], ref.loc[upland, "biochar"], atol=2e-6
    )


def test_example_strata_totals_and_satterthwaite(example_result) -> None:
    ref = _independent()
    strata = pd.read_csv(TABLES["strata"])
    for key, block, mean_key in (
        ("stock", example_result["strata"], "mean_tc_per_ha"),
        ("net", example_result["annual"]["strata"], "mean_tco2e_per_ha_yr"),
    ):
        total, v, dfs = 0.0, [], []
        for row, (name, area) in zip(
            block, zip(strata.stratum, strata.area_ha, strict=True), strict=True
        ):
            x = ref.loc[ref.stratum == name, key].to_numpy()
            se = x.std(ddof=1) / math.sqrt(len(x))
            assert row["stratum"] == name
            assert row[mean_key] == pytest.approx(x.mean(), abs=1e-5)
            total += area * x.mean()
            v.append((area * se) ** 2)
            dfs.append(len(x) - 1)
        df = sum(v) ** 2 / sum(vi**2 / d for vi, d in zip(v, dfs, strict=True))
        half = stats.t.ppf(0.95, df) * math.sqrt(sum(v))
        if key == "stock":
            t = example_result["total"]
            assert t["carbon_t"] == pytest.approx(total, abs=1e-3)
            assert t["ci90_half_width_carbon_t"] == pytest.approx(half, abs=1e-3)
            assert t["df"] == pytest.approx(df, abs=1e-3)
        else:
            a = example_result["annual"]["total"]
            assert a["net_tco2e_per_yr"] == pytest.approx(total, abs=1e-3)
            assert a["ci90_half_width_tco2e_per_yr"] == pytest.approx(half, abs=1e-3)
            assert a["df"] == pytest.approx(df, abs=1e-3)
    assert example_result["total"]["carbon_t"] == pytest.approx(44406.97, abs=0.01)
    assert example_result["annual"]["total"]["net_tco2e_per_yr"] == pytest.approx(
        -5273.56, abs=0.01
    )


def test_example_monte_carlo_varies_ipcc_factors(example_result) -> None:
    mc = example_result["monte_carlo"]
    assert {
        "rice.ef_c_kg_ch4_per_ha_day",
        "rice.sf_w.single_drainage",
        "ef1.wet_synthetic",
        "biochar.f_perm.medium",
    } <= set(mc["varied_parameters"])
    assert mc["net_tco2e_per_yr"]["ci_low"] < -5273.56 < mc["net_tco2e_per_yr"]["ci_high"]
    assert "straw_n_fraction" in example_result["unconfirmed_parameters"]
    assert "ef1fr.continuous" not in example_result["parameters"]  # no continuous paddy


# --------------------------------------------------------------------------- reference cases
def test_esm_hand_example_and_extrapolation() -> None:
    top, bottom = [0, 10, 20], [10, 20, 30]
    base = esm_soc_t_per_ha(top, bottom, [1.10, 1.25, 1.40], [18.0, 14.0, 9.0], 3750.0)
    assert base == pytest.approx(19.8 + 17.5 + 12.6)
    follow = esm_soc_t_per_ha(
        [0, 10, 20, 30], [10, 20, 30, 40], [1.20, 1.32, 1.45, 1.50], [19.0, 14.5, 9.0, 6.0], 3750.0
    )
    assert follow == pytest.approx(22.8 + 19.14 + (3750 - 2520) * 9.0 / 1000)
    # a follow-up core lighter than M_ref: the deepest concentration is extended
    short = esm_soc_t_per_ha(top, bottom, [1.0, 1.0, 1.0], [10.0, 10.0, 5.0], 3500.0)
    assert short == pytest.approx(10 + 10 + 5 + 500 * 5.0 / 1000)
    # coarse fragments remove soil mass
    gravel = esm_soc_t_per_ha([0], [10], [1.2], [10.0], 600.0, coarse_fraction=[0.5])
    assert gravel == pytest.approx(6.0)


def test_t6_tier1_2006_and_2019() -> None:
    for soc_ref, rate in ((63.0, 0.239), (55.0, 0.209)):
        d = tier1_change_tc_per_ha_yr(
            tier1_soc_t_per_ha(soc_ref, 0.69, 1.0, 1.11),
            tier1_soc_t_per_ha(soc_ref, 0.69, 1.0, 1.0),
        )
        assert float(d) == pytest.approx(rate, abs=5e-4)
    comps = {"tier1:lac:upland:full:high": 1.0, "tier1:lac:upland:full:medium": -1.0}
    pools = METHODOLOGY.pool_values(comps, _params(soc_change_method="tier1"))
    assert pools["soc_change"] == pytest.approx(55 * 0.69 * 0.11 / 20)
    assert pools["soc_change"] * 44 / 12 == pytest.approx(0.765, abs=5e-4)
    pools = METHODOLOGY.pool_values(
        comps, _params(soc_change_method="tier1", **{"soc_ref_tc_per_ha.lac": 63})
    )
    assert pools["soc_change"] * 44 / 12 == pytest.approx(0.877, abs=5e-4)


def test_t12_biochar_and_temperature_classes() -> None:
    assert float(biochar_persistent_c_t(10, 0.77, 0.80)) == pytest.approx(6.16)
    assert float(biochar_persistent_c_t(10, 0.77, 0.80)) * 44 / 12 == pytest.approx(22.59, abs=5e-3)
    assert list(biochar_temperature_class([350, 450, 451, 600, 601])) == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
    ]


def test_t5_t14_rice_ch4() -> None:
    sf_o = float(rice_sf_o([5.0], [0.19]))
    assert sf_o == pytest.approx(1.95**0.59) and round(sf_o, 5) == 1.48293
    ef = float(rice_ef_kg_ch4_per_ha_day(1.32, 0.71, 1.0, sf_o))
    assert round(ef, 5) == 1.38980
    assert float(rice_ch4_kg_per_ha(ef, 120)) == pytest.approx(166.78, abs=5e-3)
    assert float(rice_ch4_kg_per_ha(ef, 112)) == pytest.approx(155.66, abs=5e-3)
    comps = {"rice_days_x_sf_o:single_drainage:dry_lt180d": 120 * sf_o}
    assert METHODOLOGY.pool_values(comps, _params(gwp_set="AR6"))["paddy_ch4"] == pytest.approx(
        166.776 * 27.0 / 1000, abs=1e-4
    )
    assert METHODOLOGY.pool_values(comps, _params())["paddy_ch4"] == pytest.approx(
        166.776 * 28.0 / 1000, abs=1e-4
    )
    t14 = METHODOLOGY.pool_values(
        {"rice_days_x_sf_o:continuous:dry_lt180d": 113.0},
        _params(gwp_set="AR6", **{"rice.ef_c_kg_ch4_per_ha_day": 1.19}),
    )
    assert t14["paddy_ch4"] * 1000 == pytest.approx(3630.69, abs=5e-3)


def test_n2o_arithmetic_t11_style() -> None:
    """450 kg synthetic N on an upland plot, wet climate, AR6: by hand."""
    comps = {
        "n_synthetic_nonflooded_kg_per_ha_yr": 450.0,
        "n_other_nonflooded_kg_per_ha_yr": 0.0,
        "n_synthetic_all_kg_per_ha_yr": 450.0,
        "n_organic_all_kg_per_ha_yr": 0.0,
        "n_all_kg_per_ha_yr": 450.0,
    }
    n2o_n = 450 * 0.016 + 450 * 0.11 * 0.014 + 450 * 0.24 * 0.011
    got = METHODOLOGY.pool_values(comps, _params(gwp_set="AR6"))["n2o"]
    assert got == pytest.approx(n2o_n * 44 / 28 * 273 / 1000)
    agg = METHODOLOGY.pool_values(comps, _params(n2o_ef1_scheme="aggregated"))["n2o"]
    assert agg == pytest.approx(
        (450 * 0.010 + 450 * 0.11 * 0.014 + 450 * 0.24 * 0.011) * 44 / 28 * 265 / 1000
    )


# --------------------------------------------------------------------------- CLI helpers
def _write_tables(tmp_path: Path, **frames: pd.DataFrame) -> dict[str, Path]:
    paths = dict(TABLES)
    for name, frame in frames.items():
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


def _estimate(cli, paths: dict[str, Path], *extra: str) -> tuple[int, dict]:
    args = ["plots", "estimate", "-m", "farmland-soc", *GEO, "--json"]
    for name, path in paths.items():
        args += [f"--{name}", str(path)]
    code, out, _ = cli(*args, *extra)
    return code, json.loads(out)


def _problems(data: dict) -> set[tuple[str, int | None, str | None, str]]:
    return {
        (Path(p["file"]).name if p["file"] else "", p["row"], p["column"], p["severity"])
        for p in data["problems"]
    }


def _reasons(data: dict) -> list[str]:
    return [p["reason"] for p in data["problems"]]


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(TABLES[name], dtype=str, keep_default_na=False)


# --------------------------------------------------------------------------- bad inputs
def test_bad_core_values_are_located(cli, tmp_path: Path) -> None:
    cores = _read("cores")
    cores.loc[0, "bulk_density_g_cm3"] = "3.1"  # row 2: impossible
    cores.loc[1, "depth_top_cm"] = "12"  # row 3: gap below the 0-10 layer
    cores.loc[5, "round"] = "midterm"  # row 7: not a choice
    cores.loc[9, "depth_bottom_cm"] = "25"  # row 11: PS02 baseline ends at 25 cm, not 30
    code, data = _estimate(cli, _write_tables(tmp_path, cores=cores))
    assert code == 2
    got = _problems(data)
    assert ("cores.csv", 2, "bulk_density_g_cm3", "error") in got
    assert ("cores.csv", 7, "round", "error") in got
    assert any("not one of baseline, followup" in r for r in _reasons(data))
    # cross-field checks run once the schema errors are fixed
    cores.loc[0, "bulk_density_g_cm3"] = "1.03"
    cores.loc[5, "round"] = "followup"
    code, data = _estimate(cli, _write_tables(tmp_path, cores=cores))
    assert code == 2
    got = _problems(data)
    assert ("cores.csv", 3, "depth_top_cm", "error") in got
    gap = (
        "layer starts at 12 cm but the layer above ends at 10 cm (gap or overlap; check "
        "core_id and round)"
    )
    assert gap in _reasons(data)
    assert ("cores.csv", 11, "depth_bottom_cm", "error") in got
    assert any(
        "baseline core ends at 25 cm, above reference_depth_cm = 30" in r for r in _reasons(data)
    )


def test_missing_column_and_bad_management(cli, tmp_path: Path) -> None:
    cores = _read("cores").drop(columns=["soc_g_per_kg"])
    code, data = _estimate(cli, _write_tables(tmp_path, cores=cores))
    assert code == 2
    assert ("cores.csv", 1, "soc_g_per_kg", "error") in _problems(data)
    assert "missing required column soc_g_per_kg" in _reasons(data)

    mg = _read("management")
    mg.loc[0, "land_use"] = "rice"  # row 2
    mg.loc[1, "water_regime"] = ""  # row 3: paddy without water regime
    mg.loc[14, "biochar_feedstock"] = ""  # row 16: biochar without feedstock
    mg.loc[15, "rice_synthetic_n_kg_per_ha"] = "100"  # row 17: rice N on an upland plot
    mg.loc[16, "biochar_temperature_c"] = "300"  # row 18: not biochar
    mg.loc[2, "straw_within_30d_dm_t_per_ha"] = "20"  # row 4: more than the straw returned
    code, data = _estimate(cli, _write_tables(tmp_path, management=mg))
    assert code == 2
    got = _problems(data)
    assert ("management.csv", 2, "land_use", "error") in got
    assert ("management.csv", 18, "biochar_temperature_c", "error") in got
    mg.loc[0, "land_use"] = "paddy"
    mg.loc[16, "biochar_temperature_c"] = "500"
    code, data = _estimate(cli, _write_tables(tmp_path, management=mg))
    assert code == 2
    got = _problems(data)
    assert ("management.csv", 3, "water_regime", "error") in got
    assert ("management.csv", 16, "biochar_feedstock", "error") in got
    assert ("management.csv", 17, "rice_synthetic_n_kg_per_ha", "error") in got
    assert ("management.csv", 4, "straw_within_30d_dm_t_per_ha", "error") in got
    assert {e for e in got if e[3] == "error"} == {
        ("management.csv", 3, "water_regime", "error"),
        ("management.csv", 16, "biochar_feedstock", "error"),
        ("management.csv", 17, "rice_synthetic_n_kg_per_ha", "error"),
        ("management.csv", 4, "straw_within_30d_dm_t_per_ha", "error"),
    }


def test_unpaired_rounds_dates_and_missing_management(cli, tmp_path: Path) -> None:
    cores = _read("cores")
    ub12 = (cores.plot_id == "UB12") & (cores["round"] == "followup")
    cores = cores.loc[~ub12]  # UB12 loses its follow-up
    ps01 = (cores.plot_id == "PS01") & (cores["round"] == "followup")
    cores.loc[ps01, "sample_date"] = "2019-05-01"  # before its baseline
    mg = _read("management")
    mg = mg.loc[mg.plot_id != "PS14"]
    code, data = _estimate(cli, _write_tables(tmp_path, cores=cores, management=mg))
    assert code == 2
    got = _problems(data)
    assert ("plots.csv", 27, "plot_id", "error") in got  # UB12: no follow-up cores
    assert ("plots.csv", 15, "plot_id", "error") in got  # PS14: no management row
    assert ("cores.csv", 5, "sample_date", "error") in got  # PS01 follow-up rows 5-8
    reasons = _reasons(data)
    assert any("no follow-up cores" in r for r in reasons)
    assert any(r.startswith("plot has no row in") and r.endswith("management.csv") for r in reasons)


def test_tier1_requires_its_class_columns(cli, tmp_path: Path) -> None:
    mg = _read("management")
    mg.loc[3, "baseline_input_level"] = ""
    paths = _write_tables(tmp_path, management=mg)
    code, data = _estimate(cli, paths, "--param", "soc_change_method=tier1")
    assert code == 2
    assert ("management.csv", 5, "baseline_input_level", "error") in _problems(data)
    code, _ = _estimate(cli, paths)  # the default measured method does not need it
    assert code == 0


# --------------------------------------------------------------------------- overrides, switches
def test_tier1_switch_by_hand(cli) -> None:
    code, data = _estimate(cli, dict(TABLES), "--param", "soc_change_method=tier1")
    assert code == 0
    rows = pd.DataFrame(data["plots"]).set_index("plot_id")
    # paddy: HAC 64 · 1.35 · 1.00 · (1.11 − 1.00) / 20; upland high_manure → high_manure: 0
    assert rows.loc["PS03", "soc_change_per_ha"] == pytest.approx(64 * 1.35 * 0.11 / 20)
    assert rows.loc["UB03", "soc_change_per_ha"] == pytest.approx(0.0)
    assert "f_i.high" in data["monte_carlo"]["varied_parameters"]
    assert any("tier1" in w for w in data["warnings"])
    ref = _independent()
    # biochar still credited on top of Tier 1; N2O now has no F_SOM for upland SOC losses
    assert rows.loc["UB03", "biochar_per_ha"] == pytest.approx(ref.loc["UB03", "biochar"])


def test_parameter_override_scales_ch4_by_hand(cli, example_result) -> None:
    code, data = _estimate(cli, dict(TABLES), "--param", "rice.ef_c_kg_ch4_per_ha_day=1.0")
    assert code == 0
    base = pd.DataFrame(example_result["plots"]).set_index("plot_id")["paddy_ch4_per_ha"]
    new = pd.DataFrame(data["plots"]).set_index("plot_id")["paddy_ch4_per_ha"]
    np.testing.assert_allclose(new, base / 1.32, atol=1e-6)
    assert (
        data["parameter_details"][
            [d["name"] for d in data["parameter_details"]].index("rice.ef_c_kg_ch4_per_ha_day")
        ]["evidence"]
        == "user"
    )


def test_reference_depth_override_by_hand(cli) -> None:
    code, data = _estimate(cli, dict(TABLES), "--param", "reference_depth_cm=20")
    assert code == 0
    rows = pd.DataFrame(data["plots"]).set_index("plot_id")
    # PS01: M_ref = 1030 + 1240 = 2270 t; follow-up 1010 + 1190 = 2200 t, then 70 t at 11.0 g/kg
    assert rows.loc["PS01", "soil_mass_ref_t_per_ha"] == pytest.approx(2270.0)
    assert rows.loc["PS01", "soc_baseline_tc_per_ha"] == pytest.approx(20.497 + 21.7)
    assert rows.loc["PS01", "soc_stock_tc_per_ha"] == pytest.approx(19.19 + 20.111 + 0.77)


def test_gwp_switch(cli, example_result) -> None:
    base = pd.DataFrame(example_result["plots"]).set_index("plot_id")
    for extra, ch4, n2o in (
        ((), 27.0 / 28.0, 273.0 / 265.0),
        (("--param", "ar6_biogenic_ch4=27.9"), 27.9 / 28.0, 273.0 / 265.0),
    ):
        code, data = _estimate(cli, dict(TABLES), "--param", "gwp_set=AR6", *extra)
        assert code == 0
        rows = pd.DataFrame(data["plots"]).set_index("plot_id")
        np.testing.assert_allclose(
            rows["paddy_ch4_per_ha"], base["paddy_ch4_per_ha"] * ch4, atol=1e-6
        )
        np.testing.assert_allclose(rows["n2o_per_ha"], base["n2o_per_ha"] * n2o, atol=1e-6)
        assert data["parameters"]["gwp_set"] == "AR6"
    code, _, err = cli(
        "plots",
        "estimate",
        "-m",
        "farmland-soc",
        "--plots",
        TABLES["plots"],
        "--management",
        TABLES["management"],
        *GEO,
        "--param",
        "gwp_set=AR7",
    )
    assert code == 2 and "gwp_set" in err


# --------------------------------------------------------------------------- omitted pools
def test_only_baseline_cores_and_tier1(cli, tmp_path: Path) -> None:
    cores = _read("cores")
    cores = cores.loc[cores["round"] == "baseline"]
    paths = _write_tables(tmp_path, cores=cores)
    code, data = _estimate(cli, paths)
    assert code == 0
    status = {p["pool"]: p for p in data["pools"]}
    assert status["soc_change"]["status"] == "omitted"
    assert "follow-up cores" in status["soc_change"]["reason"]
    rows = pd.DataFrame(data["plots"]).set_index("plot_id")
    assert rows.loc["PS01", "soc_stock_per_ha"] == pytest.approx(20.497 + 21.7 + 14.796)
    assert "soc_change_per_ha" not in rows.columns
    # Tier 1 on request gives the change from the baseline cores' survey
    code, data = _estimate(cli, paths, "--param", "soc_change_method=tier1")
    assert code == 0
    rows = pd.DataFrame(data["plots"]).set_index("plot_id")
    assert rows.loc["PS01", "soc_change_per_ha"] == pytest.approx(64 * 1.35 * 0.11 / 20)
    assert not any("tier1" in w for w in data["warnings"])  # no measured change to compare
    # the cores table is required (at least its baseline round)
    code, out, _ = cli(
        "plots",
        "estimate",
        "-m",
        "farmland-soc",
        "--plots",
        TABLES["plots"],
        "--management",
        TABLES["management"],
        *GEO,
        "--json",
    )
    assert code == 2
    assert any(
        "required table 'cores' was not supplied" in p["reason"]
        for p in json.loads(out)["problems"]
    )


def test_two_cores_per_plot_and_default_rice_days(cli, tmp_path: Path) -> None:
    """Two cores per round are averaged at the plot's mean baseline mass; a blank rice_days
    uses the IPCC East Asia default with a warning."""
    plots = pd.DataFrame(
        {
            "plot_id": ["A", "B"],
            "stratum": ["s", "s"],
            "plot_area_m2": [667, 667],
            "lon": [120.26, 120.262],
            "lat": [30.79, 30.791],
            "survey_date": ["2025-10-01"] * 2,
        }
    )
    rows = []
    for pid in ("A", "B"):
        for core, bd in (("1", 1.0), ("2", 1.2)):
            rows.append([pid, core, "baseline", "2020-10-01", 0, 20, bd, 10.0])
            rows.append([pid, core, "followup", "2025-10-01", 0, 20, bd + 0.1, 12.0])
            rows.append([pid, core, "followup", "2025-10-01", 20, 40, 1.4, 5.0])
    cores = pd.DataFrame(
        rows,
        columns=[
            "plot_id",
            "core_id",
            "round",
            "sample_date",
            "depth_top_cm",
            "depth_bottom_cm",
            "bulk_density_g_cm3",
            "soc_g_per_kg",
        ],
    )
    mg = pd.DataFrame(
        {
            "plot_id": ["A", "B"],
            "land_use": ["paddy", "paddy"],
            "water_regime": ["continuous"] * 2,
            "preseason_water": ["dry_lt180d"] * 2,
            "rice_days": ["", "100"],
        }
    )
    strata = pd.DataFrame({"stratum": ["s"], "area_ha": [10.0]})
    paths = {}
    for name, frame in (("plots", plots), ("cores", cores), ("management", mg), ("strata", strata)):
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    code, data = _estimate(cli, paths, "--param", "reference_depth_cm=20")
    assert code == 0
    row = pd.DataFrame(data["plots"]).set_index("plot_id").loc["A"]
    m_ref = (2000 + 2400) / 2  # mean baseline mass to 20 cm
    assert row["soil_mass_ref_t_per_ha"] == pytest.approx(m_ref)
    # baseline: core 1 extrapolates 200 t at 10 g/kg, core 2 stops 200 t short
    assert row["soc_baseline_tc_per_ha"] == pytest.approx(m_ref * 10.0 / 1000)
    # follow-up: core 1 (2200 t in 0-20) and core 2 (2600 t): both reach M_ref in layer 1
    assert row["soc_stock_tc_per_ha"] == pytest.approx(m_ref * 12.0 / 1000)
    assert row["paddy_ch4_per_ha"] == pytest.approx(1.32 * 112 * 28 / 1000)
    assert "n2o" not in {p["pool"] for p in data["pools"] if p["status"] == "measured"}
    warnings = {(p["column"], p["severity"]) for p in data["validation_warnings"]}
    assert ("rice_days", "warning") in warnings
    assert any("equivalent soil mass" in w for w in data["warnings"])


def test_two_survey_change_is_refused(cli) -> None:
    """Each survey already holds the SOC change; differencing two surveys would count it twice."""
    spec = EXAMPLE / "example.toml"
    code, _, err = cli("plots", "change", "-m", "farmland-soc", "--before", spec, "--after", spec)
    assert code == 2
    assert "farmland-soc does not support a two-survey change" in err
    assert "would count it twice" in err
