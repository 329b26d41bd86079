"""Plot-survey pipeline: read survey tables, validate them, estimate stocks with uncertainty.

Typical use::

    from pipelines.plots import estimate
    result = estimate("bamboo-moso", ["plots.csv", "culms.csv", "strata.csv"])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from methodologies import Survey, get
from methodologies.parameters import ParamValues
from mrv.errors import SurveyValidationError
from mrv.settings import Settings
from pipelines.plots.change import estimate_change
from pipelines.plots.estimate import estimate_survey, per_plot_pools
from pipelines.plots.inputs import assign_tables, survey_inputs
from pipelines.plots.readers import RawTable, read_any
from pipelines.plots.spec import SurveySpec, load_spec
from pipelines.plots.validate import SurveyInputs, ValidationReport, validate_survey

__all__ = [
    "RawTable",
    "SurveyInputs",
    "SurveySpec",
    "ValidationReport",
    "assign_tables",
    "change",
    "estimate",
    "estimate_change",
    "estimate_survey",
    "load_spec",
    "per_plot_pools",
    "read_any",
    "survey_inputs",
    "validate",
    "validate_survey",
]


def validate(
    methodology_id: str,
    files: Sequence[str] = (),
    named: Mapping[str, Path] | None = None,
    *,
    params: Mapping[str, str] | None = None,
    datum: str = "wgs84",
    boundary: Path | None = None,
    boundary_datum: str = "wgs84",
    encoding: str | None = None,
) -> ValidationReport:
    """Read and validate survey files for a methodology; the report lists every problem."""
    methodology = get(methodology_id)
    values = ParamValues(methodology.parameters.with_overrides(params or {}))
    inputs = survey_inputs(
        methodology,
        files,
        named,
        datum=datum,
        boundary=boundary,
        boundary_datum=boundary_datum,
        encoding=encoding,
    )
    return validate_survey(methodology, inputs, values)


def estimate(
    methodology_id: str,
    files: Sequence[str] = (),
    named: Mapping[str, Path] | None = None,
    *,
    params: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    datum: str = "wgs84",
    boundary: Path | None = None,
    boundary_datum: str = "wgs84",
    encoding: str | None = None,
) -> dict[str, Any]:
    """Validate and estimate; raises :class:`SurveyValidationError` listing every error."""
    methodology = get(methodology_id)
    values = ParamValues(methodology.parameters.with_overrides(params or {}))
    inputs = survey_inputs(
        methodology,
        files,
        named,
        datum=datum,
        boundary=boundary,
        boundary_datum=boundary_datum,
        encoding=encoding,
    )
    report = validate_survey(methodology, inputs, values)
    if report.survey is None:
        raise SurveyValidationError.from_problems(report.problems)
    result = estimate_survey(methodology, report.survey, values, settings or Settings())
    result["validation_warnings"] = [p.to_dict() for p in report.warnings]
    result["inputs"] = [
        {"table": name, "file": raw.file, "rows": len(raw.frame), "sha256": raw.sha256}
        for name, raw in inputs.tables.items()
    ]
    result["datum"] = datum
    return result


def _validated(
    methodology_id: str, spec: SurveySpec, values: ParamValues
) -> tuple[Survey, SurveyInputs]:
    methodology = get(methodology_id)
    inputs = survey_inputs(
        methodology,
        named=spec.tables,
        datum=spec.datum,
        boundary=spec.boundary,
        boundary_datum=spec.boundary_datum,
        encoding=spec.encoding,
    )
    report = validate_survey(methodology, inputs, values)
    if report.survey is None:
        raise SurveyValidationError.from_problems(report.problems)
    return report.survey, inputs


def change(
    methodology_id: str,
    before: Path,
    after: Path,
    *,
    params: Mapping[str, str] | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Stock change and net removals between two surveys given as spec files (TOML)."""
    methodology = get(methodology_id)
    values = ParamValues(methodology.parameters.with_overrides(params or {}))
    spec_b, spec_a = load_spec(before, methodology), load_spec(after, methodology)
    survey_b, inputs_b = _validated(methodology_id, spec_b, values)
    survey_a, inputs_a = _validated(methodology_id, spec_a, values)
    result = estimate_change(methodology, survey_b, survey_a, values, settings or Settings())
    result["inputs"] = [
        {
            "survey": label,
            "table": name,
            "file": raw.file,
            "rows": len(raw.frame),
            "sha256": raw.sha256,
        }
        for label, inputs in (("before", inputs_b), ("after", inputs_a))
        for name, raw in inputs.tables.items()
    ]
    return result
