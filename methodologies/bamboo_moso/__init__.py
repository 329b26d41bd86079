"""Moso bamboo forest management (``bamboo-moso``)."""

from methodologies.bamboo_moso.equations import biomass_t_per_ha, culm_biomass_kg
from methodologies.bamboo_moso.methodology import BambooMoso

METHODOLOGY = BambooMoso()

__all__ = ["METHODOLOGY", "BambooMoso", "biomass_t_per_ha", "culm_biomass_kg"]
