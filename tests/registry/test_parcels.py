"""Parcel import (GeoJSON/GPKG, any CRS, GCJ-02), bad-feature reports, overlaps, export.

Test parcels are squares built in EPSG:4549 metres around Anji (lon 119.68, lat 30.64), so their
areas are known by hand: 300 m × 300 m = 9 ha = 135 mu.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select

from mrv.datums import wgs84_to_gcj02
from mrv.errors import ForbiddenError, ParcelOverlapError, RegistryInputError
from mrv.registry.core import Registry
from mrv.registry.journal import canonical, sha256_hex
from mrv.registry.models import JournalEvent, Parcel
from mrv.registry.overlaps import OVERLAP_TOLERANCE_HA, find_overlaps
from mrv.registry.parcels import (
    export_parcels,
    get_parcel,
    import_parcels,
    list_parcels,
)
from mrv.registry.parties import create_party

ADMIN = "root"
PARTIES: list[tuple[str, list[str]]] = [
    ("coop", ["cooperative"]),
    ("coop2", ["cooperative"]),
    ("hh1", ["owner_household"]),
    ("hh2", ["owner_household"]),
    ("vil", ["village_collective"]),
    ("ver", ["verifier"]),
    ("ver2", ["verifier"]),
    ("bureau", ["bureau"]),
    ("buyer", ["buyer"]),
]
_TO_WGS = Transformer.from_crs("EPSG:4549", "EPSG:4326", always_xy=True)
_TO_METRIC = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True)
X0, Y0 = _TO_METRIC.transform(119.68, 30.64)


# -- builders shared with test_contracts and test_projects ---------------------------------


def setup_parties(registry: Registry) -> None:
    """The admin ``root`` and the parties of :data:`PARTIES` (real create_party)."""
    create_party(registry, actor=ADMIN, code=ADMIN, name="Registry", roles=["admin"])
    for code, roles in PARTIES:
        create_party(registry, actor=ADMIN, code=code, name=code.upper(), roles=roles)


def metric_square(x: float, y: float, width: float = 300.0, height: float | None = None) -> Polygon:
    """A rectangle in EPSG:4549 metres, ``(x, y)`` metres east/north of the Anji origin."""
    return box(X0 + x, Y0 + y, X0 + x + width, Y0 + y + (height or width))


def square(x: float, y: float, width: float = 300.0, height: float | None = None) -> BaseGeometry:
    """The same rectangle in WGS84 lon/lat."""
    return shapely.transform(
        metric_square(x, y, width, height),
        lambda c: __import__("numpy").column_stack(_TO_WGS.transform(c[:, 0], c[:, 1])),
    )


def feature(code: str | None, geom: BaseGeometry | None, **props: Any) -> dict[str, Any]:
    """A GeoJSON feature with ``code`` and land type bamboo unless overridden."""
    properties = {"code": code, "land_type": "bamboo", **props}
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": shapely.geometry.mapping(geom) if geom is not None else None,
    }


def write_geojson(path: Path, features: Sequence[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


def import_squares(
    registry: Registry,
    tmp_path: Path,
    specs: Sequence[tuple[str, str | None, float, float]],
    *,
    name: str = "parcels.geojson",
    width: float = 300.0,
    **kwargs: Any,
) -> dict[str, Any]:
    """Import ``(code, owner, x, y)`` squares from a GeoJSON file; returns the receipt result."""
    features = [feature(code, square(x, y, width), owner=owner) for code, owner, x, y in specs]
    path = write_geojson(tmp_path / name, features)
    actor = kwargs.pop("actor", "coop")
    return import_parcels(registry, actor=actor, path=path, **kwargs).result


def count(registry: Registry, model: type = JournalEvent) -> int:
    with registry.read() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


# -- tests ---------------------------------------------------------------------------------


def test_import_geojson_stores_areas_hash_bbox_and_one_event(
    registry: Registry, tmp_path: Path
) -> None:
    setup_parties(registry)
    before = count(registry)
    features = [
        feature("A", square(0, 0), owner="hh1", certificate="浙(2023)安吉县林权第0000001号"),
        feature("B", square(300, 0), owner="hh1", note="shares an edge with A"),
        feature("C", square(0, 1000, 200, 100), owner="vil", land_type="forest"),
    ]
    path = write_geojson(tmp_path / "anji.geojson", features)
    receipt = import_parcels(registry, actor="coop", path=path)
    assert receipt.stream == "registry" and receipt.operation == "import_parcels"
    assert receipt.result["file"] == "anji.geojson"
    assert receipt.result["count"] == 3
    assert receipt.result["parcels"] == ["A", "B", "C"]
    assert receipt.result["area_ha"] == pytest.approx(9 + 9 + 2, abs=1e-6)
    assert count(registry) == before + 1  # one file, one event
    with registry.read() as conn:
        event = conn.execute(select(JournalEvent).order_by(JournalEvent.id.desc())).first()
    assert (
        event is not None and event.entity_type == "parcels" and event.entity_id == "anji.geojson"
    )

    a = get_parcel(registry, "A")
    assert a["area_ha"] == pytest.approx(9.0, abs=1e-6)
    assert a["area_mu"] == pytest.approx(135.0, abs=1e-5)
    assert a["owner"] == "hh1" and a["land_type"] == "bamboo"
    assert a["certificate"] == "浙(2023)安吉县林权第0000001号"
    assert a["geometry_sha256"] == sha256_hex(canonical(a["geometry"]))
    lon0, lat0, lon1, _ = a["bbox"]
    # the grid is turned slightly against the meridians (convergence), hence ~1 m slack
    assert lon0 == pytest.approx(119.68, abs=2e-5) and lat0 == pytest.approx(30.64, abs=2e-5)
    assert 0.0030 < lon1 - lon0 < 0.0032  # 300 m at 30.6° N ≈ 0.00313°
    assert shapely.geometry.shape(a["geometry"]).equals_exact(square(0, 0), 1e-9)
    assert get_parcel(registry, "B")["attributes"] == {"note": "shares an edge with A"}
    c = get_parcel(registry, "C")
    assert (c["owner"], c["land_type"], c["area_mu"]) == ("vil", "forest", pytest.approx(30.0))
    listed = list_parcels(registry, owner="hh1")
    assert [p["code"] for p in listed] == ["A", "B"]
    assert listed[0]["project"] is None and listed[0]["external_scheme"] is None
    assert [p["code"] for p in list_parcels(registry, land_type="forest")] == ["C"]


def test_import_gpkg_in_a_projected_crs_with_other_field_names(
    registry: Registry, tmp_path: Path
) -> None:
    setup_parties(registry)
    gdf = gpd.GeoDataFrame(
        {"parcel_no": ["G1", "G2"], "holder": ["hh2", "hh2"]},
        geometry=[metric_square(0, 0, 100), metric_square(500, 0, 200, 50)],
        crs="EPSG:4549",
    )
    path = tmp_path / "survey.gpkg"
    gdf.to_file(path, driver="GPKG")
    result = import_parcels(
        registry,
        actor="bureau",
        path=path,
        code_field="parcel_no",
        owner_field="holder",
        land_type="tea",
    ).result
    assert result["count"] == 2 and result["area_ha"] == pytest.approx(1.0 + 1.0, abs=1e-6)
    g1 = get_parcel(registry, "G1")
    assert g1["land_type"] == "tea" and g1["owner"] == "hh2"
    assert g1["bbox"][0] == pytest.approx(119.68, abs=2e-5)  # transformed to lon/lat


def test_every_bad_feature_is_reported_at_once_and_nothing_written(
    registry: Registry, tmp_path: Path
) -> None:
    setup_parties(registry)
    import_squares(registry, tmp_path, [("TAKEN", "hh1", 5000, 5000)], name="first.geojson")
    bowtie = Polygon([(119.68, 30.64), (119.69, 30.65), (119.69, 30.64), (119.68, 30.65)])
    features = [
        feature("OK", square(0, 0), owner="hh1"),  # 0: fine
        feature("NO-OWNER", square(400, 0)),  # 1: owner missing
        feature("BAD-TYPE", square(800, 0), owner="hh1", land_type="orchard"),  # 2
        feature("BOWTIE", bowtie, owner="hh1"),  # 3: self-intersection
        feature("EMPTY", None, owner="hh1"),  # 4: no geometry
        feature("POINT", Point(119.68, 30.64), owner="hh1"),  # 5: not a polygon
        feature("OK", square(0, 400), owner="hh1"),  # 6: duplicate code in the file
        feature("GHOST", square(1200, 0), owner="nobody"),  # 7: no such party
        feature("BUYER", square(1600, 0), owner="buyer"),  # 8: not an owner role
        feature("TAKEN", square(2000, 0), owner="hh1"),  # 9: code already registered
        feature(None, square(2400, 0), owner="hh1"),  # 10: no code
    ]
    path = write_geojson(tmp_path / "bad.geojson", features)
    events, parcels = count(registry), count(registry, Parcel)
    with pytest.raises(RegistryInputError) as info:
        import_parcels(registry, actor="coop", path=path)
    err = info.value
    assert str(err).startswith("bad.geojson: 10 problems, nothing imported: feature 1 (NO-OWNER)")
    problems = err.detail["problems"]
    got = {(p["feature"], p["field"]) for p in problems}
    assert got == {
        (1, "owner"),
        (2, "land_type"),
        (3, "geometry"),
        (4, "geometry"),
        (5, "geometry"),
        (6, "code"),
        (7, "owner"),
        (8, "owner"),
        (9, "code"),
        (10, "code"),
    }
    reasons = {p["feature"]: p["reason"] for p in problems}
    assert reasons[1] == "missing owner party code"
    assert "unknown land type 'orchard'" in reasons[2]
    assert reasons[3].startswith("invalid geometry: Self-intersection")
    assert reasons[4] == "empty geometry"
    assert reasons[5] == "not a polygon: Point"
    assert reasons[6] == "duplicate code 'OK' in the file (also feature 0)"
    assert reasons[7] == "no party 'nobody'"
    assert reasons[8] == "party 'buyer' is not an owner_household or village_collective"
    assert reasons[9] == "parcel 'TAKEN' is already in the registry"
    assert reasons[10] == "missing parcel code"
    assert all(p["file"] == "bad.geojson" for p in problems)
    assert (count(registry), count(registry, Parcel)) == (events, parcels)


def test_file_level_refusals(registry: Registry, tmp_path: Path) -> None:
    setup_parties(registry)
    events = count(registry)
    no_owner = write_geojson(tmp_path / "x.geojson", [feature("X", square(0, 0))])
    with pytest.raises(RegistryInputError, match=r"x\.geojson: 1 problem.*no field 'owner'"):
        import_parcels(registry, actor="coop", path=no_owner)
    with pytest.raises(RegistryInputError, match="file not found"):
        import_parcels(registry, actor="coop", path=tmp_path / "missing.geojson")
    (tmp_path / "p.csv").write_text("code\nA\n")
    with pytest.raises(RegistryInputError, match="GeoJSON"):
        import_parcels(registry, actor="coop", path=tmp_path / "p.csv")
    with pytest.raises(RegistryInputError, match="unknown datum") as info:
        import_parcels(registry, actor="coop", path=no_owner, datum="mars")
    assert info.value.detail["field"] == "datum"
    with pytest.raises(RegistryInputError, match="unknown external scheme"):
        import_parcels(registry, actor="coop", path=no_owner, external_scheme="gold")
    empty = write_geojson(tmp_path / "empty.geojson", [])
    with pytest.raises(RegistryInputError, match="no features"):
        import_parcels(registry, actor="coop", path=empty)
    ok = write_geojson(tmp_path / "ok.geojson", [feature("X", square(0, 0), owner="hh1")])
    with pytest.raises(ForbiddenError, match="bureau or cooperative"):
        import_parcels(registry, actor="buyer", path=ok)
    assert count(registry) == events and count(registry, Parcel) == 0


def test_own_parcels_may_not_overlap_beyond_tolerance(registry: Registry, tmp_path: Path) -> None:
    setup_parties(registry)
    import_squares(registry, tmp_path, [("A", "hh1", 0, 0)], name="a.geojson")
    events = count(registry)
    # against the database: D covers the east half of A (150 m × 300 m = 4.5 ha)
    with pytest.raises(ParcelOverlapError, match=r"D overlaps A by 4\.5 ha") as info:
        import_squares(registry, tmp_path, [("D", "hh2", 150, 0)], name="d.geojson")
    assert info.value.detail["overlaps"][0]["overlap_ha"] == pytest.approx(4.5)
    # within one file: F overlaps E by 100 m × 300 m = 3 ha
    with pytest.raises(ParcelOverlapError, match=r"E overlaps F by 3\.0 ha"):
        import_squares(
            registry, tmp_path, [("E", "hh2", 1000, 0), ("F", "hh2", 1200, 0)], name="ef.geojson"
        )
    assert count(registry) == events and count(registry, Parcel) == 1
    # a 0.2 m sliver along a 300 m edge (60 m² = 0.006 ha) is a digitising error: accepted
    assert OVERLAP_TOLERANCE_HA == 0.01
    import_squares(registry, tmp_path, [("S", "hh2", 299.8, 0)], name="s.geojson")
    with registry.read() as conn:
        ids = list(conn.execute(select(Parcel.id).where(Parcel.code == "S")).scalars())
        assert find_overlaps(conn, ids, against="own_parcels") == []
        found = find_overlaps(conn, ids, against="own_parcels", tolerance_ha=0.0)
    assert [(o["parcel"], o["other"]) for o in found] == [("S", "A")]
    assert found[0]["overlap_ha"] == pytest.approx(0.006, abs=1e-4)


def test_external_claims_may_overlap_and_need_no_owner(registry: Registry, tmp_path: Path) -> None:
    setup_parties(registry)
    import_squares(registry, tmp_path, [("A", "hh1", 0, 0)], name="a.geojson")
    claims = [
        feature("CCER-1", square(100, 0), ref="CCER-14-001-0001"),
        feature("CCER-2", square(150, 0), ref="CCER-14-001-0002"),
    ]
    path = write_geojson(tmp_path / "ccer.geojson", claims)
    result = import_parcels(
        registry,
        actor="bureau",
        path=path,
        land_type="forest",
        external_scheme="ccer",
        external_ref_field="ref",
    ).result
    assert result["count"] == 2
    claim = get_parcel(registry, "CCER-1")
    assert (claim["external_scheme"], claim["external_ref"], claim["owner"]) == (
        "ccer",
        "CCER-14-001-0001",
        None,
    )
    assert [p["code"] for p in list_parcels(registry, external=True)] == ["CCER-1", "CCER-2"]
    assert [p["code"] for p in list_parcels(registry, external=False)] == ["A"]
    # a missing claim reference is a problem of that feature
    bad = write_geojson(tmp_path / "z.geojson", [feature("Z", square(0, 0), ref=None)])
    with pytest.raises(RegistryInputError, match="feature 0 \\(Z\\), ref: missing claim"):
        import_parcels(
            registry, actor="coop", path=bad, external_scheme="vcs", external_ref_field="ref"
        )


def test_gcj02_import_shifts_coordinates_to_wgs84(registry: Registry, tmp_path: Path) -> None:
    setup_parties(registry)
    wgs = square(0, 0)
    gcj = shapely.transform(
        wgs, lambda c: __import__("numpy").column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1]))
    )
    # GCJ-02 moves Anji by a few hundred metres
    assert 0.001 < abs(gcj.bounds[0] - wgs.bounds[0]) < 0.01
    path = write_geojson(tmp_path / "amap.geojson", [feature("M", gcj, owner="hh1")])
    import_parcels(registry, actor="coop", path=path, datum="gcj02")
    stored = shapely.geometry.shape(get_parcel(registry, "M")["geometry"])
    assert stored.equals_exact(wgs, 1e-8)  # back on the WGS84 square (≈ 1 mm)
    assert get_parcel(registry, "M")["area_ha"] == pytest.approx(9.0, abs=1e-4)


def test_export_round_trip_geojson_and_gpkg(registry: Registry, tmp_path: Path) -> None:
    setup_parties(registry)
    import_squares(registry, tmp_path, [("A", "hh1", 0, 0), ("B", "vil", 1000, 0)])
    claims = write_geojson(tmp_path / "t.geojson", [feature("T", square(0, 2000), ref="票-1")])
    import_parcels(
        registry,
        actor="bureau",
        path=claims,
        external_scheme="forest_carbon_ticket",
        external_ref_field="ref",
    )
    out = tmp_path / "out" / "parcels.geojson"
    assert export_parcels(registry, out) == 3
    data = json.loads(out.read_text())
    props = {f["properties"]["code"]: f["properties"] for f in data["features"]}
    assert props["A"]["owner"] == "hh1" and props["A"]["area_mu"] == pytest.approx(135.0)
    assert props["T"]["external_scheme"] == "forest_carbon_ticket"
    assert props["T"]["external_ref"] == "票-1"
    assert set(props["B"]) == {
        "code",
        "owner",
        "land_type",
        "certificate",
        "area_ha",
        "area_mu",
        "external_scheme",
        "external_ref",
        "project",
    }
    for f in data["features"]:  # coordinates are kept exactly
        stored = get_parcel(registry, f["properties"]["code"])
        assert sha256_hex(canonical(f["geometry"])) == stored["geometry_sha256"]
    assert [p.name for p in out.parent.iterdir()] == ["parcels.geojson"]  # no temp file left

    gpkg = tmp_path / "own.gpkg"
    assert export_parcels(registry, gpkg, external=False) == 2
    gdf = pyogrio.read_dataframe(gpkg)
    assert sorted(gdf["code"]) == ["A", "B"] and gdf.crs.to_epsg() == 4326
    assert export_parcels(registry, gpkg, external=True) == 1  # replaces the file
    assert list(pyogrio.read_dataframe(gpkg)["code"]) == ["T"]

    # re-importing the export maps every field back: each code is now a duplicate
    events = count(registry)
    with pytest.raises(RegistryInputError) as info:
        import_parcels(registry, actor="coop", path=out, external_scheme="other")
    reasons = sorted(p["reason"] for p in info.value.detail["problems"])
    assert reasons == [f"parcel {c!r} is already in the registry" for c in ("A", "B", "T")]
    assert count(registry) == events


def test_idempotent_import_replays(registry: Registry, tmp_path: Path) -> None:
    setup_parties(registry)
    path = write_geojson(tmp_path / "a.geojson", [feature("A", square(0, 0), owner="hh1")])
    first = import_parcels(registry, actor="coop", path=path, idempotency_key="imp-1")
    again = import_parcels(registry, actor="coop", path=path, idempotency_key="imp-1")
    assert again.replayed and again.event_id == first.event_id
    assert count(registry, Parcel) == 1
