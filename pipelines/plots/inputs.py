"""Assemble a survey's inputs: which file is which table, datum and project boundary."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from methodologies.base import Methodology
from mrv.errors import FileFormatError, InputError, Problem
from mrv.geo import read_boundary
from pipelines.plots.readers import (
    EXCEL_SUFFIXES,
    VECTOR_SUFFIXES,
    RawTable,
    excel_sheets,
    read_any,
    read_excel,
    read_vector,
    vector_layers,
)
from pipelines.plots.validate import SurveyInputs, normalise_header


def _stem_table(path: Path, names: Sequence[str]) -> str | None:
    tokens = set(re.split(r"[^0-9a-z]+", path.stem.lower()))
    hits = [n for n in names if n in tokens or path.stem.lower() == n]
    return hits[0] if len(hits) == 1 else None


def _column_table(raw: RawTable, methodology: Methodology) -> str | None:
    headers = {normalise_header(str(c)) for c in raw.frame.columns}
    best: list[tuple[int, str]] = []
    for table in methodology.schema.tables:
        names = {
            normalise_header(n): col.name for col in table.columns for n in (col.name, *col.aliases)
        }
        present = {names[h] for h in headers if h in names}
        if set(table.required_columns) <= present:
            best.append((len(present), table.name))
    best.sort(reverse=True)
    if len(best) == 1 or (len(best) > 1 and best[0][0] > best[1][0]):
        return best[0][1]
    return None


def _expand(path: Path, names: Sequence[str]) -> dict[str, RawTable]:
    """Sheets/layers of a multi-table workbook or GeoPackage named like tables."""
    suffix = path.suffix.lower()
    found: dict[str, RawTable] = {}
    if suffix in EXCEL_SUFFIXES:
        sheets = excel_sheets(path)
        if len(sheets) > 1:
            for sheet in sheets:
                key = sheet.strip().lower()
                if key in names:
                    found[key] = read_excel(path, sheet=sheet, label=f"{path}:{sheet}")
    elif suffix in VECTOR_SUFFIXES and suffix == ".gpkg":
        layers = vector_layers(path)
        if len(layers) > 1:
            for layer in layers:
                key = layer.strip().lower()
                if key in names:
                    found[key] = read_vector(path, layer=layer, label=f"{path}:{layer}")
    return found


def assign_tables(
    methodology: Methodology,
    files: Sequence[str],
    named: Mapping[str, Path] | None = None,
    *,
    encoding: str | None = None,
) -> dict[str, RawTable]:
    """Read every file and decide which table each is; every problem is reported at once.

    ``files`` entries are ``NAME=PATH`` or ``PATH``; a bare path is assigned by its sheets/layers
    (a workbook with sheets ``plots``, ``culms`` …), by its file name (``anji_culms.csv``) or by
    its columns. ``named`` maps table names to paths given through options (``--culms``).
    """
    names = list(methodology.schema.names)
    tables: dict[str, RawTable] = {}
    problems: list[Problem] = []

    def put(name: str, raw: RawTable) -> None:
        if name in tables:
            problems.append(
                Problem(
                    reason=f"table {name!r} given twice (also {tables[name].file})", file=raw.file
                )
            )
        else:
            tables[name] = raw

    items: list[tuple[str | None, Path]] = [(k, Path(v)) for k, v in (named or {}).items()]
    for spec in files:
        key, sep, rest = spec.partition("=")
        if sep and key and re.fullmatch(r"[a-z_]+", key):
            items.append((key, Path(rest)))
        else:
            items.append((None, Path(spec)))
    for name, path in items:
        try:
            if name is not None:
                put(name, read_any(path, table=name, encoding=encoding))
                continue
            expanded = _expand(path, names)
            if expanded:
                for key, raw in expanded.items():
                    put(key, raw)
                continue
            raw = read_any(path, encoding=encoding)
            guess = _stem_table(path, names) or _column_table(raw, methodology)
            if guess is None:
                problems.append(
                    Problem(
                        reason="cannot tell which table this file is; name it as TABLE=FILE "
                        f"(tables: {', '.join(names)})",
                        file=str(path),
                    )
                )
            else:
                put(guess, raw)
        except FileFormatError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError("could not read the survey files", problems)
    return tables


def survey_inputs(
    methodology: Methodology,
    files: Sequence[str] = (),
    named: Mapping[str, Path] | None = None,
    *,
    datum: str = "wgs84",
    boundary: Path | None = None,
    boundary_datum: str = "wgs84",
    encoding: str | None = None,
) -> SurveyInputs:
    """Read the files and the boundary into :class:`SurveyInputs`."""
    tables = assign_tables(methodology, files, named, encoding=encoding)
    geom = None
    if boundary is not None:
        try:
            geom = read_boundary(boundary, boundary_datum)
        except FileFormatError as exc:
            raise InputError("could not read the project boundary", exc.problems) from exc
    return SurveyInputs(
        tables=tables,
        datum=datum,
        boundary=geom,
        boundary_file=str(boundary) if boundary else None,
    )
