"""API tokens: created by an admin for a party, stored as SHA-256 only, shown once.

A token authenticates its party for the API; what the party may do is decided by the registry's
own rules (roles, holdership, assignment) with the party as the actor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from mrv.errors import AuthenticationError, InvalidStateError, RegistryInputError
from mrv.registry import lookup
from mrv.registry.core import Outcome, Receipt, Registry, Tx
from mrv.registry.models import ApiToken, Party, PartyRole
from mrv.registry.monitoring import check_text
from mrv.registry.parties import REGISTRY_STREAM

TOKEN_PREFIX = "mrv_"
"""Every token starts so (secret scanners and people recognise it)."""


@dataclass(frozen=True)
class Principal:
    """Who a token belongs to."""

    party: str
    roles: frozenset[str]
    token_id: int
    expires_at: dt.datetime | None = None


def token_sha256(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    registry: Registry,
    *,
    actor: str,
    party: str,
    name: str,
    expires_at: dt.datetime | None = None,
    idempotency_key: str | None = None,
) -> tuple[str | None, Receipt]:
    """A new token for ``party`` (admins only). Returns the token — only now, never again; None
    when the idempotency key was replayed — and the receipt (which never holds the token)."""
    name = check_text(name, "name")
    if expires_at is not None and expires_at.tzinfo is None:
        raise RegistryInputError("expires_at needs a time zone", field="expires_at")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)

    def body(tx: Tx) -> Outcome:
        tx.require_role("admin")
        if expires_at is not None and expires_at <= tx.registry.clock():
            raise RegistryInputError("expires_at is in the past", field="expires_at")
        party_id = lookup.party(tx.conn, party).id
        row_id = tx.conn.execute(
            insert(ApiToken)
            .values(
                party_id=party_id,
                name=name,
                token_sha256=token_sha256(token),
                prefix=token[:12],
                created_at=tx.registry.clock(),
                expires_at=expires_at,
            )
            .returning(ApiToken.id)
        ).scalar_one()
        after = {"token_id": row_id, "party": party, "name": name, "prefix": token[:12]}
        after["expires_at"] = expires_at.isoformat() if expires_at else None
        return Outcome("api_token", str(row_id), after=after)

    receipt = registry.execute(
        "create_token",
        actor=actor,
        request={"party": party, "name": name, "expires_at": expires_at},
        body=body,
        stream=REGISTRY_STREAM,
        idempotency_key=idempotency_key,
    )
    return (None if receipt.replayed else token), receipt


def revoke_token(
    registry: Registry, *, actor: str, token_id: int, idempotency_key: str | None = None
) -> Receipt:
    """Revoke a token (admins only); it stops working at once."""

    def body(tx: Tx) -> Outcome:
        tx.require_role("admin")
        row = tx.conn.execute(select(ApiToken).where(ApiToken.id == token_id)).first()
        if row is None:
            raise RegistryInputError(f"no API token {token_id}", field="token_id")
        if row.revoked_at is not None:
            raise InvalidStateError(f"API token {token_id} is already revoked", token_id=token_id)
        now = tx.registry.clock()
        tx.conn.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=now))
        return Outcome("api_token", str(token_id), after={"revoked_at": now.isoformat()})

    return registry.execute(
        "revoke_token",
        actor=actor,
        request={"token_id": token_id},
        body=body,
        stream=REGISTRY_STREAM,
        idempotency_key=idempotency_key,
    )


def authenticate(registry: Registry, token: str | None) -> Principal:
    """The party a token belongs to; :class:`AuthenticationError` when missing, unknown,
    expired or revoked (the message does not say which, to give a guesser nothing)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise AuthenticationError("a valid API token is required (Authorization: Bearer …)")
    with registry.read() as conn:
        rows = conn.execute(
            select(
                ApiToken.id, ApiToken.expires_at, ApiToken.revoked_at, Party.code, PartyRole.role
            )
            .join(Party, Party.id == ApiToken.party_id)
            .outerjoin(PartyRole, PartyRole.party_id == Party.id)
            .where(ApiToken.token_sha256 == token_sha256(token))
        ).all()
    if not rows or rows[0].revoked_at is not None:
        raise AuthenticationError("a valid API token is required (Authorization: Bearer …)")
    first = rows[0]
    expires = first.expires_at
    if expires is not None:
        if expires.tzinfo is None:  # SQLite returns naive UTC
            expires = expires.replace(tzinfo=dt.UTC)
        if expires <= registry.clock():
            raise AuthenticationError("a valid API token is required (token expired)")
    roles = frozenset(r.role for r in rows if r.role is not None)
    return Principal(party=first.code, roles=roles, token_id=first.id, expires_at=expires)


__all__ = [
    "TOKEN_PREFIX",
    "Principal",
    "authenticate",
    "create_token",
    "revoke_token",
    "token_sha256",
]
