"""Report tables as plain values (pure): bilingual column heads with units, formatted cells.

A :class:`ColumnSpec` names a key of the summary's row dicts and how to show it; a column whose
key no row carries is left out, so a table follows whatever fields the run wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pipelines.report import fmt
from pipelines.report.labels import Bilingual, class_label, land_type_label, stratum_label

Kind = Literal["text", "num", "int", "pct", "stratum", "class", "land_type", "bool"]


@dataclass(frozen=True)
class Column:
    """One column head: bilingual label, unit (shown in the head) and alignment."""

    zh: str
    en: str
    unit: str = ""
    numeric: bool = False


@dataclass(frozen=True)
class Row:
    """One row of formatted cells; ``css`` marks e.g. a total or a flagged row."""

    cells: tuple[str, ...]
    css: str = ""


@dataclass(frozen=True)
class Table:
    """A table ready for the template."""

    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    footer: tuple[Row, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        """No data rows."""
        return not self.rows


@dataclass(frozen=True)
class ColumnSpec:
    """Which key of a row dict to show, its bilingual head, unit, kind and decimals."""

    key: str
    zh: str
    en: str
    unit: str = ""
    kind: Kind = "num"
    decimals: int = 1

    def column(self) -> Column:
        """The column head."""
        return Column(self.zh, self.en, self.unit, self.kind in ("num", "int", "pct"))

    def cell(self, row: Mapping[str, Any]) -> str:
        """The formatted cell of ``row``."""
        value = row.get(self.key)
        return format_value(value, self.kind, self.decimals)


def _yes_no(value: Any) -> str:
    if value is None:
        return fmt.MISSING
    return "是 yes" if value else "否 no"


def _bilingual_name(label: Callable[[str], Bilingual]) -> Callable[[Any, int], str]:
    return lambda v, _d: fmt.MISSING if v is None else str(label(str(v)))


_FORMATTERS: dict[str, Callable[[Any, int], str]] = {
    "num": fmt.num,
    "int": lambda v, _d: fmt.integer(v),
    "pct": fmt.pct,
    "text": lambda v, _d: fmt.MISSING if v is None or v == "" else str(v),
    "stratum": _bilingual_name(stratum_label),
    "class": _bilingual_name(class_label),
    "land_type": _bilingual_name(land_type_label),
    "bool": lambda v, _d: _yes_no(v),
}


def format_value(value: Any, kind: Kind, decimals: int = 1) -> str:
    """Format one value of a given kind (see :mod:`pipelines.report.fmt`)."""
    return _FORMATTERS[kind](value, decimals)


def table_from_rows(rows: Sequence[Mapping[str, Any]], specs: Sequence[ColumnSpec]) -> Table:
    """A table of ``rows`` showing the ``specs`` whose key at least one row has."""
    shown = [s for s in specs if any(s.key in r for r in rows)]
    return Table(
        columns=tuple(s.column() for s in shown),
        rows=tuple(Row(tuple(s.cell(r) for s in shown)) for r in rows),
    )


STOCK_STRATA = (
    ColumnSpec("stratum", "层", "Stratum", kind="stratum"),
    ColumnSpec("label", "地类", "Land-cover class", kind="class"),
    ColumnSpec("n_plots", "样地数", "Plots", "n", "int"),
    ColumnSpec("area_ha", "面积", "Area", "ha", decimals=2),
    ColumnSpec("mapped_area_ha", "有碳密度面积", "Mapped area", "ha", decimals=2),
    ColumnSpec("plot_mean_tc_per_ha", "样地均值", "Plot mean", "t C/ha", decimals=2),
    ColumnSpec("map_mean_tc_per_ha", "图斑均值", "Map mean", "t C/ha", decimals=2),
    ColumnSpec("mean_tc_per_ha", "均值", "Mean", "t C/ha", decimals=2),
    ColumnSpec("ci90_half_width_tc_per_ha", "90% 置信区间半宽", "90 % CI ±", "t C/ha", decimals=2),
    ColumnSpec("residual_sd_tc_per_ha", "残差标准差", "Residual SD", "t C/ha", decimals=2),
    ColumnSpec("total_tc", "碳储量", "Stock", "t C", decimals=1),
    ColumnSpec("se_tc", "标准误", "SE", "t C", decimals=1),
    ColumnSpec("total_co2e_t", "碳储量", "Stock", "t CO2e", decimals=1),
    ColumnSpec("ci90_relative", "相对半宽", "Relative ±", kind="pct"),
)
"""Per-stratum stock (model-assisted or plot-based rows of ``summary.stock.strata``)."""

CHANGE_STRATA = (
    ColumnSpec("stratum", "层", "Stratum", kind="stratum"),
    ColumnSpec("n_plots", "样地对数", "Paired plots", "n", "int"),
    ColumnSpec("area_ha", "面积", "Area", "ha", decimals=2),
    ColumnSpec("mean_years", "间隔", "Interval", "yr", decimals=2),
    ColumnSpec(
        "mean_stock_change_tc_per_ha_yr", "碳储量变化", "Stock change", "t C/ha/yr", "num", 3
    ),
    ColumnSpec("ci90_half_width_tc_per_ha_yr", "90% 半宽", "90 % CI ±", "t C/ha/yr", "num", 3),
    ColumnSpec("mean_net_tco2e_per_ha_yr", "净清除", "Net removals", "t CO2e/ha/yr", "num", 3),
    ColumnSpec(
        "ci90_half_width_tco2e_per_ha_yr", "90% 半宽", "90 % CI ±", "t CO2e/ha/yr", "num", 3
    ),
    ColumnSpec("total_net_tco2e_per_yr", "合计净清除", "Total net removals", "t CO2e/yr"),
)
"""Per-stratum change between the two surveys (``summary.change.strata``)."""

PARCELS = (
    ColumnSpec("parcel_code", "地块编号", "Parcel", kind="text"),
    ColumnSpec("owner", "权利人", "Owner", kind="text"),
    ColumnSpec("land_type", "地类", "Land type", kind="land_type"),
    ColumnSpec("area_ha", "面积", "Area", "ha", decimals=2),
    ColumnSpec("area_mu", "面积", "Area", "亩 mu", decimals=1),
    ColumnSpec("share", "份额", "Share", kind="pct", decimals=2),
    ColumnSpec("removals_tco2e", "清除量", "Removals", "t CO2e", decimals=3),
    ColumnSpec(
        "removals_tco2e_per_ha_yr", "单位面积年清除量", "Removals", "t CO2e/ha/yr", decimals=2
    ),
)
"""Per-parcel attribution (``outputs/parcels.csv``)."""

CLASS_AREAS = (
    ColumnSpec("class", "地类", "Class", kind="class"),
    ColumnSpec("map_area_ha", "制图面积", "Mapped area", "ha", decimals=1),
    ColumnSpec("adjusted_area_ha", "校正面积", "Adjusted area", "ha", decimals=1),
    ColumnSpec("ci95_ha", "95% 置信区间半宽", "95 % CI ±", "ha", decimals=1),
    ColumnSpec("ci90_ha", "90% 置信区间半宽", "90 % CI ±", "ha", decimals=1),
    ColumnSpec("users_accuracy", "用户精度", "User's accuracy", kind="pct"),
    ColumnSpec("producers_accuracy", "制图精度", "Producer's accuracy", kind="pct"),
)
"""Olofsson et al. (2014) area estimates per class (``summary.classification.areas``)."""

SAMPLING_STRATA = (
    ColumnSpec("stratum", "层", "Stratum", kind="stratum"),
    ColumnSpec("n_plots", "样地数", "Plots", "n", "int"),
    ColumnSpec("n_required", "所需样地数", "Plots required", "n", "int"),
    ColumnSpec("sufficient", "是否充足", "Sufficient", kind="bool"),
)
"""Plot sufficiency per stratum (CDM AR-Tool03; ``summary.qa.sampling.strata``)."""


__all__ = [
    "CHANGE_STRATA",
    "CLASS_AREAS",
    "PARCELS",
    "SAMPLING_STRATA",
    "STOCK_STRATA",
    "Column",
    "ColumnSpec",
    "Row",
    "Table",
    "format_value",
    "table_from_rows",
]
