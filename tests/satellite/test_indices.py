"""Spectral indices: hand-computed values, spyndex cross-check, clipping, zero denominators."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
import spyndex
import xarray as xr

from mrv.errors import InputError
from pipelines.satellite.indices import DEFAULT_INDICES, INDICES, compute_indices

BANDS = ["B02", "B03", "B04", "B05", "B08", "B11", "B12"]
# a vegetation-like pixel (0-1 reflectance)
PIXEL = {"B02": 0.05, "B03": 0.08, "B04": 0.04, "B05": 0.12, "B08": 0.36, "B11": 0.18, "B12": 0.09}
BY_HAND = {
    "NDVI": 0.32 / 0.40,  # 0.8
    "EVI": 2.5 * 0.32 / (0.36 + 6 * 0.04 - 7.5 * 0.05 + 1),  # 0.8 / 1.225
    "SAVI": 1.5 * 0.32 / (0.36 + 0.04 + 0.5),  # 0.48 / 0.9
    "NDWI": -0.28 / 0.44,
    "MNDWI": -0.10 / 0.26,
    "NDRE": 0.24 / 0.48,  # 0.5
    "LSWI": 0.18 / 0.54,  # 1/3
    "NBR": 0.27 / 0.45,  # 0.6
}


def pixel_array(pixel: dict[str, float]) -> xr.DataArray:
    values = np.array([pixel[b] for b in BANDS], dtype=np.float32)[:, None, None]
    return xr.DataArray(
        values,
        dims=("band", "y", "x"),
        coords={"band": BANDS, "y": [3_400_005.0], "x": [600_005.0]},
        attrs={"crs": "EPSG:32650", "transform": [10.0, 0, 600_000.0, 0, -10.0, 3_400_010.0]},
    )


def test_values_by_hand() -> None:
    out = compute_indices(pixel_array(PIXEL), list(BY_HAND))
    assert out.dims == ("index", "y", "x")
    assert out.dtype == np.float32
    assert list(out["index"].values) == list(BY_HAND)
    for name, expected in BY_HAND.items():
        assert float(out.sel(index=name)[0, 0]) == pytest.approx(expected, rel=1e-6), name
    assert BY_HAND["NDVI"] == pytest.approx(0.8) and BY_HAND["EVI"] == pytest.approx(0.8 / 1.225)
    assert out.attrs == pixel_array(PIXEL).attrs


def test_negative_reflectance_is_clipped_before_ratios() -> None:
    out = compute_indices(pixel_array({**PIXEL, "B04": -0.02}), ["NDVI", "EVI"])
    assert float(out.sel(index="NDVI")[0, 0]) == 1.0  # (0.36 - 0) / (0.36 + 0), not 0.38 / 0.34
    assert float(out.sel(index="EVI")[0, 0]) == pytest.approx(
        2.5 * 0.36 / (0.36 - 0.375 + 1), rel=1e-6
    )


def test_zero_denominator_and_nan_give_nan_without_warnings() -> None:
    dark = dict.fromkeys(BANDS, 0.0)
    out = compute_indices(pixel_array(dark), ["NDVI", "NDWI", "EVI"])
    assert np.isnan(out.sel(index="NDVI")[0, 0]) and np.isnan(out.sel(index="NDWI")[0, 0])
    assert float(out.sel(index="EVI")[0, 0]) == 0.0  # denominator is 1, not 0
    # EVI's denominator vanishes when B08 + 6 B04 - 7.5 B02 = -1 (a bright-blue artefact)
    evi0 = compute_indices(pixel_array({**PIXEL, "B08": 0.0, "B04": 0.0, "B02": 1 / 7.5}), ["EVI"])
    assert np.isnan(evi0[0, 0, 0])
    gap = compute_indices(pixel_array({**PIXEL, "B04": float("nan")}), ["NDVI", "NDWI"])
    assert np.isnan(gap.sel(index="NDVI")[0, 0]) and not np.isnan(gap.sel(index="NDWI")[0, 0])


SPYNDEX = {
    "NDVI": ("NDVI", {}),
    "EVI": ("EVI", {"g": 2.5, "C1": 6.0, "C2": 7.5, "L": 1.0}),
    "SAVI": ("SAVI", {"L": 0.5}),
    "NDWI": ("NDWI", {}),
    "MNDWI": ("MNDWI", {}),
    "NDRE": ("NDREI", {}),
    "LSWI": ("LSWI", {}),
    "NBR": ("NBR", {}),
}
SYMBOLS = {"B": "B02", "G": "B03", "R": "B04", "RE1": "B05", "N": "B08", "S1": "B11", "S2": "B12"}


def test_all_indices_cross_checked_with_spyndex() -> None:
    assert set(SPYNDEX) == set(INDICES)
    rng = np.random.default_rng(42)
    values = rng.uniform(0.01, 0.6, size=(len(BANDS), 20, 30)).astype(np.float32)
    refl = xr.DataArray(values, dims=("band", "y", "x"), coords={"band": BANDS})
    ours = compute_indices(refl, list(INDICES))
    for name, (key, constants) in SPYNDEX.items():
        params = {sym: values[BANDS.index(band)] for sym, band in SYMBOLS.items()}
        needed = {p: params[p] for p in spyndex.indices[key].bands if p in params}
        theirs = np.asarray(spyndex.computeIndex(key, params={**needed, **constants}))
        np.testing.assert_allclose(
            ours.sel(index=name).values, theirs, rtol=2e-5, atol=1e-6, err_msg=name
        )


def test_time_series_input_and_laziness() -> None:
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 0.5, size=(3, len(BANDS), 8, 8)).astype(np.float32)
    refl = xr.DataArray(
        da.from_array(values, chunks=(1, -1, 4, 4)),
        dims=("time", "band", "y", "x"),
        coords={"band": BANDS},
    )

    def no_compute(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed while building")

    with dask.config.set(scheduler=no_compute):
        out = compute_indices(refl)
        assert isinstance(out.data, da.Array)
    assert out.dims == ("index", "time", "y", "x")
    assert list(out["index"].values) == list(DEFAULT_INDICES)
    b08, b04 = values[:, BANDS.index("B08")], values[:, BANDS.index("B04")]
    np.testing.assert_allclose(out.sel(index="NDVI").values, (b08 - b04) / (b08 + b04), rtol=1e-6)


def test_missing_band_and_unknown_index() -> None:
    refl = pixel_array(PIXEL).sel(band=["B02", "B03", "B04", "B08"])
    with pytest.raises(InputError, match=r"MNDWI needs B11"):
        compute_indices(refl, ["NDVI", "MNDWI"])
    with pytest.raises(InputError, match=r"unknown indices \['NDXI'\]"):
        compute_indices(refl, ["NDXI"])
    with pytest.raises(InputError, match="no 'band' dimension"):
        compute_indices(refl.sel(band="B04"), ["NDVI"])
