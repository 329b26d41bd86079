"""The verifier's review pages: assigned reports, a report's evidence package (files, maps drawn
from its rasters, re-run of its verification), findings and the statement, and the refusals.

The package is the toy run of :mod:`tests.package.toyrun` (plus one report map) built and signed
for real; its verification re-computes with the toy's fast ``compute`` (the app's
``package_verifier``), as in tests/api/test_packages.py. AJ001 is the builders' registered
project (report 1 verified by verifier-1); report 2 names the package's SHA-256 as its evidence
and report 3 a tampered copy's, both assigned to verifier-1 by the bureau.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import re
import time
import zipfile
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from mrv.errors import RecordNotFoundError
from mrv.registry.core import Registry
from mrv.registry.models import JournalEvent
from mrv.registry.monitoring import get_report, submit_report
from mrv.registry.tokens import create_token
from mrv.registry.verification import (
    assign_verifier,
    get_finding,
    get_verification,
    list_assignments,
    open_finding,
    respond_to_finding,
)
from pipelines.package.build import build_package
from pipelines.package.keys import generate_key, save_key
from pipelines.package.verify import verify_package
from tests.api.support_credits import rows
from tests.api.test_packages import tampered
from tests.package.toyrun import PLOTS, SHAPE, compute, make_run
from tests.registry.builders import ADMIN, BUYER, COOPERATIVE, VERIFIER, ensure_party, issued_batch
from tests.web.conftest import LogIn

BUREAU, OTHER = "bureau-1", "verifier-2"
TAMPERED = "outputs/parcels.csv"
REPORT_MAP = np.array(  # a 3 × 2 RGBA image packaged as report/maps/removals.png
    [[[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]],
     [[9, 9, 9, 255], [200, 200, 0, 255], [0, 0, 0, 0]]], dtype=np.uint8,
)  # fmt: skip
CLASS_RGB = {1: (0x2C, 0xA2, 0x5F), 2: (0x00, 0x59, 0x2A)}
"""Report palette: moso_bamboo (code 1), other_forest (code 2) (pipelines.report.labels)."""
YLGN_LOW, YLGN_HIGH = (0xFF, 0xFF, 0xE5), (0x00, 0x45, 0x29)
"""Ends of matplotlib's YlGn ramp: the carbon density map's smallest and largest value."""


@pytest.fixture(scope="module")
def package_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The toy run's signed package (with a report map) as zip bytes."""
    folder = tmp_path_factory.mktemp("pkg")
    save_key(generate_key(), folder / "measurer.key")
    run = make_run(folder / "run")
    (run / "report" / "maps").mkdir()
    Image.fromarray(REPORT_MAP, "RGBA").save(run / "report" / "maps" / "removals.png")
    return build_package(run, folder / "measurer.key", folder / "package.zip").read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def world(registry: Registry, package_zip: bytes) -> dict[str, Any]:
    """AJ001 with report 2 (2025, the package) and report 3 (2023, the tampered package)
    submitted by the cooperative and assigned to verifier-1."""
    issued_batch(registry, verified=1000)
    ensure_party(registry, BUREAU, "湖州市林业局", ["bureau"])
    ensure_party(registry, OTHER, "Another verification body", ["verifier"])
    bad = tampered(package_zip, TAMPERED)
    for year, evidence in ((2025, sha(package_zip)), (2023, sha(bad))):
        seq = submit_report(
            registry,
            actor=COOPERATIVE,
            project="AJ001",
            period_start=dt.date(year, 1, 1),
            period_end=dt.date(year, 12, 31),
            evidence_sha256=evidence,
            claimed_tco2e=601,
        ).result["seq"]
        assign_verifier(registry, actor=BUREAU, project="AJ001", report_seq=seq, verifier=VERIFIER)
    return {"good": package_zip, "bad": bad}


@pytest.fixture
def client(web: TestClient, world: dict[str, Any]) -> TestClient:
    """The web client, with the toy's fast re-computation as the package verifier."""
    web.app.state.package_verifier = functools.partial(verify_package, recompute=compute)
    return web


# --- reading pages ---------------------------------------------------------------------------


class Tables(HTMLParser):
    """The cell texts of each table with an id (rows with data cells only)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: str | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.current = dict(attrs).get("id")
            if self.current:
                self.tables[self.current] = []
        elif tag == "tr" and self.current:
            self.row = []
        elif tag == "td" and self.row is not None:
            self.cell = []

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None and self.current:
            if self.row:
                self.tables[self.current].append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None


def table(html: str, table_id: str) -> list[list[str]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables[table_id]


def section(html: str, section_id: str) -> str:
    found = re.search(rf'<section id="{section_id}".*?</section>', html, re.DOTALL)
    assert found, section_id
    return found.group(0)


def text(html: str) -> str:
    """The visible text of some HTML, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def png(r: Any) -> np.ndarray[Any, Any]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(r.content))
    assert image.format == "PNG" and image.mode == "RGBA"
    return np.asarray(image)


def upload(client: TestClient, seq: int, data: bytes, csrf: str, name: str = "p.zip") -> Any:
    return client.post(
        f"/review/AJ001/{seq}/package",
        data={"csrf": csrf},
        files={"file": (name, data, "application/zip")},
    )


def finished(client: TestClient, seq: int) -> str:
    """The re-run section once its job has finished (polled like the page's script)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fragment = client.get(f"/review/AJ001/{seq}/rerun?lang=en")
        assert fragment.status_code == 200, fragment.text
        status = re.search(r'data-status="([a-z]+)"', fragment.text)
        assert status is not None
        if status.group(1) in ("succeeded", "failed"):
            return fragment.text
        time.sleep(0.05)
    raise AssertionError("the re-run did not finish")


def snapshot(registry: Registry) -> tuple[dict[str, int], list[str], list[dict[str, Any]]]:
    """Row counts, the journal's operations (logging in makes tokens) and the verifications."""
    with registry.read() as conn:
        operations = conn.execute(
            select(JournalEvent.operation)
            .where(JournalEvent.operation != "create_token")
            .order_by(JournalEvent.id)
        ).scalars()
        journal = list(operations)
    counts = {k: v for k, v in rows(registry).items() if not k.startswith("journal")}
    return counts, journal, [get_verification(registry, "AJ001", s) for s in (2, 3)]


def stored(tmp_path: Path) -> list[str]:
    folder = tmp_path / "packages"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def jobs(tmp_path: Path) -> list[str]:
    return sorted(p.parent.name for p in (tmp_path / "jobs").glob("*/job.json"))


# --- the registry reads ------------------------------------------------------------------------


def test_assignments_and_findings_are_read_from_the_registry(
    registry: Registry, world: dict[str, Any]
) -> None:
    mine = list_assignments(registry, VERIFIER)
    assert [(a["project"], a["seq"], a["report_status"], a["status"]) for a in mine] == [
        ("AJ001", 1, "issued", "positive"),
        ("AJ001", 2, "under_verification", "assigned"),
        ("AJ001", 3, "under_verification", "assigned"),
    ]
    second = mine[1]
    assert second["evidence_sha256"] == sha(world["good"])
    assert (second["period_start"], second["period_end"]) == ("2025-01-01", "2025-12-31")
    assert (second["claimed_tco2e"], second["verifier"], second["open_findings"]) == (
        601,
        VERIFIER,
        0,
    )
    assert list_assignments(registry, OTHER) == []
    assert list_assignments(registry) == mine  # every verifier's
    opened = open_finding(
        registry, actor=VERIFIER, project="AJ001", report_seq=2, kind="CL", text="plot P3?"
    ).result
    assert [a["open_findings"] for a in list_assignments(registry, VERIFIER)] == [0, 1, 0]
    finding = get_finding(registry, opened["id"])
    assert finding == {
        "project": "AJ001", "report_seq": 2, "verifier": VERIFIER,
        **get_verification(registry, "AJ001", 2)["findings"][0],
    }  # fmt: skip
    with pytest.raises(RecordNotFoundError):
        get_finding(registry, opened["id"] + 1)
    with pytest.raises(RecordNotFoundError):
        list_assignments(registry, "nobody")


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_the_reports_assigned_to_the_verifier(
    client: TestClient, registry: Registry, log_in: LogIn
) -> None:
    assert client.get("/review").status_code == 303  # to the login page
    log_in(client, VERIFIER)
    en = client.get("/review?lang=en")
    assert en.status_code == 200
    assert table(en.text, "assigned") == [
        ["AJ001 安吉毛竹林碳汇项目 AJ001", "1", "2024-01-01 – 2024-12-31", "1,000", "issued",
         "positive", "0"],
        ["AJ001 安吉毛竹林碳汇项目 AJ001", "2", "2025-01-01 – 2025-12-31", "601",
         "under verification", "in progress", "0"],
        ["AJ001 安吉毛竹林碳汇项目 AJ001", "3", "2023-01-01 – 2023-12-31", "601",
         "under verification", "in progress", "0"],
    ]  # fmt: skip
    for seq in (1, 2, 3):
        assert f'href="/review/AJ001/{seq}"' in en.text
    zh = client.get("/review?lang=zh")
    assert [r[4] for r in table(zh.text, "assigned")] == ["已签发", "核查中", "核查中"]
    assert "核查任务" in zh.text

    log_in(client, OTHER)
    other = client.get("/review?lang=en")
    assert other.status_code == 200 and 'id="assigned"' not in other.text
    assert "No reports are assigned to you." in other.text

    log_in(client, ADMIN)  # not a verifier: every assignment, with its verifier
    admin = table(client.get("/review?lang=en").text, "assigned")
    assert [(r[1], r[-1]) for r in admin] == [("1", VERIFIER), ("2", VERIFIER), ("3", VERIFIER)]

    log_in(client, BUYER)
    refused = client.get("/review?lang=en")
    assert refused.status_code == 403 and "verifier" in refused.text


# --- the package and its maps ----------------------------------------------------------------


def test_the_package_is_uploaded_and_its_files_and_maps_are_shown(
    client: TestClient, log_in: LogIn, package_zip: bytes, tmp_path: Path
) -> None:
    csrf = log_in(client, VERIFIER)
    digest = sha(package_zip)
    before = client.get("/review/AJ001/2?lang=en")
    assert before.status_code == 200
    package = section(before.text, "package")
    assert 'id="package-missing"' in package and 'id="package-form"' in package
    assert 'enctype="multipart/form-data"' in package and 'id="package-files"' not in package
    assert digest in text(section(before.text, "report"))
    assert "<img" not in section(before.text, "maps")

    r = upload(client, 2, package_zip, csrf)
    assert r.status_code == 303 and r.headers["location"] == "/review/AJ001/2?done=package#package"
    assert stored(tmp_path) == [f"{digest}.zip"]
    assert (tmp_path / "packages" / f"{digest}.zip").read_bytes() == package_zip

    page = client.get("/review/AJ001/2?done=package&lang=en")
    assert "package uploaded" in page.text
    with zipfile.ZipFile(io.BytesIO(package_zip)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        signature = json.loads(zf.read("manifest.sig.json"))
    assert table(page.text, "package-files") == [
        [f["path"], str(f["size"]), f["sha256"]] for f in manifest["files"]
    ]
    assert "outputs/land_cover.tif" in [f["path"] for f in manifest["files"]]
    facts = text(section(page.text, "package"))
    for value in ("toy-2024", "toy-bamboo 1.0", signature["fingerprint"], manifest["created_utc"]):
        assert value in facts, value

    maps = section(page.text, "maps")
    base = f"/review/packages/{digest}"
    assert re.findall(r'<img src="([^"]+)"', maps) == [
        f"{base}/maps/carbon_density.png",
        f"{base}/maps/land_cover.png",
        f"{base}/report-maps/removals.png",
    ]
    assert maps.count("<figure") == 3 and maps.count("<figcaption>") == 3
    assert "Land cover" in text(maps) and "moso bamboo" in text(maps)
    assert "毛竹林" in text(section(client.get("/review/AJ001/2?lang=zh").text, "maps"))

    biomass = np.asarray([b for _, b in PLOTS])[np.arange(SHAPE[0] * SHAPE[1]).reshape(SHAPE) % 6]
    cover = png(client.get(f"{base}/maps/land_cover.png"))
    assert cover.shape == (*SHAPE, 4)
    assert cover[0, 0, 3] == 0  # no data: transparent
    for r_, c in np.ndindex(*SHAPE):
        if (r_, c) != (0, 0):
            expected = CLASS_RGB[1 if biomass[r_, c] >= 60 else 2]
            assert tuple(cover[r_, c]) == (*expected, 255), (r_, c)
    assert tuple(cover[0, 2, :3]) == CLASS_RGB[1] and tuple(cover[0, 1, :3]) == CLASS_RGB[2]

    density = png(client.get(f"{base}/maps/carbon_density.png"))
    assert density.shape == (*SHAPE, 4) and density[0, 0, 3] == 0
    valid = np.ones(SHAPE, dtype=bool)
    valid[0, 0] = False
    assert (density[valid, 3] == 255).all()
    low = np.unravel_index(np.where(valid, biomass, np.inf).argmin(), SHAPE)  # 38.75 t/ha
    high = np.unravel_index(np.where(valid, biomass, -np.inf).argmax(), SHAPE)  # 80.5 t/ha
    assert tuple(density[low][:3]) == YLGN_LOW and tuple(density[high][:3]) == YLGN_HIGH
    brightness = density[..., :3].astype(int).sum(axis=2)
    order = np.argsort(biomass[valid], kind="stable")
    assert (np.diff(brightness[valid][order]) <= 0).all()  # more carbon: darker green

    report_map = client.get(f"{base}/report-maps/removals.png")
    assert (png(report_map) == REPORT_MAP).all()
    with zipfile.ZipFile(io.BytesIO(package_zip)) as zf:
        assert report_map.content == zf.read("report/maps/removals.png")  # as packaged
    drawn = sorted(p.name for p in (tmp_path / "review-maps").rglob("*.png"))
    assert drawn == ["carbon_density.png", "land_cover.png"]  # drawn once, in data_dir

    for missing in (
        f"{base}/maps/parcels.png",  # not a raster of the package
        f"{base}/report-maps/land_cover.png",
        f"/review/packages/{'0' * 64}/maps/land_cover.png",
    ):
        assert client.get(missing).status_code == 404, missing
    assert client.get(f"{base}/maps/..%2Frun.png").status_code in (404, 422)
    client.cookies.clear()
    assert client.get(f"{base}/maps/land_cover.png").status_code == 303  # log in first


def test_an_upload_that_is_not_the_report_s_package_is_refused(
    client: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any], tmp_path: Path
) -> None:
    csrf = log_in(client, VERIFIER)
    before = snapshot(registry)
    bad = world["bad"]  # report 3's package, not report 2's
    r = upload(client, 2, bad, csrf, name="other.zip")
    assert r.status_code == 422
    message = text(section(r.text, "package"))
    assert "不是本报告的证据包" in message and sha(bad) in message
    assert sha(world["good"]) in message and "文件未保存" in message
    junk = upload(client, 2, b"not a zip at all", csrf)
    assert junk.status_code == 422  # neither the report's bytes nor a zip
    assert "不是本报告的证据包" in text(section(junk.text, "package"))
    r = client.post("/review/AJ001/2/package?lang=en", data={"csrf": csrf},
                    files={"file": ("other.zip", bad, "application/zip")})  # fmt: skip
    assert r.status_code == 422
    assert "Not this report's evidence package" in text(section(r.text, "package"))
    assert "the file was not stored" in text(section(r.text, "package"))
    assert upload(client, 2, world["good"], "0" * 64).status_code == 403  # wrong form token
    assert stored(tmp_path) == [] and snapshot(registry) == before
    assert not list((tmp_path / "packages").iterdir())  # no temporary file left either


# --- the re-run ----------------------------------------------------------------------------------


def test_the_re_run_verifies_the_package_and_names_a_tampered_file(
    client: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any], tmp_path: Path
) -> None:
    csrf = log_in(client, VERIFIER)
    refused = client.post("/review/AJ001/2/rerun?lang=en", data={"csrf": csrf})
    assert refused.status_code == 404 and jobs(tmp_path) == []  # nothing uploaded yet
    assert "no package" in text(section(refused.text, "rerun"))
    for seq, kind in ((2, "good"), (3, "bad")):
        assert upload(client, seq, world[kind], csrf).status_code == 303

    page = client.get("/review/AJ001/2?lang=en")
    assert 'id="rerun-none"' in page.text and 'id="rerun-form"' in page.text
    r = client.post("/review/AJ001/2/rerun", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/review/AJ001/2?done=rerun#rerun"
    done = finished(client, 2)
    assert 'data-status="succeeded"' in done and 'id="rerun-ok" data-ok="true"' in done
    for check in ("signature_ok", "hashes_ok", "recomputed_ok"):
        assert f'data-check="{check}" data-value="true"' in done, check
    assert 'id="mismatches"' not in done

    page = client.get("/review/AJ001/2?lang=en")
    assert section(page.text, "rerun") == section(done, "rerun")  # the page shows the same
    assert "re-run started" in client.get("/review/AJ001/2?done=rerun&lang=en").text
    job = client.app.state.jobs.list("package-verification", sha(world["good"]))
    assert [(j["status"], j["submitted_by"]) for j in job] == [("succeeded", VERIFIER)]
    token, _ = create_token(registry, actor=ADMIN, party=VERIFIER, name="api")
    api = client.get(
        f"/v1/packages/{sha(world['good'])}/verification",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    assert api.status_code == 200 and api.json() == job[-1]  # the API reads the same job
    assert job[-1]["result"]["ok"] is True and job[-1]["result"]["campaign_id"] == "toy-2024"

    assert client.post("/review/AJ001/3/rerun", data={"csrf": csrf}).status_code == 303
    bad = finished(client, 3)
    assert 'id="rerun-ok" data-ok="false"' in bad
    assert 'data-check="signature_ok" data-value="true"' in bad
    assert 'data-check="hashes_ok" data-value="false"' in bad
    assert 'data-check="recomputed_ok" data-value="none"' in bad
    assert [m[0] for m in table(bad, "mismatches")] == [TAMPERED]
    assert 'data-check="hashes_ok" data-value="true"' in finished(client, 2)  # per package


# --- findings and the statement --------------------------------------------------------------


def test_findings_are_opened_and_closed_through_the_forms(
    client: TestClient, registry: Registry, log_in: LogIn
) -> None:
    csrf = log_in(client, VERIFIER)
    page = client.get("/review/AJ001/2?lang=en")
    for form in ('id="finding-form"', 'action="/review/AJ001/2/findings"', 'name="kind"',
                 'name="text"', 'id="statement-form"', 'name="opinion"',
                 'name="verified_tco2e"', 'name="statement"'):  # fmt: skip
        assert form in page.text, form
    assert table(page.text, "findings") == [["No findings yet."]]

    said = "Parcel AJ001-P2 lies partly outside the land-cover map; <explain>"
    r = client.post("/review/AJ001/2/findings", data={"kind": "CAR", "text": said, "csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/review/AJ001/2?done=finding#findings"
    findings = get_verification(registry, "AJ001", 2)["findings"]
    assert [(f["kind"], f["text"], f["status"]) for f in findings] == [("CAR", said, "open")]
    car = findings[0]["id"]
    en = client.get("/review/AJ001/2?done=finding&lang=en")
    assert "finding opened" in text(en.text)
    assert table(en.text, "findings") == [[str(car), "CAR", said, "open", "—", ""]]
    assert "&lt;explain&gt;" in en.text  # escaped
    zh = client.get("/review/AJ001/2?done=finding&lang=zh")
    assert "已提出发现" in zh.text and table(zh.text, "findings")[0][3] == "未关闭"

    far = client.post("/review/AJ001/2/findings", data={"kind": "FAR", "text": "Re-survey P3",
                                                         "csrf": csrf})  # fmt: skip
    assert far.status_code == 303
    far_id = get_verification(registry, "AJ001", 2)["findings"][1]["id"]
    page = client.get("/review/AJ001/2?lang=en").text
    assert f'action="/review/findings/{far_id}/closure"' in page  # a FAR closes at any time
    assert f'action="/review/findings/{car}/closure"' not in page  # a CAR once responded

    refused = client.post("/review/AJ001/2/statement?lang=en", data={
        "opinion": "positive", "verified_tco2e": "600", "statement": "All good.", "csrf": csrf,
    })  # fmt: skip
    assert refused.status_code == 409
    assert f"CAR {car} (open)" in text(section(refused.text, "statement"))
    assert "All good." in section(refused.text, "statement")  # the form keeps what was typed

    respond_to_finding(registry, actor=COOPERATIVE, finding_id=car, response="Boundary fixed.")
    page = client.get("/review/AJ001/2?lang=en").text
    assert table(page, "findings")[0] == [
        str(car),
        "CAR",
        said,
        "responded",
        "Boundary fixed.",
        "Close",
    ]
    for fid in (car, far_id):
        r = client.post(f"/review/findings/{fid}/closure", data={"csrf": csrf})
        assert (
            r.status_code == 303
            and r.headers["location"] == "/review/AJ001/2?done=closure#findings"
        )
    assert [f["status"] for f in get_verification(registry, "AJ001", 2)["findings"]] == [
        "closed"
    ] * 2
    assert "finding closed" in client.get("/review/AJ001/2?done=closure&lang=en").text

    r = client.post("/review/AJ001/2/statement", data={
        "opinion": "positive", "verified_tco2e": "600", "statement": "Reasonable assurance.",
        "csrf": csrf,
    })  # fmt: skip
    assert (
        r.status_code == 303 and r.headers["location"] == "/review/AJ001/2?done=statement#statement"
    )
    verification = get_verification(registry, "AJ001", 2)
    assert (verification["status"], verification["verified_tco2e"]) == ("positive", 600)
    assert get_report(registry, "AJ001", 2)["status"] == "verified"
    page = client.get("/review/AJ001/2?done=statement&lang=en").text
    assert "statement issued" in page and 'id="statement-given"' in page
    assert "Reasonable assurance." in text(section(page, "statement"))
    assert 'id="finding-form"' not in page and 'id="statement-form"' not in page  # concluded

    r = client.post("/review/AJ001/3/statement", data={
        "opinion": "negative", "verified_tco2e": "", "statement": "Tampered evidence.",
        "csrf": csrf,
    })  # fmt: skip
    assert r.status_code == 303
    assert get_report(registry, "AJ001", 3)["status"] == "rejected"


def test_refused_forms_show_why_and_write_nothing(
    client: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any], tmp_path: Path
) -> None:
    csrf = log_in(client, VERIFIER)
    fid = open_finding(
        registry, actor=VERIFIER, project="AJ001", report_seq=2, kind="FAR", text="Later."
    ).result["id"]
    before = snapshot(registry)

    empty = client.post("/review/AJ001/2/findings?lang=en",
                        data={"kind": "CL", "text": "   ", "csrf": csrf})  # fmt: skip
    assert empty.status_code == 422
    findings = section(empty.text, "findings-section")
    message = re.search(r'<div class="alert error".*?</div>', findings, re.DOTALL)
    assert message and "text must not be empty" in text(message.group(0))
    assert findings.index("alert error") < findings.index('id="finding-form"')  # on the form
    assert '<option value="CL" selected>' in findings  # the kind chosen is kept
    zh = client.post(
        "/review/AJ001/2/findings?lang=zh", data={"kind": "CL", "text": "", "csrf": csrf}
    )
    assert zh.status_code == 422 and "text must not be empty" in section(
        zh.text, "findings-section"
    )
    bad_kind = client.post(
        "/review/AJ001/2/findings", data={"kind": "XYZ", "text": "x", "csrf": csrf}
    )
    assert bad_kind.status_code == 422 and "finding kind must be one of" in bad_kind.text
    wrong = client.post(
        "/review/AJ001/2/findings", data={"kind": "CL", "text": "x", "csrf": "0" * 64}
    )
    assert wrong.status_code == 403 and "reload the page" in wrong.text
    no_token = client.post("/review/AJ001/2/findings", data={"kind": "CL", "text": "x"})
    assert no_token.status_code == 403
    negative_tonnes = client.post("/review/AJ001/2/statement", data={
        "opinion": "negative", "verified_tco2e": "5", "statement": "No.", "csrf": csrf,
    })  # fmt: skip
    assert (
        negative_tonnes.status_code == 422 and "verified_tco2e must be None" in negative_tonnes.text
    )
    not_a_number = client.post("/review/AJ001/2/statement", data={
        "opinion": "positive", "verified_tco2e": "six hundred", "statement": "Ok.", "csrf": csrf,
    })  # fmt: skip
    assert not_a_number.status_code == 422 and "is not a whole number" in not_a_number.text
    assert snapshot(registry) == before

    other = log_in(client, OTHER)  # a verifier, but not this report's
    assert client.get("/review/AJ001/2").status_code == 403
    assert client.get("/review/AJ001/2/rerun").status_code == 403
    for url, data in (
        ("/review/AJ001/2/findings", {"kind": "CL", "text": "x", "csrf": other}),
        ("/review/AJ001/2/statement", {"opinion": "negative", "statement": "x", "csrf": other}),
        ("/review/AJ001/2/rerun", {"csrf": other}),
        (f"/review/findings/{fid}/closure", {"csrf": other}),
    ):
        r = client.post(url, data=data)
        assert r.status_code == 403 and "not the assigned verifier" in r.text, url
    assert upload(client, 2, world["good"], other).status_code == 403
    assert client.get("/review/AJ001/9").status_code == 404
    log_in(client, BUYER)
    assert client.get("/review/AJ001/2").status_code == 403

    log_in(client, ADMIN)  # an admin reads the review but writes no findings (registry rule)
    admin = client.get("/review/AJ001/2?lang=en")
    assert admin.status_code == 200 and 'id="finding-form"' not in admin.text
    assert "Only the assigned verifier (verifier-1)" in admin.text
    assert table(admin.text, "findings")[0][:4] == [str(fid), "FAR", "Later.", "open"]
    assert snapshot(registry) == before
    assert stored(tmp_path) == [] and jobs(tmp_path) == []


def test_large_rasters_are_decimated_and_classes_come_from_the_raster_s_tags(
    tmp_path: Path,
) -> None:
    """A campaign's rasters: a 2-band uncertainty (lower, upper) is drawn as the interval's
    width, decimated to 1024 pixels a side; land cover takes its class names from its tags."""
    import rasterio
    from rasterio.transform import from_origin

    from api.web.rasters import MAX_SIDE, package_maps, render_raster

    rows_, cols = 600, 3000
    lower = np.zeros((rows_, cols), dtype=np.float32)
    upper = np.tile(np.linspace(1.0, 5.0, cols, dtype=np.float32), (rows_, 1))
    lower[:, : cols // 2] = -9999.0  # no data on the left half
    cover = np.full((rows_, cols), 2, dtype=np.uint8)
    cover[: rows_ // 2] = 1
    cover[:, -cols // 4 :] = 0  # not classified
    profile = {"driver": "GTiff", "width": cols, "height": rows_, "crs": "EPSG:32650",
               "transform": from_origin(745_000, 3_390_000, 10, 10)}  # fmt: skip
    zipped = tmp_path / "p.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for name, bands, dtype, nodata, tags in (
            ("carbon_uncertainty", [lower, upper], "float32", -9999.0, {}),
            ("land_cover", [cover], "uint8", 0, {"classes": "1=tea_garden,2=open_water"}),
        ):
            path = tmp_path / f"{name}.tif"
            with rasterio.open(path, "w", count=len(bands), dtype=dtype, nodata=nodata,
                               **profile) as dst:  # fmt: skip
                for i, band in enumerate(bands, start=1):
                    dst.write(band, i)
                dst.update_tags(**tags)
            zf.write(path, f"outputs/{name}.tif")
        zf.writestr("outputs/notes/inner.tif", b"not listed: not directly in outputs/")
    maps = package_maps(zipped)
    assert [(m.name, m.kind) for m in maps] == [("carbon_uncertainty", "raster"),
                                                ("land_cover", "raster")]  # fmt: skip
    shape = (round(rows_ * MAX_SIDE / cols), MAX_SIDE)

    data, legend = render_raster(zipped, maps[0])
    width = np.asarray(Image.open(io.BytesIO(data)))
    assert width.shape == (*shape, 4) and legend["shape"] == list(shape)
    assert (legend["ramp"], legend["band"]) == ("magma_r", "upper - lower")
    assert (width[:, : shape[1] // 2 - 1, 3] == 0).all()  # the left half: no data
    assert (width[:, shape[1] // 2 + 1 :, 3] == 255).all()
    assert legend["min"] == pytest.approx(3.0, abs=0.01)  # widths 1…5 t C/ha left to right
    assert legend["max"] == pytest.approx(5.0, abs=0.01)

    data, legend = render_raster(zipped, maps[1])
    classes = np.asarray(Image.open(io.BytesIO(data)))
    assert classes.shape == (*shape, 4)
    assert [(c["code"], c["name"], c["zh"], c["colour"]) for c in legend["classes"]] == [
        (1, "tea_garden", "茶园", "#a6d854"), (2, "open_water", "开阔水面", "#3182bd"),
    ]  # fmt: skip
    assert tuple(classes[0, 0]) == (0xA6, 0xD8, 0x54, 255)
    assert tuple(classes[-1, 0]) == (0x31, 0x82, 0xBD, 255)
    assert (classes[:, -shape[1] // 4 + 1 :, 3] == 0).all()  # not classified: transparent
    assert sum(c["share"] for c in legend["classes"]) == pytest.approx(1.0)
