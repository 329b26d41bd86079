"""Vector geometry helpers: read boundaries, convert web-map datums, areas in a metric CRS.

Areas are computed in CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549), which suits Huzhou,
never in degrees (DESIGN "Deliberate choices").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from mrv.datums import to_wgs84
from mrv.errors import FileFormatError

AREA_CRS = "EPSG:4549"
GeomArray = npt.NDArray[np.object_]
"""A numpy array of shapely geometries."""


def convert_datum(geometry: BaseGeometry, datum: str) -> BaseGeometry:
    """Convert every vertex of a lon/lat geometry from ``datum`` to WGS84 (vectorised)."""

    def _fn(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], datum)
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, _fn)


def read_boundary(path: Path, datum: str = "wgs84") -> BaseGeometry:
    """Union of the polygons in a GeoJSON/GeoPackage file, in WGS84 lon/lat.

    Accepts a bare GeoJSON geometry (as in ``huzhou-boundaries``), a Feature or a
    FeatureCollection, or any vector file pyogrio reads. Projected CRSs are transformed to
    EPSG:4326; ``datum`` then converts GCJ-02/BD-09 coordinates to WGS84.
    """
    file = str(path)
    if not path.exists():
        raise FileFormatError(file, "boundary file not found")
    geom: BaseGeometry | None = None
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FileFormatError(file, f"not valid GeoJSON: {exc}") from exc
        if isinstance(data, dict) and data.get("type") in (
            "Polygon",
            "MultiPolygon",
            "GeometryCollection",
        ):
            geom = shapely.geometry.shape(data)
    if geom is None:
        import pyogrio

        try:
            gdf = pyogrio.read_dataframe(path)
        except Exception as exc:
            raise FileFormatError(file, f"not a readable vector file: {exc}") from exc
        if gdf.crs is not None and not gdf.crs.is_geographic:
            gdf = gdf.to_crs(4326)
        geom = shapely.union_all(gdf.geometry.to_numpy())
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise FileFormatError(file, "boundary must contain polygon geometries")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return convert_datum(geom, datum)


def to_metric(geoms: Sequence[BaseGeometry] | GeomArray) -> GeomArray:
    """WGS84 lon/lat geometries transformed to :data:`~mrv.geo.AREA_CRS` (vectorised)."""
    from pyproj import Transformer

    transformer = Transformer.from_crs("EPSG:4326", AREA_CRS, always_xy=True)

    def _fn(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    array = np.empty(len(geoms), dtype=object)
    array[:] = list(geoms)
    return np.asarray(shapely.transform(array, _fn), dtype=object)


def areas_ha(geoms: Sequence[BaseGeometry] | GeomArray) -> npt.NDArray[np.float64]:
    """Areas of WGS84 geometries in hectares, computed in EPSG:4549."""
    return np.asarray(shapely.area(to_metric(geoms)), dtype=np.float64) / 10_000.0


def area_ha(geometry: BaseGeometry) -> float:
    """Area of a WGS84 lon/lat geometry in hectares, computed in EPSG:4549."""
    return float(areas_ha([geometry])[0])


def points_inside(
    geometry: BaseGeometry, lon: npt.ArrayLike, lat: npt.ArrayLike
) -> npt.NDArray[np.bool_]:
    """Whether each point lies inside (or on the edge of) ``geometry``."""
    shapely.prepare(geometry)
    lo = np.asarray(lon, dtype=np.float64)
    la = np.asarray(lat, dtype=np.float64)
    return np.asarray(shapely.intersects_xy(geometry, lo, la), dtype=bool)
