"""A site folder of ``aoi/``: ``boundary.geojson`` and ``parcels.geojson`` (WGS84)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from mrv.errors import FileFormatError, InputError, Problem
from mrv.geo import area_ha, read_boundary

PARCEL_FIELDS = ("code", "owner", "land_type", "area_ha")
"""Properties every parcel of a site carries (``certificate`` and ``area_mu`` are optional)."""


@dataclass(frozen=True)
class Site:
    """A project site: its boundary (WGS84) and parcels (WGS84 GeoDataFrame)."""

    name: str
    folder: Path
    boundary: BaseGeometry
    parcels: Any

    @property
    def boundary_path(self) -> Path:
        """The boundary file."""
        return self.folder / "boundary.geojson"

    @property
    def parcels_path(self) -> Path:
        """The parcels file."""
        return self.folder / "parcels.geojson"

    @property
    def boundary_area_ha(self) -> float:
        """Area of the boundary in EPSG:4549 (ha)."""
        return area_ha(self.boundary)


def load_site(folder: Path) -> Site:
    """Read a site folder; problems name the file, feature and field."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileFormatError(str(folder), "site folder not found")
    boundary = read_boundary(folder / "boundary.geojson", "wgs84")
    parcels_path = folder / "parcels.geojson"
    if not parcels_path.exists():
        raise FileFormatError(str(parcels_path), "parcels file not found")
    parcels = gpd.read_file(parcels_path)
    if parcels.crs is None:
        raise FileFormatError(str(parcels_path), "parcels file has no CRS")
    parcels = parcels.to_crs("EPSG:4326")
    problems = [
        Problem(reason="missing field", file=str(parcels_path), column=name)
        for name in PARCEL_FIELDS
        if name not in parcels.columns
    ]
    if not problems:
        dup = parcels["code"][parcels["code"].duplicated()]
        problems += [
            Problem(
                reason=f"duplicate parcel code {code!r}",
                file=str(parcels_path),
                feature=str(i),
                column="code",
            )
            for i, code in dup.items()
        ]
    if problems:
        raise InputError(f"{parcels_path}: invalid parcels", problems)
    return Site(folder.name, folder, boundary, parcels.reset_index(drop=True))


__all__ = ["PARCEL_FIELDS", "Site", "load_site"]
