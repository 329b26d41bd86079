"""Raster output: Cloud-Optimized GeoTIFFs written block by block, with content hashes.

Large arrays are streamed: dask blocks are computed one at a time into a tiled GeoTIFF, which GDAL's
COG driver then copies into a COG (internal tiles, overviews, deflate). Memory is bounded by the
block size, not the raster size. Files are written under a temporary name and renamed, so a
failure leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import rasterio
from affine import Affine
from rasterio.shutil import copy as rio_copy
from rasterio.windows import Window

from mrv.errors import InputError

_WRITE_LOCK = threading.Lock()


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_cog(
    path: Path,
    data: Any,
    *,
    crs: str,
    transform: Sequence[float],
    nodata: float | int | None = None,
    dtype: str | None = None,
    band_names: Sequence[str] = (),
    tags: Mapping[str, str] | None = None,
    blocksize: int = 512,
) -> str:
    """Write a 2-D ``(y, x)`` or 3-D ``(band, y, x)`` numpy/dask/xarray array as a COG.

    Returns the SHA-256 of the written file. ``band_names`` become band descriptions; ``tags``
    dataset metadata (e.g. methodology id, units).
    """
    arr: Any = data.data if hasattr(data, "dims") else data  # xarray → its numpy/dask array
    if getattr(arr, "ndim", 0) == 2:
        arr = arr[np.newaxis]
    if getattr(arr, "ndim", 0) != 3:
        raise InputError(f"{path}: raster data must be 2-D or 3-D")
    count, height, width = (int(v) for v in arr.shape)
    out_dtype = np.dtype(dtype or arr.dtype)
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": count,
        "dtype": out_dtype.name, "crs": crs, "transform": Affine(*list(transform)[:6]),
        "nodata": nodata, "tiled": True, "blockxsize": blocksize, "blockysize": blocksize,
        "compress": "deflate", "BIGTIFF": "IF_SAFER",
    }  # fmt: skip
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tif")
    os.close(fd)
    tmp = Path(tmp_name)
    staged = tmp.with_suffix(".stage.tif")
    try:
        with rasterio.open(staged, "w", **profile) as dst:
            _stream(arr, dst, out_dtype)
            for i, name in enumerate(band_names, start=1):
                dst.set_band_description(i, name)
            if tags:
                dst.update_tags(**{k: str(v) for k, v in tags.items()})
        rio_copy(
            staged, tmp, driver="COG", compress="DEFLATE", blocksize=blocksize,
            overview_resampling="nearest", bigtiff="IF_SAFER",
        )  # fmt: skip
        os.replace(tmp, path)
    finally:
        staged.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return sha256_of(path)


def _stream(arr: object, dst: rasterio.io.DatasetWriter, dtype: np.dtype[np.generic]) -> None:
    """Write ``arr`` into ``dst`` one dask block (or the whole numpy array) at a time."""
    chunks = getattr(arr, "chunks", None)
    if chunks is None or not hasattr(arr, "blocks"):
        dst.write(np.asarray(arr).astype(dtype, copy=False))
        return
    import dask.array as da

    darr: da.Array = arr  # type: ignore[assignment]
    darr = darr.rechunk({0: -1})
    y_off = np.concatenate([[0], np.cumsum(darr.chunks[1])])
    x_off = np.concatenate([[0], np.cumsum(darr.chunks[2])])
    for i in range(len(darr.chunks[1])):
        for j in range(len(darr.chunks[2])):
            block: npt.NDArray[np.generic] = np.asarray(darr.blocks[0, i, j].compute())
            window = Window(
                int(x_off[j]), int(y_off[i]), block.shape[2], block.shape[1]
            )  # fmt: skip
            with _WRITE_LOCK:
                dst.write(block.astype(dtype, copy=False), window=window)
