"""Statistics against hand-computed values and the reference's test cases T3, T4."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from scipy import stats as st

from mrv.errors import InputError
from mrv.stats import (
    Estimate,
    required_plots,
    satterthwaite_df,
    stratified_estimate,
    summarize,
    t_value,
)


def test_t_value_matches_tables() -> None:
    # Student t tables: t(0.95, 9) = 1.833, t(0.95, 29) = 1.699; z(0.95) = 1.645
    assert t_value(0.90, 9) == pytest.approx(1.8331, abs=1e-4)
    assert t_value(0.90, 29) == pytest.approx(1.6991, abs=1e-4)
    assert t_value(0.90, math.inf) == pytest.approx(1.6449, abs=1e-4)
    with pytest.raises(InputError):
        t_value(1.2, 10)


def test_summarize_by_hand() -> None:
    values = [10.0, 12.0, 14.0, 16.0]  # mean 13, s² = 20/3
    est = summarize(values)
    assert est.mean == 13.0
    assert est.se == pytest.approx(math.sqrt(20 / 3) / 2)
    assert est.df == 3
    # t(0.95, 3) = 2.3534
    assert est.half_width == pytest.approx(2.3534 * math.sqrt(20 / 3) / 2, rel=1e-4)
    assert est.low < est.mean < est.high
    with pytest.raises(InputError):
        summarize([1.0])
    with pytest.raises(InputError):
        summarize([1.0, float("nan")])


def test_stratified_estimate_by_hand() -> None:
    # Stratum A: 2, 4, 6 (mean 4, s² 4); stratum B: 10, 14 (mean 12, s² 8). Areas 100, 50 ha.
    values = [2.0, 4.0, 6.0, 10.0, 14.0]
    codes = [0, 0, 0, 1, 1]
    est = stratified_estimate(values, codes, ["A", "B"], [100.0, 50.0])
    a, b = est.strata
    assert (a.n, a.mean, a.sd) == (3, 4.0, 2.0)
    assert (b.n, b.mean) == (2, 12.0)
    assert b.sd == pytest.approx(math.sqrt(8))
    assert est.total.mean == pytest.approx(100 * 4 + 50 * 12)
    var_a, var_b = 100**2 * 4 / 3, 50**2 * 8 / 2
    assert est.total.se == pytest.approx(math.sqrt(var_a + var_b))
    df = (var_a + var_b) ** 2 / (var_a**2 / 2 + var_b**2 / 1)
    assert est.total.df == pytest.approx(df)
    assert est.total.half_width == pytest.approx(st.t.ppf(0.95, df) * math.sqrt(var_a + var_b))
    assert est.mean.mean == pytest.approx(1000 / 150)
    assert a.estimate.half_width == pytest.approx(st.t.ppf(0.95, 2) * 2 / math.sqrt(3))


def test_stratified_needs_two_plots_per_stratum() -> None:
    with pytest.raises(InputError, match="fewer than 2 plots cannot be estimated: B"):
        stratified_estimate([1.0, 2.0, 3.0], [0, 0, 1], ["A", "B"], [1.0, 1.0])


def test_stratified_agrees_with_statistics_module_on_random_data() -> None:
    rng = np.random.default_rng(7)
    values = rng.gamma(4.0, 5.0, 300)
    codes = rng.integers(0, 4, 300)
    areas = [120.0, 80.0, 33.3, 10.0]
    est = stratified_estimate(values, codes, list("ABCD"), areas)
    for h, s in enumerate(est.strata):
        group = values[codes == h].tolist()
        assert s.mean == pytest.approx(statistics.fmean(group))
        assert s.sd == pytest.approx(statistics.stdev(group))
    total = sum(a * statistics.fmean(values[codes == h].tolist()) for h, a in enumerate(areas))
    assert est.total.mean == pytest.approx(total)


def test_satterthwaite_single_term_is_its_df() -> None:
    assert satterthwaite_df(np.array([5.0]), np.array([7.0])) == pytest.approx(7.0)


def test_required_plots_t3_single_stratum() -> None:
    # T3: CV 30 %, E 10 %, t 1.645 → 24.35 → 25 plots
    size = required_plots([1.0], [30.0], 10.0, t=1.645)
    assert size.n == pytest.approx(24.35, abs=0.01)
    assert size.n_required == 25


def test_required_plots_t4_two_strata_and_finite_population() -> None:
    # T4: w (0.6, 0.4), s (12, 20), E 5.4, t 1.645 → 21.44; N = 2000 → 21.20; allocation 10.16/11.28
    size = required_plots([0.6, 0.4], [12.0, 20.0], 5.4, t=1.645)
    assert size.n == pytest.approx(21.44, abs=0.01)
    assert size.allocation == pytest.approx((10.16, 11.28), abs=0.01)
    finite = required_plots([0.6, 0.4], [12.0, 20.0], 5.4, t=1.645, population_size=2000)
    assert finite.n == pytest.approx(21.20, abs=0.01)


def test_required_plots_iterates_t_with_sample_size() -> None:
    size = required_plots([1.0], [30.0], 10.0)
    # converged: n = (t(0.95, n-1) · 3)² with n rounded up
    n = size.n_required
    assert size.t == pytest.approx(st.t.ppf(0.95, n - 1), abs=1e-6)
    assert size.n == pytest.approx((size.t * 3.0) ** 2)
    assert n == 27  # t(0.95, 26) = 1.7056 → 26.18 → 27


def test_estimate_scaled_keeps_relative_precision() -> None:
    est = Estimate(10.0, 1.0, 5, 4.0)
    co2 = est.scaled(44 / 12)
    assert co2.relative_half_width == pytest.approx(est.relative_half_width)
