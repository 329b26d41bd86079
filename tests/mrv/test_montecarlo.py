"""Monte Carlo: reproducible seeds from input hashes, correct moments, percentile intervals."""

from __future__ import annotations

import numpy as np
import pytest

from mrv.errors import InputError
from mrv.montecarlo import Distribution, propagate, seed_from, summarize_draws


def test_seed_depends_only_on_inputs() -> None:
    a = seed_from("x", np.arange(5.0), {"b": 1.0, "a": 2.0})
    assert a == seed_from("x", np.arange(5.0), {"a": 2.0, "b": 1.0})  # key order irrelevant
    assert a != seed_from("x", np.arange(5.0) + 1e-12, {"a": 2.0, "b": 1.0})
    assert a != seed_from("x", np.arange(5, dtype=np.float32), {"a": 2.0, "b": 1.0})
    assert 0 <= a < 2**63


def test_propagate_product_matches_analytic() -> None:
    # X ~ N(10, 1), Y ~ N(5, 0.5) independent: E[XY] = 50, Var = 10²·0.25 + 5²·1 + 1·0.25 = 50.25
    inputs = {
        "x": Distribution(kind="normal", mean=10.0, sd=1.0),
        "y": Distribution(kind="normal", mean=5.0, sd=0.5),
    }
    r = propagate(lambda v: v["x"] * v["y"], inputs, draws=200_000)
    assert r.mean == pytest.approx(50.0, rel=2e-3)
    assert r.sd == pytest.approx(np.sqrt(50.25), rel=1e-2)
    again = propagate(lambda v: v["x"] * v["y"], inputs, draws=200_000)
    assert again == r  # same inputs, same seed, same draws


def test_percentile_interval_of_uniform() -> None:
    r = propagate(
        lambda v: v["u"], {"u": Distribution(kind="uniform", low=0.0, high=1.0)}, draws=100_000
    )
    assert r.low == pytest.approx(0.05, abs=0.005)
    assert r.high == pytest.approx(0.95, abs=0.005)


def test_fixed_inputs_and_bad_shapes() -> None:
    r = propagate(lambda v: v["a"] + 1.0, {"a": 2.0}, draws=10)
    assert r.mean == 3.0 and r.low == 3.0 and r.high == 3.0
    with pytest.raises(InputError):
        propagate(lambda v: np.zeros(3), {"a": 1.0}, draws=10)
    with pytest.raises(ValueError, match="needs mode"):
        Distribution(kind="triangular", low=0.0, high=1.0)
    with pytest.raises(InputError):
        summarize_draws(np.array([]), seed=1)
