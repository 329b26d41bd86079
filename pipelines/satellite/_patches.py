"""Tiled labelling of change patches and their polygons (used by :mod:`.change`).

Connected components are labelled tile by tile with :func:`scipy.ndimage.label` and joined across
tile edges through the edge-pixel pairs, so the result does not depend on the tiling; see the
module docstring of :mod:`pipelines.satellite.change` for the memory bound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dask.array as da
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
import xarray as xr
from affine import Affine
from dask.base import compute
from pyproj import Transformer
from rasterio import features
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mrv.units import ha_to_mu, tc_to_tco2e
from pipelines.satellite.classes import LandCoverClass
from pipelines.satellite.cube import Grid

if TYPE_CHECKING:
    from pipelines.satellite.change import ChangeSpec

NO_CHANGE = 0
INDEX_DROP = 1
CLASS_CHANGE = 2
BOTH = 3
NO_DATA = 255
CHANGE_CODES: dict[int, str] = {
    NO_CHANGE: "no_change",
    INDEX_DROP: "index_drop",
    CLASS_CHANGE: "class_change",
    BOTH: "index_drop_and_class_change",
    NO_DATA: "no_data",
}
"""Codes of the uint8 change raster."""

N_CLASS_CODES = 256  # class codes are uint8


@dataclass(frozen=True)
class Layers:
    """Lazy per-pixel inputs of the patch scan."""

    grid: Grid
    codes: xr.DataArray
    drop: da.Array
    classes_before: da.Array | None
    classes_after: da.Array | None
    density: da.Array | None


def regular_chunks(n: int, size: int) -> tuple[int, ...]:
    """Chunk sizes of ``size`` covering ``n`` (the last one shorter)."""
    full, rest = divmod(n, size)
    return (size,) * full + ((rest,) if rest else ())


def structure(connectivity: int) -> npt.NDArray[np.bool_]:
    """The scipy.ndimage neighbourhood of 8- or 4-connectivity."""
    return ndimage.generate_binary_structure(2, 2 if connectivity == 8 else 1)


@dataclass
class _Scan:
    stats: pd.DataFrame
    """One row per (raw component, code, class before, class after) of candidate components."""
    node_comp: npt.NDArray[np.intp]
    """Merged component of each candidate (indexed like ``cand_gid``)."""
    cand_gid: npt.NDArray[np.int64]
    comp_keep: npt.NDArray[np.bool_]
    comp_px: npt.NDArray[np.float64]
    comp_first: npt.NDArray[np.int64]
    poly_gid: npt.NDArray[np.int64]
    polys: npt.NDArray[np.object_]
    changed_px: int
    nodata_px: int
    crosstab: npt.NDArray[np.int64] | None
    kept_local: dict[tuple[int, int], npt.NDArray[np.int32]]
    tile_chunks: tuple[tuple[int, ...], tuple[int, ...]]


def _tile_sizes(n: int, tile: int, chunks: tuple[int, ...]) -> tuple[int, ...]:
    """Tile lengths along one axis, aligned to the dask chunks when they are regular."""
    step = chunks[0] if chunks else tile
    if len(set(chunks[:-1])) <= 1 and step <= tile:
        tile = max(1, tile // step) * step
    return regular_chunks(n, tile)


def scan(
    layers: Layers, spec: ChangeSpec, *, min_px: int, tile_px: int, pixel_area_ha: float
) -> _Scan:
    grid = layers.grid
    height, width = grid.height, grid.width
    codes_da: da.Array = layers.codes.data
    ty = _tile_sizes(height, tile_px, codes_da.chunks[0])
    tx = _tile_sizes(width, tile_px, codes_da.chunks[1])
    y0s = np.concatenate([[0], np.cumsum(ty)]).astype(int)
    x0s = np.concatenate([[0], np.cumsum(tx)]).astype(int)
    neighbours = structure(spec.connectivity)
    has_classes = layers.classes_before is not None
    crosstab = np.zeros(N_CLASS_CODES * N_CLASS_CODES, np.int64) if has_classes else None
    zeros_u8 = da.zeros((height, width), dtype=np.uint8, chunks=codes_da.chunks)
    nan_f32 = da.full((height, width), np.nan, dtype=np.float32, chunks=codes_da.chunks)
    cb_all = layers.classes_before if layers.classes_before is not None else zeros_u8
    ca_all = layers.classes_after if layers.classes_after is not None else zeros_u8
    dens_all = layers.density if layers.density is not None else nan_f32

    cand_gid: list[npt.NDArray[np.int64]] = []
    cand_px: list[npt.NDArray[np.int64]] = []
    cand_first: list[npt.NDArray[np.int64]] = []
    stat_parts: list[pd.DataFrame] = []
    poly_gid: list[npt.NDArray[np.int64]] = []
    polys: list[npt.NDArray[np.object_]] = []
    strips: dict[tuple[int, int], dict[str, npt.NDArray[np.int64]]] = {}
    tile_offsets: dict[tuple[int, int], tuple[int, int]] = {}
    offset = 0
    changed_total = nodata_total = 0
    for i in range(len(ty)):
        for j in range(len(tx)):
            r0, r1, c0, c1 = int(y0s[i]), int(y0s[i + 1]), int(x0s[j]), int(x0s[j + 1])
            win = (slice(r0, r1), slice(c0, c1))
            c, d, b, a, dens = compute(
                codes_da[win], layers.drop[win], cb_all[win], ca_all[win], dens_all[win]
            )
            changed = (c >= INDEX_DROP) & (c <= BOTH)
            changed_total += int(np.count_nonzero(changed))
            nodata_total += int(np.count_nonzero(c == NO_DATA))
            if crosstab is not None:
                pair = b.astype(np.int32) * N_CLASS_CODES + a.astype(np.int32)
                crosstab += np.bincount(pair.ravel(), minlength=N_CLASS_CODES * N_CLASS_CODES)
            labels, n = ndimage.label(changed, structure=neighbours)
            tile_offsets[(r0, c0)] = (offset, n)
            # copies, so that no view keeps the tile's label array alive
            strips[(i, j)] = {
                side: np.where(strip > 0, strip.astype(np.int64) + offset, 0)
                for side, strip in (
                    ("top", labels[0]), ("bottom", labels[-1]),
                    ("left", labels[:, 0]), ("right", labels[:, -1]),
                )
            }  # fmt: skip
            sizes = np.bincount(labels.ravel(), minlength=n + 1)
            cand = sizes >= min_px
            interior = [
                (i > 0, labels[0]),
                (i < len(ty) - 1, labels[-1]),
                (j > 0, labels[:, 0]),
                (j < len(tx) - 1, labels[:, -1]),
            ]
            for inside, strip in interior:
                if inside:
                    cand[strip] = True
            cand[0] = False
            ids = np.flatnonzero(cand)
            if ids.size:
                mask = cand[labels]
                flat = np.flatnonzero(mask)
                lab = labels.ravel()[flat].astype(np.int64)
                _, first_at = np.unique(lab, return_index=True)  # labels in order = ids
                rows, cols = np.divmod(flat[first_at], c1 - c0)
                cand_gid.append(ids.astype(np.int64) + offset)
                cand_px.append(sizes[ids].astype(np.int64))
                cand_first.append((rows + r0).astype(np.int64) * width + (cols + c0))
                stat_parts.append(
                    _pixel_stats(
                        lab + offset,
                        c.ravel()[flat],
                        b.ravel()[flat],
                        a.ravel()[flat],
                        d.ravel()[flat],
                        dens.ravel()[flat],
                        pixel_area_ha,
                    )
                )
                values, pieces = _polygonize(np.where(mask, labels, 0), mask, r0, c0)
                polys.append(pieces)
                poly_gid.append(values + offset)
            offset += n

    gids = np.concatenate(cand_gid) if cand_gid else np.zeros(0, np.int64)
    px = np.concatenate(cand_px) if cand_px else np.zeros(0, np.int64)
    first = np.concatenate(cand_first) if cand_first else np.zeros(0, np.int64)
    edges = _edge_pairs(strips, len(ty), len(tx), spec.connectivity)
    u = np.searchsorted(gids, edges[:, 0])
    v = np.searchsorted(gids, edges[:, 1])
    graph = coo_matrix((np.ones(u.size, np.int8), (u, v)), shape=(gids.size, gids.size))
    n_comp, node_comp = connected_components(graph, directed=False)
    comp_px = np.bincount(node_comp, weights=px, minlength=n_comp).astype(np.float64)
    comp_first = np.full(n_comp, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(comp_first, node_comp, first)
    comp_keep = comp_px >= min_px

    kept_gid = gids[comp_keep[node_comp]]
    kept_local: dict[tuple[int, int], npt.NDArray[np.int32]] = {}
    for key, (off, n) in tile_offsets.items():
        lo, hi = np.searchsorted(kept_gid, [off + 1, off + n + 1])
        kept_local[key] = (kept_gid[lo:hi] - off).astype(np.int32)
    stats = pd.concat(stat_parts, ignore_index=True) if stat_parts else _pixel_stats_empty()
    return _Scan(
        stats=stats,
        node_comp=node_comp.astype(np.intp),
        cand_gid=gids,
        comp_keep=comp_keep,
        comp_px=comp_px,
        comp_first=comp_first,
        poly_gid=np.concatenate(poly_gid) if poly_gid else np.zeros(0, np.int64),
        polys=np.concatenate(polys) if polys else np.empty(0, dtype=object),
        changed_px=changed_total,
        nodata_px=nodata_total,
        crosstab=None if crosstab is None else crosstab.reshape(N_CLASS_CODES, N_CLASS_CODES),
        kept_local=kept_local,
        tile_chunks=(ty, tx),
    )


def _polygonize(
    labels: npt.NDArray[np.integer[Any]], mask: npt.NDArray[np.bool_], row0: int, col0: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """Polygons of equal-label 4-connected pixel groups, in global pixel coordinates.

    The GeoJSON-like rings of :func:`rasterio.features.shapes` are gathered into one coordinate
    array and built with :func:`shapely.from_ragged_array` (3-4× faster than one ``shape()`` per
    polygon).
    """
    coords: list[tuple[float, float]] = []
    ring_sizes: list[int] = []
    rings_per_polygon: list[int] = []
    values: list[float] = []
    for geom, value in features.shapes(
        labels.astype(np.int32), mask=mask, connectivity=4, transform=Affine.translation(col0, row0)
    ):
        rings = geom["coordinates"]
        for ring in rings:
            coords.extend(ring)
            ring_sizes.append(len(ring))
        rings_per_polygon.append(len(rings))
        values.append(value)
    if not values:
        return np.zeros(0, np.int64), np.empty(0, dtype=object)
    ring_offsets = np.concatenate([[0], np.cumsum(ring_sizes)])
    polygon_offsets = np.concatenate([[0], np.cumsum(rings_per_polygon)])
    geoms = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON,
        np.asarray(coords, dtype=np.float64),
        (ring_offsets, polygon_offsets),
    )
    return np.asarray(values, dtype=np.int64), geoms


def _pixel_stats(
    gid: npt.NDArray[np.int64],
    code: npt.NDArray[np.uint8],
    cb: npt.NDArray[np.uint8],
    ca: npt.NDArray[np.uint8],
    drop: npt.NDArray[np.float32],
    dens: npt.NDArray[np.floating[Any]],
    pixel_area_ha: float,
) -> pd.DataFrame:
    """Sums per (component, code, class before, class after) over the given pixels."""
    key = ((gid * 4 + code.astype(np.int64)) * N_CLASS_CODES + cb) * N_CLASS_CODES + ca
    uniq, inv = np.unique(key, return_inverse=True)
    finite_drop = np.isfinite(drop)
    finite_dens = np.isfinite(dens)
    carbon = np.where(finite_dens, np.maximum(dens.astype(np.float64), 0.0), 0.0) * pixel_area_ha
    rest, ca_u = np.divmod(uniq, N_CLASS_CODES)
    rest, cb_u = np.divmod(rest, N_CLASS_CODES)
    gid_u, code_u = np.divmod(rest, 4)
    return pd.DataFrame(
        {
            "gid": gid_u,
            "code": code_u,
            "from_class": cb_u,
            "to_class": ca_u,
            "pixels": np.bincount(inv),
            "carbon_t": np.bincount(inv, weights=carbon),
            "no_density_px": np.bincount(inv, weights=~finite_dens),
            "drop_sum": np.bincount(inv, weights=np.where(finite_drop, drop, 0.0)),
            "drop_n": np.bincount(inv, weights=finite_drop),
        }
    )


def _pixel_stats_empty() -> pd.DataFrame:
    empty = np.zeros(0, np.int64)
    return _pixel_stats(
        empty,
        empty.astype(np.uint8),
        empty.astype(np.uint8),
        empty.astype(np.uint8),
        empty.astype(np.float32),
        empty.astype(np.float32),
        1.0,
    )


def _edge_pairs(
    strips: Mapping[tuple[int, int], Mapping[str, npt.NDArray[np.int64]]],
    n_rows: int,
    n_cols: int,
    connectivity: int,
) -> npt.NDArray[np.int64]:
    """Pairs of component ids that touch across tile edges (and corners for 8-connectivity)."""
    pairs: list[npt.NDArray[np.int64]] = []

    def _touching(p: npt.NDArray[np.int64], q: npt.NDArray[np.int64]) -> None:
        shifts = (0, 1, -1) if connectivity == 8 else (0,)
        for s in shifts:
            a = p[max(0, -s) : len(p) - max(0, s)]
            b = q[max(0, s) : len(q) - max(0, -s)]
            both = (a > 0) & (b > 0)
            pairs.append(np.column_stack([a[both], b[both]]))

    for i in range(n_rows):
        for j in range(n_cols):
            here = strips[(i, j)]
            if j + 1 < n_cols:
                _touching(here["right"], strips[(i, j + 1)]["left"])
            if i + 1 < n_rows:
                _touching(here["bottom"], strips[(i + 1, j)]["top"])
            if connectivity == 8 and i + 1 < n_rows:
                if j + 1 < n_cols:
                    _touching(here["bottom"][-1:], strips[(i + 1, j + 1)]["top"][:1])
                if j > 0:
                    _touching(here["bottom"][:1], strips[(i + 1, j - 1)]["top"][-1:])
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64)


# --------------------------------------------------------------------------------------------
# patches: attributes, geometry, summary by transition


def class_names(table: Sequence[LandCoverClass]) -> dict[int, str]:
    return {c.code: c.name for c in table}


def patches(
    scan: _Scan, layers: Layers, spec: ChangeSpec, grid: Grid, pixel_area_ha: float
) -> tuple[gpd.GeoDataFrame, list[dict[str, Any]]]:
    kept_comp = np.flatnonzero(scan.comp_keep)
    order = np.lexsort((scan.comp_first[kept_comp], -scan.comp_px[kept_comp]))
    patch_of_comp = np.zeros(scan.comp_keep.size, np.int64)
    patch_of_comp[kept_comp[order]] = np.arange(1, kept_comp.size + 1)
    n_patches = kept_comp.size

    stats = scan.stats
    node = np.searchsorted(scan.cand_gid, stats["gid"].to_numpy())
    stats = stats.assign(patch=patch_of_comp[scan.node_comp[node]])
    stats = stats[stats["patch"] > 0]
    has_classes = layers.classes_before is not None
    has_density = layers.density is not None
    names = class_names(spec.classes)

    per = stats.groupby("patch").agg(
        pixels=("pixels", "sum"),
        carbon_t=("carbon_t", "sum"),
        no_density_px=("no_density_px", "sum"),
        drop_sum=("drop_sum", "sum"),
        drop_n=("drop_n", "sum"),
    )
    code = stats["code"].to_numpy()
    flags = stats.assign(
        drop_px=np.where((code == INDEX_DROP) | (code == BOTH), stats["pixels"], 0),
        class_px=np.where((code == CLASS_CHANGE) | (code == BOTH), stats["pixels"], 0),
    )
    per = per.join(flags.groupby("patch")[["drop_px", "class_px"]].sum())
    per = per.reindex(np.arange(1, n_patches + 1))

    # dominant (from, to) pair: over class-change pixels when the patch has any, else all pixels
    pairs = (
        stats.assign(moved=(code == CLASS_CHANGE) | (code == BOTH))
        .groupby(["patch", "moved", "from_class", "to_class"])[["pixels"]]
        .sum()
        .reset_index()
        .sort_values(
            ["patch", "moved", "pixels", "from_class", "to_class"],
            ascending=[True, False, False, True, True],
        )
        .drop_duplicates("patch")
        .set_index("patch")
        .reindex(per.index)
    )

    pixels = per["pixels"].to_numpy(np.int64)
    area_ha = pixels * pixel_area_ha
    drop_px = per["drop_px"].to_numpy(np.int64)
    class_px = per["class_px"].to_numpy(np.int64)
    kind = np.where(
        (drop_px > 0) & (class_px > 0), "both", np.where(drop_px > 0, "index_drop", "class_change")
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_drop = per["drop_sum"].to_numpy() / per["drop_n"].to_numpy()
    carbon = per["carbon_t"].to_numpy(np.float64) if has_density else np.full(n_patches, np.nan)
    from_class = pairs["from_class"].to_numpy(np.int64)
    to_class = pairs["to_class"].to_numpy(np.int64)
    geoms = _patch_geometries(scan, patch_of_comp, n_patches, grid)
    centroids = shapely.centroid(geoms)
    to_wgs84 = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(shapely.get_x(centroids), shapely.get_y(centroids))
    frame = gpd.GeoDataFrame(
        {
            "patch_id": np.arange(1, n_patches + 1, dtype=np.int64),
            "kind": kind.astype(object),
            "index_drop": drop_px > 0,
            "class_change": class_px > 0,
            "from_class": from_class,
            "from_name": [names.get(int(c)) if has_classes else None for c in from_class],
            "to_class": to_class,
            "to_name": [names.get(int(c)) if has_classes else None for c in to_class],
            "pixels": pixels,
            "area_ha": area_ha,
            "area_mu": ha_to_mu(area_ha.astype(np.float64)),
            "mean_index_drop": mean_drop.astype(np.float64),
            "carbon_lost_t": carbon,
            "carbon_lost_tco2e": tc_to_tco2e(carbon),
            "area_without_density_ha": per["no_density_px"].to_numpy(np.float64) * pixel_area_ha,
            "centroid_lon": np.asarray(lon, dtype=np.float64),
            "centroid_lat": np.asarray(lat, dtype=np.float64),
        },
        geometry=geoms,
        crs=grid.crs,
    )

    trans = (
        stats.groupby(["from_class", "to_class"])[["pixels", "carbon_t"]]
        .sum()
        .reset_index()
        .sort_values(["pixels", "from_class", "to_class"], ascending=[False, True, True])
    )
    columns = (
        trans["from_class"].to_numpy(np.int64),
        trans["to_class"].to_numpy(np.int64),
        trans["pixels"].to_numpy(np.int64),
        trans["carbon_t"].to_numpy(np.float64),
    )
    by_transition = [
        {
            "from_class": int(f),
            "from_name": names.get(int(f)) if has_classes else None,
            "to_class": int(t),
            "to_name": names.get(int(t)) if has_classes else None,
            "pixels": int(n),
            "area_ha": int(n) * pixel_area_ha,
            "carbon_lost_t": float(cs) if has_density else None,
        }
        for f, t, n, cs in zip(*columns, strict=True)
    ]
    return frame, by_transition


def _patch_geometries(
    scan: _Scan, patch_of_comp: npt.NDArray[np.int64], n_patches: int, grid: Grid
) -> npt.NDArray[np.object_]:
    """Union of each patch's pieces in pixel coordinates, then mapped to the grid CRS."""
    geoms = np.empty(n_patches, dtype=object)
    if n_patches == 0:
        return geoms
    node = np.searchsorted(scan.cand_gid, scan.poly_gid)
    patch = patch_of_comp[scan.node_comp[node]]
    keep = patch > 0
    patch = patch[keep]
    pieces = scan.polys[keep]
    order = np.argsort(patch, kind="stable")
    patch, pieces = patch[order], pieces[order]
    starts = np.searchsorted(patch, np.arange(1, n_patches + 1))
    ends = np.searchsorted(patch, np.arange(1, n_patches + 1), side="right")
    for k, (s, e) in enumerate(zip(starts, ends, strict=True)):
        geoms[k] = pieces[s] if e - s == 1 else shapely.union_all(pieces[s:e])
    a, b, c, d, e_, f = grid.transform

    def _to_crs(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        col, row = xy[:, 0], xy[:, 1]
        return np.column_stack([a * col + b * row + c, d * col + e_ * row + f])

    return shapely.transform(geoms, _to_crs)


# --------------------------------------------------------------------------------------------
# wetland balance
