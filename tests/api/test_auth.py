"""Tokens: stored hashed, shown once; 401 problem details without a valid one."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from mrv.errors import AuthenticationError, ForbiddenError
from mrv.registry.core import Registry
from mrv.registry.models import ApiToken, JournalEvent
from mrv.registry.tokens import authenticate, create_token, revoke_token, token_sha256
from tests.api.conftest import TokenFor
from tests.registry.builders import ADMIN, BUYER, ensure_party
from tests.registry.conftest import Clock


def _problem(response: object, status: int, code: str) -> dict[str, object]:
    r = response
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = r.json()  # type: ignore[attr-defined]
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"/problems/{code}"
    return body


def test_me_needs_a_valid_token(client: TestClient, token_for: TokenFor) -> None:
    r = client.get("/v1/me")
    _problem(r, 401, "unauthenticated")
    assert r.headers["www-authenticate"] == "Bearer"
    _problem(
        client.get("/v1/me", headers={"Authorization": "Bearer mrv_nope"}), 401, "unauthenticated"
    )
    _problem(client.get("/v1/me", headers={"Authorization": "Basic abc"}), 401, "unauthenticated")
    r = client.get("/v1/me", headers=token_for(ADMIN))
    assert r.status_code == 200 and r.json() == {"party": ADMIN, "roles": ["admin"]}
    assert client.get("/v1/health").json() == {"status": "ok"}


def test_tokens_are_stored_hashed_and_never_journaled(registry: Registry) -> None:
    ensure_party(registry, ADMIN, "Registry administrator", ["admin"])
    ensure_party(registry, BUYER, "Buyer Co.", ["buyer"])
    token, receipt = create_token(registry, actor=ADMIN, party=BUYER, name="desk")
    assert token is not None and token.startswith("mrv_") and len(token) > 40
    with registry.read() as conn:
        row = conn.execute(select(ApiToken)).one()
        events = conn.execute(select(JournalEvent.after, JournalEvent.reason)).all()
    assert row.token_sha256 == token_sha256(token) and row.prefix == token[:12]
    assert token not in json.dumps([list(e) for e in events], default=str)
    assert receipt.result["prefix"] == token[:12] and "token" not in receipt.result
    p = authenticate(registry, token)
    assert (p.party, p.roles) == (BUYER, frozenset({"buyer"}))
    # replaying the key does not reveal a token again
    again, replay = create_token(
        registry, actor=ADMIN, party=BUYER, name="desk", idempotency_key=receipt.idempotency_key
    )
    assert again is None and replay.replayed
    with pytest.raises(ForbiddenError):
        create_token(registry, actor=BUYER, party=BUYER, name="self-service")


def test_expired_and_revoked_tokens_stop_working(registry: Registry, clock: Clock) -> None:
    ensure_party(registry, ADMIN, "Registry administrator", ["admin"])
    soon = clock.now + dt.timedelta(hours=1)
    token, _ = create_token(registry, actor=ADMIN, party=ADMIN, name="t", expires_at=soon)
    assert authenticate(registry, token).party == ADMIN
    clock.advance(hours=2)
    with pytest.raises(AuthenticationError, match="expired"):
        authenticate(registry, token)
    other, made = create_token(registry, actor=ADMIN, party=ADMIN, name="u")
    revoke_token(registry, actor=ADMIN, token_id=made.result["token_id"])
    with pytest.raises(AuthenticationError):
        authenticate(registry, other)
