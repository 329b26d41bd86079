"""Median composites: the compiled kernel against numpy, known medians, seasons, QA, bad input."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping
from typing import Any

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from dask.local import get_sync

from mrv.errors import InputError
from pipelines.satellite import composite as composite_module
from pipelines.satellite._kernels import median_count_block, sorting_network
from pipelines.satellite.composite import Season, composite, median_composite_numpy
from pipelines.satellite.mask import MaskSpec

TRANSFORM = [10.0, 0.0, 600_000.0, 0.0, -10.0, 3_400_000.0]


def make_cube(
    values: np.ndarray,
    *,
    dates: list[str],
    scl: np.ndarray | None = None,
    chunks: Mapping[str, int] | None = None,
) -> xr.Dataset:
    _, b, y, x = values.shape
    ch: dict[str, Any] = {"time": 1, "band": -1, "y": -1, "x": -1, **(chunks or {})}
    refl = da.from_array(
        values.astype(np.float32), chunks=tuple(ch[d] for d in ("time", "band", "y", "x"))
    )
    data: dict[str, Any] = {"reflectance": (("time", "band", "y", "x"), refl)}
    if scl is not None:
        data["scl"] = (
            ("time", "y", "x"),
            da.from_array(scl, chunks=(ch["time"], ch["y"], ch["x"])),
        )
    return xr.Dataset(
        data,
        coords={
            "time": pd.DatetimeIndex(dates),
            "band": ["B02", "B03", "B04", "B05", "B08", "B11"][:b],
            "y": 3_400_000.0 - 10.0 * (np.arange(y) + 0.5),
            "x": 600_000.0 + 10.0 * (np.arange(x) + 0.5),
        },
        attrs={
            "crs": "EPSG:32650",
            "transform": TRANSFORM,
            "product_level": "L2A",
            "source": "test",
        },
    )


def nanmedian(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
        return np.nanmedian(values, axis=0)


# --- the kernel ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 13))
def test_sorting_network_sorts_every_0_1_input(n: int) -> None:
    """0-1 principle (Knuth 5.3.4): a network sorting all 2^n 0/1 inputs sorts everything."""
    lo, hi = sorting_network(n)
    assert np.all(lo < hi)
    keys = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.int8)
    for a, b in zip(lo, hi, strict=True):
        low = np.minimum(keys[:, a], keys[:, b])
        keys[:, b] = np.maximum(keys[:, a], keys[:, b])
        keys[:, a] = low
    assert np.all(np.diff(keys, axis=1) >= 0)


def test_sorting_network_sorts_random_values_for_long_series() -> None:
    rng = np.random.default_rng(0)
    for n in (17, 31, 40, 73):
        lo, hi = sorting_network(n)
        keys = rng.random((200, n))
        for a, b in zip(lo, hi, strict=True):
            low = np.minimum(keys[:, a], keys[:, b])
            keys[:, b] = np.maximum(keys[:, a], keys[:, b])
            keys[:, a] = low
        assert np.all(np.diff(keys, axis=1) >= 0)


def test_median_by_hand_odd_even_and_empty() -> None:
    nan = np.nan
    per_pixel = np.array(
        [
            [0.4, nan, 0.1, 0.2],  # pixel 0: {0.1, 0.2, 0.4} -> 0.2 (odd count)
            [0.3, 0.4, 0.2, 0.1],  # pixel 1: even count -> (0.2 + 0.3) / 2
            [nan, nan, 0.4, nan],  # pixel 2: one value
            [nan, nan, nan, nan],  # pixel 3: nothing valid
        ],
        dtype=np.float32,
    )
    series = per_pixel.T  # (time, pixel)
    median, count = median_composite_numpy(series[:, None, None, :])
    assert median[0, 0, 0] == np.float32(0.2)
    assert median[0, 0, 1] == (np.float32(0.2) + np.float32(0.3)) / np.float32(2)
    assert np.isnan(median[0, 0, 3])
    assert median[0, 0, 2] == np.float32(0.4)
    np.testing.assert_array_equal(count, [[3, 4, 1, 0]])
    assert count.dtype == np.uint16 and median.dtype == np.float32
    # masking the 0.4 of pixel 0 (date 0) by `valid` leaves {0.1, 0.2} -> 0.15
    valid = np.ones((4, 1, 4), dtype=bool)
    valid[0, 0, 0] = False
    median, count = median_composite_numpy(series[:, None, None, :], valid)
    assert median[0, 0, 0] == (np.float32(0.2) + np.float32(0.1)) / np.float32(2)
    assert count[0, 0] == 2


@pytest.mark.parametrize("t", [1, 2, 3, 4, 7, 12, 13, 24])
def test_kernel_equals_numpy_nanmedian(t: int) -> None:
    rng = np.random.default_rng(t)
    values = rng.random((t, 3, 9, 11), dtype=np.float32)
    values[rng.random(values.shape) < 0.4] = np.nan
    values[:, :, 0, 0] = np.nan  # a pixel with no data at all
    values[:, :, 1, 1] = 0.25  # ties
    median, count = median_composite_numpy(values)
    np.testing.assert_array_equal(median, nanmedian(values))  # exact, NaN == NaN
    np.testing.assert_array_equal(count, np.isfinite(values).sum(axis=0).max(axis=0))


def test_kernel_counts_per_band_and_treats_inf_as_missing() -> None:
    values = np.array([[1.0, np.inf], [2.0, 5.0], [np.nan, 6.0]], dtype=np.float32)[
        :, :, None, None
    ]
    out = median_count_block(values, np.ones((3, 1, 1), dtype=bool))
    np.testing.assert_array_equal(out[0, :, 0, 0], [1.5, 5.5])
    np.testing.assert_array_equal(out[1, :, 0, 0], [2, 2])


def test_kernel_reads_time_pieces_in_place() -> None:
    rng = np.random.default_rng(11)
    values = rng.random((7, 2, 5, 6), dtype=np.float32)
    valid = rng.random((7, 5, 6)) < 0.6
    whole = median_count_block(values, valid)
    pieces = median_count_block([values[:3], values[3:4], values[4:]], [valid[:3], valid[3:]])
    np.testing.assert_array_equal(pieces, whole)
    np.testing.assert_array_equal(whole[0], nanmedian(np.where(valid[:, None], values, np.nan)))
    with pytest.raises(ValueError, match="do not match"):
        median_count_block([values[:3], values[3:, :1]], valid)


# --- seasons ------------------------------------------------------------------------------


def test_season_date_window_is_inclusive_by_calendar_day() -> None:
    times = pd.DatetimeIndex(
        ["2024-03-31T23:00", "2024-04-01T02:00", "2024-05-31T10:30", "2024-06-01"]
    )
    season = Season("spring", "2024-04-01", "2024-05-31")
    np.testing.assert_array_equal(season.contains(times), [False, True, True, False])
    assert season.label() == "2024-04-01 … 2024-05-31"
    assert not season.recurring


def test_season_month_days_recur_and_wrap_the_new_year() -> None:
    times = pd.DatetimeIndex(
        ["2023-12-05", "2024-01-20", "2024-03-01", "2024-04-10", "2024-12-31", "2025-02-28"]
    )
    winter = Season("winter", "12-01", "02-28")
    np.testing.assert_array_equal(winter.contains(times), [True, True, False, False, True, True])
    spring = Season("spring", "04-01", "05-31")
    np.testing.assert_array_equal(spring.contains(times), [False, False, False, True, False, False])
    assert winter.recurring


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2024-05-01", "2024-04-01", "before start"),
        ("2024-04-01", "05-31", "both"),
        ("13-01", "05-31", "neither a date"),
        ("April", "May", "neither a date"),
    ],
)
def test_bad_seasons(start: str, end: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        Season("s", start, end)


# --- composite() --------------------------------------------------------------------------

DATES = ["2024-04-03", "2024-04-13", "2024-04-23", "2024-05-03", "2024-05-13", "2024-07-02"]


def value(k: int, band: int) -> np.float32:
    """Reflectance of every pixel of `known_cube` on date k (0-based) in band 0 or 1."""
    return np.float32((k + 1) / 10 + band)


def known_cube(chunks: Mapping[str, int] | None = None) -> xr.Dataset:
    """6 dates, 2 bands, 4x5 px: band value = (date number) / 10 (+1 in band 1); SCL by hand.

    The July date (index 5) is outside the spring season and holds a huge value that must not
    leak into the composite.
    """
    t, y, x = 6, 4, 5
    values = np.zeros((t, 2, y, x), dtype=np.float32)
    for k in range(t):
        values[k, 0] = value(k, 0)
        values[k, 1] = value(k, 1)
    values[5] = 99.0
    scl = np.full((t, y, x), 4, dtype=np.uint8)
    scl[0, 0, 0] = 9  # px (0,0): dates 1-4 -> {0.2, 0.3, 0.4, 0.5}: median 0.35, count 4
    scl[1:3, 0, 1] = 8  # px (0,1): dates 0, 3, 4 -> {0.1, 0.4, 0.5}: median 0.4, count 3
    scl[:5, 0, 2] = 3  # px (0,2): shadow on every spring date -> NaN, count 0
    scl[:5, 1, 0] = (0, 4, 10, 1, 6)  # px (1,0): valid dates 1 and 4 (water) -> 0.35, count 2
    scl[:5, 3, :] = 9  # bottom row cloudy all spring -> NaN, count 0
    scl[:5, 3, 4] = (9, 9, 2, 9, 9)  # ... except px (3,4), dark area (kept) on date 3 -> 0.3
    return make_cube(values, dates=DATES, scl=scl, chunks=chunks)


@pytest.mark.parametrize(
    "chunks",
    [None, {"y": 2, "x": 2}, {"band": 1, "y": 3, "x": 4}, {"time": 4, "x": 3}],
    ids=["one", "2x2", "band", "time4"],
)
def test_composite_known_medians_and_qa(chunks: Mapping[str, int] | None) -> None:
    result = composite(known_cube(chunks), Season("spring", "04-01", "05-31"))
    refl = result["reflectance"].values
    count = result["valid_count"].values
    assert result["reflectance"].dims == ("band", "y", "x")
    assert result["valid_count"].dtype == np.uint16
    assert refl.dtype == np.float32
    two = np.float32(2)
    assert refl[0, 0, 0] == (value(2, 0) + value(3, 0)) / two
    assert refl[1, 0, 0] == (value(2, 1) + value(3, 1)) / two
    assert refl[0, 0, 1] == value(3, 0)
    assert refl[0, 1, 0] == (value(1, 0) + value(4, 0)) / two
    assert refl[0, 3, 4] == value(2, 0)
    assert refl[0, 2, 2] == value(2, 0)  # clear on all five spring dates
    assert np.isnan(refl[:, 0, 2]).all() and np.isnan(refl[:, 3, :4]).all()
    expected_count = np.full((4, 5), 5)
    expected_count[0, :3] = (4, 3, 0)
    expected_count[1, 0] = 2
    expected_count[3] = (0, 0, 0, 0, 1)
    np.testing.assert_array_equal(count, expected_count)
    assert np.nanmax(refl) < 99  # the July scene is not in spring
    # QA attributes
    assert result.attrs["season"] == "spring"
    assert (result.attrs["start"], result.attrs["end"]) == ("04-01", "05-31")
    assert result.attrs["dates"] == DATES[:5]
    assert result.attrs["nodata_fraction"] == pytest.approx(5 / 20)
    clear = [
        (20 - 1 - 0 - 1 - 1 - 5),
        (20 - 1 - 1 - 5),
        (20 - 1 - 1 - 1 - 4),
        20 - 1 - 1 - 5,
        20 - 1 - 5,
    ]
    assert result.attrs["clear_fraction"] == pytest.approx([c / 20 for c in clear])
    assert result.attrs["crs"] == "EPSG:32650"
    assert result.attrs["transform"] == TRANSFORM
    assert result.attrs["product_level"] == "L2A"
    assert "scl classes" in result.attrs["mask"]
    np.testing.assert_array_equal(result["band"].values, ["B02", "B03"])


def test_composite_matches_numpy_oracle_on_random_cube() -> None:
    rng = np.random.default_rng(7)
    t = 10
    values = rng.random((t, 3, 12, 13), dtype=np.float32)
    values[rng.random(values.shape) < 0.05] = np.nan
    scl = rng.choice(np.array([0, 3, 4, 5, 6, 8, 9, 2], dtype=np.uint8), size=(t, 12, 13))
    dates = [str(d.date()) for d in pd.date_range("2024-03-01", periods=t, freq="6D")]
    cube = make_cube(values, dates=dates, scl=scl, chunks={"y": 5, "x": 6})
    result = composite(cube, Season("s", dates[0], dates[-1])).compute()
    ok = np.isin(scl, [2, 4, 5, 6])[:, None]
    expected = nanmedian(np.where(ok, values, np.nan))
    np.testing.assert_array_equal(result["reflectance"].values, expected)
    np.testing.assert_array_equal(
        result["valid_count"].values, (ok & np.isfinite(values)).sum(axis=0).max(axis=0)
    )


def test_non_contiguous_dates_and_small_block_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    dates = ["2023-04-10", "2023-08-01", "2024-04-20", "2024-05-05", "2024-09-01"]
    values = rng.random((5, 2, 6, 7), dtype=np.float32)
    cube = make_cube(values, dates=dates, scl=np.full((5, 6, 7), 4, dtype=np.uint8))
    # room for 3 dates x 1 band x 2 rows x 7 columns of float32: split bands, then rows
    monkeypatch.setattr(composite_module, "BLOCK_BYTES", 3 * 1 * 2 * 7 * 4)
    result = composite(cube, Season("spring", "04-01", "05-31"))
    assert result["reflectance"].data.numblocks == (2, 3, 1)
    np.testing.assert_array_equal(
        result["reflectance"].values, np.median(values[[0, 2, 3]], axis=0)
    )
    assert result.attrs["dates"] == ["2023-04-10", "2024-04-20", "2024-05-05"]


def test_all_cloud_season_is_an_error_naming_the_dates() -> None:
    cube = known_cube()
    scl = cube["scl"].values.copy()
    scl[1:3] = 9  # 13 and 23 April fully cloudy
    cube["scl"] = (("time", "y", "x"), scl)
    with pytest.raises(InputError, match=r"season 'april'.*2024-04-13, 2024-04-23") as info:
        composite(cube, Season("april", "2024-04-10", "2024-04-30"))
    assert [p.feature for p in info.value.problems] == ["2024-04-13", "2024-04-23"]
    assert "no pixel" in str(info.value)


def test_season_without_dates_is_an_error() -> None:
    with pytest.raises(InputError, match=r"season 'winter' \(12-01 … 02-28\) contains none"):
        composite(known_cube(), Season("winter", "12-01", "02-28"))


def test_without_scl_every_finite_observation_counts() -> None:
    values = np.array([0.1, np.nan, 0.3, 0.7], dtype=np.float32).reshape(4, 1, 1, 1)
    cube = make_cube(values, dates=DATES[:4])
    result = composite(cube, Season("s", "04-01", "05-31"))
    assert result["reflectance"].values[0, 0, 0] == np.float32(0.3)
    assert result["valid_count"].values[0, 0] == 3
    assert result.attrs["mask"].startswith("no cloud mask")


def test_dilation_reaches_the_composite() -> None:
    values = np.stack([np.full((1, 3, 3), v, dtype=np.float32) for v in (0.1, 0.2, 0.3)])
    scl = np.full((3, 3, 3), 4, dtype=np.uint8)
    scl[0, 1, 1] = 9  # a cloud in the centre on date 0
    cube = make_cube(values, dates=DATES[:3], scl=scl)
    plain = composite(cube, Season("s", "04-01", "05-31"))["valid_count"].values
    grown = composite(cube, Season("s", "04-01", "05-31"), mask=MaskSpec(dilate_px=1))
    np.testing.assert_array_equal(plain, [[3, 3, 3], [3, 2, 3], [3, 3, 3]])
    np.testing.assert_array_equal(grown["valid_count"].values, [[3, 2, 3], [2, 2, 2], [3, 2, 3]])
    f = np.float32
    assert grown["reflectance"].values[0, 0, 1] == (f(0.2) + f(0.3)) / f(2)


def _explode(block: np.ndarray) -> np.ndarray:
    raise RuntimeError("reflectance was read")


def test_composite_reads_only_the_mask_until_computed() -> None:
    cube = known_cube({"y": 2, "x": 2})
    cube["reflectance"] = cube["reflectance"].copy(
        data=cube["reflectance"].data.map_blocks(_explode, dtype=np.float32)
    )
    result = composite(cube, Season("spring", "04-01", "05-31"))  # computes the SCL check only
    assert isinstance(result["reflectance"].data, da.Array)
    assert isinstance(result["valid_count"].data, da.Array)
    with pytest.raises(RuntimeError, match="reflectance was read"):
        result["reflectance"].compute()


def test_validation_needs_no_compute_of_the_median() -> None:
    """Building the graph computes exactly one small thing (the mask summary)."""
    calls: list[object] = []

    def counting_get(dsk: Any, keys: Any, **kwargs: Any) -> Any:
        calls.append(keys)
        return get_sync(dsk, keys, **kwargs)

    with dask.config.set(scheduler=counting_get):
        composite(known_cube({"y": 2, "x": 2}), Season("spring", "04-01", "05-31"))
    assert len(calls) == 1


def test_non_cube_is_rejected() -> None:
    cube = known_cube().drop_vars("reflectance")
    with pytest.raises(InputError, match="no 'reflectance'"):
        composite(cube, Season("s", "04-01", "05-31"))


def test_even_odd_counts_everywhere() -> None:
    """Every subset of 4 dates (16 masks) at once: each pixel's median by hand."""
    vals = np.array([0.5, 0.1, 0.4, 0.2], dtype=np.float32)
    subsets = list(itertools.product([False, True], repeat=4))
    ok = np.array(subsets, dtype=bool).T.reshape(4, 1, 16)
    scl = np.where(ok, 4, 9).astype(np.uint8)
    values = np.broadcast_to(vals[:, None, None, None], (4, 1, 1, 16)).copy()
    result = composite(make_cube(values, dates=DATES[:4], scl=scl), Season("s", "04-01", "05-31"))
    got = result["reflectance"].values[0, 0]
    for i, subset in enumerate(subsets):
        chosen = np.sort(vals[list(subset)])
        n = len(chosen)
        if n == 0:
            assert np.isnan(got[i])
        elif n % 2:
            assert got[i] == chosen[n // 2]
        else:
            assert got[i] == (chosen[n // 2 - 1] + chosen[n // 2]) / np.float32(2)
    np.testing.assert_array_equal(result["valid_count"].values[0], [sum(s) for s in subsets])
