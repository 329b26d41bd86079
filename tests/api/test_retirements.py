"""Routes of retirements and certificates: every purpose (judicial restoration with its case),
the record, HTML, PDF and verification (public), refusals that write nothing."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from mrv.registry.certificate import certificate_pdf, verify_certificate
from mrv.registry.core import Registry
from mrv.registry.credits import transfer
from mrv.registry.models import PURPOSES, Retirement
from mrv.registry.queries import holdings
from mrv.registry.retirement import get_retirement
from tests.api.conftest import TokenFor
from tests.api.support_credits import problem, rows
from tests.registry.builders import BUYER, COOPERATIVE, issued_batch

JUDICIAL = {
    "case_number": "(2025)浙0591刑初9号",
    "court": "南太湖新区人民法院",
    "payer": "被告人 张某",
    "restoration_site": "下渚湖湿地",
}


@pytest.fixture
def built(registry: Registry) -> dict[str, Any]:
    built = issued_batch(registry, verified=1000)
    transfer(registry, actor=COOPERATIVE, from_account=COOPERATIVE, to_account=BUYER,
             batch=built["batch"], quantity=200)  # fmt: skip
    return built


def _body(built: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"account": BUYER, "batch": built["batch"], "quantity": 10, "purpose": "voluntary",
            "beneficiary": "Buyer Co. 2025 emissions", **extra}  # fmt: skip


def test_holders_retire_for_every_purpose(
    client: TestClient, registry: Registry, token_for: TokenFor, built: dict[str, Any]
) -> None:
    buyer, coop = token_for(BUYER), token_for(COOPERATIVE)
    body = _body(built)
    before = rows(registry)
    problem(client.post("/v1/retirements", json=body), 401, "unauthenticated")
    problem(client.post("/v1/retirements", json=body, headers=coop), 403, "not-holder")
    problem(client.post("/v1/retirements", json={**body, "purpose": "fun"}, headers=buyer),
            422, "invalid-input")  # fmt: skip
    judicial_without_case = {**body, "purpose": "judicial_restoration", **JUDICIAL,
                             "case_number": None}  # fmt: skip
    problem(client.post("/v1/retirements", json=judicial_without_case, headers=buyer),
            422, "missing-field")  # fmt: skip
    problem(client.post("/v1/retirements", json={**body, "judgment_sha256": "ABC"}, headers=buyer),
            422, "invalid-input")  # fmt: skip
    problem(client.post("/v1/retirements", json={**body, "quantity": 201}, headers=buyer),
            409, "insufficient-credits")  # fmt: skip
    assert rows(registry) == before
    numbers = []
    for purpose in PURPOSES:
        extra = JUDICIAL if purpose == "judicial_restoration" else {}
        r = client.post("/v1/retirements", json={**body, "purpose": purpose, **extra},
                        headers=buyer)  # fmt: skip
        assert r.status_code == 201, r.text
        assert r.json()["purpose"] == purpose and r.json()["event"]["operation"] == "retire"
        numbers.append(r.json()["certificate_no"])
    assert holdings(registry, BUYER)["total"]["retired"] == 10 * len(PURPOSES)
    for number in numbers:
        assert client.get(f"/v1/retirements/{number}").json() == get_retirement(registry, number)
    judicial = client.get(f"/v1/retirements/{numbers[-1]}").json()
    assert {k: judicial[k] for k in JUDICIAL} == JUDICIAL and judicial["hash_ok"] is True
    assert judicial["serials"] == [f"{built['batch']}-000000031-000000040"]
    problem(client.get("/v1/retirements/HZ-RET-NONE"), 404, "not-found")


def test_certificates_render_and_verify_publicly(
    client: TestClient, registry: Registry, token_for: TokenFor, built: dict[str, Any]
) -> None:
    judgment = hashlib.sha256("判决书".encode()).hexdigest()
    body = _body(built, purpose="judicial_restoration", judgment_sha256=judgment, **JUDICIAL)
    number = client.post("/v1/retirements", json=body, headers=token_for(BUYER)).json()[
        "certificate_no"
    ]
    html = client.get(f"/v1/retirements/{number}/certificate.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    for text in (number, *JUDICIAL.values(), judgment):
        assert text in html.text
    pdf = client.get(f"/v1/retirements/{number}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == certificate_pdf(registry, number) and pdf.content.startswith(b"%PDF")
    checked = client.get(f"/v1/retirements/{number}/verification").json()
    assert checked == verify_certificate(registry, number) and checked["ok"] is True
    assert checked["content"]["judgment_sha256"] == judgment
    for suffix in ("certificate.html", "certificate.pdf", "verification"):
        problem(client.get(f"/v1/retirements/HZ-RET-NONE/{suffix}"), 404, "not-found")
    with registry.engine.begin() as conn:  # an edited record no longer matches its hash
        conn.execute(update(Retirement).values(beneficiary="someone else"))
    tampered = client.get(f"/v1/retirements/{number}/verification").json()
    assert (tampered["hash_ok"], tampered["journal_ok"], tampered["ok"]) == (False, True, False)
