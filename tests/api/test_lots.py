"""Routes of trading lots and the reference price: listing by the holder, settlement by the
trading centre only, withdrawal, public reads, and nothing written on refusal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mrv.registry.core import Registry
from mrv.registry.queries import holdings
from mrv.registry.trading import get_lot, list_lot, reference_price
from tests.api.conftest import TokenFor
from tests.api.support_credits import pages, problem, rows
from tests.registry.builders import BUYER, COOPERATIVE, TRADING_CENTRE, issued_batch, settled_lot


@pytest.fixture
def built(registry: Registry) -> dict[str, Any]:
    return issued_batch(registry, verified=1000)


def _listed(registry: Registry, built: dict[str, Any], quantity: int, ask: str = "70.00") -> str:
    lot: str = list_lot(registry, actor=COOPERATIVE, account=COOPERATIVE, batch=built["batch"],
                        quantity=quantity, ask_yuan_per_t=ask).result["lot"]  # fmt: skip
    return lot


def test_holders_list_lots(
    client: TestClient, registry: Registry, token_for: TokenFor, built: dict[str, Any]
) -> None:
    coop, buyer = token_for(COOPERATIVE), token_for(BUYER)
    body = {"account": COOPERATIVE, "batch": built["batch"], "quantity": 100,
            "ask_yuan_per_t": "75.00"}  # fmt: skip
    before = rows(registry)
    problem(client.post("/v1/lots", json=body), 401, "unauthenticated")
    problem(client.post("/v1/lots", json=body, headers=buyer), 403, "not-holder")
    problem(client.post("/v1/lots", json={**body, "ask_yuan_per_t": "cheap"}, headers=coop),
            422, "invalid-input")  # fmt: skip
    problem(client.post("/v1/lots", json={**body, "ask_yuan_per_t": "75.001"}, headers=coop),
            422, "invalid-input")  # fmt: skip
    problem(client.post("/v1/lots", json={**body, "quantity": 901}, headers=coop),
            409, "insufficient-credits")  # fmt: skip
    assert rows(registry) == before
    r = client.post("/v1/lots", json=body, headers=coop)
    assert r.status_code == 201, r.text
    lot = r.json()["lot"]
    assert r.json()["status"] == "listed" and r.json()["ask_yuan_per_t"] == "75.00"
    assert holdings(registry, COOPERATIVE)["total"]["listed"] == 100
    shown = client.get(f"/v1/lots/{lot}").json()  # public
    assert shown == get_lot(registry, lot)
    assert (shown["seller"], shown["quantity_tco2e"], shown["buyer"]) == (COOPERATIVE, 100, None)
    problem(client.get("/v1/lots/LOT-NONE"), 404, "not-found")


def test_the_trading_centre_settles_from_its_trade_reference(
    client: TestClient, registry: Registry, token_for: TokenFor, built: dict[str, Any]
) -> None:
    lot = _listed(registry, built, 100)
    centre, coop = token_for(TRADING_CENTRE), token_for(COOPERATIVE)
    url = f"/v1/lots/{lot}/settlement"
    body = {"buyer": BUYER, "price_yuan_per_t": "73.41", "fees_yuan": "34.10",
            "trade_ref": "HZGTC-2026-0042", "settled_on": "2026-02-27"}  # fmt: skip
    before = rows(registry)
    problem(client.post(url, json=body), 401, "unauthenticated")
    problem(client.post(url, json=body, headers=coop), 403, "forbidden")
    problem(client.post(url, json={**body, "fees_yuan": "7341.01"}, headers=centre),
            422, "invalid-input")  # fmt: skip
    problem(client.post(url, json={**body, "trade_ref": "  "}, headers=centre),
            422, "invalid-input")  # fmt: skip
    problem(client.post(url, json={**body, "settled_on": "27/02/2026"}, headers=centre),
            422, "invalid-input")  # fmt: skip
    problem(client.post(url, json={**body, "buyer": "nobody"}, headers=centre), 404, "not-found")
    problem(client.post("/v1/lots/LOT-NONE/settlement", json=body, headers=centre),
            404, "not-found")  # fmt: skip
    assert rows(registry) == before
    r = client.post(url, json=body, headers=centre)
    assert r.status_code == 200, r.text
    settled = r.json()
    # 100 t × ¥73.41 = ¥7,341.00 gross; net ¥7,306.90 after ¥34.10 fees
    assert (settled["gross_yuan"], settled["distribution"]["net_yuan"]) == ("7341.00", "7306.90")
    assert settled["settled_on"] == "2026-02-27" and settled["trade_ref"] == "HZGTC-2026-0042"
    assert holdings(registry, BUYER)["total"]["held"] == 100
    assert client.get(f"/v1/lots/{lot}").json() == get_lot(registry, lot)
    problem(client.post(url, json=body, headers=centre), 409, "invalid-state")


def test_sellers_and_the_centre_withdraw_lots(
    client: TestClient, registry: Registry, token_for: TokenFor, built: dict[str, Any]
) -> None:
    first, second = _listed(registry, built, 30), _listed(registry, built, 20)
    coop, buyer, centre = token_for(COOPERATIVE), token_for(BUYER), token_for(TRADING_CENTRE)
    before = rows(registry)
    problem(client.post(f"/v1/lots/{first}/withdrawal"), 401, "unauthenticated")
    problem(client.post(f"/v1/lots/{first}/withdrawal", headers=buyer), 403, "forbidden")
    problem(client.post(f"/v1/lots/{'L' * 65}/withdrawal", headers=coop), 422, "invalid-input")
    problem(client.post("/v1/lots/LOT-NONE/withdrawal", headers=coop), 404, "not-found")
    assert rows(registry) == before
    r = client.post(f"/v1/lots/{first}/withdrawal", headers=coop)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    assert client.post(f"/v1/lots/{second}/withdrawal", headers=centre).status_code == 200
    assert holdings(registry, COOPERATIVE)["total"]["listed"] == 0
    assert holdings(registry, COOPERATIVE)["total"]["held"] == 900
    problem(client.post(f"/v1/lots/{first}/withdrawal", headers=coop), 409, "invalid-state")


def test_lots_are_public_and_listed_page_by_page(
    client: TestClient, registry: Registry, built: dict[str, Any]
) -> None:
    settled = settled_lot(registry, built, quantity=50, price_yuan_per_t="70.00").result["lot"]
    listed = [_listed(registry, built, q) for q in (10, 20, 30)]
    every = pages(client, "/v1/lots", {"limit": 2})
    assert every == [get_lot(registry, code) for code in sorted([settled, *listed])]
    open_ = pages(client, "/v1/lots", {"status": "listed", "limit": 1})
    assert sorted(x["lot"] for x in open_) == sorted(listed)
    mine = client.get("/v1/lots", params={"seller": COOPERATIVE, "status": "settled"}).json()
    assert [x["lot"] for x in mine["items"]] == [settled]
    assert client.get("/v1/lots", params={"batch": "HZ-NONE"}).json()["items"] == []
    problem(client.get("/v1/lots", params={"status": "sold"}), 422, "invalid-input")


def test_the_reference_price_is_public(
    client: TestClient, registry: Registry, built: dict[str, Any]
) -> None:
    settled_lot(registry, built, quantity=100, price_yuan_per_t="70.00",
                settled_on=dt.date(2026, 2, 27), trade_ref="T-1")  # fmt: skip
    settled_lot(registry, built, quantity=300, price_yuan_per_t="80.00",
                settled_on=dt.date(2026, 3, 2), trade_ref="T-2")  # fmt: skip
    price = client.get("/v1/price", params={"on": "2026-03-02", "window": 30}).json()
    assert price == reference_price(registry, dt.date(2026, 3, 2), 30)
    # (100 × 70 + 300 × 80) / 400 = 77.50
    assert (price["reference_price_yuan_per_t"], price["lots"], price["to"]) == (
        "77.50", 2, "2026-03-02",
    )  # fmt: skip
    assert client.get("/v1/price").json() == price  # today in China is 2026-03-02
    one_day = client.get("/v1/price", params={"on": "2026-02-27", "window": 1}).json()
    assert (one_day["reference_price_yuan_per_t"], one_day["from"]) == ("70.00", "2026-02-27")
    problem(client.get("/v1/price", params={"window": 0}), 422, "invalid-input")
    problem(client.get("/v1/price", params={"on": "2026-13-01"}), 422, "invalid-input")
