"""Survey tables of ``farmland-soc``: soil cores and per-plot management, with their choices."""

from __future__ import annotations

from methodologies.schema import PLOT_REF, SOIL_LAYER_COLUMNS, Column

LAND_USES = ("upland", "paddy", "perennial", "set_aside")
TILLAGE = ("full", "reduced", "no_till")
INPUTS = ("low", "medium", "high", "high_manure")
SOIL_CLASSES = ("hac", "lac", "sandy", "spodic", "volcanic", "wetland")
WATER_REGIMES = (
    "continuous",
    "single_drainage",
    "multiple_drainage",
    "rainfed_regular",
    "rainfed_drought",
    "deep_water",
)
PRESEASON = ("dry_lt180d", "dry_gt180d", "dry_gt365d", "flooded_gt30d")
FEEDSTOCKS = ("wood", "herbaceous", "rice_husk_straw", "manure", "nut_shells", "biosolids")
PROCESSES = ("pyrolysis", "gasification")
EF1FR_CLASS = {
    "continuous": "continuous",
    "single_drainage": "drained",
    "multiple_drainage": "drained",
    "rainfed_regular": "other",
    "rainfed_drought": "other",
    "deep_water": "other",
}
"""Water regime → EF1FR class (IPCC 2019 Table 11.1 gives values for continuous flooding and
single/multiple drainage only; the other regimes use the aggregated EF1FR)."""

N_COLUMNS = (
    "synthetic_n_kg_per_ha",
    "organic_n_kg_per_ha",
    "rice_synthetic_n_kg_per_ha",
    "rice_organic_n_kg_per_ha",
)
RICE_ONLY_COLUMNS = (
    "rice_synthetic_n_kg_per_ha",
    "rice_organic_n_kg_per_ha",
    "straw_within_30d_dm_t_per_ha",
    "compost_fresh_t_per_ha",
    "manure_fresh_t_per_ha",
    "green_manure_fresh_t_per_ha",
)
TIER1_COLUMNS = (
    "soil_class",
    "tillage",
    "input_level",
    "baseline_land_use",
    "baseline_tillage",
    "baseline_input_level",
)

BIOCHAR = "biochar_t_per_ha_yr:"
TIER1 = "tier1:"
CH4 = "rice_days_x_sf_o:"


def _amount(
    name: str,
    unit: str,
    description: str,
    maximum: float,
    warn: float,
    aliases: tuple[str, ...] = (),
) -> Column:
    return Column(
        name,
        "float",
        unit,
        description + " Blank = 0.",
        required=False,
        nullable=True,
        minimum=0.0,
        maximum=maximum,
        warn_above=warn,
        aliases=aliases,
    )


def _choice(
    name: str,
    choices: tuple[str, ...],
    description: str,
    *,
    required: bool = False,
    aliases: tuple[str, ...] = (),
) -> Column:
    return Column(
        name,
        "str",
        description=description,
        required=required,
        nullable=not required,
        choices=choices,
        aliases=aliases,
    )


CORE_COLUMNS = (
    PLOT_REF,
    Column(
        "core_id",
        "str",
        description="Core (profile) within the plot and round; blank when "
        "the plot has one core per round.",
        required=False,
        nullable=True,
        aliases=("core", "钻孔号", "样点号"),
    ),
    Column(
        "round",
        "str",
        description="Sampling round: baseline (t0) or followup (re-measurement "
        "at the same points).",
        choices=("baseline", "followup"),
        aliases=("sampling_round", "轮次"),
    ),
    Column(
        "sample_date", "date", description="Date the core was taken.", aliases=("date", "采样日期")
    ),
    *SOIL_LAYER_COLUMNS,
)

MANAGEMENT_COLUMNS = (
    Column(
        "plot_id",
        "str",
        description="Plot the management applies to.",
        aliases=("样地号", "样地编号"),
    ),
    _choice(
        "land_use",
        LAND_USES,
        "Land use during the monitoring period (IPCC F_LU class; "
        "upland = long-term cultivated annual crops and vegetables).",
        required=True,
        aliases=("土地利用",),
    ),
    _choice("tillage", TILLAGE, "Tillage during the monitoring period (F_MG; needed for Tier 1)."),
    _choice(
        "input_level",
        INPUTS,
        "Carbon input level during the monitoring period (F_I; "
        "high = e.g. full straw return; needed for Tier 1).",
    ),
    _choice(
        "soil_class",
        SOIL_CLASSES,
        "IPCC soil class for SOC_ref (paddy soils by their parent soil; needed for Tier 1).",
    ),
    _choice("baseline_land_use", LAND_USES, "Land use before the project (Tier 1 only)."),
    _choice("baseline_tillage", TILLAGE, "Tillage before the project (Tier 1 only)."),
    _choice("baseline_input_level", INPUTS, "Input level before the project (Tier 1 only)."),
    _choice(
        "water_regime",
        WATER_REGIMES,
        "Rice-season water regime (paddy only; SF_w, EF1FR).",
        aliases=("灌溉方式",),
    ),
    _choice(
        "preseason_water", PRESEASON, "Water status before the rice season (paddy only; SF_p)."
    ),
    Column(
        "rice_days",
        "float",
        "d",
        "Rice cultivation period (paddy only). Blank = IPCC East Asia default (warned).",
        required=False,
        nullable=True,
        minimum=1.0,
        maximum=366.0,
        warn_below=60.0,
        warn_above=200.0,
        aliases=("生育期天数",),
    ),
    _amount(
        "straw_dm_t_per_ha",
        "t DM/ha/yr",
        "Crop straw returned per year, dry matter (all seasons).",
        40.0,
        15.0,
        ("秸秆还田量",),
    ),
    _amount(
        "straw_within_30d_dm_t_per_ha",
        "t DM/ha/yr",
        "Part of the straw incorporated less than 30 days before rice cultivation (paddy only).",
        40.0,
        15.0,
    ),
    _amount(
        "compost_fresh_t_per_ha",
        "t FW/ha/yr",
        "Compost applied to the rice crop, fresh weight (paddy only).",
        300.0,
        60.0,
    ),
    _amount(
        "manure_fresh_t_per_ha",
        "t FW/ha/yr",
        "Farmyard manure applied to the rice crop, fresh weight (paddy only).",
        300.0,
        60.0,
    ),
    _amount(
        "green_manure_fresh_t_per_ha",
        "t FW/ha/yr",
        "Green manure incorporated for the rice crop, fresh weight (paddy only).",
        300.0,
        60.0,
    ),
    _amount(
        "synthetic_n_kg_per_ha",
        "kg N/ha/yr",
        "Synthetic fertiliser N to non-flooded crops (upland crops, the dry season of a paddy).",
        3000.0,
        1000.0,
    ),
    _amount(
        "organic_n_kg_per_ha",
        "kg N/ha/yr",
        "N in manure, compost and other organic amendments to non-flooded crops.",
        3000.0,
        1000.0,
    ),
    _amount(
        "rice_synthetic_n_kg_per_ha",
        "kg N/ha/yr",
        "Synthetic fertiliser N to flooded rice.",
        3000.0,
        600.0,
    ),
    _amount(
        "rice_organic_n_kg_per_ha",
        "kg N/ha/yr",
        "N in organic amendments to flooded rice.",
        3000.0,
        600.0,
    ),
    _amount(
        "biochar_t_per_ha_yr",
        "t DM/ha/yr",
        "Biochar applied, dry mass, mean per year of the monitoring period.",
        300.0,
        40.0,
        ("生物炭施用量",),
    ),
    _choice("biochar_feedstock", FEEDSTOCKS, "Biochar feedstock (IPCC 2019 App. 4 classes)."),
    _choice("biochar_process", PROCESSES, "Biochar production process."),
    Column(
        "biochar_temperature_c",
        "float",
        "°C",
        "Highest production temperature; below "
        "350 °C the product is not biochar (IPCC 2019 App. 4).",
        required=False,
        nullable=True,
        minimum=350.0,
        maximum=1500.0,
        warn_above=1000.0,
    ),
)
