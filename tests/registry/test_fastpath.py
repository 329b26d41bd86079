"""The PostgreSQL fast path and the ordinary path write the same journal content and state.

(Hashes differ between runs only through the generated idempotency keys; the audit recomputes
them.) On SQLite both registries take the ordinary path.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text

from mrv.errors import InsufficientCreditsError, NotHolderError
from mrv.registry.audit import audit
from mrv.registry.core import Registry
from mrv.registry.credits import transfer
from mrv.registry.db import make_engine, migrate
from mrv.registry.models import CreditBlock, JournalEvent
from mrv.registry.sample import build_sample
from tests.registry.conftest import START


def _season(registry: Registry) -> list[Any]:
    built = build_sample(registry, owners=2, verified_tco2e=1_000, holders=3, per_holder_tco2e=100)
    batch, holders = built["batch"], built["holders"]
    for i in range(12):
        sender, recipient = holders[i % 3], holders[(i + 1) % 3]
        transfer(
            registry,
            actor=sender,
            from_account=sender,
            to_account=recipient,
            batch=batch,
            quantity=7 + i,
            idempotency_key=f"t{i}",
        )
    replay = transfer(
        registry,
        actor=holders[0],
        from_account=holders[0],
        to_account=holders[1],
        batch=batch,
        quantity=7,
        idempotency_key="t0",
    )
    assert replay.replayed
    with pytest.raises(InsufficientCreditsError):
        transfer(registry, actor="h0000", from_account="h0000", to_account="h0001",
                 batch=batch, quantity=10_000)  # fmt: skip
    with pytest.raises(NotHolderError):
        transfer(registry, actor="h0001", from_account="h0000", to_account="h0001",
                 batch=batch, quantity=1)  # fmt: skip
    with registry.read() as conn:
        events = conn.execute(
            select(
                JournalEvent.stream,
                JournalEvent.seq,
                JournalEvent.operation,
                JournalEvent.entity_id,
                JournalEvent.before,
                JournalEvent.after,
            ).order_by(JournalEvent.id)
        ).all()
        blocks = conn.execute(
            select(
                CreditBlock.serial_start,
                CreditBlock.serial_end,
                CreditBlock.status,
                CreditBlock.active,
            ).order_by(CreditBlock.id)
        ).all()
    return [events, blocks]


def test_fast_and_ordinary_paths_agree(
    registry: Registry, database_url: str, tmp_path: Any
) -> None:
    assert registry.pipelined == (registry.engine.dialect.name == "postgresql")
    moment = START
    registry.clock = lambda: moment  # a frozen clock: both runs stamp the same times
    fast = _season(registry)
    assert audit(registry)["ok"]
    # a second registry in a fresh database with the same clock, forced onto the ordinary path
    if registry.engine.dialect.name == "postgresql":
        with registry.engine.begin() as conn:
            conn.execute(text("CREATE SCHEMA ordinary_path"))
        url = registry.engine.url.update_query_dict({"options": "-csearch_path=ordinary_path"})
    else:
        url = registry.engine.url.set(database=str(tmp_path / "ordinary.sqlite"))
    engine = make_engine(url.render_as_string(hide_password=False))
    migrate(engine)
    ordinary = Registry(engine, registry.settings, lambda: moment)
    ordinary.pipelined = False
    try:
        slow = _season(ordinary)
        for kind, mine, theirs in zip(("events", "blocks"), fast, slow, strict=True):
            for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
                assert a == b, (kind, i)
        assert audit(ordinary)["ok"]
    finally:
        ordinary.close()
        if registry.engine.dialect.name == "postgresql":
            with registry.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA ordinary_path CASCADE"))


def test_lost_prepared_statements_are_prepared_again(registry: Registry) -> None:
    built = build_sample(registry, owners=1, verified_tco2e=100, holders=2, per_holder_tco2e=10)
    batch = built["batch"]
    for _ in range(3):
        transfer(registry, actor="h0000", from_account="h0000", to_account="h0001",
                 batch=batch, quantity=1)  # fmt: skip
        with registry.engine.connect() as conn:  # the pooled session forgets its statements
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("DEALLOCATE ALL")
            conn.commit()
    transfer(registry, actor="h0001", from_account="h0001", to_account="h0000",
             batch=batch, quantity=5)  # fmt: skip
    assert audit(registry)["ok"]
