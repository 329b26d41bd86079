"""Read the layers the report maps (I/O): rasters of ``outputs/`` (decimated to at most
``MAX_PIXELS`` a side, nearest neighbour) and the site's boundary and parcels in the raster's CRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyogrio
import rasterio
from rasterio.enums import Resampling

from mrv.errors import FileFormatError, InputError

MAX_PIXELS = 1400
"""Longest side of a raster as read for a map (the PNG is about 1,000 px wide)."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Raster:
    """Bands of one raster as floats (NaN = no data), with extent and CRS for plotting."""

    bands: FloatArray
    """Shape (bands, rows, columns)."""
    extent: tuple[float, float, float, float]
    """left, right, bottom, top (matplotlib ``imshow`` order)."""
    crs: str
    """CRS as WKT."""
    projected: bool
    tags: dict[str, str]


def read_raster(path: Path, *, nodata: tuple[float, ...] = ()) -> Raster:
    """All bands of ``path`` as float64, with the file's nodata and ``nodata`` values set to NaN."""
    if not path.is_file():
        raise InputError(f"{path}: raster needed for the report is missing")
    try:
        with rasterio.open(path) as src:
            scale = max(src.width, src.height) / MAX_PIXELS
            shape = (
                (src.count, max(1, round(src.height / scale)), max(1, round(src.width / scale)))
                if scale > 1
                else (src.count, src.height, src.width)
            )
            data = src.read(out_shape=shape, resampling=Resampling.nearest).astype(np.float64)
            b = src.bounds
            crs = src.crs
            tags = {str(k): str(v) for k, v in src.tags().items()}
            for band in range(1, src.count + 1):
                tags.update({str(k): str(v) for k, v in src.tags(band).items()})
            file_nodata = src.nodata
    except rasterio.errors.RasterioIOError as exc:
        raise FileFormatError(str(path), f"not a readable raster ({exc})") from exc
    if crs is None:
        raise FileFormatError(str(path), "raster has no CRS")
    for value in (*nodata, *(() if file_nodata is None else (file_nodata,))):
        data[data == value] = np.nan
    return Raster(
        data, (b.left, b.right, b.bottom, b.top), crs.to_wkt(), bool(crs.is_projected), tags
    )


def read_layer(path: Path, crs: str) -> gpd.GeoDataFrame:
    """A GeoJSON layer of the site, reprojected to ``crs``."""
    if not path.is_file():
        raise InputError(f"{path}: site layer needed for the report is missing")
    try:
        frame = gpd.read_file(path)
    except pyogrio.errors.DataSourceError as exc:
        raise FileFormatError(str(path), f"not a readable vector file ({exc})") from exc
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")  # GeoJSON (RFC 7946) is WGS84
    return frame.to_crs(crs)


def class_names_from_tags(tags: dict[str, str]) -> dict[int, str]:
    """``classes`` tag of a land-cover raster (``"1=moso_bamboo,2=other_forest"``) → code → name."""
    out: dict[int, str] = {}
    for item in tags.get("classes", "").split(","):
        code, sep, name = item.partition("=")
        if sep and code.strip().isdigit():
            out[int(code)] = name.strip()
    return out


__all__ = ["MAX_PIXELS", "Raster", "class_names_from_tags", "read_layer", "read_raster"]
