"""Integrity: schema = models, the database refuses bad blocks, the audit finds tampering."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import DBAPIError

from mrv.registry.audit import audit
from mrv.registry.core import Registry
from mrv.registry.credits import transfer
from mrv.registry.db import current_revision, head_revision
from mrv.registry.models import Base, Batch, CreditBlock, JournalEvent
from mrv.registry.retirement import retire
from tests.registry.builders import issued_batch


def test_migrations_create_exactly_the_models(registry: Registry) -> None:
    assert current_revision(registry.engine) == head_revision() == "0002"
    with registry.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def _block(batch_id: int, start: int, end: int, account: int, status: str = "held") -> dict:
    return {
        "batch_id": batch_id,
        "serial_start": start,
        "serial_end": end,
        "quantity": end - start + 1,
        "account_id": account,
        "status": status,
        "active": True,
        "created_at": dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
    }


def _batch_and_account(registry: Registry) -> tuple[int, int]:
    with registry.read() as conn:
        return conn.execute(
            select(CreditBlock.batch_id, CreditBlock.account_id).where(CreditBlock.status == "held")
        ).one()  # type: ignore[return-value]


def test_database_refuses_overlapping_serials_and_edited_blocks(registry: Registry) -> None:
    issued_batch(registry, verified=1000)  # blocks 1–900 held, 901–1000 buffer
    batch_id, account = _batch_and_account(registry)
    refused = [
        # a new active block overlapping serials 850–950 (exclusion constraint / trigger)
        lambda c: c.execute(insert(CreditBlock).values(**_block(batch_id, 850, 950, account))),
        # editing a block instead of superseding it
        lambda c: c.execute(update(CreditBlock).values(account_id=account + 1000)),
        lambda c: c.execute(update(CreditBlock).values(serial_end=CreditBlock.serial_end + 1)),
        # deleting blocks
        lambda c: c.execute(text("DELETE FROM credit_blocks")),
        # a quantity that does not match the range
        lambda c: c.execute(
            insert(CreditBlock).values(**{**_block(batch_id, 2001, 2010, account), "quantity": 9})
        ),
        # a listed block without a lot
        lambda c: c.execute(
            insert(CreditBlock).values(**_block(batch_id, 3001, 3010, account, "listed"))
        ),
    ]
    for statement in refused:
        with pytest.raises(DBAPIError), registry.engine.begin() as conn:
            statement(conn)
    assert audit(registry)["ok"]


def test_retired_credits_never_change(registry: Registry) -> None:
    world = issued_batch(registry, verified=1000)
    coop = world["cooperative"]
    retire(registry, actor=coop, account=coop, batch=world["batch"], quantity=10,
           purpose="voluntary", beneficiary="Anji County")  # fmt: skip
    with pytest.raises(DBAPIError), registry.engine.begin() as conn:
        conn.execute(
            update(CreditBlock).where(CreditBlock.status == "retired").values(active=False)
        )


def _disable_guards(conn: object, dialect: str) -> None:
    if dialect == "postgresql":
        for table in ("journal_events", "credit_blocks"):
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))  # type: ignore[attr-defined]
    else:
        for name in ("journal_events_no_update", "journal_events_no_delete", "credit_blocks_guard"):
            conn.execute(text(f"DROP TRIGGER {name}"))  # type: ignore[attr-defined]


def test_audit_finds_a_tampered_journal(registry: Registry) -> None:
    world = issued_batch(registry, verified=1000)
    coop, buyer, batch = world["cooperative"], world["buyer"], world["batch"]
    for q in (10, 20, 30):
        transfer(registry, actor=coop, from_account=coop, to_account=buyer, batch=batch, quantity=q)
    assert audit(registry)["ok"]
    stream = f"account:{coop}"
    with registry.engine.begin() as conn:
        _disable_guards(conn, registry.engine.dialect.name)
        # rewrite history: the second transfer now claims 25 t
        event = conn.execute(
            select(JournalEvent).where(JournalEvent.stream == stream, JournalEvent.seq == 2)
        ).one()
        after = {**event.after, "quantity_tco2e": 25}
        conn.execute(update(JournalEvent).where(JournalEvent.id == event.id).values(after=after))
    report = audit(registry)
    assert not report["journal_ok"] and report["invariants_ok"]
    assert {"check": "journal", "stream": stream, "seq": 2,
            "reason": "hash does not match the event's content"} in report["problems"]  # fmt: skip
    with registry.engine.begin() as conn:
        conn.execute(
            text("DELETE FROM journal_events WHERE seq = 3 AND stream = :s"), {"s": stream}
        )
    reasons = {p["reason"] for p in audit(registry)["problems"] if p.get("stream") == stream}
    assert "stream head (event 3) does not match the last event (2)" in reasons


def test_audit_finds_lost_and_duplicated_tonnes(registry: Registry) -> None:
    world = issued_batch(registry, verified=1000)
    batch_id, account = _batch_and_account(registry)
    with registry.engine.begin() as conn:
        _disable_guards(conn, registry.engine.dialect.name)
        # lose 100 t: shrink the held block 1–900 to 1–800 by superseding it without children
        conn.execute(update(CreditBlock).where(CreditBlock.serial_start == 1).values(active=False))
        conn.execute(insert(CreditBlock).values(**_block(batch_id, 1, 800, account)))
    problems = audit(registry)["problems"]
    checks = {p["check"] for p in problems}
    assert {"conservation", "serial_ranges"} <= checks
    conservation = next(p for p in problems if p["check"] == "conservation")
    assert (conservation["issued"], conservation["held"], conservation["buffer"]) == (
        1000,
        800,
        100,
    )
    with registry.read() as conn:
        quantity = conn.execute(select(Batch.quantity_tco2e)).scalar_one()
    assert quantity == 1000 and world["held_tco2e"] == 900
