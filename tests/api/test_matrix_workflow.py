"""Authorisation matrix of the parcel, contract, project, report and verification write routes.

For every role of :data:`mrv.registry.models.ROLES`, a fresh party holding just that role calls
every write route: roles that may not do it get 403, roles that may are not refused as such
(401/403) — they may still meet 404/409/422 because the state does not fit, which is not what
this matrix checks. Without a token every route answers 401. Routes run in groups sharing one
world (one world per route would make the file slow on PostgreSQL). Acting for oneself differs
from acting for the cooperative of the world (``*-own`` / ``*-other``); what only the project's
proponent or its assigned verifier may do, no fresh party may (not even an admin for findings
and statements, CCER Art. 18).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mrv.registry.core import Registry
from mrv.registry.models import ROLES
from mrv.registry.monitoring import submit_report
from mrv.registry.projects import add_notice_comment, create_project, start_public_notice
from mrv.registry.verification import assign_verifier, open_finding
from tests.api.conftest import TokenFor
from tests.api.support_workflow import IMPORT_URL, collection
from tests.registry.builders import (
    ADMIN,
    COOPERATIVE,
    VALIDATOR,
    VERIFIER,
    ensure_party,
    issued_batch,
)
from tests.registry.test_parcels import feature, import_squares, square
from tests.registry.test_projects import contract

World = dict[str, Any]
Request = Callable[[World, str], dict[str, Any]]
"""(world, party) → keyword arguments of ``client.post`` (url, json or files and data)."""
EVERY = frozenset(ROLES)
ADMINS = frozenset({"admin"})
NOBODY: frozenset[str] = frozenset()
OWNER = "hh-m"
EVIDENCE = hashlib.sha256(b"matrix evidence").hexdigest()


def _post(url: str, body: dict[str, Any] | None = None) -> Request:
    return lambda w, party: {"url": url, "json": body}


def _import(w: World, party: str) -> dict[str, Any]:
    x = 400 * next(w["counter"])  # a parcel of its own for each party that may import
    content = collection([feature(f"{party}-X", square(x, 9000), owner=OWNER)])
    return {"url": IMPORT_URL, "files": {"file": ("m.geojson", content, "application/geo+json")}}


def _contract(cooperative: str | None, parcel: str) -> Request:
    def request(w: World, party: str) -> dict[str, Any]:
        body = {"code": f"MC-{party}", "cooperative": cooperative or party, "owner": OWNER,
                "parcels": [parcel], "start": "2026-01-01", "end": "2056-01-01",
                "annual_payment_yuan_per_mu": "16.93", "settlement_cycle_years": 3,
                "owner_share": "0.8"}  # fmt: skip
        return {"url": "/v1/contracts", "json": body}

    return request


def _project(w: World, party: str) -> dict[str, Any]:
    body = {"code": f"MP{next(w['counter'])}", "name": "m", "proponent": COOPERATIVE,
            "validator": VALIDATOR, "methodology_id": "bamboo-moso", "methodology_version": "1.0.0",
            "land_type": "bamboo", "crediting_start": "2026-01-01", "crediting_end": "2045-12-31",
            "risk_score": 10, "parcels": [{"parcel": "M-P", "contract": "C-P"}]}  # fmt: skip
    return {"url": "/v1/projects", "json": body}


def _comment(w: World, party: str) -> dict[str, Any]:
    return {"url": "/v1/projects/MN/comments", "json": {"comment": f"from {party}"}}


def _comment_response(w: World, party: str) -> dict[str, Any]:
    url = f"/v1/projects/MN/comments/{w['comment']}/response"
    return {"url": url, "json": {"response": "m"}}


def _report(w: World, party: str) -> dict[str, Any]:
    body = {"period_start": "2022-01-01", "period_end": "2022-12-31",
            "evidence_sha256": EVIDENCE, "claimed_tco2e": 10}  # fmt: skip
    return {"url": "/v1/projects/AJ001/reports", "json": body}


def _finding(step: str) -> Request:
    def request(w: World, party: str) -> dict[str, Any]:
        body = {"response": "m"} if step == "response" else None
        return {"url": f"/v1/findings/{w['finding']}/{step}", "json": body}

    return request


REASON = {"reason": "m"}
REPORT2 = "/v1/projects/AJ001/reports/2"
ROUTES: dict[str, tuple[frozenset[str], Request]] = {
    "import-parcels": (frozenset({"bureau", "cooperative", "admin"}), _import),
    "contract-own": (frozenset({"cooperative", "admin"}), _contract(None, "M-F")),
    "contract-other": (ADMINS, _contract(COOPERATIVE, "M-G")),
    "terminate-contract": (ADMINS, _post("/v1/contracts/C-T/termination", REASON)),
    "create-project": (ADMINS, _project),
    "start-notice": (ADMINS, _post("/v1/projects/MD/notice")),
    "comment": (EVERY, _comment),
    "respond-to-comment": (ADMINS, _comment_response),
    "register": (ADMINS, _post("/v1/projects/MN/registration")),
    "reject": (ADMINS, _post("/v1/projects/MD/rejection", REASON)),
    "deregister": (ADMINS, _post("/v1/projects/AJ001/deregistration", REASON)),
    "submit-report": (ADMINS, _report),
    "assign-verifier": (
        frozenset({"bureau", "admin"}),
        _post("/v1/projects/AJ001/reports/3/verifier", {"verifier": VERIFIER}),
    ),
    "open-finding": (NOBODY, _post(f"{REPORT2}/findings", {"kind": "CL", "text": "m"})),
    "respond-to-finding": (NOBODY, _finding("response")),
    "close-finding": (NOBODY, _finding("closure")),
    "statement": (NOBODY, _post(f"{REPORT2}/statement", {"opinion": "negative", "statement": "m"})),
}
"""Route → (roles that may, the request a party makes)."""
GROUPS: dict[str, tuple[str, ...]] = {
    "parcels-and-contracts": (
        "import-parcels", "contract-own", "contract-other", "terminate-contract", "create-project",
    ),
    "public-notice": ("start-notice", "comment", "respond-to-comment", "register", "reject"),
    "reports": ("submit-report", "assign-verifier", "deregister"),
    "verification": ("open-finding", "respond-to-finding", "close-finding", "statement"),
}  # fmt: skip
"""Routes that share a world, in order. What an allowed role does may change the state a later
route meets (MD is on notice when it is rejected, AJ001 deregistered last), never the answer to
a refused role: the registry checks roles, proponents and assignments before states."""


@pytest.fixture
def world(client: TestClient, registry: Registry, tmp_path: Path) -> World:
    """AJ001 registered (report 1 issued, report 2 under verification with a CAR, report 3
    submitted); draft project MD, project MN on notice with a comment; contract C-T free;
    parcel M-P under contract C-P and parcels M-F, M-G without one, all of the cooperative."""
    issued_batch(registry, verified=1000)
    ensure_party(registry, OWNER, "农户", ["owner_household"])
    specs = [
        (code, OWNER, 400.0 * i, 6000.0)
        for i, code in enumerate(["M-D", "M-N", "M-T", "M-P", "M-F", "M-G"])
    ]
    import_squares(registry, tmp_path, specs, actor=COOPERATIVE)
    for code, parcel in (("C-D", "M-D"), ("C-N", "M-N"), ("C-T", "M-T"), ("C-P", "M-P")):
        contract(registry, code, COOPERATIVE, OWNER, [parcel])
    for code, parcel, agreement in (("MD", "M-D", "C-D"), ("MN", "M-N", "C-N")):
        create_project(registry, actor=COOPERATIVE, code=code, name=code, proponent=COOPERATIVE,
                       validator=VALIDATOR, methodology_id="bamboo-moso",
                       methodology_version="1.0.0", land_type="bamboo",
                       crediting_start=dt.date(2026, 1, 1), crediting_end=dt.date(2045, 12, 31),
                       risk_score=10, parcels=[(parcel, agreement)])  # fmt: skip
    start_public_notice(registry, actor=COOPERATIVE, project="MN")
    comment = add_notice_comment(registry, actor=ADMIN, project="MN", comment="m")
    for start in (dt.date(2025, 1, 1), dt.date(2023, 1, 1)):
        submit_report(registry, actor=COOPERATIVE, project="AJ001", period_start=start,
                      period_end=start.replace(month=12, day=31), evidence_sha256=EVIDENCE,
                      claimed_tco2e=100)  # fmt: skip
    assign_verifier(registry, actor=ADMIN, project="AJ001", report_seq=2, verifier=VERIFIER)
    finding = open_finding(registry, actor=VERIFIER, project="AJ001", report_seq=2, kind="CAR",
                           text="m")  # fmt: skip
    return {
        "counter": itertools.count(1),
        "comment": comment.result["comment_id"],
        "finding": finding.result["id"],
    }


def test_every_route_is_in_one_group() -> None:
    assert sorted(r for routes in GROUPS.values() for r in routes) == sorted(ROUTES)


@pytest.mark.parametrize("group", list(GROUPS))
def test_roles_matrix(
    client: TestClient, registry: Registry, token_for: TokenFor, world: World, group: str
) -> None:
    tokens: dict[str, dict[str, str]] = {}
    for role in ROLES:
        party = f"matrix-{role}"
        ensure_party(registry, party, f"Matrix {role}", [role])
        tokens[role] = token_for(party)
    wrong: list[str] = []
    for route in GROUPS[group]:
        allowed, request = ROUTES[route]
        r = client.post(**request(world, "nobody"))
        if r.status_code != 401 or r.json()["code"] != "unauthenticated":
            wrong.append(f"{route} without a token: {r.status_code} {r.text}")
        for role in ROLES:
            r = client.post(**request(world, f"matrix-{role}"), headers=tokens[role])
            refused = r.status_code in (401, 403)
            if (role in allowed and refused) or (role not in allowed and r.status_code != 403):
                wrong.append(f"{route} by {role}: {r.status_code} {r.text}")
            elif refused and r.json()["code"] != "forbidden":
                wrong.append(f"{route} by {role}: {r.text}")
    assert not wrong, "\n".join(wrong)
