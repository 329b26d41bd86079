"""The trading centre's pages: lots by status and the reference price, settlement and withdrawal
through their forms, a settled lot's benefit distribution; refusals write nothing."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.web.session import csrf_token
from mrv.registry.core import Registry
from mrv.registry.distribution import get_distribution
from mrv.registry.queries import holdings
from mrv.registry.tokens import create_token
from mrv.registry.trading import get_lot, list_lot, withdraw_lot
from tests.api.support_credits import rows
from tests.registry.builders import (
    ADMIN,
    BUYER,
    COOPERATIVE,
    TRADING_CENTRE,
    issued_batch,
    settled_lot,
)
from tests.web.conftest import LogIn
from tests.web.test_cooperative import figure, money, rows_by, table, text_of

REMOVALS = {"P1": 1500, "P2": 900, "P3": 600}  # shares 1/2, 3/10, 1/5
OWNER_SHARE_BP = {"AJ001-P1": 8000, "AJ001-P2": 8000, "AJ001-P3": 7000}


def _list(registry: Registry, batch: str, quantity: int, ask: str) -> str:
    lot: str = list_lot(registry, actor=COOPERATIVE, account=COOPERATIVE, batch=batch,
                        quantity=quantity, ask_yuan_per_t=ask).result["lot"]  # fmt: skip
    return lot


@pytest.fixture
def market(registry: Registry) -> dict[str, Any]:
    """An issued batch of AJ001 (3,000 t verified) and three lots of the cooperative: 1,000 t
    listed at ¥75.00/t, 100 t settled at ¥70.00/t today, 200 t listed then withdrawn."""
    built = issued_batch(registry, verified=3000, removals=REMOVALS)
    listed = _list(registry, built["batch"], 1000, "75.00")
    settled = settled_lot(registry, built, quantity=100, price_yuan_per_t="70.00",
                          fees_yuan="12.34", trade_ref="HZGTC-2026-0001").result["lot"]  # fmt: skip
    withdrawn = _list(registry, built["batch"], 200, "80.50")
    withdraw_lot(registry, actor=COOPERATIVE, lot=withdrawn)
    return {**built, "listed": listed, "settled": settled, "withdrawn": withdrawn}


def test_lots_by_status_and_the_reference_price(
    web: TestClient, log_in: LogIn, market: dict[str, Any]
) -> None:
    log_in(web, TRADING_CENTRE)
    page = web.get("/trading?lang=en")
    assert page.status_code == 200, page.text
    text = page.text
    batch = market["batch"]
    listed = rows_by(table(text, "listed"), "lot")
    assert list(listed) == [market["listed"]]
    assert listed[market["listed"]][:5] == [market["listed"], COOPERATIVE, batch, "1,000", "¥75.00"]
    settled = rows_by(table(text, "settled"), "lot")
    assert settled == {
        market["settled"]: [
            market["settled"], COOPERATIVE, batch, "100", "¥70.00", "¥70.00", BUYER, "¥12.34",
            "HZGTC-2026-0001", "2026-03-02",
        ]
    }  # fmt: skip
    withdrawn = rows_by(table(text, "withdrawn"), "lot")
    assert withdrawn == {
        market["withdrawn"]: [market["withdrawn"], COOPERATIVE, batch, "200", "¥80.50"]
    }
    # one settlement in the window: the reference price is its price
    assert figure(text, "reference-price") == "¥70.00"
    assert "1 lots, 100 t" in text_of(text)
    assert (figure(text, "listed-count"), figure(text, "settled-count")) == ("1", "1")
    # a settlement form per listed lot, and a link to each settled lot
    assert text.count('<form method="post" action="/trading/lots/') == 2  # settle + withdraw
    assert f'action="/trading/lots/{market["listed"]}/settlement" class="settle-form"' in text
    assert f'href="/trading/lots/{market["settled"]}"' in text
    zh = web.get("/trading?lang=zh").text
    assert "挂牌中" in zh and "已成交" in zh and "参考价" in zh and "确认成交" in zh
    assert 'id="settled-shown"' not in text
    with pytest.MonkeyPatch.context() as mp:  # only the latest closed lots are listed
        mp.setattr("api.web.pages.trading.SHOWN_CLOSED", 0)
        few = web.get("/trading?lang=en").text
        assert rows_by(table(few, "settled"), "lot") == {} and figure(few, "settled-count") == "1"
        assert "The latest 0 of 1; all at" in text_of(few) and 'id="withdrawn-shown"' in few


def _expected(net_fen: int) -> dict[str, int]:
    """Fen per parcel, computed here: net × removals share × owner share, floored, then the fen
    left over to the largest remainders (none are left with these shares)."""
    total = sum(REMOVALS.values())
    exact = {
        f"AJ001-{k}": Fraction(net_fen)
        * Fraction(v, total)
        * Fraction(OWNER_SHARE_BP[f"AJ001-{k}"], 10000)
        for k, v in REMOVALS.items()
    }
    assert all(e.denominator == 1 for e in exact.values())
    return {k: int(e) for k, e in exact.items()}


def test_settling_through_the_form_writes_the_settlement_and_its_distribution(
    web: TestClient, registry: Registry, log_in: LogIn, market: dict[str, Any]
) -> None:
    csrf = log_in(web, TRADING_CENTRE)
    lot = market["listed"]
    bought_before = holdings(registry, BUYER)["total"]["held"]
    r = web.post(
        f"/trading/lots/{lot}/settlement",
        data={
            "csrf": csrf,
            "buyer": BUYER,
            "price_yuan_per_t": "73.41",
            "fees_yuan": "1234.50",
            "trade_ref": "HZGTC-2026-0042",
            "settled_on": "2026-02-27",
        },
    )
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/trading?done=settled&lot={lot}"
    found = get_lot(registry, lot)
    assert found == {
        "lot": lot, "status": "settled", "seller": COOPERATIVE, "buyer": BUYER,
        "batch": market["batch"], "quantity_tco2e": 1000, "ask_yuan_per_t": "75.00",
        "price_yuan_per_t": "73.41", "fees_yuan": "1234.50", "trade_ref": "HZGTC-2026-0042",
        "settled_on": "2026-02-27",
    }  # fmt: skip
    assert holdings(registry, BUYER)["total"]["held"] == bought_before + 1000

    back = web.get(r.headers["location"] + "&lang=en").text
    assert f"Lot {lot} is settled and its benefits distributed." in back
    assert lot in rows_by(table(back, "settled"), "lot")
    assert rows_by(table(back, "listed"), "lot") == {}
    # the reference price now weighs both trades: (100 × 70.00 + 1000 × 73.41) / 1100
    assert figure(back, "reference-price") == f"¥{Decimal(7000 + 73410) / 1100:.2f}" == "¥73.10"

    page = web.get(f"/trading/lots/{lot}?lang=en")
    assert page.status_code == 200, page.text
    text = page.text
    gross, fees = 1000 * 7341, 123450
    net = gross - fees
    lines = _expected(net)
    assert lines == {"AJ001-P1": 2887020, "AJ001-P2": 1732212, "AJ001-P3": 1010457}
    assert figure(text, "dist-gross") == money(gross) == "¥73,410.00"
    assert figure(text, "dist-fees") == money(fees)
    assert figure(text, "dist-net") == money(net) == "¥72,175.50"
    assert figure(text, "dist-owners") == money(sum(lines.values()))
    assert figure(text, "dist-retained") == money(net - sum(lines.values())) == "¥15,878.61"
    shown = rows_by(table(text, "distribution"), "line")
    stored = get_distribution(registry, lot)["lines"]
    assert sorted(shown) == sorted(str(x["line_id"]) for x in stored)
    by_parcel = {cells[1]: cells for cells in shown.values()}
    assert by_parcel["AJ001-P1"] == ["owner-P1", "AJ001-P1", "C-AJ001-P1", "50.00 %", "80.00 %",
                                     money(lines["AJ001-P1"])]  # fmt: skip
    assert by_parcel["AJ001-P2"][3:] == ["30.00 %", "80.00 %", money(lines["AJ001-P2"])]
    assert by_parcel["AJ001-P3"][3:] == ["20.00 %", "70.00 %", money(lines["AJ001-P3"])]
    # the owners' shares and what the cooperative keeps add up to the net, to the fen
    amounts = [int(Decimal(c[5].strip("¥").replace(",", "")) * 100) for c in shown.values()]
    retained = int(Decimal(figure(text, "dist-retained").strip("¥").replace(",", "")) * 100)
    assert sum(amounts) + retained == net
    assert th_row(text, "Tonnes") == "1,000"
    assert 'href="/cooperative/owners/owner-P1"' in text  # the owner's statement
    zh = web.get(f"/trading/lots/{lot}?lang=zh").text
    assert "收益分配" in zh and "合作社留存" in zh


def test_a_refused_settlement_shows_why_and_writes_nothing(
    web: TestClient, registry: Registry, log_in: LogIn, market: dict[str, Any]
) -> None:
    csrf = log_in(web, TRADING_CENTRE)
    lot = market["listed"]
    url = f"/trading/lots/{lot}/settlement?lang=en"
    form = {"csrf": csrf, "buyer": BUYER, "price_yuan_per_t": "73.41", "fees_yuan": "0",
            "trade_ref": "HZGTC-2026-0042"}  # fmt: skip
    before = rows(registry)

    wrong = web.post(url, data={**form, "csrf": "f" * 64})
    assert wrong.status_code == 403
    assert "the form expired or did not come from this site" in wrong.text
    bad_price = web.post(url, data={**form, "price_yuan_per_t": "73.411"})
    assert bad_price.status_code == 422
    assert "price_yuan_per_t must have at most 2 decimals: 73.411" in bad_price.text
    assert 'value="73.411"' in bad_price.text  # the form keeps what was typed
    assert 'class="alert error"' in bad_price.text
    words = web.post(url, data={**form, "price_yuan_per_t": "cheap"})
    assert words.status_code == 422 and "is not an amount in yuan" in words.text
    huge = web.post(url, data={**form, "price_yuan_per_t": "1000000000"})
    assert huge.status_code == 422 and "is not an amount in yuan" in huge.text
    zero = web.post(url, data={**form, "price_yuan_per_t": "0"})
    assert zero.status_code == 422 and "price_yuan_per_t must be positive" in zero.text
    fees = web.post(url, data={**form, "fees_yuan": "73410.01"})
    assert fees.status_code == 422 and "exceed the gross proceeds" in fees.text
    no_ref = web.post(url, data={**form, "trade_ref": "  "})
    assert no_ref.status_code == 422 and "confirmation id is required" in no_ref.text
    day = web.post(url, data={**form, "settled_on": "27/02/2026"})
    assert day.status_code == 422 and "is not a date" in day.text
    nobody = web.post(url, data={**form, "buyer": "nobody"})
    assert nobody.status_code == 404
    seller = web.post(url, data={**form, "buyer": COOPERATIVE})
    assert seller.status_code == 422 and "the buyer is the seller" in seller.text
    again = web.post(f"/trading/lots/{market['settled']}/settlement?lang=en", data=form)
    assert again.status_code == 409 and "is settled, not listed" in again.text
    assert rows(registry) == before
    assert get_lot(registry, lot)["status"] == "listed"


def test_only_the_trading_centre_settles_and_sees_the_pages(
    web: TestClient, registry: Registry, log_in: LogIn, market: dict[str, Any]
) -> None:
    anonymous = web.get("/trading")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    tokens = {  # made first: making a token is journaled
        party: create_token(registry, actor=ADMIN, party=party, name="web test")[0]
        for party in (COOPERATIVE, BUYER)
    }
    before = rows(registry)
    for party, token in tokens.items():
        assert token is not None
        web.cookies.clear()
        assert web.post("/login", data={"token": token}).status_code == 303
        csrf = csrf_token(token)
        page = web.get("/trading?lang=en")
        assert page.status_code == 403, party
        assert "this page is for the roles trading_centre" in page.text
        assert web.get(f"/trading/lots/{market['settled']}").status_code == 403
        form = {"csrf": csrf, "buyer": BUYER, "price_yuan_per_t": "73.41", "trade_ref": "X"}
        r = web.post(f"/trading/lots/{market['listed']}/settlement?lang=en", data=form)
        assert r.status_code == 403 and "this page is for the roles trading_centre" in r.text
        r = web.post(f"/trading/lots/{market['listed']}/withdrawal", data={"csrf": csrf})
        assert r.status_code == 403
    assert rows(registry) == before
    assert get_lot(registry, market["listed"])["status"] == "listed"
    log_in(web, ADMIN)  # admins pass the page's role check
    assert web.get("/trading").status_code == 200


def test_withdrawing_a_listed_lot_through_the_form(
    web: TestClient, registry: Registry, log_in: LogIn, market: dict[str, Any]
) -> None:
    csrf = log_in(web, TRADING_CENTRE)
    lot = market["listed"]
    held = holdings(registry, COOPERATIVE)["total"]
    before = rows(registry)
    wrong = web.post(f"/trading/lots/{lot}/withdrawal", data={"csrf": "x"})
    assert wrong.status_code == 403
    twice = web.post(f"/trading/lots/{market['withdrawn']}/withdrawal?lang=en", data={"csrf": csrf})
    assert twice.status_code == 409 and "is withdrawn, not listed" in twice.text
    assert rows(registry) == before
    r = web.post(f"/trading/lots/{lot}/withdrawal", data={"csrf": csrf})
    assert r.status_code == 303
    assert r.headers["location"] == f"/trading?done=withdrawn&lot={lot}"
    assert get_lot(registry, lot)["status"] == "withdrawn"
    after = holdings(registry, COOPERATIVE)["total"]
    assert (after["held"], after["listed"]) == (held["held"] + 1000, held["listed"] - 1000)
    page = web.get(r.headers["location"] + "&lang=en").text
    assert f"Lot {lot} is withdrawn." in page
    assert lot in rows_by(table(page, "withdrawn"), "lot")
    assert 'class="settle-form"' not in page


def test_the_page_of_a_listed_lot_and_of_no_lot(
    web: TestClient, log_in: LogIn, market: dict[str, Any]
) -> None:
    log_in(web, TRADING_CENTRE)
    page = web.get(f"/trading/lots/{market['listed']}?lang=en")
    assert page.status_code == 200
    assert "dist-net" not in page.text and "The lot is listed" in page.text
    assert th_row(page.text, "Tonnes") == "1,000"
    missing = web.get("/trading/lots/LOT-NONE")
    assert missing.status_code == 404 and "LOT-NONE" in missing.text
    settled = web.get(f"/trading/lots/{market['settled']}?lang=en").text
    assert th_row(settled, "Settled on") == "2026-03-02"
    assert (
        th_row(settled, "Buyer") == BUYER
        and th_row(settled, "Trade reference") == "HZGTC-2026-0001"
    )


def th_row(page: str, label: str) -> str:
    """The value of the row headed ``label`` of a page's key-value table."""
    found = re.search(rf"<th>{re.escape(label)}</th><td[^>]*>(.*?)</td>", page)
    assert found, label
    return text_of(found.group(1))
