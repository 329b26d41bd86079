"""Units and conversions used across the project. Identifiers carry their units.

1 mu (亩) = 10000/15 m² = 666.67 m²; C → CO2 by 44/12; N2O-N → N2O by 44/28; CH4-C → CH4 by 16/12
(methodologies.md §0).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt

M2_PER_HA = 10_000.0
M2_PER_MU = 10_000.0 / 15.0
MU_PER_HA = 15.0
KG_PER_T = 1_000.0
G_PER_KG = 1_000.0

CO2_PER_C = 44.0 / 12.0
"""t CO2 per t C (molar masses 44/12)."""
N2O_PER_N2O_N = 44.0 / 28.0
"""t N2O per t N2O-N."""
CH4_PER_CH4_C = 16.0 / 12.0
"""t CH4 per t CH4-C."""

T = TypeVar("T", float, npt.NDArray[np.float64])


def ha_to_mu(area_ha: T) -> T:
    """Hectares to mu (亩): 1 ha = 15 mu."""
    return area_ha * MU_PER_HA


def mu_to_ha(area_mu: T) -> T:
    """Mu (亩) to hectares."""
    return area_mu / MU_PER_HA


def m2_to_ha(area_m2: T) -> T:
    """Square metres to hectares."""
    return area_m2 / M2_PER_HA


def tc_to_tco2e(carbon_t: T) -> T:
    """Tonnes of carbon to tonnes of CO2 (× 44/12)."""
    return carbon_t * CO2_PER_C


def tco2e_to_tc(co2e_t: T) -> T:
    """Tonnes of CO2 to tonnes of carbon (× 12/44)."""
    return co2e_t / CO2_PER_C


def kg_per_m2_to_t_per_ha(value_kg_per_m2: T) -> T:
    """kg m⁻² to t ha⁻¹ (× 10)."""
    return value_kg_per_m2 * (M2_PER_HA / KG_PER_T)


def per_plot_to_per_ha(value_per_plot: T, plot_area_m2: T) -> T:
    """Scale a per-plot total to a per-hectare density (× 10000 / plot area in m²)."""
    return value_per_plot * (M2_PER_HA / plot_area_m2)
