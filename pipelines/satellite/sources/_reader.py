"""Lazy, windowed reading of raster files onto one grid.

A dask task reads one block (one date, all bands, a ``chunks × chunks`` window), reading from
each file only the pixels under that window:

* a file on the grid (same CRS, pixel size and pixel edges): a direct windowed read;
* a file on an integer multiple of the grid (Sentinel-2 20 m / 60 m bands under a 10 m grid):
  the few source pixels under the window, upsampled in numpy — bilinear (weights renormalised
  over valid neighbours, no data where less than half the weight is valid: the same values as
  GDAL's bilinear warp for 20 → 10 m) or nearest for classes (SCL);
* anything else (another CRS, a non-integer ratio, downsampling): a GDAL warped view of the
  window (bilinear up, average down, nearest for classes).

Several files for one date and band (tiles of one datatake) are mosaicked: the first valid value
wins. Memory per task is bounded by the block size; building the graph reads only headers. Open
files are cached per thread. A file that cannot be read at compute time (truncated, corrupt)
raises :class:`InputError` naming the file, band and date.
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt
import rasterio
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from mrv.errors import InputError, Problem
from pipelines.satellite.cube import Grid
from pipelines.satellite.sources._common import Bounds, block_starts, crs_string

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]
WindowSpec = tuple[int, int, int, int]
"""(row offset, column offset, height, width) of a block in the grid."""


@dataclass(frozen=True)
class RasterInfo:
    """Header of a raster file (no pixels read)."""

    path: Path
    crs: str
    transform: tuple[float, float, float, float, float, float]
    width: int
    height: int
    count: int
    dtype: str
    nodata: float | None
    descriptions: tuple[str | None, ...]
    scales: tuple[float, ...]
    offsets: tuple[float, ...]
    tags: dict[str, str] = field(hash=False, compare=False)
    stamp: tuple[int, int]
    """(size in bytes, mtime in ns): part of the dask token, so a changed file is re-read."""

    @property
    def resolution(self) -> float:
        """Pixel width in CRS units."""
        return abs(self.transform[0])

    @property
    def bounds(self) -> Bounds:
        """(left, bottom, right, top) in the file's CRS."""
        a, _, c, _, e, f = self.transform
        xs = (c, c + a * self.width)
        ys = (f, f + e * self.height)
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def is_float(self) -> bool:
        """True for floating-point pixels (already reflectance, not DN)."""
        return np.dtype(self.dtype).kind == "f"


def probe(path: Path, *, what: str = "") -> RasterInfo:
    """Open ``path`` and read its header; :class:`InputError` when it is not a readable raster
    or a GeoTIFF whose data run past the end of the file (truncated)."""
    prefix = f"{what}: " if what else ""
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                reason = f"{prefix}raster has no CRS"
                raise InputError(f"{path}: {reason}", [Problem(reason, file=str(path))])
            _check_not_truncated(src, path, prefix)
            stat = path.stat()
            return RasterInfo(
                path=path,
                crs=crs_string(src.crs),
                transform=tuple(float(v) for v in src.transform[:6]),  # type: ignore[arg-type]
                width=int(src.width),
                height=int(src.height),
                count=int(src.count),
                dtype=str(src.dtypes[0]),
                nodata=None if src.nodata is None else float(src.nodata),
                descriptions=tuple(src.descriptions),
                scales=tuple(float(v) for v in src.scales),
                offsets=tuple(float(v) for v in src.offsets),
                tags={str(k): str(v) for k, v in src.tags().items()},
                stamp=(int(stat.st_size), int(stat.st_mtime_ns)),
            )
    except InputError:
        raise
    except Exception as exc:  # rasterio/GDAL raise several unrelated classes for bad files
        reason = f"{prefix}not a readable raster: {exc}"
        raise InputError(f"{path}: {reason}", [Problem(reason, file=str(path))]) from exc


def _check_not_truncated(src: rasterio.io.DatasetReader, path: Path, prefix: str) -> None:
    """For tiled/striped GeoTIFFs, the last block of every band must end inside the file."""
    if src.driver != "GTiff":
        return
    size = path.stat().st_size
    block_h, block_w = src.block_shapes[0]
    nx = math.ceil(src.width / block_w)
    ny = math.ceil(src.height / block_h)
    for bidx in range(1, src.count + 1):
        offset = src.get_tag_item(f"BLOCK_OFFSET_{nx - 1}_{ny - 1}", "TIFF", bidx=bidx)
        length = src.get_tag_item(f"BLOCK_SIZE_{nx - 1}_{ny - 1}", "TIFF", bidx=bidx)
        if offset and length and int(offset) + int(length) > size:
            reason = (
                f"{prefix}file is truncated: band {bidx} data end at byte "
                f"{int(offset) + int(length)} but the file has {size} bytes"
            )
            raise InputError(f"{path}: {reason}", [Problem(reason, file=str(path))])


@dataclass(frozen=True)
class Layer:
    """One band of one file and how to turn its values into the cube's values."""

    path: str
    index: int
    """1-based band index in the file."""
    band: str
    """Cube band name (``"B04"``, ``"SCL"``, ``"cloud"``)."""
    when: str
    """Acquisition date/time, for messages."""
    scale: float = 1.0
    offset: float = 0.0
    nodata: float | None = None
    """Source value meaning no data (0 for Sentinel-2 DN and SCL)."""
    stamp: tuple[int, int] = (0, 0)


def _fail(layer: Layer, exc: BaseException) -> InputError:
    reason = f"cannot read band {layer.band} of {layer.when}: {exc}"
    return InputError(f"{layer.path}: {reason}", [Problem(reason, file=layer.path)])


_MAX_OPEN_PER_THREAD = 64
_handles = threading.local()


def _open(layer: Layer) -> rasterio.io.DatasetReader:
    """An open dataset for ``layer``'s file, cached per thread (opening costs ~3 ms, a block
    read ~10 ms); at most 64 files per thread stay open. A changed file (size/mtime in the
    layer's stamp) gets a new handle."""
    cache: OrderedDict[tuple[str, tuple[int, int]], rasterio.io.DatasetReader] | None = getattr(
        _handles, "cache", None
    )
    if cache is None:
        cache = OrderedDict()
        _handles.cache = cache
    key = (layer.path, layer.stamp)
    src = cache.get(key)
    if src is not None and not src.closed:
        cache.move_to_end(key)
        return src
    src = rasterio.open(layer.path)
    cache[key] = src
    while len(cache) > _MAX_OPEN_PER_THREAD:
        cache.popitem(last=False)[1].close()
    return src


def _forget(layer: Layer) -> None:
    cache = getattr(_handles, "cache", None)
    if cache is not None:
        src = cache.pop((layer.path, layer.stamp), None)
        if src is not None:
            src.close()


@dataclass(frozen=True)
class _Placement:
    """A file on an integer multiple of the grid: same CRS and axes, one file pixel covers
    ``factor`` × ``factor`` grid pixels, and the grid's pixel (0, 0) lies ``row``, ``col`` grid
    pixels from the file's origin (so 20 m and 60 m Sentinel-2 bands need no GDAL warp)."""

    factor: int
    row: int
    col: int


def _placement(src: rasterio.io.DatasetReader, grid: Grid) -> _Placement | None:
    a, b, c, d, e, f = src.transform[:6]
    ga, _, gc, _, ge, gf = grid.transform
    if b or d or a <= 0 or e >= 0 or ga <= 0 or ge >= 0:
        return None
    factor = a / ga
    if abs(factor - round(factor)) > 1e-9 or round(factor) < 1:
        return None
    if not math.isclose(e / ge, factor, rel_tol=1e-9):
        return None
    col = (gc - c) / ga
    row = (gf - f) / ge
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    if src.crs != CRS.from_user_input(grid.crs):
        return None
    return _Placement(round(factor), round(row), round(col))


def _valid(data: npt.NDArray[np.generic], nodata: float | None) -> npt.NDArray[np.bool_]:
    valid = np.isfinite(data) if data.dtype.kind == "f" else np.ones(data.shape, dtype=bool)
    if nodata is not None:
        valid &= data != nodata
    return valid


def _axis(
    start: int, length: int, place_offset: int, factor: int, size: int, *, nearest: bool
) -> tuple[
    npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.bool_]
]:
    """Along one axis: left and right source index, weight of the right one, and whether the
    grid pixel centre lies on the file, for grid pixels ``start … start + length``."""
    pixel = start + place_offset + np.arange(length, dtype=np.float64)
    if nearest:
        lo = np.floor(pixel / factor).astype(np.intp)
        return lo, lo, np.zeros(length), (lo >= 0) & (lo < size)
    centre = (pixel + 0.5) / factor - 0.5  # grid pixel centre in file pixel units
    lo = np.floor(centre).astype(np.intp)
    inside = (centre >= -0.5) & (centre < size - 0.5)
    return np.clip(lo, 0, size - 1), np.clip(lo + 1, 0, size - 1), centre - lo, inside


def _read_placed(
    src: rasterio.io.DatasetReader,
    layer: Layer,
    place: _Placement,
    window: WindowSpec,
    *,
    nearest: bool,
) -> tuple[npt.NDArray[np.floating[Any]], npt.NDArray[np.bool_]]:
    """``window`` of a placed file as (values, valid): a direct read when the file is on the
    grid, else bilinear (or nearest) upsampling by the integer factor. Bilinear weights are
    renormalised over valid neighbours; less than half the weight valid → no data (as GDAL)."""
    row0, col0, height, width = window
    k = place.factor
    if k == 1:
        return _read_same_grid(src, layer, place, window)
    ylo, yhi, ty, yin = _axis(row0, height, place.row, k, src.height, nearest=nearest)
    xlo, xhi, tx, xin = _axis(col0, width, place.col, k, src.width, nearest=nearest)
    if not yin.any() or not xin.any():
        return np.full((height, width), np.nan, np.float32), np.zeros((height, width), bool)
    r0, r1 = int(ylo[yin].min()), int(yhi[yin].max()) + 1
    c0, c1 = int(xlo[xin].min()), int(xhi[xin].max()) + 1
    data = src.read(layer.index, window=Window(c0, r0, c1 - c0, r1 - r0))
    ok = _valid(data, layer.nodata)
    ylo, yhi = np.clip(ylo - r0, 0, r1 - r0 - 1), np.clip(yhi - r0, 0, r1 - r0 - 1)
    xlo, xhi = np.clip(xlo - c0, 0, c1 - c0 - 1), np.clip(xhi - c0, 0, c1 - c0 - 1)
    inside = yin[:, np.newaxis] & xin[np.newaxis, :]
    if nearest:
        picked = np.ix_(ylo, xlo)
        return data[picked].astype(np.float32), ok[picked] & inside
    wx1 = tx.astype(np.float32)
    wx0 = np.float32(1.0) - wx1
    wy1 = ty.astype(np.float32)[:, np.newaxis]
    wy0 = np.float32(1.0) - wy1
    all_valid = bool(ok.all())
    v = data.astype(np.float32) if all_valid else np.where(ok, data, 0).astype(np.float32)
    vx = v[:, xlo] * wx0 + v[:, xhi] * wx1  # along x, then along y
    values = vx[ylo] * wy0 + vx[yhi] * wy1
    if all_valid:
        return values, inside
    m = ok.astype(np.float32)
    mx = m[:, xlo] * wx0 + m[:, xhi] * wx1
    den = mx[ylo] * wy0 + mx[yhi] * wy1
    with np.errstate(invalid="ignore", divide="ignore"):
        values /= den
    return values, inside & (den >= 0.5)


def _read_same_grid(
    src: rasterio.io.DatasetReader, layer: Layer, place: _Placement, window: WindowSpec
) -> tuple[npt.NDArray[np.floating[Any]], npt.NDArray[np.bool_]]:
    """A file on the grid itself: read the part of ``window`` it covers."""
    row0, col0, height, width = window
    values = np.zeros((height, width), dtype=np.float32)
    valid = np.zeros((height, width), dtype=bool)
    r0, c0 = max(row0 + place.row, 0), max(col0 + place.col, 0)
    r1 = min(row0 + place.row + height, src.height)
    c1 = min(col0 + place.col + width, src.width)
    if r0 >= r1 or c0 >= c1:
        return values, valid
    data = src.read(layer.index, window=Window(c0, r0, c1 - c0, r1 - r0))
    dst = (
        slice(r0 - row0 - place.row, r1 - row0 - place.row),
        slice(c0 - col0 - place.col, c1 - col0 - place.col),
    )
    valid[dst] = _valid(data, layer.nodata)
    if data.dtype == np.float64:
        return data if data.shape == values.shape else _pad(data, dst, values.shape), valid
    values[dst] = data
    return values, valid


def _pad(
    data: npt.NDArray[np.floating[Any]], dst: tuple[slice, slice], shape: tuple[int, int]
) -> npt.NDArray[np.floating[Any]]:
    out = np.zeros(shape, dtype=data.dtype)
    out[dst] = data
    return out


def read_continuous(layer: Layer, grid: Grid, window: WindowSpec, *, nearest: bool = False) -> F32:
    """``window`` of ``layer`` on ``grid`` as float32 cube values, NaN where no data
    (``nearest``: nearest-neighbour instead of bilinear/average when resampling)."""
    height, width = window[2], window[3]
    try:
        src = _open(layer)
        place = _placement(src, grid)
        if place is not None:
            values, valid = _read_placed(src, layer, place, window, nearest=nearest)
        else:
            values, valid = _read_warped(src, layer, grid, window, nearest=nearest)
    except InputError:
        raise
    except Exception as exc:  # rasterio/GDAL raise several unrelated classes for bad files
        _forget(layer)
        raise _fail(layer, exc) from exc
    out = np.full((height, width), np.nan, dtype=np.float32)
    if layer.scale == 1.0 and layer.offset == 0.0:
        np.copyto(out, values, where=valid, casting="unsafe")
    else:
        scaled = values.astype(np.float64) * layer.scale + layer.offset  # DN exact in float64
        np.copyto(out, scaled, where=valid, casting="unsafe")
    return out


def _read_warped(
    src: rasterio.io.DatasetReader, layer: Layer, grid: Grid, window: WindowSpec, *, nearest: bool
) -> tuple[npt.NDArray[np.floating[Any]], npt.NDArray[np.bool_]]:
    """A file in another CRS or on an unrelated grid: GDAL warp of just this window
    (bilinear when upsampling, average when downsampling)."""
    is_float = np.dtype(src.dtypes[layer.index - 1]).kind == "f"
    resampling = Resampling.average if src.res[0] < grid.resolution else Resampling.bilinear
    if nearest:
        resampling = Resampling.nearest
    src_nodata = layer.nodata if layer.nodata is not None else (np.nan if is_float else None)
    with WarpedVRT(
        src, crs=grid.crs, transform=grid.affine, width=grid.width, height=grid.height,
        resampling=resampling, src_nodata=src_nodata, nodata=np.nan, dtype="float32",
    ) as vrt:  # fmt: skip
        data = vrt.read(layer.index, window=Window(window[1], window[0], window[3], window[2]))
    return data, np.isfinite(data)


def read_categorical(layer: Layer, grid: Grid, window: WindowSpec) -> U8:
    """``window`` of a class layer (SCL) on ``grid``, nearest-neighbour; 0 where no data."""
    height, width = window[2], window[3]
    nodata = 0.0 if layer.nodata is None else layer.nodata
    class_layer = Layer(layer.path, layer.index, layer.band, layer.when, nodata=nodata,
                        stamp=layer.stamp)  # fmt: skip
    try:
        src = _open(layer)
        place = _placement(src, grid)
        if place is not None:
            values, valid = _read_placed(src, class_layer, place, window, nearest=True)
        else:
            with WarpedVRT(
                src, crs=grid.crs, transform=grid.affine, width=grid.width, height=grid.height,
                resampling=Resampling.nearest, src_nodata=nodata, nodata=0, dtype="uint8",
            ) as vrt:  # fmt: skip
                data = vrt.read(layer.index, window=Window(window[1], window[0], width, height))
            values, valid = data.astype(np.float64), data != 0
    except InputError:
        raise
    except Exception as exc:
        _forget(layer)
        raise _fail(layer, exc) from exc
    out = np.zeros((height, width), dtype=np.uint8)
    np.copyto(out, values, where=valid, casting="unsafe")
    return out


def reflectance_block(layers: tuple[tuple[Layer, ...], ...], grid: Grid, window: WindowSpec) -> F32:
    """One cube block ``(1, band, y, x)``: every band of one date, mosaicked over its files."""
    out = np.full((1, len(layers), window[2], window[3]), np.nan, dtype=np.float32)
    for b, files in enumerate(layers):
        for layer in files:
            values = read_continuous(layer, grid, window)
            np.copyto(out[0, b], values, where=np.isnan(out[0, b]))
    return out


def categorical_block(layers: tuple[Layer, ...], grid: Grid, window: WindowSpec) -> U8:
    """One SCL block ``(1, y, x)`` mosaicked over the date's files (0 = no data)."""
    out = np.zeros((1, window[2], window[3]), dtype=np.uint8)
    for layer in layers:
        values = read_categorical(layer, grid, window)
        np.copyto(out[0], values, where=out[0] == 0)
    return out


def continuous_block(layers: tuple[Layer, ...], grid: Grid, window: WindowSpec) -> F32:
    """One single-band block ``(1, y, x)`` (e.g. cloud probability) mosaicked over files."""
    out = np.full((1, window[2], window[3]), np.nan, dtype=np.float32)
    for layer in layers:
        values = read_continuous(layer, grid, window)
        np.copyto(out[0], values, where=np.isnan(out[0]))
    return out


def _windows(grid: Grid, chunks: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    return block_starts(grid.height, chunks), block_starts(grid.width, chunks)


def lazy_reflectance(
    layers: Sequence[Sequence[Sequence[Layer]]], grid: Grid, chunks: int
) -> da.Array:
    """``(time, band, y, x)`` float32 dask array; ``layers[t][b]`` are the files of date ``t``
    and band ``b``. Chunks: one date, all bands, ``chunks`` pixels in y and x."""
    frozen = tuple(tuple(tuple(files) for files in per_band) for per_band in layers)
    rows, cols = _windows(grid, chunks)
    name = "s2-reflectance-" + tokenize(frozen, grid, chunks)
    dsk: dict[Any, Any] = {
        (name, t, 0, i, j): (reflectance_block, frozen[t], grid, (r0, c0, h, w))
        for t in range(len(frozen))
        for i, (r0, h) in enumerate(rows)
        for j, (c0, w) in enumerate(cols)
    }
    nbands = len(frozen[0]) if frozen else 0
    chunk_spec = (
        (1,) * len(frozen),
        (nbands,),
        tuple(h for _, h in rows),
        tuple(w for _, w in cols),
    )
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=())
    meta = np.empty((0, 0, 0, 0), dtype=np.float32)
    return da.Array(graph, name, chunks=chunk_spec, dtype=np.float32, meta=meta)


def lazy_single(
    layers: Sequence[Sequence[Layer]], grid: Grid, chunks: int, *, categorical: bool
) -> da.Array:
    """``(time, y, x)`` dask array of one layer per date: uint8 classes (``categorical``) or
    float32 values."""
    frozen = tuple(tuple(files) for files in layers)
    rows, cols = _windows(grid, chunks)
    func = categorical_block if categorical else continuous_block
    dtype = np.uint8 if categorical else np.float32
    name = ("s2-classes-" if categorical else "s2-layer-") + tokenize(frozen, grid, chunks)
    dsk: dict[Any, Any] = {
        (name, t, i, j): (func, frozen[t], grid, (r0, c0, h, w))
        for t in range(len(frozen))
        for i, (r0, h) in enumerate(rows)
        for j, (c0, w) in enumerate(cols)
    }
    chunk_spec = ((1,) * len(frozen), tuple(h for _, h in rows), tuple(w for _, w in cols))
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=())
    return da.Array(graph, name, chunks=chunk_spec, dtype=dtype, meta=np.empty((0, 0, 0), dtype))


def file_stamp(path: Path) -> tuple[int, int]:
    """(size, mtime_ns) of a file, (0, 0) when it cannot be stat'ed."""
    try:
        stat = os.stat(path)
    except OSError:
        return 0, 0
    return int(stat.st_size), int(stat.st_mtime_ns)
