"""Survey tables of ``wetland``: harvest frames, soil cores and gas fluxes."""

from __future__ import annotations

from methodologies.schema import PLOT_REF, Column

VEG_TYPES = ("reed", "lotus", "sedge", "other")
GASES = ("ch4", "n2o")


VEGETATION_COLUMNS = (
    PLOT_REF,
    Column(
        "frame_id",
        "str",
        description="Harvest frame (quadrat) label within the plot.",
        required=False,
        nullable=True,
        aliases=("样方号", "样方编号", "quadrat"),
    ),
    Column(
        "veg_type",
        "str",
        description="Dominant vegetation of the frame.",
        choices=VEG_TYPES,
        aliases=("vegetation_type", "植被类型", "群落"),
    ),
    Column(
        "frame_area_m2",
        "float",
        "m²",
        "Area of the harvest frame.",
        minimum=0.01,
        maximum=100.0,
        warn_below=0.25,
        warn_above=4.0,
        aliases=("样方面积", "样方面积_m2"),
    ),
    Column(
        "aboveground_dry_g",
        "float",
        "g",
        "Oven-dry mass of all living and standing dead plant material clipped at the soil "
        "surface inside the frame (VM0033 §9.3.6).",
        minimum=0.0,
        aliases=("地上干重", "地上干重_g", "agb_g"),
    ),
    Column(
        "belowground_dry_g",
        "float",
        "g",
        "Oven-dry roots and rhizomes under the frame (to the coring depth); give it for all "
        "frames or none.",
        required=False,
        nullable=True,
        minimum=0.0,
        aliases=("地下干重", "地下干重_g", "bgb_g"),
    ),
    Column(
        "harvest_date",
        "date",
        description="Date of clipping (peak or minimum standing stock, VM0033 §9.3.6).",
        required=False,
        nullable=True,
        aliases=("收获日期", "采样日期"),
    ),
)

CORES_COLUMNS = (
    PLOT_REF,
    Column(
        "core_id",
        "str",
        description="Core label; layers of one core share it (replicate cores per round).",
        required=False,
        nullable=True,
        aliases=("土芯号", "柱样号"),
    ),
    Column(
        "method",
        "str",
        description="accretion: material above a marker horizon / dated layer; stock: layers "
        "of a core in one of repeated stock surveys.",
        choices=("accretion", "stock"),
        aliases=("方法", "测定方法"),
    ),
    Column(
        "accretion_cm_per_yr",
        "float",
        "cm/yr",
        "Vertical accretion above the reference plane per year (accretion rows).",
        required=False,
        nullable=True,
        minimum=0.0,
        maximum=10.0,
        warn_below=0.02,
        warn_above=2.0,
        aliases=("沉积速率", "沉积速率_cm_a"),
    ),
    Column(
        "reference_age_yr",
        "float",
        "yr",
        "Age of the reference plane: years since the feldspar marker was laid, or age of the "
        "dated layer (¹³⁷Cs 1963 peak, ²¹⁰Pb) (accretion rows).",
        required=False,
        nullable=True,
        minimum=0.0,
        maximum=200.0,
        aliases=("标志层年限", "标志层年龄"),
    ),
    Column(
        "survey_round",
        "int",
        description="Stock survey round (1, 2, …) (stock rows).",
        required=False,
        nullable=True,
        minimum=1,
        maximum=100,
        aliases=("调查轮次", "轮次"),
    ),
    Column(
        "sample_date",
        "date",
        description="Date the core was taken (required for stock rows).",
        required=False,
        nullable=True,
        aliases=("采样日期",),
    ),
    Column(
        "top_cm",
        "float",
        "cm",
        "Upper depth of the layer (stock rows).",
        required=False,
        nullable=True,
        minimum=0.0,
        maximum=300.0,
        aliases=("上界深度", "上界_cm"),
    ),
    Column(
        "bottom_cm",
        "float",
        "cm",
        "Lower depth of the layer (stock rows).",
        required=False,
        nullable=True,
        minimum=0.0,
        maximum=300.0,
        warn_above=100.0,
        aliases=("下界深度", "下界_cm"),
    ),
    Column(
        "bulk_density_g_cm3",
        "float",
        "g/cm³",
        "Dry bulk density of the accreted material or layer.",
        minimum=0.01,
        maximum=2.65,
        warn_below=0.1,
        warn_above=1.8,
        aliases=("容重", "容重_g_cm3", "bd"),
    ),
    Column(
        "organic_carbon_pct",
        "float",
        "%",
        "Organic carbon, mass %, carbonates removed (dry combustion or Walkley-Black).",
        required=False,
        nullable=True,
        minimum=0.0,
        maximum=60.0,
        warn_above=12.0,
        aliases=("有机碳", "有机碳_%", "soc_pct", "oc_pct"),
    ),
    Column(
        "organic_matter_pct",
        "float",
        "%",
        "Organic matter by loss on ignition, mass % (used when organic_carbon_pct is empty).",
        required=False,
        nullable=True,
        minimum=0.0,
        maximum=100.0,
        warn_above=20.0,
        aliases=("有机质", "有机质_%", "loi_pct", "om_pct"),
    ),
)

FLUXES_COLUMNS = (
    PLOT_REF,
    Column("gas", "str", description="Measured gas.", choices=GASES, aliases=("气体",)),
    Column(
        "flux_mg_m2_d",
        "float",
        "mg gas m⁻² d⁻¹",
        "Mean daily flux of one campaign (mass of CH4 or N2O, not of C or N); positive = "
        "emission. Hourly chamber fluxes × 24.",
        minimum=-1_000.0,
        maximum=20_000.0,
        warn_below=-20.0,
        warn_above=2_000.0,
        aliases=("通量", "通量_mg_m2_d"),
    ),
    Column(
        "campaign_date",
        "date",
        description="Date of the campaign.",
        required=False,
        nullable=True,
        aliases=("观测日期",),
    ),
)
