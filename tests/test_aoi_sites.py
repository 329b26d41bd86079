"""The project sites under ``aoi/``: geometry, areas, codes, and import into the registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape
from shapely.strtree import STRtree

from mrv.geo import read_boundary
from mrv.registry.core import Registry
from mrv.registry.db import make_engine, migrate
from mrv.registry.parcels import import_parcels
from mrv.registry.parties import create_party
from mrv.settings import Settings

AOI = Path(__file__).resolve().parents[1] / "aoi"
# site: (county code, land type, code prefix, min parcels, max parcels)
SITES = {
    "anji-bamboo": ("330523", "bamboo", "AJB", 180, 220),
    "xiazhu-lake-wetland": ("330521", "wetland", "XZW", 3, 15),
    "nanxun-farmland": ("330503", "farmland", "NXF", 20, 300),
    "anji-white-tea": ("330523", "tea", "AJT", 20, 300),
}
PROPS = {"code", "owner", "land_type", "certificate", "area_ha", "area_mu"}
_TO_4549 = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True)


def _metric(geom: Any) -> Any:
    """Independent of mrv: project every vertex to EPSG:4549 one ring at a time."""
    if geom.geom_type == "MultiPolygon":
        return shapely.MultiPolygon([_metric(g) for g in geom.geoms])
    rings = [geom.exterior, *geom.interiors]
    projected = []
    for ring in rings:
        lon, lat = (list(v) for v in zip(*ring.coords, strict=True))
        x, y = _TO_4549.transform(lon, lat)
        projected.append(list(zip(x, y, strict=True)))
    ext, holes = projected[0], projected[1:]
    return shapely.Polygon(ext, holes)


def _load(site: str, name: str) -> list[dict[str, Any]]:
    data = json.loads((AOI / site / name).read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    features: list[dict[str, Any]] = data["features"]
    return features


@pytest.mark.parametrize("site", sorted(SITES))
def test_site_geometry_areas_and_codes(site: str) -> None:
    county_code, land_type, prefix, lo, hi = SITES[site]
    (boundary_feature,) = _load(site, "boundary.geojson")
    boundary = shape(boundary_feature["geometry"])
    assert boundary.geom_type == "Polygon" and boundary.is_valid
    assert (AOI / site / "README.md").is_file()
    county = read_boundary(AOI / "counties" / f"{county_code}.geojson", "gcj02")
    assert county.contains(boundary)

    features = _load(site, "parcels.geojson")
    assert lo <= len(features) <= hi
    shapes = [shape(f["geometry"]) for f in features]
    props = [f["properties"] for f in features]
    expected = PROPS | ({"crop"} if land_type == "farmland" else set())
    assert all(set(p) == expected for p in props)
    codes = [p["code"] for p in props]
    assert len(set(codes)) == len(codes)
    assert all(c.startswith(prefix + "-") for c in codes)
    assert {p["land_type"] for p in props} == {land_type}
    if land_type == "farmland":
        assert {p["crop"] for p in props} == {"paddy", "upland"}

    boundary_m = _metric(boundary)
    metric = [_metric(s) for s in shapes]
    for s, m, p in zip(shapes, metric, props, strict=True):
        assert s.is_valid and county.contains(s)
        assert m.difference(boundary_m).area < 0.01  # m²: inside the boundary
        area_ha = m.area / 10_000.0
        assert p["area_ha"] == pytest.approx(area_ha, rel=0.005)
        assert p["area_mu"] == pytest.approx(area_ha * 15.0, rel=0.005)
    tree = STRtree(metric)
    pairs = tree.query(metric, predicate="intersects")
    for i, j in pairs.T:
        if i < j:
            assert metric[i].intersection(metric[j]).area <= 1.0, (codes[i], codes[j])
    # the parcels tile the boundary
    total_m2 = sum(m.area for m in metric)
    assert total_m2 == pytest.approx(boundary_m.area, rel=1e-4)
    assert boundary_feature["properties"]["area_ha"] == pytest.approx(total_m2 / 1e4, rel=1e-4)


def test_bamboo_and_tea_plots_are_household_sized() -> None:
    for site in ("anji-bamboo", "anji-white-tea"):
        mus = [f["properties"]["area_mu"] for f in _load(site, "parcels.geojson")]
        assert 1.0 <= min(mus) and max(mus) <= 20.0
        owners = [f["properties"]["owner"] for f in _load(site, "parcels.geojson")]
        assert len(set(owners)) < len(owners)  # several parcels per household


@pytest.mark.parametrize("site", sorted(SITES))
def test_parcels_import_into_a_fresh_registry(site: str, tmp_path: Path) -> None:
    path = AOI / site / "parcels.geojson"
    features = _load(site, "parcels.geojson")
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    migrate(engine)
    registry = Registry(engine, Settings(data_dir=tmp_path / "data"))
    try:
        create_party(registry, actor="root", code="root", name="Registry", roles=["admin"])
        create_party(registry, actor="root", code="coop", name="Coop", roles=["cooperative"])
        for owner in sorted({f["properties"]["owner"] for f in features}):
            role = "village_collective" if "-vc-" in owner else "owner_household"
            create_party(registry, actor="root", code=owner, name=owner, roles=[role])
        result = import_parcels(registry, actor="coop", path=path).result
    finally:
        registry.close()
    assert result["count"] == len(features)
    assert result["parcels"] == [f["properties"]["code"] for f in features]
    independent_ha = sum(_metric(shape(f["geometry"])).area for f in features) / 10_000.0
    assert result["area_ha"] == pytest.approx(independent_ha, rel=1e-6)
