"""wetland: equations against the reference's cases, the bundled example recomputed by hand from
its CSV files, bad inputs (exit code 2 naming file, row and column), parameter overrides, the GWP
switch, measured fluxes and belowground biomass."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import shutil
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from methodologies.parameters import ParamValues
from methodologies.wetland import (
    METHODOLOGY,
    accretion_rate_t_c_per_ha_yr,
    annual_flux_t_per_ha_yr,
    autochthonous_fraction,
    layer_stock_t_c_per_ha,
    oc_from_om_pct,
    ols_slope,
    om_from_oc_pct,
)
from mrv.datums import to_wgs84
from mrv.geo import points_inside, read_boundary
from pipelines.plots import estimate

EXAMPLE = METHODOLOGY.example_dir
DEQING = Path(__file__).resolve().parents[2] / "aoi" / "counties" / "330521.geojson"
CLI = Callable[..., tuple[int, str, str]]
AREA_HA = {"reed-marsh": 62.0, "lotus-emergent": 48.5, "sedge-meadow": 39.5}


# ----------------------------------------------------------------------------- helpers
def _rows(name: str, folder: Path = EXAMPLE) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]], fields: list[str] | None = None) -> Path:
    fields = fields or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _copy_example(tmp: Path) -> Path:
    for name in ("plots.csv", "vegetation.csv", "cores.csv", "strata.csv", "boundary.geojson"):
        shutil.copy(EXAMPLE / name, tmp / name)
    return tmp


def _tables(folder: Path, **extra: Path) -> dict[str, Path]:
    named = {
        "plots": folder / "plots.csv",
        "vegetation": folder / "vegetation.csv",
        "cores": folder / "cores.csv",
        "strata": folder / "strata.csv",
    }
    named.update(extra)
    return named


def _run(folder: Path, settings: Any, params: dict[str, str] | None = None, **extra: Path) -> Any:
    return estimate(
        "wetland",
        named=_tables(folder, **extra),
        params=params or {},
        settings=settings,
        datum="gcj02",
    )


def _cli_args(folder: Path, *more: str) -> list[str]:
    return [
        "plots", "estimate", "-m", "wetland",
        "--plots", str(folder / "plots.csv"),
        "--vegetation", str(folder / "vegetation.csv"),
        "--cores", str(folder / "cores.csv"),
        "--strata", str(folder / "strata.csv"),
        "--datum", "gcj02",
        *more,
        "--json",
    ]  # fmt: skip


def _problems(out: str) -> list[dict[str, Any]]:
    data = json.loads(out)
    assert data["ok"] is False
    return [p for p in data["problems"] if p["severity"] == "error"]


def _pool(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in result["pools"] if p["pool"] == name)


# ------------------------------------------------------------------ hand calculation
def _craft(om: float) -> float:
    return 0.40 * om + 0.0025 * om * om


def _craft_inverse(oc: float) -> float:
    return (-0.40 + math.sqrt(0.16 + 0.01 * oc)) / 0.005


def _share(oc: float, om: float, om_dep: float = 1.5) -> float:
    om_aut = max((om - om_dep) / (1 - om_dep / 100), 0.0)
    return min(max(_craft(om_aut) / oc, 0.0), 1.0)


def _hand(folder: Path = EXAMPLE) -> dict[str, dict[str, float]]:
    """Per-plot vegetation C, gross and autochthonous soil accumulation, plain Python."""
    plots = _rows("plots.csv", folder)
    grams: dict[str, float] = defaultdict(float)
    area: dict[str, float] = defaultdict(float)
    for r in _rows("vegetation.csv", folder):
        grams[r["plot_id"]] += float(r["aboveground_dry_g"])
        area[r["plot_id"]] += float(r["frame_area_m2"])
    acc: dict[str, list[tuple[float, float]]] = defaultdict(list)
    layers: dict[str, list[tuple[int, dt.date, float, float, float]]] = defaultdict(list)
    for r in _rows("cores.csv", folder):
        om_given = r["organic_matter_pct"] != ""
        oc = (
            float(r["organic_carbon_pct"])
            if r["organic_carbon_pct"]
            else _craft(float(r["organic_matter_pct"]))
        )
        om = float(r["organic_matter_pct"]) if om_given else _craft_inverse(oc)
        bd = float(r["bulk_density_g_cm3"])
        if r["method"] == "accretion":
            rate = float(r["accretion_cm_per_yr"]) * bd * oc
            acc[r["plot_id"]].append((rate, rate * _share(oc, om)))
        else:
            top, bottom = float(r["top_cm"]), float(r["bottom_cm"])
            layers[r["plot_id"]].append(
                (
                    int(r["survey_round"]),
                    dt.date.fromisoformat(r["sample_date"]),
                    top,
                    oc * bd * (bottom - top),
                    _share(oc, om),
                )
            )
    out: dict[str, dict[str, float]] = {}
    for p in plots:
        pid = p["plot_id"]
        veg = grams[pid] / area[pid] * 0.01 * 0.47 if area[pid] else 0.0
        if pid in acc:
            gross = sum(a for a, _ in acc[pid]) / len(acc[pid])
            aut = sum(b for _, b in acc[pid]) / len(acc[pid])
        else:
            rows = layers[pid]
            first, last = min(r[0] for r in rows), max(r[0] for r in rows)
            c1 = sum(r[3] for r in rows if r[0] == first)
            c2 = sum(r[3] for r in rows if r[0] == last)
            d1 = next(r[1] for r in rows if r[0] == first)
            d2 = next(r[1] for r in rows if r[0] == last)
            gross = (c2 - c1) / ((d2 - d1).days / 365.25)
            surface = next(r[4] for r in rows if r[0] == last and r[2] == 0)
            aut = gross * surface if gross > 0 else gross
        out[pid] = {
            "veg": veg,
            "gross": gross,
            "aut": aut,
            "net": aut * 44 / 12 - 0.235 * 28 - 0.000864 * 265,
        }
    return out


def _strata(folder: Path = EXAMPLE) -> dict[str, str]:
    return {p["plot_id"]: p["stratum"] for p in _rows("plots.csv", folder)}


def _stratified(values: dict[str, float], strata: dict[str, str]) -> dict[str, Any]:
    by: dict[str, list[float]] = defaultdict(list)
    for pid, v in values.items():
        by[strata[pid]].append(v)
    total, var, terms = 0.0, 0.0, []
    per = {}
    for name, xs in by.items():
        n = len(xs)
        mean = sum(xs) / n
        sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
        se = sd / math.sqrt(n)
        per[name] = (mean, stats.t.ppf(0.95, n - 1) * se)
        a = AREA_HA[name]
        total += a * mean
        var += (a * se) ** 2
        terms.append(((a * se) ** 2, n - 1))
    df = var**2 / sum(v * v / d for v, d in terms)
    return {"per": per, "total": total, "hw": stats.t.ppf(0.95, df) * math.sqrt(var), "df": df}


# ------------------------------------------------------------------------ equations
def test_craft_cases_t8_and_inverse() -> None:
    np.testing.assert_allclose(oc_from_om_pct([5.0, 10.0, 20.0]), [2.0625, 4.25, 9.0])
    assert float(om_from_oc_pct(4.25)) == pytest.approx(10.0, abs=1e-9)
    om = np.array([0.5, 3.0, 17.0, 55.0])
    np.testing.assert_allclose(om_from_oc_pct(oc_from_om_pct(om)), om)


def test_t7_tidal_default_is_only_a_unit_conversion() -> None:
    assert 1.46 * 44 / 12 == pytest.approx(5.353, abs=5e-4)
    assert all(q.value != 1.46 for q in METHODOLOGY.parameters.values())


def test_layer_stock_unit_bookkeeping() -> None:
    # VM0033 printed form C·BD·Depth·10 with a mass fraction, BD kg/m³, depth m: 60 t C/ha
    assert float(layer_stock_t_c_per_ha(2.0, 1.0, 30.0)) == pytest.approx(0.02 * 1000 * 0.3 * 10)
    # 1 cm of 0.5 g/cm³ at 4 % C: 0.04 × 0.5 g/cm² = 0.02 g C/cm² = 2 t C/ha
    assert float(accretion_rate_t_c_per_ha_yr(1.0, 0.5, 4.0)) == pytest.approx(2.0)
    # Chinese lakes: 22 g C/m²/yr is 0.22 t C/ha/yr
    assert float(accretion_rate_t_c_per_ha_yr(0.1, 1.0, 2.2)) == pytest.approx(0.22)


def test_flux_conversion_and_the_vm0033_eq100_factor() -> None:
    # 235 kg CH4/ha/yr = 23.5 g/m²/yr = 64.38 mg/m²/d
    assert float(annual_flux_t_per_ha_yr(23_500.0 / 365.0)) == pytest.approx(0.235)
    assert float(annual_flux_t_per_ha_yr(1.0)) == pytest.approx(365 * 1e-5)


def test_autochthonous_share() -> None:
    # organic matter at or below that of deposited sediment: all allochthonous
    np.testing.assert_allclose(autochthonous_fraction([1.0, 0.4], [1.5, 1.0], 1.5), [0.0, 0.0])
    # no deposited organic matter: all autochthonous
    assert float(autochthonous_fraction(4.25, 10.0, 0.0)) == pytest.approx(1.0)
    # 10 % OM, depsed 1.5: OM_aut = 8.5/0.985 = 8.6294, C_aut = 3.4518 + 0.18617 = 3.63797
    om_aut = 8.5 / 0.985
    expected = (0.4 * om_aut + 0.0025 * om_aut**2) / 4.25
    assert float(autochthonous_fraction(4.25, 10.0, 1.5)) == pytest.approx(expected)
    assert expected == pytest.approx(0.85599, abs=1e-5)


def test_ols_slope_matches_linregress() -> None:
    x = [0.0, 5.0, 1.0, 3.0, 6.0, 2.0]
    y = [10.0, 12.0, 5.0, 5.5, 7.0, 4.0]
    g = [0, 0, 1, 1, 1, 2]
    slope = ols_slope(g, x, y, 4)
    assert slope[0] == pytest.approx(0.4)
    assert slope[1] == pytest.approx(stats.linregress([1.0, 3.0, 6.0], [5.0, 5.5, 7.0]).slope)
    assert math.isnan(slope[2]) and math.isnan(slope[3])


# -------------------------------------------------------------- the bundled example
def test_example_plots_inside_deqing_and_boundary() -> None:
    plots = _rows("plots.csv")
    lon, lat = to_wgs84(
        np.array([float(p["lon"]) for p in plots]),
        np.array([float(p["lat"]) for p in plots]),
        "gcj02",
    )
    assert points_inside(read_boundary(DEQING, "gcj02"), lon, lat).all()
    assert points_inside(read_boundary(EXAMPLE / "boundary.geojson", "gcj02"), lon, lat).all()
    assert sum(AREA_HA.values()) == pytest.approx(150.0)  # 2,250 mu


def test_example_recomputed_by_hand(settings: Any) -> None:
    hand = _hand()
    strata = _strata()
    r = _run(EXAMPLE, settings)
    by_plot = {p["plot_id"]: p for p in r["plots"]}
    for pid, v in hand.items():
        got = by_plot[pid]
        assert got["vegetation_aboveground_per_ha"] == pytest.approx(v["veg"], abs=2e-6)
        assert got["soil_c_gross_t_c_per_ha_yr"] == pytest.approx(v["gross"], abs=2e-6)
        assert got["soil_carbon_accumulation_per_ha"] == pytest.approx(v["aut"], abs=2e-6)
        assert got["ch4_per_ha"] == pytest.approx(6.58)
        assert got["n2o_per_ha"] == pytest.approx(0.22896)
    veg = _stratified({k: v["veg"] for k, v in hand.items()}, strata)
    for s in r["strata"]:
        mean, hw = veg["per"][s["stratum"]]
        assert s["mean_tc_per_ha"] == pytest.approx(mean, abs=1e-6)
        assert s["ci90_half_width_tc_per_ha"] == pytest.approx(hw, abs=1e-6)
    assert r["total"]["carbon_t"] == pytest.approx(veg["total"], rel=1e-7)
    assert r["total"]["ci90_half_width_carbon_t"] == pytest.approx(veg["hw"], rel=1e-6)
    assert r["total"]["df"] == pytest.approx(veg["df"], abs=1e-3)
    net = _stratified({k: v["net"] for k, v in hand.items()}, strata)
    for s in r["annual"]["strata"]:
        mean, hw = net["per"][s["stratum"]]
        assert s["mean_tco2e_per_ha_yr"] == pytest.approx(mean, abs=1e-6)
        assert s["ci90_half_width_tco2e_per_ha_yr"] == pytest.approx(hw, abs=1e-6)
    total = r["annual"]["total"]
    assert total["net_tco2e_per_yr"] == pytest.approx(net["total"], rel=1e-7)
    assert total["ci90_half_width_tco2e_per_yr"] == pytest.approx(net["hw"], rel=1e-6)
    assert total["net_tco2e_per_yr"] < 0  # the default CH4 makes the lake a net source
    assert _pool(r, "vegetation_belowground")["status"] == "omitted"
    assert _pool(r, "ch4")["total"] == pytest.approx(0.235 * 28 * 150)
    assert _pool(r, "ch4")["status"] == "default"  # no chamber data: reported as a default
    assert _pool(r, "n2o")["status"] == "default"
    assert _pool(r, "soil_carbon_accumulation")["status"] == "measured"
    # the deduction of the net uses the wider Monte Carlo interval (default-factor spread)
    deduction = total["uncertainty_deduction"]
    assert deduction["basis"] == "monte_carlo"
    mc_half = (total["mc_ci90_high_tco2e_per_yr"] - total["mc_ci90_low_tco2e_per_yr"]) / 2
    assert deduction["conservative_value"] == pytest.approx(total["net_tco2e_per_yr"] - mc_half)
    assert r["annual"]["sampling"]["n_required"] >= 2
    assert set(r["unconfirmed_parameters"]) == {
        "carbon_fraction",
        "om_deposited_sediment_pct",
        "ch4_default_kg_ch4_per_ha_yr",
        "gwp_set",
    }
    assert any("LE05" in w for w in r["warnings"])


def test_generator_reproduces_the_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tools.make_wetland_example as gen

    monkeypatch.setattr(gen, "OUT", tmp_path)
    gen.main()
    for name in ("plots.csv", "vegetation.csv", "cores.csv", "strata.csv", "boundary.geojson"):
        assert (tmp_path / name).read_bytes() == (EXAMPLE / name).read_bytes(), name


def test_cli_estimate_on_the_example(cli: CLI) -> None:
    code, out, _ = cli(
        *_cli_args(
            EXAMPLE, "--boundary", str(EXAMPLE / "boundary.geojson"), "--boundary-datum", "gcj02"
        )
    )
    assert code == 0
    r = json.loads(out)
    assert r["methodology"]["id"] == "wetland"
    assert r["annual"]["total"]["net_tco2e_per_yr"] == pytest.approx(-858.0985, abs=1e-3)


# ------------------------------------------------------------------- parameter overrides
def test_overrides_change_the_result_as_by_hand(settings: Any) -> None:
    base = _run(EXAMPLE, settings)
    net0 = base["annual"]["total"]["net_tco2e_per_yr"]
    no_ch4 = _run(EXAMPLE, settings, {"ch4_default_kg_ch4_per_ha_yr": "0"})
    assert no_ch4["annual"]["total"]["net_tco2e_per_yr"] == pytest.approx(net0 + 6.58 * 150)
    assert "ch4_default_kg_ch4_per_ha_yr" not in no_ch4["unconfirmed_parameters"]
    gross = _run(EXAMPLE, settings, {"deduct_allochthonous_carbon": "false"})
    soil = _pool(gross, "soil_carbon_accumulation")
    by_stratum: dict[str, list[float]] = defaultdict(list)
    strata = _strata()
    for pid, v in _hand().items():
        by_stratum[strata[pid]].append(v["gross"])
    hand_gross = sum(AREA_HA[s] * sum(xs) / len(xs) for s, xs in by_stratum.items())
    assert soil["total"] == pytest.approx(hand_gross, rel=1e-7)
    assert hand_gross == pytest.approx(60.13, abs=0.01)
    cf = _run(EXAMPLE, settings, {"carbon_fraction": "0.45"})
    assert cf["total"]["carbon_t"] == pytest.approx(base["total"]["carbon_t"] * 0.45 / 0.47)


def test_om_deposited_sediment_override(settings: Any) -> None:
    # RM01: 2.63 % C, inverse Craft %OM; with %OM_depsed = 3 the share falls
    r = _run(EXAMPLE, settings, {"om_deposited_sediment_pct": "3.0"})
    rm01 = next(p for p in r["plots"] if p["plot_id"] == "RM01")
    om = _craft_inverse(2.63)
    expected = 0.298 * 0.604 * 2.63 * _share(2.63, om, 3.0)
    assert rm01["soil_carbon_accumulation_per_ha"] == pytest.approx(expected, abs=2e-6)
    assert expected < 0.298 * 0.604 * 2.63 * _share(2.63, om, 1.5)


def test_gwp_set_switch(settings: Any) -> None:
    ar6 = _run(EXAMPLE, settings, {"gwp_set": "AR6"})
    assert _pool(ar6, "ch4")["total"] == pytest.approx(0.235 * 27.0 * 150)
    assert _pool(ar6, "n2o")["total"] == pytest.approx(0.000864 * 273 * 150)
    assert ar6["parameters"]["ar6_biogenic_ch4"] == 27.0
    ar6b = _run(EXAMPLE, settings, {"gwp_set": "AR6", "ar6_biogenic_ch4": "27.9"})
    assert _pool(ar6b, "ch4")["total"] == pytest.approx(0.235 * 27.9 * 150)
    ar5 = _run(EXAMPLE, settings)
    assert "ar6_biogenic_ch4" not in ar5["parameters"]
    delta = ar6["annual"]["total"]["net_tco2e_per_yr"] - ar5["annual"]["total"]["net_tco2e_per_yr"]
    assert delta == pytest.approx(150 * (0.235 * (28 - 27.0) + 0.000864 * (265 - 273)))


def test_bad_ar6_biogenic_value(cli: CLI) -> None:
    code, out, _ = cli(
        *_cli_args(EXAMPLE, "--param", "gwp_set=AR6", "--param", "ar6_biogenic_ch4=27.5")
    )
    assert code == 2
    assert any(p["column"] == "ar6_biogenic_ch4" for p in _problems(out))


def test_unknown_gwp_set_is_refused(cli: CLI) -> None:
    code, _, err = cli(*_cli_args(EXAMPLE, "--param", "gwp_set=AR4"))
    assert code == 2
    assert "gwp_set" in err


# ------------------------------------------------------------------------- bad inputs
def _edit(tmp: Path, table: str, row: int, **values: str) -> Path:
    """Copy the example and set columns of data row ``row`` (spreadsheet row = row + 2)."""
    folder = _copy_example(tmp)
    rows = _rows(f"{table}.csv", folder)
    rows[row].update(values)
    _write(folder / f"{table}.csv", rows)
    return folder


def _one_error(cli: CLI, folder: Path) -> dict[str, Any]:
    code, out, _ = cli(*_cli_args(folder))
    assert code == 2
    errors = _problems(out)
    assert errors, out
    return errors[0]


def test_wrong_vegetation_type(cli: CLI, tmp_path: Path) -> None:
    folder = _edit(tmp_path, "vegetation", 4, veg_type="reeds")
    p = _one_error(cli, folder)
    assert p["file"].endswith("vegetation.csv") and p["row"] == 6 and p["column"] == "veg_type"
    assert "reeds" in p["reason"]


def test_out_of_range_bulk_density(cli: CLI, tmp_path: Path) -> None:
    folder = _edit(tmp_path, "cores", 2, bulk_density_g_cm3="3.1")
    p = _one_error(cli, folder)
    assert p["file"].endswith("cores.csv") and p["row"] == 4
    assert p["column"] == "bulk_density_g_cm3"


def test_missing_column(cli: CLI, tmp_path: Path) -> None:
    folder = _copy_example(tmp_path)
    rows = _rows("cores.csv", folder)
    fields = [f for f in rows[0] if f != "bulk_density_g_cm3"]
    _write(folder / "cores.csv", rows, fields)
    p = _one_error(cli, folder)
    assert p["file"].endswith("cores.csv") and p["column"] == "bulk_density_g_cm3"
    assert "missing" in p["reason"]


def test_young_marker_horizon(cli: CLI, tmp_path: Path) -> None:
    folder = _edit(tmp_path, "cores", 0, reference_age_yr="2.0")
    p = _one_error(cli, folder)
    assert (p["row"], p["column"]) == (2, "reference_age_yr")
    assert "4 yr" in p["reason"]


def test_accretion_row_without_rate_or_carbon(cli: CLI, tmp_path: Path) -> None:
    folder = _edit(tmp_path, "cores", 1, accretion_cm_per_yr="", organic_carbon_pct="")
    code, out, _ = cli(*_cli_args(folder))
    assert code == 2
    located = {(p["row"], p["column"]) for p in _problems(out)}
    assert located == {(3, "accretion_cm_per_yr"), (3, "organic_carbon_pct")}


def test_plot_without_core(cli: CLI, tmp_path: Path) -> None:
    folder = _copy_example(tmp_path)
    rows = [r for r in _rows("cores.csv", folder) if r["plot_id"] != "RM03"]
    _write(folder / "cores.csv", rows)
    p = _one_error(cli, folder)
    assert p["file"].endswith("plots.csv") and p["row"] == 4 and p["column"] == "plot_id"


def test_one_method_per_plot(cli: CLI, tmp_path: Path) -> None:
    folder = _copy_example(tmp_path)
    rows = _rows("cores.csv", folder)
    extra = dict(rows[0]) | {"method": "stock"}
    extra.update(survey_round="1", sample_date="2019-09-01", top_cm="0", bottom_cm="10")
    _write(folder / "cores.csv", [*rows, extra])
    code, out, _ = cli(*_cli_args(folder))
    assert code == 2
    assert {(p["row"], p["column"]) for p in _problems(out)} == {
        (2, "method"),
        (len(rows) + 2, "method"),
    }


def test_stock_plot_with_a_single_round(cli: CLI, tmp_path: Path) -> None:
    folder = _copy_example(tmp_path)
    rows = [
        r
        for r in _rows("cores.csv", folder)
        if not (r["plot_id"] == "LE03" and r["survey_round"] == "2")
    ]
    _write(folder / "cores.csv", rows)
    code, out, _ = cli(*_cli_args(folder))
    assert code == 2
    errors = _problems(out)
    assert {p["column"] for p in errors} == {"survey_round"}
    assert len(errors) == 2  # both layers of LE03's only round


def test_stock_rounds_with_different_depths(cli: CLI, tmp_path: Path) -> None:
    folder = _copy_example(tmp_path)
    rows = _rows("cores.csv", folder)
    idx = next(
        i
        for i, r in enumerate(rows)
        if r["plot_id"] == "LE02" and r["survey_round"] == "2" and r["top_cm"] == "15"
    )
    rows[idx]["bottom_cm"] = "25"
    _write(folder / "cores.csv", rows)
    code, out, _ = cli(*_cli_args(folder))
    assert code == 2
    errors = _problems(out)
    assert {p["column"] for p in errors} == {"bottom_cm"}
    assert {p["row"] for p in errors} == {
        i + 2 for i, r in enumerate(rows) if r["plot_id"] == "LE02"
    }


def test_overlapping_layers(cli: CLI, tmp_path: Path) -> None:
    folder = _copy_example(tmp_path)
    rows = _rows("cores.csv", folder)
    for r in rows:
        if r["plot_id"] == "LE01" and r["top_cm"] == "15":
            r["top_cm"] = "10"
    _write(folder / "cores.csv", rows)
    code, out, _ = cli(*_cli_args(folder))
    assert code == 2
    assert {p["column"] for p in _problems(out)} == {"top_cm"}


def test_belowground_given_for_some_frames_only(cli: CLI, tmp_path: Path) -> None:
    folder = _copy_example(tmp_path)
    rows = _rows("vegetation.csv", folder)
    for i, r in enumerate(rows):
        r["belowground_dry_g"] = "3000" if i else ""
    _write(folder / "vegetation.csv", rows)
    p = _one_error(cli, folder)
    assert (p["row"], p["column"]) == (2, "belowground_dry_g")


# ---------------------------------------------------------- measured pools and flags
def test_measured_fluxes_replace_the_defaults(tmp_path: Path, settings: Any) -> None:
    folder = _copy_example(tmp_path)
    reed = [p["plot_id"] for p in _rows("plots.csv", folder) if p["stratum"] == "reed-marsh"]
    rows = []
    for k, pid in enumerate(reed):
        for month, flux in ((6, 20.0 + k), (8, 40.0 + k), (10, 12.0)):
            rows.append(
                {
                    "plot_id": pid,
                    "gas": "ch4",
                    "flux_mg_m2_d": str(flux),
                    "campaign_date": f"2024-{month:02d}-15",
                }
            )
        rows.append(
            {"plot_id": pid, "gas": "n2o", "flux_mg_m2_d": "0.2", "campaign_date": "2024-08-15"}
        )
    fluxes = _write(folder / "fluxes.csv", rows)
    r = _run(folder, settings, fluxes=fluxes)
    by_plot = {p["plot_id"]: p for p in r["plots"]}
    for k, pid in enumerate(reed):
        mean_daily = (20.0 + k + 40.0 + k + 12.0) / 3
        assert by_plot[pid]["ch4_per_ha"] == pytest.approx(mean_daily * 365e-5 * 28)
        assert by_plot[pid]["n2o_per_ha"] == pytest.approx(0.2 * 365e-5 * 265)
    assert by_plot["LE01"]["ch4_per_ha"] == pytest.approx(6.58)
    assert any("CH4 not measured on 17 plot(s)" in w for w in r["warnings"])
    assert _pool(r, "ch4")["status"] == "measured"  # partly measured: not a pure default
    flagged = [w for w in r["validation_warnings"] if w["column"] == "flux_mg_m2_d"]
    assert len(flagged) == len(reed)  # one N2O campaign per plot is fewer than 3


def test_partly_measured_stratum_is_flagged(tmp_path: Path, settings: Any) -> None:
    folder = _copy_example(tmp_path)
    rows = [{"plot_id": "RM01", "gas": "ch4", "flux_mg_m2_d": "30", "campaign_date": ""}] * 3
    fluxes = _write(folder / "fluxes.csv", rows)
    r = _run(folder, settings, fluxes=fluxes)
    assert any("'reed-marsh' mixes measured and default CH4" in w for w in r["warnings"])
    rm01 = next(p for p in r["plots"] if p["plot_id"] == "RM01")
    assert rm01["ch4_per_ha"] == pytest.approx(30 * 365e-5 * 28)


def test_measured_belowground(tmp_path: Path, settings: Any) -> None:
    folder = _copy_example(tmp_path)
    rows = _rows("vegetation.csv", folder)
    for r in rows:
        r["belowground_dry_g"] = str(2.0 * float(r["aboveground_dry_g"]))
    _write(folder / "vegetation.csv", rows)
    r = _run(folder, settings)
    bg = _pool(r, "vegetation_belowground")
    ag = _pool(r, "vegetation_aboveground")
    assert bg["status"] == "measured"
    assert bg["total"] == pytest.approx(2.0 * ag["total"])
    assert r["total"]["carbon_t"] == pytest.approx(3.0 * ag["total"])


def test_root_to_shoot_only_on_request(settings: Any) -> None:
    plain = _run(EXAMPLE, settings)
    flagged = _run(EXAMPLE, settings, {"belowground_from_root_to_shoot": "true"})
    reed_agb = {p["plot_id"]: p["agb_reed_t_dm_per_ha"] for p in flagged["plots"]}
    for p in flagged["plots"]:
        expected = reed_agb[p["plot_id"]] * 2.96 * 0.47  # lotus, sedge, other: ratio 0 (GAP)
        assert p["vegetation_belowground_per_ha"] == pytest.approx(expected, abs=2e-6)
    assert _pool(plain, "vegetation_belowground")["status"] == "omitted"
    assert any("root_to_shoot.lotus is 0" in w for w in flagged["warnings"])
    assert "root_to_shoot.reed" in flagged["unconfirmed_parameters"]


def test_three_stock_rounds_use_the_least_squares_slope(tmp_path: Path, settings: Any) -> None:
    folder = _copy_example(tmp_path)
    rows = _rows("cores.csv", folder)
    le01 = [r for r in rows if r["plot_id"] == "LE01" and r["survey_round"] == "2"]
    third = [dict(r) | {"survey_round": "3", "sample_date": "2026-09-15"} for r in le01]
    third[0]["organic_carbon_pct"] = "2.50"
    _write(folder / "cores.csv", rows + third)
    r = _run(folder, settings)
    got = next(p for p in r["plots"] if p["plot_id"] == "LE01")
    stock = {
        "2019-09-10": 2.23 * 0.742 * 15 + 1.75 * 0.975 * 15,
        "2024-09-14": 2.42 * 0.776 * 15 + 1.76 * 0.964 * 15,
        "2026-09-15": 2.50 * 0.776 * 15 + 1.76 * 0.964 * 15,
    }
    t = [(dt.date.fromisoformat(d) - dt.date(1970, 1, 1)).days / 365.25 for d in stock]
    slope = stats.linregress(t, list(stock.values())).slope
    assert got["soil_c_gross_t_c_per_ha_yr"] == pytest.approx(slope, rel=1e-6)
    share = _share(2.50, _craft_inverse(2.50))  # surface layer of the latest round
    assert got["soil_carbon_accumulation_per_ha"] == pytest.approx(slope * share, rel=1e-6)


def test_a_stock_loss_is_not_reduced_by_the_deduction(tmp_path: Path, settings: Any) -> None:
    folder = _copy_example(tmp_path)
    rows = _rows("cores.csv", folder)
    for r in rows:
        if r["plot_id"] == "LE01" and r["survey_round"] == "2" and r["top_cm"] == "0":
            r["organic_carbon_pct"] = "2.00"
    _write(folder / "cores.csv", rows)
    r = _run(folder, settings)
    got = next(p for p in r["plots"] if p["plot_id"] == "LE01")
    loss = (2.00 * 0.776 * 15 + 1.76 * 0.964 * 15 - 50.41365) / (1831 / 365.25)
    assert loss < 0
    assert got["soil_c_gross_t_c_per_ha_yr"] == pytest.approx(loss, rel=1e-6)
    assert got["soil_carbon_accumulation_per_ha"] == pytest.approx(loss, rel=1e-6)


def test_without_vegetation_table(settings: Any) -> None:
    named = _tables(EXAMPLE)
    del named["vegetation"]
    r = estimate("wetland", named=named, settings=settings, datum="gcj02")
    assert _pool(r, "vegetation_aboveground")["status"] == "omitted"
    assert r["total"]["carbon_t"] == 0.0
    assert r["annual"]["total"]["net_tco2e_per_yr"] == pytest.approx(-858.0985, abs=1e-3)


def test_pool_values_on_monte_carlo_shapes() -> None:
    draws = {
        "carbon_fraction": np.array([0.46, 0.48]),
        "ch4_default_kg_ch4_per_ha_yr": np.array([200.0, 300.0]),
    }
    p = ParamValues(METHODOLOGY.parameters, draws=draws)
    comps = {
        "agb_reed_t_dm_per_ha": np.array([[10.0, 20.0, 30.0], [10.0, 20.0, 30.0]]),
        "soil_c_autochthonous_t_c_per_ha_yr": np.full((2, 3), 0.3),
        "ch4_default_share": np.ones((2, 3)),
        "n2o_default_share": np.ones((2, 3)),
    }
    out = METHODOLOGY.pool_values(comps, p)
    np.testing.assert_allclose(out["vegetation_aboveground"][1], [4.8, 9.6, 14.4])
    np.testing.assert_allclose(out["ch4"][:, 0], [0.2 * 28, 0.3 * 28])
    assert np.shape(out["soil_carbon_accumulation"]) == (2, 3)
