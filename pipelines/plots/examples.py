"""Bundled example surveys: each methodology's ``example/example.toml`` (a survey spec) names
its tables, options and parameter overrides, so the demo, the README tour and the tests run the
same thing."""

from __future__ import annotations

from typing import Any

from methodologies.base import Methodology
from mrv.errors import ConfigurationError
from mrv.settings import Settings
from pipelines.plots.spec import SurveySpec, load_spec

Example = SurveySpec


def load_example(methodology: Methodology, name: str = "example") -> SurveySpec | None:
    """The methodology's example spec ``example/<name>.toml``, or ``None`` if absent."""
    path = methodology.example_dir / f"{name}.toml"
    return load_spec(path, methodology) if path.exists() else None


def run_example(example: SurveySpec, settings: Settings | None = None) -> dict[str, Any]:
    """Validate and estimate an example survey; returns the estimate JSON mapping."""
    from pipelines.plots import estimate

    if example.methodology_id is None:
        raise ConfigurationError(f"{example.path}: not loaded for a methodology")
    return estimate(
        example.methodology_id,
        named=example.tables,
        params=example.parameters,
        settings=settings,
        datum=example.datum,
        boundary=example.boundary,
        boundary_datum=example.boundary_datum,
        encoding=example.encoding,
    )


def run_change(
    before: SurveySpec, after: SurveySpec, settings: Settings | None = None
) -> dict[str, Any]:
    """Stock change between two example surveys (e.g. ``example`` and ``followup``)."""
    from pipelines.plots import change

    if before.methodology_id is None:
        raise ConfigurationError(f"{before.path}: not loaded for a methodology")
    return change(
        before.methodology_id,
        before.path,
        after.path,
        params=before.parameters,
        settings=settings,
    )
