"""Tea-garden equations (pure, vectorised). Numbers refer to tea-garden.md §3.

Sources are methodologies.md §4 (tea gardens), §3.6 (IPCC 2019 N2O) and §0 (constants):

* E1–E2 bush aboveground biomass from destructively harvested subplots (ratio estimator).
* E3 belowground biomass from aboveground biomass, Ma Chunyan et al. 2025, 中国农业气象
  46(10):1395: mature tea (3–25 yr) B_b = 0.013·B_a² − 0.087·B_a + 3.269; young tea (0–2 yr)
  B_b = 0.665·B_a − 0.217 (coefficients read in the abstract [V]; units t/hm² assumed [R]).
* E5 litter layer density, E6 soil organic carbon of a fixed-depth layer.
* E7–E8 direct and indirect N2O from nitrogen applied (Wang et al. 2020 ERL 15:104018 tea EF_d
  2.31 %; IPCC 2019 Vol4 Ch11 Tier 1).
* E10 net removals of a monitoring period from two stock estimates and the annual emissions.

Functions that take parameters read them with ``p.scalar`` (deterministic, per plot); the N2O
and net-removal functions take plain numbers or arrays so that they also accept Monte Carlo draws.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from methodologies.parameters import Num, ParamValues
from mrv.units import CO2_PER_C, KG_PER_T, M2_PER_HA, N2O_PER_N2O_N

FloatArray = npt.NDArray[np.float64]

MATURE_MODEL_MAX_AGE_YR = 25.0
"""Oldest stand age behind the mature-tea belowground model (Ma et al. 2025: 3–25 yr)."""


def subplot_dry_mass_kg(
    dry_mass_kg: npt.ArrayLike,
    fresh_mass_kg: npt.ArrayLike,
    dry_matter_fraction: npt.ArrayLike,
) -> FloatArray:
    """E1: dry mass of each harvested subplot (kg): the oven-dry mass where it was weighed,
    otherwise fresh mass × dry-matter fraction of a subsample. NaN where neither is given."""
    dry = np.asarray(dry_mass_kg, dtype=np.float64)
    fresh = np.asarray(fresh_mass_kg, dtype=np.float64)
    dmf = np.asarray(dry_matter_fraction, dtype=np.float64)
    return np.asarray(np.where(np.isfinite(dry), dry, fresh * dmf), dtype=np.float64)


def density_t_per_ha(
    mass_kg: npt.ArrayLike,
    area_m2: npt.ArrayLike,
    plot_codes: npt.ArrayLike,
    n_plots: int,
) -> FloatArray:
    """E2/E5: per-plot density (t/ha) = Σ mass (kg) / Σ sampled area (m²) × 10.

    A ratio estimator over the plot's subplots or frames, so subplots of unequal size are
    weighted by their area. ``plot_codes[i]`` is the position of row ``i``'s plot; plots without
    rows get NaN (the methodology's check rejects them before this is called).
    """
    codes = np.asarray(plot_codes, dtype=np.intp)
    kg = np.bincount(codes, weights=np.asarray(mass_kg, dtype=np.float64), minlength=n_plots)
    m2 = np.bincount(codes, weights=np.asarray(area_m2, dtype=np.float64), minlength=n_plots)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(kg / m2 * (M2_PER_HA / KG_PER_T), dtype=np.float64)


def belowground_biomass_t_per_ha(
    agb_t_per_ha: npt.ArrayLike, young: npt.ArrayLike, p: ParamValues
) -> FloatArray:
    """E3: belowground dry biomass B_b (t/ha) from aboveground dry biomass B_a (t/ha).

    Mature tea (``young`` False): B_b = a2·B_a² + a1·B_a + a0; young tea: B_b = b1·B_a + b0
    (Ma Chunyan et al. 2025). The young model is negative below B_a = 0.217/0.665 = 0.326 t/ha;
    such values are set to 0 (a stock cannot be negative; 0 is the conservative choice).
    """
    b_a = np.asarray(agb_t_per_ha, dtype=np.float64)
    is_young = np.asarray(young, dtype=bool)
    a2, a1, a0 = (p.scalar(f"belowground.mature.{k}") for k in ("a2", "a1", "a0"))
    b1, b0 = p.scalar("belowground.young.b1"), p.scalar("belowground.young.b0")
    mature = a2 * b_a**2 + a1 * b_a + a0
    juvenile = b1 * b_a + b0
    return np.asarray(np.maximum(np.where(is_young, juvenile, mature), 0.0), dtype=np.float64)


def layer_soc_t_per_ha(
    soc_g_per_kg: npt.ArrayLike,
    bulk_density_g_cm3: npt.ArrayLike,
    depth_top_cm: npt.ArrayLike,
    depth_bottom_cm: npt.ArrayLike,
    coarse_fraction: npt.ArrayLike,
    depth_cm: float,
) -> FloatArray:
    """E6: organic carbon (t C/ha) of the part of a soil layer that lies within 0–``depth_cm``.

    SOC = soc (g/kg) × BD (g/cm³) × thickness (cm) × (1 − coarse fraction) × 0.1, with thickness
    = min(bottom, depth) − top, clipped at 0 (a layer below the accounting depth contributes 0;
    a layer crossing it contributes its upper part, assuming a uniform layer).
    Check: 10 g/kg × 1.3 g/cm³ × 20 cm × 0.1 = 26 t C/ha.
    """
    top = np.asarray(depth_top_cm, dtype=np.float64)
    bottom = np.minimum(np.asarray(depth_bottom_cm, dtype=np.float64), depth_cm)
    thickness = np.clip(bottom - top, 0.0, None)
    soc = np.asarray(soc_g_per_kg, dtype=np.float64)
    bd = np.asarray(bulk_density_g_cm3, dtype=np.float64)
    fine = 1.0 - np.asarray(coarse_fraction, dtype=np.float64)
    return np.asarray(soc * bd * thickness * fine * 0.1, dtype=np.float64)


def n2o_tco2e(n2o_n_kg_per_ha_yr: Num, gwp_n2o: float) -> Num:
    """kg N2O-N/ha/yr → t CO2e/ha/yr: × 44/28 (N2O-N → N2O) × GWP100(N2O) / 1000."""
    return n2o_n_kg_per_ha_yr * (N2O_PER_N2O_N * gwp_n2o / KG_PER_T)


def n2o_direct_tco2e_per_ha_yr(
    n_synthetic_kg_per_ha_yr: Num,
    n_organic_kg_per_ha_yr: Num,
    ef_synthetic: Num,
    ef_organic: Num,
    gwp_n2o: float,
) -> Num:
    """E7: direct N2O from N applied (t CO2e/ha/yr).

    N2O-N = EF_SN·F_SN + EF_ON·F_ON (kg N2O-N/ha/yr), IPCC 2019 Vol4 Ch11 eq 11.1 restricted to
    fertiliser N. With the tea factor both EFs are 0.0231 (Wang et al. 2020: "EF_d for N
    applications to tea plantations"). T11: 450 kg N × 0.0231 = 10.395 kg N2O-N → 16.335 kg N2O
    → 4.459 t CO2e/ha with GWP 273.
    """
    n2o_n = ef_synthetic * n_synthetic_kg_per_ha_yr + ef_organic * n_organic_kg_per_ha_yr
    return n2o_tco2e(n2o_n, gwp_n2o)


def n2o_indirect_tco2e_per_ha_yr(
    n_synthetic_kg_per_ha_yr: Num,
    n_organic_kg_per_ha_yr: Num,
    frac_gasf: Num,
    frac_gasm: Num,
    ef4: Num,
    frac_leach: Num,
    ef5: Num,
    gwp_n2o: float,
) -> Num:
    """E8: indirect N2O (t CO2e/ha/yr), IPCC 2019 Vol4 Ch11 eqs 11.9 and 11.10 (fertiliser N only).

    N2O-N = (F_SN·Frac_GASF + F_ON·Frac_GASM)·EF4 + (F_SN + F_ON)·Frac_LEACH·EF5.
    """
    volatilised = (n_synthetic_kg_per_ha_yr * frac_gasf + n_organic_kg_per_ha_yr * frac_gasm) * ef4
    leached = (n_synthetic_kg_per_ha_yr + n_organic_kg_per_ha_yr) * frac_leach * ef5
    return n2o_tco2e(volatilised + leached, gwp_n2o)


def net_removals_tco2e_per_ha_yr(
    stock_t0_tc_per_ha: Num,
    stock_t1_tc_per_ha: Num,
    years: Num,
    emissions_tco2e_per_ha_yr: Num,
) -> Num:
    """E10: net removals of a monitoring period (t CO2e/ha/yr); negative means a net source.

    (C_t1 − C_t0) / years × 44/12 − E, with C the sum of the stock pools (t C/ha) at the two
    surveys and E the annual emissions (fertiliser N2O) of the period.
    """
    return (stock_t1_tc_per_ha - stock_t0_tc_per_ha) / years * CO2_PER_C - emissions_tco2e_per_ha_yr
