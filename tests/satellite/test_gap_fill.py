"""Seasonal gap filling: pixels without a clear view in a season take the other seasons' median."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from pipelines.satellite.runs.common import fill_gaps, parse_season, seasonal_filler


def _comp(values: np.ndarray, counts: np.ndarray, name: str) -> xr.Dataset:
    attrs = {
        "season": name,
        "crs": "EPSG:32650",
        "transform": [10, 0, 0, 0, -10, 0],
        "nodata_fraction": float((counts == 0).mean()),
    }
    return xr.Dataset(
        {
            "reflectance": (("band", "y", "x"), da.from_array(values, chunks=(2, 3, 3))),
            "valid_count": (("y", "x"), da.from_array(counts, chunks=3)),
        },
        coords={"band": ["B04", "B08"]},
        attrs=attrs,
    )


def test_gaps_take_the_median_of_the_seasons() -> None:
    rng = np.random.default_rng(1)
    vals = rng.random((4, 2, 5, 6)).astype(np.float32)
    counts = np.full((4, 5, 6), 3, dtype=np.uint16)
    counts[0, 1, 2] = 0  # spring has no clear view of pixel (1, 2)
    vals[0, :, 1, 2] = np.nan
    counts[1, 4, 5] = 0
    vals[1, :, 4, 5] = np.nan
    vals[:, :, 0, 0] = np.nan  # never clear: stays NaN
    counts[:, 0, 0] = 0
    comps = {n: _comp(vals[i], counts[i], n) for i, n in enumerate(["sp", "su", "au", "wi"])}
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="All-NaN"):
        expected_filler = np.nanmedian(vals, axis=0)
    np.testing.assert_array_equal(seasonal_filler(comps).values, expected_filler)
    filled, fractions = fill_gaps(comps)
    spring = filled["sp"]["reflectance"].values
    np.testing.assert_array_equal(spring[:, 1, 2], expected_filler[:, 1, 2])
    np.testing.assert_array_equal(spring[:, 2, 3], vals[0, :, 2, 3])  # clear pixels unchanged
    assert np.isnan(spring[:, 0, 0]).all()
    np.testing.assert_array_equal(filled["sp"]["valid_count"].values, counts[0])  # QA kept
    assert fractions["sp"] == pytest.approx(2 / 30)


def test_parse_season() -> None:
    s = parse_season("spring:03-01:05-31")
    assert (s.name, s.recurring) == ("spring", True)
    with pytest.raises(ValueError, match="NAME:START:END"):
        parse_season("spring:03-01")
