"""``render_report``: a run folder's outputs → ``report/report.html``, ``report/report.pdf`` and
``report/maps/*.png`` (layout in the README's "Campaigns" section). Reads the files, builds the
context (:mod:`pipelines.report.context`), renders the Jinja2 template and the PDF.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2

from mrv.errors import FileFormatError, InputError
from pipelines.report import fmt
from pipelines.report.context import build_context
from pipelines.report.fonts import FONT_FAMILY
from pipelines.report.mapset import draw_maps
from pipelines.report.pdf import write_pdf

TEMPLATES = Path(__file__).parent / "templates"
PACKAGE = "huzhou-mrv"
TEXT_COLUMNS = frozenset({"parcel_code", "owner", "land_type"})


@dataclass(frozen=True)
class ReportFiles:
    """Paths of the files ``render_report`` wrote."""

    html: Path
    pdf: Path
    maps: tuple[Path, ...]


def _read_json(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise InputError(f"{path}: missing (the report needs a finished campaign run)")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileFormatError(str(path), f"not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise FileFormatError(str(path), "expected a JSON object")
    return data


def read_parcels_csv(path: Path) -> list[dict[str, Any]]:
    """Rows of ``outputs/parcels.csv``; numeric columns as floats (empty → ``None``)."""
    if not path.is_file():
        raise InputError(f"{path}: missing (per-parcel attribution of the run)")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows, start=2):
        item: dict[str, Any] = {}
        for key, text in row.items():
            if key in TEXT_COLUMNS or key is None:
                item[str(key)] = text
                continue
            try:
                item[key] = float(text) if text not in ("", None) else None
            except ValueError as exc:
                raise FileFormatError(str(path), f"row {i}, column {key}: not a number") from exc
        out.append(item)
    return out


def _run_record(run_dir: Path) -> dict[str, Any]:
    """run.json, or (while the runner is still working) the installed package's version."""
    run = _read_json(run_dir / "run.json", required=False)
    if not run.get("code_version"):
        try:
            version = metadata.version(PACKAGE)
        except metadata.PackageNotFoundError:
            version = "unknown"
        run = {**run, "code_version": {"package": PACKAGE, "version": version}}
    return run


def _epoch_s(iso_date: str) -> int:
    """Unix seconds of an ISO date at 00:00 UTC (0 when missing or invalid)."""
    try:
        day = date.fromisoformat(iso_date[:10])
    except ValueError:
        return 0
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _run_date(run: dict[str, Any]) -> str:
    started = str(run.get("started_utc") or "")
    return started[:10] if started else datetime.now(UTC).date().isoformat()


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["fmt"] = fmt
    return env


def render_html(context: dict[str, Any]) -> str:
    """The report's HTML from a context made by :func:`~pipelines.report.context.build_context`."""
    return _environment().get_template("report.html.j2").render(font_family=FONT_FAMILY, **context)


def render_report(run_dir: Path, *, run_date: str | None = None) -> ReportFiles:
    """Write the bilingual monitoring report of the run in ``run_dir`` to ``run_dir/report``.

    ``run_date`` (ISO date) defaults to run.json's ``started_utc``, else today (UTC).
    """
    run_dir = Path(run_dir)
    summary = _read_json(run_dir / "outputs" / "summary.json", required=True)
    parcels = read_parcels_csv(run_dir / "outputs" / "parcels.csv")
    run = _run_record(run_dir)
    report_dir = run_dir / "report"
    maps_dir = report_dir / "maps"
    figures = draw_maps(run_dir, maps_dir, summary, parcels)
    context = build_context(
        summary, parcels, run=run, run_date=run_date or _run_date(run), maps=figures
    )
    html = render_html(context)
    html_path = report_dir / "report.html"
    html_path.write_text(html, encoding="utf-8")
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    pdf_path = write_pdf(
        html,
        report_dir,
        report_dir / "report.pdf",
        identifier=identifier,
        epoch_s=_epoch_s(str(context["period_end"])),
    )
    return ReportFiles(
        html=html_path,
        pdf=pdf_path,
        maps=tuple(report_dir / f.src for f in figures),
    )


__all__ = ["ReportFiles", "read_parcels_csv", "render_html", "render_report"]
