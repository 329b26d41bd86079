"""Stock change between two inventories of the same plots, against plain-Python arithmetic."""

from __future__ import annotations

import csv
import json
import math
import shutil
import statistics
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from scipy import stats as st

from pipelines.plots import change

EXAMPLE = Path(__file__).resolve().parents[2] / "methodologies" / "bamboo_moso" / "example"


def culm_kg(d: float, a: float) -> float:
    return 747.787 * d**2.771 * (0.148 * a / (0.028 + a)) ** 5.555 + 3.772


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _stock(folder: Path, fraction: float) -> tuple[dict[str, float], dict[str, tuple[str, str]]]:
    kg: dict[str, float] = defaultdict(float)
    for r in _rows(folder / "culms.csv"):
        kg[r["plot_id"]] += culm_kg(float(r["dbh_cm"]), int(r["age_du"]))
    hwp: dict[str, float] = defaultdict(float)
    if (folder / "harvest.csv").exists():
        for r in _rows(folder / "harvest.csv"):
            hwp[r["plot_id"]] += culm_kg(float(r["dbh_cm"]), int(r["age_du"]))
    plots = {r["plot_id"]: (r["stratum"], r["survey_date"]) for r in _rows(folder / "plots.csv")}
    # plots are 100 m²: t/ha = kg / 1000 × 100
    stock = {p: (kg[p] * 1.5 * 0.47 + hwp[p] * 0.47 * fraction) / 10 for p in plots}
    return stock, plots


def test_change_matches_independent_paired_estimate(settings) -> None:
    before, plots_b = _stock(EXAMPLE, 0.3)
    after, plots_a = _stock(EXAMPLE / "followup", 0.3)
    areas = {"on-year": 182.4, "off-year": 137.6}
    by: dict[str, list[float]] = defaultdict(list)
    for pid, (stratum, d_after) in plots_a.items():
        if pid not in plots_b:
            continue
        years = (date.fromisoformat(d_after) - date.fromisoformat(plots_b[pid][1])).days / 365.25
        by[stratum].append((after[pid] - before[pid]) / years * 44 / 12)
    total = sum(areas[s] * statistics.fmean(v) for s, v in by.items())
    terms = [(areas[s] ** 2 * statistics.variance(v) / len(v), len(v) - 1) for s, v in by.items()]
    var = sum(t for t, _ in terms)
    df = var**2 / sum(t**2 / d for t, d in terms)

    r = change(
        "bamboo-moso",
        EXAMPLE / "example.toml",
        EXAMPLE / "followup.toml",
        params={"harvested_products_fraction": "0.3"},
        settings=settings,
    )
    assert r["paired_plots"] == 29
    assert r["unpaired"] == {"before_only": ["OF14"], "after_only": ["ON17"]}
    assert r["total"]["net_tco2e_per_yr"] == pytest.approx(total, rel=1e-9)
    assert r["total"]["ci90_half_width_tco2e_per_yr"] == pytest.approx(
        st.t.ppf(0.95, df) * math.sqrt(var), rel=1e-9
    )
    assert r["total"]["stock_change_tc_per_yr"] == pytest.approx(total * 12 / 44, rel=1e-9)
    mc = r["monte_carlo"]["net_tco2e_per_yr"]
    assert mc["mean"] == pytest.approx(total, rel=0.02)
    assert any("OF14" in w for w in r["warnings"])


def test_phase_mismatch_and_bad_dates(cli, tmp_path: Path) -> None:
    work = tmp_path / "example"
    shutil.copytree(EXAMPLE, work)
    strata = work / "followup" / "strata.csv"
    strata.write_text("stratum,area_ha,phase\non-year,182.4,off\noff-year,137.6,off\n")
    code, out, _ = cli(
        "plots",
        "change",
        "-m",
        "bamboo-moso",
        "--before",
        work / "example.toml",
        "--after",
        work / "followup.toml",
        "--json",
    )
    assert code == 0
    warnings = json.loads(out)["warnings"]
    assert any("'on-year' was on-year in the earlier inventory and off-year" in w for w in warnings)
    plots = work / "followup" / "plots.csv"
    plots.write_text(plots.read_text().replace("2026-10-03", "2024-10-03", 1))
    code, _, err = cli(
        "plots",
        "change",
        "-m",
        "bamboo-moso",
        "--before",
        work / "example.toml",
        "--after",
        work / "followup.toml",
    )
    assert code == 2
    assert "plots.csv, row 2, column survey_date: plot 'ON01' is not dated after" in err


def test_spec_errors_name_the_key(cli, tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text('[tables]\nplots = "p.csv"\ntrees = "t.csv"\n[options]\ndatun = "gcj02"\n')
    code, _, err = cli("plots", "change", "-m", "bamboo-moso", "--before", spec, "--after", spec)
    assert code == 2
    assert "column options.datun: unknown option 'datun'" in err
    assert "column tables.trees: bamboo-moso has no table 'trees'" in err
