"""The unit of work: journal chaining, idempotency, rollback on refusal, append-only triggers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from mrv.errors import (
    DuplicateError,
    ForbiddenError,
    IdempotencyConflictError,
    RecordNotFoundError,
    RegistryInputError,
)
from mrv.registry.core import Registry
from mrv.registry.journal import GENESIS, event_hash
from mrv.registry.models import JournalEvent, Party
from mrv.registry.parties import add_role, create_party


def _count(registry: Registry, model: type) -> int:
    with registry.read() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_bootstrap_then_admin_creates_parties(registry: Registry) -> None:
    first = create_party(registry, actor="root", code="root", name="Registry", roles=["admin"])
    assert first.seq == 1 and first.stream == "registry"
    second = create_party(
        registry, actor="root", code="coop", name="Anji coop", roles=["cooperative"]
    )
    assert second.seq == 2
    assert second.result == {
        "code": "coop",
        "name": "Anji coop",
        "credit_code": None,
        "roles": ["cooperative"],
    }
    with registry.read() as conn:
        events = conn.execute(select(JournalEvent).order_by(JournalEvent.seq)).all()
    assert events[0].prev_hash == GENESIS
    assert events[1].prev_hash == events[0].hash
    # the stored hash is recomputable from the stored row (both backends)
    for row in events:
        assert event_hash(row._mapping) == row.hash


def test_non_admin_cannot_create_and_refusal_writes_nothing(registry: Registry) -> None:
    create_party(registry, actor="root", code="root", name="Registry", roles=["admin"])
    create_party(registry, actor="root", code="coop", name="Coop", roles=["cooperative"])
    before = _count(registry, JournalEvent)
    with pytest.raises(ForbiddenError, match="needs the role admin"):
        create_party(registry, actor="coop", code="x", name="X", roles=["buyer"])
    with pytest.raises(DuplicateError):
        create_party(registry, actor="root", code="coop", name="Again", roles=["buyer"])
    with pytest.raises(RegistryInputError, match="unknown role"):
        create_party(registry, actor="root", code="y", name="Y", roles=["pirate"])
    with pytest.raises(RecordNotFoundError):
        create_party(registry, actor="nobody", code="z", name="Z", roles=["buyer"])
    assert _count(registry, JournalEvent) == before
    assert _count(registry, Party) == 2


def test_idempotency_key_replays_and_refuses_a_different_body(registry: Registry) -> None:
    create_party(registry, actor="root", code="root", name="Registry", roles=["admin"])
    a = create_party(
        registry, actor="root", code="b1", name="Buyer", roles=["buyer"], idempotency_key="k1"
    )
    b = create_party(
        registry, actor="root", code="b1", name="Buyer", roles=["buyer"], idempotency_key="k1"
    )
    assert b.replayed and not a.replayed
    assert (b.event_id, b.hash, b.result) == (a.event_id, a.hash, a.result)
    with pytest.raises(IdempotencyConflictError):
        create_party(
            registry, actor="root", code="b2", name="Other", roles=["buyer"], idempotency_key="k1"
        )
    assert _count(registry, Party) == 2


def test_roles_added_are_seen(registry: Registry) -> None:
    create_party(registry, actor="root", code="root", name="Registry", roles=["admin"])
    create_party(registry, actor="root", code="p", name="P", roles=["buyer"])
    with pytest.raises(ForbiddenError):
        create_party(registry, actor="p", code="q", name="Q", roles=["buyer"])
    add_role(registry, actor="root", party="p", role="admin")
    assert create_party(registry, actor="p", code="q", name="Q", roles=["buyer"]).seq == 4


def test_journal_is_append_only_in_the_database(registry: Registry) -> None:
    create_party(registry, actor="root", code="root", name="Registry", roles=["admin"])
    for statement in ("UPDATE journal_events SET reason = 'x'", "DELETE FROM journal_events"):
        with pytest.raises(DBAPIError), registry.engine.begin() as conn:
            conn.execute(text(statement))
    assert _count(registry, JournalEvent) == 1
