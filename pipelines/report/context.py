"""Template context of the monitoring report (pure): ``summary.json`` + parcel rows + run record
→ the values the Jinja2 template prints. No file is read here (see :mod:`pipelines.report.render`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.report import fmt
from pipelines.report.facts import (
    block,
    deduction_facts,
    removals_facts,
    stock_facts,
    summary_facts,
)
from pipelines.report.qa import qa_section
from pipelines.report.tables import (
    CHANGE_STRATA,
    PARCELS,
    STOCK_STRATA,
    Column,
    Row,
    Table,
    table_from_rows,
)

Json = Mapping[str, Any]


@dataclass(frozen=True)
class MapFigure:
    """One map image of the report (path relative to the HTML file)."""

    src: str
    zh: str
    en: str
    caption: str = ""


def parcels_table(rows: Sequence[Json]) -> Table:
    """All parcels, with a total row (areas, share and removals summed)."""
    table = table_from_rows(rows, PARCELS)
    if not rows:
        return table
    summed = ("area_ha", "area_mu", "share", "removals_tco2e")
    total: dict[str, Any] = {k: sum(fmt.as_float(r.get(k)) or 0.0 for r in rows) for k in summed}
    total["parcel_code"] = f"合计 Total ({len(rows)})"
    shown = [s for s in PARCELS if any(s.key in r for r in rows)]
    cells = tuple(s.cell(total) if s.key in total else "" for s in shown)
    return Table(table.columns, table.rows, (Row(cells, "total"),))


def stock_strata_rows(rows: Sequence[Json], classes: Sequence[str]) -> list[Json]:
    """Per-stratum stock rows, a map zone without a ``label`` named by its class (code = 1 + index
    in ``classification.classes``, as :func:`pipelines.satellite.classes.class_table` codes)."""
    out: list[Json] = []
    for row in rows:
        zone = fmt.as_float(row.get("zone"))
        if (
            "zone" in row
            and not row.get("label")
            and zone is not None
            and 1 <= zone <= len(classes)
        ):
            row = {**row, "label": classes[int(zone) - 1]}
        out.append(row)
    return out


def _param_value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,.6g}" if abs(value) < 1e15 else str(value)


def parameters_table(params: Sequence[Json], unconfirmed: Sequence[str]) -> Table:
    """Methodology parameters used: name, value, unit, source; unconfirmed defaults flagged."""
    flagged = set(map(str, unconfirmed))
    rows = []
    for p in params:
        name = str(p.get("name", ""))
        bad = p.get("confirmed") is False or name in flagged
        status = "未确认 unconfirmed" if bad else "已确认 confirmed"
        if p.get("evidence"):
            status += f" ({p['evidence']})"
        cells = (
            name,
            _param_value(p.get("value")),
            str(p.get("unit", "")),
            str(p.get("source", "")),
            status,
        )
        rows.append(Row(cells, "unconfirmed" if bad else ""))
    cols = (
        Column("参数", "Parameter"),
        Column("数值", "Value", "", True),
        Column("单位", "Unit"),
        Column("来源", "Source"),
        Column("状态", "Status"),
    )
    return Table(cols, tuple(rows))


def build_context(
    summary: Json,
    parcels: Sequence[Json],
    *,
    run: Json,
    run_date: str,
    maps: Sequence[MapFigure],
) -> dict[str, Any]:
    """Everything the report template needs, formatted."""
    camp, meth = block(summary, "campaign"), block(summary, "methodology")
    stock, change = block(summary, "stock"), block(summary, "change")
    unconfirmed = [str(n) for n in summary.get("unconfirmed_parameters") or []]
    params = [p for p in summary.get("parameters") or [] if isinstance(p, Mapping)]
    n_unconfirmed = len(unconfirmed) or sum(p.get("confirmed") is False for p in params)
    parcel_block = block(summary, "parcels")
    classes = [str(c) for c in block(summary, "classification").get("classes") or []]
    return {
        "campaign_id": str(camp.get("id", "")),
        "title": str(camp.get("title", "")),
        "title_zh": str(camp.get("title_zh", "")),
        "methodology": f"{meth.get('id', '')} v{meth.get('version', '')}",
        "period_end": str(camp.get("period_end", "")),
        "summary_facts": summary_facts(summary, run, run_date),
        "removals": removals_facts(summary),
        "stock": stock_facts(summary),
        "n_unconfirmed": n_unconfirmed,
        "unconfirmed": unconfirmed
        or [str(p.get("name")) for p in params if p.get("confirmed") is False],
        "maps": list(maps),
        "stock_strata": table_from_rows(
            stock_strata_rows(list(stock.get("strata") or []), classes), STOCK_STRATA
        ),
        "change_strata": table_from_rows(list(change.get("strata") or []), CHANGE_STRATA),
        "change_total": fmt.plus_minus(
            change.get("net_tco2e_per_yr"), change.get("ci90_half_width_tco2e_per_yr"), 2
        ),
        "change_paired": fmt.integer(change.get("paired_plots")),
        "change_years": fmt.num(change.get("mean_years"), 2),
        "parcels": parcels_table(parcels),
        "unmapped_parcels": [str(c) for c in parcel_block.get("unmapped_parcels") or []],
        "attributed": fmt.num(parcel_block.get("attributed_tco2e"), 3),
        "deduction": deduction_facts(summary),
        "parameters": parameters_table(params, unconfirmed),
        "qa": qa_section(summary),
        "warnings": [str(w) for w in summary.get("warnings") or []],
    }


__all__ = [
    "MapFigure",
    "build_context",
    "parameters_table",
    "parcels_table",
    "stock_strata_rows",
]
