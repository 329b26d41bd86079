"""Routes of parcels: file uploads (GeoJSON, GeoPackage, GCJ-02, external claims) with every
problem of a refused file listed, the upload size limit, lists, one parcel and the export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import Polygon

from api.app import create_app
from api.routers.parcels import ExternalScheme, LandType, ParcelProject
from mrv.datums import wgs84_to_gcj02
from mrv.registry.core import Registry
from mrv.registry.models import EXTERNAL_SCHEMES, LAND_TYPES, PROJECT_STATES
from mrv.registry.parcels import get_parcel, list_parcels
from mrv.settings import Settings
from tests.api.conftest import TokenFor
from tests.api.support_credits import pages, problem, rows
from tests.api.support_workflow import collection, parties, upload
from tests.registry.builders import ADMIN, issued_batch
from tests.registry.test_parcels import feature, metric_square, square


def test_the_documented_values_are_the_registry_s() -> None:
    assert get_args(LandType) == LAND_TYPES and get_args(ExternalScheme) == EXTERNAL_SCHEMES
    assert get_args(ParcelProject.model_fields["status"].annotation) == PROJECT_STATES


@pytest.fixture
def world(client: TestClient, registry: Registry) -> None:
    parties(registry)


def test_cooperatives_import_an_uploaded_geojson(
    client: TestClient, registry: Registry, token_for: TokenFor, world: None
) -> None:
    coop, buyer = token_for("coop"), token_for("buyer")
    content = collection(
        [
            feature("A", square(0, 0), owner="hh1", certificate="浙(2023)安吉县林权第0000001号"),
            feature("B", square(300, 0), owner="hh1", village="递铺"),
            feature("C", square(0, 2000, 200, 150), owner="vil", land_type="forest"),
        ]
    )
    before = rows(registry)
    problem(upload(client, {}, content), 401, "unauthenticated")
    problem(upload(client, buyer, content), 403, "forbidden")
    problem(upload(client, coop, content, datum="mars"), 422, "invalid-input")
    problem(upload(client, coop, content, land_type="orchard"), 422, "invalid-input")
    bad = problem(upload(client, coop, content, name="parcels.txt"), 422, "invalid-input")
    assert bad["problems"][0]["reason"].startswith("parcel files must be GeoJSON")
    assert rows(registry) == before
    r = upload(client, coop, content, key="import-1")
    assert r.status_code == 201, r.text
    result = r.json()
    assert result["event"]["operation"] == "import_parcels" and result["file"] == "parcels.geojson"
    # 300 m × 300 m = 9 ha (135 mu) twice, and 200 m × 150 m = 3 ha (45 mu)
    assert (result["count"], result["parcels"]) == (3, ["A", "B", "C"])
    assert result["area_ha"] == pytest.approx(9 + 9 + 3, abs=1e-5)
    a = client.get("/v1/parcels/A", headers=coop).json()
    assert a == get_parcel(registry, "A")
    assert (a["owner"], a["land_type"], a["certificate"], a["project"]) == (
        "hh1", "bamboo", "浙(2023)安吉县林权第0000001号", None,
    )  # fmt: skip
    assert a["area_mu"] == pytest.approx(135.0, abs=1e-4) and a["contracts"] == []
    assert shapely.geometry.shape(a["geometry"]).equals_exact(square(0, 0), 1e-9)
    assert client.get("/v1/parcels/B", headers=coop).json()["attributes"] == {"village": "递铺"}
    again = upload(client, coop, content, key="import-1").json()
    assert again["event"]["replayed"] is True and again["parcels"] == result["parcels"]
    other = collection([feature("Z", square(5000, 0), owner="hh1")])
    problem(upload(client, coop, other, key="import-1"), 422, "idempotency-key-reused")
    problem(client.get("/v1/parcels/A"), 401, "unauthenticated")
    problem(client.get("/v1/parcels/NONE", headers=coop), 404, "not-found")


def test_a_refused_file_lists_every_problem_and_writes_nothing(
    client: TestClient, registry: Registry, token_for: TokenFor, world: None
) -> None:
    coop = token_for("coop")
    taken = collection([feature("TAKEN", square(5000, 0), owner="hh1")])
    assert upload(client, coop, taken).status_code == 201
    bowtie = Polygon([(119.68, 30.64), (119.69, 30.65), (119.69, 30.64), (119.68, 30.65)])
    content = collection(
        [
            feature("OK", square(0, 0), owner="hh1"),  # 0: fine
            feature("NO-OWNER", square(400, 0)),  # 1
            feature("BAD-TYPE", square(800, 0), owner="hh1", land_type="orchard"),  # 2
            feature("BOWTIE", bowtie, owner="hh1"),  # 3
            feature("GHOST", square(1200, 0), owner="nobody"),  # 4
            feature("TAKEN", square(2000, 0), owner="hh1"),  # 5
        ]
    )
    before = rows(registry)
    body = problem(upload(client, coop, content, name="bad.geojson"), 422, "invalid-input")
    assert body["detail"].startswith("bad.geojson: 5 problems, nothing imported: feature 1")
    found = body["problems"]
    assert {(p["feature"], p["code"], p["field"]) for p in found} == {
        (1, "NO-OWNER", "owner"), (2, "BAD-TYPE", "land_type"), (3, "BOWTIE", "geometry"),
        (4, "GHOST", "owner"), (5, "TAKEN", "code"),
    }  # fmt: skip
    assert {p["feature"]: p["reason"] for p in found}[4] == "no party 'nobody'"
    assert all(p["file"] == "bad.geojson" for p in found)
    broken = problem(upload(client, coop, b'{"type": "Feat'), 422, "invalid-input")
    assert "not a readable vector file" in broken["detail"]
    overlapping = collection([feature("OVER", square(5100, 0), owner="hh1")])
    problem(upload(client, coop, overlapping), 409, "parcel-overlap")
    assert rows(registry) == before


def test_geopackages_gcj02_files_and_external_claims(
    client: TestClient, registry: Registry, token_for: TokenFor, world: None, tmp_path: Path
) -> None:
    bureau = token_for("bureau")
    gdf = gpd.GeoDataFrame(
        {"parcel_no": ["G1", "G2"], "holder": ["hh2", "hh2"]},
        geometry=[metric_square(0, 0, 100), metric_square(500, 0, 200, 50)],
        crs="EPSG:4549",
    )
    gdf.to_file(tmp_path / "survey.gpkg", driver="GPKG")
    fields = {"code_field": "parcel_no", "owner_field": "holder", "land_type": "tea"}
    r = upload(client, bureau, (tmp_path / "survey.gpkg").read_bytes(), "survey.gpkg", **fields)
    assert r.status_code == 201, r.text
    assert r.json()["count"] == 2 and r.json()["area_ha"] == pytest.approx(1 + 1, abs=1e-6)
    assert get_parcel(registry, "G1")["land_type"] == "tea"
    wgs = square(0, 3000)
    gcj = shapely.transform(
        wgs, lambda c: __import__("numpy").column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1]))
    )
    amap = collection([feature("M", gcj, owner="hh1")])
    assert upload(client, bureau, amap, "amap.geojson", datum="gcj02").status_code == 201
    stored = shapely.geometry.shape(get_parcel(registry, "M")["geometry"])
    assert stored.equals_exact(wgs, 1e-5) and not stored.equals_exact(gcj, 1e-3)
    claims = collection(
        [
            feature("CCER-1", square(50, 0), ref="CCER-14-001-0001"),
            feature("CCER-2", square(60, 3000), ref="CCER-14-001-0002"),
        ]
    )
    form = {"land_type": "forest", "external_scheme": "ccer", "external_ref_field": "ref"}
    problem(upload(client, bureau, claims, external_scheme="ets"), 422, "invalid-input")
    r = upload(client, bureau, claims, "ccer.geojson", **form)
    assert r.status_code == 201, r.text
    claim = client.get("/v1/parcels/CCER-1", headers=bureau).json()
    assert (claim["external_scheme"], claim["external_ref"], claim["owner"]) == (
        "ccer", "CCER-14-001-0001", None,
    )  # fmt: skip


def test_uploads_have_their_own_size_limit(
    client: TestClient, registry: Registry, settings: Settings, token_for: TokenFor, world: None
) -> None:
    coop = token_for("coop")
    big = collection([feature("BIG", square(0, 0), owner="hh1", note="竹" * 3000)])
    assert len(big) > 4096  # above the JSON body limit of the test app, which uploads ignore
    assert upload(client, coop, big).status_code == 201
    small = create_app(settings.model_copy(update={"api_max_upload_bytes": 2048}), registry)
    with TestClient(small, raise_server_exceptions=False) as limited:
        before = rows(registry)
        other = collection([feature("BIG2", square(0, 500), owner="hh1", note="竹" * 3000)])
        body = problem(upload(limited, coop, other), 413, "too-large")
        assert body["limit_bytes"] == 2048
        assert rows(registry) == before


def test_parcels_are_listed_by_filter_and_page(
    client: TestClient, registry: Registry, token_for: TokenFor, world: None
) -> None:
    built = issued_batch(registry)
    admin = token_for(ADMIN)
    content = collection(
        [
            feature("A", square(0, 0), owner="hh1"),
            feature("B", square(300, 0), owner="hh1"),
            feature("C", square(0, 2000), owner="vil", land_type="forest"),
        ]
    )
    assert upload(client, admin, content).status_code == 201
    every = pages(client, "/v1/parcels", {"limit": 2}, admin)
    assert every == list_parcels(registry) and len(every) == 6
    mine = pages(client, "/v1/parcels", {"owner": "hh1", "limit": 1}, admin)
    assert [p["code"] for p in mine] == ["A", "B"]
    forest = client.get("/v1/parcels", params={"land_type": "forest"}, headers=admin).json()
    assert [p["code"] for p in forest["items"]] == ["C"]
    held = client.get("/v1/parcels", params={"project": "AJ001"}, headers=admin).json()["items"]
    assert [(p["code"], p["project"]) for p in held] == [(c, "AJ001") for c in built["parcels"]]
    claims = client.get("/v1/parcels", params={"external": "true"}, headers=admin).json()
    assert claims == {"items": [], "next_cursor": None}
    one = client.get(f"/v1/parcels/{built['parcels'][0]}", headers=admin).json()
    assert one["contracts"] == [
        {"code": built["contracts"][0], "status": "active", "cooperative": "anji-coop"}
    ]
    assert one["projects"] == [
        {"code": "AJ001", "status": "registered", "active": True, "contract": built["contracts"][0]}
    ]
    problem(client.get("/v1/parcels"), 401, "unauthenticated")
    problem(client.get("/v1/parcels", params={"owner": "nobody"}, headers=admin), 404, "not-found")
    problem(client.get("/v1/parcels", params={"land_type": "x"}, headers=admin), 422,
            "invalid-input")  # fmt: skip


def test_parcels_export_as_geojson(
    client: TestClient, registry: Registry, token_for: TokenFor, world: None
) -> None:
    built = issued_batch(registry)
    coop = token_for("coop")
    assert (
        upload(client, coop, collection([feature("A", square(0, 0), owner="hh1")])).status_code
        == 201
    )
    problem(client.get("/v1/parcels/export.geojson"), 401, "unauthenticated")
    r = client.get("/v1/parcels/export.geojson", headers=coop)
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    features: list[dict[str, Any]] = json.loads(r.content)["features"]
    assert [f["properties"]["code"] for f in features] == ["A", *built["parcels"]]
    assert features[0]["geometry"] == get_parcel(registry, "A")["geometry"]
    assert features[0]["properties"]["area_mu"] == pytest.approx(135.0, abs=1e-4)
    only = client.get("/v1/parcels/export.geojson", params={"project": "AJ001"}, headers=coop)
    assert [f["properties"]["project"] for f in only.json()["features"]] == ["AJ001"] * 3
