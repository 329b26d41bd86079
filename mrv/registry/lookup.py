"""Look records up by their public codes, raising :class:`RecordNotFoundError` naming the field."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, select

from mrv.errors import RecordNotFoundError
from mrv.registry.core import Registry
from mrv.registry.models import Account, Batch, Party, Project

BUFFER_ACCOUNT = "BUFFER"


def project_stream(code: str) -> str:
    """The journal stream of a project's lifecycle, reports, verification and issuance."""
    return f"project:{code}"


def party(conn: Connection, code: str, field: str = "party") -> Row[Any]:
    """The party row ``code``."""
    row = conn.execute(select(Party).where(Party.code == code)).first()
    if row is None:
        raise RecordNotFoundError(f"no party {code!r} ({field})", field=field, party=code)
    return row


def account_id(registry: Registry, conn: Connection, code: str, field: str = "account") -> int:
    """The id of account ``code`` (a party's holding account has the party's code)."""
    key = ("account", code)
    cached = registry.cache.get(key)
    if cached is not None:
        return int(cached)
    found = conn.execute(select(Account.id).where(Account.code == code)).scalar()
    if found is None:
        raise RecordNotFoundError(f"no account {code!r} ({field})", field=field, account=code)
    registry.cache[key] = int(found)
    return int(found)


def account_code(registry: Registry, conn: Connection, account: int) -> str:
    """The code of account id ``account``."""
    key = ("account-code", str(account))
    cached = registry.cache.get(key)
    if cached is None:
        cached = conn.execute(select(Account.code).where(Account.id == account)).scalar_one()
        registry.cache[key] = cached
    return str(cached)


def batch(registry: Registry, conn: Connection, prefix: str, field: str = "batch") -> Row[Any]:
    """The batch with serial prefix ``prefix`` (batches never change once issued)."""
    key = ("batch", prefix)
    cached = registry.cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    row = conn.execute(select(Batch).where(Batch.serial_prefix == prefix)).first()
    if row is None:
        raise RecordNotFoundError(f"no batch {prefix!r} ({field})", field=field, batch=prefix)
    registry.cache[key] = row
    return row


def project(conn: Connection, code: str, field: str = "project") -> Row[Any]:
    """The project row ``code``."""
    row = conn.execute(select(Project).where(Project.code == code)).first()
    if row is None:
        raise RecordNotFoundError(f"no project {code!r} ({field})", field=field, project=code)
    return row


def party_code(conn: Connection, party_id: int) -> str:
    """The code of party id ``party_id``."""
    return str(conn.execute(select(Party.code).where(Party.id == party_id)).scalar_one())
