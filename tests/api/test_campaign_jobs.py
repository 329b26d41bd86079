"""Campaign runs as background jobs: the bundled Anji campaign run through the API (status,
headline, log, outputs with their hashes, downloads), a bad campaign file refused before
queueing, path traversal refused, the job records on disk, and who may start a run."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.jobs import JobRunner
from api.routers.campaigns import headline
from mrv.errors import InputError
from mrv.registry.core import Registry
from mrv.registry.models import ROLES
from mrv.settings import Settings
from tests.api.conftest import TokenFor
from tests.api.support_credits import pages, problem
from tests.campaign.conftest import example_text
from tests.registry.builders import ADMIN, ensure_party

BUREAU = "bureau-1"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The server's data folder with two campaigns: ``ajb`` (the example) and ``bad``."""
    for name, text in (
        ("ajb", example_text()),
        ("bad", example_text().replace("seed = 11", 'seed = "11"')),
    ):
        (tmp_path / "campaigns" / name).mkdir(parents=True)
        (tmp_path / "campaigns" / name / "campaign.toml").write_text(text, encoding="utf-8")
    (tmp_path / "campaigns" / "empty").mkdir()  # no campaign.toml: not listed
    return tmp_path


@pytest.fixture
def app_client(registry: Registry, settings: Settings, data_dir: Path) -> Iterator[TestClient]:
    ensure_party(registry, ADMIN, "Registry administrator", ["admin"])
    ensure_party(registry, BUREAU, "Anji forestry bureau", ["bureau"])
    ensure_party(registry, "coop", "Cooperative", ["cooperative"])
    app = create_app(settings.model_copy(update={"data_dir": data_dir}), registry=registry)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def jobs(data_dir: Path) -> list[str]:
    return sorted(p.parent.name for p in (data_dir / "jobs").glob("*/job.json"))


def wait(client: TestClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(url, headers=headers).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"{url} did not finish in 120 s")


def test_a_campaign_runs_in_the_background(
    app_client: TestClient, token_for: TokenFor, data_dir: Path
) -> None:
    bureau, coop = token_for(BUREAU), token_for("coop")
    listed = pages(app_client, "/v1/campaigns", {"limit": 1}, bureau)
    assert listed == [{"name": "ajb"}, {"name": "bad"}]
    r = app_client.post("/v1/campaigns/ajb/runs", headers=bureau)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and job["kind"] == "campaign-run"
    assert (job["subject"], job["submitted_by"], job["result"]) == ("ajb", BUREAU, None)
    url = f"/v1/runs/{job['id']}"
    assert r.headers["location"] == url
    assert jobs(data_dir) == [job["id"]]
    early = app_client.get(f"{url}/outputs", headers=bureau)
    problem(early, 409, "invalid-state")  # not finished yet
    problem(app_client.get(url), 401, "unauthenticated")

    done = wait(app_client, url, coop)  # any token may read a run
    assert done["status"] == "succeeded", done["error"]
    assert done["error"] is None and done["started_utc"] and done["finished_utc"]
    assert done["created_utc"] <= done["started_utc"] <= done["finished_utc"]
    on_disk = json.loads((data_dir / "jobs" / job["id"] / "job.json").read_text("utf-8"))
    assert on_disk == done
    run_dir = data_dir / "runs" / job["id"]
    summary = json.loads((run_dir / "outputs" / "summary.json").read_text("utf-8"))
    figures = done["result"]["summary"]
    assert figures == headline(summary)
    assert figures["claimable_tco2e"] == summary["removals"]["claimable_tco2e"] > 0
    assert figures["removals_tco2e"] == summary["removals"]["removals_tco2e"]
    assert figures["campaign_id"] == summary["campaign"]["id"]

    log = app_client.get(f"{url}/log", headers=bureau)
    assert log.status_code == 200 and log.headers["content-type"].startswith("text/plain")
    assert log.text == (run_dir / "run.log").read_text("utf-8") and "run finished" in log.text

    record = json.loads((run_dir / "run.json").read_text("utf-8"))
    outputs = pages(app_client, f"{url}/outputs", {"limit": 3}, bureau)
    assert outputs == sorted(
        ({k: r[k] for k in ("path", "size", "sha256")} for r in record["outputs"]),
        key=lambda r: r["path"],
    )
    for row in outputs:
        got = app_client.get(f"{url}/outputs/{row['path']}", headers=bureau)
        assert got.status_code == 200, got.text
        assert hashlib.sha256(got.content).hexdigest() == row["sha256"]
        assert len(got.content) == row["size"]
    got = app_client.get(f"{url}/outputs/outputs/summary.json", headers=bureau)
    assert got.headers["content-type"] == "application/json" and got.json() == summary
    got = app_client.get(f"{url}/outputs/run.json", headers=bureau)
    assert got.json() == record

    for bad in (
        f"..%2F..%2Fjobs%2F{job['id']}%2Fjob.json",
        "outputs%2F..%2F..%2F..%2Fcampaigns%2Fajb%2Fcampaign.toml",
        "%2Fetc%2Fpasswd",
        "work/anything",
    ):
        problem(app_client.get(f"{url}/outputs/{bad}", headers=bureau), 422, "invalid-input")
    problem(app_client.get(f"{url}/outputs/outputs/none.json", headers=bureau), 404, "not-found")
    problem(app_client.get(f"{url}/outputs/outputs", headers=bureau), 404, "not-found")
    assert jobs(data_dir) == [job["id"]]


def test_a_bad_campaign_file_is_refused_before_queueing(
    app_client: TestClient, token_for: TokenFor, data_dir: Path
) -> None:
    bureau = token_for(BUREAU)
    r = app_client.post("/v1/campaigns/bad/runs", headers=bureau)
    body = problem(r, 422, "invalid-input")
    line = example_text().splitlines().index("seed = 11") + 1
    (found,) = body["problems"]
    assert found["file"] == "bad/campaign.toml"  # not the server's path
    assert (found["row"], found["column"]) == (line, "scenes.seed")
    assert str(data_dir) not in r.text
    problem(app_client.post("/v1/campaigns/empty/runs", headers=bureau), 404, "not-found")
    problem(app_client.post("/v1/campaigns/none/runs", headers=bureau), 404, "not-found")
    r = app_client.post("/v1/campaigns/..%2Fcampaigns%2Fajb/runs", headers=bureau)
    assert r.status_code in (404, 422), r.text
    assert jobs(data_dir) == []


def test_runs_need_a_token_and_unknown_runs_are_not_found(
    app_client: TestClient, token_for: TokenFor
) -> None:
    bureau = token_for(BUREAU)
    for url in ("/v1/campaigns", "/v1/runs/20260101T000000000000-0123abcd"):
        problem(app_client.get(url), 401, "unauthenticated")
    missing = "/v1/runs/20260101T000000000000-0123abcd"
    for suffix in ("", "/log", "/outputs", "/outputs/run.json"):
        problem(app_client.get(missing + suffix, headers=bureau), 404, "not-found")
    problem(app_client.get("/v1/runs/not-a-job-id", headers=bureau), 422, "invalid-input")


def test_who_may_start_a_run(
    app_client: TestClient, registry: Registry, token_for: TokenFor, data_dir: Path
) -> None:
    """Every role × the run route (on a campaign that does not exist, so nothing runs)."""
    allowed = {"bureau", "admin"}
    problem(app_client.post("/v1/campaigns/ajb/runs"), 401, "unauthenticated")
    wrong = []
    for role in ROLES:
        party = f"matrix-{role}"
        ensure_party(registry, party, f"Matrix {role}", [role])
        r = app_client.post("/v1/campaigns/none/runs", headers=token_for(party))
        expected = 404 if role in allowed else 403
        if r.status_code != expected:
            wrong.append(f"{role}: {r.status_code} {r.text}")
        if role not in allowed:  # refused before the campaign is even looked at
            r = app_client.post("/v1/campaigns/ajb/runs", headers=token_for(party))
            problem(r, 403, "forbidden")
    assert not wrong, wrong
    assert jobs(data_dir) == []


def test_the_job_runner_records_failures_and_interruptions(tmp_path: Path) -> None:
    runner = JobRunner(tmp_path)

    def refuse(job_id: str) -> dict[str, Any]:
        raise InputError("the inputs are wrong")

    def crash(job_id: str) -> dict[str, Any]:
        raise RuntimeError("disk on fire")

    first = runner.submit("test", refuse, submitted_by="me", subject="a")
    second = runner.submit("test", crash, submitted_by="me", subject="b")
    third = runner.submit("test", lambda job_id: {"id": job_id}, submitted_by="me", subject="a")
    deadline = time.monotonic() + 10
    while runner.get(third["id"])["status"] != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.01)
    runner.shutdown()
    done = {j["id"]: j for j in runner.list("test")}
    assert done[first["id"]]["status"] == "failed"
    assert done[first["id"]]["error"]["code"] == "invalid-input"
    assert done[first["id"]]["error"]["detail"] == "the inputs are wrong"
    assert done[second["id"]]["error"]["code"] == "internal-error"
    assert "disk on fire" in done[second["id"]]["error"]["detail"]
    assert done[third["id"]]["result"] == {"id": third["id"]}
    assert [j["id"] for j in runner.list(subject="a")] == [first["id"], third["id"]]
    stale = {**third, "id": "20200101T000000000000-00000000", "status": "running"}
    (tmp_path / stale["id"]).mkdir()
    (tmp_path / stale["id"] / "job.json").write_text(json.dumps(stale), encoding="utf-8")
    again = JobRunner(tmp_path)
    assert again.get(stale["id"])["status"] == "failed"
    assert again.get(stale["id"])["error"]["code"] == "interrupted"
    assert again.get(third["id"]) == done[third["id"]]
    again.shutdown()
