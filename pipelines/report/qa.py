"""QA/QC section of the report (pure): plot validation, scenes (cloud cover, valid observations),
classification accuracy (overall, kappa, confusion matrix, Olofsson areas) and plot sufficiency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.report import fmt
from pipelines.report.facts import Fact, block
from pipelines.report.labels import class_label, season_label, severity_label
from pipelines.report.tables import (
    CLASS_AREAS,
    SAMPLING_STRATA,
    Column,
    Row,
    Table,
    table_from_rows,
)

Json = Mapping[str, Any]


@dataclass(frozen=True)
class QASection:
    """Everything the QA/QC chapter shows."""

    validation: Table
    validation_counts: tuple[int, int]
    """(errors, warnings) among the plot-validation problems."""
    cloud_cover: Table
    valid_obs: Table
    accuracy: list[Fact]
    confusion: Table
    areas: Table
    sampling: list[Fact]
    sampling_strata: Table


def _location(problem: Json) -> str:
    parts = [str(problem.get("file") or "")]
    for key, label in (("row", "row"), ("feature", "feature"), ("column", "column")):
        if problem.get(key) is not None:
            parts.append(f"{label} {problem[key]}")
    return ", ".join(p for p in parts if p) or fmt.MISSING


def validation_table(problems: Sequence[Any]) -> tuple[Table, tuple[int, int]]:
    """Plot-validation problems (``mrv.errors.Problem`` dicts or plain text)."""
    rows: list[Row] = []
    errors = warnings = 0
    for p in problems:
        item = p if isinstance(p, Mapping) else {"reason": str(p), "severity": "warning"}
        severity = str(item.get("severity") or "error")
        errors += severity == "error"
        warnings += severity != "error"
        rows.append(
            Row(
                (str(severity_label(severity)), _location(item), str(item.get("reason", ""))),
                severity,
            )
        )
    cols = (Column("级别", "Severity"), Column("位置", "Location"), Column("原因", "Reason"))
    return Table(cols, tuple(rows)), (errors, warnings)


def cloud_table(scenes: Json) -> Table:
    """Cloud cover per scene date."""
    dates = list(scenes.get("dates") or [])
    cover = list(scenes.get("cloud_cover") or [])
    rows = tuple(
        Row((str(d), fmt.pct(cover[i] if i < len(cover) else None))) for i, d in enumerate(dates)
    )
    return Table((Column("日期", "Date"), Column("云量", "Cloud cover", "%", True)), rows)


def valid_obs_table(valid_obs: Json) -> Table:
    """Valid (cloud-free) observations per pixel and season: minimum, 5th percentile, mean."""
    rows = tuple(
        Row(
            (
                str(season_label(str(season))),
                fmt.integer(v.get("dates")),
                fmt.integer(v.get("min")),
                fmt.num(v.get("p05"), 1),
                fmt.num(v.get("mean"), 1),
                fmt.pct(v.get("share_without_clear_obs")),
            ),
            "warning" if (fmt.as_float(v.get("min")) or 0) < 1 else "",
        )
        for season, v in valid_obs.items()
        if isinstance(v, Mapping)
    )
    cols = (
        Column("季节", "Season"),
        Column("影像数", "Scenes", "n", True),
        Column("最小值", "Minimum", "obs/pixel", True),
        Column("5% 分位数", "5th percentile", "obs/pixel", True),
        Column("均值", "Mean", "obs/pixel", True),
        Column("无有效观测像元", "Pixels without clear obs", "%", True),
    )
    return Table(cols, rows)


def confusion_table(classes: Sequence[str], matrix: Sequence[Sequence[Any]]) -> Table:
    """Confusion matrix, rows = reference, columns = map (counts), with row and column totals."""
    if not classes or not matrix:
        return Table((), ())
    labels = [class_label(str(c)) for c in classes]
    cols = (
        Column("参考 \\ 分类", "Reference \\ map"),
        *(Column(b.zh, b.en, "", True) for b in labels),
        Column("合计", "Total", "", True),
    )
    rows = []
    for label, counts in zip(labels, matrix, strict=False):
        cells = [fmt.integer(c) for c in counts]
        rows.append(Row((str(label), *cells, fmt.integer(sum(float(c) for c in counts)))))
    col_tot = [sum(float(r[j]) for r in matrix) for j in range(len(classes))]
    footer = Row(
        ("合计 Total", *(fmt.integer(c) for c in col_tot), fmt.integer(sum(col_tot))), "total"
    )
    return Table(cols, tuple(rows), (footer,))


def qa_section(summary: Json) -> QASection:
    """Build the QA/QC chapter from ``summary.qa``, ``scenes`` and ``classification``."""
    qa, scenes, cls = (
        block(summary, "qa"),
        block(summary, "scenes"),
        block(summary, "classification"),
    )
    validation, counts = validation_table(list(qa.get("plot_validation") or []))
    valid_obs = block(scenes, "valid_obs") or block(qa, "valid_obs")
    cv = block(cls, "cv")
    accuracy = [
        Fact("总体精度", "Overall accuracy", fmt.pct(cls.get("overall_accuracy"))),
        Fact("Kappa 系数", "Kappa", fmt.num(cls.get("kappa"), 3)),
        Fact(
            "交叉验证",
            "Cross-validation",
            f"{cv.get('method', fmt.MISSING)}, {cv.get('folds', fmt.MISSING)} folds",
        ),
        Fact("面积估计样本", "Area-estimation sample", str(cls.get("area_sample") or fmt.MISSING)),
    ]
    sampling = block(qa, "sampling")
    sufficient = sampling.get("sufficient")
    sampling_facts = [
        Fact("样地数", "Plots measured", fmt.integer(sampling.get("n_plots"))),
        Fact("所需样地数", "Plots required", fmt.integer(sampling.get("n_required"))),
        Fact(
            "样地是否充足",
            "Sufficient",
            fmt.MISSING
            if sufficient is None
            else ("是 yes" if sufficient else "否 no — 样地不足 too few plots"),
            flag=sufficient is False,
            badge="不足 insufficient" if sufficient is False else "",
        ),
        Fact(
            "目标相对精度",
            "Target relative precision",
            fmt.pct(sampling.get("target_relative_precision")),
        ),
        Fact(
            "实际相对精度",
            "Achieved relative precision",
            fmt.pct(sampling.get("achieved_relative_precision")),
        ),
    ]
    return QASection(
        validation=validation,
        validation_counts=counts,
        cloud_cover=cloud_table(scenes),
        valid_obs=valid_obs_table(valid_obs),
        accuracy=accuracy,
        confusion=confusion_table(
            list(cls.get("classes") or []), list(cls.get("confusion_matrix") or [])
        ),
        areas=table_from_rows(list(cls.get("areas") or []), CLASS_AREAS),
        sampling=sampling_facts,
        sampling_strata=table_from_rows(list(sampling.get("strata") or []), SAMPLING_STRATA),
    )


__all__ = ["QASection", "confusion_table", "qa_section", "validation_table"]
