"""The account page: holdings per batch as issued, transferred, listed and retired here; a
retirement through the form (held down and retired up by exactly its quantity, then the
certificate's page); refused retirements re-render the page with the reason and write nothing."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mrv.registry.core import Registry
from mrv.registry.credits import transfer
from mrv.registry.queries import holdings
from mrv.registry.retirement import get_retirement, retire
from mrv.registry.trading import list_lot
from tests.api.support_credits import rows
from tests.registry.builders import BUYER, COOPERATIVE, ensure_party, issued_batch
from tests.web.conftest import LogIn

STATUSES = ("held", "listed", "retired", "cancelled", "buffer")
JUDICIAL = {
    "case_number": "(2025)浙0591刑初9号",
    "court": "南太湖新区人民法院",
    "payer": "被告人 张某",
    "restoration_site": "下渚湖湿地",
}


def holdings_table(page: str) -> dict[str, dict[str, int]]:
    """``{batch or "total": {status: tonnes}}`` as ``<table id="holdings">`` shows them."""
    table = re.search(r'<table id="holdings">(.*?)</table>', page, re.S)
    assert table is not None, "no holdings table on the page"
    out = {}
    for batch, row in re.findall(r'<tr data-batch="([^"]+)">(.*?)</tr>', table.group(1), re.S):
        cells = dict(re.findall(r'data-status="(\w+)">([\d,]+)<', row))
        out[batch] = {s: int(cells[s].replace(",", "")) for s in STATUSES}
    return out


def text(page: str) -> str:
    """The page's text with entities decoded (for messages with quotes)."""
    return html.unescape(page)


@pytest.fixture
def world(registry: Registry) -> dict[str, Any]:
    """Two issued batches; the buyer receives 200 t of the first and 50 t of the second."""
    first = issued_batch(registry, verified=1000, project="AJ001")
    second = issued_batch(registry, verified=600, project="AJ002")
    for built, quantity in ((first, 200), (second, 50)):
        transfer(registry, actor=COOPERATIVE, from_account=COOPERATIVE, to_account=BUYER,
                 batch=built["batch"], quantity=quantity)  # fmt: skip
    return {"first": first["batch"], "second": second["batch"]}


def form(csrf: str, batch: str, **extra: str) -> dict[str, str]:
    return {"csrf": csrf, "batch": batch, "quantity": "25", "purpose": "voluntary",
            "beneficiary": "Buyer Co. 2025 emissions", **extra}  # fmt: skip


def test_the_account_page_needs_a_login(web: TestClient) -> None:
    r = web.get("/account")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Faccount"
    posted = web.post("/account/retirements", data={"batch": "X", "quantity": "1"})
    assert posted.status_code == 303 and posted.headers["location"].startswith("/login?next=")


def test_holdings_are_what_was_transferred_listed_and_retired(
    web: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any]
) -> None:
    list_lot(registry, actor=BUYER, account=BUYER, batch=world["first"], quantity=30,
             ask_yuan_per_t="80")  # fmt: skip
    retired = retire(registry, actor=BUYER, account=BUYER, batch=world["second"], quantity=12,
                     purpose="offsetting", beneficiary="Event 2025")  # fmt: skip
    number = retired.result["certificate_no"]
    log_in(web, BUYER)
    page = web.get("/account?lang=en")
    assert page.status_code == 200
    zero = dict.fromkeys(STATUSES, 0)
    assert holdings_table(page.text) == {
        world["first"]: {**zero, "held": 170, "listed": 30},
        world["second"]: {**zero, "held": 38, "retired": 12},
        "total": {**zero, "held": 208, "listed": 30, "retired": 12},
    }
    assert "Holdings by batch" in page.text and "Retire credits" in page.text
    # both batches still have held credits, so both are offered for retirement
    options = re.findall(r'<option value="(HZ-[^"]+)"', page.text)
    assert options == sorted([world["first"], world["second"]])
    retirements = re.search(r'<table id="retirements">(.*?)</table>', page.text, re.S)
    assert retirements is not None
    assert f'href="/retirements/{number}"' in retirements.group(1)
    assert "Offsetting" in retirements.group(1) and "Event 2025" in retirements.group(1)
    zh = web.get("/account?lang=zh")
    assert "持有量（按批次，吨 CO₂e）" in zh.text and "抵销" in zh.text


def test_a_party_without_credits_sees_an_empty_account(
    web: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any]
) -> None:
    log_in(web, "verifier-1")
    page = web.get("/account?lang=en")
    assert page.status_code == 200
    assert 'id="holdings"' not in page.text and 'id="retire-form"' not in page.text
    assert "This account holds no credits yet." in page.text
    assert "No retirements yet." in page.text


def test_a_retirement_through_the_form_moves_exactly_its_quantity(
    web: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any]
) -> None:
    csrf = log_in(web, BUYER)
    before = holdings_table(web.get("/account").text)
    r = web.post("/account/retirements", data=form(csrf, world["first"], quantity="25",
                                                   reason="2025 travel"))  # fmt: skip
    assert r.status_code == 303, text(r.text)
    number = r.headers["location"].removeprefix("/retirements/")
    assert r.headers["location"] == f"/retirements/{number}" and number.startswith("HZ-RET-")
    record = get_retirement(registry, number)
    assert (record["account"], record["batch"], record["quantity_tco2e"]) == (
        BUYER, world["first"], 25,
    )  # fmt: skip
    assert (record["purpose"], record["beneficiary"], record["reason"]) == (
        "voluntary", "Buyer Co. 2025 emissions", "2025 travel",
    )  # fmt: skip
    assert record["case_number"] is None and record["hash_ok"] is True
    after = holdings_table(web.get("/account").text)
    first = world["first"]
    assert after[first]["held"] == before[first]["held"] - 25 == 175
    assert after[first]["retired"] == before[first]["retired"] + 25 == 25
    assert after[world["second"]] == before[world["second"]]
    assert holdings(registry, BUYER)["total"]["retired"] == 25
    assert f'href="/retirements/{number}"' in web.get("/account").text


def test_refused_retirements_show_the_reason_and_write_nothing(
    web: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any]
) -> None:
    csrf = log_in(web, BUYER)
    first = world["first"]
    before = rows(registry)
    cases: list[tuple[dict[str, str], int, str]] = [
        (
            form(csrf, first, quantity="201"),
            409,
            f"{BUYER} holds 200 t of {first} as held, 201 t requested",
        ),
        (
            form(csrf, first, purpose="judicial_restoration", **{**JUDICIAL, "case_number": ""}),
            422,
            "a judicial-restoration retirement needs case number",
        ),
        (form(csrf, first, quantity="ten"), 422, "quantity: 'ten' is not a whole number"),
        (form(csrf, first, quantity="0"), 422, "quantity must be positive, got 0"),
        (form(csrf, first, purpose="fun"), 422, "unknown retirement purpose 'fun'"),
        (form(csrf, first, beneficiary="  "), 422, "a retirement needs a beneficiary"),
        (form(csrf, "HZ-BAM-NONE-2024-001"), 404, "HZ-BAM-NONE-2024-001"),
    ]
    for data, status, message in cases:
        r = web.post("/account/retirements?lang=en", data=data)
        assert r.status_code == status, (data, text(r.text))
        assert r.headers["content-type"].startswith("text/html")
        page = text(r.text)
        assert 'role="alert"' in page and message in page, (message, page)
        # the page is the account again, with the holdings and the form as filled in
        assert holdings_table(r.text)[first]["held"] == 200
        assert 'id="retire-form"' in r.text
        assert f'value="{html.escape(data["quantity"])}"' in r.text
    assert rows(registry) == before
    assert holdings(registry, BUYER)["total"]["retired"] == 0


def test_the_form_needs_the_session_form_token(
    web: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any]
) -> None:
    log_in(web, BUYER)
    before = rows(registry)
    r = web.post("/account/retirements", data=form("0" * 64, world["first"]))
    assert r.status_code == 403
    assert "the form expired or did not come from this site" in text(r.text)
    assert rows(registry) == before


def test_only_the_holder_retires_from_an_account(
    web: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any]
) -> None:
    # the cooperative's form retires from its own account, never the buyer's: the buyer's
    # holdings are untouched and the cooperative's go down
    csrf = log_in(web, COOPERATIVE)
    buyer_before = holdings(registry, BUYER)
    coop_before = holdings(registry, COOPERATIVE)["total"]
    r = web.post("/account/retirements", data=form(csrf, world["first"], quantity="7"))
    assert r.status_code == 303, text(r.text)
    assert get_retirement(registry, r.headers["location"].split("/")[-1])["account"] == COOPERATIVE
    assert holdings(registry, BUYER) == buyer_before
    coop_after = holdings(registry, COOPERATIVE)["total"]
    assert (coop_after["held"], coop_after["retired"]) == (
        coop_before["held"] - 7, coop_before["retired"] + 7,
    )  # fmt: skip


def test_a_court_retires_for_judicial_restoration_with_its_case(
    web: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any]
) -> None:
    ensure_party(registry, "court-nx", "南太湖新区人民法院", ["court"])
    transfer(registry, actor=COOPERATIVE, from_account=COOPERATIVE, to_account="court-nx",
             batch=world["second"], quantity=30)  # fmt: skip
    csrf = log_in(web, "court-nx")
    data = form(csrf, world["second"], quantity="30", purpose="judicial_restoration",
                beneficiary="下渚湖湿地生态修复", **JUDICIAL)  # fmt: skip
    r = web.post("/account/retirements", data=data)
    assert r.status_code == 303, text(r.text)
    record = get_retirement(registry, r.headers["location"].removeprefix("/retirements/"))
    assert {k: record[k] for k in JUDICIAL} == JUDICIAL
    assert (record["account"], record["purpose"], record["quantity_tco2e"]) == (
        "court-nx", "judicial_restoration", 30,
    )  # fmt: skip
    page = web.get("/account?lang=en")
    assert holdings_table(page.text)[world["second"]]["retired"] == 30
    assert "Judicial ecological restoration" in page.text
    assert 'id="retire-form"' not in page.text  # nothing held any more


def test_a_court_retires_a_payers_credits_through_its_form(
    web: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any]
) -> None:
    ensure_party(registry, "court-aj", "安吉县人民法院", ["court"])
    before = holdings(registry, BUYER)["total"]
    data = {
        "account": BUYER,
        "batch": world["first"],
        "quantity": "12",
        "purpose": "judicial_restoration",
        "beneficiary": "西苕溪湿地生态修复",
        **JUDICIAL,
    }
    # the payer itself may not file for another account; only the court's form can
    ensure_party(registry, "buyer-2", "Another buyer", ["buyer"])
    other = log_in(web, "buyer-2")
    assert 'id="court-retire-form"' not in web.get("/account").text
    refused = web.post("/account/retirements", data={**data, "csrf": other})
    assert refused.status_code == 403 and "only a court" in text(refused.text)
    assert holdings(registry, BUYER)["total"] == before
    csrf = log_in(web, "court-aj")
    page = web.get("/account?lang=en")
    assert 'id="court-retire-form"' in page.text and "Payer&#39;s account" in page.text
    r = web.post("/account/retirements", data={**data, "csrf": csrf})
    assert r.status_code == 303, text(r.text)
    record = get_retirement(registry, r.headers["location"].removeprefix("/retirements/"))
    assert (record["account"], record["quantity_tco2e"], record["case_number"]) == (
        BUYER, 12, JUDICIAL["case_number"],
    )  # fmt: skip
    after = holdings(registry, BUYER)["total"]
    assert (after["held"], after["retired"]) == (before["held"] - 12, before["retired"] + 12)
