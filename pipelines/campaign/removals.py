"""Removals over a monitoring period and their attribution to parcels (pure functions).

Removals = stock change − project emissions − leakage (CCER AR methodologies' net removal
equation, e.g. CCER-14-001-V01 eq. 1: ΔC_net = ΔC_actual − GHG_E − LK, in t CO2e). The stock
change is the methodology's two-survey change of the permanent plots, per year × the period's
years; its 90 % CI is the wider of the sampling (Satterthwaite t) and the Monte Carlo interval.
Emissions and leakage are the campaign's declared totals, taken as known (no uncertainty).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mrv.errors import InputError
from mrv.settings import UncertaintyRule
from mrv.uncertainty import deduct
from mrv.units import ha_to_mu

REMOVALS_DECIMALS = 3
"""Parcel removals are rounded to kilograms of CO2e (0.001 t) by largest remainder."""


def period_removals(
    change_total: Mapping[str, Any],
    mc_net_tco2e_per_yr: Mapping[str, Any] | None,
    *,
    years: float,
    emissions_tco2e: float,
    leakage_tco2e: float,
    rule: UncertaintyRule,
    threshold: float,
) -> dict[str, Any]:
    """Net removals over ``years`` with 90 % CI, the uncertainty deduction and the claim.

    ``change_total`` is the ``total`` block of a two-survey change (``net_tco2e_per_yr``,
    ``ci90_half_width_tco2e_per_yr``, ``df``); ``mc_net_tco2e_per_yr`` its Monte Carlo summary
    (``ci_low``, ``ci_high``). ``claimable_tco2e`` is the conservative value floored to whole
    tonnes (0 when not positive): what a registry can issue.
    """
    if years <= 0:
        raise InputError(f"period length must be positive, got {years} years")
    per_yr = float(change_total["net_tco2e_per_yr"])
    hw_sampling = float(change_total["ci90_half_width_tco2e_per_yr"]) * years
    hw, basis = hw_sampling, "sampling"
    if mc_net_tco2e_per_yr is not None:
        hw_mc = (float(mc_net_tco2e_per_yr["ci_high"]) - float(mc_net_tco2e_per_yr["ci_low"])) / 2
        if hw_mc * years > hw:
            hw, basis = hw_mc * years, "monte_carlo"
    stock_change = per_yr * years
    removals = stock_change - emissions_tco2e - leakage_tco2e
    df = float(change_total.get("df") or math.inf)
    deduction = deduct(removals, hw, rule=rule, df=df, threshold=threshold).to_dict()
    deduction["basis"] = basis
    conservative = float(deduction["conservative_value"])
    return {
        "period_years": years,
        "stock_change_tco2e_per_yr": per_yr,
        "stock_change_tco2e": stock_change,
        "ci90_half_width_tco2e": hw,
        "ci90_basis": basis,
        "emissions_tco2e": emissions_tco2e,
        "leakage_tco2e": leakage_tco2e,
        "removals_tco2e": removals,
        "ci90_low_tco2e": removals - hw,
        "ci90_high_tco2e": removals + hw,
        "ci90_relative": hw / abs(removals) if removals else None,
        "uncertainty_deduction": deduction,
        "conservative_removals_tco2e": conservative,
        "claimable_tco2e": max(0, math.floor(conservative)),
    }


def largest_remainder(total: float, weights: np.ndarray, decimals: int) -> np.ndarray:
    """Split ``total`` (rounded to ``decimals``) by ``weights`` into amounts with ``decimals``
    that sum exactly to it (Hamilton's method on integer units)."""
    unit = 10**decimals
    units = round(total * unit)
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        return np.zeros(w.size)
    exact = units * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    rest = int(units - base.sum())
    order = np.argsort(-(exact - base), kind="stable")
    base[order[:rest]] += 1
    return np.asarray(base / unit, dtype=np.float64)


def attribute_to_parcels(
    parcels: pd.DataFrame, zonal: pd.DataFrame, *, removals_tco2e: float, years: float
) -> pd.DataFrame:
    """Per-parcel share of the removals, in proportion to each parcel's mapped carbon.

    ``parcels`` has ``code, owner, land_type, area_ha``; ``zonal`` (from the carbon-density map)
    has ``zone`` (the parcel code), ``mapped_area_ha`` and ``total_tc``. A parcel with no mapped
    carbon (e.g. no pixel of a class with plots) gets no share. Removals sum exactly to
    ``removals_tco2e`` rounded to 0.001 t (a negative total is attributed the same way).
    """
    z = zonal.set_index("zone")
    codes = parcels["code"].astype(str)
    carbon = z["total_tc"].reindex(codes).fillna(0.0).clip(lower=0.0).to_numpy(np.float64)
    mapped = z["mapped_area_ha"].reindex(codes).fillna(0.0).to_numpy(np.float64)
    share = carbon / carbon.sum() if carbon.sum() > 0 else np.zeros(carbon.size)
    sign = -1.0 if removals_tco2e < 0 else 1.0
    amounts = sign * largest_remainder(abs(removals_tco2e), carbon, REMOVALS_DECIMALS)
    area = parcels["area_ha"].to_numpy(np.float64)
    return pd.DataFrame(
        {
            "parcel_code": codes.to_numpy(),
            "owner": parcels["owner"].astype(str).to_numpy(),
            "land_type": parcels["land_type"].astype(str).to_numpy(),
            "area_ha": area.round(4),
            "area_mu": ha_to_mu(area).round(3),
            "mapped_area_ha": mapped.round(4),
            "mapped_carbon_tc": carbon.round(3),
            "share": share.round(8),
            "removals_tco2e": amounts,
            "removals_tco2e_per_ha_yr": np.round(amounts / area / years, 4),
        }
    )


__all__ = ["REMOVALS_DECIMALS", "attribute_to_parcels", "largest_remainder", "period_removals"]
