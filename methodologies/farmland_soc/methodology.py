"""``farmland-soc``: cropland (paddy and upland) soil organic carbon, biochar, paddy CH4 and N2O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from methodologies.base import Methodology, PlotComponents, Pool, Survey
from methodologies.farmland_soc.equations import (
    biochar_temperature_class,
    f_som_kg_n_per_ha,
    rice_sf_o,
)
from methodologies.farmland_soc.soil import mean_by, soc_by_plot, sorted_cores
from methodologies.farmland_soc.tables import (
    BIOCHAR,
    CH4,
    CORE_COLUMNS,
    EF1FR_CLASS,
    MANAGEMENT_COLUMNS,
    N_COLUMNS,
    RICE_ONLY_COLUMNS,
    TIER1,
    TIER1_COLUMNS,
)
from methodologies.parameters import Num, ParamValues
from methodologies.schema import SurveySchema, TableSchema, plots_table, strata_table
from mrv.errors import Problem
from mrv.gwp import gwp100
from mrv.units import N2O_PER_N2O_N

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _aligned_management(survey: Survey) -> pd.DataFrame:
    """Management rows in plot order (check() guarantees one row per plot)."""
    m = survey["management"]
    pos = pd.Index(m["plot_id"].to_numpy()).get_indexer(survey.plot_ids)
    aligned: pd.DataFrame = m.iloc[pos].reset_index(drop=True)
    return aligned


def _num(frame: pd.DataFrame, column: str) -> FloatArray:
    if column not in frame.columns:
        return np.zeros(len(frame))
    return frame[column].fillna(0.0).to_numpy(np.float64)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame[column]


def _join(*parts: pd.Series) -> pd.Series:
    """Cells joined with ``:``; null where any part is null (vectorised per column)."""
    frame = pd.concat([part.astype(object) for part in parts], axis=1)
    ok = frame.notna().all(axis=1)
    text = parts[0].astype(str)
    for part in parts[1:]:  # a handful of columns, each joined vectorised
        text = text + ":" + part.astype(str)
    out: pd.Series = text.where(ok)
    return out


def _indicator_frame(keys: pd.Series, weights: FloatArray, prefix: str) -> pd.DataFrame:
    """One column per distinct key holding the row's weight (null keys and zero weights give
    nothing); columns sorted by key."""
    ok = keys.notna().to_numpy() & (weights != 0.0)
    rows = np.flatnonzero(ok)
    codes, uniques = pd.factorize(keys.to_numpy(dtype=object)[ok], sort=True)
    matrix = np.zeros((len(keys), len(uniques)))
    np.add.at(matrix, (rows, codes), weights[ok])
    return pd.DataFrame(matrix, index=keys.index, columns=[prefix + str(u) for u in uniques])


class FarmlandSoc(Methodology):
    """Farmland SOC change (paired cores on an equivalent soil mass, or IPCC Tier 1), biochar,
    paddy CH4 and N2O, giving the field's net GHG balance per hectare and year."""

    id = "farmland-soc"
    version = "1.0.0"
    title = "Farmland soil organic carbon, biochar, paddy CH4 and N2O"
    title_zh = "农田土壤有机碳、生物炭、稻田甲烷与氧化亚氮"
    summary = (
        "Cropland (paddy and upland) in Huzhou. SOC stock and its annual change from baseline and "
        "follow-up soil cores compared on an equivalent soil mass (VM0042 measure-and-remeasure), "
        "or, on request, the IPCC Tier 1 change from baseline to project management (stock-change "
        "factors F_LU incl. paddy, F_MG, F_I). Biochar persistent carbon (F_C × F_perm), paddy "
        "CH4 (IPCC 2019 daily EF × scaling factors × days) and direct plus indirect N2O from N "
        "inputs are per-hectare annual pools; the net is removals × 44/12 − emissions: the "
        "field's net GHG balance under the project management."
    )
    schema = SurveySchema(
        (
            plots_table(),
            TableSchema(
                "cores",
                "One row per soil layer of a core: baseline and follow-up rounds at the same "
                "points; layers contiguous from 0 cm.",
                CORE_COLUMNS,
            ),
            TableSchema(
                "management",
                "One row per plot: management in the monitoring period (per year) and, for "
                "Tier 1, before the project.",
                MANAGEMENT_COLUMNS,
                key=("plot_id",),
            ),
            strata_table(),
        )
    )
    pools = (
        Pool(
            "soc_stock",
            "stock",
            "SOC of the reference (baseline) soil mass at the latest "
            "round (ESM basis; includes any biochar C).",
        ),
        Pool(
            "soc_change",
            "removal",
            "Annual SOC change: measured (ESM, net of biochar C "
            "applied) or IPCC Tier 1 (project − baseline management) / D.",
        ),
        Pool(
            "biochar",
            "removal",
            "Biochar C persisting 100 years, applied per year (BC · F_C · F_perm).",
        ),
        Pool(
            "paddy_ch4",
            "emission",
            "Paddy CH4, IPCC 2019 Tier 1 (EF_c · SF_w · SF_p · SF_o · days) × GWP.",
        ),
        Pool(
            "n2o",
            "emission",
            "Direct and indirect N2O from synthetic, organic, residue and SOM-mineralised N × GWP.",
        ),
    )
    excluded_pools: ClassVar[Mapping[str, str]] = {
        "crop_biomass": "annual crop biomass is harvested or returned within the year: no "
        "lasting stock (IPCC Tier 1 for annual cropland)",
        "upland_ch4_uptake": "CH4 oxidation by aerobic upland soils is small; ignoring this sink "
        "is conservative",
        "urea_and_lime_co2": "CO2 from urea hydrolysis and liming (IPCC Vol4 Ch11.3-11.4) is not "
        "counted: NOT conservative where urea is used; add it outside this methodology",
        "project_emissions": "fuel, fertiliser manufacture, biochar production and transport "
        "are outside this field-level methodology: NOT conservative for crediting",
        "residue_burning": "open straw burning is banned in Zhejiang; not counted",
    }
    change_unsupported: ClassVar[str] = (
        "each farmland-soc survey holds baseline and follow-up cores and its soc_change pool is "
        "already the change; differencing soc_stock between two surveys would count it twice. "
        "Use 'mrv plots estimate' on the latest survey with all its cores."
    )

    # ------------------------------------------------------------------ validation
    def check(self, survey: Survey, p: ParamValues) -> list[Problem]:
        """Management present per plot with the fields its land use and method need; core layers
        contiguous from 0 cm; baseline cores reaching the reference depth; paired rounds."""
        return self._check_management(survey, p) + self._check_cores(survey, p)

    def _check_management(self, survey: Survey, p: ParamValues) -> list[Problem]:
        m = survey["management"]
        file = survey.files.get("management", "management")
        pos = pd.Index(m["plot_id"].to_numpy()).get_indexer(survey.plot_ids)
        problems = survey.problems("plots", pos < 0, f"plot has no row in {file}", "plot_id")
        paddy = (m["land_use"] == "paddy").to_numpy()
        for col in ("water_regime", "preseason_water"):
            blank = _text(m, col).isna().to_numpy()
            problems += survey.problems(
                "management", paddy & blank, f"{col} is required for a paddy plot", col
            )
        for col in RICE_ONLY_COLUMNS:
            problems += survey.problems(
                "management",
                ~paddy & (_num(m, col) > 0),
                f"{col} is a rice-season input but land_use is not paddy",
                col,
            )
        straw, within = _num(m, "straw_dm_t_per_ha"), _num(m, "straw_within_30d_dm_t_per_ha")
        problems += survey.problems(
            "management",
            within > straw + 1e-9,
            "straw_within_30d_dm_t_per_ha exceeds straw_dm_t_per_ha (it is part of it)",
            "straw_within_30d_dm_t_per_ha",
        )
        biochar = _num(m, "biochar_t_per_ha_yr") > 0
        for col in ("biochar_feedstock", "biochar_process", "biochar_temperature_c"):
            problems += survey.problems(
                "management",
                biochar & _text(m, col).isna().to_numpy(),
                f"{col} is required when biochar is applied",
                col,
            )
        if p.text("soc_change_method") == "tier1":
            for col in TIER1_COLUMNS:
                problems += survey.problems(
                    "management",
                    _text(m, col).isna().to_numpy(),
                    f"{col} is required when soc_change_method = tier1",
                    col,
                )
        no_days = paddy & _text(m, "rice_days").isna().to_numpy()
        if no_days.any():
            problems += survey.problems(
                "management",
                no_days,
                f"rice_days blank: the IPCC East Asia default of "
                f"{p.scalar('rice.default_cultivation_days'):g} d is used",
                "rice_days",
                "warning",
            )
        return problems

    def _check_cores(self, survey: Survey, p: ParamValues) -> list[Problem]:
        c = sorted_cores(survey)
        f = c.frame
        top = f["depth_top_cm"].to_numpy(np.float64)
        bottom = f["depth_bottom_cm"].to_numpy(np.float64)
        problems = survey.problems(
            "cores",
            bottom <= top,
            "depth_bottom_cm must be below depth_top_cm",
            "depth_bottom_cm",
            frame=f,
        )
        bad_first = c.first & ~np.isclose(top, 0.0)
        problems += survey.problems(
            "cores",
            bad_first,
            [
                f"the top layer of a core must start at 0 cm (found {t:g} cm)"
                for t in top[bad_first]
            ],
            "depth_top_cm",
            frame=f,
        )
        prev_bottom = np.r_[np.nan, bottom[:-1]]
        gap = ~c.first & ~np.isclose(top, prev_bottom)
        problems += survey.problems(
            "cores",
            gap,
            [
                f"layer starts at {t:g} cm but the layer above ends at {b:g} cm (gap or overlap; "
                "check core_id and round)"
                for t, b in zip(top[gap], prev_bottom[gap], strict=True)
            ],
            "depth_top_cm",
            frame=f,
        )
        ref = p.scalar("reference_depth_cm")
        shallow = c.deepest & ~c.followup & (bottom < ref - 1e-9)
        problems += survey.problems(
            "cores",
            shallow,
            [
                f"baseline core ends at {b:g} cm, above reference_depth_cm = {ref:g}: the "
                "reference soil mass needs baseline layers to that depth"
                for b in bottom[shallow]
            ],
            "depth_bottom_cm",
            frame=f,
        )
        n = len(survey.plots)
        has_base = np.bincount(c.plot[~c.followup], minlength=n) > 0
        has_follow = np.bincount(c.plot[c.followup], minlength=n) > 0
        cores_file = survey.files.get("cores", "cores")
        problems += survey.problems(
            "plots", ~has_base, f"plot has no baseline cores in {cores_file}", "plot_id"
        )
        if has_follow.any():
            problems += survey.problems(
                "plots",
                has_base & ~has_follow,
                f"plot has no follow-up cores in {cores_file}; every plot needs both rounds "
                "(paired re-measurement)",
                "plot_id",
            )
            days = (f["sample_date"] - pd.Timestamp("1970-01-01")).dt.days.to_numpy(np.float64)
            d0 = mean_by(c.plot[~c.followup], days[~c.followup], n)
            d1 = mean_by(c.plot[c.followup], days[c.followup], n)
            years = (d1 - d0) / 365.25
            late = c.followup & ~(years[c.plot] > 0)
            problems += survey.problems(
                "cores",
                late,
                "follow-up cores are not later than the plot's baseline cores",
                "sample_date",
                frame=f,
            )
            short = (years > 0) & (years < 2.0)
            problems += survey.problems(
                "plots",
                short,
                "less than 2 years between baseline and follow-up cores: SOC change is hard to "
                "detect over so short a period",
                "plot_id",
                "warning",
            )
        return problems

    # ------------------------------------------------------------------ components
    def plot_components(self, survey: Survey, p: ParamValues) -> PlotComponents:
        """SOC on an equivalent soil mass, Tier 1 indicators, biochar amounts by class, rice
        days × SF_o by water-regime class and N inputs by emission-factor class."""
        n = len(survey.plots)
        index = survey.plot_ids
        method = p.text("soc_change_method")
        frame: dict[str, FloatArray] = {}
        omitted: dict[str, str] = {}
        warnings: list[str] = []
        mg = _aligned_management(survey)
        land_use = mg["land_use"]
        paddy = (land_use == "paddy").to_numpy()
        measured_change: FloatArray | None = None
        # cores are a required table: SOC on an equivalent soil mass (E1-E6)
        ref_depth = p.scalar("reference_depth_cm")
        soc = soc_by_plot(survey, ref_depth)
        frame["soil_mass_ref_t_per_ha"] = soc.reference_mass_t_per_ha
        frame["soc_baseline_tc_per_ha"] = soc.baseline_tc_per_ha
        if soc.extrapolated_plots:
            warnings.append(
                f"equivalent soil mass: {len(soc.extrapolated_plots)} plot(s) have a core "
                f"lighter than the reference mass ({', '.join(soc.extrapolated_plots)}); the "
                "deepest layer's SOC concentration was extrapolated over up to "
                f"{100 * soc.max_extrapolated_fraction:.1f} % of the reference mass - sample "
                "follow-up cores deeper than the reference depth"
            )
        if soc.followup_tc_per_ha is not None and soc.years is not None:
            frame["soc_stock_tc_per_ha"] = soc.followup_tc_per_ha
            frame["monitoring_years"] = soc.years
            measured_change = (soc.followup_tc_per_ha - soc.baseline_tc_per_ha) / soc.years
            frame["soc_change_measured_tc_per_ha_yr"] = measured_change
            if soc.fixed_depth_change_tc_per_ha_yr is not None:
                frame["soc_change_fixed_depth_tc_per_ha_yr"] = soc.fixed_depth_change_tc_per_ha_yr
            if method == "tier1":
                warnings.append(
                    "soc_change_method = tier1: soc_change uses IPCC stock-change factors; "
                    "the measured change is reported per plot for comparison only"
                )
        else:
            frame["soc_stock_tc_per_ha"] = soc.baseline_tc_per_ha
            if method == "measured":
                omitted["soc_change"] = (
                    "only baseline cores: the measured change needs follow-up cores at the "
                    "same points (or set soc_change_method=tier1)"
                )
        # biochar amounts by (feedstock, process, temperature class)
        bc = _num(mg, "biochar_t_per_ha_yr")
        bc_class = pd.Series(
            biochar_temperature_class(_num(mg, "biochar_temperature_c")), index=mg.index
        )
        bc_key = _join(_text(mg, "biochar_feedstock"), _text(mg, "biochar_process"), bc_class)
        bc_frame = _indicator_frame(bc_key.where(bc > 0), bc, BIOCHAR)
        for col in bc_frame.columns:
            frame[col] = bc_frame[col].to_numpy(np.float64)
        if not (bc > 0).any():
            omitted["biochar"] = "no biochar applied on any plot"
        # default-parameter SOC change, only for F_SOM (N mineralised by SOC loss)
        soc_change_default = np.zeros(n)
        if method == "measured" and measured_change is not None:
            f_c = np.zeros(n)
            for key in bc_frame.columns:
                fs, proc, _ = key.removeprefix(BIOCHAR).split(":")
                f_c = f_c + (bc_frame[key].to_numpy() > 0) * p.scalar(f"biochar.f_c.{fs}.{proc}")
            soc_change_default = measured_change - bc * f_c
        elif method == "tier1":
            tier1, soc_change_default = self._tier1(mg, p)
            for col in tier1.columns:
                frame[col] = tier1[col].to_numpy(np.float64)
        # paddy CH4: rice days × SF_o by (water regime, pre-season) class
        if paddy.any():
            days = _num(mg, "rice_days")
            blank = paddy & _text(mg, "rice_days").isna().to_numpy()
            if blank.any():
                days = np.where(blank, p.scalar("rice.default_cultivation_days"), days)
            straw = _num(mg, "straw_dm_t_per_ha")
            within = _num(mg, "straw_within_30d_dm_t_per_ha")
            amendments = {
                "straw_within_30d": within,
                "straw_over_30d": straw - within,
                "compost": _num(mg, "compost_fresh_t_per_ha"),
                "farmyard_manure": _num(mg, "manure_fresh_t_per_ha"),
                "green_manure": _num(mg, "green_manure_fresh_t_per_ha"),
            }
            used = {k: v for k, v in amendments.items() if (v[paddy] > 0).any()}
            roa = np.column_stack([*used.values(), np.zeros(n)])
            cfoa = np.array([*(p.scalar(f"rice.cfoa.{k}") for k in used), 0.0])
            sf_o = rice_sf_o(roa, cfoa, p.scalar("rice.sf_o_exponent"))
            regime = _join(_text(mg, "water_regime"), _text(mg, "preseason_water"))
            ch4 = _indicator_frame(regime, np.where(paddy, days * sf_o, 0.0), CH4)
            for col in ch4.columns:
                frame[col] = ch4[col].to_numpy(np.float64)
            frame["rice_sf_o"] = np.where(paddy, sf_o, 0.0)
        else:
            omitted["paddy_ch4"] = "no paddy plots"
        # N inputs by emission-factor class
        if any(col in mg.columns for col in N_COLUMNS):
            frame.update(self._n_inputs(mg, paddy, soc_change_default, p))
        else:
            omitted["n2o"] = (
                "no nitrogen input columns in the management table (synthetic_n_kg_per_ha, "
                "organic_n_kg_per_ha, rice_synthetic_n_kg_per_ha, rice_organic_n_kg_per_ha)"
            )
        return PlotComponents(
            frame=pd.DataFrame(frame, index=index), omitted=omitted, warnings=warnings
        )

    def _tier1(self, mg: pd.DataFrame, p: ParamValues) -> tuple[pd.DataFrame, FloatArray]:
        """+1 for the project class, −1 for the baseline class of each plot (E9), and the
        change at default parameters (for F_SOM)."""
        soil = mg["soil_class"]
        project = _join(soil, mg["land_use"], mg["tillage"], mg["input_level"])
        baseline = _join(
            soil, mg["baseline_land_use"], mg["baseline_tillage"], mg["baseline_input_level"]
        )
        ones = np.ones(len(mg))
        plus = _indicator_frame(project, ones, TIER1)
        minus = _indicator_frame(baseline, ones, TIER1)
        cols = sorted(set(plus.columns) | set(minus.columns))
        net = plus.reindex(columns=cols, fill_value=0.0) - minus.reindex(
            columns=cols, fill_value=0.0
        )
        net = net.loc[:, (net != 0.0).any(axis=0)]
        factors = {key: _tier1_factor(key.removeprefix(TIER1), p.scalar) for key in net.columns}
        change = net.to_numpy(np.float64) @ np.array([factors[k] for k in net.columns])
        return net, np.asarray(change / p.scalar("tier1_period_yr"), dtype=np.float64)

    def _n_inputs(
        self, mg: pd.DataFrame, paddy: BoolArray, soc_change: FloatArray, p: ParamValues
    ) -> dict[str, FloatArray]:
        """N inputs (kg N/ha/yr) by the emission factor that applies to them (E14–E18)."""
        syn, org = _num(mg, "synthetic_n_kg_per_ha"), _num(mg, "organic_n_kg_per_ha")
        rsyn, rorg = _num(mg, "rice_synthetic_n_kg_per_ha"), _num(mg, "rice_organic_n_kg_per_ha")
        f_cr = _num(mg, "straw_dm_t_per_ha") * 1000.0 * p.scalar("straw_n_fraction")
        f_som = f_som_kg_n_per_ha(-soc_change, p.scalar("soil_cn_ratio"))
        other_flood = np.where(paddy, f_cr + f_som, 0.0)
        rice = rsyn + rorg + other_flood
        regime = _text(mg, "water_regime").map(EF1FR_CLASS).where(paddy).to_numpy(dtype=object)
        out = {
            "n_synthetic_nonflooded_kg_per_ha_yr": syn,
            "n_other_nonflooded_kg_per_ha_yr": org + np.where(paddy, 0.0, f_cr + f_som),
        }
        for cls in ("continuous", "drained", "other"):  # only classes present on paddy plots
            if (regime == cls).any():
                out[f"n_rice_{cls}_kg_per_ha_yr"] = np.where(regime == cls, rice, 0.0)
        out["n_synthetic_all_kg_per_ha_yr"] = syn + rsyn
        out["n_organic_all_kg_per_ha_yr"] = org + rorg
        out["n_all_kg_per_ha_yr"] = syn + org + rsyn + rorg + f_cr + f_som
        return out

    # ------------------------------------------------------------------ pools
    def pool_values(self, components: Mapping[str, Num], p: ParamValues) -> dict[str, Num]:
        """Pools linear in the components; parameters (possibly Monte Carlo draws) multiply."""
        out: dict[str, Num] = {}
        if "soc_stock_tc_per_ha" in components:
            out["soc_stock"] = components["soc_stock_tc_per_ha"] * 1.0
        applied_c: Num = 0.0
        persistent_c: Num = 0.0
        has_biochar = False
        for key, amount in components.items():
            if key.startswith(BIOCHAR):
                fs, proc, cls = key.removeprefix(BIOCHAR).split(":")
                f_c = p.num(f"biochar.f_c.{fs}.{proc}")
                applied_c = applied_c + amount * f_c
                persistent_c = persistent_c + amount * f_c * p.num(f"biochar.f_perm.{cls}")
                has_biochar = True
        method = p.text("soc_change_method")
        if method == "measured" and "soc_change_measured_tc_per_ha_yr" in components:
            out["soc_change"] = components["soc_change_measured_tc_per_ha_yr"] - applied_c
        elif method == "tier1":
            change: Num = 0.0
            for key, weight in components.items():
                if key.startswith(TIER1):
                    change = change + weight * _tier1_factor(key.removeprefix(TIER1), p.num)
            out["soc_change"] = change / p.num("tier1_period_yr")
        if has_biochar:
            out["biochar"] = persistent_c
        ch4_keys = [k for k in components if k.startswith(CH4)]
        if ch4_keys:
            gwp = self._gwp(p)
            days_ef: Num = 0.0
            for key in ch4_keys:
                regime, pre = key.removeprefix(CH4).split(":")
                days_ef = days_ef + components[key] * (
                    p.num(f"rice.sf_w.{regime}") * p.num(f"rice.sf_p.{pre}")
                )
            out["paddy_ch4"] = days_ef * p.num("rice.ef_c_kg_ch4_per_ha_day") * gwp.ch4 / 1000.0
        if "n_all_kg_per_ha_yr" in components:
            out["n2o"] = self._n2o_n_kg(components, p) * N2O_PER_N2O_N * self._gwp(p).n2o / 1000.0
        return out

    def _n2o_n_kg(self, c: Mapping[str, Num], p: ParamValues) -> Num:
        """E16–E18 summed: direct + volatilised + leached N2O-N (kg N2O-N/ha/yr)."""
        if p.text("n2o_ef1_scheme") == "aggregated":
            ef1_syn = ef1_other = p.num("ef1.aggregated")
        else:
            ef1_syn, ef1_other = p.num("ef1.wet_synthetic"), p.num("ef1.wet_other")
        by_regime = p.text("n2o_ef1fr_scheme") == "by_water_regime"
        ef1fr = {
            "continuous": "ef1fr.continuous" if by_regime else "ef1fr.aggregated",
            "drained": "ef1fr.drained" if by_regime else "ef1fr.aggregated",
            "other": "ef1fr.aggregated",
        }
        direct = (
            c["n_synthetic_nonflooded_kg_per_ha_yr"] * ef1_syn
            + c["n_other_nonflooded_kg_per_ha_yr"] * ef1_other
        )
        for cls, name in ef1fr.items():
            key = f"n_rice_{cls}_kg_per_ha_yr"
            if key in c:
                direct = direct + c[key] * p.num(name)
        volatilised = (
            c["n_synthetic_all_kg_per_ha_yr"] * p.num("frac_gasf")
            + c["n_organic_all_kg_per_ha_yr"] * p.num("frac_gasm")
        ) * p.num("ef4")
        leached = c["n_all_kg_per_ha_yr"] * p.num("frac_leach") * p.num("ef5")
        return direct + volatilised + leached

    @staticmethod
    def _gwp(p: ParamValues) -> _Gwp:
        gwp_set = p.text("gwp_set")
        if gwp_set.upper() == "AR6":
            g = gwp100(gwp_set, ar6_biogenic_ch4=p.scalar("ar6_biogenic_ch4"))
        else:
            g = gwp100(gwp_set)
        return _Gwp(ch4=g.ch4, n2o=g.n2o)


@dataclass(frozen=True)
class _Gwp:
    ch4: float
    n2o: float


def _tier1_factor(key: str, get: Callable[[str], Num]) -> Num:
    """SOC_REF · F_LU · F_MG · F_I of a ``soil:land_use:tillage:input`` class (E7); ``get`` is
    ``ParamValues.num`` (Monte Carlo draws) or ``ParamValues.scalar`` (defaults)."""
    soil, lu, mg, inp = key.split(":")
    return (
        get(f"soc_ref_tc_per_ha.{soil}") * get(f"f_lu.{lu}") * get(f"f_mg.{mg}") * get(f"f_i.{inp}")
    )
