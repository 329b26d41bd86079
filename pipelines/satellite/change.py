"""Change between two composites: disturbance patches with their area and carbon lost, and the
wetland no-net-loss (占补平衡) balance.

**Per-pixel change** (:func:`change_raster`, lazy): with ``I`` the spectral index of a composite
(default NDVI; formulas of :mod:`pipelines.satellite.indices`, reflectance clipped at 0 first), a
pixel has an *index drop* when both

    ΔI = I_before − I_after ≥ ``min_drop``   and   ΔI ≥ ``min_relative_drop`` × |I_before|

(the relative test is written without a division, so ``I_before = 0`` is harmless), and a *class
change* when both land-cover rasters have a class there (code ≠ 0) and the codes differ. Codes:
0 no change, 1 index drop, 2 class change, 3 both, 255 no data (``valid_count`` = 0 in either
composite; such a pixel is never a change, whatever its reflectance or classes say). A NaN index
where the composite has observations (e.g. a zero denominator) is "no index drop".

**Patches** (:func:`detect_change`): connected components (8- or 4-connectivity) of the changed
pixels; components smaller than the minimum patch size (default 0.1 ha = 10 px at 10 m) are
dropped. The raster is labelled tile by tile (``tile_px`` × ``tile_px``; a raster that fits one
tile is labelled whole) with :func:`scipy.ndimage.label`; components touching an interior tile
edge are joined across edges (including the diagonal neighbours at tile corners under
8-connectivity) by a connected-components pass over the edge-pixel pairs
(:func:`scipy.sparse.csgraph.connected_components`), so the result does not depend on the tiling.
Only components that may survive the size filter (large enough inside their tile, or touching an
interior edge) are kept after each tile; each is vectorised with
:func:`rasterio.features.shapes` in pixel coordinates (integers, so pieces from neighbouring tiles
meet exactly), pieces of one patch are unioned, then mapped to the grid CRS. Patch areas are
pixel counts × pixel area (projected; the polygon areas equal them exactly). A patch's ``kind`` is
``index_drop``, ``class_change`` or ``both`` (it holds pixels of both kinds); its ``from_class`` →
``to_class`` is the most frequent (before, after) class pair over its class-change pixels, or over
all its pixels when it has none (so an index-drop patch names the class it happened in).

**Memory.** One tile at a time is computed and held as numpy: about 26 bytes per pixel (uint8
codes and two uint8 class layers, float32 index drop, density, int32 labels, boolean masks, int32
polygonize input) plus about 60 bytes per *changed* pixel (flat indices, int64 keys and their
sort), plus the inputs' dask intermediates. Across tiles only copies of each tile's four edge
strips (O(perimeter)), one record per candidate component and per (component, code, class pair),
and the polygons are kept. Measured (2 cores, ~17 % of pixels changed, 18 k patches per 4096²):
peak RSS 0.49 GB for a 4096² raster and 0.6 GB for 8192² with the default 2048² tiles (0.17 GB
of it is the interpreter and libraries), 0.88 GB when a 4096² raster is labelled whole. So
whole-raster labelling is fine up to about 4096 × 4096 (16.8 M px); beyond that keep tiles
(``tile_px`` ≥ the dask chunk size; tiles are aligned to regular chunks). Each tile's inputs are
evaluated once; :meth:`ChangeResult.filtered_raster` re-evaluates them lazily (tile-aligned) when
it is written. Throughput about 5 M px/s including the evaluation of the index from the composites.

**Carbon lost** of a patch = Σ max(density_before, 0) × pixel area (t C) over its pixels with a
density: the whole pre-disturbance stock of a disturbed pixel is counted as lost and gains are
never netted (conservative for reversals and insurance claims); pixels without a density are
reported as ``area_without_density_ha``. CO2e = C × 44/12.

**Wetland balance** (:func:`wetland_area_change`): from the cross-tabulation of the class rasters
over pixels classified in both (code ≠ 0), for open water, wetland vegetation and their union:
area before and after, gained (not-the-category → the category), lost (the reverse), net = after −
before = gained − lost; ``no_net_loss`` is net ≥ 0 for the union (compared on pixel counts, so
exact). Moves between open water and wetland vegetation are no wetland loss.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dask.array as da
import geopandas as gpd
import numpy as np
import numpy.typing as npt
import xarray as xr
from pyproj import CRS
from scipy import ndimage

from mrv.errors import InputError
from mrv.units import tc_to_tco2e
from pipelines.satellite._patches import (
    BOTH,
    CHANGE_CODES,
    CLASS_CHANGE,
    INDEX_DROP,
    N_CLASS_CODES,
    NO_CHANGE,
    NO_DATA,
    Layers,
    class_names,
    patches,
    regular_chunks,
    scan,
    structure,
)
from pipelines.satellite.classes import DEFAULT_CLASSES, NODATA_CLASS, LandCoverClass, code_of
from pipelines.satellite.cube import Grid, grid_attrs, grid_of
from pipelines.satellite.indices import INDICES, compute_indices

_CODES = code_of(DEFAULT_CLASSES)
OPEN_WATER_CODES: tuple[int, ...] = (_CODES["open_water"],)
WETLAND_VEGETATION_CODES: tuple[int, ...] = (_CODES["wetland_vegetation"],)
WETLAND_CLASSES: Mapping[str, tuple[int, ...]] = {
    "open_water": OPEN_WATER_CODES,
    "wetland_vegetation": WETLAND_VEGETATION_CODES,
}
"""Default wetland categories of the no-net-loss rule → class codes (classes.py: 6 and 5)."""

INDEX_NAMES: tuple[str, ...] = tuple(INDICES)
"""Indices whose drop can mark a disturbance (pipelines.satellite.indices)."""

_DEFAULT_CHUNK = 2048


@dataclass(frozen=True)
class ChangeSpec:
    """What counts as a change and as a patch."""

    index: str = "NDVI"
    """Index whose drop is a disturbance: one of :data:`INDEX_NAMES` or the name of a (y, x)
    variable carried by both composites."""
    min_drop: float = 0.2
    """Minimum absolute drop ΔI = I_before − I_after."""
    min_relative_drop: float = 0.25
    """Minimum drop relative to |I_before| (0.25 = 25 %); 0 disables the relative test."""
    min_patch_ha: float = 0.1
    """Minimum patch area in ha (0.1 ha = 10 px at 10 m); ignored when ``min_patch_px`` is set."""
    min_patch_px: int | None = None
    """Minimum patch size in pixels (overrides ``min_patch_ha``)."""
    connectivity: int = 8
    """Pixel connectivity of a patch: 8 (queen) or 4 (rook)."""
    open_water_classes: tuple[int, ...] = OPEN_WATER_CODES
    """Class codes that are open water (wetland no-net-loss rule)."""
    wetland_vegetation_classes: tuple[int, ...] = WETLAND_VEGETATION_CODES
    """Class codes that are wetland vegetation."""
    classes: tuple[LandCoverClass, ...] = DEFAULT_CLASSES
    """Class table used to name ``from_class``/``to_class``."""

    def __post_init__(self) -> None:
        problems = []
        if not self.index.strip():
            problems.append("index must be named")
        if not (math.isfinite(self.min_drop) and self.min_drop > 0):
            problems.append(f"min_drop must be a positive number, got {self.min_drop}")
        if not (math.isfinite(self.min_relative_drop) and self.min_relative_drop >= 0):
            problems.append(f"min_relative_drop must be >= 0, got {self.min_relative_drop}")
        if not (math.isfinite(self.min_patch_ha) and self.min_patch_ha >= 0):
            problems.append(f"min_patch_ha must be >= 0, got {self.min_patch_ha}")
        if self.min_patch_px is not None and self.min_patch_px < 1:
            problems.append(f"min_patch_px must be >= 1, got {self.min_patch_px}")
        if self.connectivity not in (4, 8):
            problems.append(f"connectivity must be 4 or 8, got {self.connectivity}")
        codes = (*self.open_water_classes, *self.wetland_vegetation_classes)
        if any(not 1 <= c <= 254 for c in codes):
            problems.append("wetland class codes must be 1-254 (0 is no data)")
        if set(self.open_water_classes) & set(self.wetland_vegetation_classes):
            problems.append("a class cannot be both open water and wetland vegetation")
        if problems:
            raise InputError("invalid change spec: " + "; ".join(problems))

    def min_pixels(self, pixel_area_ha: float) -> int:
        """Minimum patch size in pixels on a grid with the given pixel area."""
        if self.min_patch_px is not None:
            return self.min_patch_px
        # 0.1 / 0.01 is 10.000000000000002 in floating point: allow for the rounding
        return max(1, math.ceil(self.min_patch_ha / pixel_area_ha - 1e-9))

    @property
    def wetland_classes(self) -> dict[str, tuple[int, ...]]:
        """Wetland categories → class codes, for :func:`wetland_area_change`."""
        return {
            "open_water": self.open_water_classes,
            "wetland_vegetation": self.wetland_vegetation_classes,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping of the settings (class table left out)."""
        return {
            "index": self.index,
            "min_drop": self.min_drop,
            "min_relative_drop": self.min_relative_drop,
            "min_patch_ha": self.min_patch_ha,
            "min_patch_px": self.min_patch_px,
            "connectivity": self.connectivity,
            "open_water_classes": list(self.open_water_classes),
            "wetland_vegetation_classes": list(self.wetland_vegetation_classes),
        }


@dataclass(frozen=True, eq=False)
class ChangeResult:
    """Change raster (lazy), disturbance patches and their summary."""

    raster: xr.DataArray
    """uint8 (y, x) per-pixel codes (:data:`CHANGE_CODES`), dask-backed, before the size filter."""
    polygons: gpd.GeoDataFrame
    """One row per patch (≥ the minimum size) in the grid CRS, largest first; columns
    ``patch_id, kind, index_drop, class_change, from_class, from_name, to_class, to_name,
    pixels, area_ha, area_mu, mean_index_drop, carbon_lost_t, carbon_lost_tco2e,
    area_without_density_ha, centroid_lon, centroid_lat, geometry``."""
    summary: dict[str, Any]
    """JSON-ready totals: see :func:`detect_change`."""
    spec: ChangeSpec
    grid: Grid
    _kept: Mapping[tuple[int, int], npt.NDArray[np.int32]] = field(repr=False)
    _tile_chunks: tuple[tuple[int, ...], tuple[int, ...]] = field(repr=False)

    def filtered_raster(self) -> xr.DataArray:
        """The change codes with pixels of patches below the minimum size set to 0 (lazy).

        Consistent with :attr:`polygons` pixel for pixel; what to write as the change COG.
        Each tile is relabelled exactly as in :func:`detect_change` (same windows, same labels)
        and its pixels kept by the recorded component numbers.
        """
        codes = self.raster.data.rechunk(self._tile_chunks)
        connectivity = structure(self.spec.connectivity)
        kept = self._kept

        def _filter(block: npt.NDArray[np.uint8], block_info: Any = None) -> Any:
            loc = block_info[0]["array-location"]
            keep = kept.get((int(loc[0][0]), int(loc[1][0])), np.zeros(0, np.int32))
            changed = (block >= INDEX_DROP) & (block <= BOTH)
            labels, n = ndimage.label(changed, structure=connectivity)
            lut = np.zeros(n + 1, dtype=bool)
            lut[keep] = True
            return np.where(changed & ~lut[labels], np.uint8(NO_CHANGE), block)

        out = codes.map_blocks(_filter, dtype=np.uint8)
        return self.raster.copy(data=out)

    def polygons_wgs84(self) -> gpd.GeoDataFrame:
        """The patches in WGS84 (EPSG:4326, lon/lat), e.g. for GeoJSON (RFC 7946)."""
        return self.polygons.to_crs("EPSG:4326")


def composite_index(composite: xr.Dataset, *, name: str = "NDVI") -> xr.DataArray:
    """Spectral index of a composite as a lazy float32 (y, x) array.

    A (y, x) variable called ``name`` in the composite is used as is; otherwise the formula of
    remote-sensing.md §5.3 (normalised differences, EVI = 2.5(N − R)/(N + 6R − 7.5B + 1)) on
    reflectance clipped at 0.
    """
    if name in composite.data_vars:
        var = composite[name]
        if set(var.dims) != {"y", "x"}:
            raise InputError(f"composite variable {name!r} must have dims (y, x), got {var.dims}")
        return var.transpose("y", "x").astype(np.float32)
    key = name.upper()
    if key not in INDEX_NAMES:
        raise InputError(
            f"unknown index {name!r}: use one of {', '.join(INDEX_NAMES)} "
            "or a (y, x) variable carried by the composites"
        )
    refl = _reflectance(composite, INDICES[key].bands, what=key)
    return compute_indices(refl, [key]).sel(index=key, drop=True).astype(np.float32)


def change_raster(
    before: xr.Dataset,
    after: xr.Dataset,
    *,
    classes_before: xr.DataArray | None = None,
    classes_after: xr.DataArray | None = None,
    spec: ChangeSpec | None = None,
) -> xr.DataArray:
    """Per-pixel change codes (uint8, :data:`CHANGE_CODES`) as a lazy dask-backed DataArray.

    Nothing is computed. Class change needs both class rasters (uint8, 0 = no data).
    """
    spec = spec or ChangeSpec()
    layers = _layers(before, after, classes_before, classes_after, None, spec)
    return layers.codes


def detect_change(
    before: xr.Dataset,
    after: xr.Dataset,
    *,
    classes_before: xr.DataArray | None = None,
    classes_after: xr.DataArray | None = None,
    density_before: xr.DataArray | None = None,
    spec: ChangeSpec | None = None,
    tile_px: int = 2048,
) -> ChangeResult:
    """Disturbance between two composites on the same grid, as patches with area and carbon lost.

    ``density_before`` is the carbon density map of the earlier date (t C/ha, NaN = unknown).
    The change raster stays lazy; the patches are found tile by tile (module docstring: memory
    is bounded by ``tile_px``², and the result does not depend on ``tile_px``).

    The ``summary`` mapping has: the spec, the ``before``/``after`` seasons, ``pixel_area_ha``,
    ``min_patch_px``, ``crs``,
    ``patches``, ``disturbed_pixels``, ``disturbed_area_ha``, ``carbon_lost_t`` and
    ``carbon_lost_tco2e`` (``None`` without a density map), ``area_without_density_ha``,
    ``small_patch_area_ha`` (changed area left out by the size filter), ``no_data_area_ha``,
    ``by_kind`` {kind: {patches, area_ha, carbon_lost_t}} by patch kind, ``by_transition``
    [{from_class, from_name, to_class, to_name, pixels, area_ha, carbon_lost_t}] over the
    patches' pixels (class 0 = not classified), and ``wetland`` (:func:`wetland_area_change`,
    when both class rasters are given, else ``None``).
    """
    spec = spec or ChangeSpec()
    if tile_px < 2:
        raise InputError(f"tile_px must be at least 2, got {tile_px}")
    layers = _layers(before, after, classes_before, classes_after, density_before, spec)
    grid = layers.grid
    pixel_area_ha = _pixel_area_ha(grid)
    min_px = spec.min_pixels(pixel_area_ha)
    scanned = scan(layers, spec, min_px=min_px, tile_px=tile_px, pixel_area_ha=pixel_area_ha)
    polygons, by_transition = patches(scanned, layers, spec, grid, pixel_area_ha)
    has_density = layers.density is not None
    carbon = float(polygons["carbon_lost_t"].sum()) if has_density else None
    kept_px = int(polygons["pixels"].sum())
    by_kind = {
        kind: {
            "patches": int((polygons["kind"] == kind).sum()),
            "area_ha": float(polygons.loc[polygons["kind"] == kind, "area_ha"].sum()),
            "carbon_lost_t": (
                float(polygons.loc[polygons["kind"] == kind, "carbon_lost_t"].sum())
                if has_density
                else None
            ),
        }
        for kind in ("index_drop", "class_change", "both")
    }
    wetland = (
        _wetland_balance(scanned.crosstab, pixel_area_ha, spec.wetland_classes, spec.classes)
        if scanned.crosstab is not None
        else None
    )
    summary: dict[str, Any] = {
        "spec": spec.to_dict(),
        "before": layers.codes.attrs["before"],
        "after": layers.codes.attrs["after"],
        "crs": grid.crs,
        "pixel_area_ha": pixel_area_ha,
        "min_patch_px": min_px,
        "patches": len(polygons),
        "disturbed_pixels": kept_px,
        "disturbed_area_ha": kept_px * pixel_area_ha,
        "carbon_lost_t": carbon,
        "carbon_lost_tco2e": tc_to_tco2e(carbon) if carbon is not None else None,
        "area_without_density_ha": float(polygons["area_without_density_ha"].sum()),
        "small_patch_area_ha": (scanned.changed_px - kept_px) * pixel_area_ha,
        "no_data_area_ha": scanned.nodata_px * pixel_area_ha,
        "by_kind": by_kind,
        "by_transition": by_transition,
        "wetland": wetland,
    }
    return ChangeResult(
        raster=layers.codes,
        polygons=polygons,
        summary=summary,
        spec=spec,
        grid=grid,
        _kept=scanned.kept_local,
        _tile_chunks=scanned.tile_chunks,
    )


def wetland_area_change(
    classes_before: xr.DataArray,
    classes_after: xr.DataArray,
    *,
    pixel_area_ha: float,
    classes: Mapping[str, Collection[int]] = WETLAND_CLASSES,
    class_table: Sequence[LandCoverClass] = DEFAULT_CLASSES,
) -> dict[str, Any]:
    """Wetland areas before/after and the no-net-loss (占补平衡) test, JSON-ready.

    Over pixels classified in both rasters (code ≠ 0; the others are ``excluded_ha``), per
    category of ``classes`` (name → codes) and for their union ``wetland``: ``before_ha``,
    ``after_ha``, ``gained_ha``, ``lost_ha``, ``net_ha``, ``no_net_loss``; the union also lists
    where lost wetland went (``lost_to``) and where gained wetland came from (``gained_from``).
    Top-level ``no_net_loss`` is the union's. One lazy pass (a per-block 256 × 256 histogram).
    """
    if not (math.isfinite(pixel_area_ha) and pixel_area_ha > 0):
        raise InputError(f"pixel_area_ha must be positive, got {pixel_area_ha}")
    b = _class_array(classes_before, "classes_before", None)
    a = _class_array(classes_after, "classes_after", None)
    if b.shape != a.shape:
        raise InputError(f"class rasters differ in shape: {b.shape} before, {a.shape} after")
    crosstab = np.asarray(_crosstab(b, a).compute()).reshape(N_CLASS_CODES, N_CLASS_CODES)
    return _wetland_balance(crosstab, pixel_area_ha, classes, class_table)


# --------------------------------------------------------------------------------------------
# building the lazy layers


def _reflectance(composite: xr.Dataset, bands: Sequence[str], *, what: str) -> xr.DataArray:
    season = composite.attrs.get("season", "?")
    if "reflectance" not in composite:
        raise InputError(f"composite {season!r} has no 'reflectance' variable")
    refl = composite["reflectance"]
    have = [str(b) for b in refl["band"].values] if "band" in refl.coords else []
    missing = [b for b in bands if b not in have]
    if missing:
        raise InputError(
            f"composite {season!r} lacks band(s) {', '.join(missing)} needed for {what}"
        )
    return refl


def _pixel_area_ha(grid: Grid) -> float:
    crs = CRS.from_user_input(grid.crs)
    units = {ax.unit_name.lower() for ax in crs.axis_info}
    if not crs.is_projected or not units <= {"metre", "meter", "m"}:
        raise InputError(f"change areas need a projected grid in metres (e.g. UTM), got {grid.crs}")
    return grid.pixel_area_ha


def _same_grid(a: Grid, b: Grid) -> bool:
    return (
        (a.width, a.height) == (b.width, b.height)
        and CRS.from_user_input(a.crs) == CRS.from_user_input(b.crs)
        and np.allclose(a.transform, b.transform, rtol=0.0, atol=1e-6 * a.resolution)
    )


def _as_dask(values: Any, chunks: tuple[tuple[int, ...], ...]) -> da.Array:
    if isinstance(values, da.Array):
        return values
    return da.from_array(np.asarray(values), chunks=chunks)


def _yx(arr: xr.DataArray, name: str, grid: Grid) -> xr.DataArray:
    if set(arr.dims) != {"y", "x"}:
        raise InputError(f"{name} must have dims (y, x), got {arr.dims}")
    arr = arr.transpose("y", "x")
    if (arr.sizes["y"], arr.sizes["x"]) != (grid.height, grid.width):
        raise InputError(
            f"{name} is {arr.sizes['y']} × {arr.sizes['x']} px, the composites "
            f"{grid.height} × {grid.width}"
        )
    if "crs" in arr.attrs and "transform" in arr.attrs and not _same_grid(grid_of(arr), grid):
        raise InputError(f"{name} is not on the composites' grid (CRS or transform differ)")
    return arr


def _class_array(arr: xr.DataArray, name: str, ref: tuple[tuple[int, ...], ...] | None) -> da.Array:
    if not np.issubdtype(arr.dtype, np.integer):
        raise InputError(f"{name} must hold integer class codes, got {arr.dtype}")
    if set(arr.dims) != {"y", "x"}:
        raise InputError(f"{name} must have dims (y, x), got {arr.dims}")
    arr = arr.transpose("y", "x")
    if arr.dtype != np.uint8 and not isinstance(arr.data, da.Array):
        values = np.asarray(arr.values)
        if values.size and (values.min() < 0 or values.max() > 255):
            raise InputError(f"{name} has class codes outside 0-255")
    data = arr.data if isinstance(arr.data, da.Array) else np.asarray(arr.values)
    chunks = ref or tuple(
        regular_chunks(n, _DEFAULT_CHUNK) for n in (arr.sizes["y"], arr.sizes["x"])
    )
    return _as_dask(data, chunks).astype(np.uint8)


def _layers(
    before: xr.Dataset,
    after: xr.Dataset,
    classes_before: xr.DataArray | None,
    classes_after: xr.DataArray | None,
    density: xr.DataArray | None,
    spec: ChangeSpec,
) -> Layers:
    for ds, which in ((before, "before"), (after, "after")):
        if "valid_count" not in ds:
            season = ds.attrs.get("season", which)
            raise InputError(f"composite {season!r} ({which}) has no 'valid_count' QA layer")
    grid = grid_of(before)
    if not _same_grid(grid, grid_of(after)):
        raise InputError(
            "the two composites are not on the same grid (CRS, transform or size differ): "
            f"{before.attrs.get('season', 'before')!r} vs {after.attrs.get('season', 'after')!r}"
        )
    if (classes_before is None) != (classes_after is None):
        raise InputError("class change needs both classes_before and classes_after")
    vb = _yx(before["valid_count"], "valid_count (before)", grid)
    va = _yx(after["valid_count"], "valid_count (after)", grid)
    ref = (
        vb.data.chunks
        if isinstance(vb.data, da.Array)
        else (
            regular_chunks(grid.height, _DEFAULT_CHUNK),
            regular_chunks(grid.width, _DEFAULT_CHUNK),
        )
    )
    valid = (_as_dask(vb.data, ref) > 0) & (_as_dask(va.data, ref) > 0)
    ib = _as_dask(composite_index(before, name=spec.index).data, ref)
    ia = _as_dask(composite_index(after, name=spec.index).data, ref)
    drop = ib - ia
    with np.errstate(invalid="ignore"):
        is_drop = (drop >= spec.min_drop) & (drop >= spec.min_relative_drop * abs(ib))
    codes = is_drop.astype(np.uint8)
    cb = ca = None
    if classes_before is not None and classes_after is not None:
        cb = _class_array(_yx(classes_before, "classes_before", grid), "classes_before", ref)
        ca = _class_array(_yx(classes_after, "classes_after", grid), "classes_after", ref)
        moved = (cb != ca) & (cb != NODATA_CLASS) & (ca != NODATA_CLASS)
        codes = codes + moved.astype(np.uint8) * np.uint8(CLASS_CHANGE)
    codes = da.where(valid, codes, np.uint8(NO_DATA)).astype(np.uint8)
    dens = None
    if density is not None:
        d = _yx(density, "density_before", grid)
        if not np.issubdtype(d.dtype, np.number):
            raise InputError(f"density_before must be numeric (t C/ha), got {d.dtype}")
        dens = _as_dask(d.data, ref)
        if not np.issubdtype(dens.dtype, np.floating):
            dens = dens.astype(np.float64)
    y, x = grid.coords()
    raster = xr.DataArray(
        codes,
        dims=("y", "x"),
        coords={"y": y, "x": x},
        name="change",
        attrs={
            **grid_attrs(grid),
            "nodata": NO_DATA,
            "codes": ", ".join(f"{k} {v}" for k, v in CHANGE_CODES.items()),
            "index": spec.index,
            "before": str(before.attrs.get("season", "")),
            "after": str(after.attrs.get("season", "")),
        },
    )
    return Layers(grid, raster, drop, cb, ca, dens)


def _crosstab(before: da.Array, after: da.Array) -> da.Array:
    """256 × 256 (flattened) pixel counts of (before, after) class pairs, lazily."""
    pair = before.astype(np.int32) * N_CLASS_CODES + after.astype(np.int32)

    def _hist(block: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
        counts = np.bincount(block.ravel(), minlength=N_CLASS_CODES * N_CLASS_CODES)
        return counts.reshape(1, 1, -1)

    per_block = pair.map_blocks(
        _hist, new_axis=2, chunks=(1, 1, N_CLASS_CODES * N_CLASS_CODES), dtype=np.int64
    )
    return per_block.sum(axis=(0, 1))


def _wetland_balance(
    crosstab: npt.NDArray[np.int64],
    pixel_area_ha: float,
    classes: Mapping[str, Collection[int]],
    class_table: Sequence[LandCoverClass],
) -> dict[str, Any]:
    m = np.asarray(crosstab, dtype=np.int64).copy()
    total_px = int(m.sum())
    m[NODATA_CLASS, :] = 0
    m[:, NODATA_CLASS] = 0
    names = class_names(class_table)
    codes = np.arange(N_CLASS_CODES)

    def _balance(members: Collection[int]) -> tuple[dict[str, Any], npt.NDArray[np.bool_]]:
        inside = np.isin(codes, list(members))
        before = int(m[inside, :].sum())
        after = int(m[:, inside].sum())
        lost = int(m[np.ix_(inside, ~inside)].sum())
        gained = int(m[np.ix_(~inside, inside)].sum())
        return {
            "codes": sorted(int(c) for c in members),
            "before_ha": before * pixel_area_ha,
            "after_ha": after * pixel_area_ha,
            "gained_ha": gained * pixel_area_ha,
            "lost_ha": lost * pixel_area_ha,
            "net_ha": (after - before) * pixel_area_ha,
            "no_net_loss": after >= before,
        }, inside

    per_category = {}
    union: set[int] = set()
    for name, members in classes.items():
        if not members or any(not 1 <= int(c) <= 254 for c in members):
            raise InputError(f"wetland category {name!r} needs class codes 1-254")
        per_category[name], _ = _balance(members)
        union |= {int(c) for c in members}
    wetland, inside = _balance(union)
    lost_to = m[np.ix_(inside, ~inside)].sum(axis=0)
    gained_from = m[np.ix_(~inside, inside)].sum(axis=1)
    outside = codes[~inside]
    wetland["lost_to"] = [
        {"class": int(k), "name": names.get(int(k)), "area_ha": int(v) * pixel_area_ha}
        for k, v in zip(outside, lost_to, strict=True)
        if v > 0
    ]
    wetland["gained_from"] = [
        {"class": int(k), "name": names.get(int(k)), "area_ha": int(v) * pixel_area_ha}
        for k, v in zip(outside, gained_from, strict=True)
        if v > 0
    ]
    return {
        "pixel_area_ha": pixel_area_ha,
        "categories": per_category,
        "wetland": wetland,
        "excluded_ha": (total_px - int(m.sum())) * pixel_area_ha,
        "no_net_loss": bool(wetland["no_net_loss"]),
    }


__all__ = [
    "BOTH",
    "CHANGE_CODES",
    "CLASS_CHANGE",
    "INDEX_DROP",
    "INDEX_NAMES",
    "NO_CHANGE",
    "NO_DATA",
    "ChangeResult",
    "ChangeSpec",
    "change_raster",
    "composite_index",
    "detect_change",
    "wetland_area_change",
]
