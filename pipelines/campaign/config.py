"""The campaign file (TOML): what a season's run reads, checked with the line and key of every
problem.

```toml
[campaign]       id, title, title_zh, measurer, site (folder), period_start, period_end (dates)
[methodology]    id, version;  [methodology.parameters] NAME = value  (overrides)
[scenes]         source = "synthetic" (seed, year, dates, [scenes.proportions]) | "files" (paths)
                 seasons = ["NAME:START:END", …] (optional)
[survey]         before, after  (plot-survey spec files, as for `mrv plots change`)
[satellite]      labels, label_column, assessment (optional);
                 [satellite.strata_classes] survey stratum = land-cover class
[removals]       emissions_tco2e, leakage_tco2e (over the period), uncertainty_rule (optional)
[outputs]        report (bool), tolerance_rel, tolerance_abs
```
Relative paths are relative to the campaign file.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mrv.errors import InputError, Problem
from mrv.settings import UncertaintyRule
from pipelines.campaign.tomlpos import key_line

_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
Scalar = bool | int | float | str


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CampaignSection(_Section):
    """``[campaign]``."""

    id: Annotated[str, Field(pattern=_ID)]
    title: Annotated[str, Field(min_length=1)]
    title_zh: str = ""
    measurer: str = ""
    site: Annotated[str, Field(min_length=1)]
    site_name: str = ""
    """Name of the site (default: the site folder's name)."""
    period_start: dt.date
    period_end: dt.date


class MethodologySection(_Section):
    """``[methodology]``."""

    id: Annotated[str, Field(min_length=1)]
    version: Annotated[str, Field(min_length=1)]
    parameters: dict[str, Scalar] = Field(default_factory=dict)


class ScenesSection(_Section):
    """``[scenes]``."""

    source: Literal["synthetic", "files"]
    paths: list[str] = Field(default_factory=list)
    seed: int = 0
    year: Annotated[int, Field(ge=2015, le=2100)] | None = None
    dates: Annotated[int, Field(ge=1, le=12)] = 12
    proportions: dict[str, Annotated[float, Field(gt=0)]] | None = None
    seasons: list[str] = Field(default_factory=list)


class SurveySection(_Section):
    """``[survey]``."""

    before: Annotated[str, Field(min_length=1)]
    after: Annotated[str, Field(min_length=1)]


class SatelliteSection(_Section):
    """``[satellite]``."""

    labels: Annotated[str, Field(min_length=1)]
    label_column: str = "land_cover"
    assessment: str | None = None
    classes: list[str] | None = None
    """Land-cover classes to map (default: those the labels name, in the default order)."""
    strata_classes: dict[str, str]


class RemovalsSection(_Section):
    """``[removals]``: project emissions and leakage over the whole period (t CO2e)."""

    emissions_tco2e: Annotated[float, Field(ge=0)] = 0.0
    leakage_tco2e: Annotated[float, Field(ge=0)] = 0.0
    uncertainty_rule: UncertaintyRule | None = None


class OutputsSection(_Section):
    """``[outputs]``."""

    report: bool = True
    tolerance_rel: Annotated[float, Field(ge=0)] = 1e-9
    tolerance_abs: Annotated[float, Field(ge=0)] = 1e-9


class CampaignFile(_Section):
    """The whole file."""

    campaign: CampaignSection
    methodology: MethodologySection
    scenes: ScenesSection
    survey: SurveySection
    satellite: SatelliteSection
    removals: RemovalsSection = Field(default_factory=RemovalsSection)
    outputs: OutputsSection = Field(default_factory=OutputsSection)


@dataclass(frozen=True)
class Campaign:
    """A checked campaign file with its paths resolved."""

    path: Path
    spec: CampaignFile

    @property
    def base(self) -> Path:
        """Folder relative paths are resolved against."""
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        """A path of the file made absolute."""
        p = Path(relative)
        return (p if p.is_absolute() else self.base / p).resolve()

    @property
    def site_dir(self) -> Path:
        """The site folder."""
        return self.resolve(self.spec.campaign.site)

    @property
    def period_years(self) -> float:
        """Length of the monitoring period in years of 365.25 days (both ends included)."""
        c = self.spec.campaign
        return ((c.period_end - c.period_start).days + 1) / 365.25


def _problem(file: str, text: str, loc: Sequence[str | int], reason: str) -> Problem:
    keys = [str(k) for k in loc]
    return Problem(
        reason=reason, file=file, row=key_line(text, keys), column=".".join(keys) or None
    )


def _type_problems(file: str, text: str, exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = [k for k in err["loc"] if not (isinstance(k, str) and k.startswith("function-"))]
        kind = err["type"]
        if kind == "extra_forbidden":
            reason = f"unknown key {loc[-1]!r}"
        elif kind == "missing":
            reason = "missing key"
            loc = [*loc[:-1], loc[-1]]
        else:
            got = err.get("input")
            shown = f" (got {got!r})" if not isinstance(got, dict | list) else ""
            reason = f"{err['msg']}{shown}"
        out.append(_problem(file, text, loc, reason))
    return out


def _checks(file: str, text: str, spec: CampaignFile, path: Path) -> list[Problem]:
    """What types cannot say: dates in order, files present, names known."""
    problems: list[Problem] = []
    c = spec.campaign
    if c.period_end <= c.period_start:
        problems.append(
            _problem(file, text, ["campaign", "period_end"], "must be after period_start")
        )
    if c.period_end > dt.date.today():
        problems.append(
            _problem(file, text, ["campaign", "period_end"], "the period has not ended yet")
        )
    base = path.parent

    def need(loc: list[str], rel: str, kind: str) -> None:
        p = Path(rel) if Path(rel).is_absolute() else base / rel
        ok = p.is_dir() if kind == "folder" else p.is_file()
        if not ok:
            problems.append(_problem(file, text, loc, f"{kind} not found: {p}"))

    need(["campaign", "site"], c.site, "folder")
    need(["survey", "before"], spec.survey.before, "file")
    need(["survey", "after"], spec.survey.after, "file")
    need(["satellite", "labels"], spec.satellite.labels, "file")
    if spec.satellite.assessment is not None:
        need(["satellite", "assessment"], spec.satellite.assessment, "file")
    sc = spec.scenes
    if sc.source == "files":
        if not sc.paths:
            problems.append(_problem(file, text, ["scenes", "paths"], "no scene paths given"))
        for i, rel in enumerate(sc.paths):
            p = Path(rel) if Path(rel).is_absolute() else base / rel
            if not p.exists():
                problems.append(_problem(file, text, ["scenes", "paths"], f"not found: {p}"))
                del i
    elif sc.year is None:
        problems.append(_problem(file, text, ["scenes", "year"], "a synthetic stack needs a year"))
    for i, season in enumerate(sc.seasons):
        if not re.fullmatch(r"[^:]+:[^:]+:[^:]+", season):
            problems.append(
                _problem(file, text, ["scenes", "seasons"], f"season {i + 1} is not NAME:START:END")
            )
    problems += _name_checks(file, text, spec)
    return problems


def _name_checks(file: str, text: str, spec: CampaignFile) -> list[Problem]:
    from methodologies.registry import get
    from mrv.errors import UnknownMethodologyError
    from pipelines.satellite.classes import class_table

    problems: list[Problem] = []
    m = spec.methodology
    try:
        methodology = get(m.id)
    except UnknownMethodologyError as exc:
        return [_problem(file, text, ["methodology", "id"], str(exc))]
    if methodology.version != m.version:
        problems.append(
            _problem(
                file,
                text,
                ["methodology", "version"],
                f"{m.id} is at version {methodology.version}, not {m.version}",
            )
        )
    known = set(methodology.parameters)
    for name in m.parameters:
        if name not in known:
            problems.append(
                _problem(
                    file, text, ["methodology", "parameters", name], f"unknown parameter {name!r}"
                )
            )
    default = {c.name for c in class_table(None)}
    classes = set(spec.satellite.classes or default)
    for stratum, cls in spec.satellite.strata_classes.items():
        if cls not in classes:
            problems.append(
                _problem(
                    file,
                    text,
                    ["satellite", "strata_classes", stratum],
                    f"{cls!r} is not a land-cover class ({', '.join(sorted(classes))})",
                )
            )
    if spec.scenes.proportions is not None:
        for name in spec.scenes.proportions:
            if name not in default:
                problems.append(
                    _problem(file, text, ["scenes", "proportions", name], f"unknown class {name!r}")
                )
    return problems


def load_campaign(path: Path) -> Campaign:
    """Read and check a campaign file; every problem names the line and key."""
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise InputError(f"{file}: campaign file not found", [Problem("file not found", file=file)])
    try:
        text = path.read_text(encoding="utf-8")
        data: dict[str, Any] = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: not UTF-8", [Problem(str(exc), file=file)]) from exc
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        row = int(m.group(1)) if m else None
        raise InputError(
            f"{file}: not valid TOML: {exc}",
            [Problem(f"not valid TOML: {exc}", file=file, row=row)],
        ) from exc
    try:
        spec = CampaignFile.model_validate(data)
    except ValidationError as exc:
        problems = _type_problems(file, text, exc)
        raise InputError(
            f"{file}: {len(problems)} problem(s) in the campaign file", problems
        ) from exc
    problems = _checks(file, text, spec, path)
    if problems:
        raise InputError(f"{file}: {len(problems)} problem(s) in the campaign file", problems)
    return Campaign(path.resolve(), spec)


__all__ = ["Campaign", "CampaignFile", "load_campaign"]
