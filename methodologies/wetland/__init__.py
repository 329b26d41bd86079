"""Freshwater lake wetland, Xiazhu Lake (``wetland``)."""

from methodologies.wetland.equations import (
    accretion_rate_t_c_per_ha_yr,
    annual_flux_t_per_ha_yr,
    autochthonous_fraction,
    layer_stock_t_c_per_ha,
    oc_from_om_pct,
    ols_slope,
    om_from_oc_pct,
    plot_density_t_per_ha,
)
from methodologies.wetland.methodology import Wetland

METHODOLOGY = Wetland()

__all__ = [
    "METHODOLOGY",
    "Wetland",
    "accretion_rate_t_c_per_ha_yr",
    "annual_flux_t_per_ha_yr",
    "autochthonous_fraction",
    "layer_stock_t_c_per_ha",
    "oc_from_om_pct",
    "ols_slope",
    "om_from_oc_pct",
    "plot_density_t_per_ha",
]
