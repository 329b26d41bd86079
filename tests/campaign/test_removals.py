"""Removals = stock change − emissions − leakage, the deduction and the parcel split, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.campaign.removals import attribute_to_parcels, largest_remainder, period_removals

CHANGE = {"net_tco2e_per_yr": 100.0, "ci90_half_width_tco2e_per_yr": 20.0, "df": 28.0}


def _run(change: dict[str, float], mc: dict[str, float] | None = None, **kw: float) -> dict:
    args = {"years": 2.0, "emissions_tco2e": 10.0, "leakage_tco2e": 5.0} | kw
    return period_removals(
        change,
        mc,
        rule="ccer-conservative",
        threshold=0.10,
        **args,  # type: ignore[arg-type]
    )


def test_removals_over_the_period_with_the_ccer_deduction() -> None:
    r = _run(CHANGE)
    # 100 t/yr × 2 yr = 200; − 10 − 5 = 185; half-width 20 × 2 = 40 → ±21.6 % > 10 %
    assert r["stock_change_tco2e"] == pytest.approx(200.0)
    assert r["removals_tco2e"] == pytest.approx(185.0)
    assert r["ci90_half_width_tco2e"] == pytest.approx(40.0)
    assert (r["ci90_low_tco2e"], r["ci90_high_tco2e"]) == pytest.approx((145.0, 225.0))
    assert r["ci90_relative"] == pytest.approx(40 / 185)
    assert r["uncertainty_deduction"]["deduction"] == pytest.approx(40.0)
    assert r["conservative_removals_tco2e"] == pytest.approx(145.0)
    assert r["claimable_tco2e"] == 145
    assert r["ci90_basis"] == "sampling"


def test_the_wider_monte_carlo_interval_is_used() -> None:
    r = _run(CHANGE, {"ci_low": 70.0, "ci_high": 130.0})  # half-width 30/yr × 2 = 60
    assert r["ci90_basis"] == "monte_carlo"
    assert r["ci90_half_width_tco2e"] == pytest.approx(60.0)
    assert r["conservative_removals_tco2e"] == pytest.approx(125.0)


def test_within_ten_percent_nothing_is_deducted_and_the_claim_is_floored() -> None:
    change = {"net_tco2e_per_yr": 100.25, "ci90_half_width_tco2e_per_yr": 5.0, "df": 28.0}
    r = _run(change, emissions_tco2e=0.0, leakage_tco2e=0.0)
    assert r["ci90_relative"] == pytest.approx(10.0 / 200.5)
    assert r["uncertainty_deduction"]["deduction"] == 0.0
    assert r["conservative_removals_tco2e"] == pytest.approx(200.5)
    assert r["claimable_tco2e"] == 200


def test_a_net_source_is_made_larger_and_nothing_is_claimable() -> None:
    change = {"net_tco2e_per_yr": -50.0, "ci90_half_width_tco2e_per_yr": 10.0, "df": 10.0}
    r = _run(change, emissions_tco2e=0.0, leakage_tco2e=0.0)
    assert r["removals_tco2e"] == pytest.approx(-100.0)
    assert r["conservative_removals_tco2e"] == pytest.approx(-120.0)
    assert r["claimable_tco2e"] == 0


def test_largest_remainder_sums_exactly() -> None:
    out = largest_remainder(10.0, np.array([1.0, 1.0, 1.0]), 3)
    assert out.tolist() == [3.334, 3.333, 3.333]
    assert round(out.sum(), 3) == 10.0
    assert largest_remainder(5.0, np.zeros(2), 3).tolist() == [0.0, 0.0]


def test_parcels_share_the_removals_by_mapped_carbon() -> None:
    parcels = pd.DataFrame(
        {
            "code": ["A", "B", "C", "D"],
            "owner": ["h1", "h1", "h2", "h3"],
            "land_type": ["bamboo"] * 4,
            "area_ha": [1.0, 2.0, 0.5, 0.25],
        }
    )
    zonal = pd.DataFrame(
        {"zone": ["A", "B", "C"], "mapped_area_ha": [1.0, 2.0, 0.0], "total_tc": [10.0, 30.0, 0.0]}
    )
    out = attribute_to_parcels(parcels, zonal, removals_tco2e=100.0, years=2.0)
    assert out["removals_tco2e"].tolist() == [25.0, 75.0, 0.0, 0.0]
    assert out["share"].tolist() == [0.25, 0.75, 0.0, 0.0]
    # 25 t / 1 ha / 2 yr; 75 t / 2 ha / 2 yr
    assert out["removals_tco2e_per_ha_yr"].tolist() == [12.5, 18.75, 0.0, 0.0]
    assert out["area_mu"].tolist() == [15.0, 30.0, 7.5, 3.75]
    negative = attribute_to_parcels(parcels, zonal, removals_tco2e=-10.0, years=1.0)
    assert negative["removals_tco2e"].tolist() == [-2.5, -7.5, 0.0, 0.0]
