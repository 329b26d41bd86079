"""Validation reports every problem at once, each with file, row and column; exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "methodologies" / "bamboo_moso" / "example"

PLOTS = """plot_id,stratum,plot_area_m2,lon,lat,survey_date,remark
P1,on-year,100,119.615,30.465,2024-10-03,
P2,on-year,100,119.616,30.466,2024/10/04,ok
P2,on-year,100,119.617,30.466,2024-10-05,
P3,off-year,abc,119.618,30.467,2024-10-06,
P4,off-year,100,119.900,30.700,2024-10-07,
P5,nowhere,100,119.619,30.468,not a date,
P6,off-year,,119.620,30.469,2024-10-09,
"""
CULMS = """plot_id,dbh_cm,age_du
P1,9.5,2
P1,30,1
P1,9.1,2.5
P2,3.0,1
P3,9.0,2
P9,9.0,2
P4,x,3
P6,10.0,
"""
STRATA = """stratum,area_ha
on-year,100
off-year,80
fallow,20
"""


@pytest.fixture
def bad_survey(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in (("plots", PLOTS), ("culms", CULMS), ("strata", STRATA)):
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def _problems(out: str) -> set[tuple[str, int | None, str | None, str]]:
    data = json.loads(out)
    return {(Path(p["file"]).name, p["row"], p["column"], p["severity"]) for p in data["problems"]}


def test_every_problem_located_at_once(cli, bad_survey, tmp_path: Path) -> None:
    out_file = tmp_path / "result.json"
    code, out, err = cli(
        "plots",
        "estimate",
        "-m",
        "bamboo-moso",
        "--plots",
        bad_survey["plots"],
        "--culms",
        bad_survey["culms"],
        "--strata",
        bad_survey["strata"],
        "--boundary",
        EXAMPLE / "boundary.geojson",
        "--boundary-datum",
        "gcj02",
        "--datum",
        "gcj02",
        "--out",
        out_file,
        "--json",
    )
    assert code == 2
    assert not out_file.exists(), "nothing may be written on bad input"
    got = _problems(out)
    expected_errors = {
        ("plots.csv", 4, "plot_id", "error"),  # duplicate P2 (rows 3 and 4)
        ("plots.csv", 3, "plot_id", "error"),
        ("plots.csv", 5, "plot_area_m2", "error"),  # 'abc'
        ("plots.csv", 6, "lon", "error"),  # outside the project boundary
        ("plots.csv", 7, "stratum", "error"),  # stratum not in strata.csv
        ("plots.csv", 7, "survey_date", "error"),  # not a date
        ("plots.csv", 8, "plot_area_m2", "error"),  # empty
        ("culms.csv", 3, "dbh_cm", "error"),  # 30 cm > 25 cm maximum
        ("culms.csv", 4, "age_du", "error"),  # 2.5 not a whole number
        ("culms.csv", 7, "plot_id", "error"),  # unknown plot P9
        ("culms.csv", 8, "dbh_cm", "error"),  # 'x'
        ("culms.csv", 9, "age_du", "error"),  # empty
        ("strata.csv", 4, "stratum", "error"),  # fallow has 0 plots
    }
    assert expected_errors <= got
    assert ("culms.csv", 5, "dbh_cm", "warning") in got  # 3.0 cm unusually low
    assert ("plots.csv", 1, "remark", "warning") in got  # unknown column ignored
    assert {e[:3] for e in got if e[3] == "error"} == {e[:3] for e in expected_errors}
    assert "error: survey validation failed with 13 problems" in err
    assert "plots.csv, row 5, column plot_area_m2: not a number: 'abc'" in err
    assert "culms.csv, row 7, column plot_id: culms row of unknown plot 'P9'" in err
    assert "plots.csv, row 6, column lon: plot location is outside" in err


def test_validate_command_text_and_exit_code(cli, bad_survey) -> None:
    code, out, _ = cli("plots", "validate", "-m", "bamboo-moso", *bad_survey.values())
    assert code == 2
    assert "FAILED: 12 error(s)" in out  # no boundary given: the outside point is not an error
    assert "plots.csv, row 3, column plot_id: duplicate plot_id 'P2'" in out
    code, out, _ = cli(
        "plots",
        "validate",
        "-m",
        "bamboo-moso",
        "--datum",
        "gcj02",
        EXAMPLE / "plots.csv",
        EXAMPLE / "culms.csv",
        EXAMPLE / "strata.csv",
    )
    assert code == 0
    assert "OK: 0 error(s)" in out


def test_missing_columns_and_tables(cli, tmp_path: Path) -> None:
    plots = tmp_path / "plots.csv"
    plots.write_text("plot_id,stratum,lon,lat\nA,s,120,30\nB,s,120,30\n")
    code, out, _ = cli("plots", "estimate", "-m", "bamboo-moso", "--plots", plots, "--json")
    assert code == 2
    problems = json.loads(out)["problems"]
    reasons = {(p["column"], p["reason"]) for p in problems}
    assert ("plot_area_m2", "missing required column plot_area_m2") in reasons
    assert ("survey_date", "missing required column survey_date") in reasons
    assert any("required table 'culms' was not supplied" in p["reason"] for p in problems)


def test_mixed_datums_and_single_plot_strata(cli, tmp_path: Path) -> None:
    plots = tmp_path / "plots.csv"
    plots.write_text(
        "plot_id,stratum,plot_area_m2,lon,lat,survey_date,datum\n"
        "A,s1,100,119.6,30.4,2024-01-01,gcj02\nB,s1,100,119.6,30.4,2024-01-01,wgs84\n"
        "C,s2,100,119.6,30.4,2024-01-01,gcj02\n"
    )
    culms = tmp_path / "culms.csv"
    culms.write_text("plot_id,dbh_cm,age_du\nA,9,1\n")
    code, out, _ = cli("plots", "validate", "-m", "bamboo-moso", plots, culms, "--json")
    assert code == 2
    reasons = [p["reason"] for p in json.loads(out)["problems"]]
    assert any("mixed datums gcj02, wgs84 in one file" in r for r in reasons)
    assert any("the only plot of its stratum" in r for r in reasons)


def test_bad_options_exit_2(cli) -> None:
    base = [
        "plots",
        "estimate",
        "--plots",
        EXAMPLE / "plots.csv",
        "--culms",
        EXAMPLE / "culms.csv",
        "--strata",
        EXAMPLE / "strata.csv",
    ]
    code, _, err = cli(*base, "-m", "no-such-methodology")
    assert code == 2 and "unknown methodology 'no-such-methodology'" in err
    code, _, err = cli(*base, "-m", "bamboo-moso", "--param", "root_shoot=0.3")
    assert code == 2 and "unknown parameter(s): root_shoot" in err
    code, _, err = cli(*base, "-m", "bamboo-moso", "--param", "carbon_fraction=0.9")
    assert code == 2 and "0.9 is above the maximum 0.6" in err
    code, _, err = cli(*base, "-m", "bamboo-moso", "--param", "culm_equation_scope=roots")
    assert code == 2 and "'roots' is not one of aboveground, whole_plant" in err
    code, _, err = cli(*base, "-m", "bamboo-moso", "--trees", EXAMPLE / "culms.csv")
    assert code == 2 and "table options for bamboo-moso are --plots" in err
    code, _, err = cli(*base, "-m", "bamboo-moso", "--datum", "beijing54")
    assert code == 2 and "unknown datum 'beijing54'" in err
    code, _, _ = cli("plots", "estimate", "-m", "bamboo-moso")  # --plots missing: usage error
    assert code == 2
