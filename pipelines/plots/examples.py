"""Bundled example surveys: each methodology's ``example/example.toml`` names its tables,
options and parameter overrides, so the demo, the README tour and the tests run the same thing."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from methodologies.base import Methodology
from mrv.errors import ConfigurationError
from mrv.settings import Settings


@dataclass(frozen=True)
class Example:
    """A bundled example survey of one methodology."""

    methodology: Methodology
    title: str
    tables: dict[str, Path]
    datum: str = "wgs84"
    boundary: Path | None = None
    boundary_datum: str = "wgs84"
    parameters: dict[str, str] = field(default_factory=dict)


def load_example(methodology: Methodology) -> Example | None:
    """The methodology's example, or ``None`` if it has none."""
    spec_path = methodology.example_dir / "example.toml"
    if not spec_path.exists():
        return None
    try:
        spec = tomllib.loads(spec_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{spec_path}: {exc}") from exc
    base = spec_path.parent
    options = spec.get("options", {})
    return Example(
        methodology=methodology,
        title=str(spec.get("title", methodology.title)),
        tables={name: base / file for name, file in spec.get("tables", {}).items()},
        datum=str(options.get("datum", "wgs84")),
        boundary=base / options["boundary"] if "boundary" in options else None,
        boundary_datum=str(options.get("boundary_datum", "wgs84")),
        parameters={k: str(v) for k, v in spec.get("parameters", {}).items()},
    )


def run_example(example: Example, settings: Settings | None = None) -> dict[str, Any]:
    """Validate and estimate the example survey; returns the estimate JSON mapping."""
    from pipelines.plots import estimate

    return estimate(
        example.methodology.id,
        named=example.tables,
        params=example.parameters,
        settings=settings,
        datum=example.datum,
        boundary=example.boundary,
        boundary_datum=example.boundary_datum,
    )
