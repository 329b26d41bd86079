"""forest-volume: equations against the reference's worked case, the bundled example recomputed
by hand from its CSV files (both biomass paths), bad inputs (exit code 2 naming file, row and
column), Chinese headers and species names, parameter overrides and Monte Carlo linearity."""

from __future__ import annotations

import csv
import json
import math
import shutil
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from methodologies.forest_volume import (
    METHODOLOGY,
    basal_area_m2,
    chave2014_agb_kg,
    form_factor,
    per_ha_by_group,
    volume_biomass_t,
)
from methodologies.parameters import ParamValues
from mrv.datums import to_wgs84
from mrv.geo import points_inside, read_boundary
from pipelines.plots import estimate

EXAMPLE = METHODOLOGY.example_dir
ANJI = Path(__file__).resolve().parents[2] / "aoi" / "counties" / "330523.geojson"
CLI = Callable[..., tuple[int, str, str]]
AREA_HA = {"fir-plantation": 88.5, "pine-broadleaf": 61.5}
# WD, BEF, R, CF per group: methodologies.md §1.8 (all [R])
DEFAULTS = {
    "cunninghamia": (0.307, 1.634, 0.246, 0.520),
    "pinus_massoniana": (0.380, 1.472, 0.187, 0.460),
    "broadleaf": (0.598, 1.67, 0.26, 0.48),
}
FILES = ("plots.csv", "trees.csv", "strata.csv", "boundary.geojson")


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
    for name in FILES:
        shutil.copy(EXAMPLE / name, tmp / name)
    return tmp


def _run(folder: Path, settings: Any, params: dict[str, str] | None = None) -> Any:
    return estimate(
        "forest-volume",
        named={
            "plots": folder / "plots.csv",
            "trees": folder / "trees.csv",
            "strata": folder / "strata.csv",
        },
        params=params or {},
        settings=settings,
        datum="gcj02",
    )


def _cli_args(folder: Path, *more: str) -> list[str]:
    return [
        "plots", "estimate", "-m", "forest-volume",
        "--plots", str(folder / "plots.csv"),
        "--trees", str(folder / "trees.csv"),
        "--strata", str(folder / "strata.csv"),
        "--datum", "gcj02",
        *more,
        "--json",
    ]  # fmt: skip


def _errors(out: str) -> list[dict[str, Any]]:
    data = json.loads(out)
    assert data["ok"] is False
    return [p for p in data["problems"] if p["severity"] == "error"]


def _edit(tmp: Path, row: int, **values: str) -> Path:
    """Copy the example and set columns of trees.csv data row ``row`` (sheet row = row + 2)."""
    folder = _copy_example(tmp)
    rows = _rows("trees.csv", folder)
    rows[row].update(values)
    _write(folder / "trees.csv", rows)
    return folder


def _pool(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in result["pools"] if p["pool"] == name)


# ------------------------------------------------------------------ hand calculation
def _tree_carbon(row: dict[str, str], path: str, params: Mapping[str, tuple[float, ...]]) -> float:
    """Carbon (t C) of one tree, aboveground + belowground, in plain Python."""
    wd, bef, r, cf = params[row["species_group"]]
    if path == "volume":
        agb_t = float(row["volume_m3"]) * wd * bef
    else:
        d, h = float(row["dbh_cm"]), float(row["height_m"])
        agb_t = 0.0673 * (wd * d * d * h) ** 0.976 / 1000.0
    return agb_t * cf * (1.0 + r)


def _hand(
    path: str = "volume",
    folder: Path = EXAMPLE,
    params: Mapping[str, tuple[float, ...]] | None = None,
) -> dict[str, float]:
    """Per-plot tree carbon (t C/ha)."""
    values = params if params is not None else DEFAULTS
    area = {p["plot_id"]: float(p["plot_area_m2"]) for p in _rows("plots.csv", folder)}
    carbon: dict[str, float] = defaultdict(float)
    for t in _rows("trees.csv", folder):
        carbon[t["plot_id"]] += _tree_carbon(t, path, values)
    return {pid: carbon[pid] * 10_000.0 / a for pid, a in area.items()}


def _stratified(values: dict[str, float], folder: Path = EXAMPLE) -> dict[str, Any]:
    strata = {p["plot_id"]: p["stratum"] for p in _rows("plots.csv", folder)}
    by: dict[str, list[float]] = defaultdict(list)
    for pid, v in values.items():
        by[strata[pid]].append(v)
    total, var, terms, per = 0.0, 0.0, [], {}
    for name, xs in by.items():
        n = len(xs)
        mean = sum(xs) / n
        sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
        se = sd / math.sqrt(n)
        per[name] = (mean, sd, float(stats.t.ppf(0.95, n - 1)) * se)
        total += AREA_HA[name] * mean
        var += (AREA_HA[name] * se) ** 2
        terms.append(((AREA_HA[name] * se) ** 2, n - 1))
    df = var**2 / sum(v * v / d for v, d in terms)
    return {
        "per": per,
        "total": total,
        "hw": float(stats.t.ppf(0.95, df)) * math.sqrt(var),
        "df": df,
    }


# ------------------------------------------------------------------------ equations
def test_reference_worked_case_cunninghamia() -> None:
    # methodologies.md §1.8: V = 100 m³/ha → B 62.50 t/ha, C 32.50 t C/ha, 119.17 t CO2/ha
    b = float(volume_biomass_t(100.0, 0.307, 1.634, 0.246))
    assert b == pytest.approx(62.50, abs=0.005)
    assert b * 0.520 == pytest.approx(32.50, abs=0.005)
    assert b * 0.520 * 44 / 12 == pytest.approx(119.17, abs=0.005)
    p = ParamValues(METHODOLOGY.parameters)
    pools = METHODOLOGY.pool_values({"volume_m3_per_ha.cunninghamia": np.array([100.0])}, p)
    ag, bg = (
        float(np.asarray(pools["aboveground_biomass"])[0]),
        float(np.asarray(pools["belowground_biomass"])[0]),
    )
    assert ag == pytest.approx(100 * 0.307 * 1.634 * 0.520)
    assert bg == pytest.approx(ag * 0.246)
    assert ag + bg == pytest.approx(b * 0.520)


@pytest.mark.parametrize("group", list(DEFAULTS))
def test_each_group_uses_its_own_defaults(group: str) -> None:
    wd, bef, r, cf = DEFAULTS[group]
    p = ParamValues(METHODOLOGY.parameters)
    pools = METHODOLOGY.pool_values({f"volume_m3_per_ha.{group}": np.array([37.5])}, p)
    assert float(np.asarray(pools["aboveground_biomass"])[0]) == pytest.approx(37.5 * wd * bef * cf)
    assert float(np.asarray(pools["belowground_biomass"])[0]) == pytest.approx(
        37.5 * wd * bef * cf * r
    )
    assert p.unconfirmed() == [
        f"wood_density.{group}",
        f"bef.{group}",
        f"root_to_shoot_ratio.{group}",
        f"carbon_fraction.{group}",
    ]


def test_allometric_pools_skip_wood_density_and_bef() -> None:
    p = ParamValues(METHODOLOGY.parameters)
    pools = METHODOLOGY.pool_values({"agb_t_per_ha.broadleaf": np.array([80.0])}, p)
    assert float(np.asarray(pools["aboveground_biomass"])[0]) == pytest.approx(80.0 * 0.48)
    assert float(np.asarray(pools["belowground_biomass"])[0]) == pytest.approx(80.0 * 0.48 * 0.26)
    assert "bef.broadleaf" not in p.used and "wood_density.broadleaf" not in p.used


def test_chave_2014_equation_by_hand() -> None:
    # AGB = 0.0673 (ρ D² H)^0.976, kg; D 20 cm, H 15 m, ρ 0.307: ρD²H = 1842
    expected = 0.0673 * math.exp(0.976 * math.log(1842.0))
    assert float(chave2014_agb_kg(0.307, 20.0, 15.0)) == pytest.approx(expected)
    assert expected == pytest.approx(103.499, abs=1e-3)
    got = chave2014_agb_kg([0.38, 0.598], [10.0, 30.0], [8.0, 20.0])
    np.testing.assert_allclose(
        got, [0.0673 * (0.38 * 100 * 8) ** 0.976, 0.0673 * (0.598 * 900 * 20) ** 0.976]
    )


def test_basal_area_and_form_factor() -> None:
    assert float(basal_area_m2(20.0)) == pytest.approx(math.pi * 0.01)
    v = 0.45 * math.pi / 4 * 0.2**2 * 15
    assert float(form_factor(v, 20.0, 15.0)) == pytest.approx(0.45)
    assert float(form_factor(v * 1000, 20.0, 15.0)) == pytest.approx(450.0)


def test_per_ha_by_group_matches_a_loop() -> None:
    values = [0.1, 0.2, 0.3, 0.4, 0.5]
    plots = [0, 2, 0, 2, 2]
    groups = [1, 0, 1, 2, 0]
    area = [400.0, 600.0, 500.0]
    got = per_ha_by_group(values, plots, groups, area, 3)
    expected = np.zeros((3, 3))
    for v, pl, g in zip(values, plots, groups, strict=True):
        expected[pl, g] += v * 10_000 / area[pl]
    np.testing.assert_allclose(got, expected)
    assert got[1].sum() == 0.0  # a plot without trees


def test_pool_values_work_on_monte_carlo_shapes() -> None:
    """Components (draws, strata) and parameter draws (draws, 1) broadcast; linear."""
    draws = np.random.default_rng(1)
    comps = {
        "volume_m3_per_ha.cunninghamia": draws.uniform(50, 150, (100, 2)),
        "volume_m3_per_ha.broadleaf": draws.uniform(0, 30, (100, 2)),
    }
    cf = draws.normal(0.52, 0.01, 100)
    p = ParamValues(METHODOLOGY.parameters, draws={"carbon_fraction.cunninghamia": cf})
    out = METHODOLOGY.pool_values(comps, p)
    assert np.shape(out["aboveground_biomass"]) == (100, 2)
    expected = (
        comps["volume_m3_per_ha.cunninghamia"] * 0.307 * 1.634 * cf[:, None]
        + comps["volume_m3_per_ha.broadleaf"] * 0.598 * 1.67 * 0.48
    )
    np.testing.assert_allclose(out["aboveground_biomass"], expected)


def test_parameters_are_flagged_unconfirmed() -> None:
    params = METHODOLOGY.parameters
    for group, values in DEFAULTS.items():
        for name, value in zip(
            ("wood_density", "bef", "root_to_shoot_ratio", "carbon_fraction"), values, strict=True
        ):
            par = params[f"{name}.{group}"]
            assert par.value == pytest.approx(value)
            assert par.evidence == "R" and not par.confirmed
    assert params["allometric_equation.a"].value == 0.0673
    assert params["allometric_equation.b"].value == 0.976
    assert not any(par.confirmed for par in params.values())
    assert all(par.pdf is None for par in params.values())  # no sourced uncertainty


# -------------------------------------------------------------- the bundled example
def test_example_plots_inside_anji_and_boundary() -> None:
    plots = _rows("plots.csv")
    lon, lat = to_wgs84(
        np.array([float(p["lon"]) for p in plots]),
        np.array([float(p["lat"]) for p in plots]),
        "gcj02",
    )
    assert points_inside(read_boundary(ANJI, "gcj02"), lon, lat).all()
    boundary = read_boundary(EXAMPLE / "boundary.geojson", "gcj02")
    assert points_inside(boundary, lon, lat).all()
    assert boundary.within(read_boundary(ANJI, "gcj02"))
    assert sum(AREA_HA.values()) == pytest.approx(150.0)  # 2,250 mu


def test_example_magnitudes_are_realistic() -> None:
    trees = _rows("trees.csv")
    plots = _rows("plots.csv")
    per_plot: dict[str, int] = defaultdict(int)
    for t in trees:
        per_plot[t["plot_id"]] += 1
        d, h, v = float(t["dbh_cm"]), float(t["height_m"]), float(t["volume_m3"])
        assert 5.0 <= d <= 36.0 and 2.0 <= h <= 25.0
        assert float(form_factor(v, d, h)) == pytest.approx(0.45, abs=0.02)  # rounding only
    assert len(plots) == 24 and set(per_plot) == {p["plot_id"] for p in plots}
    assert all(15 <= n <= 40 for n in per_plot.values())


def test_example_recomputed_by_hand(settings: Any) -> None:
    hand = _hand()
    r = _run(EXAMPLE, settings)
    by_plot = {p["plot_id"]: p for p in r["plots"]}
    for pid, c in hand.items():
        got = by_plot[pid]
        assert got["aboveground_biomass_per_ha"] + got["belowground_biomass_per_ha"] == (
            pytest.approx(c, abs=2e-6)
        )
    est = _stratified(hand)
    for s in r["strata"]:
        mean, sd, hw = est["per"][s["stratum"]]
        assert s["mean_tc_per_ha"] == pytest.approx(mean, abs=1e-6)
        assert s["sd_tc_per_ha"] == pytest.approx(sd, abs=1e-6)
        assert s["ci90_half_width_tc_per_ha"] == pytest.approx(hw, abs=1e-6)
    assert r["total"]["carbon_t"] == pytest.approx(est["total"], rel=1e-7)
    assert r["total"]["co2e_t"] == pytest.approx(est["total"] * 44 / 12, rel=1e-7)
    assert r["total"]["ci90_half_width_carbon_t"] == pytest.approx(est["hw"], rel=1e-6)
    assert r["total"]["df"] == pytest.approx(est["df"], abs=1e-3)
    assert est["total"] == pytest.approx(4219.97, abs=0.01)
    assert "annual" not in r  # stocks only
    assert r["validation_warnings"] == []
    assert {p["pool"]: p["status"] for p in r["pools"]} == {
        "aboveground_biomass": "measured",
        "belowground_biomass": "measured",
        "deadwood": "excluded",
        "litter": "excluded",
        "soil_organic_carbon": "excluded",
        "understorey": "excluded",
    }


def test_pb03_components_by_hand(settings: Any) -> None:
    r = _run(EXAMPLE, settings)
    pb03 = next(p for p in r["plots"] if p["plot_id"] == "PB03")
    volume: dict[str, float] = defaultdict(float)
    for t in _rows("trees.csv"):
        if t["plot_id"] == "PB03":
            volume[t["species_group"]] += float(t["volume_m3"])
    for group, v in volume.items():
        assert pb03[f"volume_m3_per_ha.{group}"] == pytest.approx(v * 25, abs=1e-6)
    assert pb03["aboveground_biomass_per_ha"] == pytest.approx(14.1762, abs=5e-5)
    assert pb03["belowground_biomass_per_ha"] == pytest.approx(3.2363, abs=5e-5)


def test_allometric_path_recomputed_by_hand(settings: Any) -> None:
    hand = _hand("allometric")
    r = _run(EXAMPLE, settings, {"biomass_path": "allometric"})
    by_plot = {p["plot_id"]: p for p in r["plots"]}
    for pid, c in hand.items():
        got = by_plot[pid]
        assert got["aboveground_biomass_per_ha"] + got["belowground_biomass_per_ha"] == (
            pytest.approx(c, abs=2e-6)
        )
        assert not any(k.startswith("volume_m3_per_ha") for k in got)
    assert r["total"]["carbon_t"] == pytest.approx(_stratified(hand)["total"], rel=1e-7)
    assert any("Chave et al. 2014" in w for w in r["warnings"])
    assert "allometric_equation.a" in r["unconfirmed_parameters"]
    assert "bef.cunninghamia" not in r["parameters"]


def test_allometric_path_ignores_volumes(tmp_path: Path, settings: Any) -> None:
    folder = _copy_example(tmp_path)
    rows = _rows("trees.csv", folder)
    fields = [f for f in rows[0] if f != "volume_m3"]
    _write(folder / "trees.csv", rows, fields)
    r = _run(folder, settings, {"biomass_path": "allometric"})
    base = _run(EXAMPLE, settings, {"biomass_path": "allometric"})
    assert r["total"]["carbon_t"] == pytest.approx(base["total"]["carbon_t"], rel=1e-12)


def test_generator_reproduces_the_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tools.make_forest_volume_example as gen

    monkeypatch.setattr(gen, "OUT", tmp_path)
    gen.main()
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (EXAMPLE / name).read_bytes(), name


def test_cli_estimate_on_the_example(cli: CLI) -> None:
    code, out, _ = cli(
        *_cli_args(
            EXAMPLE, "--boundary", str(EXAMPLE / "boundary.geojson"), "--boundary-datum", "gcj02"
        )
    )
    assert code == 0
    r = json.loads(out)
    assert r["methodology"]["id"] == "forest-volume"
    assert r["total"]["carbon_t"] == pytest.approx(4219.965905, abs=1e-5)


# ------------------------------------------------------------- Chinese input, warnings
def test_chinese_headers_and_species_names(tmp_path: Path, settings: Any) -> None:
    folder = _copy_example(tmp_path)
    names = {"cunninghamia": "杉木", "pinus_massoniana": "马尾松", "broadleaf": "阔叶树"}
    rows = [
        {
            "样地号": t["plot_id"],
            "树种组": names[t["species_group"]],
            "胸径": t["dbh_cm"],
            "树高": t["height_m"],
            "材积": t["volume_m3"],
        }
        for t in _rows("trees.csv")
    ]
    _write(folder / "trees.csv", rows)
    r = _run(folder, settings)
    assert r["total"]["carbon_t"] == pytest.approx(_run(EXAMPLE, settings)["total"]["carbon_t"])
    assert r["validation_warnings"] == []


def test_volume_in_dm3_is_flagged(tmp_path: Path, settings: Any) -> None:
    rows = _rows("trees.csv")
    folder = _edit(tmp_path, 5, volume_m3=str(float(rows[5]["volume_m3"]) * 1000))
    r = _run(folder, settings)
    flagged = [w for w in r["validation_warnings"] if w["column"] == "volume_m3"]
    assert {(w["row"], w["severity"]) for w in flagged} == {(7, "warning")}
    reasons = sorted(w["reason"] for w in flagged)
    assert len(reasons) == 2  # above 10 m³ (schema) and an implausible form factor (check)
    assert "unusually high" in reasons[0] and "form factor" in reasons[1]


def test_plot_without_trees_counts_zero_with_a_warning(tmp_path: Path, settings: Any) -> None:
    folder = _copy_example(tmp_path)
    rows = [t for t in _rows("trees.csv", folder) if t["plot_id"] != "PB05"]
    _write(folder / "trees.csv", rows)
    r = _run(folder, settings)
    pb05 = next(p for p in r["plots"] if p["plot_id"] == "PB05")
    assert pb05["aboveground_biomass_per_ha"] == 0.0
    warned = [w for w in r["validation_warnings"] if w["column"] == "plot_id"]
    assert len(warned) == 1 and warned[0]["file"].endswith("plots.csv")
    assert warned[0]["row"] == 18  # PB05 is the 17th data row


def test_only_groups_present_use_their_parameters(tmp_path: Path, settings: Any) -> None:
    folder = _copy_example(tmp_path)
    plots = [p for p in _rows("plots.csv", folder) if p["stratum"] == "fir-plantation"]
    _write(folder / "plots.csv", plots)
    trees = [t for t in _rows("trees.csv", folder) if t["plot_id"].startswith("FP")]
    _write(folder / "trees.csv", trees)
    _write(folder / "strata.csv", [{"stratum": "fir-plantation", "area_ha": "88.5"}])
    r = _run(folder, settings)
    assert not any("broadleaf" in name for name in r["parameters"])
    assert [c for c in r["plots"][0] if c.startswith("volume")] == ["volume_m3_per_ha.cunninghamia"]
    allometric = _run(folder, settings, {"biomass_path": "allometric"})
    assert sorted(allometric["unconfirmed_parameters"]) == [
        "allometric_equation.a",
        "allometric_equation.b",
        "carbon_fraction.cunninghamia",
        "root_to_shoot_ratio.cunninghamia",
        "wood_density.cunninghamia",
    ]


# ------------------------------------------------------------------------- bad inputs
def _one_error(cli: CLI, folder: Path, *more: str) -> dict[str, Any]:
    code, out, _ = cli(*_cli_args(folder, *more))
    assert code == 2
    errors = _errors(out)
    assert len(errors) == 1, errors
    return errors[0]


def test_wrong_species_group(cli: CLI, tmp_path: Path) -> None:
    p = _one_error(cli, _edit(tmp_path, 3, species_group="oak"))
    assert p["file"].endswith("trees.csv") and p["row"] == 5
    assert p["column"] == "species_group" and "oak" in p["reason"]


def test_dbh_out_of_range(cli: CLI, tmp_path: Path) -> None:
    p = _one_error(cli, _edit(tmp_path, 10, dbh_cm="250"))
    assert (p["row"], p["column"]) == (12, "dbh_cm") and p["file"].endswith("trees.csv")
    assert "maximum" in p["reason"]


def test_height_out_of_range(cli: CLI, tmp_path: Path) -> None:
    p = _one_error(cli, _edit(tmp_path, 0, height_m="0.8"))
    assert (p["row"], p["column"]) == (2, "height_m")


def test_missing_dbh_column(cli: CLI, tmp_path: Path) -> None:
    folder = _copy_example(tmp_path)
    rows = _rows("trees.csv", folder)
    _write(folder / "trees.csv", rows, [f for f in rows[0] if f != "dbh_cm"])
    p = _one_error(cli, folder)
    assert p["file"].endswith("trees.csv") and p["column"] == "dbh_cm"
    assert "missing" in p["reason"]


def test_volume_path_needs_every_volume(cli: CLI, tmp_path: Path) -> None:
    p = _one_error(cli, _edit(tmp_path, 7, volume_m3=""))
    assert p["file"].endswith("trees.csv") and (p["row"], p["column"]) == (9, "volume_m3")
    assert "biomass_path" in p["reason"]


def test_volume_path_without_volume_column(cli: CLI, tmp_path: Path) -> None:
    folder = _copy_example(tmp_path)
    rows = _rows("trees.csv", folder)
    _write(folder / "trees.csv", rows, [f for f in rows[0] if f != "volume_m3"])
    code, out, _ = cli(*_cli_args(folder))
    assert code == 2
    errors = _errors(out)
    assert len(errors) == len(rows)
    assert {e["column"] for e in errors} == {"volume_m3"}


def test_allometric_path_needs_every_height(cli: CLI, tmp_path: Path) -> None:
    folder = _edit(tmp_path, 20, height_m="")
    code, _, _ = cli(*_cli_args(folder))
    assert code == 0  # the volume path does not need heights
    p = _one_error(cli, folder, "--param", "biomass_path=allometric")
    assert (p["row"], p["column"]) == (22, "height_m") and "allometric" in p["reason"]


def test_unknown_biomass_path_is_refused(cli: CLI) -> None:
    code, _, err = cli(*_cli_args(EXAMPLE, "--param", "biomass_path=lidar"))
    assert code == 2
    assert "biomass_path" in err


def test_parameter_below_minimum_is_refused(cli: CLI) -> None:
    code, _, err = cli(*_cli_args(EXAMPLE, "--param", "bef.broadleaf=0.5"))
    assert code == 2
    assert "bef.broadleaf" in err


# ------------------------------------------------------------------- parameter overrides
def test_bef_override_scales_the_fir_stratum(settings: Any) -> None:
    base = _run(EXAMPLE, settings)
    r = _run(EXAMPLE, settings, {"bef.cunninghamia": "2.0"})
    fir0, fir1 = (x["strata"][0]["mean_tc_per_ha"] for x in (base, r))
    assert fir1 == pytest.approx(fir0 * 2.0 / 1.634, rel=1e-6)
    assert "bef.cunninghamia" not in r["unconfirmed_parameters"]
    assert r["parameters"]["bef.cunninghamia"] == 2.0


def test_broadleaf_overrides_by_hand(settings: Any) -> None:
    params = dict(DEFAULTS)
    params["broadleaf"] = (0.55, 1.5, 0.3, 0.47)
    hand = _stratified(_hand(params=params))
    r = _run(
        EXAMPLE,
        settings,
        {
            "wood_density.broadleaf": "0.55",
            "bef.broadleaf": "1.5",
            "root_to_shoot_ratio.broadleaf": "0.3",
            "carbon_fraction.broadleaf": "0.47",
        },
    )
    assert r["total"]["carbon_t"] == pytest.approx(hand["total"], rel=1e-7)
    # the pure fir stratum is unchanged
    base = _run(EXAMPLE, settings)
    assert r["strata"][0]["mean_tc_per_ha"] == base["strata"][0]["mean_tc_per_ha"]
    assert r["strata"][1]["mean_tc_per_ha"] != base["strata"][1]["mean_tc_per_ha"]


def test_root_to_shoot_zero_leaves_only_aboveground(settings: Any) -> None:
    zero = {f"root_to_shoot_ratio.{g}": "0" for g in DEFAULTS}
    r = _run(EXAMPLE, settings, zero)
    assert _pool(r, "belowground_biomass")["total"] == 0.0
    base = _run(EXAMPLE, settings)
    assert r["total"]["carbon_t"] == pytest.approx(_pool(base, "aboveground_biomass")["total"])


def test_allometric_coefficient_override(settings: Any) -> None:
    base = _run(EXAMPLE, settings, {"biomass_path": "allometric"})
    r = _run(EXAMPLE, settings, {"biomass_path": "allometric", "allometric_equation.a": "0.0700"})
    assert r["total"]["carbon_t"] == pytest.approx(
        base["total"]["carbon_t"] * 0.0700 / 0.0673, rel=1e-9
    )
