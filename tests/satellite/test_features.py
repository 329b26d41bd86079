"""Multi-season feature stacks: names, values by hand, differences, grid checks, laziness."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from mrv.errors import InputError
from pipelines.satellite.composite import Season, composite
from pipelines.satellite.features import build_features

BANDS = ["B02", "B03", "B04", "B05", "B08", "B11"]
TRANSFORM = [10.0, 0.0, 600_000.0, 0.0, -10.0, 3_400_000.0]


def fake_composite(
    season: str, nir: float, red: float, *, shape: tuple[int, int] = (4, 6)
) -> xr.Dataset:
    """A Composite (cube.py contract) with uniform reflectance: B08 = nir, B04 = red, others 0.1."""
    ny, nx = shape
    values = np.full((len(BANDS), ny, nx), 0.1, dtype=np.float32)
    values[BANDS.index("B08")] = nir
    values[BANDS.index("B04")] = red
    values[:, 0, 0] = np.nan  # a pixel without data
    return xr.Dataset(
        {
            "reflectance": (("band", "y", "x"), da.from_array(values, chunks=(1, 2, 3))),
            "valid_count": (("y", "x"), np.full(shape, 3, dtype=np.uint16)),
        },
        coords={
            "band": BANDS,
            "y": 3_400_000.0 - 10.0 * (np.arange(ny) + 0.5),
            "x": 600_000.0 + 10.0 * (np.arange(nx) + 0.5),
        },
        attrs={
            "season": season,
            "start": "04-01",
            "end": "05-31",
            "crs": "EPSG:32650",
            "transform": TRANSFORM,
        },
    )


def no_compute(*args: object, **kwargs: object) -> None:
    raise AssertionError("computed while building")


def test_names_values_and_differences() -> None:
    composites = {
        "spring": fake_composite("spring", 0.40, 0.04),
        "winter": fake_composite("winter", 0.30, 0.10),
    }
    with dask.config.set(scheduler=no_compute):
        feats = build_features(
            composites,
            bands=["B04", "B08"],
            indices=["NDVI", "NDWI"],
            differences=[("spring", "winter")],
        )
        assert isinstance(feats.data, da.Array)
        assert feats.data.numblocks[0] == 1  # all features in one block, ready for prediction
    assert list(feats["feature"].values) == [
        "spring:B04", "spring:B08", "spring:NDVI", "spring:NDWI",
        "winter:B04", "winter:B08", "winter:NDVI", "winter:NDWI",
        "spring-winter:NDVI", "spring-winter:NDWI",
    ]  # fmt: skip
    assert feats.dims == ("feature", "y", "x")
    assert feats.dtype == np.float32
    assert feats.attrs["crs"] == "EPSG:32650" and feats.attrs["transform"] == TRANSFORM
    values = feats.values
    at = {name: values[i, 2, 3] for i, name in enumerate(feats["feature"].values)}
    assert at["spring:B04"] == np.float32(0.04) and at["winter:B08"] == np.float32(0.30)
    ndvi_spring = (0.40 - 0.04) / (0.40 + 0.04)  # 0.8182
    ndvi_winter = (0.30 - 0.10) / (0.30 + 0.10)  # 0.5
    ndwi_spring = (0.10 - 0.40) / (0.10 + 0.40)  # -0.6
    assert at["spring:NDVI"] == pytest.approx(ndvi_spring, rel=1e-6)
    assert at["winter:NDVI"] == pytest.approx(ndvi_winter, rel=1e-6)
    assert at["spring:NDWI"] == pytest.approx(ndwi_spring, rel=1e-6)
    assert at["spring-winter:NDVI"] == pytest.approx(ndvi_spring - ndvi_winter, rel=1e-5)
    assert np.isnan(values[:, 0, 0]).all()  # the pixel without data stays NaN in every feature
    assert not np.isnan(values[:, 1:, 1:]).any()


def test_defaults_take_all_bands_and_default_indices() -> None:
    feats = build_features({"spring": fake_composite("spring", 0.4, 0.04)})
    names = list(feats["feature"].values)
    assert names[: len(BANDS)] == [f"spring:{b}" for b in BANDS]
    assert names[len(BANDS) :] == [
        f"spring:{i}" for i in ("NDVI", "EVI", "NDWI", "MNDWI", "NDRE", "LSWI")
    ]


def test_grid_mismatch_and_bad_requests() -> None:
    spring = fake_composite("spring", 0.4, 0.04)
    moved = spring.assign_attrs(transform=[10.0, 0.0, 600_010.0, 0.0, -10.0, 3_400_000.0])
    with pytest.raises(InputError, match="different grid"):
        build_features({"spring": spring, "winter": moved})
    with pytest.raises(InputError, match="lacks bands B12"):
        build_features({"spring": spring}, bands=["B04", "B12"], indices=())
    with pytest.raises(InputError, match=r"composite 'spring'.*NBR needs B12"):
        build_features({"spring": spring}, indices=["NBR"])
    with pytest.raises(InputError, match="no composite for season"):
        build_features({"spring": spring}, differences=[("spring", "winter")])
    with pytest.raises(InputError, match="no features"):
        build_features({"spring": spring}, bands=[], indices=())
    with pytest.raises(InputError, match="no composites"):
        build_features({})


def test_features_from_real_composites_end_to_end() -> None:
    """composite() of a tiny cube for two seasons, then features: values equal the medians."""
    rng = np.random.default_rng(5)
    dates = pd.DatetimeIndex(
        ["2024-01-05", "2024-01-20", "2024-02-10", "2024-04-08", "2024-04-28", "2024-05-18"]
    )
    values = rng.uniform(0.02, 0.5, size=(6, len(BANDS), 5, 4)).astype(np.float32)
    scl = np.full((6, 5, 4), 4, dtype=np.uint8)
    cube = xr.Dataset(
        {
            "reflectance": (
                ("time", "band", "y", "x"),
                da.from_array(values, chunks=(1, -1, 5, 2)),
            ),
            "scl": (("time", "y", "x"), da.from_array(scl, chunks=(1, 5, 2))),
        },
        coords={"time": dates, "band": BANDS},
        attrs={"crs": "EPSG:32650", "transform": TRANSFORM},
    )
    composites = {
        "spring": composite(cube, Season("spring", "04-01", "05-31")),
        "winter": composite(cube, Season("winter", "12-01", "02-28")),
    }
    feats = build_features(
        composites, bands=["B08"], indices=["NDVI"], differences=[("spring", "winter")]
    )
    spring_nir = np.median(values[3:, BANDS.index("B08")], axis=0)
    winter_nir = np.median(values[:3, BANDS.index("B08")], axis=0)
    np.testing.assert_array_equal(feats.sel(feature="spring:B08").values, spring_nir)
    np.testing.assert_array_equal(feats.sel(feature="winter:B08").values, winter_nir)
    spring_red = np.median(values[3:, BANDS.index("B04")], axis=0)
    winter_red = np.median(values[:3, BANDS.index("B04")], axis=0)
    ndvi_s = (spring_nir - spring_red) / (spring_nir + spring_red)
    ndvi_w = (winter_nir - winter_red) / (winter_nir + winter_red)
    np.testing.assert_allclose(
        feats.sel(feature="spring-winter:NDVI").values, ndvi_s - ndvi_w, rtol=1e-5
    )
