"""Real Sentinel-2 L1C (eo-learn TestEOPatch, Slovenia) written as multi-band GeoTIFFs per date,
read back through the local multi-band path, plus a given cloud mask (the patch's CLM)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from mrv.errors import InputError
from pipelines.satellite.sources import NoCloudMaskWarning, load_scenes
from tests.real_data import EOLEARN

REAL = EOLEARN
L1C_BANDS = (
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
)
SCENE_DATES = ("2015-08-20", "2015-07-31", "2015-09-09", "2015-08-30", "2015-07-11")
"""Dates of REFERENCE_SCENES 0–4 (README: matched by NDVI)."""
TRANSFORM = Affine(10, 0, 465181.0522318204, 0, -10, 5080254.63349641)


def _timestamps() -> list[pd.Timestamp]:
    return [
        pd.Timestamp(t) for t in json.loads((REAL / "TestEOPatch" / "timestamps.json").read_text())
    ]


def _write(path: Path, data: np.ndarray, descriptions: tuple[str, ...]) -> None:
    with rasterio.open(
        path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
        dtype=data.dtype.name, crs="EPSG:32633", transform=TRANSFORM, compress="deflate",
    ) as dst:  # fmt: skip
        dst.write(data)
        for i, name in enumerate(descriptions, start=1):
            dst.set_band_description(i, name)


@pytest.fixture(scope="module")
def l1c_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenes = np.load(REAL / "REFERENCE_SCENES.npy")  # (5, 101, 100, 13) TOA reflectance
    stamps = {str(t.date()): t for t in _timestamps()}
    root = tmp_path_factory.mktemp("eolearn")
    for idx, date in enumerate(SCENE_DATES):
        name = f"S2A_L1C_{stamps[date].strftime('%Y%m%dT%H%M%S')}.tif"
        _write(root / name, np.moveaxis(scenes[idx], -1, 0).astype(np.float32), L1C_BANDS)
    return root


def test_real_l1c_multiband_reads_back_exactly_and_warns(l1c_folder: Path) -> None:
    scenes = np.load(REAL / "REFERENCE_SCENES.npy")
    with pytest.warns(NoCloudMaskWarning):
        cube = load_scenes(l1c_folder, bands=L1C_BANDS, chunks=64)
    assert cube.attrs["product_level"] == "L1C" and cube.attrs["crs"] == "EPSG:32633"
    assert "scl" not in cube and "cloud_probability" not in cube
    assert cube.sizes == {"time": 5, "band": 13, "y": 101, "x": 100}
    order = np.argsort(SCENE_DATES)  # the cube is sorted by time
    assert [str(t)[:10] for t in cube.time.values] == sorted(SCENE_DATES)
    got = cube.reflectance.values
    np.testing.assert_array_equal(got, np.moveaxis(scenes[order], -1, 1))  # float: no offset


def test_real_ndvi_from_the_cube_matches_eolearn(l1c_folder: Path) -> None:
    """NDVI from the cube's B08/B04 equals the patch's own NDVI layer on the same dates."""
    ndvi_series = np.load(REAL / "TestEOPatch" / "data" / "NDVI.npy")[..., 0]
    index = {t: i for i, t in enumerate(_timestamps())}
    with pytest.warns(NoCloudMaskWarning):
        cube = load_scenes(l1c_folder, bands=["B04", "B08"])
    red, nir = cube.reflectance.sel(band="B04"), cube.reflectance.sel(band="B08")
    ndvi = ((nir - red) / (nir + red)).values
    for t, when in enumerate(pd.DatetimeIndex(cube.time.values)):
        np.testing.assert_allclose(ndvi[t], ndvi_series[index[when]], atol=1e-6)


def test_real_cloud_mask_as_a_band_per_date(l1c_folder: Path, tmp_path: Path) -> None:
    clm = np.load(REAL / "TestEOPatch" / "mask" / "CLM.npy")[..., 0]  # (68, 101, 100) 0/1
    stamps = _timestamps()
    picks = [stamps.index(next(t for t in stamps if str(t.date()) == d)) for d in SCENE_DATES]
    mask_path = tmp_path / "clm.tif"
    _write(mask_path, clm[picks], tuple(d.replace("-", "") for d in SCENE_DATES))
    cube = load_scenes(l1c_folder, bands=["B04"], cloud_mask=mask_path)  # no warning now
    assert cube.cloud_probability.dtype == np.float32
    got = cube.cloud_probability.values
    for t, when in enumerate(pd.DatetimeIndex(cube.time.values)):
        expected = clm[stamps.index(when)].astype(np.float32)
        np.testing.assert_array_equal(got[t], expected)
    # the two scenes the README calls cloudy are mostly cloud in the mask, the others clear
    fraction = dict(
        zip([str(t)[:10] for t in cube.time.values], got.mean(axis=(1, 2)), strict=True)
    )
    assert fraction["2015-08-20"] > 0.5 and fraction["2015-07-31"] > 0.5
    assert fraction["2015-07-11"] < 0.05


def test_cloud_mask_folder_and_its_errors(l1c_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "masks"
    folder.mkdir()
    for k, date in enumerate(SCENE_DATES[:4]):
        _write(
            folder / f"cloud_{date.replace('-', '')}.tif",
            np.full((1, 101, 100), k * 0.25, np.float32),
            ("p",),
        )
    with pytest.raises(InputError, match="no layer for 2015-07-11"):
        load_scenes(l1c_folder, bands=["B04"], cloud_mask=folder)
    _write(folder / "cloud_20150711.tif", np.full((1, 101, 100), 7, np.uint8), ("p",))
    cube = load_scenes(l1c_folder, bands=["B04"], cloud_mask=folder)
    probability = cube.cloud_probability
    assert float(probability.sel(time="2015-08-30").mean()) == pytest.approx(0.75)
    with pytest.raises(InputError, match="integer masks must be 0"):
        probability.compute(scheduler="synchronous")
