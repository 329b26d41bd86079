"""Outputs of a satellite run described as STAC: one Item per raster/vector output, with the
projection and file extensions (size and SHA-256 multihash checksum), in a self-contained
catalog written next to the files (relative links), so a verifier can check every byte.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pystac
from pyproj import Transformer
from pystac.extensions.file import FileExtension
from pystac.extensions.projection import ProjectionExtension
from shapely.geometry import box, mapping

from mrv.hashing import sha256_file
from pipelines.satellite.cube import Grid

COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
MEDIA_TYPES = {
    ".tif": COG_MEDIA_TYPE,
    ".geojson": "application/geo+json",
    ".gpkg": "application/geopackage+sqlite3",
    ".json": "application/json",
}


@dataclass(frozen=True)
class Output:
    """One output file of a run and what it is."""

    path: Path
    kind: str
    """e.g. ``land_cover``, ``carbon_density``, ``carbon_uncertainty``, ``change``, ``strata``."""
    title: str
    grid: Grid | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)


def _wgs84_bbox(grid: Grid) -> list[float]:
    t = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    left, bottom, right, top = grid.bounds
    xs, ys = t.transform([left, right, right, left], [bottom, bottom, top, top])
    return [min(xs), min(ys), max(xs), max(ys)]


def stac_item(
    output: Output,
    *,
    start: datetime,
    end: datetime,
    bbox_wgs84: Sequence[float] | None = None,
) -> pystac.Item:
    """A STAC Item for one output file (asset href relative to the item's folder)."""
    bbox = list(bbox_wgs84) if bbox_wgs84 is not None else (
        _wgs84_bbox(output.grid) if output.grid is not None else None
    )  # fmt: skip
    item = pystac.Item(
        id=output.path.stem,
        geometry=mapping(box(*bbox)) if bbox else None,
        bbox=bbox,
        datetime=None,
        start_datetime=start,
        end_datetime=end,
        properties={"title": output.title, "mrv:kind": output.kind, **dict(output.properties)},
    )
    asset = pystac.Asset(
        href=output.path.name,
        media_type=MEDIA_TYPES.get(output.path.suffix.lower()),
        roles=["data"],
        title=output.title,
    )
    item.add_asset("data", asset)
    files = FileExtension.ext(asset, add_if_missing=True)
    files.size = output.path.stat().st_size
    files.checksum = "1220" + sha256_file(output.path)  # multihash: sha2-256, 32 bytes
    if output.grid is not None:
        proj = ProjectionExtension.ext(item, add_if_missing=True)
        proj.code = output.grid.crs
        proj.shape = [output.grid.height, output.grid.width]
        proj.transform = list(output.grid.transform)
    return item


def write_catalog(
    out_dir: Path,
    outputs: Sequence[Output],
    *,
    title: str,
    start: datetime,
    end: datetime,
    catalog_id: str = "mrv-satellite-run",
) -> Path:
    """Write ``catalog.json`` plus one item JSON per output into ``out_dir``; returns the path."""
    catalog = pystac.Catalog(id=catalog_id, description=title, title=title)
    for output in outputs:
        item = stac_item(output, start=start, end=end)
        catalog.add_item(item)
    catalog.normalize_hrefs(str(out_dir))
    for item in catalog.get_items():
        # keep each asset beside the data file: items live in <id>/<id>.json
        for asset in item.assets.values():
            asset.href = str(Path("..") / asset.href)
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return out_dir / "catalog.json"
