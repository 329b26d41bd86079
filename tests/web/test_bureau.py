"""The bureau's page: monitoring reports awaiting a verifier and their assignment (refusals of a
verifier that is not independent or not a verifier at all), verifications under way, campaign
folders and their background runs.

AJ001 is the builders' registered project (report 1 verified by verifier-1 and issued, its
validator validator-1 also a verifier); reports 2 (2025) and 3 (2023) are submitted by the
cooperative and await a verifier. The campaign folders are those of
tests/api/test_campaign_jobs.py (``ajb``: the bundled example, ``bad``: a wrong seed type,
``empty``: no campaign.toml), in the web app's data folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from mrv.errors import InvalidStateError
from mrv.registry.core import Registry
from mrv.registry.monitoring import get_report, list_awaiting_verifier, submit_report
from mrv.registry.tokens import create_token
from mrv.registry.verification import assign_verifier, get_verification
from tests.api.support_credits import rows
from tests.api.test_campaign_jobs import data_dir, jobs, wait  # noqa: F401 - the fixture
from tests.campaign.conftest import example_text
from tests.registry.builders import (
    ADMIN,
    BUYER,
    COOPERATIVE,
    VALIDATOR,
    VERIFIER,
    ensure_party,
    issued_batch,
)
from tests.web.conftest import LogIn

BUREAU, OTHER = "bureau-1", "verifier-2"
EVIDENCE = {2: hashlib.sha256(b"report 2").hexdigest(), 3: hashlib.sha256(b"report 3").hexdigest()}
CLAIMED = {2: 601, 3: 1234}


@pytest.fixture
def world(registry: Registry) -> dict[int, dict[str, Any]]:
    """AJ001 with reports 2 (2025) and 3 (2023) submitted; the bureau and a second verifier."""
    issued_batch(registry, verified=1000)
    ensure_party(registry, BUREAU, "湖州市林业局", ["bureau"])
    ensure_party(registry, OTHER, "Another verification body", ["verifier"])
    for seq, year in ((2, 2025), (3, 2023)):
        got = submit_report(
            registry,
            actor=COOPERATIVE,
            project="AJ001",
            period_start=dt.date(year, 1, 1),
            period_end=dt.date(year, 12, 31),
            evidence_sha256=EVIDENCE[seq],
            claimed_tco2e=CLAIMED[seq],
        ).result["seq"]
        assert got == seq
    return {seq: get_report(registry, "AJ001", seq) for seq in (2, 3)}


def text(html: str) -> str:
    """The visible text of some HTML, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def table(html: str, table_id: str) -> list[str]:
    """The visible text of each body row of a table."""
    found = re.search(rf'<table id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert found, table_id
    return [text(r) for r in re.findall(r"<tr.*?</tr>", found.group(1), re.DOTALL)]


def section(html: str, section_id: str) -> str:
    found = re.search(rf'<section id="{section_id}".*?</section>', html, re.DOTALL)
    assert found, section_id
    return found.group(0)


def awaiting_rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-project="([^"]+)" data-seq="(\d+)">', section(html, "awaiting"))


def assign(web: TestClient, seq: int, verifier: str, csrf: str, lang: str = "en") -> Any:
    return web.post(
        f"/bureau/reports/AJ001/{seq}/verifier?lang={lang}",
        data={"csrf": csrf, "verifier": verifier},
    )


def unassigned(registry: Registry, seq: int) -> bool:
    try:
        get_verification(registry, "AJ001", seq)
    except InvalidStateError:
        return True
    return False


# --- the registry read -------------------------------------------------------------------------


def test_the_registry_lists_the_reports_awaiting_a_verifier(
    registry: Registry, world: dict[int, dict[str, Any]]
) -> None:
    name = "安吉毛竹林碳汇项目 AJ001"
    assert list_awaiting_verifier(registry) == [
        {**world[2], "project_name": name},
        {**world[3], "project_name": name},
    ]
    assign_verifier(registry, actor=BUREAU, project="AJ001", report_seq=3, verifier=OTHER)
    assert list_awaiting_verifier(registry) == [{**world[2], "project_name": name}]
    assert get_report(registry, "AJ001", 1)["status"] == "issued"  # never listed


# --- the page ----------------------------------------------------------------------------------


def test_the_page_lists_awaiting_reports_and_verifications(
    web: TestClient, log_in: LogIn, world: dict[int, dict[str, Any]]
) -> None:
    log_in(web, BUREAU)
    en = web.get("/bureau?lang=en")
    assert en.status_code == 200, en.text
    assert awaiting_rows(en.text) == [("AJ001", "2"), ("AJ001", "3")]
    assert table(en.text, "awaiting-reports")[:2] == [
        f"AJ001 安吉毛竹林碳汇项目 AJ001 2 2025-01-01 – 2025-12-31 601 {EVIDENCE[2][:12]}… "
        f"Verifier {VALIDATOR} · Validation body {VERIFIER} · Verification body "
        f"{OTHER} · Another verification body Assign",
        f"AJ001 安吉毛竹林碳汇项目 AJ001 3 2023-01-01 – 2023-12-31 1,234 {EVIDENCE[3][:12]}… "
        f"Verifier {VALIDATOR} · Validation body {VERIFIER} · Verification body "
        f"{OTHER} · Another verification body Assign",
    ]
    assert f'title="{EVIDENCE[2]}"' in en.text
    forms = re.findall(r'<form method="post" action="([^"]+)" class="assign-form"', en.text)
    assert forms == ["/bureau/reports/AJ001/2/verifier", "/bureau/reports/AJ001/3/verifier"]
    (verification,) = table(en.text, "assigned-reports")
    assert verification.startswith("AJ001 安吉毛竹林碳汇项目 AJ001 1 2024-01-01 – 2024-12-31 ")
    assert f" {VERIFIER} " in verification and verification.endswith("issued positive 0")
    assert 'href="/bureau">Forestry bureau</a>' in en.text  # the nav link

    zh = web.get("/bureau?lang=zh")
    assert zh.status_code == 200
    assert "待分配核查机构的监测报告" in zh.text and "分配" in table(zh.text, "awaiting-reports")[0]
    assert table(zh.text, "assigned-reports")[0].endswith("已签发 肯定结论 0")
    assert 'href="/bureau">林业局</a>' in zh.text


def test_assigning_through_the_form_writes_the_assignment(
    web: TestClient, log_in: LogIn, registry: Registry, world: dict[int, dict[str, Any]]
) -> None:
    csrf = log_in(web, BUREAU)
    r = assign(web, 2, OTHER, csrf)
    assert r.status_code == 303, r.text
    location = urlsplit(r.headers["location"])
    assert location.path == "/bureau"
    assert parse_qs(location.query) == {"done": ["assigned"], "report": ["AJ001/2"]}
    verification = get_verification(registry, "AJ001", 2)
    assert (verification["verifier"], verification["status"]) == (OTHER, "assigned")
    assert get_report(registry, "AJ001", 2)["status"] == "under_verification"
    assert unassigned(registry, 3)

    assert location.fragment == "verifications"
    page = web.get(f"/bureau?{location.query}&lang=en")
    assert page.status_code == 200
    assert awaiting_rows(page.text) == [("AJ001", "3")]
    assert "A verifier is assigned to report AJ001/2." in text(section(page.text, "verifications"))
    assigned = table(page.text, "assigned-reports")
    assert len(assigned) == 2 and assigned[1].startswith("AJ001 安吉毛竹林碳汇项目 AJ001 2 ")
    assert f" 601 {OTHER} " in assigned[1] and assigned[1].endswith(
        "under verification in progress 0"
    )
    zh = web.get(f"/bureau?{location.query}&lang=zh")
    assert "已为报告 AJ001/2 分配核查机构。" in text(zh.text)
    assert table(zh.text, "assigned-reports")[1].endswith("核查中 核查中 0")


def test_refused_assignments_show_the_reason_and_write_nothing(
    web: TestClient, log_in: LogIn, registry: Registry, world: dict[int, dict[str, Any]]
) -> None:
    csrf = log_in(web, BUREAU)
    before = rows(registry)

    r = assign(web, 2, VALIDATOR, csrf)  # the project's validator (CCER Measures Art. 18)
    assert r.status_code == 403, r.text
    shown = text(section(r.text, "awaiting"))
    assert "Forbidden" in shown
    assert (
        f"{VALIDATOR} may not verify report AJ001/2: {VALIDATOR} validated project AJ001" in shown
    )
    assert awaiting_rows(r.text) == [("AJ001", "2"), ("AJ001", "3")]
    assert f'<option value="{VALIDATOR}" selected>' in section(r.text, "awaiting")
    zh = assign(web, 2, VALIDATOR, csrf, "zh")
    assert zh.status_code == 403 and "无权操作" in text(section(zh.text, "awaiting"))

    r = assign(web, 3, BUYER, csrf)  # not a verifier
    assert r.status_code == 422, r.text
    shown = text(section(r.text, "awaiting"))
    assert "Invalid input" in shown and f"{BUYER} is not a verifier (roles: buyer)" in shown

    r = assign(web, 2, OTHER, "f" * 64)  # the form token of another session
    assert r.status_code == 403 and "the form expired" in r.text

    assert rows(registry) == before
    assert unassigned(registry, 2) and unassigned(registry, 3)
    assert [x["seq"] for x in list_awaiting_verifier(registry)] == [2, 3]

    r = assign(web, 2, OTHER, csrf)
    assert r.status_code == 303
    again = assign(web, 2, VERIFIER, csrf)  # no longer submitted
    assert again.status_code == 409, again.text
    assert "a verifier is assigned to a submitted report only" in text(again.text)
    assert get_verification(registry, "AJ001", 2)["verifier"] == OTHER


def test_the_page_is_the_bureaus(
    web: TestClient, log_in: LogIn, registry: Registry, world: dict[int, dict[str, Any]]
) -> None:
    assert web.get("/bureau").status_code in (303, 307)  # to the login page
    csrf = log_in(web, BUYER)
    page = web.get("/bureau?lang=en")
    assert page.status_code == 403
    assert "this page is for the roles bureau" in page.text
    assert 'href="/bureau"' not in page.text
    before = rows(registry)
    assert assign(web, 2, OTHER, csrf).status_code == 403
    assert web.post("/bureau/campaigns/ajb/runs", data={"csrf": csrf}).status_code == 403
    assert rows(registry) == before and unassigned(registry, 2)

    log_in(web, ADMIN)  # admins pass
    assert web.get("/bureau").status_code == 200


# --- campaigns ---------------------------------------------------------------------------------


def test_a_campaign_runs_from_the_page(
    web: TestClient,
    log_in: LogIn,
    registry: Registry,
    data_dir: Path,  # noqa: F811 - the fixture
) -> None:
    csrf = log_in(web, ADMIN)
    ensure_party(registry, BUREAU, "湖州市林业局", ["bureau"])
    csrf = log_in(web, BUREAU)
    page = web.get("/bureau?lang=en")
    assert table(page.text, "campaign-list") == ["ajb/campaign.toml Run", "bad/campaign.toml Run"]
    assert table(page.text, "run-list") == ["No run yet."]

    wrong = web.post("/bureau/campaigns/ajb/runs", data={"csrf": "x"})
    assert wrong.status_code == 403 and jobs(data_dir) == []

    r = web.post("/bureau/campaigns/ajb/runs", data={"csrf": csrf})
    assert r.status_code == 303, r.text
    (job_id,) = jobs(data_dir)
    assert r.headers["location"] == f"/bureau?done=run&job={job_id}#runs"
    page = web.get(f"/bureau?done=run&job={job_id}&lang=en")
    assert f"Run {job_id} is queued." in text(section(page.text, "runs"))
    (row,) = table(page.text, "run-list")
    assert row.startswith(f"{job_id} ajb ") and f" {BUREAU} " in row
    assert f'href="/bureau/runs/{job_id}"' in page.text

    token, _ = create_token(registry, actor=ADMIN, party=BUREAU, name="api")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    done = wait(web, f"/v1/runs/{job_id}", headers)
    assert done["status"] == "succeeded", done["error"]
    claimable = done["result"]["summary"]["claimable_tco2e"]
    page = web.get("/bureau?lang=zh")
    (row,) = table(page.text, "run-list")
    assert row == (
        f"{job_id} ajb 已完成 {done['created_utc']} {BUREAU} {done['finished_utc']} "
        f"{claimable:,.1f} 运行详情、日志与输出"
    )
    assert jobs(data_dir) == [job_id]

    # the run's page: its record, its files (as run.json lists them, served here) and its log
    run_dir = data_dir / "runs" / job_id
    record = json.loads((run_dir / "run.json").read_text("utf-8"))
    run_page = web.get(f"/bureau/runs/{job_id}?lang=en")
    assert run_page.status_code == 200
    files = table(run_page.text, "run-files")
    assert [row.split()[0] for row in files] == [f["path"] for f in record["outputs"]]
    assert all(f["sha256"] in run_page.text for f in record["outputs"])
    summary = record["outputs"][0]["path"]
    got = web.get(f"/bureau/runs/{job_id}/files/{summary}")
    assert got.status_code == 200 and got.content == (run_dir / summary).read_bytes()
    log = (run_dir / "run.log").read_text("utf-8")
    assert html.escape(log.splitlines()[0]) in run_page.text
    assert web.get(f"/bureau/runs/{job_id}/files/work/x").status_code == 422
    assert web.get("/bureau/runs/20260101T000000000000-0123abcd").status_code == 404
    ensure_party(registry, "buyer-9", "Buyer", ["buyer"])
    log_in(web, "buyer-9")
    assert web.get(f"/bureau/runs/{job_id}").status_code == 403
    assert web.get(f"/bureau/runs/{job_id}/files/{summary}").status_code == 403


def test_a_broken_campaign_file_is_refused_on_the_page(
    web: TestClient,
    log_in: LogIn,
    registry: Registry,
    data_dir: Path,  # noqa: F811 - the fixture
) -> None:
    log_in(web, ADMIN)
    ensure_party(registry, BUREAU, "湖州市林业局", ["bureau"])
    csrf = log_in(web, BUREAU)
    line = example_text().splitlines().index("seed = 11") + 1
    r = web.post("/bureau/campaigns/bad/runs?lang=en", data={"csrf": csrf})
    assert r.status_code == 422, r.text
    shown = text(section(r.text, "campaigns"))
    assert "Invalid input bad/campaign.toml: 1 problem(s)" in shown
    assert f"file bad/campaign.toml, row {line}, column scenes.seed:" in shown
    assert str(data_dir) not in r.text
    zh = web.post("/bureau/campaigns/bad/runs?lang=zh", data={"csrf": csrf})
    assert zh.status_code == 422 and "输入无效" in text(section(zh.text, "campaigns"))
    missing = web.post("/bureau/campaigns/empty/runs?lang=en", data={"csrf": csrf})
    assert missing.status_code == 404 and "no campaign 'empty'" in text(missing.text)
    assert jobs(data_dir) == []
    assert table(web.get("/bureau?lang=en").text, "run-list") == ["No run yet."]
