"""Uncertainty deduction rules against the reference's test cases T9, T10."""

from __future__ import annotations

import pytest

from mrv.errors import InputError
from mrv.uncertainty import deduct


def test_vm0033_t9() -> None:
    # T9: NER 1000 t, error 25 %, allowable 20 % → 950 t
    d = deduct(1000.0, 250.0, rule="vm0033")
    assert d.conservative_value == pytest.approx(950.0)
    assert d.rule_confirmed
    assert deduct(1000.0, 150.0, rule="vm0033").deduction == 0.0


def test_art_trees_t10() -> None:
    # T10: HW 15 % → UA = 0.524417 × 15 / 1.645006 = 4.782 %
    d = deduct(200.0, 30.0, rule="art-trees")
    assert d.deduction_fraction * 100 == pytest.approx(4.782, abs=0.001)
    assert d.deduction == pytest.approx(200 * 0.047819, rel=1e-4)
    assert not d.rule_confirmed


def test_ccer_conservative_threshold_and_lower_bound() -> None:
    assert deduct(100.0, 10.0, rule="ccer-conservative").deduction == 0.0  # ±10 % exactly
    d = deduct(100.0, 12.5, rule="ccer-conservative")
    assert d.conservative_value == pytest.approx(87.5)  # the lower 90 % bound
    assert not d.rule_confirmed


def test_vm0042_probability_of_exceedance() -> None:
    # HW90 = 16.449 % at large n → SE = 10 % of the mean; UNC = 10 % × 0.4307 = 4.307 %
    d = deduct(100.0, 16.4485, rule="vm0042")
    assert d.deduction_fraction == pytest.approx(0.04307, abs=2e-5)


def test_none_and_errors() -> None:
    assert deduct(100.0, 80.0, rule="none").conservative_value == 100.0
    with pytest.raises(InputError):
        deduct(100.0, -1.0)
    # a deduction never exceeds the value
    assert deduct(100.0, 500.0, rule="ccer-conservative").conservative_value == 0.0


def test_zero_value_has_no_relative_precision_but_serialises() -> None:
    import json

    d = deduct(0.0, 5.0, rule="ccer-conservative")
    assert d.deduction == 0.0
    assert d.conservative_value == 0.0
    assert json.loads(json.dumps(d.to_dict(), allow_nan=False))["relative_half_width"] is None
