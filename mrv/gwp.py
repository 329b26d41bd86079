"""100-year global warming potentials by IPCC assessment report (methodologies.md §0 and §6 of
the verification pass).

AR4: CH4 25, N2O 298. AR5 (WG1 Ch8, "Box 3.2" in secondary sources; VCS Standard v5 Table 9):
CH4 28, N2O 265. AR6 (WG1 Ch7 Table 7.15 / 7.SM.7): fossil CH4 29.8, non-fossil (biogenic) CH4
27.0, single-value CH4 27.9, N2O 273. CH4 from paddies and wetlands is biogenic; under AR6 the
biogenic value is a setting (27.0 or 27.9) and is recorded in results. All values are [V2]
(secondary transcriptions agreeing with recall), none read in the IPCC report itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from mrv.errors import InputError

GWP_SETS = ("AR4", "AR5", "AR6")


@dataclass(frozen=True)
class GWP:
    """CO2-equivalence factors (t CO2e per t gas) of one assessment report."""

    gwp_set: str
    ch4: float
    """Biogenic CH4 (paddy, wetland)."""
    ch4_fossil: float
    n2o: float


def gwp100(gwp_set: str, *, ar6_biogenic_ch4: float = 27.0) -> GWP:
    """GWP100 values of ``gwp_set``; ``ar6_biogenic_ch4`` chooses 27.0 or 27.9 under AR6."""
    key = gwp_set.strip().upper()
    if key == "AR4":
        return GWP("AR4", 25.0, 25.0, 298.0)
    if key == "AR5":
        return GWP("AR5", 28.0, 28.0, 265.0)
    if key == "AR6":
        if ar6_biogenic_ch4 not in (27.0, 27.9):
            raise InputError(f"AR6 biogenic CH4 GWP must be 27.0 or 27.9, got {ar6_biogenic_ch4}")
        return GWP("AR6", ar6_biogenic_ch4, 29.8, 273.0)
    raise InputError(f"unknown GWP set {gwp_set!r}; use one of {', '.join(GWP_SETS)}")
