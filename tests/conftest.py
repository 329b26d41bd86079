"""Shared fixtures: paths to bundled and real data, a settings object, the CLI runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mrv.cli import run
from mrv.settings import Settings

REPO = Path(__file__).resolve().parents[1]
COUNTIES = REPO / "aoi" / "counties"
"""Real Huzhou county boundaries (GCJ-02), shipped with the product."""


@pytest.fixture
def settings() -> Settings:
    """Default settings, independent of the caller's MRV_* environment."""
    return Settings(_env_file=None, mc_draws=2_000)  # type: ignore[call-arg]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run ``mrv`` with arguments; returns (exit code, stdout, stderr)."""

    def _run(*args: str) -> tuple[int, str, str]:
        code = run([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return _run
