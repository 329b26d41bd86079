"""Survey tables of ``tea-garden``: harvested bush subplots, litter frames, soil cores and
fertiliser records."""

from __future__ import annotations

from methodologies.schema import PLOT_REF, SOIL_LAYER_COLUMNS, Column

STAND_AGE = Column(
    "stand_age_yr",
    "float",
    "yr",
    "Years since the tea was planted (young-tea model below belowground.young_below_age_yr).",
    minimum=0.0,
    maximum=200.0,
    aliases=("stand_age", "age_yr", "茶龄", "树龄", "茶龄_年"),
)

BUSH_COLUMNS = (
    PLOT_REF,
    Column(
        "subplot_id",
        "str",
        description="Subplot label within the plot (information only).",
        required=False,
        nullable=True,
        aliases=("subplot", "小样方", "小样方号"),
    ),
    Column(
        "subplot_area_m2",
        "float",
        "m²",
        "Ground area the harvested subplot represents: row length × row spacing (alley included).",
        minimum=0.05,
        maximum=100.0,
        warn_below=0.5,
        warn_above=10.0,
        aliases=("subplot_area", "样方面积", "小样方面积"),
    ),
    Column(
        "aboveground_dry_mass_kg",
        "float",
        "kg",
        "Oven-dry mass of all bush material above the soil surface cut in the subplot.",
        required=False,
        nullable=True,
        minimum=0.0,
        maximum=500.0,
        aliases=("dry_mass_kg", "地上干重", "地上部干重_kg"),
    ),
    Column(
        "aboveground_fresh_mass_kg",
        "float",
        "kg",
        "Fresh mass of the cut bush material (used with dry_matter_fraction if no dry mass).",
        required=False,
        nullable=True,
        minimum=0.0,
        maximum=1_000.0,
        aliases=("fresh_mass_kg", "地上鲜重", "地上部鲜重_kg"),
    ),
    Column(
        "dry_matter_fraction",
        "float",
        "kg/kg",
        "Oven-dry / fresh mass of a subsample of the cut material.",
        required=False,
        nullable=True,
        minimum=0.05,
        maximum=1.0,
        warn_below=0.3,
        warn_above=0.7,
        aliases=("dmf", "干物质率", "干鲜比"),
    ),
)

LITTER_COLUMNS = (
    PLOT_REF,
    Column(
        "frame_area_m2",
        "float",
        "m²",
        "Ground area of the litter frame.",
        minimum=0.01,
        maximum=100.0,
        warn_below=0.1,
        warn_above=10.0,
        aliases=("frame_area", "样框面积"),
    ),
    Column(
        "dry_mass_kg",
        "float",
        "kg",
        "Oven-dry mass of the litter (pruning residues, fallen leaves) collected in the frame.",
        minimum=0.0,
        maximum=100.0,
        aliases=("litter_dry_mass_kg", "凋落物干重", "枯落物干重_kg"),
    ),
)

CORE_COLUMNS = (
    PLOT_REF,
    Column(
        "core_id",
        "str",
        description="Core (sampling point) within the plot; without it a plot has one core.",
        required=False,
        nullable=True,
        aliases=("core", "采样点", "土芯号"),
    ),
    *SOIL_LAYER_COLUMNS,
)

FERTILISER_COLUMNS = (
    PLOT_REF,
    Column(
        "n_kg_per_ha",
        "float",
        "kg N/ha",
        "Nitrogen applied in this application (N content × product rate).",
        minimum=0.0,
        maximum=2_000.0,
        warn_above=600.0,
        aliases=("n_applied_kg_per_ha", "施氮量", "纯氮_kg_ha"),
    ),
    Column(
        "n_source",
        "str",
        description="synthetic (urea, compound fertiliser …) or organic (cake, manure, compost).",
        choices=("synthetic", "organic"),
        aliases=("source", "fertiliser_type", "肥料类型"),
    ),
    Column(
        "application_date",
        "date",
        description="Date of the application (information only).",
        required=False,
        nullable=True,
        aliases=("date_applied", "施肥日期"),
    ),
    Column(
        "product",
        "str",
        description="Product name (information only).",
        required=False,
        nullable=True,
        aliases=("肥料名称",),
    ),
)
