"""Authorisation matrix of the issuance, credit, lot, retirement and payment write routes.

For every role of :data:`mrv.registry.models.ROLES`, a fresh party holding just that role calls
every write route: roles that may not do it get 403, roles that may are not refused as such
(401/403) — they may still meet 404/409/422 because the state does not fit, which is not what
this matrix checks. Without a token every route answers 401. Credits held by a party are its
own to move whatever its role; credits of the cooperative are not (``*-own`` / ``*-other``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mrv.registry.core import Registry
from mrv.registry.distribution import get_distribution
from mrv.registry.models import ROLES
from mrv.registry.trading import list_lot
from tests.api.conftest import TokenFor
from tests.registry.builders import BUYER, COOPERATIVE, ensure_party, issued_batch, settled_lot

World = dict[str, Any]
Request = Callable[[World, str], tuple[str, dict[str, Any] | None]]
EVERY = frozenset(ROLES)


def _cancel(account: str | None) -> Request:
    def request(w: World, party: str) -> tuple[str, dict[str, Any] | None]:
        return "/v1/cancellations", {
            "account": account or party,
            "batch": w["batch"],
            "quantity": 1,
            "reason_code": "correction",
            "reason": "m",
        }

    return request


def _lot(account: str | None) -> Request:
    def request(w: World, party: str) -> tuple[str, dict[str, Any] | None]:
        return "/v1/lots", {
            "account": account or party,
            "batch": w["batch"],
            "quantity": 1,
            "ask_yuan_per_t": "70",
        }

    return request


def _retire(account: str | None) -> Request:
    def request(w: World, party: str) -> tuple[str, dict[str, Any] | None]:
        return "/v1/retirements", {
            "account": account or party,
            "batch": w["batch"],
            "quantity": 1,
            "purpose": "voluntary",
            "beneficiary": "m",
        }

    return request


def _judicial_for(account: str) -> Request:
    def request(w: World, party: str) -> tuple[str, dict[str, Any] | None]:
        return "/v1/retirements", {
            "account": account,
            "batch": w["batch"],
            "quantity": 1,
            "purpose": "judicial_restoration",
            "beneficiary": "西苕溪湿地生态修复",
            "case_number": f"(2026)浙0523刑初{len(party)}号",
            "court": "安吉县人民法院",
            "payer": "湖州某化工有限公司",
            "restoration_site": "西苕溪湿地",
        }

    return request


def _issue(w: World, party: str) -> tuple[str, dict[str, Any] | None]:
    return "/v1/projects/AJ001/reports/1/issuance", None


def _reversal(w: World, party: str) -> tuple[str, dict[str, Any] | None]:
    return "/v1/projects/AJ001/reversals", {"loss_tco2e": 1, "kind": "reported", "description": "m"}


def _settle(w: World, party: str) -> tuple[str, dict[str, Any] | None]:
    return f"/v1/lots/{w['new_lot']()}/settlement", {
        "buyer": BUYER,
        "price_yuan_per_t": "70",
        "trade_ref": f"M-{party}",
    }


def _withdraw(w: World, party: str) -> tuple[str, dict[str, Any] | None]:
    return f"/v1/lots/{w['new_lot']()}/withdrawal", None


def _payment(w: World, party: str) -> tuple[str, dict[str, Any] | None]:
    return f"/v1/distribution/lines/{w['line']}/payments", {
        "amount_yuan": "0.01",
        "bank_reference": f"M-{party}",
        "paid_on": "2026-03-02",
    }


CENTRE = frozenset({"trading_centre", "admin"})
ROUTES: dict[str, tuple[frozenset[str], Request]] = {
    "issue": (frozenset({"admin"}), _issue),
    "cancel-other": (frozenset({"admin"}), _cancel(COOPERATIVE)),
    "cancel-own": (EVERY, _cancel(None)),
    "reversal": (frozenset({"admin", "bureau"}), _reversal),
    "list-lot-other": (frozenset(), _lot(COOPERATIVE)),
    "list-lot-own": (EVERY, _lot(None)),
    "settle": (CENTRE, _settle),
    "withdraw": (CENTRE, _withdraw),
    "retire-other": (frozenset(), _retire(COOPERATIVE)),
    "retire-own": (EVERY, _retire(None)),
    "retire-judicial-for-payer": (frozenset({"court"}), _judicial_for(COOPERATIVE)),
    "payment": (frozenset({"admin"}), _payment),
}
"""Route → (roles that may, the request a party makes)."""


@pytest.fixture
def world(registry: Registry) -> World:
    built = issued_batch(registry, verified=1000)
    lot = settled_lot(registry, built, quantity=100, price_yuan_per_t="70").result["lot"]

    def new_lot() -> str:
        listed = list_lot(
            registry,
            actor=COOPERATIVE,
            account=COOPERATIVE,
            batch=built["batch"],
            quantity=1,
            ask_yuan_per_t="70",
        )
        return str(listed.result["lot"])

    line = get_distribution(registry, lot)["lines"][0]["line_id"]
    return {"batch": built["batch"], "new_lot": new_lot, "line": line}


@pytest.mark.parametrize("route", list(ROUTES))
def test_roles_matrix(
    client: TestClient, registry: Registry, token_for: TokenFor, world: World, route: str
) -> None:
    allowed, request = ROUTES[route]
    url, body = request(world, "nobody")
    r = client.post(url, json=body)
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated", r.text
    wrong: list[str] = []
    for role in ROLES:
        party = f"matrix-{role}"
        ensure_party(registry, party, f"Matrix {role}", [role])
        url, body = request(world, party)
        r = client.post(url, json=body, headers=token_for(party))
        refused = r.status_code in (401, 403)
        if (role in allowed and refused) or (role not in allowed and r.status_code != 403):
            wrong.append(f"{role}: {r.status_code} {r.text}")
        if r.status_code == 403:
            assert r.json()["code"] in ("forbidden", "not-holder"), r.text
    assert not wrong, f"{route}: " + "; ".join(wrong)
