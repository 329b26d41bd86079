"""Farmland soil organic carbon, biochar, paddy CH4 and N2O (``farmland-soc``)."""

from methodologies.farmland_soc.equations import (
    biochar_persistent_c_t,
    biochar_temperature_class,
    cumulative_mass_above_t_per_ha,
    esm_layer_soc_t_per_ha,
    esm_soc_t_per_ha,
    f_som_kg_n_per_ha,
    layer_soc_t_per_ha,
    layer_soil_mass_t_per_ha,
    mass_to_depth_t_per_ha,
    n2o_kg_from_n2o_n,
    n2o_n_direct_kg,
    n2o_n_leached_kg,
    n2o_n_volatilised_kg,
    rice_ch4_kg_per_ha,
    rice_ef_kg_ch4_per_ha_day,
    rice_sf_o,
    tier1_change_tc_per_ha_yr,
    tier1_soc_t_per_ha,
)
from methodologies.farmland_soc.methodology import FarmlandSoc
from methodologies.farmland_soc.soil import soc_by_plot

METHODOLOGY = FarmlandSoc()

__all__ = [
    "METHODOLOGY",
    "FarmlandSoc",
    "biochar_persistent_c_t",
    "biochar_temperature_class",
    "cumulative_mass_above_t_per_ha",
    "esm_layer_soc_t_per_ha",
    "esm_soc_t_per_ha",
    "f_som_kg_n_per_ha",
    "layer_soc_t_per_ha",
    "layer_soil_mass_t_per_ha",
    "mass_to_depth_t_per_ha",
    "n2o_kg_from_n2o_n",
    "n2o_n_direct_kg",
    "n2o_n_leached_kg",
    "n2o_n_volatilised_kg",
    "rice_ch4_kg_per_ha",
    "rice_ef_kg_ch4_per_ha_day",
    "rice_sf_o",
    "soc_by_plot",
    "tier1_change_tc_per_ha_yr",
    "tier1_soc_t_per_ha",
]
