"""The cooperative's pages: its parcels on a map, contracts, collection payments due, owners, and
an owner's distribution statement with payments recorded through its form; who may see what."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mrv.errors import RecordNotFoundError
from mrv.registry.contracts import create_contract, terminate_contract
from mrv.registry.core import Registry
from mrv.registry.distribution import distribution_statement, get_distribution
from mrv.registry.parcels import cooperative_parcels, list_parcels
from tests.api.support_credits import rows
from tests.registry.builders import (
    ADMIN,
    COOPERATIVE,
    TRADING_CENTRE,
    ensure_party,
    issued_batch,
    settled_lot,
)
from tests.registry.test_parcels import import_squares
from tests.web.conftest import LogIn

OTHER_COOP = "coop2"
OTHER_OWNER = "hh9"
PRICE_LI = 16926  # ¥16.926/mu/yr, the builder's contracts
AREAS_HA = {"AJ001-P1": 10.0, "AJ001-P2": 6.0, "AJ001-P3": 4.0}
SHARES_BP = {"AJ001-P1": 8000, "AJ001-P2": 8000, "AJ001-P3": 7000}
REMOVALS = {"P1": 600, "P2": 360, "P3": 240}


# -- page helpers (shared with test_trading) ---------------------------------------------------


def text_of(fragment: str) -> str:
    """The visible text of an HTML fragment, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def table(page: str, cls: str) -> str:
    """The HTML of the first ``<table class="…cls…">`` of a page."""
    found = re.search(rf'<table class="[^"]*\b{cls}\b[^"]*">(.*?)</table>', page, re.S)
    assert found, f"no table {cls}"
    return found.group(1)


def rows_by(fragment: str, attribute: str) -> dict[str, list[str]]:
    """Cells' text of the rows ``<tr data-<attribute>="key">`` of a fragment, by key."""
    out: dict[str, list[str]] = {}
    for key, row in re.findall(rf'<tr data-{attribute}="([^"]+)"[^>]*>(.*?)</tr>', fragment, re.S):
        out[key] = [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return out


def json_data(page: str, element_id: str) -> Any:
    """The JSON of ``<script type="application/json" id=…>`` of a page."""
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', page)
    assert found, f"no data {element_id}"
    return json.loads(found.group(1))


def figure(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">(.*?)</div>', page, re.S)
    assert found, f"no figure {element_id}"
    return text_of(found.group(1))


def money(fen: int) -> str:
    """Fen as the pages show yuan (``¥12,345.60``)."""
    return f"¥{Decimal(fen) / 100:,.2f}"


def exact_fen(value: Fraction) -> int:
    return value.numerator // value.denominator


# -- the registry of these tests ---------------------------------------------------------------


@pytest.fixture
def world(registry: Registry, tmp_path: Path) -> dict[str, Any]:
    """Cooperative anji-coop: project AJ001 with parcels P1–P3 (owners owner-P1..P3, active
    contracts from 2022), a contract C-T1 over parcel T1 of owner-P1 terminated today, and a
    settled lot of 1,000 t at ¥73.41/t with ¥1,234.50 fees; cooperative coop2 with household
    hh9's parcel X1 under contract C-X1."""
    built = issued_batch(registry, verified=1200, removals=REMOVALS)
    ensure_party(registry, OTHER_COOP, "Other cooperative", ["cooperative"])
    ensure_party(registry, OTHER_OWNER, "农户 hh9", ["owner_household"])
    ensure_party(registry, "bureau", "Forestry bureau", ["bureau"])
    import_squares(registry, tmp_path, [("T1", "owner-P1", 0, 0)], name="t1.geojson",
                   actor=COOPERATIVE)  # fmt: skip
    import_squares(registry, tmp_path, [("X1", OTHER_OWNER, 2000, 0)], name="x1.geojson",
                   actor=OTHER_COOP)  # fmt: skip
    term = {"start": dt.date(2026, 1, 1), "end": dt.date(2056, 1, 1),
            "annual_payment_yuan_per_mu": "16.93", "settlement_cycle_years": 3,
            "owner_share": "0.8"}  # fmt: skip
    create_contract(registry, actor=COOPERATIVE, code="C-T1", cooperative=COOPERATIVE,
                    owner="owner-P1", parcels=["T1"], **term)  # type: ignore[arg-type]  # fmt: skip
    terminate_contract(registry, actor=COOPERATIVE, code="C-T1", reason="the household left")
    create_contract(registry, actor=OTHER_COOP, code="C-X1", cooperative=OTHER_COOP,
                    owner=OTHER_OWNER, parcels=["X1"], **term)  # type: ignore[arg-type]  # fmt: skip
    lot = settled_lot(registry, built, quantity=1000, price_yuan_per_t="73.41",
                      fees_yuan="1234.50").result["lot"]  # fmt: skip
    return {**built, "lot": lot}


def expected_lines() -> dict[str, int]:
    """Fen per parcel of the settled lot, computed here: net × removals share × owner share."""
    net = 1000 * 7341 - 123450
    total = sum(REMOVALS.values())
    return {
        f"AJ001-{k}": exact_fen(
            Fraction(net) * Fraction(v, total) * Fraction(SHARES_BP[f"AJ001-{k}"], 10000)
        )
        for k, v in REMOVALS.items()
    }


def cycle_fen(area_mu: Decimal, price_li: int, years: Fraction) -> int:
    """One cycle's upfront payment in fen: area × price × years, rounded half up to the fen."""
    amount = area_mu * Decimal(price_li) / 1000 * Decimal(years.numerator) / years.denominator
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# -- the cooperative's page --------------------------------------------------------------------


def test_the_registry_reads_a_cooperatives_parcels_with_geometry(
    registry: Registry, world: dict[str, Any]
) -> None:
    active = cooperative_parcels(registry, COOPERATIVE)
    assert [p["code"] for p in active] == ["AJ001-P1", "AJ001-P2", "AJ001-P3"]
    assert all(p["geometry"]["type"] == "Polygon" for p in active)
    assert [p["owner"] for p in active] == ["owner-P1", "owner-P2", "owner-P3"]
    every = cooperative_parcels(registry, COOPERATIVE, status=None)
    assert [p["code"] for p in every] == ["AJ001-P1", "AJ001-P2", "AJ001-P3", "T1"]
    assert [p["code"] for p in cooperative_parcels(registry, OTHER_COOP)] == ["X1"]
    assert cooperative_parcels(registry, OTHER_COOP, status="terminated") == []
    with pytest.raises(RecordNotFoundError):
        cooperative_parcels(registry, "no-such-coop")


def test_the_cooperative_sees_its_parcels_contracts_payments_due_and_owners(
    web: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any]
) -> None:
    log_in(web, COOPERATIVE)
    page = web.get("/cooperative?lang=en")
    assert page.status_code == 200, page.text
    text = page.text
    assert "Collection contracts" in text and "Parcels map" in text

    # the map: the parcels of the active contracts only (not T1, terminated; not coop2's X1)
    data = json_data(text, "cooperative-parcels")
    assert 'data-geojson="cooperative-parcels"' in text
    features = data["features"]
    assert [f["properties"]["code"] for f in features] == ["AJ001-P1", "AJ001-P2", "AJ001-P3"]
    for f in features:
        code, owner = f["properties"]["code"], f["properties"]["owner"]
        mu = AREAS_HA[code] * 15
        assert f["properties"]["label"] == f"{code} · {owner} · {mu:,.2f} mu"
        assert f["properties"]["href"] == f"/cooperative/owners/{owner}"
        assert f["properties"]["kind"] == "parcel"
        assert f["geometry"]["type"] == "Polygon"
    assert "X1" not in json.dumps(data) and "T1" not in json.dumps(data)
    assert figure(text, "parcel-count") == "3"
    assert figure(text, "parcel-area") == f"{sum(AREAS_HA.values()) * 15:,.2f}"

    # contracts: its own four (T1 terminated), never coop2's
    contracts = rows_by(table(text, "contracts"), "contract")
    assert sorted(contracts) == ["C-AJ001-P1", "C-AJ001-P2", "C-AJ001-P3", "C-T1"]
    assert "C-X1" not in text and OTHER_OWNER not in text
    assert contracts["C-AJ001-P1"] == [
        "C-AJ001-P1", "owner-P1", "AJ001-P1", "150.00", "2022-01-01 – 2051-12-31",
        "16.926", "3", "80.00 %", "active",
    ]  # fmt: skip
    assert contracts["C-AJ001-P3"][7] == "70.00 %"
    assert contracts["C-T1"][4] == "2026-01-01 – 2026-03-02"  # the term ends today
    assert contracts["C-T1"][8] == "terminated"

    # payments due by today (2026-03-02): cycles of 2022 and 2025 of the builder's contracts,
    # the terminated contract's one shortened cycle (60 of 365 days) pro rata
    due = rows_by(table(text, "payments-due"), "contract")
    three = Fraction(3)
    expected = {
        f"C-{code}": 2 * cycle_fen(Decimal(str(ha * 15)), PRICE_LI, three)
        for code, ha in AREAS_HA.items()
    }
    t1_mu = Decimal(str(round(list_parcels(registry, owner="owner-P1")[1]["area_mu"], 4)))
    days = (dt.date(2026, 3, 2) - dt.date(2026, 1, 1)).days
    expected["C-T1"] = cycle_fen(t1_mu, 16930, Fraction(days, 365))
    assert expected["C-AJ001-P1"] == 2 * 761670  # 150 mu × ¥16.926 × 3 years = ¥7,616.70
    for code, fen in expected.items():
        assert due[code][3] == money(fen), code
    assert due["C-AJ001-P1"][2] == "2"
    assert due["C-AJ001-P1"][4:] == ["2028-01-01", money(761670)]
    assert due["C-T1"][2:] == ["1", money(expected["C-T1"]), "—", "—"]
    assert figure(text, "total-due") == money(sum(expected.values()))

    # owners with links to their statements and the lot's lines of its contracts
    owners = rows_by(table(text, "owners"), "owner")
    assert sorted(owners) == ["owner-P1", "owner-P2", "owner-P3"]
    lines = expected_lines()
    assert owners["owner-P1"] == [
        "owner-P1", "农户 owner-P1", "C-AJ001-P1, C-T1",
        money(lines["AJ001-P1"]), money(0), money(lines["AJ001-P1"]),
    ]  # fmt: skip
    assert owners["owner-P3"][3] == money(lines["AJ001-P3"]) == "¥10,104.57"
    for owner in owners:
        assert f'href="/cooperative/owners/{owner}"' in text

    zh = web.get("/cooperative?lang=zh").text
    assert "收储合同" in zh and "地块地图" in zh and "应付收储款" in zh
    assert json_data(zh, "cooperative-parcels")["features"][0]["properties"]["label"] == (
        "AJ001-P1 · owner-P1 · 150.00 亩"
    )


def test_another_cooperative_sees_only_its_own(
    web: TestClient, log_in: LogIn, world: dict[str, Any]
) -> None:
    log_in(web, OTHER_COOP)
    page = web.get("/cooperative?lang=en").text
    features = json_data(page, "cooperative-parcels")["features"]
    assert [f["properties"]["code"] for f in features] == ["X1"]
    assert sorted(rows_by(table(page, "contracts"), "contract")) == ["C-X1"]
    assert "AJ001" not in page and "owner-P1" not in page
    refused = web.get(f"/cooperative?cooperative={COOPERATIVE}")
    assert refused.status_code == 403
    assert "may only see its own contracts" in refused.text


def test_an_admin_chooses_a_cooperative(
    web: TestClient, log_in: LogIn, world: dict[str, Any]
) -> None:
    log_in(web, ADMIN)
    choose = web.get("/cooperative?lang=en")
    assert choose.status_code == 200
    assert f'href="/cooperative?cooperative={COOPERATIVE}"' in choose.text
    assert f'href="/cooperative?cooperative={OTHER_COOP}"' in choose.text
    other = web.get(f"/cooperative?cooperative={OTHER_COOP}").text
    assert [f["properties"]["code"] for f in json_data(other, "cooperative-parcels")["features"]] \
        == ["X1"]  # fmt: skip
    assert web.get("/cooperative?cooperative=owner-P1").status_code == 404


def test_the_cooperative_pages_need_the_role(
    web: TestClient, log_in: LogIn, world: dict[str, Any]
) -> None:
    anonymous = web.get("/cooperative")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    log_in(web, TRADING_CENTRE)
    refused = web.get("/cooperative?lang=en")
    assert refused.status_code == 403
    assert "this page is for the roles cooperative" in refused.text


# -- an owner's statement ----------------------------------------------------------------------


def test_the_statement_of_an_owner_with_a_payment_form(
    web: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any]
) -> None:
    log_in(web, COOPERATIVE)
    page = web.get("/cooperative/owners/owner-P1?lang=en")
    assert page.status_code == 200, page.text
    text = page.text
    lines = expected_lines()
    due = lines["AJ001-P1"]
    assert due == 2887020  # net ¥72,175.50 × 1/2 × 80 %
    assert figure(text, "owner-due") == money(due) == "¥28,870.20"
    assert figure(text, "owner-paid") == money(0)
    assert figure(text, "owner-outstanding") == money(due)
    line_id = get_distribution(registry, world["lot"])["lines"][0]["line_id"]
    shown = rows_by(table(text, "statement"), "line")
    assert list(shown) == [str(line_id)]
    assert shown[str(line_id)][:7] == [
        "AJ001-P1", world["lot"], "C-AJ001-P1", "2026-03-02", money(due), money(0), money(due),
    ]  # fmt: skip
    assert 'class="payment-form"' in text
    assert sorted(rows_by(table(text, "contracts"), "contract")) == ["C-AJ001-P1", "C-T1"]
    assert "Distribution statement" in text
    assert "收益分配对账单" in web.get("/cooperative/owners/owner-P1?lang=zh").text


def test_recording_a_payment_through_the_form(
    web: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any]
) -> None:
    csrf = log_in(web, COOPERATIVE)
    line_id = get_distribution(registry, world["lot"])["lines"][0]["line_id"]
    url = "/cooperative/owners/owner-P1/payments"
    form = {"csrf": csrf, "line_id": str(line_id), "amount_yuan": "20000.00",
            "bank_reference": "ABC-0001", "paid_on": "2026-03-02"}  # fmt: skip
    before = rows(registry)

    wrong = web.post(url, data={**form, "csrf": "0" * 64})
    assert wrong.status_code == 403
    too_much = web.post(url + "?lang=en", data={**form, "amount_yuan": "28870.21"})
    assert too_much.status_code == 409
    assert "exceeds what line" in too_much.text and "remaining 28870.20" in too_much.text
    assert 'value="28870.21"' in too_much.text  # the refused form keeps what was typed
    future = web.post(url, data={**form, "paid_on": "2026-03-03"})
    assert future.status_code == 422 and "is in the future" in future.text
    not_a_date = web.post(url, data={**form, "paid_on": "2.3.2026"})
    assert not_a_date.status_code == 422 and "is not a date" in not_a_date.text
    not_money = web.post(url, data={**form, "amount_yuan": "1e3"})
    assert not_money.status_code == 422 and "is not an amount in yuan" in not_money.text
    no_line = web.post(url, data={**form, "line_id": "0"})
    assert no_line.status_code == 422 and "is not a distribution line" in no_line.text
    assert rows(registry) == before

    done = web.post(url, data=form)
    assert done.status_code == 303
    assert done.headers["location"] == "/cooperative/owners/owner-P1?done=payment"
    owner = distribution_statement(registry, owner="owner-P1")["owners"][0]
    assert (owner["paid_yuan"], owner["outstanding_yuan"]) == ("20000.00", "8870.20")
    page = web.get(done.headers["location"] + "&lang=en").text
    assert "The payment is recorded." in page
    assert figure(page, "owner-paid") == "¥20,000.00"
    assert figure(page, "owner-outstanding") == "¥8,870.20"
    rest = web.post(url, data={**form, "amount_yuan": "8870.20", "bank_reference": "ABC-0002"})
    assert rest.status_code == 303
    paid = web.get("/cooperative/owners/owner-P1?lang=en").text
    assert figure(paid, "owner-outstanding") == money(0)
    assert 'class="payment-form"' not in paid and "paid in full" in paid


@pytest.mark.parametrize(
    ("party", "status"),
    [
        (COOPERATIVE, 200),
        (ADMIN, 200),
        ("bureau", 200),
        (TRADING_CENTRE, 200),
        (OTHER_COOP, 403),  # no contract with owner-P1
        ("owner-P2", 403),  # another household
        ("buyer-1", 403),
    ],
)
def test_who_may_read_an_owners_statement(
    web: TestClient, log_in: LogIn, world: dict[str, Any], party: str, status: int
) -> None:
    log_in(web, party)
    page = web.get("/cooperative/owners/owner-P1?lang=en")
    assert page.status_code == status, page.text
    if status == 200:
        assert figure(page.text, "owner-due") == money(expected_lines()["AJ001-P1"])
        # only the proponent cooperative and admins get the payment form
        assert ('class="payment-form"' in page.text) == (party in (COOPERATIVE, ADMIN))
    else:
        assert "owner-due" not in page.text and "28,870.20" not in page.text


def test_another_cooperative_may_not_pay_or_read_foreign_owners(
    web: TestClient, registry: Registry, log_in: LogIn, world: dict[str, Any]
) -> None:
    csrf = log_in(web, OTHER_COOP)
    line_id = get_distribution(registry, world["lot"])["lines"][0]["line_id"]
    before = rows(registry)
    refused = web.post(
        "/cooperative/owners/owner-P1/payments?lang=en",
        data={
            "csrf": csrf,
            "line_id": str(line_id),
            "amount_yuan": "1.00",
            "bank_reference": "X-1",
            "paid_on": "2026-03-02",
        },
    )
    assert refused.status_code == 403
    assert "coop2 has no contract with owner-P1" in refused.text
    # naming its own owner does not help: the line is of anji-coop's project
    sneaky = web.post(
        f"/cooperative/owners/{OTHER_OWNER}/payments?lang=en",
        data={
            "csrf": csrf,
            "line_id": str(line_id),
            "amount_yuan": "1.00",
            "bank_reference": "X-1",
            "paid_on": "2026-03-02",
        },
    )
    assert sneaky.status_code == 403
    assert "may not record payments of project AJ001" in sneaky.text
    assert rows(registry) == before
    own = web.get(f"/cooperative/owners/{OTHER_OWNER}?lang=en")
    assert own.status_code == 200 and 'id="no-lines"' in own.text
    assert web.get("/cooperative/owners/nobody").status_code == 404
