"""``wetland``: freshwater lake wetland (Xiazhu Lake 下渚湖); VM0033 structure, lake defaults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from methodologies.base import Methodology, PlotComponents, Pool, Survey
from methodologies.parameters import Num, ParamValues
from methodologies.schema import SurveySchema, TableSchema, plots_table, strata_table
from methodologies.wetland.equations import (
    annual_flux_t_per_ha_yr,
    plot_density_t_per_ha,
)
from methodologies.wetland.soil import SoilCores, numeric
from methodologies.wetland.tables import (
    CORES_COLUMNS,
    FLUXES_COLUMNS,
    GASES,
    VEG_TYPES,
    VEGETATION_COLUMNS,
)
from mrv.errors import Problem
from mrv.gwp import GWP, gwp100
from mrv.units import KG_PER_T

FloatArray = npt.NDArray[np.float64]

LAKE_BURIAL_MAX_T_C_PER_HA_YR = 2.595
"""Highest organic-carbon burial of 64 Chinese lakes, 259.5 g C m⁻² yr⁻¹ (methodologies.md §2.5)."""
FRAME_DENSITY_WARN_G_PER_M2 = 5_000.0
"""Clipped aboveground dry mass above 5 kg m⁻² is implausible for herbaceous marsh vegetation."""
MIN_FLUX_CAMPAIGNS = 3


class Wetland(Methodology):
    """Freshwater lake wetland: vegetation stock, soil carbon accumulation, CH4 and N2O."""

    id = "wetland"
    version = "1.0.0"
    title = "Freshwater lake wetland (non-tidal)"
    title_zh = "淡水湖泊湿地碳汇"
    summary = (
        "Net annual removals of a non-tidal freshwater lake wetland such as Xiazhu Lake "
        "(下渚湖, Deqing): soil organic-carbon accumulation from marker-horizon accretion or from "
        "repeated stock surveys (allochthonous carbon deducted, VM0033 eqs 38-40), minus CH4 and "
        "N2O from chamber fluxes or, where none were measured, lake defaults (IPCC 2013 Wetlands "
        "Supplement Table 5.4 CH4; VM0033 freshwater N2O), with a selectable GWP set. Herbaceous "
        "vegetation (reed, lotus, sedge) from harvest frames is reported as a stock, not as an "
        "annual removal. Tidal defaults (e.g. VM0033's 1.46 t C/ha/yr) are never used."
    )
    schema = SurveySchema(
        (
            plots_table(),
            TableSchema(
                "cores",
                "Soil: one row per accretion core, or per layer of a core in a stock survey round.",
                CORES_COLUMNS,
            ),
            TableSchema(
                "vegetation",
                "Harvest frames: one row per clipped frame (quadrat).",
                VEGETATION_COLUMNS,
                required=False,
            ),
            TableSchema(
                "fluxes",
                "Chamber or eddy-covariance CH4/N2O: one row per plot, gas and campaign.",
                FLUXES_COLUMNS,
                required=False,
            ),
            strata_table(),
        )
    )
    pools = (
        Pool(
            "vegetation_aboveground",
            "stock",
            "Herbaceous aboveground mass (living + standing dead) from harvest frames.",
        ),
        Pool(
            "vegetation_belowground",
            "stock",
            "Roots and rhizomes: measured, or (only on request) by root_to_shoot.*.",
        ),
        Pool(
            "soil_carbon_accumulation",
            "removal",
            "Autochthonous soil organic carbon accumulated per year.",
        ),
        Pool("ch4", "emission", "CH4 from the wetland (biogenic), measured or lake default."),
        Pool("n2o", "emission", "N2O from the wetland, measured or VM0033 freshwater default."),
    )
    excluded_pools: ClassVar[Mapping[str, str]] = {
        "vegetation_annual_change": (
            "herbaceous biomass is at steady state within a year (VM0033 §8.2.3): it is reported "
            "as a stock and may be claimed once against the baseline stock, never every year"
        ),
        "litter_and_dead_wood": "standing dead is in the clipped mass; fallen litter ignored",
        "soil_inorganic_carbon": "carbonates removed before analysis; not a removal",
        "fossil_fuel_and_burning": "project emissions outside the plot survey (VM0033 §8.2.5-6)",
    }

    # ------------------------------------------------------------------ checks
    def check(self, survey: Survey, p: ParamValues) -> list[Problem]:
        """Cross-field checks of cores, vegetation frames, fluxes and the GWP setting."""
        problems = self._check_gwp(p)
        problems += self._check_cores(survey, p)
        if survey.has("vegetation"):
            problems += self._check_vegetation(survey)
        if survey.has("fluxes"):
            problems += self._check_fluxes(survey)
        return problems

    @staticmethod
    def _check_gwp(p: ParamValues) -> list[Problem]:
        if p.text("gwp_set") == "AR6" and p.scalar("ar6_biogenic_ch4") not in (27.0, 27.9):
            return [
                Problem(
                    reason="AR6 biogenic CH4 GWP must be 27.0 (Table 7.15 non-fossil) or 27.9 "
                    "(Table 7.SM.7)",
                    column="ar6_biogenic_ch4",
                )
            ]
        return []

    def _check_cores(self, survey: Survey, p: ParamValues) -> list[Problem]:
        cores = survey["cores"]
        s = SoilCores(survey, p)
        acc, stk = s.accretion, s.stock
        no_carbon = ~np.isfinite(numeric(cores, "organic_carbon_pct")) & ~np.isfinite(
            numeric(cores, "organic_matter_pct")
        )
        out = survey.problems(
            "cores",
            no_carbon,
            "needs organic_carbon_pct or organic_matter_pct",
            "organic_carbon_pct",
        )
        for mask, column, why in (
            (acc & ~np.isfinite(s.rate), "accretion_cm_per_yr", "accretion core needs a rate"),
            (
                acc & ~np.isfinite(s.ref_age),
                "reference_age_yr",
                "accretion core needs the age of its reference plane",
            ),
            (stk & ~np.isfinite(s.round), "survey_round", "stock layer needs its survey round"),
            (stk & ~np.isfinite(s.t_yr), "sample_date", "stock layer needs its sample date"),
            (stk & ~np.isfinite(s.top), "top_cm", "stock layer needs its upper depth"),
            (stk & ~np.isfinite(s.bottom), "bottom_cm", "stock layer needs its lower depth"),
        ):
            out += survey.problems("cores", mask, why, column)
        min_age = p.scalar("accretion.min_reference_age_yr")
        young = acc & np.isfinite(s.ref_age) & (s.ref_age < min_age)
        out += survey.problems(
            "cores",
            young,
            f"reference plane younger than {min_age:g} yr: VM0033 §8.1.4.2.5 needs at least "
            f"{min_age:g} years for a reliable mean accretion rate",
            "reference_age_yr",
        )
        thin = stk & np.isfinite(s.top) & np.isfinite(s.bottom) & (s.bottom <= s.top)
        out += survey.problems("cores", thin, "bottom_cm must be below top_cm", "bottom_cm")
        missing = ~(s.plot_accretion | s.plot_stock)
        out += survey.problems(
            "plots",
            missing,
            f"plot has no soil core in {survey.files.get('cores', 'cores')}; every plot needs a "
            "soil measurement (a missing core is not a zero)",
            "plot_id",
        )
        both = (s.plot_accretion & s.plot_stock)[s.codes]
        out += survey.problems(
            "cores",
            both,
            "plot mixes accretion and stock rows; use one method per plot",
            "method",
        )
        if any(pr.severity == "error" for pr in out) or not stk.any():
            return out
        return out + self._check_stock_layers(survey, s, min_age)

    @staticmethod
    def _check_stock_layers(survey: Survey, s: SoilCores, min_age: float) -> list[Problem]:
        layers = s.stock_layers()
        n_rows = len(survey["cores"])

        def rows(mask: pd.Series | npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
            out = np.zeros(n_rows, dtype=bool)
            out[layers["row"].to_numpy()[np.asarray(mask, dtype=bool)]] = True
            return out

        key = ["plot", "round", "core"]
        span = layers.groupby(key)["bottom"].transform("max") - layers.groupby(key)[
            "top"
        ].transform("min")
        thick = (
            (layers["bottom"] - layers["top"]).groupby([layers[k] for k in key]).transform("sum")
        )
        problems = survey.problems(
            "cores", rows(thick > span + 1e-9), "layers of this core overlap", "top_cm"
        )
        problems += survey.problems(
            "cores",
            rows((thick < span - 1e-9) & ~layers.duplicated(key)),
            "layers of this core leave a gap; the gap counts as zero carbon",
            "top_cm",
            "warning",
        )
        core_bottom = layers.groupby(key)["bottom"].transform("max")
        core_top = layers.groupby(key)["top"].transform("min")
        by_plot = layers.assign(cb=core_bottom, ct=core_top).groupby("plot")
        depth_differs = (by_plot["cb"].transform("nunique") > 1) | (
            by_plot["ct"].transform("nunique") > 1
        )
        problems += survey.problems(
            "cores",
            rows(depth_differs),
            "cores of this plot cover different depths; stock changes must compare the same "
            "depth interval in every round",
            "bottom_cm",
        )
        rounds = layers.groupby("plot")["round"].transform("nunique")
        problems += survey.problems(
            "cores",
            rows(rounds < 2),
            "stock-change plot has only one survey round; at least two are needed",
            "survey_round",
        )
        t_round = layers.groupby(["plot", "round"])["t"].transform("mean")
        t_first = t_round.groupby(layers["plot"]).transform("min")
        t_last = t_round.groupby(layers["plot"]).transform("max")
        interval = t_last - t_first
        problems += survey.problems(
            "cores",
            rows((rounds >= 2) & (interval <= 0)),
            "survey rounds of this plot have the same sample date; the change per year is "
            "undefined",
            "sample_date",
        )
        short = (rounds >= 2) & (interval > 0) & (interval < min_age) & ~layers.duplicated("plot")
        problems += survey.problems(
            "cores",
            rows(short),
            f"stock surveys less than {min_age:g} yr apart: the change is likely below the "
            "detection limit of repeated coring",
            "sample_date",
            "warning",
        )
        return problems

    @staticmethod
    def _check_vegetation(survey: Survey) -> list[Problem]:
        veg = survey["vegetation"]
        bgb = numeric(veg, "belowground_dry_g")
        given = np.isfinite(bgb)
        problems: list[Problem] = []
        if given.any() and not given.all():
            problems += survey.problems(
                "vegetation",
                ~given,
                "belowground_dry_g is given for other frames: give it for all frames or none "
                "(a missing value is not a zero)",
                "belowground_dry_g",
            )
        density = numeric(veg, "aboveground_dry_g") / numeric(veg, "frame_area_m2")
        problems += survey.problems(
            "vegetation",
            density > FRAME_DENSITY_WARN_G_PER_M2,
            f"more than {FRAME_DENSITY_WARN_G_PER_M2:,.0f} g/m² dry aboveground mass is "
            "implausible for herbaceous marsh vegetation",
            "aboveground_dry_g",
            "warning",
        )
        frame_area = np.bincount(
            survey.plot_codes("vegetation"),
            weights=numeric(veg, "frame_area_m2"),
            minlength=len(survey.plots),
        )
        problems += survey.problems(
            "plots",
            frame_area > survey.plots["plot_area_m2"].to_numpy(dtype=np.float64),
            "harvest frames of this plot cover more than the plot area",
            "plot_area_m2",
        )
        return problems

    @staticmethod
    def _check_fluxes(survey: Survey) -> list[Problem]:
        fl = survey["fluxes"]
        key = [fl["plot_id"], fl["gas"]]
        count = fl.groupby(key)["gas"].transform("size").to_numpy()
        first = ~fl.duplicated(["plot_id", "gas"]).to_numpy()
        return survey.problems(
            "fluxes",
            first & (count < MIN_FLUX_CAMPAIGNS),
            f"annual flux from fewer than {MIN_FLUX_CAMPAIGNS} campaigns; VM0033 §9.3.8 needs "
            "about monthly campaigns, or campaigns at peak emission only (conservative)",
            "flux_mg_m2_d",
            "warning",
        )

    # -------------------------------------------------------------- components
    def plot_components(self, survey: Survey, p: ParamValues) -> PlotComponents:
        """Per-plot vegetation dry mass by type, soil accumulation and CH4/N2O components."""
        ids = survey.plot_ids
        frame: dict[str, FloatArray] = {}
        omitted: dict[str, str] = {}
        warnings: list[str] = []
        if survey.has("vegetation"):
            self._vegetation(survey, p, frame, omitted, warnings)
        else:
            omitted["vegetation_aboveground"] = "no vegetation table supplied"
            omitted["vegetation_belowground"] = "no vegetation table supplied"
        soil = SoilCores(survey, p)
        gross, autoch = soil.per_plot()
        frame["soil_c_gross_t_c_per_ha_yr"] = gross
        frame["soil_c_autochthonous_t_c_per_ha_yr"] = autoch
        high = gross > LAKE_BURIAL_MAX_T_C_PER_HA_YR
        if high.any():
            warnings.append(
                "soil carbon accumulation above 2.6 t C/ha/yr (the highest of 64 Chinese lakes, "
                f"methodologies.md §2.5) on plot(s) {', '.join(map(str, ids[high]))}"
            )
        if soil.converted.any():
            warnings.append(
                f"organic carbon of {int(soil.converted.sum())} core row(s) derived from "
                "loss-on-ignition organic matter with the Craft et al. (1991) marsh-soil equation "
                "(calibrated on estuarine marsh soils); measure organic carbon directly or "
                "calibrate on the site's soils"
            )
        mixed = (
            pd.Series(soil.plot_accretion, index=survey.plots["stratum"].to_numpy())
            .groupby(level=0)
            .nunique()
        )
        for stratum in mixed.index[mixed.to_numpy() > 1]:
            warnings.append(
                f"stratum {stratum!r} mixes accretion and stock-change plots; the two approaches "
                "measure different things (new material above a marker vs. whole-profile change)"
            )
        self._fluxes(survey, p, frame, warnings)
        defaulted = {
            gas: f"no {gas.upper()} fluxes measured: the lake default is applied to every plot "
            "(see warnings for the value and its source)"
            for gas in GASES
            if np.all(frame[f"{gas}_default_share"] == 1.0)
        }
        return PlotComponents(
            frame=pd.DataFrame(frame, index=ids),
            omitted=omitted,
            warnings=warnings,
            defaulted=defaulted,
        )

    @staticmethod
    def _vegetation(
        survey: Survey,
        p: ParamValues,
        frame: dict[str, FloatArray],
        omitted: dict[str, str],
        warnings: list[str],
    ) -> None:
        veg = survey["vegetation"]
        n = len(survey.plots)
        codes = survey.plot_codes("vegetation")
        area = np.bincount(codes, weights=numeric(veg, "frame_area_m2"), minlength=n)
        agb = numeric(veg, "aboveground_dry_g")
        kinds = veg["veg_type"].to_numpy()
        present = [t for t in VEG_TYPES if (kinds == t).any()]
        for t in present:
            m = kinds == t
            frame[f"agb_{t}_t_dm_per_ha"] = plot_density_t_per_ha(agb[m], codes[m], area)
        bare = area == 0
        if bare.any():
            warnings.append(
                f"{int(bare.sum())} plot(s) without harvest frames count as 0 vegetation (open "
                f"water or not sampled): {', '.join(map(str, survey.plot_ids[bare]))}"
            )
        bgb = numeric(veg, "belowground_dry_g")
        if np.isfinite(bgb).any():
            frame["bgb_t_dm_per_ha"] = plot_density_t_per_ha(bgb, codes, area)
            if p.flag("belowground_from_root_to_shoot"):
                warnings.append(
                    "belowground biomass was measured; belowground_from_root_to_shoot is ignored"
                )
        elif p.flag("belowground_from_root_to_shoot"):
            warnings.append(
                "belowground biomass NOT measured: estimated from aboveground biomass with "
                "root_to_shoot.* at the user's request (wetland.md §5)"
            )
            for t in present:
                if p.scalar(f"root_to_shoot.{t}") == 0.0:
                    warnings.append(
                        f"root_to_shoot.{t} is 0 (no default known): {t} belowground biomass "
                        "counts as 0 until a documented ratio is set"
                    )
        else:
            omitted["vegetation_belowground"] = (
                "not measured (no belowground_dry_g); never filled from a default root:shoot "
                "ratio unless belowground_from_root_to_shoot is set"
            )

    @staticmethod
    def _fluxes(
        survey: Survey, p: ParamValues, frame: dict[str, FloatArray], warnings: list[str]
    ) -> None:
        n = len(survey.plots)
        strata = survey.plots["stratum"].to_numpy()
        for gas in GASES:
            measured = np.zeros(n, dtype=bool)
            if survey.has("fluxes"):
                fl = survey["fluxes"]
                m = (fl["gas"] == gas).to_numpy()
                codes = survey.plot_codes("fluxes")[m]
                count = np.bincount(codes, minlength=n)
                total = np.bincount(codes, weights=numeric(fl, "flux_mg_m2_d")[m], minlength=n)
                measured = count > 0
                if measured.any():
                    with np.errstate(divide="ignore", invalid="ignore"):
                        daily = np.where(measured, total / count, 0.0)
                    frame[f"{gas}_measured_t_{gas}_per_ha_yr"] = annual_flux_t_per_ha_yr(daily)
            frame[f"{gas}_default_share"] = (~measured).astype(np.float64)
            if not measured.all():
                default = (
                    f"{p.scalar('ch4_default_kg_ch4_per_ha_yr'):g} kg CH4/ha/yr (IPCC 2013 "
                    "Wetlands Supplement Table 5.4, temperate inland mineral soils; not read in "
                    "the primary text)"
                    if gas == "ch4"
                    else f"{p.scalar('n2o_default_t_n2o_per_ha_yr'):g} t N2O/ha/yr (VM0033 eq. "
                    "68, fresh non-seagrass wetland; not allowed where the wetland receives "
                    "direct nitrogen inputs)"
                )
                warnings.append(
                    f"{gas.upper()} not measured on {int((~measured).sum())} plot(s): default "
                    f"{default} applied"
                )
            part = pd.Series(measured, index=strata).groupby(level=0).nunique()
            for stratum in part.index[part.to_numpy() > 1]:
                warnings.append(
                    f"stratum {stratum!r} mixes measured and default {gas.upper()}: measure "
                    "every plot or none"
                )

    # ------------------------------------------------------------------- pools
    @staticmethod
    def gwp(p: ParamValues) -> GWP:
        """The GWP100 set chosen by ``gwp_set`` (and ``ar6_biogenic_ch4`` under AR6)."""
        gwp_set = p.text("gwp_set")
        if gwp_set == "AR6":
            return gwp100("AR6", ar6_biogenic_ch4=p.scalar("ar6_biogenic_ch4"))
        return gwp100(gwp_set)

    def pool_values(self, components: Mapping[str, Num], p: ParamValues) -> dict[str, Num]:
        """Vegetation stocks (t C/ha), soil removal (t C/ha/yr), CH4/N2O (t CO2e/ha/yr); W9-W12."""
        out: dict[str, Num] = {}
        types = [t for t in VEG_TYPES if f"agb_{t}_t_dm_per_ha" in components]
        if types:
            cf = p.num("carbon_fraction")
            agb: Num = 0.0
            for t in types:
                agb = agb + components[f"agb_{t}_t_dm_per_ha"]
            out["vegetation_aboveground"] = agb * cf
            if "bgb_t_dm_per_ha" in components:
                out["vegetation_belowground"] = components["bgb_t_dm_per_ha"] * cf
            elif p.flag("belowground_from_root_to_shoot"):
                bgb: Num = 0.0
                for t in types:
                    bgb = bgb + components[f"agb_{t}_t_dm_per_ha"] * p.num(f"root_to_shoot.{t}")
                out["vegetation_belowground"] = bgb * cf
        out["soil_carbon_accumulation"] = components["soil_c_autochthonous_t_c_per_ha_yr"]
        gwp = self.gwp(p)
        ch4_t = (
            components.get("ch4_measured_t_ch4_per_ha_yr", 0.0)
            + components["ch4_default_share"] * p.num("ch4_default_kg_ch4_per_ha_yr") / KG_PER_T
        )
        n2o_t = components.get("n2o_measured_t_n2o_per_ha_yr", 0.0) + components[
            "n2o_default_share"
        ] * p.num("n2o_default_t_n2o_per_ha_yr")
        out["ch4"] = ch4_t * gwp.ch4
        out["n2o"] = n2o_t * gwp.n2o
        return out
