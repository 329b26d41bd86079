"""Farmland SOC, biochar, paddy CH4 and N2O equations (pure, vectorised).

Numbers refer to the equations of ``farmland-soc.md``; sources are methodologies.md §3 and its
verification pass (IPCC 2019 Refinement Vol4 Ch2, Ch5, Ch11; VM0042 measure-and-remeasure).

Units: soil mass in t ha⁻¹ (fine earth, < 2 mm), SOC stocks in t C ha⁻¹, SOC concentrations in
g C kg⁻¹ fine earth, bulk density in g cm⁻³, depths in cm, CH4 in kg CH4 ha⁻¹, N in kg N ha⁻¹.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mrv.units import N2O_PER_N2O_N

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

T_PER_HA_PER_G_CM3_CM = 100.0
"""1 g cm⁻³ over 1 cm depth on 1 ha = 10⁸ cm² × 1 g cm⁻² = 10⁸ g = 100 t."""


def _f(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def layer_soil_mass_t_per_ha(
    bulk_density_g_cm3: npt.ArrayLike,
    depth_top_cm: npt.ArrayLike,
    depth_bottom_cm: npt.ArrayLike,
    coarse_fraction: npt.ArrayLike = 0.0,
) -> FloatArray:
    """E1: fine-earth mass of a layer, M = BD · (bottom − top) · 100 · (1 − CF) (t/ha).

    ``bulk_density_g_cm3`` is the oven-dry mass of the whole sample (fine earth plus gravel) per
    core volume; ``coarse_fraction`` the mass fraction of fragments > 2 mm (VM0042 layer stock
    = %C × BD × depth × (1 − coarse fraction), methodologies.md §3.2).
    """
    dz = _f(depth_bottom_cm) - _f(depth_top_cm)
    return _f(bulk_density_g_cm3) * dz * T_PER_HA_PER_G_CM3_CM * (1.0 - _f(coarse_fraction))


def layer_soc_t_per_ha(
    soil_mass_t_per_ha: npt.ArrayLike, soc_g_per_kg: npt.ArrayLike
) -> FloatArray:
    """E2: SOC of a layer, S = M · SOC / 1000 (t C/ha from t/ha and g C/kg)."""
    return _f(soil_mass_t_per_ha) * _f(soc_g_per_kg) / 1000.0


def cumulative_mass_above_t_per_ha(
    soil_mass_t_per_ha: npt.ArrayLike, profile: npt.ArrayLike
) -> FloatArray:
    """Fine-earth mass above the top of each layer, within its profile (core).

    Rows must be sorted by profile and, within a profile, by depth (top first); ``profile`` is
    an integer code per row. Vectorised cumulative sum with a reset at each profile start.
    """
    m = _f(soil_mass_t_per_ha)
    codes = np.asarray(profile, dtype=np.intp)
    total = np.cumsum(m)
    above = total - m
    if m.size == 0:
        return above
    start = np.r_[True, codes[1:] != codes[:-1]]
    offset = np.maximum.accumulate(np.where(start, np.arange(m.size), 0))
    return np.asarray(above - above[offset], dtype=np.float64)


def mass_to_depth_t_per_ha(
    soil_mass_t_per_ha: npt.ArrayLike,
    depth_top_cm: npt.ArrayLike,
    depth_bottom_cm: npt.ArrayLike,
    depth_cm: npt.ArrayLike,
) -> FloatArray:
    """Part of each layer's mass that lies above ``depth_cm`` (uniform density within a layer)."""
    top, bottom = _f(depth_top_cm), _f(depth_bottom_cm)
    share = np.clip((_f(depth_cm) - top) / (bottom - top), 0.0, 1.0)
    return _f(soil_mass_t_per_ha) * share


def esm_layer_soc_t_per_ha(
    soc_g_per_kg: npt.ArrayLike,
    soil_mass_t_per_ha: npt.ArrayLike,
    mass_above_t_per_ha: npt.ArrayLike,
    reference_mass_t_per_ha: npt.ArrayLike,
    deepest: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """E4: each layer's contribution to the SOC stock of the reference soil mass.

    The cumulative SOC of a profile, as a function of cumulative fine-earth mass, is piecewise
    linear with slope = the layer's SOC concentration (uniform concentration within a layer).
    The stock at reference mass M_ref is the sum over layers of

        c_i · clip(M_ref − M_above,i, 0, M_i)

    plus, for the deepest layer, c_last · max(M_ref − M_above,last − M_last, 0): below the
    sampled profile the deepest layer's concentration is assumed (extrapolation, warned).
    Returns (SOC contribution t C/ha, extrapolated mass t/ha) per row; sum them per profile.
    """
    c = _f(soc_g_per_kg) / 1000.0
    m = _f(soil_mass_t_per_ha)
    above = _f(mass_above_t_per_ha)
    ref = _f(reference_mass_t_per_ha)
    inside = np.clip(ref - above, 0.0, m)
    beyond = np.where(np.asarray(deepest, dtype=bool), np.maximum(ref - above - m, 0.0), 0.0)
    return c * (inside + beyond), beyond


def esm_soc_t_per_ha(
    depth_top_cm: npt.ArrayLike,
    depth_bottom_cm: npt.ArrayLike,
    bulk_density_g_cm3: npt.ArrayLike,
    soc_g_per_kg: npt.ArrayLike,
    reference_mass_t_per_ha: float,
    coarse_fraction: npt.ArrayLike = 0.0,
) -> float:
    """SOC stock (t C/ha) of one sampled profile at an equivalent soil mass (E1, E3, E4).

    Convenience wrapper for a single core whose layers are listed top-down.
    """
    mass = layer_soil_mass_t_per_ha(
        bulk_density_g_cm3, depth_top_cm, depth_bottom_cm, coarse_fraction
    )
    above = cumulative_mass_above_t_per_ha(mass, np.zeros(mass.size, dtype=np.intp))
    deepest = np.zeros(mass.size, dtype=bool)
    deepest[-1] = True
    soc, _ = esm_layer_soc_t_per_ha(soc_g_per_kg, mass, above, reference_mass_t_per_ha, deepest)
    return float(soc.sum())


def tier1_soc_t_per_ha(
    soc_ref_tc_per_ha: npt.ArrayLike,
    f_lu: npt.ArrayLike,
    f_mg: npt.ArrayLike,
    f_i: npt.ArrayLike,
) -> FloatArray:
    """E7: IPCC Tier 1 equilibrium SOC (0–30 cm), SOC = SOC_REF · F_LU · F_MG · F_I.

    IPCC 2006 Vol4 Ch2 eq. 2.25 (structure confirmed, methodologies.md §3.1).
    """
    return _f(soc_ref_tc_per_ha) * _f(f_lu) * _f(f_mg) * _f(f_i)


def tier1_change_tc_per_ha_yr(
    soc_project_tc_per_ha: npt.ArrayLike,
    soc_baseline_tc_per_ha: npt.ArrayLike,
    period_yr: float = 20.0,
) -> FloatArray:
    """E8: annual Tier 1 stock change, ΔSOC = (SOC_project − SOC_baseline) / D (t C/ha/yr)."""
    return (_f(soc_project_tc_per_ha) - _f(soc_baseline_tc_per_ha)) / period_yr


def biochar_persistent_c_t(
    biochar_t: npt.ArrayLike, f_c: npt.ArrayLike, f_perm: npt.ArrayLike
) -> FloatArray:
    """E10: biochar carbon persisting after 100 years, ΔBC = BC · F_C · F_perm (t C).

    IPCC 2019 Vol4 Ch2 Appendix 4 (methodologies.md §3.4, recalled [R]).
    """
    return _f(biochar_t) * _f(f_c) * _f(f_perm)


def biochar_temperature_class(temperature_c: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """Pyrolysis temperature class of App. 4: low 350–450 °C, medium 450–600 °C, high > 600 °C.

    A temperature on a class boundary goes to the lower class (lower F_perm, conservative).
    """
    t = _f(temperature_c)
    return np.where(t <= 450.0, "low", np.where(t <= 600.0, "medium", "high"))


def rice_sf_o(
    roa_t_per_ha: npt.ArrayLike, cfoa: npt.ArrayLike, exponent: float = 0.59
) -> FloatArray:
    """E12: organic-amendment scaling factor, SF_o = (1 + Σ_i ROA_i · CFOA_i)^0.59.

    ``roa_t_per_ha`` has one column per amendment (last axis), ``cfoa`` one value per column.
    ROA is dry weight for straw and fresh weight for the others (IPCC 2019 Vol4 Ch5 eq. 5.3).
    """
    roa = np.atleast_1d(_f(roa_t_per_ha))
    return np.asarray((1.0 + roa @ np.atleast_1d(_f(cfoa))) ** exponent, dtype=np.float64)


def rice_ef_kg_ch4_per_ha_day(
    ef_c: npt.ArrayLike,
    sf_w: npt.ArrayLike,
    sf_p: npt.ArrayLike,
    sf_o: npt.ArrayLike,
    sf_s_r: npt.ArrayLike = 1.0,
) -> FloatArray:
    """E11: adjusted daily emission factor, EF_i = EF_c · SF_w · SF_p · SF_o · SF_s,r.

    IPCC 2019 Vol4 Ch5 eq. 5.2 (methodologies.md §3.5, [V2]).
    """
    return _f(ef_c) * _f(sf_w) * _f(sf_p) * _f(sf_o) * _f(sf_s_r)


def rice_ch4_kg_per_ha(ef_kg_ch4_per_ha_day: npt.ArrayLike, days: npt.ArrayLike) -> FloatArray:
    """E13: seasonal CH4 emission, CH4 = EF_i · t (kg CH4/ha per season)."""
    return _f(ef_kg_ch4_per_ha_day) * _f(days)


def n2o_kg_from_n2o_n(n2o_n_kg: npt.ArrayLike) -> FloatArray:
    """N2O = N2O-N · 44/28."""
    return _f(n2o_n_kg) * N2O_PER_N2O_N


def f_som_kg_n_per_ha(soc_loss_tc_per_ha_yr: npt.ArrayLike, cn_ratio: float = 10.0) -> FloatArray:
    """E15: N mineralised with SOC loss, F_SOM = max(loss, 0) · 1000 / R_CN (kg N/ha/yr).

    IPCC 2006/2019 Vol4 Ch11 eq. 11.8; R_CN = 10 for management change on cropland
    (methodologies.md §3.1, [V2]).
    """
    return np.maximum(_f(soc_loss_tc_per_ha_yr), 0.0) * 1000.0 / cn_ratio


def n2o_n_direct_kg(n_inputs_kg: npt.ArrayLike, ef1: npt.ArrayLike) -> FloatArray:
    """E16: direct N2O-N = Σ N inputs · EF1 (or EF1FR for flooded rice) (kg N2O-N)."""
    return _f(n_inputs_kg) * _f(ef1)


def n2o_n_volatilised_kg(
    f_sn_kg: npt.ArrayLike,
    f_on_kg: npt.ArrayLike,
    frac_gasf: float,
    frac_gasm: float,
    ef4: float,
) -> FloatArray:
    """E17: N2O-N from atmospheric deposition, [F_SN·Frac_GASF + F_ON·Frac_GASM]·EF4 (kg)."""
    return (_f(f_sn_kg) * frac_gasf + _f(f_on_kg) * frac_gasm) * ef4


def n2o_n_leached_kg(n_all_kg: npt.ArrayLike, frac_leach: float, ef5: float) -> FloatArray:
    """E18: N2O-N from leaching/runoff, (F_SN + F_ON + F_CR + F_SOM)·Frac_LEACH·EF5 (kg)."""
    return _f(n_all_kg) * frac_leach * ef5
