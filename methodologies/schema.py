"""Survey table schemas: the columns each methodology expects, with types and plausible ranges.

Every methodology shares the ``plots`` and ``strata`` tables (extended with its own columns) and
adds its measurement tables (``culms``, ``trees``, ``cores`` …). The plot-survey pipeline reads,
types and validates files against these schemas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["float", "int", "str", "date", "bool"]


@dataclass(frozen=True)
class Column:
    """One column of a survey table."""

    name: str
    """Canonical (English, snake_case, unit-suffixed) name."""
    kind: ColumnKind
    """Value type after parsing."""
    unit: str = ""
    """Unit of the values, for people and documents."""
    description: str = ""
    """What the column holds."""
    required: bool = True
    """The column must be present."""
    nullable: bool = False
    """Empty cells are allowed (``required`` only demands the header)."""
    minimum: float | None = None
    """Values below are impossible: an error."""
    maximum: float | None = None
    """Values above are impossible: an error."""
    warn_below: float | None = None
    """Values below are implausible: a warning."""
    warn_above: float | None = None
    """Values above are implausible: a warning."""
    choices: tuple[str, ...] | None = None
    """Allowed values for a text column (compared case-insensitively, stored lower-case)."""
    aliases: tuple[str, ...] = ()
    """Other accepted header names (e.g. Chinese headers of Excel exports)."""


@dataclass(frozen=True)
class TableSchema:
    """One survey table."""

    name: str
    """Table name; also the CLI option (``--culms FILE``) and the sheet/layer name looked for."""
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    """Columns whose combination must be unique (``("plot_id",)`` for plots)."""
    parent: str | None = "plots"
    """Table whose ``plot_id`` values this table's ``plot_id`` must reference."""
    required: bool = True
    """The table must be supplied."""

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)


PLOT_ID = Column(
    "plot_id",
    "str",
    description="Plot identifier, unique within the survey.",
    aliases=("plot", "样地号", "样地编号", "样地"),
)

PLOT_REF = Column(
    "plot_id",
    "str",
    description="Plot the row belongs to (an id of the plots table).",
    aliases=("plot", "样地号", "样地编号", "样地"),
)
"""The ``plot_id`` column of every measurement table (culms, trees, cores …)."""

SOIL_LAYER_COLUMNS: tuple[Column, ...] = (
    Column(
        "depth_top_cm",
        "float",
        "cm",
        "Top of the layer below the mineral soil surface (0 = surface).",
        minimum=0.0,
        maximum=300.0,
        aliases=("top_cm", "上界深度", "上界_cm", "土层上界"),
    ),
    Column(
        "depth_bottom_cm",
        "float",
        "cm",
        "Bottom of the layer below the mineral soil surface.",
        minimum=0.5,
        maximum=300.0,
        aliases=("bottom_cm", "下界深度", "下界_cm", "土层下界"),
    ),
    Column(
        "bulk_density_g_cm3",
        "float",
        "g/cm³",
        "Oven-dry mass of the whole sample (fine earth and gravel) per core volume.",
        minimum=0.05,
        maximum=2.65,
        warn_below=0.6,
        warn_above=1.8,
        aliases=("bulk_density", "bd", "bd_g_cm3", "容重", "容重_g_cm3"),
    ),
    Column(
        "soc_g_per_kg",
        "float",
        "g C/kg",
        "Organic CARBON of the fine earth (< 2 mm) by dry combustion, or Walkley-Black corrected "
        "to total organic carbon; not organic matter (SOC ≈ SOM / 1.724).",
        minimum=0.0,
        maximum=600.0,
        warn_below=2.0,
        warn_above=60.0,
        aliases=("soc", "soc_g_kg", "有机碳", "有机碳_g_kg"),
    ),
    Column(
        "coarse_fraction",
        "float",
        "g/g",
        "Mass fraction of fragments > 2 mm (blank = 0).",
        required=False,
        nullable=True,
        minimum=0.0,
        maximum=0.95,
        warn_above=0.5,
        aliases=("gravel_fraction", "砾石含量"),
    ),
)
"""Layer columns of a soil core, one convention for every methodology: the fine-earth mass of a
layer is bulk_density × thickness × (1 − coarse_fraction)."""

PLOT_COLUMNS: tuple[Column, ...] = (
    PLOT_ID,
    Column("stratum", "str", description="Stratum the plot belongs to.", aliases=("层", "分层")),
    Column(
        "plot_area_m2",
        "float",
        "m²",
        "Horizontal area of the plot.",
        minimum=1.0,
        maximum=10_000.0,
        warn_below=25.0,
        warn_above=2_500.0,
        aliases=("样地面积",),
    ),
    Column(
        "lon",
        "float",
        "degree",
        "Longitude in the file's declared datum.",
        minimum=-180.0,
        maximum=180.0,
        aliases=("longitude", "经度", "x"),
    ),
    Column(
        "lat",
        "float",
        "degree",
        "Latitude in the file's declared datum.",
        minimum=-90.0,
        maximum=90.0,
        aliases=("latitude", "纬度", "y"),
    ),
    Column("survey_date", "date", description="Date of measurement.", aliases=("调查日期", "date")),
    Column(
        "datum",
        "str",
        description="Datum of lon/lat, one value per file (else --datum).",
        required=False,
        nullable=True,
        choices=("wgs84", "cgcs2000", "gcj02", "bd09"),
        aliases=("坐标系",),
    ),
)

STRATA_COLUMNS: tuple[Column, ...] = (
    Column("stratum", "str", description="Stratum name.", aliases=("层", "分层")),
    Column(
        "area_ha",
        "float",
        "ha",
        "Stratum area.",
        minimum=0.0,
        warn_above=1_000_000.0,
        aliases=("面积", "面积_ha"),
    ),
)


def plots_table(*extra: Column) -> TableSchema:
    """The shared ``plots`` table, optionally with methodology-specific columns."""
    return TableSchema(
        name="plots",
        description="One row per sample plot.",
        columns=PLOT_COLUMNS + extra,
        key=("plot_id",),
        parent=None,
    )


def strata_table(*extra: Column) -> TableSchema:
    """The shared ``strata`` table (areas for totals), optionally with extra columns."""
    return TableSchema(
        name="strata",
        description="One row per stratum with its area; needed for totals.",
        columns=STRATA_COLUMNS + extra,
        key=("stratum",),
        parent=None,
        required=False,
    )


@dataclass(frozen=True)
class SurveySchema:
    """All tables of one methodology's survey."""

    tables: tuple[TableSchema, ...] = field(default_factory=tuple)

    def table(self, name: str) -> TableSchema:
        """The table called ``name``."""
        for tab in self.tables:
            if tab.name == name:
                return tab
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Table names in declaration order."""
        return tuple(t.name for t in self.tables)
