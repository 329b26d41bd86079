"""Evidence packages through the API: upload (stored by SHA-256), byte-identical download,
background verification (ok; a tampered byte names the file), refusals of files that are not
packages, and who may upload and verify.

The package is the toy run of :mod:`tests.package.toyrun` built and signed for real; its
verification re-computes with the toy's fast ``compute`` (injected as the app's
``package_verifier``) instead of re-running a whole campaign.
"""

from __future__ import annotations

import functools
import hashlib
import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from mrv.registry.core import Registry
from mrv.registry.models import ROLES
from mrv.settings import Settings
from pipelines.package.build import build_package
from pipelines.package.keys import generate_key, save_key
from pipelines.package.verify import verify_package
from tests.api.conftest import TokenFor
from tests.api.support_credits import problem
from tests.package.toyrun import compute, make_run
from tests.registry.builders import ADMIN, ensure_party

TAMPERED = "outputs/parcels.csv"


@pytest.fixture(scope="module")
def package_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The toy run's signed package as zip bytes."""
    folder = tmp_path_factory.mktemp("pkg")
    save_key(generate_key(), folder / "measurer.key")
    run = make_run(folder / "run")
    return build_package(run, folder / "measurer.key", folder / "package.zip").read_bytes()


def tampered(data: bytes, member: str) -> bytes:
    """The zip with one byte of ``member`` flipped (every other member as it was)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = bytearray(src.read(info))
            if info.filename == member:
                content[len(content) // 2] ^= 0x01
            dst.writestr(info, bytes(content))
    return out.getvalue()


@pytest.fixture
def app_client(registry: Registry, settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    ensure_party(registry, ADMIN, "Registry administrator", ["admin"])
    for code, role in (("bureau", "bureau"), ("ver", "verifier"), ("buyer", "buyer")):
        ensure_party(registry, code, code.upper(), [role])
    app = create_app(settings.model_copy(update={"data_dir": tmp_path}), registry=registry)
    app.state.package_verifier = functools.partial(verify_package, recompute=compute)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def upload(client: TestClient, headers: dict[str, str], data: bytes, name: str = "p.zip") -> Any:
    return client.post(
        "/v1/packages", headers=headers, files={"file": (name, data, "application/zip")}
    )


def stored(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "packages").glob("*"))


def jobs(tmp_path: Path) -> list[str]:
    return sorted(p.parent.name for p in (tmp_path / "jobs").glob("*/job.json"))


def verified(client: TestClient, sha: str, headers: dict[str, str]) -> dict[str, Any]:
    r = client.post(f"/v1/packages/{sha}/verification", headers=headers)
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/v1/packages/{sha}/verification"
    assert r.json()["kind"] == "package-verification" and r.json()["subject"] == sha
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(r.headers["location"], headers=headers).json()
        if job["id"] == r.json()["id"] and job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError("the verification did not finish")


def test_upload_download_and_verify(
    app_client: TestClient, token_for: TokenFor, package_zip: bytes, tmp_path: Path
) -> None:
    bureau, ver, buyer = token_for("bureau"), token_for("ver"), token_for("buyer")
    sha = hashlib.sha256(package_zip).hexdigest()
    r = upload(app_client, bureau, package_zip)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["sha256"], body["size"]) == (sha, len(package_zip))
    assert body["files"] == len(zipfile.ZipFile(io.BytesIO(package_zip)).namelist())
    assert stored(tmp_path) == [f"{sha}.zip"]
    assert upload(app_client, ver, package_zip).json() == body  # the same bytes: the same id
    assert stored(tmp_path) == [f"{sha}.zip"]

    got = app_client.get(f"/v1/packages/{sha}", headers=buyer)
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    assert got.content == package_zip
    problem(app_client.get(f"/v1/packages/{sha}"), 401, "unauthenticated")
    problem(app_client.get(f"/v1/packages/{'0' * 64}", headers=buyer), 404, "not-found")
    problem(app_client.get("/v1/packages/nothex", headers=buyer), 422, "invalid-input")

    url = f"/v1/packages/{sha}/verification"
    problem(app_client.get(url, headers=ver), 404, "not-found")  # not verified yet
    job = verified(app_client, sha, ver)
    assert job["status"] == "succeeded" and job["submitted_by"] == "ver", job["error"]
    result = job["result"]
    assert result["ok"] is True and result["mismatches"] == []
    assert (result["signature_ok"], result["hashes_ok"], result["recomputed_ok"]) == (True,) * 3
    assert result["campaign_id"] == "toy-2024" and result["package"] == sha
    assert str(tmp_path) not in str(result)
    assert app_client.get(url, headers=buyer).json() == job  # any token may read it

    bad = tampered(package_zip, TAMPERED)
    bad_sha = upload(app_client, bureau, bad).json()["sha256"]
    assert bad_sha == hashlib.sha256(bad).hexdigest()
    job = verified(app_client, bad_sha, token_for(ADMIN))
    result = job["result"]
    assert result["ok"] is False and result["hashes_ok"] is False
    assert result["signature_ok"] is True and result["recomputed_ok"] is None
    assert [m["file"] for m in result["mismatches"]] == [TAMPERED]
    assert app_client.get(url, headers=ver).json()["result"]["ok"] is True  # per package


def test_files_that_are_not_packages_are_refused(
    app_client: TestClient, token_for: TokenFor, package_zip: bytes, tmp_path: Path
) -> None:
    bureau = token_for("bureau")
    no_manifest = io.BytesIO()
    with zipfile.ZipFile(no_manifest, "w") as zf:
        zf.writestr("catalog.json", "{}")
    for data, reason in (
        (b"not a zip at all", "not a zip archive"),
        (package_zip[: len(package_zip) // 2], "not a zip archive"),
        (no_manifest.getvalue(), "not an evidence package"),
    ):
        body = problem(upload(app_client, bureau, data), 422, "invalid-input")
        assert body["detail"].startswith("p.zip: " + reason), body
        assert body["problems"][0]["file"] == "p.zip"
    r = app_client.post("/v1/packages", headers=bureau, data={"x": "1"})
    problem(r, 422, "invalid-input")  # no file
    assert stored(tmp_path) == [] and jobs(tmp_path) == []


def test_uploads_over_the_limit_are_refused(
    registry: Registry, settings: Settings, token_for: TokenFor, tmp_path: Path
) -> None:
    ensure_party(registry, ADMIN, "Registry administrator", ["admin"])
    limited = settings.model_copy(update={"data_dir": tmp_path, "api_max_upload_bytes": 1000})
    with TestClient(create_app(limited, registry=registry)) as client:
        r = upload(client, token_for(ADMIN), b"x" * 5000)
        assert r.status_code == 413 and r.json()["code"] == "too-large", r.text
    assert stored(tmp_path) == []


ROUTES = {"upload": {"bureau", "verifier", "cooperative", "admin"}, "verify": {"verifier", "admin"}}


@pytest.mark.parametrize("route", list(ROUTES))
def test_who_may_upload_and_verify(
    app_client: TestClient,
    registry: Registry,
    token_for: TokenFor,
    tmp_path: Path,
    route: str,
) -> None:
    """Every role × route, on inputs that fail after authorisation (a non-zip upload, an unknown
    package), so nothing is stored or queued whoever asks."""

    def call(headers: dict[str, str]) -> Any:
        if route == "upload":
            return upload(app_client, headers, b"not a zip")
        return app_client.post(f"/v1/packages/{'a' * 64}/verification", headers=headers)

    problem(call({}), 401, "unauthenticated")
    wrong = []
    for role in ROLES:
        party = f"matrix-{role}"
        ensure_party(registry, party, f"Matrix {role}", [role])
        r = call(token_for(party))
        expected = (422 if route == "upload" else 404) if role in ROUTES[route] else 403
        if r.status_code != expected:
            wrong.append(f"{role}: {r.status_code} {r.text}")
    assert not wrong, wrong
    assert stored(tmp_path) == [] and jobs(tmp_path) == []


def test_a_stored_package_is_verified_only_by_verifiers(
    app_client: TestClient, token_for: TokenFor, package_zip: bytes, tmp_path: Path
) -> None:
    sha = upload(app_client, token_for("bureau"), package_zip).json()["sha256"]
    url = f"/v1/packages/{sha}/verification"
    problem(app_client.post(url), 401, "unauthenticated")
    for party in ("bureau", "buyer"):
        problem(app_client.post(url, headers=token_for(party)), 403, "forbidden")
    assert jobs(tmp_path) == []
