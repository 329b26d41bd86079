"""Concurrent writers: 16 workers doing random transfers, lot settlements and retirements.

On PostgreSQL (MRV_TEST_DATABASE_URL) the run lasts 20 s (MRV_CONCURRENCY_SECONDS overrides);
on SQLite 4 s. Afterwards the audit must pass and every acknowledged operation must be in the
journal exactly once: nothing lost, nothing duplicated.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from mrv.errors import ConflictError, InsufficientCreditsError, InvalidStateError
from mrv.registry.audit import audit
from mrv.registry.core import Registry
from mrv.registry.credits import transfer
from mrv.registry.db import make_engine
from mrv.registry.models import JournalEvent, Retirement, TradingLot
from mrv.registry.parties import create_party
from mrv.registry.retirement import retire
from mrv.registry.trading import list_lot, settle_lot
from mrv.settings import Settings
from tests.registry.builders import ensure_party, issued_batch

WORKERS = 16


def _seconds(backend: str) -> float:
    default = 20.0 if backend == "postgresql" else 4.0
    return float(os.environ.get("MRV_CONCURRENCY_SECONDS", default))


def _worker(
    url: str,
    holders: list[str],
    batch: str,
    centre: str,
    seconds: float,
    seed: int,
    acked: list[tuple[str, str]],
    failures: list[str],
) -> None:
    registry = Registry(make_engine(url, pool_size=1), Settings())
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    keys: list[tuple[str, dict[str, Any]]] = []
    try:
        while time.monotonic() < deadline:
            sender, recipient = rng.sample(holders, 2)
            roll = rng.random()
            key = uuid.uuid4().hex
            try:
                if roll < 0.6:
                    kwargs = {
                        "actor": sender,
                        "from_account": sender,
                        "to_account": recipient,
                        "batch": batch,
                        "quantity": rng.randint(1, 20),
                    }
                    transfer(registry, idempotency_key=key, **kwargs)
                    acked.append(("transfer", key))
                    keys.append((key, kwargs))
                elif roll < 0.8:
                    lot = list_lot(
                        registry,
                        actor=sender,
                        account=sender,
                        batch=batch,
                        quantity=rng.randint(1, 30),
                        ask_yuan_per_t="60.00",
                        idempotency_key=key,
                    )
                    acked.append(("list_lot", key))
                    settle_key = uuid.uuid4().hex
                    settle_lot(
                        registry,
                        actor=centre,
                        lot=lot.result["lot"],
                        buyer=recipient,
                        price_yuan_per_t=f"{rng.randint(50, 90)}.{rng.randint(0, 99):02d}",
                        fees_yuan="1.00",
                        trade_ref=f"T-{settle_key[:10]}",
                        idempotency_key=settle_key,
                    )
                    acked.append(("settle_lot", settle_key))
                else:
                    retire(
                        registry,
                        actor=sender,
                        account=sender,
                        batch=batch,
                        quantity=rng.randint(1, 10),
                        purpose="voluntary",
                        beneficiary=f"beneficiary of {sender}",
                        idempotency_key=key,
                    )
                    acked.append(("retire", key))
                if keys and rng.random() < 0.05:  # replay an earlier transfer: no second effect
                    old_key, old_kwargs = rng.choice(keys)
                    assert transfer(registry, idempotency_key=old_key, **old_kwargs).replayed
            except (InsufficientCreditsError, InvalidStateError, ConflictError):
                pass  # refused cleanly: nothing written
    except Exception as exc:
        failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        registry.close()


def test_concurrent_transfers_settlements_retirements(
    registry: Registry, database_url: str
) -> None:
    world = issued_batch(registry, verified=200_000)
    batch, centre, coop = world["batch"], world["trading_centre"], world["cooperative"]
    holders = [f"h{i:02d}" for i in range(24)]
    for code in holders:
        ensure_party(registry, code, f"holder {code}", ["buyer"])
        transfer(
            registry, actor=coop, from_account=coop, to_account=code, batch=batch, quantity=5_000
        )
    with registry.read() as conn:
        events_before = conn.execute(select(func.count()).select_from(JournalEvent)).scalar_one()
    seconds = _seconds(registry.engine.dialect.name)
    acked: list[tuple[str, str]] = []
    failures: list[str] = []
    threads = [
        threading.Thread(
            target=_worker,
            args=(database_url, holders, batch, centre, seconds, i, acked, failures),
        )
        for i in range(WORKERS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    counts = Counter(op for op, _ in acked)
    assert counts["transfer"] > 50 and counts["retire"] > 5 and counts["settle_lot"] > 5

    report = audit(registry)
    assert report["problems"] == []
    assert report["invariants_ok"] and report["journal_ok"]
    with registry.read() as conn:
        events = conn.execute(select(func.count()).select_from(JournalEvent)).scalar_one()
        keys = set(conn.execute(select(JournalEvent.idempotency_key)).scalars())
        retirements = conn.execute(select(func.count()).select_from(Retirement)).scalar_one()
        settled = conn.execute(
            select(func.count()).select_from(TradingLot).where(TradingLot.status == "settled")
        ).scalar_one()
    # every acknowledged write is journaled exactly once, and nothing else was written
    assert {key for _, key in acked} <= keys
    assert events - events_before == len(acked)
    assert retirements == counts["retire"]
    assert settled == counts["settle_lot"]
    totals = report["totals_tco2e"]
    assert totals["issued"] == 200_000
    assert sum(totals[s] for s in ("held", "listed", "retired", "cancelled", "buffer")) == 200_000


def test_parties_created_concurrently_get_consecutive_journal_numbers(
    registry: Registry, database_url: str
) -> None:
    create_party(registry, actor="root", code="root", name="Registry", roles=["admin"])
    errors: list[str] = []

    def make(i: int) -> None:
        reg = Registry(make_engine(database_url, pool_size=1), Settings())
        try:
            for j in range(10):
                create_party(reg, actor="root", code=f"p{i}-{j}", name="P", roles=["buyer"])
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            reg.close()

    threads = [threading.Thread(target=make, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with registry.read() as conn:
        seqs = (
            conn.execute(
                select(JournalEvent.seq)
                .where(JournalEvent.stream == "registry")
                .order_by(JournalEvent.seq)
            )
            .scalars()
            .all()
        )
    assert seqs == list(range(1, 82))
    assert audit(registry)["journal_ok"]
