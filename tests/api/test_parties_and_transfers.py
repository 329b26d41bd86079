"""Routes of parties and transfers: roles, ownership, problem details, pagination, idempotency,
body limits, and nothing written on refusal."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from mrv.registry.core import Registry
from mrv.registry.models import JournalEvent
from mrv.registry.queries import holdings
from tests.api.conftest import TokenFor
from tests.registry.builders import ADMIN, BUYER, COOPERATIVE, issued_batch


def _events(registry: Registry) -> int:
    with registry.read() as conn:
        return int(conn.execute(select(func.count()).select_from(JournalEvent)).scalar_one())


def _problem(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["code"] == code, body
    return body


def test_admins_create_parties_and_others_may_not(
    client: TestClient, registry: Registry, token_for: TokenFor
) -> None:
    admin = token_for(ADMIN)
    body = {"code": "coop-2", "name": "德清合作社", "roles": ["cooperative"]}
    r = client.post("/v1/parties", json=body, headers=admin)
    assert r.status_code == 201 and r.json()["event"]["operation"] == "create_party"
    assert client.get("/v1/parties/coop-2", headers=admin).json() == {
        "code": "coop-2", "name": "德清合作社", "credit_code": None, "roles": ["cooperative"],
    }  # fmt: skip
    coop = token_for("coop-2")
    before = _events(registry)
    _problem(client.post("/v1/parties", json={**body, "code": "x"}, headers=coop), 403, "forbidden")
    _problem(client.post("/v1/parties", json=body, headers=admin), 409, "duplicate")
    _problem(client.get("/v1/parties/nobody", headers=admin), 404, "not-found")
    assert _events(registry) == before


def test_parties_are_listed_page_by_page(
    client: TestClient, registry: Registry, token_for: TokenFor
) -> None:
    admin = token_for(ADMIN)
    for i in range(5):
        body = {"code": f"hh-{i}", "name": f"农户 {i}", "roles": ["owner_household"]}
        assert client.post("/v1/parties", json=body, headers=admin).status_code == 201
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/parties", params=params, headers=admin).json()
        assert len(page["items"]) <= 2
        seen += [p["code"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted([ADMIN, *(f"hh-{i}" for i in range(5))])
    _problem(client.get("/v1/parties", params={"limit": 1001}, headers=admin), 422, "invalid-input")
    _problem(
        client.get("/v1/parties", params={"cursor": "!!"}, headers=admin), 422, "invalid-input"
    )


def test_transfers_by_the_holder_only_with_idempotent_replays(
    client: TestClient, registry: Registry, token_for: TokenFor
) -> None:
    batch = issued_batch(registry)["batch"]
    coop, buyer = token_for(COOPERATIVE), token_for(BUYER)
    body = {"from_account": COOPERATIVE, "to_account": BUYER, "batch": batch, "quantity": 40}
    key = {"Idempotency-Key": "t-1"}
    first = client.post("/v1/transfers", json=body, headers={**coop, **key})
    assert first.status_code == 201, first.text
    again = client.post("/v1/transfers", json=body, headers={**coop, **key})
    assert again.json()["event"]["id"] == first.json()["event"]["id"]
    assert again.json()["event"]["replayed"] is True
    assert holdings(registry, BUYER)["total"]["held"] == 40
    before = _events(registry)
    _problem(client.post("/v1/transfers", json={**body, "quantity": 41}, headers={**coop, **key}),
             422, "idempotency-key-reused")  # fmt: skip
    _problem(client.post("/v1/transfers", json=body, headers=buyer), 403, "not-holder")
    _problem(client.post("/v1/transfers", json={**body, "quantity": 10**9}, headers=coop),
             409, "insufficient-credits")  # fmt: skip
    _problem(client.post("/v1/transfers", json={**body, "quantity": "forty"}, headers=coop),
             422, "invalid-input")  # fmt: skip
    _problem(client.post(
        "/v1/transfers",
        content=b'{"from_account": ',
        headers={**coop, "Content-Type": "application/json"},
    ),
             400, "malformed-json")  # fmt: skip
    big = {**body, "padding": "x" * 5000}
    _problem(client.post("/v1/transfers", json=big, headers=coop), 413, "too-large")
    _problem(client.post("/v1/transfers", json=body), 401, "unauthenticated")
    assert _events(registry) == before
    assert holdings(registry, BUYER)["total"]["held"] == 40
    r = client.get(f"/v1/accounts/{BUYER}/holdings", headers=buyer)
    assert r.json()["batches"] == [
        {"batch": batch, "held": 40, "listed": 0, "retired": 0, "cancelled": 0, "buffer": 0}
    ]
