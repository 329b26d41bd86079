"""Good-practice area estimator (Olofsson et al. 2014) against the published example, by hand, and
by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mrv.errors import InputError
from pipelines.satellite.areas import area_estimates, good_practice_estimate

# Olofsson et al. 2014, RSE 148:42-57, §5 (Tables 8-9): 30 m pixels (0.09 ha), rows = map class
# (stratum), columns = reference class.
OLOFSSON_CLASSES = ("deforestation", "forest_gain", "stable_forest", "stable_non_forest")
OLOFSSON_PIXELS = (200_000, 150_000, 3_200_000, 6_450_000)
OLOFSSON_COUNTS = (
    (66, 0, 5, 4),
    (0, 55, 8, 12),
    (1, 0, 153, 11),
    (2, 1, 9, 313),
)


def test_published_example_areas_and_intervals() -> None:
    r = good_practice_estimate(
        OLOFSSON_PIXELS, OLOFSSON_COUNTS, pixel_area_ha=0.09, classes=OLOFSSON_CLASSES
    )
    # §5.2.2: error-adjusted areas and 95 % half-widths in ha, as printed
    np.testing.assert_allclose(r.adjusted_area_ha, [21_158, 11_686, 285_770, 581_386], atol=1)
    np.testing.assert_allclose(r.ci_half_width_ha, [6_158, 3_756, 15_510, 16_282], atol=1)
    np.testing.assert_allclose(r.map_area_ha, [18_000, 13_500, 288_000, 580_500])
    # Table 9: estimated area proportions p_ij to 4 decimals
    table9 = [
        [0.0176, 0.0, 0.0013, 0.0011],
        [0.0, 0.0110, 0.0016, 0.0024],
        [0.0019, 0.0, 0.2967, 0.0213],
        [0.0040, 0.0020, 0.0179, 0.6212],
    ]
    np.testing.assert_allclose(np.round(r.proportions, 4), table9)


def test_published_example_accuracies() -> None:
    r = good_practice_estimate(
        OLOFSSON_PIXELS, OLOFSSON_COUNTS, pixel_area_ha=0.09, classes=OLOFSSON_CLASSES
    )
    z = 1.959964
    # §5.2.1, estimate ± 95 % half-width to 2 decimals
    np.testing.assert_allclose(np.round(r.users_accuracy, 2), [0.88, 0.73, 0.93, 0.96])
    np.testing.assert_allclose(np.round(z * r.users_accuracy_se, 2), [0.07, 0.10, 0.04, 0.02])
    np.testing.assert_allclose(np.round(r.producers_accuracy, 2), [0.75, 0.85, 0.93, 0.96])
    # printed 0.21, 0.23, 0.03, 0.01; eq. 7 gives 0.254 and 0.018 for the 2nd and 4th (the
    # paper's own arithmetic; other implementations agree), so those two are the equation's
    np.testing.assert_allclose(
        z * r.producers_accuracy_se, [0.213, 0.254, 0.034, 0.018], atol=0.0006
    )
    assert round(r.overall_accuracy, 2) == 0.95
    assert round(z * r.overall_accuracy_se, 2) == 0.02


def test_three_class_example_by_hand() -> None:
    # 100 pixels of 1 ha: W = (0.5, 0.3, 0.2); n_i. = 10 in every stratum
    counts = [50, 30, 20]
    n = [[8, 2, 0], [1, 8, 1], [0, 1, 9]]
    r = good_practice_estimate(counts, n, pixel_area_ha=1.0, classes=["a", "b", "c"])
    # p.1 = .5*.8 + .3*.1 = .43 ; p.2 = .5*.2 + .3*.8 + .2*.1 = .36 ; p.3 = .3*.1 + .2*.9 = .21
    np.testing.assert_allclose(r.proportion, [0.43, 0.36, 0.21])
    np.testing.assert_allclose(r.adjusted_area_ha, [43.0, 36.0, 21.0])
    # eq. 10: S(p.1)^2 = .25*.8*.2/9 + .09*.1*.9/9 = .0481/9
    #         S(p.2)^2 = .25*.2*.8/9 + .09*.8*.2/9 + .04*.1*.9/9 = .0580/9
    #         S(p.3)^2 = .09*.1*.9/9 + .04*.9*.1/9 = .0117/9
    se = np.sqrt(np.array([0.0481, 0.0580, 0.0117]) / 9)
    np.testing.assert_allclose(r.proportion_se, se)
    np.testing.assert_allclose(r.adjusted_area_se_ha, 100 * se)
    rows = area_estimates(counts, n, 1.0, ["a", "b", "c"])
    assert rows[0]["class"] == "a"
    assert rows[0]["map_area_ha"] == 50.0
    assert rows[0]["adjusted_area_ha"] == pytest.approx(43.0)
    assert rows[0]["ci95_ha"] == pytest.approx(1.959964 * 100 * se[0], rel=1e-6)
    # accuracies: O = .4 + .24 + .18 ; U_i = n_ii/n_i. ; P_1 = .4/.43, P_2 = .24/.36, P_3 = .18/.21
    assert r.overall_accuracy == pytest.approx(0.82)
    np.testing.assert_allclose(r.users_accuracy, [0.8, 0.8, 0.9])
    np.testing.assert_allclose(r.producers_accuracy, [0.4 / 0.43, 0.24 / 0.36, 0.18 / 0.21])
    # eq. 5: V(O) = .25*.8*.2/9 + .09*.8*.2/9 + .04*.9*.1/9
    assert r.overall_accuracy_se == pytest.approx(math.sqrt((0.04 + 0.0144 + 0.0036) / 9))
    # eq. 6: V(U_1) = .8*.2/9
    assert r.users_accuracy_se[0] == pytest.approx(math.sqrt(0.16 / 9))
    # eq. 7 for class 1 (N_i. = W_i N, N = 100, N_.1 = 43):
    #   [50^2 (1-P1)^2 .8*.2/9 + P1^2 (30^2 * .1*.9/9 + 0)] / 43^2
    p1 = 0.4 / 0.43
    v = (2500 * (1 - p1) ** 2 * 0.16 / 9 + p1**2 * (900 * 0.09 / 9)) / 43**2
    assert r.producers_accuracy_se[0] == pytest.approx(math.sqrt(v))
    assert rows[2]["users_accuracy"] == pytest.approx(0.9)
    assert rows[1]["producers_accuracy"] == pytest.approx(0.24 / 0.36)


def test_interval_covers_the_true_area_about_95_percent_of_the_time() -> None:
    # a population of map pixels whose true reference mix per map class is known; repeated
    # stratified random samples of 150 per stratum; the 95 % interval of each class's area must
    # cover the true area in about 95 % of the samples
    rng = np.random.default_rng(20140201)
    pixels = np.array([60_000, 25_000, 15_000])
    mix = np.array([[0.90, 0.07, 0.03], [0.10, 0.80, 0.10], [0.05, 0.15, 0.80]])
    true_area = (pixels[:, None] * mix).sum(axis=0) * 0.01
    reps = 1500
    covered = np.zeros(3)
    for _ in range(reps):
        n = np.vstack([rng.multinomial(150, mix[i]) for i in range(3)])
        r = good_practice_estimate(pixels, n, pixel_area_ha=0.01, classes=["a", "b", "c"])
        covered += np.abs(r.adjusted_area_ha - true_area) <= r.ci_half_width_ha
    coverage = covered / reps
    assert np.all(coverage > 0.93) and np.all(coverage < 0.97), coverage


def test_mapping_input_and_unmapped_class() -> None:
    r = good_practice_estimate(
        {"a": 80, "b": 20},
        [[9, 1, 0], [2, 8, 0], [0, 0, 0]],
        pixel_area_ha=0.5,
        classes=["a", "b", "c"],
    )
    assert r.map_area_ha.tolist() == [40.0, 10.0, 0.0]
    assert math.isnan(r.users_accuracy[2])  # never mapped
    assert math.isnan(r.producers_accuracy[2])  # never found in the reference
    rows = r.rows()
    assert rows[2]["users_accuracy"] is None and rows[2]["adjusted_area_ha"] == 0.0


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match=r"at least 2 accuracy-assessment sample units.*: b"):
        good_practice_estimate([10, 10], [[5, 0], [0, 1]], pixel_area_ha=1, classes=["a", "b"])
    with pytest.raises(InputError, match="2×2 sample confusion"):
        good_practice_estimate([10, 10], [[5, 0, 1]], pixel_area_ha=1, classes=["a", "b"])
    with pytest.raises(InputError, match="whole numbers"):
        good_practice_estimate([10, 10], [[5, 0.5], [0, 3]], pixel_area_ha=1, classes=["a", "b"])
    with pytest.raises(InputError, match="unknown classes z"):
        good_practice_estimate({"z": 3}, [[5, 0], [0, 3]], pixel_area_ha=1, classes=["a", "b"])
    with pytest.raises(InputError, match="pixel_area_ha"):
        good_practice_estimate([10, 10], [[5, 0], [0, 3]], pixel_area_ha=0, classes=["a", "b"])
