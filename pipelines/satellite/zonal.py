"""Zonal totals of a density raster (t C/ha) per parcel polygon or per stratum class.

A pixel belongs to the zone that contains its centre (GDAL's rasterisation rule): parcels are
burnt once into a lazy integer id raster (block by block, each block receiving only the polygons
that intersect it), a class raster is its own id raster. Every block then contributes three
``np.bincount`` s — pixels, pixels with a density value, and the sum of densities — which dask
adds up; memory is bounded by the block size and the number of zones, never by the area.

Per zone: ``area_ha`` = pixels × pixel area; ``mapped_area_ha`` = pixels with a density value
× pixel area; ``mean_tc_per_ha`` = mean density over mapped pixels; ``total_tc`` = Σ density ×
pixel area over mapped pixels (unmapped pixels — clouds, no features — add nothing, and show up
as ``area_ha − mapped_area_ha``). Totals are therefore additive: over any partition of the AOI
the zone totals sum to the AOI total. For parcels, ``polygon_area_ha`` is the polygon's own area
in the project's area CRS (:data:`mrv.geo.AREA_CRS`), to compare with the pixel count: small or
thin parcels differ most (a parcel that contains no pixel centre gets no pixels at all).
Where parcels overlap, a shared pixel counts for the later parcel only.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt
import pandas as pd
import xarray as xr
from affine import Affine
from dask.base import compute as dask_compute
from dask.delayed import delayed

from mrv.errors import InputError, Problem
from mrv.geo import AREA_CRS
from pipelines.satellite.cube import Grid, grid_attrs, grid_of

DEFAULT_CHUNK = 512
_RASTERIZE_LOCK = threading.Lock()
"""rasterio wraps its in-memory datasets in ``warnings.catch_warnings()``, which is not
thread-safe: concurrent calls from dask threads can restore each other's filters mid-call and
let a spurious ``NotGeoreferencedWarning`` through (an error under ``-W error``). Burning is
cheap next to the bincounts, so the calls are serialised."""
ZONAL_COLUMNS = (
    "zone", "pixels", "area_ha", "mapped_area_ha", "polygon_area_ha", "mean_tc_per_ha", "total_tc",
)  # fmt: skip


def pixel_area_of(grid: Grid) -> float:
    """Pixel area in hectares; the grid CRS must be projected in metres."""
    from pyproj import CRS

    crs = CRS.from_user_input(grid.crs)
    units = {ax.unit_name for ax in crs.axis_info}
    if crs.is_geographic or not units <= {"metre", "meter"}:
        raise InputError(
            f"pixel area cannot be derived from CRS {grid.crs} (not projected in metres); "
            "pass pixel_area_ha"
        )
    return grid.pixel_area_ha


def _dask_2d(arr: xr.DataArray, name: str) -> da.Array:
    if arr.dims != ("y", "x"):
        raise InputError(f"{name} dims are {arr.dims}, expected ('y', 'x')")
    data = arr.data
    if isinstance(data, da.Array):
        return data
    return da.from_array(np.asarray(data), chunks=(DEFAULT_CHUNK, DEFAULT_CHUNK))


def _polygons_in(zones: Any, crs: str) -> Any:
    """Zone geometries in ``crs`` (made valid); non-polygons raise :class:`InputError`."""
    import shapely

    if zones.crs is None:
        raise InputError("zone polygons have no CRS")
    kinds = zones.geom_type.to_numpy()
    bad = [
        str(i)
        for i, k in zip(zones.index, kinds, strict=True)
        if k not in ("Polygon", "MultiPolygon")
    ]
    if bad:
        raise InputError(
            f"{len(bad)} zone(s) are not polygons",
            [Problem(reason="not a polygon", feature=i) for i in bad],
        )
    geoms = zones.geometry.to_crs(crs).to_numpy()
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
    return geoms


def _burn(
    geoms: npt.NDArray[np.object_], ids: npt.NDArray[np.int32], shape: tuple[int, int],
    transform: tuple[float, ...],
) -> npt.NDArray[np.int32]:  # fmt: skip
    """Rasterise polygons (pixel centres inside) with their ids into a block; 0 elsewhere."""
    from rasterio.features import rasterize

    shapes = zip(geoms, (int(i) for i in ids), strict=True)
    with _RASTERIZE_LOCK:
        return rasterize(
            shapes, out_shape=shape, transform=Affine(*transform), fill=0, dtype="int32",
            all_touched=False,
        )  # fmt: skip


def rasterize_zones(zones: Any, like: xr.DataArray) -> xr.DataArray:
    """Lazy int32 raster of zone numbers on ``like``'s grid and chunks.

    Zone number ``i + 1`` is the ``i``-th row of ``zones`` (a polygon GeoDataFrame with a CRS);
    0 is outside every polygon. Each block is burnt once, with only the polygons whose bounds
    intersect it (one vectorised STRtree query for all blocks).
    """
    import shapely

    grid = grid_of(like)
    data = _dask_2d(like, "raster")
    geoms = _polygons_in(zones, grid.crs)
    ids = np.arange(1, len(geoms) + 1, dtype=np.int32)
    y_off = np.concatenate([[0], np.cumsum(data.chunks[0])])
    x_off = np.concatenate([[0], np.cumsum(data.chunks[1])])
    a = grid.affine
    boxes, windows = [], []
    for i in range(len(data.chunks[0])):
        for j in range(len(data.chunks[1])):
            r0, r1, c0, c1 = int(y_off[i]), int(y_off[i + 1]), int(x_off[j]), int(x_off[j + 1])
            (xa, ya), (xb, yb) = a @ (c0, r0), a @ (c1, r1)
            boxes.append(shapely.box(min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)))
            windows.append((i, j, r0, r1, c0, c1))
    block_idx, geom_idx = shapely.STRtree(geoms).query(np.asarray(boxes), predicate="intersects")
    order = np.argsort(block_idx, kind="stable")
    starts = np.searchsorted(block_idx[order], np.arange(len(boxes) + 1))
    rows: list[list[da.Array]] = [[] for _ in data.chunks[0]]
    for b, (i, _j, r0, r1, c0, c1) in enumerate(windows):
        shape = (r1 - r0, c1 - c0)
        members = geom_idx[order[starts[b] : starts[b + 1]]]
        if members.size == 0:
            rows[i].append(da.zeros(shape, dtype=np.int32, chunks=shape))
            continue
        window_transform = tuple(a @ Affine.translation(c0, r0))[:6]
        block = delayed(_burn, pure=True)(geoms[members], ids[members], shape, window_transform)
        rows[i].append(da.from_delayed(block, shape=shape, dtype=np.int32))
    coords = {c: like.coords[c] for c in ("y", "x") if c in like.coords}
    return xr.DataArray(da.block(rows), dims=("y", "x"), coords=coords, attrs=grid_attrs(grid))


def _block_stats(ids: npt.NDArray[np.integer[Any]], dens: npt.NDArray[np.floating[Any]],
                 n_bins: int) -> npt.NDArray[np.float64]:  # fmt: skip
    """``(1, 1, 3, n_bins)``: pixels, mapped pixels and density sum per zone id in a block."""
    z = ids.ravel().astype(np.intp)
    d = dens.ravel()
    ok = np.isfinite(d)
    out = np.empty((1, 1, 3, n_bins))
    out[0, 0, 0] = np.bincount(z, minlength=n_bins)
    out[0, 0, 1] = np.bincount(z[ok], minlength=n_bins)
    out[0, 0, 2] = np.bincount(z[ok], weights=d[ok].astype(np.float64), minlength=n_bins)
    return out


def zone_sums(ids: da.Array, density: da.Array, n_bins: int) -> da.Array:
    """Lazy ``(3, n_bins)`` per-id pixel count, mapped count and density sum (aligned chunks)."""
    ids = ids.rechunk(density.chunks)
    nby, nbx = len(density.chunks[0]), len(density.chunks[1])
    per_block = da.map_blocks(
        _block_stats, ids, density, n_bins=n_bins, dtype=np.float64, new_axis=[2, 3],
        chunks=((1,) * nby, (1,) * nbx, (3,), (n_bins,)),
    )  # fmt: skip
    return per_block.sum(axis=(0, 1))


def _class_bins(zones: xr.DataArray, density: xr.DataArray) -> tuple[da.Array, int]:
    data = _dask_2d(zones, "class raster")
    if zones.shape != density.shape:
        raise InputError(f"class raster shape {zones.shape} differs from density {density.shape}")
    if "transform" in zones.attrs or "crs" in zones.attrs:
        zg, dg = grid_of(zones), grid_of(density)
        if zg.crs != dg.crs or not np.allclose(zg.transform, dg.transform):
            raise InputError("class raster and density are not on the same grid (crs/transform)")
    if not np.issubdtype(data.dtype, np.integer):
        raise InputError(f"class raster must hold integer codes, not {data.dtype}")
    if data.dtype.itemsize == 1 and not np.issubdtype(data.dtype, np.signedinteger):
        return data, 256
    low, high = (int(v) for v in dask_compute(data.min(), data.max()))
    if low < 0:
        raise InputError(f"class raster has negative codes (min {low})")
    return data, high + 1


def zonal_totals(
    density: xr.DataArray,
    zones: Any,
    *,
    pixel_area_ha: float | None = None,
    id_column: str | None = None,
    labels: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """Area, mean density and total carbon per zone (see the module docstring).

    ``zones`` is a polygon GeoDataFrame (parcels; ``zone`` is ``id_column`` or the index) or an
    integer class raster on the density grid (strata; ``zone`` is the class code, 0 = no data is
    left out; ``labels`` name the codes and list codes to report even without pixels).
    ``pixel_area_ha`` defaults to the grid's pixel area (projected CRS in metres).
    """
    grid = grid_of(density)
    area = pixel_area_ha if pixel_area_ha is not None else pixel_area_of(grid)
    dens = _dask_2d(density, "density")
    if isinstance(zones, xr.DataArray):
        ids, n_bins = _class_bins(zones, density)
        counted = zone_sums(ids, dens, n_bins).compute()
        present = set(np.nonzero(counted[0] > 0)[0].tolist()) - {0}
        codes = np.array(sorted(present | {int(c) for c in labels or {} if c > 0}), dtype=np.intp)
        sums = np.zeros((3, max(n_bins, int(codes.max(initial=0)) + 1)))
        sums[:, :n_bins] = counted
        frame = _frame(codes, sums[:, codes], area, np.full(codes.size, np.nan))
        if labels is not None:
            frame.insert(1, "label", [labels.get(int(c)) for c in codes])
        return frame
    if id_column is not None and id_column not in zones.columns:
        raise InputError(f"zone polygons have no column {id_column!r}")
    ids_da = rasterize_zones(zones, density).data
    n = len(zones)
    sums = zone_sums(ids_da, dens, n + 1).compute()
    names = zones[id_column].to_numpy() if id_column else zones.index.to_numpy()
    poly_area = zones.geometry.to_crs(AREA_CRS).area.to_numpy(np.float64) / 10_000.0
    return _frame(names, sums[:, 1:], area, poly_area)


def _frame(
    names: npt.NDArray[Any], sums: npt.NDArray[np.float64], area: float,
    polygon_area: npt.NDArray[np.float64],
) -> pd.DataFrame:  # fmt: skip
    pixels, mapped, total = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(mapped > 0, total / mapped, np.nan)
    return pd.DataFrame(
        {
            "zone": names, "pixels": pixels.astype(np.int64), "area_ha": pixels * area,
            "mapped_area_ha": mapped * area, "polygon_area_ha": polygon_area,
            "mean_tc_per_ha": mean, "total_tc": total * area,
        }
    )  # fmt: skip
