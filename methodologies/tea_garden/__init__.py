"""Tea-garden carbon stocks and fertiliser N2O (``tea-garden``)."""

from methodologies.tea_garden.equations import (
    belowground_biomass_t_per_ha,
    density_t_per_ha,
    layer_soc_t_per_ha,
    n2o_direct_tco2e_per_ha_yr,
    n2o_indirect_tco2e_per_ha_yr,
    n2o_tco2e,
    net_removals_tco2e_per_ha_yr,
    subplot_dry_mass_kg,
)
from methodologies.tea_garden.methodology import TeaGarden

METHODOLOGY = TeaGarden()

__all__ = [
    "METHODOLOGY",
    "TeaGarden",
    "belowground_biomass_t_per_ha",
    "density_t_per_ha",
    "layer_soc_t_per_ha",
    "n2o_direct_tco2e_per_ha_yr",
    "n2o_indirect_tco2e_per_ha_yr",
    "n2o_tco2e",
    "net_removals_tco2e_per_ha_yr",
    "subplot_dry_mass_kg",
]
