"""Routes of projects: creation, the public notice with comments and responses on the registry's
clock, registration, rejection, deregistration, and the public reads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient

from api.routers.projects import ProjectStatus
from mrv.registry.core import Registry
from mrv.registry.journal import timestamp
from mrv.registry.models import PROJECT_STATES
from mrv.registry.parcels import list_parcels
from mrv.registry.projects import get_project, list_projects
from tests.api.conftest import TokenFor
from tests.api.support_credits import pages, problem, rows
from tests.api.support_workflow import contracted, project_body
from tests.registry.builders import ADMIN
from tests.registry.conftest import Clock

URL = "/v1/projects"


def test_the_documented_states_are_the_registry_s() -> None:
    assert get_args(ProjectStatus) == PROJECT_STATES


@pytest.fixture
def world(client: TestClient, registry: Registry, tmp_path: Path) -> None:
    contracted(registry, tmp_path)


def test_proponents_create_draft_projects(
    client: TestClient, registry: Registry, token_for: TokenFor, world: None
) -> None:
    coop, coop2, buyer = token_for("coop"), token_for("coop2"), token_for("buyer")
    body = project_body()
    before = rows(registry)
    problem(client.post(URL, json=body), 401, "unauthenticated")
    problem(client.post(URL, json=body, headers=buyer), 403, "forbidden")
    problem(client.post(URL, json=body, headers=coop2), 403, "forbidden")  # for another coop
    problem(client.post(URL, json={**body, "validator": "coop"}, headers=coop), 403,
            "verifier-conflict")  # fmt: skip
    invalid: tuple[dict[str, Any], ...] = (
        {"methodology_version": "9.9"},  # no such methodology
        {"risk_score": 101},
        {"crediting_end": "2025-12-31"},
        {"land_type": "forest"},  # A and B are bamboo
        {"validator": "hh1"},  # not a verifier
        {"parcels": []},
    )
    for bad in invalid:
        problem(client.post(URL, json={**body, **bad}, headers=coop), 422, "invalid-input")
    theirs = {**body, "parcels": [{"parcel": "E", "contract": "C-E"}]}  # C-E is coop2's
    problem(client.post(URL, json=theirs, headers=coop), 403, "forbidden")
    missing = {**body, "parcels": [{"parcel": "Z", "contract": "C-AB"}]}
    problem(client.post(URL, json=missing, headers=coop), 404, "not-found")
    assert rows(registry) == before
    r = client.post(URL, json=body, headers=coop)
    assert r.status_code == 201, r.text
    created = r.json()
    assert {k: v for k, v in created.items() if k != "event"} == get_project(registry, "P1")
    assert (created["status"], created["event"]["stream"]) == ("draft", "project:P1")
    assert created["area_mu"] == pytest.approx(270.0, abs=1e-3)
    assert [(p["code"], p["contract"]) for p in created["parcels"]] == [
        ("A", "C-AB"),
        ("B", "C-AB"),
    ]
    problem(client.post(URL, json=body, headers=coop), 409, "duplicate")
    again = {**body, "code": "P2", "parcels": [{"parcel": "A", "contract": "C-AB"}]}
    problem(client.post(URL, json=again, headers=coop), 409, "parcel-overlap")
    by_admin = {**body, "code": "P3", "parcels": [{"parcel": "C", "contract": "C-C"}]}
    assert client.post(URL, json=by_admin, headers=token_for(ADMIN)).status_code == 201


def test_the_public_notice_on_the_registry_clock(
    client: TestClient, registry: Registry, token_for: TokenFor, world: None, clock: Clock
) -> None:
    coop, coop2, hh1 = token_for("coop"), token_for("coop2"), token_for("hh1")
    admin = token_for(ADMIN)
    assert client.post(URL, json=project_body(), headers=coop).status_code == 201
    before = rows(registry)
    problem(client.post(f"{URL}/P1/comments", json={"comment": "?"}, headers=hh1), 409,
            "invalid-state")  # fmt: skip  # not on notice yet
    problem(client.post(f"{URL}/P1/notice"), 401, "unauthenticated")
    problem(client.post(f"{URL}/P1/notice", headers=coop2), 403, "forbidden")
    problem(client.post(f"{URL}/P1/notice", json={"start": "2026-03-01"}, headers=coop), 422,
            "invalid-input")  # fmt: skip  # before today
    problem(client.post(f"{URL}/NONE/notice", headers=coop), 404, "not-found")
    assert rows(registry) == before
    r = client.post(f"{URL}/P1/notice", headers=coop)
    assert r.status_code == 200, r.text
    # 20 working days from Monday 2 March 2026 (CCER Measures Art. 12)
    assert (r.json()["notice_start"], r.json()["notice_end"]) == ("2026-03-02", "2026-03-30")
    problem(client.post(f"{URL}/P1/notice", headers=coop), 409, "invalid-state")

    comments = f"{URL}/P1/comments"
    problem(client.post(comments, json={"comment": "?"}), 401, "unauthenticated")
    problem(client.post(comments, json={"comment": "  "}, headers=hh1), 422, "invalid-input")
    problem(client.post(f"{URL}/NONE/comments", json={"comment": "?"}, headers=hh1), 404,
            "not-found")  # fmt: skip
    first = client.post(comments, json={"comment": "边界与我家承包地重叠"}, headers=hh1)
    assert first.status_code == 201 and first.json()["commenter"] == "hh1"
    said = {"comment": "同意", "commenter": "递铺街道村民"}
    second = client.post(comments, json=said, headers=token_for("bureau")).json()
    assert second["commenter"] == "递铺街道村民"
    first_id, second_id = first.json()["comment_id"], second["comment_id"]

    answer = f"{URL}/P1/comments/{first_id}/response"
    reply = {"response": "边界已按林权证复核，无重叠"}
    problem(client.post(answer, json=reply), 401, "unauthenticated")
    problem(client.post(answer, json=reply, headers=hh1), 403, "forbidden")
    problem(client.post(f"{URL}/P1/comments/0/response", json=reply, headers=coop), 422,
            "invalid-input")  # fmt: skip
    problem(client.post(f"{URL}/P1/comments/999/response", json=reply, headers=coop), 404,
            "not-found")  # fmt: skip
    assert client.post(answer, json=reply, headers=coop).status_code == 200
    problem(client.post(answer, json=reply, headers=coop), 409, "invalid-state")  # answered

    problem(client.post(f"{URL}/P1/registration", headers=admin), 409, "invalid-state")  # early
    clock.set(dt.datetime(2026, 3, 30, 15, 59, tzinfo=dt.UTC))  # 23:59 on the last day, China
    last = client.post(comments, json={"comment": "最后一天"}, headers=hh1)
    assert last.status_code == 201, last.text
    last_id = last.json()["comment_id"]
    clock.set(dt.datetime(2026, 3, 30, 16, 0, tzinfo=dt.UTC))  # 00:00 on 31 March, China
    problem(client.post(comments, json={"comment": "late"}, headers=hh1), 409, "invalid-state")
    problem(client.post(f"{URL}/P1/registration"), 401, "unauthenticated")
    problem(client.post(f"{URL}/P1/registration", headers=coop), 403, "forbidden")
    unanswered = problem(client.post(f"{URL}/P1/registration", headers=admin), 409,
                         "invalid-state")  # fmt: skip
    assert unanswered["records"]["comment_ids"] == [second_id, last_id]
    for cid in (second_id, last_id):
        done = client.post(f"{URL}/P1/comments/{cid}/response", json=reply, headers=coop)
        assert done.status_code == 200, done.text
    r = client.post(f"{URL}/P1/registration", headers=admin)
    assert r.status_code == 200, r.text
    registered = get_project(registry, "P1")
    assert r.json()["status"] == registered["status"] == "registered"
    assert registered["registered_at"] == timestamp(clock.now)
    assert registered["registered_at"].startswith("2026-03-30T16:00:00")
    assert [c["response"] is not None for c in registered["comments"]] == [True] * 3


def test_admins_reject_and_deregister(
    client: TestClient, registry: Registry, token_for: TokenFor, world: None, clock: Clock
) -> None:
    coop, admin = token_for("coop"), token_for(ADMIN)
    assert client.post(URL, json=project_body(), headers=coop).status_code == 201
    other = project_body(code="P2", parcels=[{"parcel": "C", "contract": "C-C"}])
    assert client.post(URL, json=other, headers=coop).status_code == 201
    why = {"reason": "the parcels are under another scheme"}
    before = rows(registry)
    problem(client.post(f"{URL}/P1/rejection", json=why), 401, "unauthenticated")
    problem(client.post(f"{URL}/P1/rejection", json=why, headers=coop), 403, "forbidden")
    problem(client.post(f"{URL}/P1/rejection", json={"reason": " "}, headers=admin), 422,
            "invalid-input")  # fmt: skip
    problem(client.post(f"{URL}/P1/rejection", json={}, headers=admin), 422, "invalid-input")
    problem(client.post(f"{URL}/P1/deregistration", json=why, headers=admin), 409,
            "invalid-state")  # fmt: skip  # a draft is not registered
    problem(client.post(f"{URL}/NONE/rejection", json=why, headers=admin), 404, "not-found")
    assert rows(registry) == before
    r = client.post(f"{URL}/P1/rejection", json=why, headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert {p["code"]: p["project"] for p in list_parcels(registry)}["A"] is None  # released
    problem(client.post(f"{URL}/P1/rejection", json=why, headers=admin), 409, "invalid-state")
    assert client.post(f"{URL}/P2/notice", headers=coop).status_code == 200
    clock.set(dt.datetime(2026, 3, 31, 2, 0, tzinfo=dt.UTC))  # the day after the notice
    assert client.post(f"{URL}/P2/registration", headers=admin).status_code == 200
    problem(client.post(f"{URL}/P2/deregistration", json=why), 401, "unauthenticated")
    problem(client.post(f"{URL}/P2/deregistration", json=why, headers=coop), 403, "forbidden")
    r = client.post(f"{URL}/P2/deregistration", json=why, headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "deregistered"
    assert get_project(registry, "P2")["parcels"][0]["active"] is False
    problem(client.post(f"{URL}/P2/deregistration", json=why, headers=admin), 409,
            "invalid-state")  # fmt: skip  # final (CCER Art. 16)


def test_projects_are_public_and_listed_page_by_page(
    client: TestClient, registry: Registry, token_for: TokenFor, world: None
) -> None:
    coop, coop2 = token_for("coop"), token_for("coop2")
    assert client.post(URL, json=project_body(), headers=coop).status_code == 201
    p2 = project_body(code="P2", parcels=[{"parcel": "C", "contract": "C-C"}])
    assert client.post(URL, json=p2, headers=coop).status_code == 201
    p3 = project_body(code="P3", proponent="coop2", parcels=[{"parcel": "E", "contract": "C-E"}])
    assert client.post(URL, json=p3, headers=coop2).status_code == 201
    assert client.post(f"{URL}/P2/notice", headers=coop).status_code == 200
    every = pages(client, URL, {"limit": 2})  # no token: public
    assert every == list_projects(registry) and [p["code"] for p in every] == ["P1", "P2", "P3"]
    assert [p["parcel_count"] for p in every] == [2, 1, 1]
    noticed = client.get(URL, params={"status": "public_notice"}).json()["items"]
    assert [p["code"] for p in noticed] == ["P2"] and noticed[0]["notice_end"] == "2026-03-30"
    theirs = client.get(URL, params={"proponent": "coop2"}).json()["items"]
    assert [p["code"] for p in theirs] == ["P3"]
    whole = get_project(registry, "P1")
    assert [p["owner"] for p in whole["parcels"]] == ["hh1", "hh1"]
    # households are private persons: their codes only for the proponent and the overseers
    anonymous = client.get(f"{URL}/P1").json()
    assert anonymous == {**whole, "parcels": [{**p, "owner": None} for p in whole["parcels"]]}
    assert client.get(f"{URL}/P1", headers=coop2).json() == anonymous
    assert client.get(f"{URL}/P1", headers=token_for("buyer")).json() == anonymous
    for reader in ("coop", "ver", "bureau"):
        assert client.get(f"{URL}/P1", headers=token_for(reader)).json() == whole, reader
    problem(client.get(f"{URL}/P1", headers={"Authorization": "Bearer mrv_bad"}), 401,
            "unauthenticated")  # fmt: skip
    problem(client.get(f"{URL}/NONE"), 404, "not-found")
    problem(client.get(URL, params={"status": "approved"}), 422, "invalid-input")
    problem(client.get(URL, params={"cursor": "bad"}), 422, "invalid-input")
