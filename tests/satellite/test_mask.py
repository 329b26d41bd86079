"""Cloud/shadow masking: SCL classes by hand, dilation, probability band, fallbacks, laziness."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mrv.errors import InputError
from pipelines.satellite.mask import MaskSpec, valid_mask

TRANSFORM = [10.0, 0.0, 600_000.0, 0.0, -10.0, 3_400_000.0]


def make_cube(
    values: np.ndarray,
    *,
    scl: np.ndarray | None = None,
    prob: np.ndarray | None = None,
    bands: list[str] | None = None,
    chunks: Mapping[str, int] | None = None,
) -> xr.Dataset:
    t, b, y, x = values.shape
    ch: dict[str, Any] = {"time": 1, "band": -1, "y": -1, "x": -1, **(chunks or {})}
    data: dict[str, Any] = {
        "reflectance": (
            ("time", "band", "y", "x"),
            da.from_array(
                values.astype(np.float32), chunks=tuple(ch[d] for d in ("time", "band", "y", "x"))
            ),
        )
    }
    if scl is not None:
        data["scl"] = (
            ("time", "y", "x"),
            da.from_array(scl, chunks=(ch["time"], ch["y"], ch["x"])),
        )
    if prob is not None:
        data["cloud_probability"] = (
            ("time", "y", "x"),
            da.from_array(prob, chunks=(ch["time"], ch["y"], ch["x"])),
        )
    return xr.Dataset(
        data,
        coords={
            "time": pd.date_range("2024-04-02", periods=t, freq="5D"),
            "band": bands or [f"B{i + 2:02d}" for i in range(b)],
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


def _no_compute(dsk: object, keys: object, **kwargs: object) -> None:
    raise AssertionError("something was computed while building the graph")


ALL_CODES = np.array(
    [[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 200, 255, 4]]], dtype=np.uint8
)


def test_default_scl_classes_by_hand() -> None:
    cube = make_cube(np.ones((1, 2, 4, 4)), scl=ALL_CODES)
    valid = valid_mask(cube, MaskSpec()).values
    # valid: 2 dark area (kept by default), 4, 5, 6, 7; codes above 11 are invalid
    expected = np.array([[[0, 0, 1, 0], [1, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 1]]], dtype=bool)
    np.testing.assert_array_equal(valid, expected)
    assert valid_mask(cube).dtype == bool
    assert valid_mask(cube).dims == ("time", "y", "x")


def test_dark_area_and_snow_switches() -> None:
    cube = make_cube(np.ones((1, 2, 4, 4)), scl=ALL_CODES)
    dark = valid_mask(cube, MaskSpec(mask_dark_area=True)).values
    assert not dark[0, 0, 2]  # class 2 now masked
    snow = valid_mask(cube, MaskSpec(mask_snow=False)).values
    assert snow[0, 2, 3]  # class 11 now kept
    only_nodata = valid_mask(cube, MaskSpec(scl_classes=(0,), mask_snow=False)).values
    expected = np.array([[[0, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 0, 1]]], dtype=bool)
    np.testing.assert_array_equal(only_nodata, expected)
    assert MaskSpec(mask_dark_area=True).masked_classes == {0, 1, 2, 3, 8, 9, 10, 11}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scl_classes": (0, 12)}, "unknown SCL classes"),
        ({"dilate_px": -1}, "dilate_px"),
        ({"probability_threshold": 1.5}, "probability_threshold"),
    ],
)
def test_bad_spec(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        MaskSpec(**kwargs)


def _cross(n: int, cy: int, cx: int, r: int) -> np.ndarray:
    yy, xx = np.mgrid[:n, :n]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


@pytest.mark.parametrize("radius", [1, 2])
def test_dilation_is_a_disk_and_crosses_block_edges(radius: int) -> None:
    scl = np.full((2, 9, 9), 4, dtype=np.uint8)
    scl[0, 4, 4] = 9  # a cloud pixel in the middle (date 0)
    scl[1, 3, 6] = 3  # a shadow next to a block edge (date 1; blocks are 3 px)
    scl[1, 8, 0] = 0  # no data in a corner: never grown
    cube = make_cube(np.ones((2, 1, 9, 9)), scl=scl, chunks={"y": 3, "x": 3})
    valid = valid_mask(cube, MaskSpec(dilate_px=radius)).values
    expected0 = ~_cross(9, 4, 4, radius)
    expected1 = ~_cross(9, 3, 6, radius)
    expected1[8, 0] = False
    np.testing.assert_array_equal(valid[0], expected0)
    np.testing.assert_array_equal(valid[1], expected1)
    # radius 1 is the 4-neighbour cross (5 px), radius 2 a 13-px disk
    assert (~valid[0]).sum() == {1: 5, 2: 13}[radius]


def test_probability_band_threshold_and_nan() -> None:
    prob = np.array([[[0.0, 0.4, 0.41, np.nan, 1.0]]], dtype=np.float32)
    cube = make_cube(np.ones((1, 1, 1, 5)), prob=prob)
    np.testing.assert_array_equal(valid_mask(cube).values, [[[True, True, False, False, False]]])
    strict = valid_mask(cube, MaskSpec(probability_threshold=0.0)).values
    np.testing.assert_array_equal(strict, [[[True, False, False, False, False]]])


def test_probability_dilation_does_not_grow_no_data() -> None:
    prob = np.zeros((1, 1, 5), dtype=np.float32)
    prob[0, 0, 1] = 0.9
    prob[0, 0, 4] = np.nan
    cube = make_cube(np.ones((1, 1, 1, 5)), prob=prob)
    valid = valid_mask(cube, MaskSpec(dilate_px=1)).values
    np.testing.assert_array_equal(valid, [[[False, False, False, True, False]]])


def test_scl_takes_precedence_over_probability() -> None:
    scl = np.array([[[4, 9]]], dtype=np.uint8)
    prob = np.array([[[1.0, 0.0]]], dtype=np.float32)
    cube = make_cube(np.ones((1, 1, 1, 2)), scl=scl, prob=prob)
    np.testing.assert_array_equal(valid_mask(cube).values, [[[True, False]]])


def test_without_mask_band_finite_reflectance_is_valid() -> None:
    values = np.ones((2, 3, 1, 3), dtype=np.float32)
    values[0, 1, 0, 0] = np.nan  # one band missing -> observation invalid
    values[1, :, 0, 2] = np.nan
    valid = valid_mask(make_cube(values)).values
    np.testing.assert_array_equal(valid, [[[False, True, True]], [[True, True, False]]])


def test_mask_is_lazy() -> None:
    rng = np.random.default_rng(1)
    scl = rng.integers(0, 12, size=(3, 8, 8)).astype(np.uint8)
    cube = make_cube(rng.random((3, 2, 8, 8)), scl=scl, chunks={"y": 4, "x": 4})
    with dask.config.set(scheduler=_no_compute):
        valid = valid_mask(cube, MaskSpec(dilate_px=1))
        assert isinstance(valid.data, da.Array)
    assert valid.shape == (3, 8, 8)


def test_wrong_mask_dims() -> None:
    cube = make_cube(np.ones((1, 1, 2, 2)))
    cube["scl"] = (("y", "x"), np.full((2, 2), 4, dtype=np.uint8))
    with pytest.raises(InputError, match="scl dims"):
        valid_mask(cube)
