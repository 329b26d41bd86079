"""Validate raw survey tables against a methodology's schema; report every problem at once.

Checks: missing columns, blank required cells, unparseable values, impossible (error) and
implausible (warning) values, duplicate keys, rows referencing unknown plots, plots in strata
that are not in the strata table, strata with fewer than two plots, mixed datums, plots outside
the project boundary, and the methodology's own cross-field checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from shapely.geometry.base import BaseGeometry

from methodologies.base import Methodology, Survey
from methodologies.parameters import ParamValues
from methodologies.schema import Column, TableSchema
from mrv.datums import DATUMS, to_wgs84
from mrv.errors import Problem
from mrv.geo import points_inside
from pipelines.plots.readers import RawTable
from pipelines.plots.typing import parse_column


def normalise_header(name: str) -> str:
    """Lower-case, trimmed, spaces/hyphens as underscores (``"DBH cm"`` → ``"dbh_cm"``)."""
    return "_".join(name.strip().lower().replace("-", " ").replace("（", "(").split())


@dataclass(frozen=True)
class SurveyInputs:
    """Everything the user supplied for one survey."""

    tables: Mapping[str, RawTable]
    """Table name → raw table."""
    datum: str = "wgs84"
    """Datum of the plot coordinates (wgs84, cgcs2000, gcj02, bd09)."""
    boundary: BaseGeometry | None = None
    """Project boundary in WGS84, when one is given."""
    boundary_file: str | None = None


@dataclass
class ValidationReport:
    """Outcome of validation: the typed survey (if no errors) and every problem found."""

    problems: list[Problem] = field(default_factory=list)
    survey: Survey | None = None

    @property
    def errors(self) -> list[Problem]:
        """Problems that block the computation."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """Problems that are reported but do not block."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """No errors."""
        return not self.errors


class _Located:
    """Builds problems for rows of one raw table."""

    def __init__(self, raw: RawTable) -> None:
        self.raw = raw

    def at(
        self,
        mask: npt.NDArray[np.bool_],
        reason: str | list[str],
        column: str | None,
        severity: str = "error",
    ) -> list[Problem]:
        idx = np.flatnonzero(mask)
        rows = self.raw.rows[idx]
        reasons = reason if isinstance(reason, list) else [reason] * len(idx)
        vec = self.raw.vector
        return [
            Problem(
                reason=why,
                file=self.raw.file,
                row=None if vec else int(r),
                feature=str(int(r)) if vec else None,
                column=column,
                severity=severity,
            )
            for r, why in zip(rows, reasons, strict=True)
        ]

    def header(self, reason: str, column: str | None, severity: str = "error") -> Problem:
        return Problem(
            reason=reason,
            file=self.raw.file,
            row=None if self.raw.vector else 1,
            column=column,
            severity=severity,
        )


def _map_headers(
    raw: RawTable, schema: TableSchema, loc: _Located
) -> tuple[dict[str, str], list[Problem]]:
    """Canonical column → raw header, plus problems (missing, duplicate, unknown)."""
    lookup: dict[str, str] = {}
    for col in schema.columns:
        for name in (col.name, *col.aliases):
            lookup.setdefault(normalise_header(name), col.name)
    mapping: dict[str, str] = {}
    problems: list[Problem] = []
    for header in raw.frame.columns:
        canonical = lookup.get(normalise_header(str(header)))
        if canonical is None:
            problems.append(loc.header("unknown column, ignored", str(header), "warning"))
        elif canonical in mapping:
            problems.append(
                loc.header(
                    f"duplicate column for {canonical} (also {mapping[canonical]!r})", str(header)
                )
            )
        else:
            mapping[canonical] = str(header)
    for col in schema.columns:
        if col.required and col.name not in mapping:
            problems.append(loc.header(f"missing required column {col.name}", col.name))
    return mapping, problems


def _fmt(value: float) -> str:
    return f"{value:g}"


def _check_column(
    raw: RawTable, col: Column, header: str, loc: _Located
) -> tuple[pd.Series, list[Problem]]:
    parsed = parse_column(raw.frame[header], col)
    problems: list[Problem] = []
    if not col.nullable:
        problems += loc.at(parsed.empty, "empty value", col.name)
    if parsed.invalid.any():
        cells = raw.frame[header].to_numpy(dtype=object)[parsed.invalid]
        problems += loc.at(
            parsed.invalid, [f"{parsed.reason}: {str(c).strip()!r}" for c in cells], col.name
        )
    if col.kind in ("float", "int"):
        values = parsed.values.to_numpy(dtype=np.float64)
        unit = f" {col.unit}" if col.unit else ""
        for bound, op, sev, word in (
            (col.minimum, np.less, "error", "below the possible minimum"),
            (col.maximum, np.greater, "error", "above the possible maximum"),
            (col.warn_below, np.less, "warning", "unusually low (below"),
            (col.warn_above, np.greater, "warning", "unusually high (above"),
        ):
            if bound is None:
                continue
            with np.errstate(invalid="ignore"):
                bad = op(values, bound) & np.isfinite(values)
            if col.minimum is not None and sev == "warning":
                bad &= values >= col.minimum
            if col.maximum is not None and sev == "warning":
                bad &= values <= col.maximum
            if bad.any():
                close = ")" if sev == "warning" else ""
                reasons = [
                    f"{_fmt(v)}{unit} is {word} {_fmt(bound)}{unit}{close}" for v in values[bad]
                ]
                problems += loc.at(bad, reasons, col.name, sev)
    return parsed.values, problems


def _check_table(raw: RawTable, schema: TableSchema) -> tuple[pd.DataFrame | None, list[Problem]]:
    loc = _Located(raw)
    mapping, problems = _map_headers(raw, schema, loc)
    if len(raw.frame) == 0:
        problems.append(loc.header("the table has no data rows", None))
        return None, problems
    typed: dict[str, pd.Series] = {}
    for col in schema.columns:
        if col.name in mapping:
            typed[col.name], found = _check_column(raw, col, mapping[col.name], loc)
            problems += found
    frame = pd.DataFrame(typed)
    frame["_row"] = raw.rows
    if schema.key and all(k in frame.columns for k in schema.key):
        key = frame[list(schema.key)]
        dup = key.duplicated(keep=False).to_numpy() & key.notna().all(axis=1).to_numpy()
        if dup.any():
            first = frame.loc[dup].groupby(list(schema.key), sort=False)["_row"].transform("min")
            label = "row" if not raw.vector else "feature"
            keys = key.loc[dup].astype(str).agg("/".join, axis=1)
            reasons = [
                f"duplicate {'/'.join(schema.key)} {k!r} (first at {label} {f})"
                for k, f in zip(keys, first, strict=True)
            ]
            problems += loc.at(dup, reasons, schema.key[0])
    return frame, problems


def _ref_problems(
    child: pd.DataFrame, raw: RawTable, parent_ids: pd.Index, parent_file: str, noun: str
) -> list[Problem]:
    ids = child["plot_id"]
    missing = (~ids.isin(parent_ids) & ids.notna()).to_numpy()
    return _Located(raw).at(
        missing,
        [f"{noun} of unknown plot {v!r} (not in {parent_file})" for v in ids[missing]],
        "plot_id",
    )


def validate_survey(
    methodology: Methodology, inputs: SurveyInputs, p: ParamValues
) -> ValidationReport:
    """Validate ``inputs`` for ``methodology``; the report holds a :class:`Survey` if no errors."""
    report = ValidationReport()
    schema = methodology.schema
    unknown = [name for name in inputs.tables if name not in schema.names]
    for name in unknown:
        report.problems.append(
            Problem(
                reason=(
                    f"{methodology.id} has no table {name!r}; its tables are "
                    f"{', '.join(schema.names)}"
                ),
                file=inputs.tables[name].file,
            )
        )
    for table in schema.tables:
        if table.required and table.name not in inputs.tables:
            report.problems.append(
                Problem(reason=f"required table {table.name!r} was not supplied (--{table.name})")
            )
    frames: dict[str, pd.DataFrame] = {}
    for table in schema.tables:
        if table.name in inputs.tables:
            frame, found = _check_table(inputs.tables[table.name], table)
            report.problems += found
            if frame is not None:
                frames[table.name] = frame
    if "plots" not in frames:
        return report
    plots = frames["plots"]
    plots_raw = inputs.tables["plots"]
    if "plot_id" in plots.columns:
        plot_ids = pd.Index(plots["plot_id"].dropna())
        for table in schema.tables:
            if table.parent == "plots" and table.name in frames and "plot_id" in frames[table.name]:
                report.problems += _ref_problems(
                    frames[table.name],
                    inputs.tables[table.name],
                    plot_ids,
                    plots_raw.file,
                    f"{table.name} row",
                )
    report.problems += _strata_problems(frames, inputs)
    datum, found = _datum(plots, plots_raw, inputs.datum)
    report.problems += found
    if {"lon", "lat"} <= set(plots.columns) and datum is not None:
        lon, lat = to_wgs84(plots["lon"].to_numpy(float), plots["lat"].to_numpy(float), datum)
        plots["lon_input"], plots["lat_input"] = plots["lon"], plots["lat"]
        plots["lon"], plots["lat"] = lon, lat
        if inputs.boundary is not None:
            ok = np.isfinite(lon) & np.isfinite(lat)
            outside = ok & ~points_inside(
                inputs.boundary, np.where(ok, lon, 0), np.where(ok, lat, 0)
            )
            name = inputs.boundary_file or "the project boundary"
            report.problems += _Located(plots_raw).at(
                outside, f"plot location is outside {name} (datum {datum})", "lon"
            )
    if report.errors:
        return report
    survey = Survey(
        tables={name: frame.reset_index(drop=True) for name, frame in frames.items()},
        files={name: raw.file for name, raw in inputs.tables.items()},
        vector={name: raw.vector for name, raw in inputs.tables.items()},
    )
    report.problems += methodology.check(survey, p)
    if not report.errors:
        report.survey = survey
    return report


def _datum(plots: pd.DataFrame, raw: RawTable, declared: str) -> tuple[str | None, list[Problem]]:
    """The plots file's datum: a uniform ``datum`` column wins over the declared option."""
    key = declared.strip().lower().replace("-", "")
    if key not in DATUMS:
        return None, [
            Problem(
                reason=f"unknown datum {declared!r}; use one of {', '.join(DATUMS)}", file=raw.file
            )
        ]
    if "datum" not in plots.columns:
        return key, []
    values = plots["datum"].dropna().unique()
    if len(values) == 0:
        return key, []
    if len(values) > 1:
        return None, [
            Problem(
                reason=f"mixed datums {', '.join(sorted(map(str, values)))} in one file; declare "
                "one datum per file",
                file=raw.file,
                column="datum",
            )
        ]
    return str(values[0]), []


def _strata_problems(frames: dict[str, pd.DataFrame], inputs: SurveyInputs) -> list[Problem]:
    plots = frames["plots"]
    if "stratum" not in plots.columns:
        return []
    plots_loc = _Located(inputs.tables["plots"])
    problems: list[Problem] = []
    counts = plots["stratum"].value_counts()
    strata = frames.get("strata")
    if strata is not None and "stratum" in strata.columns:
        strata_raw = inputs.tables["strata"]
        known = pd.Index(strata["stratum"].dropna())
        missing = (~plots["stratum"].isin(known) & plots["stratum"].notna()).to_numpy()
        problems += plots_loc.at(
            missing,
            [f"stratum {s!r} is not in {strata_raw.file}" for s in plots["stratum"][missing]],
            "stratum",
        )
        n = strata["stratum"].map(counts).fillna(0).astype(int)
        few = (n < 2).to_numpy() & strata["stratum"].notna().to_numpy()
        problems += _Located(strata_raw).at(
            few,
            [
                f"stratum {s!r} has {k} plot(s); at least 2 are needed"
                for s, k in zip(strata["stratum"][few], n[few], strict=True)
            ],
            "stratum",
        )
    else:
        few = plots["stratum"].map(counts).fillna(0).to_numpy() < 2
        few &= plots["stratum"].notna().to_numpy()
        problems += plots_loc.at(
            few, "the only plot of its stratum; at least 2 are needed", "stratum"
        )
    return problems
