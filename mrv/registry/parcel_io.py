"""Parcel files and geometry: read GeoJSON/GeoPackage into WGS84, metric areas, write exports.

Inputs may be in any CRS (transformed to EPSG:4326) and, for lon/lat data from Chinese web maps,
in the GCJ-02 or BD-09 datum (converted by :func:`mrv.geo.convert_datum`). Areas and overlaps
are computed in EPSG:4549 (:data:`mrv.geo.AREA_CRS`), never in degrees (DESIGN "Deliberate
choices").
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mrv.datums import DATUMS
from mrv.errors import RegistryInputError
from mrv.geo import convert_datum
from mrv.registry.journal import canonical, jsonable, sha256_hex

GEOJSON_SUFFIXES = (".geojson", ".json")
GPKG_SUFFIXES = (".gpkg",)
LAYER = "parcels"
"""Layer name of exported GeoPackages."""


@dataclass(frozen=True)
class Feature:
    """One feature of a parcel file, geometry already in WGS84 lon/lat."""

    index: int
    """GDAL's feature id: GeoJSON: the feature's integer ``id`` or else its 0-based position;
    GeoPackage: the fid (from 1)."""
    properties: dict[str, Any]
    geometry: BaseGeometry | None


def check_datum(datum: str) -> str:
    """The datum key (wgs84, cgcs2000, gcj02, bd09) or RegistryInputError naming ``datum``."""
    key = datum.strip().lower().replace("-", "").replace("_", "")
    if key not in DATUMS:
        raise RegistryInputError(
            f"unknown datum {datum!r}; use one of {', '.join(DATUMS)}", field="datum"
        )
    return key


def file_problem(path: Path, reason: str) -> RegistryInputError:
    """A refusal of a whole file."""
    problem = {"file": path.name, "feature": None, "field": None, "reason": reason}
    return RegistryInputError(f"{path.name}: {reason}", file=path.name, problems=[problem])


def _plain(value: Any) -> Any:
    """A property value as a JSON-native Python value (NaN → None, numpy → builtin)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return jsonable(value)


def read_features(path: Path, datum: str = "wgs84") -> list[Feature]:
    """All features of a GeoJSON or GeoPackage file (first layer) with WGS84 geometries.

    A projected or other geographic CRS is transformed to EPSG:4326; ``datum`` then converts
    GCJ-02/BD-09 lon/lat to WGS84 (it must be ``wgs84``/``cgcs2000`` for projected files).
    """
    import pyogrio

    key = check_datum(datum)
    suffix = path.suffix.lower()
    if suffix not in GEOJSON_SUFFIXES + GPKG_SUFFIXES:
        raise file_problem(path, "parcel files must be GeoJSON (.geojson/.json) or .gpkg")
    if not path.is_file():
        raise file_problem(path, "file not found")
    try:
        gdf = pyogrio.read_dataframe(path, fid_as_index=True)
    except Exception as exc:
        raise file_problem(path, f"not a readable vector file: {exc}") from exc
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        if not gdf.crs.is_geographic and key in ("gcj02", "bd09"):
            raise file_problem(
                path, f"datum {key} applies to lon/lat files, but the file's CRS is projected"
            )
        gdf = gdf.to_crs(4326)
    geoms = np.asarray(gdf.geometry.to_numpy(), dtype=object)
    if key in ("gcj02", "bd09"):
        present = np.array([g is not None for g in geoms], dtype=bool)
        geoms[present] = convert_datum(geoms[present], key)
    table = gdf.drop(columns=gdf.geometry.name)
    records = table.astype(object).to_dict("records")
    return [
        Feature(
            index=int(fid),
            properties={str(k): _plain(v) for k, v in record.items()},
            geometry=geom,
        )
        for fid, record, geom in zip(gdf.index, records, geoms, strict=True)
    ]


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """A shapely geometry as a JSON-native GeoJSON geometry dict (lists, not tuples)."""
    mapped: dict[str, Any] = jsonable(shapely.geometry.mapping(geom))
    return mapped


def from_geojson(geometry: Mapping[str, Any]) -> BaseGeometry:
    """A stored GeoJSON geometry dict as a shapely geometry."""
    return shapely.geometry.shape(geometry)


def geometry_sha256(geometry: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a GeoJSON geometry."""
    return sha256_hex(canonical(geometry))


def _replace_atomically(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        tmp.unlink()  # the GeoPackage driver refuses to write into an existing empty file
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_features(
    path: Path, records: Sequence[Mapping[str, Any]], columns: Sequence[str]
) -> None:
    """Write records (``columns`` plus a ``geometry`` GeoJSON dict) to GeoJSON or GPKG by suffix.

    The file is written to a temporary name beside ``path`` and renamed over it, so readers never
    see a half-written file. GeoJSON keeps the stored coordinates exactly.
    """
    suffix = path.suffix.lower()
    if suffix in GEOJSON_SUFFIXES:

        def write(tmp: Path) -> None:
            features = [
                {
                    "type": "Feature",
                    "properties": {k: r.get(k) for k in columns},
                    "geometry": r["geometry"],
                }
                for r in records
            ]
            collection = {"type": "FeatureCollection", "features": features}
            tmp.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")

    elif suffix in GPKG_SUFFIXES:

        def write(tmp: Path) -> None:
            import geopandas as gpd
            import pyogrio

            props = [{k: r.get(k) for k in columns} for r in records]
            geoms = [from_geojson(r["geometry"]) for r in records]
            gdf = gpd.GeoDataFrame(props, columns=list(columns), geometry=geoms, crs="EPSG:4326")
            pyogrio.write_dataframe(
                gdf,
                tmp,
                layer=LAYER,
                driver="GPKG",
                geometry_type="Unknown",
                promote_to_multi=False,
            )

    else:
        raise RegistryInputError(
            f"{path.name}: export files must end in .geojson, .json or .gpkg", field="path"
        )
    _replace_atomically(path, write)
