"""``tea-garden``: tea-garden (Camellia sinensis) carbon stocks and fertiliser N2O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from methodologies.base import Methodology, PlotComponents, Pool, Survey
from methodologies.parameters import Num, ParamValues
from methodologies.schema import SurveySchema, TableSchema, plots_table, strata_table
from methodologies.tea_garden.equations import (
    MATURE_MODEL_MAX_AGE_YR,
    belowground_biomass_t_per_ha,
    density_t_per_ha,
    layer_soc_t_per_ha,
    n2o_direct_tco2e_per_ha_yr,
    n2o_indirect_tco2e_per_ha_yr,
    subplot_dry_mass_kg,
)
from methodologies.tea_garden.tables import (
    BUSH_COLUMNS,
    CORE_COLUMNS,
    FERTILISER_COLUMNS,
    LITTER_COLUMNS,
    STAND_AGE,
)
from mrv.errors import Problem
from mrv.gwp import gwp100

FloatArray = npt.NDArray[np.float64]

MAX_AGB_T_PER_HA = 80.0
"""Aboveground bush biomass above this is flagged (China tea biomass C 9.1-50.9 t C/ha, §4.3)."""
MAX_LITTER_T_PER_HA = 30.0
"""Litter dry mass above this is flagged (China tea litter C 4.91 t C/ha ≈ 13 t dm/ha, §4.3)."""
MAX_N_KG_PER_HA_YR = 1_500.0
"""Annual N above this is flagged (conventional Zhejiang tea 300-600 kg N/ha/yr, §4.4)."""


def _column(frame: pd.DataFrame, name: str) -> FloatArray:
    """A float column, all NaN when the optional column is absent."""
    if name in frame.columns:
        return frame[name].to_numpy(dtype=np.float64)
    return np.full(len(frame), np.nan)


def _core_codes(cores: pd.DataFrame, plot_codes: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """A code per distinct (plot, core_id); rows without core_id form one core per plot."""
    core_id = (
        cores["core_id"].fillna("").astype(str).to_numpy()
        if "core_id" in cores.columns
        else np.full(len(cores), "")
    )
    keys = pd.MultiIndex.from_arrays([plot_codes, core_id])
    codes, _ = pd.factorize(keys)
    return np.asarray(codes, dtype=np.intp)


class TeaGarden(Methodology):
    """Tea bush biomass, litter and SOC stocks from plots; N2O from the fertiliser records."""

    id = "tea-garden"
    version = "1.0.0"
    title = "Tea garden carbon stocks and fertiliser N2O"
    title_zh = "茶园碳汇"
    summary = (
        "Carbon stocks of tea gardens from sample plots: tea-bush aboveground biomass from "
        "destructively harvested subplots, belowground biomass from the age-class models of "
        "Ma et al. 2025, the litter layer (pruning residues) from frames and soil organic carbon "
        "to a fixed depth from cores; direct N2O from fertiliser N with the tea-specific emission "
        "factor 2.31 % (Wang et al. 2020) plus IPCC indirect N2O. Net removals of a monitoring "
        "period are the stock change × 44/12 minus the N2O."
    )
    schema = SurveySchema(
        (
            plots_table(STAND_AGE),
            TableSchema(
                "bushes",
                "One row per harvested subplot: all bush material above ground cut and weighed.",
                BUSH_COLUMNS,
            ),
            strata_table(),
            TableSchema(
                "litter",
                "One row per litter frame: litter layer (pruning residues, leaves) at survey time.",
                LITTER_COLUMNS,
                required=False,
            ),
            TableSchema(
                "cores",
                "One row per sampled soil layer of a core (0 to soc.depth_cm, no gaps).",
                CORE_COLUMNS,
                required=False,
            ),
            TableSchema(
                "fertiliser",
                "One row per N application in the 12 months before the survey.",
                FERTILISER_COLUMNS,
                required=False,
            ),
        )
    )
    pools = (
        Pool("bush_aboveground", "stock", "Tea bush stems, branches, leaves (harvested subplots)."),
        Pool("bush_belowground", "stock", "Tea roots via the Ma et al. 2025 age-class models."),
        Pool("pruning_litter", "stock", "Litter layer at survey: pruning residues, fallen leaves."),
        Pool("soil_organic_carbon", "stock", "SOC from 0 to soc.depth_cm (fixed depth)."),
        Pool("fertiliser_n2o", "emission", "Direct N2O from fertiliser N (tea EF 2.31 %)."),
        Pool("fertiliser_n2o_indirect", "emission", "Indirect N2O (volatilisation, leaching)."),
    )
    excluded_pools: ClassVar[Mapping[str, str]] = {
        "harvested_tea_and_wood_products": (
            "plucked leaves are consumed within a year and prunings are not made into products; "
            "Zhao et al. 2024 exclude the wood-product pool [V abstract]"
        ),
        "pruning_inputs_as_removals": (
            "the annual pruning input is a transfer from bush to litter, not a removal; it "
            "decomposes and what persists is measured as litter and SOC stock change"
        ),
    }

    def check(self, survey: Survey, p: ParamValues) -> list[Problem]:
        """Cross-row checks: mass given, every plot sampled, cores reach the depth, plausibility."""
        plots = survey.plots
        n = len(plots)
        problems: list[Problem] = []
        bushes = survey["bushes"]
        bush_codes = survey.plot_codes("bushes")
        dry = subplot_dry_mass_kg(
            _column(bushes, "aboveground_dry_mass_kg"),
            _column(bushes, "aboveground_fresh_mass_kg"),
            _column(bushes, "dry_matter_fraction"),
        )
        problems += survey.problems(
            "bushes",
            ~np.isfinite(dry),
            "no dry mass: give aboveground_dry_mass_kg, or aboveground_fresh_mass_kg with "
            "dry_matter_fraction",
            column="aboveground_dry_mass_kg",
        )
        problems += self._every_plot(survey, "bushes", "harvested subplot")
        area = np.bincount(bush_codes, weights=bushes["subplot_area_m2"], minlength=n)
        problems += survey.problems(
            "plots",
            area > plots["plot_area_m2"].to_numpy(np.float64),
            "harvested subplots cover more than the plot area",
            column="plot_area_m2",
        )
        agb = density_t_per_ha(np.nan_to_num(dry), bushes["subplot_area_m2"], bush_codes, n)
        problems += survey.problems(
            "plots",
            agb > MAX_AGB_T_PER_HA,
            f"aboveground bush biomass above {MAX_AGB_T_PER_HA:g} t/ha is implausible for tea",
            column="plot_id",
            severity="warning",
        )
        problems += survey.problems(
            "plots",
            plots["stand_age_yr"].to_numpy(np.float64) > MATURE_MODEL_MAX_AGE_YR,
            f"stand older than {MATURE_MODEL_MAX_AGE_YR:g} yr: the mature-tea belowground model "
            "(3-25 yr) is extrapolated",
            column="stand_age_yr",
            severity="warning",
        )
        if survey.has("litter"):
            litter = survey["litter"]
            problems += self._every_plot(survey, "litter", "litter frame")
            dens = density_t_per_ha(
                litter["dry_mass_kg"], litter["frame_area_m2"], survey.plot_codes("litter"), n
            )
            problems += survey.problems(
                "plots",
                dens > MAX_LITTER_T_PER_HA,
                f"litter above {MAX_LITTER_T_PER_HA:g} t dry matter/ha is implausible for tea",
                column="plot_id",
                severity="warning",
            )
        if survey.has("cores"):
            problems += self._every_plot(survey, "cores", "soil core")
            problems += self._check_cores(survey, p.scalar("soc.depth_cm"))
        if survey.has("fertiliser"):
            fert = survey["fertiliser"]
            problems += self._every_plot(
                survey,
                "fertiliser",
                "fertiliser record (give n_kg_per_ha = 0 for an unfertilised plot)",
            )
            total = np.bincount(
                survey.plot_codes("fertiliser"), weights=fert["n_kg_per_ha"], minlength=n
            )
            problems += survey.problems(
                "plots",
                total > MAX_N_KG_PER_HA_YR,
                f"more than {MAX_N_KG_PER_HA_YR:g} kg N/ha in one year is implausible",
                column="plot_id",
                severity="warning",
            )
        return problems

    @staticmethod
    def _every_plot(survey: Survey, table: str, noun: str) -> list[Problem]:
        counts = np.bincount(survey.plot_codes(table), minlength=len(survey.plots))
        return survey.problems(
            "plots", counts == 0, f"plot has no {noun} in {survey.files[table]}", column="plot_id"
        )

    @staticmethod
    def _check_cores(survey: Survey, depth_cm: float) -> list[Problem]:
        cores = survey["cores"]
        top = cores["depth_top_cm"].to_numpy(np.float64)
        bottom = cores["depth_bottom_cm"].to_numpy(np.float64)
        problems = survey.problems(
            "cores", bottom <= top, "depth_bottom_cm must be below depth_top_cm", "depth_bottom_cm"
        )
        code = _core_codes(cores, survey.plot_codes("cores"))
        order = np.lexsort((top, code))
        same = np.r_[False, code[order][1:] == code[order][:-1]]
        overlap_sorted = same & (top[order] < np.r_[-np.inf, bottom[order][:-1]])
        overlap = np.zeros(len(cores), dtype=bool)
        overlap[order] = overlap_sorted
        problems += survey.problems(
            "cores", overlap, "layer overlaps the layer above it in the same core", "depth_top_cm"
        )
        covered = np.bincount(code, weights=np.clip(np.minimum(bottom, depth_cm) - top, 0.0, None))
        first = np.zeros(len(cores), dtype=bool)
        first[order[~same]] = True
        short = first & (covered[code] < depth_cm - 1e-6)
        reasons = [
            f"core covers {c:g} cm of 0-{depth_cm:g} cm (gap or too shallow); every core must "
            f"reach soc.depth_cm = {depth_cm:g} cm"
            for c in covered[code][short]
        ]
        rows = cores["_row"].to_numpy()[short]
        file = survey.files.get("cores", "cores")
        problems += [
            Problem(reason=r, file=file, row=int(row), column="depth_bottom_cm")
            for r, row in zip(reasons, rows, strict=True)
        ]
        problems += survey.problems(
            "cores",
            top >= depth_cm,
            f"layer lies below soc.depth_cm = {depth_cm:g} cm and is not counted",
            "depth_top_cm",
            severity="warning",
        )
        return problems

    def compare(self, before: Survey, after: Survey, p: ParamValues) -> list[str]:
        """Warn when plots change belowground model between the surveys."""
        out: list[str] = []
        limit = p.scalar("belowground.young_below_age_yr")
        age_b = before.plots.set_index("plot_id")["stand_age_yr"]
        age_a = after.plots.set_index("plot_id")["stand_age_yr"]
        common = age_a.index.intersection(age_b.index)
        crossed = (age_b.loc[common] < limit) & (age_a.loc[common] >= limit)
        if crossed.any():
            out.append(
                f"{int(crossed.sum())} plot(s) passed from the young to the mature belowground "
                "model between the surveys; part of their belowground change is the switch of "
                "model, not growth"
            )
        return out

    def plot_components(self, survey: Survey, p: ParamValues) -> PlotComponents:
        """Per plot: B_a, B_b, litter (t dry matter/ha), SOC (t C/ha), N applied (kg N/ha/yr)."""
        plots = survey.plots
        n = len(plots)
        bushes = survey["bushes"]
        dry = subplot_dry_mass_kg(
            _column(bushes, "aboveground_dry_mass_kg"),
            _column(bushes, "aboveground_fresh_mass_kg"),
            _column(bushes, "dry_matter_fraction"),
        )
        agb = density_t_per_ha(dry, bushes["subplot_area_m2"], survey.plot_codes("bushes"), n)
        young = plots["stand_age_yr"].to_numpy(np.float64) < p.scalar(
            "belowground.young_below_age_yr"
        )
        bgb = belowground_biomass_t_per_ha(agb, young, p)
        frame: dict[str, FloatArray] = {"agb_t_per_ha": agb, "bgb_t_per_ha": bgb}
        omitted: dict[str, str] = {}
        warnings: list[str] = []
        clipped = young & (bgb == 0.0)
        if clipped.any():
            warnings.append(
                f"{int(clipped.sum())} young plot(s) have B_a below 0.326 t/ha, where the "
                "young-tea model is negative; their belowground biomass is set to 0"
            )
        if survey.has("litter"):
            litter = survey["litter"]
            frame["litter_t_per_ha"] = density_t_per_ha(
                litter["dry_mass_kg"], litter["frame_area_m2"], survey.plot_codes("litter"), n
            )
        else:
            omitted["pruning_litter"] = (
                "no litter table supplied (Zhao et al. 2024 exclude litter; conservative)"
            )
        if survey.has("cores"):
            frame["soc_tc_per_ha"] = self._soc(survey, p.scalar("soc.depth_cm"))
        else:
            omitted["soil_organic_carbon"] = "no cores table supplied"
        if survey.has("fertiliser"):
            fert = survey["fertiliser"]
            codes = survey.plot_codes("fertiliser")
            kg = fert["n_kg_per_ha"].to_numpy(np.float64)
            organic = (fert["n_source"] == "organic").to_numpy()
            frame["n_synthetic_kg_per_ha_yr"] = np.bincount(
                codes, weights=np.where(organic, 0.0, kg), minlength=n
            ).astype(np.float64)
            frame["n_organic_kg_per_ha_yr"] = np.bincount(
                codes, weights=np.where(organic, kg, 0.0), minlength=n
            ).astype(np.float64)
            if not p.flag("n2o.include_indirect"):
                omitted["fertiliser_n2o_indirect"] = "n2o.include_indirect = false"
        else:
            reason = "no fertiliser table supplied"
            omitted["fertiliser_n2o"] = omitted["fertiliser_n2o_indirect"] = reason
            warnings.append(
                "no fertiliser table: fertiliser N2O is not accounted, so a net result built on "
                "this survey would overstate removals"
            )
        return PlotComponents(
            frame=pd.DataFrame(frame, index=survey.plot_ids), omitted=omitted, warnings=warnings
        )

    @staticmethod
    def _soc(survey: Survey, depth_cm: float) -> FloatArray:
        """Σ layer SOC within 0–depth per plot / number of cores in the plot (E6)."""
        cores = survey["cores"]
        plot_codes = survey.plot_codes("cores")
        n = len(survey.plots)
        layer = layer_soc_t_per_ha(
            cores["soc_g_per_kg"],
            cores["bulk_density_g_cm3"],
            cores["depth_top_cm"],
            cores["depth_bottom_cm"],
            np.nan_to_num(_column(cores, "coarse_fraction"), nan=0.0),
            depth_cm,
        )
        core = _core_codes(cores, plot_codes)
        first = np.zeros(len(cores), dtype=bool)
        first[np.unique(core, return_index=True)[1]] = True
        n_cores = np.bincount(plot_codes, weights=first.astype(np.float64), minlength=n)
        total = np.bincount(plot_codes, weights=layer, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(total / n_cores, dtype=np.float64)

    def pool_values(self, components: Mapping[str, Num], p: ParamValues) -> dict[str, Num]:
        """Stocks (t C/ha) and N2O (t CO2e/ha/yr), linear in the components (E4, E5, E7, E8)."""
        cf = p.num("carbon_fraction.bush")
        out: dict[str, Num] = {
            "bush_aboveground": components["agb_t_per_ha"] * cf,
            "bush_belowground": components["bgb_t_per_ha"] * cf,
        }
        if "litter_t_per_ha" in components:
            out["pruning_litter"] = components["litter_t_per_ha"] * p.num("carbon_fraction.litter")
        if "soc_tc_per_ha" in components:
            out["soil_organic_carbon"] = components["soc_tc_per_ha"] * 1.0
        if "n_synthetic_kg_per_ha_yr" in components:
            f_sn = components["n_synthetic_kg_per_ha_yr"]
            f_on = components["n_organic_kg_per_ha_yr"]
            gwp = gwp100(p.text("gwp_set")).n2o
            if p.text("n2o.ef1_source") == "tea":
                ef_sn = ef_on = p.num("ef1.tea")
            else:
                ef_sn, ef_on = p.num("ef1.synthetic_wet"), p.num("ef1.other_wet")
            out["fertiliser_n2o"] = n2o_direct_tco2e_per_ha_yr(f_sn, f_on, ef_sn, ef_on, gwp)
            if p.flag("n2o.include_indirect"):
                out["fertiliser_n2o_indirect"] = n2o_indirect_tco2e_per_ha_yr(
                    f_sn,
                    f_on,
                    p.num("frac_gasf"),
                    p.num("frac_gasm"),
                    p.num("ef4.wet"),
                    p.num("frac_leach"),
                    p.num("ef5"),
                    gwp,
                )
        return out
