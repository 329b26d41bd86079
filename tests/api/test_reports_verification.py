"""Routes of monitoring reports and their verification: submission with per-parcel removals,
reads, verifier assignment (CCER Art. 18), findings, statements, and the issuance that follows."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient

from api.routers.reports import ReportStatus
from api.routers.verification import FindingOut, ReportVerificationOut
from mrv.registry.core import Registry
from mrv.registry.models import FINDING_STATES, REPORT_STATES, VERIFICATION_STATES
from mrv.registry.monitoring import get_report, list_reports, submit_report
from mrv.registry.verification import assign_verifier, get_verification, open_finding
from tests.api.conftest import TokenFor
from tests.api.support_credits import pages, problem, rows
from tests.registry.builders import (
    ADMIN,
    BUYER,
    COOPERATIVE,
    VALIDATOR,
    VERIFIER,
    ensure_party,
    issued_batch,
)

REPORTS = "/v1/projects/AJ001/reports"
EVIDENCE = hashlib.sha256(b"evidence package 2025").hexdigest()
BODY: dict[str, Any] = {
    "period_start": "2025-01-01",
    "period_end": "2025-12-31",
    "evidence_sha256": EVIDENCE,
    "claimed_tco2e": 601,
    "parcel_removals": {"AJ001-P1": 300.4, "AJ001-P2": 180.2, "AJ001-P3": 120.6},
}


def test_the_documented_states_are_the_registry_s() -> None:
    assert get_args(ReportStatus) == REPORT_STATES
    assert get_args(ReportVerificationOut.model_fields["status"].annotation) == VERIFICATION_STATES
    assert get_args(FindingOut.model_fields["status"].annotation) == FINDING_STATES


@pytest.fixture
def built(client: TestClient, registry: Registry) -> dict[str, Any]:
    """AJ001 registered with report 1 (2024) issued; a bureau and a second verifier."""
    ensure_party(registry, "bureau-1", "湖州市林业局", ["bureau"])
    ensure_party(registry, "verifier-2", "Another verification body", ["verifier"])
    return issued_batch(registry, verified=1000)


def _submitted(registry: Registry, start: str = "2025-01-01", end: str = "2025-12-31") -> int:
    seq: int = submit_report(
        registry,
        actor=COOPERATIVE,
        project="AJ001",
        period_start=dt.date.fromisoformat(start),
        period_end=dt.date.fromisoformat(end),
        evidence_sha256=EVIDENCE,
        claimed_tco2e=601,
    ).result["seq"]
    return seq


def test_proponents_submit_reports(
    client: TestClient, registry: Registry, token_for: TokenFor, built: dict[str, Any]
) -> None:
    coop, buyer = token_for(COOPERATIVE), token_for(BUYER)
    before = rows(registry)
    problem(client.post(REPORTS, json=BODY), 401, "unauthenticated")
    problem(client.post(REPORTS, json=BODY, headers=buyer), 403, "forbidden")
    for bad in (
        {"evidence_sha256": "XYZ"},
        {"claimed_tco2e": 0},
        {"claimed_tco2e": 700},  # the parcels' removals sum to 601.2 t
        {"parcel_removals": {"AJ001-P1": 602.0, "AJ001-P2": -1.0}},
        {"period_end": "2026-12-31"},  # in the future
        {"period_start": "2026-01-01"},  # after the end
        {"period_start": "27/02/2025"},
    ):
        problem(client.post(REPORTS, json={**BODY, **bad}, headers=coop), 422, "invalid-input")
    unknown = {**BODY, "parcel_removals": {"AJ001-P9": 601.0}}
    problem(client.post(REPORTS, json=unknown, headers=coop), 404, "not-found")
    problem(client.post("/v1/projects/NONE/reports", json=BODY, headers=coop), 404, "not-found")
    overlap = {**BODY, "period_start": "2024-07-01"}  # report 1 covers 2024
    problem(client.post(REPORTS, json=overlap, headers=coop), 409, "period-overlap")
    assert rows(registry) == before
    r = client.post(REPORTS, json=BODY, headers={**coop, "Idempotency-Key": "report-2025"})
    assert r.status_code == 201, r.text
    report = r.json()
    assert {k: v for k, v in report.items() if k != "event"} == get_report(registry, "AJ001", 2)
    assert (report["seq"], report["status"], report["claimed_tco2e"]) == (2, "submitted", 601)
    assert report["parcel_removals"] == BODY["parcel_removals"]
    replay = client.post(REPORTS, json=BODY, headers={**coop, "Idempotency-Key": "report-2025"})
    assert replay.json()["event"]["replayed"] is True and len(list_reports(registry, "AJ001")) == 2
    by_admin = {**BODY, "period_start": "2023-01-01", "period_end": "2023-12-31"}
    del by_admin["parcel_removals"]
    r = client.post(REPORTS, json=by_admin, headers=token_for(ADMIN))
    assert r.status_code == 201 and (r.json()["seq"], r.json()["parcel_removals"]) == (3, {})


def test_reports_are_read_page_by_page(
    client: TestClient, registry: Registry, token_for: TokenFor, built: dict[str, Any]
) -> None:
    _submitted(registry)
    _submitted(registry, "2023-01-01", "2023-12-31")
    buyer = token_for(BUYER)
    listed = pages(client, REPORTS, {"limit": 1}, buyer)
    assert listed == list_reports(registry, "AJ001")
    assert [(r["seq"], r["status"], r["period_start"]) for r in listed] == [
        (1, "issued", "2024-01-01"), (2, "submitted", "2025-01-01"), (3, "submitted", "2023-01-01"),
    ]  # fmt: skip
    assert client.get(f"{REPORTS}/2", headers=buyer).json() == get_report(registry, "AJ001", 2)
    problem(client.get(REPORTS), 401, "unauthenticated")
    problem(client.get(f"{REPORTS}/2"), 401, "unauthenticated")
    problem(client.get(f"{REPORTS}/9", headers=buyer), 404, "not-found")
    problem(client.get(f"{REPORTS}/0", headers=buyer), 422, "invalid-input")
    problem(client.get("/v1/projects/NONE/reports", headers=buyer), 404, "not-found")


def test_a_verified_report_from_assignment_to_issuance(
    client: TestClient, registry: Registry, token_for: TokenFor, built: dict[str, Any]
) -> None:
    seq = _submitted(registry)
    coop, bureau, admin = token_for(COOPERATIVE), token_for("bureau-1"), token_for(ADMIN)
    verifier, other = token_for(VERIFIER), token_for("verifier-2")
    url = f"{REPORTS}/{seq}"
    before = rows(registry)
    problem(client.post(f"{url}/verifier", json={"verifier": VERIFIER}), 401, "unauthenticated")
    problem(client.post(f"{url}/verifier", json={"verifier": VERIFIER}, headers=coop), 403,
            "forbidden")  # fmt: skip
    conflict = problem(client.post(f"{url}/verifier", json={"verifier": VALIDATOR},
                                   headers=bureau), 403, "verifier-conflict")  # fmt: skip
    assert "validated project AJ001 (CCER Measures Art. 18)" in conflict["detail"]
    problem(client.post(f"{url}/verifier", json={"verifier": BUYER}, headers=bureau), 422,
            "invalid-input")  # fmt: skip
    problem(client.post(f"{url}/verifier", json={"verifier": "nobody"}, headers=bureau), 404,
            "not-found")  # fmt: skip
    problem(client.post(f"{REPORTS}/1/verifier", json={"verifier": VERIFIER}, headers=bureau),
            409, "invalid-state")  # fmt: skip  # report 1 is issued
    problem(client.get(f"{url}/verification", headers=coop), 409, "invalid-state")  # none yet
    assert rows(registry) == before
    r = client.post(f"{url}/verifier", json={"verifier": VERIFIER}, headers=bureau)
    assert r.status_code == 201, r.text
    assert (r.json()["verifier"], r.json()["report_status"]) == (VERIFIER, "under_verification")
    problem(client.post(f"{url}/verifier", json={"verifier": VERIFIER}, headers=bureau), 409,
            "invalid-state")  # fmt: skip

    car = {"kind": "CAR", "text": "parcel AJ001-P2 lies partly outside the map"}
    before = rows(registry)
    problem(client.post(f"{url}/findings", json=car), 401, "unauthenticated")
    problem(client.post(f"{url}/findings", json=car, headers=admin), 403, "forbidden")
    problem(client.post(f"{url}/findings", json=car, headers=other), 403, "forbidden")
    problem(client.post(f"{url}/findings", json={**car, "kind": "NCR"}, headers=verifier), 422,
            "invalid-input")  # fmt: skip
    problem(client.post(f"{url}/findings", json={**car, "text": " "}, headers=verifier), 422,
            "invalid-input")  # fmt: skip
    assert rows(registry) == before
    car_id = client.post(f"{url}/findings", json=car, headers=verifier).json()["id"]
    far = {"kind": "FAR", "text": "add drone plots next period"}
    far_id = client.post(f"{url}/findings", json=far, headers=verifier).json()["id"]
    positive = {"opinion": "positive", "verified_tco2e": 590, "statement": "Reasonable assurance."}
    early = problem(client.post(f"{url}/statement", json=positive, headers=verifier), 409,
                    "invalid-state")  # fmt: skip
    assert early["records"]["findings"] == [car_id]

    answer = {"response": "the boundary was corrected; see map v2"}
    respond, close = f"/v1/findings/{car_id}/response", f"/v1/findings/{car_id}/closure"
    before = rows(registry)
    problem(client.post(respond, json=answer), 401, "unauthenticated")
    problem(client.post(respond, json=answer, headers=admin), 403, "forbidden")  # proponent only
    problem(client.post(respond, json=answer, headers=verifier), 403, "forbidden")
    problem(client.post("/v1/findings/0/response", json=answer, headers=coop), 422,
            "invalid-input")  # fmt: skip
    problem(client.post("/v1/findings/999999/response", json=answer, headers=coop), 404,
            "not-found")  # fmt: skip
    problem(client.post(close, headers=verifier), 409, "invalid-state")  # a CAR needs a response
    assert rows(registry) == before
    r = client.post(respond, json=answer, headers=coop)
    assert r.status_code == 200 and r.json()["status"] == "responded"
    problem(client.post(respond, json=answer, headers=coop), 409, "invalid-state")
    problem(client.post(close), 401, "unauthenticated")
    problem(client.post(close, headers=coop), 403, "forbidden")
    r = client.post(close, headers=verifier)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    problem(client.post(close, headers=verifier), 409, "invalid-state")

    before = rows(registry)
    problem(client.post(f"{url}/statement", json=positive), 401, "unauthenticated")
    problem(client.post(f"{url}/statement", json=positive, headers=coop), 403, "forbidden")
    for bad in (
        {"verified_tco2e": 700},  # more than the 601 t claimed
        {"opinion": "negative"},  # a negative opinion verifies no tonnes
        {"opinion": "maybe"},
        {"statement": " "},
    ):
        problem(client.post(f"{url}/statement", json={**positive, **bad}, headers=verifier), 422,
                "invalid-input")  # fmt: skip
    assert rows(registry) == before
    r = client.post(f"{url}/statement", json=positive, headers=verifier)
    assert r.status_code == 200, r.text
    stated = r.json()
    assert (stated["status"], stated["verified_tco2e"], stated["report_status"]) == (
        "positive", 590, "verified",
    )  # fmt: skip
    assert [f["id"] for f in stated["carried_forward"]] == [far_id]
    problem(client.post(f"{url}/statement", json=positive, headers=verifier), 409, "invalid-state")
    shown = client.get(f"{url}/verification", headers=coop).json()
    assert shown == get_verification(registry, "AJ001", seq)
    assert [(f["kind"], f["status"]) for f in shown["findings"]] == [
        ("CAR", "closed"), ("FAR", "open"),
    ]  # fmt: skip
    problem(client.get(f"{url}/verification"), 401, "unauthenticated")
    issued = client.post(f"{url}/issuance", headers=admin)
    assert issued.status_code == 201 and issued.json()["quantity_tco2e"] == 590


def test_a_negative_statement_frees_the_period(
    client: TestClient, registry: Registry, token_for: TokenFor, built: dict[str, Any]
) -> None:
    seq = _submitted(registry)
    assign_verifier(registry, actor=ADMIN, project="AJ001", report_seq=seq, verifier=VERIFIER)
    open_finding(registry, actor=VERIFIER, project="AJ001", report_seq=seq, kind="CAR",
                 text="the evidence package does not match the report")  # fmt: skip
    negative = {"opinion": "negative", "statement": "The removals are not supported."}
    r = client.post(f"{REPORTS}/{seq}/statement", json=negative, headers=token_for(VERIFIER))
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["report_status"]) == ("negative", "rejected")
    again = client.post(REPORTS, json=BODY, headers=token_for(COOPERATIVE))
    assert again.status_code == 201 and again.json()["seq"] == seq + 1
