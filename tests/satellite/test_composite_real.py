"""Composites and NDVI on real Sentinel-2 L1C data (eo-learn TestEOPatch, Slovenia 2015)."""

from __future__ import annotations

import json
import warnings

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mrv.errors import InputError
from pipelines.satellite.composite import Season, composite
from pipelines.satellite.indices import compute_indices
from pipelines.satellite.mask import MaskSpec
from tests.real_data import EOLEARN

REAL = EOLEARN
PATCH = REAL / "TestEOPatch"
L1C_BANDS = [
    "B01",
    "B02",
    "B03",
    "B04",
    "B05",
    "B06",
    "B07",
    "B08",
    "B8A",
    "B09",
    "B10",
    "B11",
    "B12",
]
# REFERENCE_SCENES are 5 of the 68 dates (README: matched by NDVI), stored in this order:
SCENE_DATES = ["2015-08-20", "2015-07-31", "2015-09-09", "2015-08-30", "2015-07-11"]
CLOUDY = {"2015-08-20", "2015-07-31"}  # fully cloudy per CLM


def _frame_index(day: str) -> int:
    stamps = json.loads((PATCH / "timestamps.json").read_text())
    return next(i for i, s in enumerate(stamps) if s.startswith(day))


def real_cube(mask_band: str) -> tuple[xr.Dataset, np.ndarray, np.ndarray]:
    """The five scenes as a scene cube (time sorted) with CLM or CLP as cloud_probability."""
    scenes = np.load(REAL / "REFERENCE_SCENES.npy")  # (5, y, x, 13)
    order = np.argsort(SCENE_DATES)
    dates = [SCENE_DATES[i] for i in order]
    refl = np.ascontiguousarray(scenes[order].transpose(0, 3, 1, 2))  # (t, band, y, x)
    source = PATCH / ("mask/CLM.npy" if mask_band == "CLM" else "data/CLP.npy")
    frames = np.load(source)[[_frame_index(d) for d in dates], ..., 0].astype(np.float32)
    ny, nx = refl.shape[2:]
    cube = xr.Dataset(
        {
            "reflectance": (
                ("time", "band", "y", "x"),
                da.from_array(refl, chunks=(1, 13, 64, 64)),
            ),
            "cloud_probability": (("time", "y", "x"), da.from_array(frames, chunks=(1, 64, 64))),
        },
        coords={
            "time": pd.DatetimeIndex(dates) + pd.Timedelta(hours=10),
            "band": L1C_BANDS,
            "y": 5_080_254.63 - 10.0 * (np.arange(ny) + 0.5),
            "x": 465_181.05 + 10.0 * (np.arange(nx) + 0.5),
        },
        attrs={
            "crs": "EPSG:32633",
            "transform": [10.0, 0.0, 465_181.05, 0.0, -10.0, 5_080_254.63],
            "product_level": "L1C",
            "source": "eo-learn TestEOPatch",
        },
    )
    return cube, refl, frames


def test_summer_composite_of_the_clear_scenes_with_clm() -> None:
    cube, refl, _ = real_cube("CLM")
    result = composite(cube, Season("summer", "2015-07-01", "2015-09-30"))
    dates = result.attrs["dates"]
    assert dates == sorted(SCENE_DATES)
    clear = [d not in CLOUDY for d in dates]
    assert result.attrs["clear_fraction"] == [1.0 if c else 0.0 for c in clear]
    assert result.attrs["nodata_fraction"] == 0.0
    expected = np.median(refl[np.array(clear)], axis=0)  # 3 clear scenes: odd count, exact
    np.testing.assert_array_equal(result["reflectance"].values, expected)
    np.testing.assert_array_equal(result["valid_count"].values, np.full(refl.shape[2:], 3))
    # blue is 0.15-0.30 on average in the cloudy scenes and about 0.08 in the clear ones
    assert float(result["reflectance"].sel(band="B02").mean()) < 0.09


def test_composite_with_cloud_probability_matches_oracle() -> None:
    cube, refl, clp = real_cube("CLP")
    result = composite(
        cube, Season("summer", "07-01", "09-30"), mask=MaskSpec(probability_threshold=0.4)
    )
    ok = (clp <= 0.4)[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmedian(np.where(ok, refl, np.nan), axis=0)
    np.testing.assert_array_equal(result["reflectance"].values, expected)
    np.testing.assert_array_equal(result["valid_count"].values, ok[:, 0].sum(axis=0))
    assert result.attrs["nodata_fraction"] == pytest.approx(
        float((ok[:, 0].sum(0) == 0).mean()), abs=1e-6
    )


def test_all_cloud_period_on_real_data_names_the_dates() -> None:
    cube, _, _ = real_cube("CLM")
    with pytest.raises(InputError, match=r"season 'cloudy'.*2015-07-31, 2015-08-20"):
        composite(cube, Season("cloudy", "2015-07-20", "2015-08-25"))


@pytest.mark.parametrize("scene", [2, 3, 4])
def test_ndvi_of_a_reference_scene_equals_eolearn_ndvi(scene: int) -> None:
    scenes = np.load(REAL / "REFERENCE_SCENES.npy")
    ndvi_series = np.load(PATCH / "data" / "NDVI.npy")
    refl = xr.DataArray(
        scenes[scene].transpose(2, 0, 1), dims=("band", "y", "x"), coords={"band": L1C_BANDS}
    )
    ndvi = compute_indices(refl, ["NDVI"]).sel(index="NDVI").values
    expected = ndvi_series[_frame_index(SCENE_DATES[scene]), ..., 0]
    np.testing.assert_allclose(ndvi, expected, rtol=0, atol=1e-6)
    assert -0.2 < expected.min() and expected.max() < 0.9
