"""Generate the project sites under ``aoi/`` (boundary + parcels per site, WGS84, seeded).

Four sites, each a folder with ``boundary.geojson`` (a FeatureCollection with one polygon) and
``parcels.geojson`` (FeatureCollection; properties ``code``, ``owner``, ``land_type``,
``certificate``, ``area_ha``, ``area_mu``, plus ``crop`` for farmland):

* ``anji-bamboo``: moso-bamboo household plots in the hills of Tianhuangping (天荒坪镇), Anji;
* ``xiazhu-lake-wetland``: wetland units of Xiazhu Lake (下渚湖), Deqing, held by villages;
* ``nanxun-farmland``: paddy and upland fields on the Taihu plain, Nanxun;
* ``anji-white-tea``: white-tea household gardens around Huangdu village (黄杜村), Xilong, Anji.

The boundaries are hand-placed polygons (approximate locations, not surveyed or digitised
boundaries); the parcels are synthetic: Voronoi cells of a jittered grid of seeds (bamboo, tea,
wetland) or a rotated grid of rectangular fields with random widths (farmland), clipped to the
boundary in EPSG:4549 metres and then in WGS84 on a 1e-7° grid (about 1 cm) so that neighbours
share their edges exactly. Cells below a site's minimum size are merged into the neighbour with
the longest shared edge. Areas are computed in EPSG:4549 (:func:`mrv.geo.area_ha`); mu = ha × 15.
Every boundary is checked to lie inside the real county boundary (``aoi/counties/``, GCJ-02 as
published, converted to WGS84 on reading).

Run from the repository root: ``python tools/make_aoi_sites.py`` (rewrites the files
identically).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry

from mrv.geo import AREA_CRS, area_ha, areas_ha, read_boundary, to_metric
from mrv.units import ha_to_mu

AOI = Path("aoi")
GRID_DEG = 1e-7
"""Coordinate grid of the written files (degrees; ~1 cm)."""

_TO_WGS = Transformer.from_crs(AREA_CRS, "EPSG:4326", always_xy=True)


@dataclass(frozen=True)
class Site:
    """One area of interest and how its parcels are generated."""

    slug: str
    name: str
    name_zh: str
    county_code: str
    county_zh: str
    land_type: str
    code_prefix: str
    owner_prefix: str
    cert_office: str
    """Registration office in the certificate id, e.g. ``安吉县``."""
    boundary: tuple[tuple[float, float], ...]
    """Hand-placed vertices, WGS84 lon/lat."""
    layout: str
    """``voronoi`` or ``fields``."""
    spacing_m: float
    min_mu: float
    max_mu: float
    parcels_per_owner: tuple[int, int]
    seed: int


SITES = (
    Site(
        slug="anji-bamboo",
        name="Anji moso-bamboo project, Tianhuangping",
        name_zh="安吉县天荒坪镇毛竹林碳汇项目",
        county_code="330523",
        county_zh="安吉县",
        land_type="bamboo",
        code_prefix="AJB",
        owner_prefix="ajb-hh",
        cert_office="安吉县",
        # a valley side south-west of the Tianhuangping town centre, just north of the bundled
        # bamboo_moso example; vertices follow an imagined ridge line (no DEM was used)
        boundary=(
            (119.5977, 30.4801),
            (119.6013, 30.4786),
            (119.6055, 30.4791),
            (119.6092, 30.4785),
            (119.6118, 30.4808),
            (119.6111, 30.4837),
            (119.6084, 30.4856),
            (119.6057, 30.4851),
            (119.6033, 30.4867),
            (119.6000, 30.4860),
            (119.5974, 30.4840),
            (119.5967, 30.4818),
        ),
        layout="voronoi",
        spacing_m=70.0,
        min_mu=1.5,
        max_mu=20.0,
        parcels_per_owner=(1, 5),
        seed=20250401,
    ),
    Site(
        slug="xiazhu-lake-wetland",
        name="Xiazhu Lake wetland, Deqing",
        name_zh="德清县下渚湖湿地",
        county_code="330521",
        county_zh="德清县",
        land_type="wetland",
        code_prefix="XZW",
        owner_prefix="xzw-vc",
        cert_office="德清县",
        # the central lake and its reed/lotus margins around 120.04-120.07 E, 30.51-30.54 N
        boundary=(
            (120.0405, 30.5190),
            (120.0452, 30.5152),
            (120.0521, 30.5139),
            (120.0588, 30.5158),
            (120.0651, 30.5149),
            (120.0697, 30.5188),
            (120.0702, 30.5249),
            (120.0668, 30.5297),
            (120.0683, 30.5341),
            (120.0624, 30.5372),
            (120.0551, 30.5356),
            (120.0489, 30.5378),
            (120.0431, 30.5339),
            (120.0412, 30.5281),
            (120.0381, 30.5236),
        ),
        layout="voronoi",
        spacing_m=850.0,
        min_mu=300.0,
        max_mu=1500.0,
        parcels_per_owner=(1, 3),
        seed=20250402,
    ),
    Site(
        slug="nanxun-farmland",
        name="Nanxun farmland, Taihu plain",
        name_zh="南浔区农田土壤碳汇项目",
        county_code="330503",
        county_zh="南浔区",
        land_type="farmland",
        code_prefix="NXF",
        owner_prefix="nxf-hh",
        cert_office="湖州市南浔区",
        # a polder block of the Taihu plain in southern Nanxun, south-east of the bundled
        # farmland_soc example; edges follow imagined canals
        boundary=(
            (120.2601, 30.7598),
            (120.2698, 30.7581),
            (120.2712, 30.7622),
            (120.2709, 30.7671),
            (120.2655, 30.7683),
            (120.2603, 30.7679),
            (120.2589, 30.7640),
        ),
        layout="fields",
        spacing_m=0.0,
        min_mu=4.0,
        max_mu=40.0,
        parcels_per_owner=(1, 4),
        seed=20250403,
    ),
    Site(
        slug="anji-white-tea",
        name="Anji white-tea gardens, Huangdu village, Xilong",
        name_zh="安吉县溪龙乡黄杜村白茶园",
        county_code="330523",
        county_zh="安吉县",
        land_type="tea",
        code_prefix="AJT",
        owner_prefix="ajt-hh",
        cert_office="安吉县",
        # low hills of Huangdu village, inside the bundled tea_garden example's area
        boundary=(
            (119.7374, 30.5755),
            (119.7413, 30.5746),
            (119.7450, 30.5758),
            (119.7463, 30.5787),
            (119.7439, 30.5810),
            (119.7400, 30.5813),
            (119.7371, 30.5794),
        ),
        layout="voronoi",
        spacing_m=62.0,
        min_mu=2.0,
        max_mu=20.0,
        parcels_per_owner=(1, 4),
        seed=20250404,
    ),
)


def _to_metric(geom: BaseGeometry) -> BaseGeometry:
    return to_metric([geom])[0]


def _to_wgs(geom: BaseGeometry) -> BaseGeometry:
    def fn(c: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        x, y = _TO_WGS.transform(c[:, 0], c[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


def _voronoi_cells(site: Site, boundary_m: BaseGeometry, rng: np.random.Generator) -> list[Any]:
    """Voronoi cells (metres) of a jittered grid of seeds inside the boundary."""
    x0, y0, x1, y1 = boundary_m.bounds
    s = site.spacing_m
    xs = np.arange(x0 + s / 2, x1, s)
    ys = np.arange(y0 + s / 2, y1, s)
    gx, gy = np.meshgrid(xs, ys)
    px = gx.ravel() + rng.uniform(-0.35, 0.35, gx.size) * s
    py = gy.ravel() + rng.uniform(-0.35, 0.35, gy.size) * s
    inside = shapely.contains_xy(boundary_m, px, py)
    seeds = MultiPoint(np.column_stack([px[inside], py[inside]]))
    cells = shapely.voronoi_polygons(seeds, extend_to=boundary_m.buffer(4 * s))
    return list(cells.geoms)


def _field_cells(boundary_m: BaseGeometry, rng: np.random.Generator) -> list[Any]:
    """Rectangular fields (metres): a grid turned 14° with random strip lengths and widths."""
    angle = math.radians(14.0)
    c = boundary_m.centroid
    x0, y0, x1, y1 = boundary_m.bounds
    half = 0.75 * max(x1 - x0, y1 - y0) + 300.0
    cells: list[Any] = []
    u = -half
    while u < half:
        length = float(rng.uniform(150.0, 230.0))
        v = -half
        while v < half:
            width = float(rng.choice([40.0, 45.0, 50.0, 55.0, 60.0, 70.0]))
            corners = [(u, v), (u + length, v), (u + length, v + width), (u, v + width)]
            rotated = [
                (
                    c.x + a * math.cos(angle) - b * math.sin(angle),
                    c.y + a * math.sin(angle) + b * math.cos(angle),
                )
                for a, b in corners
            ]
            cells.append(Polygon(rotated))
            v += width
        u += length
    return cells


def _partition(cells: list[Any], boundary: BaseGeometry) -> list[Any]:
    """The faces of the cells' edges and the boundary ring inside the boundary (WGS84).

    Noding all edges together on the grid (snap rounding) puts every T-junction vertex into both
    neighbours, so the faces share their edges vertex for vertex.
    """
    rings = [c.exterior for c in cells] + [boundary.exterior]
    lines = shapely.union_all(rings, grid_size=GRID_DEG)  # snap-rounded noding on the grid
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    return [f for f in faces if f.area > 0 and boundary.contains(f.representative_point())]


def _merge_small(parts: list[Any], min_ha: float) -> list[Any]:
    """Merge every part below ``min_ha`` into the neighbour sharing the longest edge with it."""
    parts = list(parts)
    while True:
        areas = [float(a) for a in areas_ha(parts)]
        small = [i for i, a in enumerate(areas) if a < min_ha]
        if not small:
            return parts
        i = min(small, key=lambda k: areas[k])
        shared = [
            (shapely.intersection(parts[i].boundary, parts[j].boundary).length, j)
            for j in range(len(parts))
            if j != i and parts[i].intersects(parts[j])
        ]
        length, j = max(shared)
        if length <= 0:
            raise SystemExit(f"a {areas[i]:.3f} ha piece has no neighbour to merge into")
        merged = shapely.union(parts[i], parts[j], grid_size=GRID_DEG)
        if merged.geom_type != "Polygon":
            raise SystemExit("merging two neighbours did not give one polygon")
        parts = [p for k, p in enumerate(parts) if k not in (i, j)] + [merged]


def _order(parts: list[Any]) -> list[Any]:
    """North to south in 150 m bands, west to east within a band (a surveyor's numbering)."""

    def key(p: Any) -> tuple[int, float]:
        pt = p.representative_point()
        return (-round(pt.y / 0.00135), pt.x)

    return sorted(parts, key=key)


def _round_coords(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 7)
    if isinstance(obj, list | tuple):
        return [_round_coords(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _round_coords(v) for k, v in obj.items()}
    return obj


def _geojson(geom: BaseGeometry) -> dict[str, Any]:
    mapped: dict[str, Any] = _round_coords(shapely.geometry.mapping(geom))
    return mapped


def _write(path: Path, features: list[dict[str, Any]]) -> None:
    collection = {"type": "FeatureCollection", "features": features}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text.replace('{"type":"Feature"', '\n{"type":"Feature"') + "\n", "utf-8")


def _crops(parts: list[Any], rng: np.random.Generator) -> list[str]:
    """Paddy, except upland on the fields nearest the (imagined) village along the north edge."""
    ys = np.array([p.representative_point().y for p in parts])
    cut = float(np.quantile(ys, 0.75))
    draws = rng.uniform(size=len(parts))
    return ["upland" if y >= cut and d < 0.8 else "paddy" for y, d in zip(ys, draws, strict=True)]


def make_site(site: Site) -> dict[str, Any]:
    """Write one site's files and return its summary."""
    rng = np.random.default_rng(site.seed)
    county = read_boundary(AOI / "counties" / f"{site.county_code}.geojson", "gcj02")
    boundary = shapely.set_precision(Polygon(site.boundary), GRID_DEG)
    if not (boundary.is_valid and county.contains(boundary)):
        raise SystemExit(f"{site.slug}: boundary invalid or not inside {site.county_zh}")
    boundary_m = _to_metric(boundary)
    if site.layout == "voronoi":
        cells_m = _voronoi_cells(site, boundary_m, rng)
    else:
        cells_m = _field_cells(boundary_m, rng)
    parts = _partition([_to_wgs(c) for c in cells_m if c.intersects(boundary_m)], boundary)
    parts = _order(_merge_small(parts, site.min_mu / 15.0))
    areas = [float(a) for a in areas_ha(parts)]
    too_big = [a for a in areas if ha_to_mu(a) > site.max_mu]
    if too_big:
        raise SystemExit(f"{site.slug}: {len(too_big)} parcels above {site.max_mu} mu")
    crops = _crops(parts, rng) if site.land_type == "farmland" else []

    features: list[dict[str, Any]] = []
    owner_no = 0
    left = 0
    owner = cert = ""
    for k, (part, a) in enumerate(zip(parts, areas, strict=True)):
        if left == 0:  # next household (or village): a run of neighbouring parcels
            owner_no += 1
            lo, hi = site.parcels_per_owner
            left = int(rng.integers(lo, hi + 1))
            owner = f"{site.owner_prefix}-{owner_no:03d}"
            year = int(rng.integers(2019, 2024))
            number = int(rng.integers(1, 10_000_000))
            cert = f"浙({year}){site.cert_office}不动产权第{number:07d}号"
        left -= 1
        props: dict[str, Any] = {
            "code": f"{site.code_prefix}-{k + 1:04d}",
            "owner": owner,
            "land_type": site.land_type,
            "certificate": cert,
            "area_ha": round(a, 4),
            "area_mu": round(ha_to_mu(a), 3),
        }
        if crops:
            props["crop"] = crops[k]
        features.append({"type": "Feature", "properties": props, "geometry": _geojson(part)})

    # the written boundary is the union of the parcels: the hand-placed polygon to within the
    # 1e-7° grid (snapping the clipped edges moves them by millimetres), so that every parcel
    # lies exactly inside it
    shapes = [shapely.geometry.shape(f["geometry"]) for f in features]
    union = shapely.union_all(shapes, grid_size=GRID_DEG)
    if union.geom_type != "Polygon" or len(union.interiors) or not county.contains(union):
        raise SystemExit(f"{site.slug}: the parcels do not make one polygon inside the county")
    boundary = union
    bshape = shapely.geometry.shape(_geojson(boundary))
    total = sum(areas)
    if not all(s.is_valid for s in shapes):
        raise SystemExit(f"{site.slug}: invalid parcel geometry")
    outside = area_ha(shapely.difference(union, bshape))
    if outside > 1e-4:
        raise SystemExit(f"{site.slug}: parcels {outside * 1e4:.1f} m² outside the boundary")
    if abs(area_ha(union) - total) > 1e-4 or abs(area_ha(Polygon(site.boundary)) - total) > 0.01:
        raise SystemExit(f"{site.slug}: parcels overlap")
    b_ha = area_ha(boundary)
    out = AOI / site.slug
    out.mkdir(parents=True, exist_ok=True)
    boundary_feature = {
        "type": "Feature",
        "properties": {
            "site": site.slug,
            "name": site.name,
            "name_zh": site.name_zh,
            "county": site.county_code,
            "county_zh": site.county_zh,
            "land_type": site.land_type,
            "datum": "WGS84",
            "area_ha": round(b_ha, 4),
            "area_mu": round(ha_to_mu(b_ha), 3),
        },
        "geometry": _geojson(boundary),
    }
    _write(out / "boundary.geojson", [boundary_feature])
    _write(out / "parcels.geojson", features)
    owners = {f["properties"]["owner"] for f in features}
    summary = {
        "site": site.slug,
        "parcels": len(features),
        "owners": len(owners),
        "area_ha": round(total, 2),
        "area_mu": round(ha_to_mu(total), 1),
        "boundary_ha": round(b_ha, 2),
        "min_mu": round(ha_to_mu(min(areas)), 2),
        "max_mu": round(ha_to_mu(max(areas)), 2),
    }
    if crops:
        summary["paddy"] = crops.count("paddy")
        summary["upland"] = crops.count("upland")
    return summary


def main() -> None:
    """Write every site and print a summary line per site."""
    for site in SITES:
        print(json.dumps(make_site(site), ensure_ascii=False))


if __name__ == "__main__":
    main()
