"""Routes of issuance, batches, blocks, serial search, cancellations and reversals: values from
the registry, roles, bad input, pagination, and nothing written on refusal."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient

from api.routers.issuance import BlockStatus
from api.routers.lots import LotOut
from api.routers.retirements import Purpose
from mrv.registry.core import Registry
from mrv.registry.credits import transfer
from mrv.registry.models import BLOCK_STATES, LOT_STATES, PURPOSES
from mrv.registry.queries import batch_summary, blocks, find_serial, holdings
from tests.api.conftest import TokenFor
from tests.api.support_credits import pages, problem, rows, verified_report
from tests.registry.builders import ADMIN, BUYER, COOPERATIVE, issued_batch


def test_the_documented_states_are_the_registry_s() -> None:
    assert get_args(BlockStatus) == BLOCK_STATES and get_args(Purpose) == PURPOSES
    assert get_args(LotOut.model_fields["status"].annotation) == LOT_STATES


@pytest.fixture
def built(registry: Registry) -> dict[str, Any]:
    return issued_batch(registry, verified=1000, risk_score=15)


def test_admins_issue_a_verified_report(
    client: TestClient, registry: Registry, token_for: TokenFor, built: dict[str, Any]
) -> None:
    verified_report(registry, "AJ001", 2, verified=400, year=2025)
    admin, coop = token_for(ADMIN), token_for(COOPERATIVE)
    url = "/v1/projects/AJ001/reports/2/issuance"
    before = rows(registry)
    problem(client.post(url), 401, "unauthenticated")
    problem(client.post(url, headers=coop), 403, "forbidden")
    problem(client.post("/v1/projects/AJ001/reports/0/issuance", headers=admin), 422,
            "invalid-input")  # fmt: skip
    problem(client.post("/v1/projects/AJ001/reports/9/issuance", headers=admin), 404, "not-found")
    problem(client.post("/v1/projects/AJ001/reports/1/issuance", headers=admin), 409,
            "double-issuance")  # fmt: skip
    assert rows(registry) == before
    r = client.post(url, headers={**admin, "Idempotency-Key": "issue-2"})
    assert r.status_code == 201, r.text
    result = r.json()
    assert result["event"]["operation"] == "issue" and result["event"]["stream"] == "project:AJ001"
    # 400 t at risk score 15: buffer ceil(400 × 15 %) = 60, the proponent holds 340
    assert (result["batch"], result["quantity_tco2e"], result["buffer_tco2e"]) == (
        "HZ-BAM-AJ001-2025-002", 400, 60,
    )  # fmt: skip
    assert result["holder"] == COOPERATIVE and result["held_tco2e"] == 340
    assert [b["serial"] for b in result["blocks"]["buffer"]] == [
        "HZ-BAM-AJ001-2025-002-000000341-000000400"
    ]
    again = client.post(url, headers={**admin, "Idempotency-Key": "issue-2"}).json()
    assert again["event"]["replayed"] is True and again["batch"] == result["batch"]
    assert batch_summary(registry, result["batch"])["held"] == 340


def test_batches_are_public_and_listed_page_by_page(
    client: TestClient, registry: Registry, built: dict[str, Any]
) -> None:
    second = issued_batch(registry, project="DQ002", verified=500, land_type="wetland")["batch"]
    expected = sorted([built["batch"], second])
    listed = pages(client, "/v1/batches", {"limit": 1})
    assert listed == [batch_summary(registry, b) for b in expected]
    assert listed[0]["issued_tco2e"] == 1000 and listed[0]["buffer"] == 150
    only = client.get("/v1/batches", params={"project": "DQ002"}).json()["items"]
    assert [b["batch"] for b in only] == [second] == ["HZ-WET-DQ002-2024-001"]
    assert client.get(f"/v1/batches/{second}").json() == batch_summary(registry, second)
    problem(client.get("/v1/batches/HZ-NONE"), 404, "not-found")
    problem(client.get("/v1/batches", params={"cursor": "x"}), 422, "invalid-input")


def test_blocks_of_a_batch_page_by_page(
    client: TestClient, registry: Registry, built: dict[str, Any]
) -> None:
    batch = built["batch"]
    for quantity in (40, 25):
        transfer(registry, actor=COOPERATIVE, from_account=COOPERATIVE, to_account=BUYER,
                 batch=batch, quantity=quantity)  # fmt: skip
    url = f"/v1/batches/{batch}/blocks"
    listed = pages(client, url, {"limit": 2})
    assert listed == blocks(registry, batch=batch)["items"] and len(listed) == 4
    assert sum(b["quantity"] for b in listed) == 1000
    buyer = pages(client, url, {"account": BUYER, "limit": 1})
    assert [(b["serial_start"], b["serial_end"], b["status"]) for b in buyer] == [
        (1, 40, "held"), (41, 65, "held"),
    ]  # fmt: skip
    buffer = client.get(url, params={"status": "buffer"}).json()["items"]
    assert [(b["account"], b["quantity"]) for b in buffer] == [("BUFFER", 150)]
    assert client.get(url, params={"status": "retired"}).json() == {
        "items": [], "next_cursor": None,
    }  # fmt: skip
    problem(client.get(url, params={"status": "lost"}), 422, "invalid-input")
    problem(client.get(url, params={"cursor": "WyJhIl0"}), 422, "invalid-input")  # ["a"]
    problem(client.get("/v1/batches/HZ-NONE/blocks"), 404, "not-found")


def test_serial_search_shows_the_lineage(
    client: TestClient, registry: Registry, built: dict[str, Any]
) -> None:
    batch = built["batch"]
    transfer(registry, actor=COOPERATIVE, from_account=COOPERATIVE, to_account=BUYER,
             batch=batch, quantity=40)  # fmt: skip
    found = client.get(f"/v1/serials/{batch}/7").json()
    assert found == find_serial(registry, batch, 7)
    assert (found["account"], found["status"], found["block"]) == (
        BUYER, "held", f"{batch}-000000001-000000040",
    )  # fmt: skip
    assert [(a["account"], a["serial"]) for a in found["lineage"]] == [
        (COOPERATIVE, f"{batch}-000000001-000000850")
    ]
    assert client.get(f"/v1/serials/{batch}/900").json()["account"] == "BUFFER"
    problem(client.get(f"/v1/serials/{batch}/1001"), 404, "not-found")
    problem(client.get(f"/v1/serials/{batch}/0"), 422, "invalid-input")
    problem(client.get("/v1/serials/HZ-NONE/1"), 404, "not-found")


def test_cancellations_by_the_holder_or_an_admin(
    client: TestClient, registry: Registry, token_for: TokenFor, built: dict[str, Any]
) -> None:
    coop, buyer, admin = token_for(COOPERATIVE), token_for(BUYER), token_for(ADMIN)
    body = {"account": COOPERATIVE, "batch": built["batch"], "quantity": 10,
            "reason_code": "correction", "reason": "double counting in parcel P2"}  # fmt: skip
    before = rows(registry)
    problem(client.post("/v1/cancellations", json=body), 401, "unauthenticated")
    problem(client.post("/v1/cancellations", json=body, headers=buyer), 403, "forbidden")
    problem(client.post("/v1/cancellations", json={**body, "reason_code": "whim"}, headers=coop),
            422, "invalid-input")  # fmt: skip
    problem(client.post("/v1/cancellations", json={**body, "quantity": 0}, headers=coop),
            422, "invalid-input")  # fmt: skip
    problem(client.post("/v1/cancellations", json={**body, "quantity": 10**6}, headers=coop),
            409, "insufficient-credits")  # fmt: skip
    assert rows(registry) == before
    r = client.post("/v1/cancellations", json=body, headers=coop)
    assert r.status_code == 201, r.text
    assert r.json()["blocks"] == [
        {"serial_start": 1, "serial_end": 10, "quantity": 10,
         "serial": f"{built['batch']}-000000001-000000010"},
    ]  # fmt: skip
    fraud = {**body, "quantity": 5, "reason_code": "fraud", "reason": "forged land right"}
    assert client.post("/v1/cancellations", json=fraud, headers=admin).status_code == 201
    assert holdings(registry, COOPERATIVE)["total"] == {
        "held": 835, "listed": 0, "retired": 0, "cancelled": 15, "buffer": 0,
    }  # fmt: skip


def test_reversals_cancel_buffer_credits(
    client: TestClient, registry: Registry, token_for: TokenFor, built: dict[str, Any]
) -> None:
    coop, buyer = token_for(COOPERATIVE), token_for(BUYER)
    url = "/v1/projects/AJ001/reversals"
    body = {"loss_tco2e": 30, "kind": "reported", "description": "snow damage in compartment 12"}
    before = rows(registry)
    problem(client.post(url, json=body), 401, "unauthenticated")
    problem(client.post(url, json=body, headers=buyer), 403, "forbidden")
    problem(client.post(url, json={**body, "kind": "rumoured"}, headers=coop), 422,
            "invalid-input")  # fmt: skip
    problem(client.post(url, json={**body, "loss_tco2e": -1}, headers=coop), 422, "invalid-input")
    problem(client.post("/v1/projects/NOPE/reversals", json=body, headers=coop), 404, "not-found")
    assert rows(registry) == before
    r = client.post(url, json=body, headers=coop)
    assert r.status_code == 201, r.text
    result = r.json()
    assert (result["compensated_tco2e"], result["uncompensated_tco2e"]) == (30, 0)
    assert result["cancelled"][0]["blocks"][0]["serial_start"] == 851
    assert batch_summary(registry, built["batch"])["buffer"] == 120
    assert batch_summary(registry, built["batch"])["cancelled"] == 30
