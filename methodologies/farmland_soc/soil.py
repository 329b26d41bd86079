"""Soil organic carbon per plot on an equivalent soil mass (E1-E6 of farmland-soc.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from methodologies.base import Survey
from methodologies.farmland_soc.equations import (
    cumulative_mass_above_t_per_ha,
    esm_layer_soc_t_per_ha,
    layer_soc_t_per_ha,
    layer_soil_mass_t_per_ha,
    mass_to_depth_t_per_ha,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class CoreLayers:
    """Core layers sorted by profile and depth, with their profile bookkeeping."""

    frame: pd.DataFrame
    """Rows sorted by (profile, depth_top_cm); columns of the cores table plus codes."""
    plot: npt.NDArray[np.intp]
    """Plot position (in survey.plots) of each row."""
    followup: BoolArray
    profile: npt.NDArray[np.intp]
    first: BoolArray
    """Row is the top layer of its profile."""
    deepest: BoolArray
    """Row is the bottom layer of its profile."""


def sorted_cores(survey: Survey) -> CoreLayers:
    """Core layers sorted by profile (plot, round, core) and depth, with profile bookkeeping."""
    cores = survey["cores"].copy()
    cores["_plot"] = survey.plot_codes("cores")
    cores["_followup"] = (cores["round"] == "followup").to_numpy()
    core_id = cores["core_id"] if "core_id" in cores.columns else pd.Series("", index=cores.index)
    cores["_core"] = core_id.fillna("").astype(str)
    cores["_profile"] = cores.groupby(["_plot", "_followup", "_core"], sort=True).ngroup()
    order = np.lexsort((cores["depth_top_cm"].to_numpy(), cores["_profile"].to_numpy()))
    cores = cores.iloc[order].reset_index(drop=True)
    profile = cores["_profile"].to_numpy(np.intp)
    first = np.r_[True, profile[1:] != profile[:-1]] if len(profile) else np.zeros(0, bool)
    deepest = np.r_[profile[1:] != profile[:-1], True] if len(profile) else np.zeros(0, bool)
    return CoreLayers(
        frame=cores,
        plot=cores["_plot"].to_numpy(np.intp),
        followup=cores["_followup"].to_numpy(bool),
        profile=profile,
        first=np.asarray(first, dtype=bool),
        deepest=np.asarray(deepest, dtype=bool),
    )


def coarse_fraction_of(frame: pd.DataFrame) -> FloatArray:
    """The coarse-fragment mass fraction of each layer (0 when blank or absent)."""
    if "coarse_fraction" not in frame.columns:
        return np.zeros(len(frame))
    return frame["coarse_fraction"].fillna(0.0).to_numpy(np.float64)


def mean_by(codes: npt.NDArray[np.intp], values: npt.ArrayLike, size: int) -> FloatArray:
    """Mean of ``values`` per code (NaN where a code has no values)."""
    total = np.bincount(codes, weights=np.asarray(values, dtype=np.float64), minlength=size)
    count = np.bincount(codes, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(count > 0, total / np.maximum(count, 1), np.nan))


@dataclass(frozen=True)
class SocByPlot:
    """Per-plot SOC results of the equivalent-soil-mass computation (E1–E6)."""

    reference_mass_t_per_ha: FloatArray
    baseline_tc_per_ha: FloatArray
    followup_tc_per_ha: FloatArray | None
    years: FloatArray | None
    fixed_depth_change_tc_per_ha_yr: FloatArray | None
    extrapolated_plots: list[str]
    max_extrapolated_fraction: float


def soc_by_plot(survey: Survey, reference_depth_cm: float) -> SocByPlot:
    """ESM SOC stocks per plot from the cores table (vectorised over all layers)."""
    c = sorted_cores(survey)
    f = c.frame
    n_plots = len(survey.plots)
    top = f["depth_top_cm"].to_numpy(np.float64)
    bottom = f["depth_bottom_cm"].to_numpy(np.float64)
    soc = f["soc_g_per_kg"].to_numpy(np.float64)
    mass = layer_soil_mass_t_per_ha(
        f["bulk_density_g_cm3"].to_numpy(np.float64), top, bottom, coarse_fraction_of(f)
    )
    above = cumulative_mass_above_t_per_ha(mass, c.profile)
    n_prof = int(c.profile.max()) + 1 if len(c.profile) else 0
    prof_rows = np.flatnonzero(c.first)
    prof_plot = c.plot[prof_rows]
    prof_follow = c.followup[prof_rows]
    # E3: reference mass = mean fine-earth mass of the plot's baseline cores to the reference depth
    to_ref = mass_to_depth_t_per_ha(mass, top, bottom, reference_depth_cm)
    prof_ref_mass = np.bincount(
        c.profile, weights=np.where(c.followup, 0.0, to_ref), minlength=n_prof
    )
    base = ~prof_follow
    m_ref = mean_by(prof_plot[base], prof_ref_mass[base], n_plots)
    # E4: SOC of each profile at the plot's reference mass
    contrib, beyond = esm_layer_soc_t_per_ha(soc, mass, above, m_ref[c.plot], c.deepest)
    prof_soc = np.bincount(c.profile, weights=contrib, minlength=n_prof)
    prof_beyond = np.bincount(c.profile, weights=beyond, minlength=n_prof)
    # fixed-depth stock (for comparison only), defined when the profile reaches the depth
    fixed = layer_soc_t_per_ha(to_ref, soc)
    prof_fixed = np.bincount(c.profile, weights=fixed, minlength=n_prof)
    prof_depth = np.zeros(n_prof)
    np.maximum.at(prof_depth, c.profile, bottom)
    # E5: plot stock per round = mean over the round's profiles
    soc_base = mean_by(prof_plot[base], prof_soc[base], n_plots)
    fix_base = mean_by(prof_plot[base], prof_fixed[base], n_plots)
    frac = prof_beyond / m_ref[prof_plot]
    extrap = np.unique(prof_plot[prof_beyond > 1e-9])
    ids = survey.plot_ids.to_numpy()
    result = SocByPlot(
        reference_mass_t_per_ha=m_ref,
        baseline_tc_per_ha=soc_base,
        followup_tc_per_ha=None,
        years=None,
        fixed_depth_change_tc_per_ha_yr=None,
        extrapolated_plots=[str(ids[i]) for i in extrap],
        max_extrapolated_fraction=float(frac.max()) if frac.size else 0.0,
    )
    if not prof_follow.any():
        return result
    soc_follow = mean_by(prof_plot[prof_follow], prof_soc[prof_follow], n_plots)
    fix_follow = mean_by(prof_plot[prof_follow], prof_fixed[prof_follow], n_plots)
    days = (f["sample_date"] - pd.Timestamp("1970-01-01")).dt.days.to_numpy(np.float64)
    day_base = mean_by(c.plot[~c.followup], days[~c.followup], n_plots)
    day_follow = mean_by(c.plot[c.followup], days[c.followup], n_plots)
    years = (day_follow - day_base) / 365.25
    fixed_change = None
    if np.all(prof_depth >= reference_depth_cm - 1e-9):
        fixed_change = (fix_follow - fix_base) / years
    return SocByPlot(
        reference_mass_t_per_ha=m_ref,
        baseline_tc_per_ha=soc_base,
        followup_tc_per_ha=soc_follow,
        years=years,
        fixed_depth_change_tc_per_ha_yr=fixed_change,
        extrapolated_plots=result.extrapolated_plots,
        max_extrapolated_fraction=result.max_extrapolated_fraction,
    )
