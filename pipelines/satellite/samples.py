"""Training samples for the land-cover classifier: labelled points/polygons → pixel table.

Labels are a vector file (GeoPackage, GeoJSON, Shapefile …) of points or polygons in any CRS
with a class-name column. :func:`read_labels` checks them (unknown class names, geometry types,
CRS); :func:`extract_samples` places them on the feature grid — a point samples the pixel that
contains it, a polygon every pixel whose centre lies inside it — reads the features of those
pixels (only the chunks that hold labels are computed), and assigns every pixel to a square
spatial block of ``block_size_m`` so that cross-validation can hold out whole blocks
(:mod:`pipelines.satellite.classify`). Classes with too few pixels or blocks are refused: a
class seen in one block cannot be validated on another.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
import xarray as xr
from affine import Affine

from mrv.errors import FileFormatError, InputError, Problem
from pipelines.satellite.classes import LandCoverClass, class_table
from pipelines.satellite.cube import Grid, grid_of

if TYPE_CHECKING:
    import geopandas as gpd

FloatArray = npt.NDArray[np.float64]

LABEL_GEOMETRIES = ("Point", "MultiPoint", "Polygon", "MultiPolygon")
"""Geometry types accepted as labels."""

CODE_COLUMN = "class_code"
"""Column :func:`read_labels` adds: the class code (uint8, 1…n) of each label feature."""

_WINDOW_PX = 2048
"""Labels are rasterised in windows of at most this many pixels a side (bounded memory)."""


@dataclass(frozen=True)
class TrainingTable:
    """One row per labelled pixel: its features, class, spatial block and position.

    Arrays are read-only. ``X[i, j]`` is feature ``feature_names[j]`` of pixel ``i``.
    """

    X: npt.NDArray[np.float32]
    """Features, float32 (n, f); rows with any NaN feature were dropped."""
    y: npt.NDArray[np.uint8]
    """Class code of each pixel (see :attr:`classes`)."""
    block: npt.NDArray[np.int64]
    """Spatial block id of each pixel (square cells of :attr:`block_size_m`)."""
    x_coord: FloatArray
    """Pixel-centre x in the grid CRS."""
    y_coord: FloatArray
    """Pixel-centre y in the grid CRS."""
    feature_names: tuple[str, ...]
    classes: tuple[LandCoverClass, ...]
    """The class table the codes refer to."""
    block_size_m: float
    crs: str
    dropped: Mapping[str, int] = field(default_factory=dict)
    """Labelled pixels or features not used, by reason: ``nan_features`` (pixels with a NaN
    feature), ``conflicting_labels`` (pixels covered by labels of different classes),
    ``outside_grid`` (label features that do not touch the grid)."""

    @property
    def n_samples(self) -> int:
        """Number of pixels in the table."""
        return int(self.y.size)

    def pixels_per_class(self) -> dict[str, int]:
        """Class name → number of labelled pixels."""
        counts = np.bincount(self.y, minlength=256)
        return {c.name: int(counts[c.code]) for c in self.classes}

    def blocks_per_class(self) -> dict[str, int]:
        """Class name → number of distinct spatial blocks holding its pixels."""
        return {c.name: int(np.unique(self.block[self.y == c.code]).size) for c in self.classes}


def as_class_table(classes: Sequence[LandCoverClass] | Sequence[str]) -> tuple[LandCoverClass, ...]:
    """A class table from :class:`LandCoverClass` objects or from names (coded 1…n in order)."""
    items = list(classes)
    if items and all(isinstance(c, LandCoverClass) for c in items):
        table = tuple(c for c in items if isinstance(c, LandCoverClass))
        codes = [c.code for c in table]
        names = [c.name for c in table]
        if len(set(codes)) != len(codes) or len(set(names)) != len(names):
            raise InputError("class codes and names must be unique")
        if any(not 1 <= c <= 255 for c in codes):
            raise InputError("class codes must be 1…255 (0 means no data)")
        return table
    return class_table([str(c) for c in items])


def _normalise(name: object) -> str:
    return str(name).strip().casefold()


def label_codes(
    values: pd.Series,
    classes: Sequence[LandCoverClass],
    *,
    column: str,
    file: str | None = None,
) -> npt.NDArray[np.uint8]:
    """Class codes of label values (class names, matched ignoring case and outer spaces).

    An integer-typed column is read as class codes. Raises :class:`InputError` listing every
    feature whose value is missing or not a known class, and the known classes.
    """
    ids = [str(i) for i in values.index]
    if pd.api.types.is_integer_dtype(values.dtype):
        lookup: dict[object, int] = {c.code: c.code for c in classes}
        keys: list[object] = [None if pd.isna(v) else int(v) for v in values.to_numpy()]
    else:
        lookup = {_normalise(c.name): c.code for c in classes}
        keys = [None if pd.isna(v) else _normalise(v) for v in values.to_numpy()]
    codes = np.zeros(len(keys), dtype=np.uint8)
    problems = []
    for i, key in enumerate(keys):  # one dictionary lookup per label feature, not per pixel
        code = lookup.get(key) if key is not None else None
        if code is None or key == "":
            shown = values.iloc[i]
            shown = shown.item() if isinstance(shown, np.generic) else shown
            reason = (
                "missing class label" if key is None or key == "" else f"unknown class {shown!r}"
            )
            problems.append(Problem(reason=reason, file=file, feature=ids[i], column=column))
        else:
            codes[i] = code
    if problems:
        known = ", ".join(f"{c.name!r} ({c.code})" for c in classes)
        where = f"{file}: " if file else ""
        raise InputError(
            f"{where}{len(problems)} label feature(s) have a class not in the class list; "
            f"known classes: {known}",
            problems,
        )
    return codes


def read_labels(
    path: Path | str,
    *,
    label_column: str,
    classes: Sequence[LandCoverClass] | Sequence[str],
) -> gpd.GeoDataFrame:
    """Read labelled points or polygons (any vector format and CRS) and check their classes.

    Returns the features with the file's CRS and an added :data:`CODE_COLUMN`; the index is
    the file's feature id (GeoPackage fid, else the 0-based position), used in error reports.
    Raises :class:`InputError` for a missing file or column, features without a usable
    geometry, a file without a CRS, and class names not in ``classes`` (listing the features
    and the known classes).
    """
    import geopandas as gpd

    file = str(path)
    p = Path(path)
    if not p.exists():
        raise FileFormatError(file, "labels file not found")
    try:
        gdf = gpd.read_file(p, fid_as_index=True)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise FileFormatError(file, f"not a readable vector file: {exc}") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or "geometry" not in gdf:
        raise FileFormatError(file, "no geometry column")
    if len(gdf) == 0:
        raise InputError(f"{file}: no label features", [Problem("no features", file=file)])
    if label_column not in gdf.columns:
        have = ", ".join(str(c) for c in gdf.columns if c != "geometry")
        raise InputError(
            f"{file}: no column {label_column!r} (columns: {have})",
            [Problem(f"column {label_column!r} not found", file=file, column=label_column)],
        )
    if gdf.crs is None:
        raise InputError(
            f"{file}: the labels have no CRS; save them with one",
            [Problem("no CRS", file=file)],
        )
    table = as_class_table(classes)
    _check_geometries(gdf, file)
    gdf[CODE_COLUMN] = label_codes(gdf[label_column], table, column=label_column, file=file)
    gdf.attrs["source"] = file
    return gdf


def _check_geometries(gdf: gpd.GeoDataFrame, file: str | None) -> None:
    geoms = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = np.asarray(shapely.get_type_id(geoms))
    # shapely type ids: 0 Point, 3 Polygon, 4 MultiPoint, 6 MultiPolygon
    wrong = ~missing & ~np.isin(kinds, (0, 3, 4, 6))
    problems = [Problem("no geometry", file=file, feature=str(i)) for i in gdf.index[missing]] + [
        Problem(f"{t} geometry; labels must be points or polygons", file=file, feature=str(i))
        for i, t in zip(gdf.index[wrong], gdf.geometry[wrong].geom_type, strict=True)
    ]
    if problems:
        where = f"{file}: " if file else ""
        raise InputError(
            f"{where}{len(problems)} label feature(s) have unusable geometry", problems
        )


def _metre_crs(crs: str) -> None:
    from pyproj import CRS

    axis = CRS.from_user_input(crs).axis_info
    if not axis or axis[0].unit_name not in ("metre", "meter"):
        raise InputError(
            f"the feature grid's CRS {crs} is not in metres; spatial blocks need a projected grid"
        )


def _windows(grid: Grid, size: int) -> Iterator[tuple[int, int, int, int]]:
    for r0 in range(0, grid.height, size):
        for c0 in range(0, grid.width, size):
            yield r0, c0, min(size, grid.height - r0), min(size, grid.width - c0)


def _burn_sum(
    shapes: npt.NDArray[np.object_],
    values: npt.NDArray[np.uint32],
    shape: tuple[int, int],
    transform: Affine,
) -> npt.NDArray[np.uint32]:
    """Raster of the sum of ``values`` of the shapes covering each pixel (centre inside)."""
    from rasterio.features import MergeAlg, rasterize

    return np.asarray(
        rasterize(
            zip(shapes, values.tolist(), strict=True),
            out_shape=shape,
            transform=transform,
            fill=0,
            dtype="uint32",
            merge_alg=MergeAlg.add,
        ),
        dtype=np.uint32,
    )


def _burn(
    geoms: npt.NDArray[np.object_],
    codes: npt.NDArray[np.uint8],
    grid: Grid,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.uint8], int]:
    """Pixels (rows, cols, codes) covered by the labels; pixels with conflicting labels dropped.

    Per window three rasters are burnt with additive merging: the count of labels c, Σk and
    Σk² of their codes; the labels of a pixel agree exactly when c·Σk² = (Σk)²
    (Cauchy–Schwarz equality), and the pixel's class is then Σk / c.
    """
    tree = shapely.STRtree(geoms)
    rows, cols, out = [], [], []
    conflicts = 0
    for r0, c0, h, w in _windows(grid, _WINDOW_PX):  # a handful of windows, not pixels
        transform = grid.affine * Affine.translation(c0, r0)
        x0, y0 = transform * (0, 0)
        x1, y1 = transform * (w, h)
        hits = tree.query(shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
        if hits.size == 0:
            continue
        k = codes[hits].astype(np.uint32)

        shapes = geoms[hits]
        count = _burn_sum(shapes, np.ones_like(k), (h, w), transform)
        s1 = _burn_sum(shapes, k, (h, w), transform)
        s2 = _burn_sum(shapes, k * k, (h, w), transform)
        labelled = count > 0
        agree = count.astype(np.uint64) * s2 == s1.astype(np.uint64) ** 2
        conflicts += int(np.count_nonzero(labelled & ~agree))
        rr, cc = np.nonzero(labelled & agree)
        rows.append(rr + r0)
        cols.append(cc + c0)
        out.append((s1[rr, cc] // count[rr, cc]).astype(np.uint8))
    if not rows:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.zeros(0, dtype=np.uint8), conflicts
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(out), conflicts


def block_ids(
    x: FloatArray, y: FloatArray, grid: Grid, block_size_m: float
) -> npt.NDArray[np.int64]:
    """Id of the square ``block_size_m`` cell (anchored at the grid's top-left) holding (x, y)."""
    left, _, right, top = grid.bounds
    n_cols = max(1, math.ceil((right - left) / block_size_m))
    bx = np.floor((x - left) / block_size_m).astype(np.int64)
    by = np.floor((top - y) / block_size_m).astype(np.int64)
    return by * n_cols + bx


def extract_samples(
    features: xr.DataArray,
    labels: gpd.GeoDataFrame,
    *,
    label_column: str,
    classes: Sequence[LandCoverClass] | Sequence[str],
    block_size_m: float = 500.0,
    min_pixels_per_class: int = 10,
    min_blocks_per_class: int = 2,
) -> TrainingTable:
    """Features and class of every labelled pixel, with its spatial block.

    ``features`` is a (feature, y, x) array on a metric grid (dask-backed or not; only the
    labelled pixels are computed). Points sample the pixel containing them; polygons every
    pixel whose centre is inside. A pixel labelled twice with one class counts once; pixels
    labelled with different classes and pixels with any NaN feature are dropped and counted in
    :attr:`TrainingTable.dropped`. Every class in ``classes`` needs at least
    ``min_pixels_per_class`` pixels in at least ``min_blocks_per_class`` blocks, else
    :class:`InputError` names the classes short of samples.
    """
    if features.dims != ("feature", "y", "x"):
        raise InputError(f"features must have dims ('feature', 'y', 'x'), got {features.dims}")
    if not block_size_m > 0:
        raise InputError(f"block_size_m must be positive, got {block_size_m}")
    grid = grid_of(features)
    _metre_crs(grid.crs)
    table = as_class_table(classes)
    source = labels.attrs.get("source")
    if label_column not in labels.columns:
        raise InputError(f"labels have no column {label_column!r}")
    if labels.crs is None:
        raise InputError("labels have no CRS")
    _check_geometries(labels, source)
    codes = label_codes(labels[label_column], table, column=label_column, file=source)
    geoms = labels.to_crs(grid.crs).geometry.to_numpy()
    left, bottom, right, top = grid.bounds
    inside = shapely.intersects(geoms, shapely.box(left, bottom, right, top))
    if not inside.any():
        raise InputError(
            f"none of the {len(geoms)} label features overlaps the feature grid "
            f"({left:.0f}, {bottom:.0f}, {right:.0f}, {top:.0f} in {grid.crs})",
            [Problem("labels outside the grid", file=source)],
        )
    rows, cols, y, conflicts = _burn(geoms[inside], codes[inside], grid)

    data = features.data
    if rows.size == 0:
        values = np.zeros((0, features.sizes["feature"]), dtype=np.float32)
    elif hasattr(data, "vindex"):
        values = np.asarray(data.vindex[:, rows, cols].compute(), dtype=np.float32)
    else:
        values = np.asarray(data[:, rows, cols], dtype=np.float32).T
    values = values.reshape(rows.size, features.sizes["feature"])
    ok = np.all(np.isfinite(values), axis=1)
    rows, cols, y, values = rows[ok], cols[ok], y[ok], values[ok]
    a, b, c, d, e, f = grid.transform
    x_coord = a * (cols + 0.5) + b * (rows + 0.5) + c
    y_coord = d * (cols + 0.5) + e * (rows + 0.5) + f
    names = (
        tuple(str(v) for v in features["feature"].values)
        if "feature" in features.coords
        else tuple(f"f{i}" for i in range(features.sizes["feature"]))
    )
    result = TrainingTable(
        X=_readonly(np.ascontiguousarray(values)),
        y=_readonly(y),
        block=_readonly(block_ids(x_coord, y_coord, grid, block_size_m)),
        x_coord=_readonly(x_coord),
        y_coord=_readonly(y_coord),
        feature_names=names,
        classes=table,
        block_size_m=float(block_size_m),
        crs=grid.crs,
        dropped={
            "nan_features": int(np.count_nonzero(~ok)),
            "conflicting_labels": conflicts,
            "outside_grid": int(np.count_nonzero(~inside)),
        },
    )
    check_sample_sizes(
        result, min_pixels=min_pixels_per_class, min_blocks=min_blocks_per_class, file=source
    )
    return result


def check_sample_sizes(
    table: TrainingTable, *, min_pixels: int = 10, min_blocks: int = 2, file: str | None = None
) -> None:
    """Raise :class:`InputError` naming every class with fewer pixels or blocks than required."""
    pixels = table.pixels_per_class()
    blocks = table.blocks_per_class()
    short = [
        c.name for c in table.classes if pixels[c.name] < min_pixels or blocks[c.name] < min_blocks
    ]
    if short:
        problems = [
            Problem(
                f"class {name!r} has {pixels[name]} labelled pixel(s) in {blocks[name]} "
                f"spatial block(s) of {table.block_size_m:g} m; at least {min_pixels} pixels "
                f"in {min_blocks} blocks are needed",
                file=file,
                feature=name,
            )
            for name in short
        ]
        raise InputError(
            f"too few training samples for class(es) {', '.join(map(repr, short))}: add labels "
            "or remove the class from the class list",
            problems,
        )


_T = TypeVar("_T", bound=np.generic)


def _readonly(a: npt.NDArray[_T]) -> npt.NDArray[_T]:
    a.flags.writeable = False
    return a
