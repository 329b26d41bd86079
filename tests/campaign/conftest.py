"""Campaign files for the tests: the bundled Anji example with absolute paths, edited per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "aoi" / "anji-bamboo" / "campaign"

MakeCampaign = Callable[..., Path]


def example_text(*, report: bool = False) -> str:
    """The bundled campaign file with its relative paths made absolute."""
    text = (EXAMPLE / "campaign.toml").read_text(encoding="utf-8")
    for rel in (
        '".."',
        '"survey/2023/survey.toml"',
        '"survey/2025/survey.toml"',
        '"labels.geojson"',
    ):
        text = text.replace(rel, '"' + str((EXAMPLE / rel.strip('"')).resolve()) + '"', 1)
    if not report:
        text = text.replace("report = true", "report = false")
    return text


def example_line(start: str) -> str:
    """The example file's line that starts with ``start`` (values may change on regeneration)."""
    lines = example_text().splitlines()
    return next(line for line in lines if line.startswith(start))


@pytest.fixture
def make_campaign(tmp_path: Path) -> MakeCampaign:
    """``make_campaign(replace={old: new}, append=text)`` writes an edited example file."""

    def make(
        replace: dict[str, str] | None = None, append: str = "", name: str = "campaign.toml"
    ) -> Path:
        text = example_text()
        for old, new in (replace or {}).items():
            assert old in text, old
            text = text.replace(old, new, 1)
        path = tmp_path / name
        path.write_text(text + append, encoding="utf-8")
        return path

    return make
