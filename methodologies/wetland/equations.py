"""Freshwater lake wetland equations (pure, vectorised). Symbols and sources in ``wetland.md``.

Units are in the names. Percentages (``*_pct``) are mass percentages (2.5 means 2.5 %), never
mass fractions; every conversion factor is written out where it is used.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from mrv.units import M2_PER_HA

FloatArray = npt.NDArray[np.float64]

DAYS_PER_YEAR = 365.0
"""VM0033 v2.1 eq. 100 annualises a mean daily flux with 365 days."""
T_PER_HA_PER_MG_PER_M2 = M2_PER_HA / 1e9
"""1 mg m⁻² = 10,000 m² ha⁻¹ × 1e-9 t mg⁻¹ = 1e-5 t ha⁻¹ (VM0033 eq. 100 prints '× 100'; wrong)."""
T_PER_HA_PER_G_PER_M2 = M2_PER_HA / 1e6
"""1 g m⁻² = 0.01 t ha⁻¹."""


def _f(x: npt.ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def oc_from_om_pct(om_pct: npt.ArrayLike, a: float = 0.40, b: float = 0.0025) -> FloatArray:
    """Organic carbon (%) from organic matter by loss on ignition (%), marsh soils.

    %C = a·%OM + b·%OM² (Craft et al. 1991, as VM0033 v2.1 eq. 95 / the inverse of eq. 41;
    eq. 95 prints 0.04 for a, a typo: eq. 41 and Craft et al. use 0.40). Equation W4.
    """
    om = _f(om_pct)
    return np.asarray(a * om + b * om * om, dtype=np.float64)


def om_from_oc_pct(oc_pct: npt.ArrayLike, a: float = 0.40, b: float = 0.0025) -> FloatArray:
    """Organic matter (%) from organic carbon (%), marsh soils: VM0033 v2.1 eq. 41 (W5).

    %OM = (−a + √(a² + 4·b·%C)) / (2·b), the positive root of W4.
    """
    oc = _f(oc_pct)
    return np.asarray((-a + np.sqrt(a * a + 4.0 * b * oc)) / (2.0 * b), dtype=np.float64)


def layer_stock_t_c_per_ha(
    oc_pct: npt.ArrayLike, bulk_density_g_cm3: npt.ArrayLike, thickness_cm: npt.ArrayLike
) -> FloatArray:
    """Organic carbon in one soil layer (t C/ha) = %C × BD (g cm⁻³) × thickness (cm). W1.

    Bookkeeping: (%C/100) g C g⁻¹ × BD g cm⁻³ × h cm = %C·BD·h/100 g C cm⁻²; 1 g cm⁻² = 100 t ha⁻¹,
    so the stock is %C·BD·h t C/ha. VM0033 eqs 29/49 (C%·BD·Depth·10 with BD in kg m⁻³ and
    depth in m) and eq. 99 (CF·BD·Thickness·100 with BD in g cm⁻³) give the same number only
    when their 'C%'/'CF' is a mass fraction (0.02), not a percentage.
    """
    return np.asarray(_f(oc_pct) * _f(bulk_density_g_cm3) * _f(thickness_cm), dtype=np.float64)


def accretion_rate_t_c_per_ha_yr(
    accretion_cm_per_yr: npt.ArrayLike, bulk_density_g_cm3: npt.ArrayLike, oc_pct: npt.ArrayLike
) -> FloatArray:
    """Soil carbon accumulation above a reference plane (t C/ha/yr): W1 with h = accretion/yr. W2.

    VM0033 v2.1 §9.3.7: the material above a marker horizon (feldspar, ¹³⁷Cs peak, …) is
    analysed for organic carbon and bulk density.
    """
    return layer_stock_t_c_per_ha(oc_pct, bulk_density_g_cm3, accretion_cm_per_yr)


def autochthonous_fraction(
    oc_pct: npt.ArrayLike,
    om_pct: npt.ArrayLike,
    om_deposited_sediment_pct: float,
    a: float = 0.40,
    b: float = 0.0025,
) -> FloatArray:
    """Share of soil organic carbon formed in place (0–1), VM0033 v2.1 eqs 39–40 (W6).

    %OM_autoch = (%OM_soil − %OM_depsed) / (1 − %OM_depsed/100), floored at 0;
    %C_autoch = W4(%OM_autoch); share = %C_autoch / %C_soil = 1 − %C_alloch/100, clipped to [0, 1].
    """
    oc = _f(oc_pct)
    om = _f(om_pct)
    om_aut = np.maximum(
        (om - om_deposited_sediment_pct) / (1.0 - om_deposited_sediment_pct / 100.0), 0.0
    )
    oc_aut = oc_from_om_pct(om_aut, a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(oc > 0, oc_aut / oc, 0.0)
    return np.asarray(np.clip(share, 0.0, 1.0), dtype=np.float64)


def annual_flux_t_per_ha_yr(mean_daily_flux_mg_m2_d: npt.ArrayLike) -> FloatArray:
    """Annual flux (t gas/ha/yr) from a mean daily flux (mg gas m⁻² d⁻¹): × 365 × 1e-5. W8."""
    return np.asarray(
        _f(mean_daily_flux_mg_m2_d) * DAYS_PER_YEAR * T_PER_HA_PER_MG_PER_M2, dtype=np.float64
    )


def plot_density_t_per_ha(
    dry_g: npt.ArrayLike,
    plot_codes: npt.ArrayLike,
    frame_area_m2_by_plot: npt.ArrayLike,
) -> FloatArray:
    """Dry mass density per plot (t/ha) = Σ clipped dry mass (g) / Σ frame area (m²) × 0.01. W3.

    ``plot_codes[i]`` is the plot position of frame row ``i``; ``frame_area_m2_by_plot`` is the
    total clipped frame area of each plot (all frames). Plots without frames get 0.
    """
    area = _f(frame_area_m2_by_plot)
    grams = np.bincount(
        np.asarray(plot_codes, dtype=np.intp), weights=_f(dry_g), minlength=area.size
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(area > 0, grams / area, 0.0)
    return np.asarray(density * T_PER_HA_PER_G_PER_M2, dtype=np.float64)


def ols_slope(
    group: npt.ArrayLike, x: npt.ArrayLike, y: npt.ArrayLike, n_groups: int
) -> FloatArray:
    """Least-squares slope of y on x within each group (NaN where x does not vary). W7.

    With two points this is (y₂ − y₁)/(x₂ − x₁), the stock difference of VM0033 eq. 36.
    """
    g = np.asarray(group, dtype=np.intp)
    xv, yv = _f(x), _f(y)
    count = np.bincount(g, minlength=n_groups).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_mean = np.bincount(g, weights=xv, minlength=n_groups) / count
        y_mean = np.bincount(g, weights=yv, minlength=n_groups) / count
        dx = xv - x_mean[g]
        sxy = np.bincount(g, weights=dx * (yv - y_mean[g]), minlength=n_groups)
        sxx = np.bincount(g, weights=dx * dx, minlength=n_groups)
        slope = np.where(sxx > 0, sxy / sxx, np.nan)
    return np.asarray(slope, dtype=np.float64)
