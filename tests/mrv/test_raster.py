"""COG writing: streamed from dask blocks, valid COG layout, exact values, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import rasterio

from mrv.errors import InputError
from mrv.hashing import sha256_file
from mrv.raster import CogSpec, read_raster, write_cog, write_cogs

TRANSFORM = (10.0, 0.0, 600_000.0, 0.0, -10.0, 3_380_000.0)


def test_dask_array_streams_into_a_cog(tmp_path: Path) -> None:
    values = np.arange(3 * 1100 * 900, dtype=np.float32).reshape(3, 1100, 900) / 7
    arr = da.from_array(values, chunks=(1, 512, 512))
    out = tmp_path / "x.tif"
    digest = write_cog(
        out, arr, crs="EPSG:32650", transform=TRANSFORM, nodata=np.nan,
        band_names=["a", "b", "c"], tags={"unit": "t C/ha"},
    )  # fmt: skip
    assert digest == sha256_file(out)
    with rasterio.open(out) as src:
        assert src.count == 3
        assert src.crs.to_epsg() == 32650
        assert src.transform.c == 600_000.0
        assert src.descriptions == ("a", "b", "c")
        assert src.tags()["unit"] == "t C/ha"
        assert src.profile["tiled"]
        assert src.overviews(1)  # COG has internal overviews
        np.testing.assert_array_equal(src.read(), values)
    assert [p.name for p in tmp_path.iterdir()] == ["x.tif"]  # no temporary files left


def test_numpy_2d_and_dtype(tmp_path: Path) -> None:
    out = tmp_path / "classes.tif"
    write_cog(out, np.array([[1, 2], [3, 4]]), crs="EPSG:32650", transform=TRANSFORM,
              dtype="uint8", nodata=0)  # fmt: skip
    with rasterio.open(out) as src:
        assert src.dtypes == ("uint8",)
        np.testing.assert_array_equal(src.read(1), [[1, 2], [3, 4]])


def test_bad_shape(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="2-D or 3-D"):
        write_cog(tmp_path / "x.tif", np.zeros(5), crs="EPSG:32650", transform=TRANSFORM)


def test_outputs_written_together_share_their_computation(tmp_path: Path) -> None:
    calls = []

    def expensive(block: np.ndarray) -> np.ndarray:
        calls.append(block.shape)
        return block * 2.0

    base = da.from_array(np.ones((1024, 1024), dtype=np.float32), chunks=512).map_blocks(
        expensive, dtype=np.float32, meta=np.array((), dtype=np.float32)
    )
    a, b = tmp_path / "a.tif", tmp_path / "b.tif"
    write_cogs(
        [
            CogSpec(a, base, "EPSG:32650", TRANSFORM, np.nan),
            CogSpec(b, base + 1.0, "EPSG:32650", TRANSFORM, np.nan),
        ]
    )
    assert len(calls) == 4  # four blocks, each evaluated once for both outputs
    with rasterio.open(a) as src_a, rasterio.open(b) as src_b:
        assert float(src_a.read(1).mean()) == 2.0
        assert float(src_b.read(1).mean()) == 3.0
    with pytest.raises(InputError, match="share one grid"):
        write_cogs(
            [
                CogSpec(a, np.zeros((2, 2)), "EPSG:32650", TRANSFORM),
                CogSpec(b, np.zeros((3, 3)), "EPSG:32650", TRANSFORM),
            ]
        )


def test_read_raster_round_trip_is_lazy(tmp_path: Path) -> None:
    values = np.arange(2 * 700 * 600, dtype=np.float32).reshape(2, 700, 600)
    path = tmp_path / "r.tif"
    write_cog(path, values, crs="EPSG:32650", transform=TRANSFORM, band_names=["B04", "B08"],
              tags={"season": "spring"})  # fmt: skip
    arr = read_raster(path, chunks=256)
    assert arr.dims == ("band", "y", "x")
    assert list(arr["band"].values) == ["B04", "B08"]
    assert arr.data.chunks == ((2,), (256, 256, 188), (256, 256, 88))
    assert arr.attrs["crs"] == "EPSG:32650"
    assert arr.attrs["tags"]["season"] == "spring"
    assert float(arr["x"][0]) == 600_005.0
    np.testing.assert_array_equal(arr.values, values)
    with pytest.raises(InputError, match="raster not found"):
        read_raster(tmp_path / "missing.tif")
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"not a tiff")
    with pytest.raises(InputError, match="not a readable raster"):
        read_raster(bad)
