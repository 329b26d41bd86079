"""Routes of benefit distribution (lot, statement, payments) and of the journal, the audit and
the CADT export: a token is needed, values come from the registry, refusals write nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from mrv.registry.audit import audit
from mrv.registry.core import Registry
from mrv.registry.distribution import distribution_statement, get_distribution
from mrv.registry.exports import cadt_export
from mrv.registry.queries import journal
from tests.api.conftest import TokenFor
from tests.api.support_credits import pages, problem, rows
from tests.registry.builders import (
    ADMIN,
    BUYER,
    COOPERATIVE,
    ensure_party,
    issued_batch,
    settled_lot,
)


@pytest.fixture
def sold(registry: Registry) -> dict[str, Any]:
    """1,000 t sold at ¥73.41/t with ¥1,234.50 fees; removals split 1/2, 3/10, 1/5."""
    built = issued_batch(registry, verified=1200, removals={"P1": 600, "P2": 360, "P3": 240})
    settled = settled_lot(registry, built, quantity=1000, price_yuan_per_t="73.41",
                          fees_yuan="1234.50")  # fmt: skip
    return {**built, "lot": settled.result["lot"]}


def test_the_distribution_of_a_settled_lot(
    client: TestClient, registry: Registry, token_for: TokenFor, sold: dict[str, Any]
) -> None:
    url = f"/v1/lots/{sold['lot']}/distribution"
    problem(client.get(url), 401, "unauthenticated")
    found = client.get(url, headers=token_for(COOPERATIVE)).json()
    assert found == get_distribution(registry, sold["lot"])
    # net 72,175.50; owners 80 % of 1/2 and 3/10, 70 % of 1/5 (the registry's worked example)
    assert [x["amount_yuan"] for x in found["lines"]] == ["28870.20", "17322.12", "10104.57"]
    assert found["cooperative_retained_yuan"] == "15878.61"
    problem(client.get("/v1/lots/LOT-NONE/distribution", headers=token_for(COOPERATIVE)), 404,
            "not-found")  # fmt: skip
    # it names every household: buyers and households may not read it whole
    problem(client.get(url, headers=token_for(BUYER)), 403, "forbidden")
    problem(client.get(url, headers=token_for("owner-P1")), 403, "forbidden")


def test_payments_by_the_proponent_show_in_the_statement(
    client: TestClient, registry: Registry, token_for: TokenFor, sold: dict[str, Any]
) -> None:
    coop, buyer, admin = token_for(COOPERATIVE), token_for(BUYER), token_for(ADMIN)
    line = get_distribution(registry, sold["lot"])["lines"][0]["line_id"]
    url = f"/v1/distribution/lines/{line}/payments"
    body = {"amount_yuan": "20000.00", "bank_reference": "ABC-0001", "paid_on": "2026-03-02"}
    before = rows(registry)
    problem(client.post(url, json=body), 401, "unauthenticated")
    problem(client.post(url, json=body, headers=buyer), 403, "forbidden")
    problem(client.post(url, json={**body, "amount_yuan": "0"}, headers=coop), 422,
            "invalid-input")  # fmt: skip
    problem(client.post(url, json={**body, "paid_on": "2026-03-03"}, headers=coop), 422,
            "invalid-input")  # fmt: skip
    problem(client.post(url, json={**body, "amount_yuan": "28870.21"}, headers=coop), 409,
            "conflict")  # fmt: skip
    problem(client.post("/v1/distribution/lines/0/payments", json=body, headers=coop), 422,
            "invalid-input")  # fmt: skip
    problem(client.post("/v1/distribution/lines/999999/payments", json=body, headers=coop), 404,
            "not-found")  # fmt: skip
    assert rows(registry) == before
    r = client.post(url, json=body, headers=coop)
    assert r.status_code == 201, r.text
    assert (r.json()["paid_yuan"], r.json()["outstanding_yuan"]) == ("20000.00", "8870.20")
    rest = {**body, "amount_yuan": "8870.20", "bank_reference": "ABC-0002"}
    assert client.post(url, json=rest, headers=admin).status_code == 201

    statement_url = "/v1/distribution/statement"
    problem(client.get(statement_url), 401, "unauthenticated")
    whole = distribution_statement(registry)
    owners = pages(client, statement_url, {"limit": 2}, coop)
    assert owners == whole["owners"] and len(owners) == 3
    first = client.get(statement_url, params={"limit": 2}, headers=coop).json()
    assert first["totals"] == whole["totals"] == {
        "due_yuan": "56296.89", "paid_yuan": "28870.20", "outstanding_yuan": "27426.69",
    }  # fmt: skip
    one = client.get(statement_url, params={"owner": "owner-P1"}, headers=coop).json()
    assert one["items"][0]["outstanding_yuan"] == "0.00" and one["owner"] == "owner-P1"
    assert one["items"][0]["parcels"][0]["lines"][0]["line_id"] == line
    by_lot = client.get(statement_url, params={"lot": sold["lot"]}, headers=coop).json()
    assert by_lot["totals"] == whole["totals"] and by_lot["lot"] == sold["lot"]
    problem(client.get(statement_url, params={"owner": "nobody"}, headers=coop), 404, "not-found")
    # a household sees its own lines only, whatever it asks for; a buyer sees none
    household = token_for("owner-P2")
    own = client.get(statement_url, headers=household).json()
    assert [o["owner"] for o in own["items"]] == ["owner-P2"] and own["owner"] == "owner-P2"
    problem(client.get(statement_url, params={"owner": "owner-P1"}, headers=household), 403,
            "forbidden")  # fmt: skip
    problem(client.get(statement_url, headers=buyer), 403, "forbidden")


def test_another_cooperative_reads_none_of_these_households_money(
    client: TestClient, registry: Registry, token_for: TokenFor, sold: dict[str, Any]
) -> None:
    ensure_party(registry, "coop-other", "Another cooperative", ["cooperative"])
    other = token_for("coop-other")
    problem(client.get(f"/v1/lots/{sold['lot']}/distribution", headers=other), 403, "forbidden")
    empty = client.get("/v1/distribution/statement", headers=other).json()
    assert empty["items"] == [] and empty["totals"]["due_yuan"] == "0.00"
    named = client.get(
        "/v1/distribution/statement", params={"owner": "owner-P1"}, headers=other
    ).json()
    assert named["items"] == []
    # the selling cooperative still sees all three lines
    mine = client.get("/v1/distribution/statement", headers=token_for(COOPERATIVE)).json()
    assert mine["totals"]["due_yuan"] == "56296.89" and len(mine["items"]) == 3


def test_the_journal_page_by_page(
    client: TestClient, registry: Registry, token_for: TokenFor, sold: dict[str, Any]
) -> None:
    coop = token_for(COOPERATIVE)
    problem(client.get("/v1/journal"), 401, "unauthenticated")
    events = pages(client, "/v1/journal", {"limit": 3}, coop)
    assert events == journal(registry, limit=1000)["items"]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert {"issue", "list_lot", "settle_lot"} <= {e["operation"] for e in events}
    project = pages(client, "/v1/journal", {"stream": "project:AJ001", "limit": 1}, coop)
    assert [e["operation"] for e in project] == ["issue"]
    problem(client.get("/v1/journal", params={"cursor": "WyJ4Il0"}, headers=coop), 422,
            "invalid-input")  # ["x"]  # fmt: skip
    problem(client.get("/v1/journal", params={"limit": 0}, headers=coop), 422, "invalid-input")


def test_the_audit_and_the_cadt_export(
    client: TestClient, registry: Registry, token_for: TokenFor, sold: dict[str, Any]
) -> None:
    buyer = token_for(BUYER)
    problem(client.get("/v1/audit"), 401, "unauthenticated")
    problem(client.get("/v1/exports/cadt"), 401, "unauthenticated")
    checked = client.get("/v1/audit", headers=buyer).json()
    assert checked == audit(registry) and checked["ok"] is True
    assert checked["totals_tco2e"]["issued"] == 1200 and checked["batches"] == 1
    exported = client.get("/v1/exports/cadt", headers=buyer).json()
    assert exported == cadt_export(registry)
    assert [i["id"] for i in exported["issuances"]] == [sold["batch"]]
    assert sum(u["unitCount"] for u in exported["units"]) == 1200
