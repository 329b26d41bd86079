"""Trees by species group from stem volume or a generic allometry (``forest-volume``)."""

from methodologies.forest_volume.equations import (
    basal_area_m2,
    chave2014_agb_kg,
    form_factor,
    per_ha_by_group,
    volume_biomass_t,
)
from methodologies.forest_volume.methodology import GROUPS, ForestVolume

METHODOLOGY = ForestVolume()

__all__ = [
    "GROUPS",
    "METHODOLOGY",
    "ForestVolume",
    "basal_area_m2",
    "chave2014_agb_kg",
    "form_factor",
    "per_ha_by_group",
    "volume_biomass_t",
]
