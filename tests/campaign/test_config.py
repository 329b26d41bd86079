"""Campaign files: every problem names the line and key (issue 5 §2, §7)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mrv.errors import InputError, Problem
from pipelines.campaign.config import load_campaign
from pipelines.campaign.tomlpos import key_line
from tests.campaign.conftest import EXAMPLE, MakeCampaign, example_line

Cli = Callable[..., tuple[int, str, str]]


def _problems(path: Path) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_campaign(path)
    return list(info.value.problems)


def _line_of(path: Path, start: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.startswith(start))


def test_the_bundled_campaign_loads() -> None:
    c = load_campaign(EXAMPLE / "campaign.toml")
    assert c.spec.campaign.id == "AJB-2025"
    assert c.site_dir == (EXAMPLE / "..").resolve()
    # 2024-01-01 … 2025-12-31 inclusive: 731 days of 365.25
    assert c.period_years == pytest.approx(731 / 365.25)
    assert c.spec.satellite.strata_classes == {"on-year": "moso_bamboo", "off-year": "moso_bamboo"}


def test_unknown_key_names_its_line(make_campaign: MakeCampaign) -> None:
    path = make_campaign({'title_zh = "': 'colour = "green"\ntitle_zh = "'})
    (p,) = _problems(path)
    assert p.row == _line_of(path, "colour") and p.column == "campaign.colour"
    assert "unknown key 'colour'" in p.reason


def test_unknown_section_names_its_header(make_campaign: MakeCampaign) -> None:
    path = make_campaign(append="\n[extras]\nfoo = 1\n")
    (p,) = _problems(path)
    assert p.row == _line_of(path, "[extras]") and p.column == "extras"


def test_wrong_types_name_line_and_key(make_campaign: MakeCampaign) -> None:
    path = make_campaign(
        {"seed = 11": 'seed = "11"', example_line("emissions_tco2e"): 'emissions_tco2e = "a lot"'}
    )
    problems = {p.column: p for p in _problems(path)}
    assert set(problems) == {"scenes.seed", "removals.emissions_tco2e"}
    assert problems["scenes.seed"].row == _line_of(path, "seed =")
    assert "'11'" in problems["scenes.seed"].reason
    assert problems["removals.emissions_tco2e"].row == _line_of(path, "emissions_tco2e")


def test_a_negative_emission_and_a_bad_date_are_refused(make_campaign: MakeCampaign) -> None:
    path = make_campaign({example_line("emissions_tco2e"): "emissions_tco2e = -1.0"})
    (p,) = _problems(path)
    assert p.column == "removals.emissions_tco2e" and "greater than or equal to 0" in p.reason
    path = make_campaign({"period_end = 2025-12-31": "period_end = 2023-12-31"})
    (p,) = _problems(path)
    assert p.column == "campaign.period_end" and p.row == _line_of(path, "period_end")
    assert "after period_start" in p.reason


def test_a_missing_key_points_at_its_section(make_campaign: MakeCampaign) -> None:
    path = make_campaign({example_line("after ="): ""})
    (p,) = _problems(path)
    assert p.column == "survey.after" and p.reason == "missing key"
    assert p.row == _line_of(path, "[survey]")


def test_toml_syntax_errors_carry_the_parser_line(make_campaign: MakeCampaign) -> None:
    path = make_campaign({"dates = 12": "dates = 12 12"})
    (p,) = _problems(path)
    assert p.row == _line_of(path, "dates =") and "not valid TOML" in p.reason


def test_missing_files_and_unknown_names(make_campaign: MakeCampaign, tmp_path: Path) -> None:
    path = make_campaign(
        {
            'id = "bamboo-moso"': 'id = "bamboo-moso"',
            'version = "1.0.0"': 'version = "9.9.9"',
            'on-year = "moso_bamboo"': 'on-year = "bamboo_forest"',
            "[methodology.parameters]": "[methodology.parameters]\nnot_a_parameter = 1.0",
        }
    )
    text = path.read_text(encoding="utf-8").replace(
        str(EXAMPLE / "labels.geojson"), str(tmp_path / "missing.geojson")
    )
    path.write_text(text, encoding="utf-8")
    problems = {p.column: p for p in _problems(path)}
    assert set(problems) == {
        "satellite.labels",
        "methodology.version",
        "methodology.parameters.not_a_parameter",
        "satellite.strata_classes.on-year",
    }
    assert problems["satellite.labels"].row == _line_of(path, "labels =")
    assert "1.0.0, not 9.9.9" in problems["methodology.version"].reason
    assert problems["satellite.strata_classes.on-year"].row == _line_of(path, "on-year")


def test_key_line_finds_dotted_quoted_and_inline_keys() -> None:
    text = '[a]\nx = 1\n[a.b]\n"on year" = 2\ny = { z = 3 }\n'
    assert key_line(text, ["a", "x"]) == 2
    assert key_line(text, ["a", "b", "on year"]) == 4
    assert key_line(text, ["a", "b", "y", "z"]) == 5
    assert key_line(text, ["a", "missing"]) == 1
    assert key_line(text, ["nowhere"]) is None


def test_cli_check_exits_2_naming_line_and_key(make_campaign: MakeCampaign, cli: Cli) -> None:
    path = make_campaign({"seed = 11": 'seed = "eleven"'})
    code, out, err = cli("campaign", "check", path, "--json")
    assert code == 2
    body = json.loads(out)
    assert body["ok"] is False
    (p,) = body["problems"]
    assert p["row"] == _line_of(path, "seed =") and p["column"] == "scenes.seed"
    code, out, err = cli("campaign", "check", path)
    assert code == 2 and f"row {_line_of(path, 'seed =')}, column scenes.seed" in err
    code, out, _ = cli("campaign", "check", EXAMPLE / "campaign.toml", "--json")
    assert code == 0 and json.loads(out)["campaign"] == "AJB-2025"
