"""Survey specification files (TOML): which file is which table, datum and boundary.

```toml
title = "Anji moso bamboo, 2024 inventory"
[tables]
plots = "plots.csv"       # paths relative to this file
culms = "culms.csv"
strata = "strata.csv"
[options]
datum = "gcj02"
boundary = "boundary.geojson"
boundary_datum = "gcj02"
[parameters]              # overrides (used by the bundled examples)
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from methodologies.base import Methodology
from mrv.errors import InputError, Problem

_KNOWN = {"title", "tables", "options", "parameters"}
_OPTIONS = {"datum", "boundary", "boundary_datum", "encoding"}


@dataclass(frozen=True)
class SurveySpec:
    """One survey as described by a spec file."""

    path: Path
    title: str
    tables: dict[str, Path]
    datum: str = "wgs84"
    boundary: Path | None = None
    boundary_datum: str = "wgs84"
    encoding: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    methodology_id: str | None = None
    """Set when the spec was loaded for a methodology."""


def load_spec(path: Path, methodology: Methodology | None = None) -> SurveySpec:
    """Read a survey spec; unknown keys and tables are bad input naming the key."""
    file = str(path)
    if not path.exists():
        raise InputError(f"{file}: survey spec not found", [Problem("file not found", file=file)])
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: not valid TOML: {exc}", [Problem(str(exc), file=file)]) from exc
    problems = [
        Problem(f"unknown key {key!r}", file=file, column=key) for key in data if key not in _KNOWN
    ]
    tables = data.get("tables", {})
    options = data.get("options", {})
    problems += [
        Problem(f"unknown option {key!r}", file=file, column=f"options.{key}")
        for key in options
        if key not in _OPTIONS
    ]
    if not isinstance(tables, dict) or not tables:
        problems.append(Problem("a [tables] section naming the files is required", file=file))
        tables = {}
    if methodology is not None:
        problems += [
            Problem(f"{methodology.id} has no table {name!r}", file=file, column=f"tables.{name}")
            for name in tables
            if name not in methodology.schema.names
        ]
    if problems:
        raise InputError(f"{file}: invalid survey spec", problems)
    base = path.parent
    return SurveySpec(
        path=path,
        title=str(data.get("title", path.stem)),
        tables={str(k): base / str(v) for k, v in tables.items()},
        datum=str(options.get("datum", "wgs84")),
        boundary=base / str(options["boundary"]) if "boundary" in options else None,
        boundary_datum=str(options.get("boundary_datum", "wgs84")),
        encoding=str(options["encoding"]) if "encoding" in options else None,
        parameters={str(k): str(v) for k, v in data.get("parameters", {}).items()},
        methodology_id=methodology.id if methodology is not None else None,
    )
