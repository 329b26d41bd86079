"""``forest-volume``: tree carbon by species group from stem volume (or a generic allometry)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import pandas as pd

from methodologies.base import Methodology, PlotComponents, Pool, Survey
from methodologies.forest_volume.equations import (
    FloatArray,
    chave2014_agb_kg,
    form_factor,
    kg_to_t,
    per_ha_by_group,
)
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
from mrv.units import M2_PER_HA

GROUPS: tuple[str, ...] = ("cunninghamia", "pinus_massoniana", "broadleaf")
"""Species groups with default parameters (methodologies.md §1.8)."""
SYNONYMS: dict[str, str] = {
    "杉木": "cunninghamia",
    "马尾松": "pinus_massoniana",
    "阔叶树": "broadleaf",
}
"""Chinese names accepted in ``species_group`` → group."""
GROUP_OF: dict[str, str] = {**{g: g for g in GROUPS}, **SYNONYMS}
VOLUME_PREFIX = "volume_m3_per_ha."
AGB_PREFIX = "agb_t_per_ha."
FORM_FACTOR_RANGE = (0.2, 0.9)
"""Implied breast-height form factors outside this range are flagged (QA only)."""
MAX_STEMS_PER_HA = 5_000.0

_TREE_COLUMNS = (
    PLOT_REF,
    Column(
        "species_group",
        "str",
        description=(
            "Species group: cunninghamia (杉木), pinus_massoniana (马尾松) or broadleaf (阔叶树). "
            "Map other species to the group whose defaults fit, or override the parameters."
        ),
        choices=(*GROUPS, *SYNONYMS),
        aliases=("species", "树种组", "树种"),
    ),
    Column(
        "dbh_cm",
        "float",
        "cm",
        "Diameter at breast height (1.3 m) over bark.",
        minimum=1.0,
        maximum=200.0,
        warn_below=5.0,
        warn_above=100.0,
        aliases=("dbh", "胸径", "胸径_cm"),
    ),
    Column(
        "height_m",
        "float",
        "m",
        "Total tree height; needed by the allometric path.",
        required=False,
        nullable=True,
        minimum=1.3,
        maximum=70.0,
        aliases=("height", "树高", "树高_m"),
    ),
    Column(
        "volume_m3",
        "float",
        "m³",
        "Stem volume over bark of the tree, e.g. from the Zhejiang two-way volume tables "
        "(立木二元材积表); needed by the volume path.",
        required=False,
        nullable=True,
        minimum=1e-5,
        maximum=60.0,
        warn_above=10.0,
        aliases=("volume", "材积", "材积_m3", "单株材积"),
    ),
)


class ForestVolume(Methodology):
    """Tree carbon by species group: stem volume × WD × BEF × (1 + R) × CF, or Chave 2014."""

    id = "forest-volume"
    version = "1.0.0"
    title = "Trees by species group: stem volume × wood density × BEF"
    title_zh = "乔木林碳储量（材积源生物量法）"
    summary = (
        "Carbon stock of trees on sample plots by species group (Chinese fir, masson pine, "
        "broadleaf). Volume path (default): each tree's stem volume from the local volume "
        "tables × basic wood density × biomass expansion factor gives aboveground biomass; "
        "belowground biomass by a root-to-shoot ratio; carbon by a carbon fraction, all per "
        "species group (CCER afforestation structure). Allometric path: aboveground biomass "
        "from DBH, height and wood density with the pantropical Chave et al. 2014 equation, a "
        "fallback where volumes are not available. Deadwood, litter, soil and understorey "
        "are not counted."
    )
    schema = SurveySchema(
        (
            plots_table(),
            TableSchema("trees", "One row per living tree (DBH ≥ 5 cm) in a plot.", _TREE_COLUMNS),
            strata_table(),
        )
    )
    pools = (
        Pool(
            "aboveground_biomass",
            "stock",
            "Stems, branches and foliage of the trees (V·WD·BEF·CF or allometric AGB·CF).",
        ),
        Pool("belowground_biomass", "stock", "Roots of the trees via root_to_shoot_ratio."),
    )
    excluded_pools: ClassVar[Mapping[str, str]] = {
        "deadwood": (
            "not counted, as CCER afforestation methodologies allow: small in growing "
            "plantations, conservative to ignore [R]"
        ),
        "litter": "not counted (CCER afforestation practice): conservative to ignore [R]",
        "soil_organic_carbon": (
            "not counted (CCER afforestation practice): not expected to decrease under forest "
            "cover without soil disturbance, conservative to ignore [R]"
        ),
        "understorey": (
            "shrubs and herbs not counted in the project stock (CCER afforestation "
            "practice): small and conservative to ignore [R]"
        ),
    }

    def check(self, survey: Survey, p: ParamValues) -> list[Problem]:
        """Cross-field checks: the chosen biomass path has its inputs; QA of volumes, density."""
        trees = survey["trees"]
        path = p.text("biomass_path")
        problems: list[Problem] = []
        volume = _column(trees, "volume_m3")
        height = _column(trees, "height_m")
        if path == "volume":
            problems += survey.problems(
                "trees",
                np.isnan(volume),
                "no stem volume: biomass_path = volume needs volume_m3 for every tree (from "
                "the volume tables), or use --param biomass_path=allometric with heights",
                column="volume_m3",
            )
            both = ~np.isnan(volume) & ~np.isnan(height)
            with np.errstate(invalid="ignore", divide="ignore"):
                f = form_factor(volume, trees["dbh_cm"].to_numpy(np.float64), height)
            low, high = FORM_FACTOR_RANGE
            odd = both & ((f < low) | (f > high))
            problems += survey.problems(
                "trees",
                odd,
                f"stem volume implies a form factor V/(g·H) outside {low}-{high}: check the "
                "unit (m³, not dm³) and the volume table",
                column="volume_m3",
                severity="warning",
            )
        else:
            problems += survey.problems(
                "trees",
                np.isnan(height),
                "no height: biomass_path = allometric needs height_m for every tree",
                column="height_m",
            )
        plots = survey.plots
        counts = np.bincount(survey.plot_codes("trees"), minlength=len(plots))
        density = counts * (M2_PER_HA / plots["plot_area_m2"].to_numpy(np.float64))
        problems += survey.problems(
            "plots",
            counts == 0,
            "plot has no tree records; its tree biomass is 0",
            column="plot_id",
            severity="warning",
        )
        problems += survey.problems(
            "plots",
            density > MAX_STEMS_PER_HA,
            f"more than {MAX_STEMS_PER_HA:,.0f} trees/ha with DBH ≥ 5 cm is implausible",
            column="plot_area_m2",
            severity="warning",
        )
        return problems

    def plot_components(self, survey: Survey, p: ParamValues) -> PlotComponents:
        """Per plot and species group: stem volume (m³/ha) or allometric AGB (t/ha)."""
        trees = survey["trees"]
        area = survey.plots["plot_area_m2"].to_numpy(np.float64)
        group = trees["species_group"].map(GROUP_OF)
        codes = group.map({g: i for i, g in enumerate(GROUPS)}).to_numpy(np.intp)
        present = np.bincount(codes, minlength=len(GROUPS)) > 0
        warnings: list[str] = []
        if p.text("biomass_path") == "volume":
            per_tree = trees["volume_m3"].to_numpy(np.float64)
            prefix = VOLUME_PREFIX
        else:
            # ρ enters the tree-level power law, so it is read as a plain value (p.scalar)
            density = [
                p.scalar(f"wood_density.{g}") if present[i] else np.nan
                for i, g in enumerate(GROUPS)
            ]
            rho = np.asarray(density, dtype=np.float64)[codes]
            per_tree = kg_to_t(
                chave2014_agb_kg(
                    rho,
                    trees["dbh_cm"].to_numpy(np.float64),
                    trees["height_m"].to_numpy(np.float64),
                    p.scalar("allometric_equation.a"),
                    p.scalar("allometric_equation.b"),
                )
            )
            prefix = AGB_PREFIX
            warnings.append(
                "biomass_path = allometric uses the pantropical equation of Chave et al. 2014, "
                "fitted on tropical trees; for subtropical Huzhou forests the volume path with "
                "the local volume tables is preferred"
            )
        table = per_ha_by_group(per_tree, survey.plot_codes("trees"), codes, area, len(GROUPS))
        frame = pd.DataFrame(
            {prefix + g: table[:, i] for i, g in enumerate(GROUPS) if present[i]},
            index=survey.plot_ids,
        )
        return PlotComponents(frame=frame, warnings=warnings)

    def pool_values(self, components: Mapping[str, Num], p: ParamValues) -> dict[str, Num]:
        """Per group g: AG = V_g·WD_g·BEF_g·CF_g (or AGB_g·CF_g); BG = AG·R_g (t C/ha)."""
        above: Num = 0.0
        below: Num = 0.0
        for g in GROUPS:
            if VOLUME_PREFIX + g in components:
                agb = components[VOLUME_PREFIX + g] * p.num(f"wood_density.{g}") * p.num(f"bef.{g}")
            elif AGB_PREFIX + g in components:
                agb = components[AGB_PREFIX + g]
            else:
                continue
            carbon = agb * p.num(f"carbon_fraction.{g}")
            above = above + carbon
            below = below + carbon * p.num(f"root_to_shoot_ratio.{g}")
        return {"aboveground_biomass": above, "belowground_biomass": below}


def _column(frame: pd.DataFrame, name: str) -> FloatArray:
    """A float column, all NaN when the optional column was not supplied."""
    if name in frame.columns:
        return np.asarray(frame[name].to_numpy(np.float64), dtype=np.float64)
    return np.full(len(frame), np.nan)
