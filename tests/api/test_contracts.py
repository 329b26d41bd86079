"""Routes of collection contracts: creation by the cooperative, termination, reads with
filters and pages, and the upfront payments of the settlement cycles."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.testclient import TestClient

from api.routers.contracts import ContractStatus
from mrv.registry.contracts import (
    CONTRACT_STATES,
    contract_payments_due,
    get_contract,
    list_contracts,
)
from mrv.registry.core import Registry
from mrv.registry.projects import create_project
from tests.api.conftest import TokenFor
from tests.api.support_credits import pages, problem, rows
from tests.api.support_workflow import contracted, parties
from tests.registry.builders import ADMIN
from tests.registry.test_parcels import import_squares

URL = "/v1/contracts"
BODY: dict[str, Any] = {
    "code": "C-1",
    "cooperative": "coop",
    "owner": "hh1",
    "parcels": ["A", "B"],
    "start": "2026-01-01",
    "end": "2056-01-01",
    "annual_payment_yuan_per_mu": "16.926",
    "settlement_cycle_years": 3,
    "owner_share": "0.8",
}


def test_the_documented_states_are_the_registry_s() -> None:
    assert get_args(ContractStatus) == CONTRACT_STATES


@pytest.fixture
def parcels(client: TestClient, registry: Registry, tmp_path: Path) -> None:
    """Parcels A, B (hh1), C (vil) and E (hh2), 9 ha = 135 mu each, without contracts."""
    parties(registry)
    import_squares(
        registry,
        tmp_path,
        [("A", "hh1", 0, 0), ("B", "hh1", 300, 0), ("C", "vil", 0, 2000), ("E", "hh2", 2000, 0)],
    )


def test_cooperatives_record_contracts(
    client: TestClient, registry: Registry, token_for: TokenFor, parcels: None
) -> None:
    coop, coop2, buyer = token_for("coop"), token_for("coop2"), token_for("buyer")
    before = rows(registry)
    problem(client.post(URL, json=BODY), 401, "unauthenticated")
    problem(client.post(URL, json=BODY, headers=buyer), 403, "forbidden")
    problem(client.post(URL, json=BODY, headers=coop2), 403, "forbidden")  # not its contract
    invalid: tuple[dict[str, Any], ...] = (
        {"annual_payment_yuan_per_mu": "16.9265"},  # not whole li
        {"annual_payment_yuan_per_mu": "cheap"},
        {"owner_share": "1.5"},
        {"end": "2025-12-31"},  # before the start
        {"start": "01/01/2026"},
        {"settlement_cycle_years": 0},
        {"parcels": []},
        {"parcels": ["A", "A"]},
        {"parcels": ["C"]},  # owned by vil, not hh1
        {"owner": "coop2"},  # not an owner
    )
    for bad in invalid:
        problem(client.post(URL, json={**BODY, **bad}, headers=coop), 422, "invalid-input")
    problem(client.post(URL, json={**BODY, "parcels": ["A", "Z"]}, headers=coop), 404, "not-found")
    assert rows(registry) == before
    r = client.post(URL, json=BODY, headers={**coop, "Idempotency-Key": "c-1"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["event"]["operation"] == "create_contract"
    assert {k: v for k, v in created.items() if k != "event"} == get_contract(registry, "C-1")
    assert (created["owner_share_bp"], created["annual_payment_yuan_per_mu"]) == (8000, "16.926")
    assert created["area_mu"] == pytest.approx(270.0, abs=1e-3)  # 2 × 9 ha × 15 mu/ha
    replay = client.post(URL, json=BODY, headers={**coop, "Idempotency-Key": "c-1"}).json()
    assert replay["event"]["replayed"] is True and replay["code"] == "C-1"
    clash = {**BODY, "code": "C-2", "parcels": ["B"], "start": "2030-01-01"}
    problem(client.post(URL, json=clash, headers=coop), 409, "period-overlap")
    problem(client.post(URL, json=BODY, headers=coop), 409, "duplicate")
    admin_made = {**BODY, "code": "C-3", "owner": "vil", "parcels": ["C"]}
    assert client.post(URL, json=admin_made, headers=token_for(ADMIN)).status_code == 201


def test_contracts_are_read_by_filter_and_page(
    client: TestClient, registry: Registry, token_for: TokenFor, tmp_path: Path
) -> None:
    contracted(registry, tmp_path)
    hh1 = token_for("hh1")
    every = pages(client, URL, {"limit": 2}, hh1)
    assert every == list_contracts(registry) and [c["code"] for c in every] == [
        "C-AB", "C-C", "C-E",
    ]  # fmt: skip
    mine = client.get(URL, params={"cooperative": "coop"}, headers=hh1).json()["items"]
    assert [c["code"] for c in mine] == ["C-AB", "C-C"]
    owned = client.get(URL, params={"owner": "hh2", "status": "active"}, headers=hh1).json()
    assert [c["code"] for c in owned["items"]] == ["C-E"]
    ended = client.get(URL, params={"status": "terminated"}, headers=hh1).json()
    assert ended["items"] == []
    one = client.get(f"{URL}/C-AB", headers=hh1).json()
    assert one == get_contract(registry, "C-AB")
    assert (one["parcels"], one["start"], one["end"]) == (["A", "B"], "2026-01-01", "2056-01-01")
    problem(client.get(URL), 401, "unauthenticated")
    problem(client.get(f"{URL}/C-AB"), 401, "unauthenticated")
    problem(client.get(f"{URL}/NONE", headers=hh1), 404, "not-found")
    problem(client.get(URL, params={"owner": "nobody"}, headers=hh1), 404, "not-found")
    problem(client.get(URL, params={"status": "void"}, headers=hh1), 422, "invalid-input")


def test_cooperatives_terminate_contracts_no_project_holds(
    client: TestClient, registry: Registry, token_for: TokenFor, tmp_path: Path
) -> None:
    contracted(registry, tmp_path)
    create_project(  # C-C backs parcel C of the draft project P1
        registry,
        actor="coop",
        code="P1",
        name="P1",
        proponent="coop",
        validator="ver",
        methodology_id="bamboo-moso",
        methodology_version="1.0.0",
        land_type="bamboo",
        crediting_start=dt.date(2026, 1, 1),
        crediting_end=dt.date(2045, 12, 31),
        risk_score=10,
        parcels=[("C", "C-C")],
    )
    coop, coop2 = token_for("coop"), token_for("coop2")
    body = {"reason": "the household sold the land right", "on": "2026-06-30"}
    url = f"{URL}/C-AB/termination"
    before = rows(registry)
    problem(client.post(url, json=body), 401, "unauthenticated")
    problem(client.post(url, json=body, headers=coop2), 403, "forbidden")
    problem(client.post(url, json={**body, "reason": "  "}, headers=coop), 422, "invalid-input")
    past = {**body, "on": "2026-03-01"}  # today is 2026-03-02
    problem(client.post(url, json=past, headers=coop), 422, "invalid-input")
    problem(client.post(f"{URL}/NONE/termination", json=body, headers=coop), 404, "not-found")
    problem(client.post(f"{URL}/C-C/termination", json=body, headers=coop), 409, "invalid-state")
    assert rows(registry) == before
    r = client.post(url, json=body, headers=coop)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["end"]) == ("terminated", "2026-06-30")
    assert get_contract(registry, "C-AB")["status"] == "terminated"
    problem(client.post(url, json=body, headers=coop), 409, "invalid-state")
    today = client.post(f"{URL}/C-E/termination", json={"reason": "moved"}, headers=coop2)
    assert today.status_code == 200 and today.json()["end"] == "2026-03-02"  # default: today


def test_payments_due_per_settlement_cycle(
    client: TestClient, registry: Registry, token_for: TokenFor, tmp_path: Path
) -> None:
    contracted(registry, tmp_path)
    hh1 = token_for("hh1")
    url = f"{URL}/C-AB/payments"
    due = client.get(url, params={"as_of": "2029-01-01"}, headers=hh1).json()
    assert due == contract_payments_due(registry, "C-AB", dt.date(2029, 1, 1))
    # 270 mu × ¥16.93 × 3 years = ¥13,713.30 per cycle, paid upfront; cycles 1 and 2 are due
    assert [c["amount_yuan"] for c in due["cycles"][:2]] == ["13713.30", "13713.30"]
    assert len(due["cycles"]) == 10 and due["total_due_yuan"] == "27426.60"
    assert [c["due"] for c in due["cycles"][:3]] == [True, True, False]
    today = client.get(url, headers=hh1).json()  # as of today in China, 2026-03-02
    assert (today["as_of"], today["total_due_yuan"]) == ("2026-03-02", "13713.30")
    problem(client.get(url), 401, "unauthenticated")
    problem(client.get(url, params={"as_of": "2029-13-01"}, headers=hh1), 422, "invalid-input")
    problem(client.get(f"{URL}/NONE/payments", headers=hh1), 404, "not-found")
