"""Read survey tables from CSV (UTF-8 or GBK/GB18030), XLSX and GeoPackage/GeoJSON.

Everything is read as text first (typing happens during validation so every bad cell can be
reported with its location). Row numbers are spreadsheet rows: the header is row 1, the first
data row is row 2; vector files are located by feature id instead.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from mrv.errors import FileFormatError
from mrv.hashing import sha256_file

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb")


@dataclass(frozen=True)
class RawTable:
    """One table as read from a file, all cells still text (or Excel-native values)."""

    frame: pd.DataFrame
    """Cells as read; headers stripped but not yet mapped to canonical names."""
    file: str
    """File name as given (plus ``:sheet`` / ``:layer`` when one of several)."""
    rows: npt.NDArray[np.int64]
    """Spreadsheet row number (or feature id when :attr:`vector`) of each frame row."""
    vector: bool = False
    """Rows are features of a vector file; ``lon``/``lat`` come from point geometries."""
    sha256: str = ""
    """SHA-256 of the file's bytes."""
    crs: str | None = None
    """CRS of a vector file's geometries (before conversion to lon/lat), when known."""


def decode_text(data: bytes, file: str, encoding: str | None = None) -> str:
    """Decode CSV bytes: the given encoding, else UTF-8 (with or without BOM), else GB18030."""
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise FileFormatError(file, f"cannot decode as {encoding}: {exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # superset of GBK/GB2312 (Chinese Excel exports)
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            file, "not UTF-8 or GBK/GB18030 text; save the table as CSV UTF-8"
        ) from exc


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def read_csv(path: Path, *, encoding: str | None = None, label: str | None = None) -> RawTable:
    """Read a delimited text table (delimiter from the header line: , tab ; or |)."""
    file = label or str(path)
    data = path.read_bytes()
    text = decode_text(data, file, encoding)
    if not text.strip():
        raise FileFormatError(file, "the file is empty")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=_delimiter(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise FileFormatError(file, f"not a readable CSV table: {exc}") from exc
    rows = np.arange(2, len(frame) + 2, dtype=np.int64)
    blank = (frame.apply(lambda col: col.str.strip()) == "").all(axis=1).to_numpy()
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawTable(
        frame=frame.loc[~blank].reset_index(drop=True),
        file=file,
        rows=rows[~blank],
        sha256=hashlib.sha256(data).hexdigest(),
    )


def excel_sheets(path: Path) -> list[str]:
    """Sheet names of a workbook."""
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            return [str(s) for s in book.sheet_names]
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise FileFormatError(str(path), f"not a readable XLSX workbook: {exc}") from exc


def read_excel(path: Path, *, sheet: str | int = 0, label: str | None = None) -> RawTable:
    """Read one sheet of a workbook; the first row is the header."""
    file = label or str(path)
    try:
        frame = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl")
    except ValueError as exc:
        raise FileFormatError(file, f"sheet {sheet!r} not found: {exc}") from exc
    except Exception as exc:
        raise FileFormatError(file, f"not a readable XLSX workbook: {exc}") from exc
    frame = frame.astype(object).where(frame.notna(), "")
    rows = np.arange(2, len(frame) + 2, dtype=np.int64)
    blank = (frame.astype(str).apply(lambda col: col.str.strip()) == "").all(axis=1).to_numpy()
    frame.columns = [str(c).strip() for c in frame.columns]
    return RawTable(
        frame=frame.loc[~blank].reset_index(drop=True),
        file=file,
        rows=rows[~blank],
        sha256=sha256_file(path),
    )


def vector_layers(path: Path) -> list[str]:
    """Layer names of a vector file."""
    import pyogrio

    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:
        raise FileFormatError(str(path), f"not a readable vector file: {exc}") from exc


def read_vector(path: Path, *, layer: str | None = None, label: str | None = None) -> RawTable:
    """Read a GeoPackage/GeoJSON layer; point geometries become ``lon``/``lat`` (EPSG:4326).

    Projected CRSs are transformed to geographic WGS84 first. A layer without geometry is read
    as a plain attribute table.
    """
    import pyogrio

    file = label or str(path)
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    except Exception as exc:
        raise FileFormatError(file, f"not a readable vector file: {exc}") from exc
    crs = None
    geometry = getattr(gdf, "geometry", None) if "geometry" in gdf.columns else None
    frame = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
    if geometry is not None and len(gdf):
        if gdf.crs is not None:
            crs = gdf.crs.to_string()
            if not gdf.crs.is_geographic:
                geometry = geometry.to_crs(4326)
        kinds = set(geometry.geom_type.dropna())
        if kinds and kinds != {"Point"}:
            raise FileFormatError(
                file, f"plot locations must be Point geometries, found {', '.join(sorted(kinds))}"
            )
        if "lon" not in frame.columns and "lat" not in frame.columns:
            frame["lon"] = geometry.x.to_numpy()
            frame["lat"] = geometry.y.to_numpy()
    frame = frame.astype(object).where(frame.notna(), "")
    frame.columns = [str(c).strip() for c in frame.columns]
    ids = np.asarray(gdf.index.to_numpy(), dtype=np.int64)
    return RawTable(
        frame=frame.reset_index(drop=True),
        file=file,
        rows=ids,
        vector=True,
        sha256=sha256_file(path),
        crs=crs,
    )


def read_any(
    path: Path,
    *,
    table: str | None = None,
    encoding: str | None = None,
) -> RawTable:
    """Read ``path`` by its suffix; in a workbook or multi-layer file pick sheet/layer ``table``.

    A workbook/vector file with one sheet/layer is read whole; with several, the sheet or layer
    named like the table (``plots``, ``culms`` …) is used.
    """
    if not path.exists():
        raise FileFormatError(str(path), "file not found")
    if path.is_dir():
        raise FileFormatError(str(path), "is a directory, not a table file")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv(path, encoding=encoding)
    if suffix in EXCEL_SUFFIXES:
        sheets = excel_sheets(path)
        if len(sheets) == 1:
            return read_excel(path, sheet=0)
        match = _pick(sheets, table)
        if match is None:
            raise FileFormatError(
                str(path), f"has sheets {', '.join(sheets)}; none is named {table!r}"
            )
        return read_excel(path, sheet=match, label=f"{path}:{match}")
    if suffix in VECTOR_SUFFIXES:
        layers = vector_layers(path)
        if len(layers) <= 1:
            return read_vector(path)
        match = _pick(layers, table)
        if match is None:
            raise FileFormatError(
                str(path), f"has layers {', '.join(layers)}; none is named {table!r}"
            )
        return read_vector(path, layer=match, label=f"{path}:{match}")
    raise FileFormatError(
        str(path),
        f"unsupported file type {suffix or '(none)'}; use CSV, XLSX, GeoPackage or GeoJSON",
    )


def _pick(names: list[str], table: str | None) -> str | None:
    if table is None:
        return None
    for name in names:
        if name.strip().lower() == table.lower():
            return name
    return None
