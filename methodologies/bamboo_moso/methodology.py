"""``bamboo-moso``: moso bamboo (Phyllostachys edulis) forest management, Anji."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import pandas as pd

from methodologies.bamboo_moso.equations import biomass_t_per_ha, culm_biomass_kg
from methodologies.base import Methodology, PlotComponents, Pool, Survey
from methodologies.parameters import Num, ParamValues
from methodologies.schema import (
    PLOT_REF,
    Column,
    SurveySchema,
    TableSchema,
    plots_table,
    strata_table,
)
from mrv.errors import Problem

_CULM_COLUMNS = (
    PLOT_REF,
    Column(
        "dbh_cm",
        "float",
        "cm",
        "Diameter at breast height (1.3 m).",
        minimum=0.5,
        maximum=25.0,
        warn_below=4.0,
        warn_above=16.0,
        aliases=("dbh", "胸径", "胸径_cm"),
    ),
    Column(
        "age_du",
        "int",
        "du",
        "Culm age class in du (度); 1 du = 2 years.",
        minimum=1,
        maximum=10,
        warn_above=6,
        aliases=("age", "度", "年龄_度", "竹龄_度"),
    ),
)


class BambooMoso(Methodology):
    """Moso bamboo stocks from a culm inventory (DBH, age in du) by stratum."""

    id = "bamboo-moso"
    version = "1.0.0"
    title = "Moso bamboo forest management"
    title_zh = "毛竹林经营碳汇"
    summary = (
        "Carbon stock of moso bamboo stands from a full culm tally on sample plots: single-culm "
        "biomass from DBH and age (du), belowground biomass by a root-to-shoot ratio, carbon by "
        "a carbon fraction; optional harvested culms to a long-lived products pool. On-year and "
        "off-year stands are separate strata; stock changes compare inventories of the same phase."
    )
    schema = SurveySchema(
        (
            plots_table(),
            TableSchema("culms", "One row per living culm in a plot.", _CULM_COLUMNS),
            strata_table(
                Column(
                    "phase",
                    "str",
                    description="Moso cycle phase of the stratum (大年/小年).",
                    required=False,
                    nullable=True,
                    choices=("on", "off", "mixed"),
                    aliases=("大小年",),
                ),
            ),
            TableSchema(
                "harvest",
                "Culms harvested from the plot during the monitoring period (stump tally).",
                _CULM_COLUMNS,
                required=False,
            ),
        )
    )
    pools = (
        Pool("aboveground_biomass", "stock", "Culms, branches and leaves (culm equation)."),
        Pool("belowground_biomass", "stock", "Rhizomes, roots and stumps via root_to_shoot_ratio."),
        Pool(
            "harvested_products",
            "stock",
            "Long-lived products from culms harvested during the monitoring period.",
            period_addition=True,
        ),
    )
    excluded_pools: ClassVar[Mapping[str, str]] = {
        "litter": "not removed by harvest under AR-CM-005; conservative to ignore [R]",
        "deadwood": "excluded by AR-CM-005 [R]",
        "soil_organic_carbon": (
            "excluded by AR-CM-005: its soil-disturbance conditions keep SOC non-decreasing [R]"
        ),
    }

    def check(self, survey: Survey, p: ParamValues) -> list[Problem]:
        """Warn about culm densities outside what moso stands carry (QA only)."""
        plots = survey.plots
        counts = np.bincount(survey.plot_codes("culms"), minlength=len(plots))
        density = counts * (10_000.0 / plots["plot_area_m2"].to_numpy())
        problems = survey.problems(
            "plots",
            counts == 0,
            "plot has no culm records; its biomass is 0",
            column="plot_id",
            severity="warning",
        )
        problems += survey.problems(
            "plots",
            density > 10_000,
            "more than 10,000 culms/ha is implausible for moso",
            column="plot_area_m2",
            severity="warning",
        )
        return problems

    def compare(self, before: Survey, after: Survey, p: ParamValues) -> list[str]:
        """Warn when a stratum's on/off-year phase differs between the two inventories (E7)."""
        if not (before.has("strata") and after.has("strata")):
            return []
        if "phase" not in before["strata"] or "phase" not in after["strata"]:
            return []
        b = dict(zip(before["strata"]["stratum"], before["strata"]["phase"], strict=True))
        return [
            f"stratum {name!r} was {b[name]}-year in the earlier inventory and {phase}-year in "
            "the later one: moso stock changes should compare the same phase or full cycles"
            for name, phase in zip(
                after["strata"]["stratum"], after["strata"]["phase"], strict=True
            )
            if name in b and b[name] and phase and b[name] != phase
        ]

    def plot_components(self, survey: Survey, p: ParamValues) -> PlotComponents:
        """Aboveground dry biomass per plot (t/ha), and harvested biomass when given."""
        area = survey.plots["plot_area_m2"].to_numpy(dtype=np.float64)
        culms = survey["culms"]
        agb = biomass_t_per_ha(
            culm_biomass_kg(culms["dbh_cm"], culms["age_du"], p), survey.plot_codes("culms"), area
        )
        frame = {"agb_t_per_ha": agb}
        omitted: dict[str, str] = {}
        warnings: list[str] = []
        if survey.has("harvest"):
            harvest = survey["harvest"]
            frame["harvest_agb_t_per_ha"] = biomass_t_per_ha(
                culm_biomass_kg(harvest["dbh_cm"], harvest["age_du"], p),
                survey.plot_codes("harvest"),
                area,
            )
            if p.scalar("harvested_products_fraction") == 0.0:
                warnings.append(
                    "harvested culms given but harvested_products_fraction is 0 (no default is "
                    "known); the products pool is 0 until the fraction is set"
                )
        else:
            omitted["harvested_products"] = "no harvest table supplied"
        if p.text("culm_equation_scope") == "whole_plant":
            omitted["belowground_biomass"] = "included in the culm equation (whole-plant scope)"
        return PlotComponents(
            frame=pd.DataFrame(frame, index=survey.plot_ids), omitted=omitted, warnings=warnings
        )

    def pool_values(self, components: Mapping[str, Num], p: ParamValues) -> dict[str, Num]:
        """C = AGB·CF; belowground = AGB·R·CF; products = harvested AGB·CF·f (t C/ha)."""
        cf = p.num("carbon_fraction")
        agb = components["agb_t_per_ha"]
        out: dict[str, Num] = {"aboveground_biomass": agb * cf}
        if p.text("culm_equation_scope") == "aboveground":
            out["belowground_biomass"] = agb * p.num("root_to_shoot_ratio") * cf
        if "harvest_agb_t_per_ha" in components:
            out["harvested_products"] = (
                components["harvest_agb_t_per_ha"] * cf * p.num("harvested_products_fraction")
            )
        return out
