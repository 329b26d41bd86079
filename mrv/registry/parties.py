"""Parties and their roles; every party gets a holding account named by its code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select

from mrv.errors import DuplicateError, InvalidStateError, RegistryInputError
from mrv.registry import lookup
from mrv.registry.core import Outcome, Receipt, Registry, Tx
from mrv.registry.models import ROLES, Account, Party, PartyRole

REGISTRY_STREAM = "registry"
CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def check_code(value: str, field: str) -> str:
    """A public code: 1–64 letters, digits, ``-``, ``_`` or ``.``."""
    value = value.strip()
    if not value or len(value) > 64 or not set(value) <= CODE_CHARS:
        raise RegistryInputError(
            f"{field} {value!r} must be 1–64 letters, digits, '-', '_' or '.'", field=field
        )
    return value


def check_roles(roles: Sequence[str]) -> list[str]:
    """Roles, each one of :data:`~mrv.registry.models.ROLES`."""
    if not roles:
        raise RegistryInputError("a party needs at least one role", field="roles")
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise RegistryInputError(
            f"unknown role {', '.join(unknown)} (known: {', '.join(ROLES)})", field="roles"
        )
    return sorted(set(roles))


def party_dict(tx: Tx, code: str) -> dict[str, Any]:
    """A party as JSON: code, name, credit code, roles."""
    row = lookup.party(tx.conn, code)
    roles = tx.conn.execute(select(PartyRole.role).where(PartyRole.party_id == row.id)).scalars()
    return {
        "code": row.code,
        "name": row.name,
        "credit_code": row.credit_code,
        "roles": sorted(roles),
    }


def create_party(
    registry: Registry,
    *,
    actor: str,
    code: str,
    name: str,
    roles: Sequence[str],
    credit_code: str | None = None,
    idempotency_key: str | None = None,
) -> Receipt:
    """Create a party with its roles and holding account (admins only).

    The first party of an empty registry may create itself if it is an admin (bootstrap).
    """
    code = check_code(code, "code")
    role_list = check_roles(roles)
    if not name.strip():
        raise RegistryInputError("a party needs a name", field="name")
    with registry.read() as conn:
        empty = conn.execute(select(Party.id).limit(1)).first() is None
    bootstrap = empty and actor == code and "admin" in role_list

    def body(tx: Tx) -> Outcome:
        if not bootstrap:
            tx.require_role("admin")
        elif tx.conn.execute(select(Party.id).limit(1)).first() is not None:
            raise InvalidStateError("the registry already has parties; ask an admin", field="actor")
        if tx.conn.execute(select(Party.id).where(Party.code == code)).first() is not None:
            raise DuplicateError(f"party {code!r} already exists", field="code", party=code)
        party_id = tx.conn.execute(
            insert(Party)
            .values(code=code, name=name.strip(), credit_code=credit_code, created_at=tx.now)
            .returning(Party.id)
        ).scalar_one()
        tx.conn.execute(insert(PartyRole), [{"party_id": party_id, "role": r} for r in role_list])
        tx.conn.execute(
            insert(Account).values(code=code, kind="holding", party_id=party_id, created_at=tx.now)
        )
        return Outcome("party", code, after=party_dict(tx, code))

    return registry.execute(
        "create_party",
        actor=actor,
        request={"code": code, "name": name, "roles": role_list, "credit_code": credit_code},
        body=body,
        stream=REGISTRY_STREAM,
        idempotency_key=idempotency_key,
        bootstrap=bootstrap,
    )


def add_role(
    registry: Registry, *, actor: str, party: str, role: str, idempotency_key: str | None = None
) -> Receipt:
    """Give ``party`` another role (admins only)."""
    (role,) = check_roles([role])

    def body(tx: Tx) -> Outcome:
        tx.require_role("admin")
        before = party_dict(tx, party)
        if role in before["roles"]:
            raise DuplicateError(f"party {party!r} already has role {role}", field="role")
        tx.conn.execute(
            insert(PartyRole).values(party_id=lookup.party(tx.conn, party).id, role=role)
        )
        return Outcome("party", party, before=before, after=party_dict(tx, party))

    return registry.execute(
        "add_role",
        actor=actor,
        request={"party": party, "role": role},
        body=body,
        stream=REGISTRY_STREAM,
        idempotency_key=idempotency_key,
    )
