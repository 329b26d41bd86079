"""Property test: random operation sequences never break conservation or serial disjointness.

A plain-Python model tracks what every account should hold; after every step the registry must
agree with the model, the audit must pass (issued = held + listed + retired + cancelled + buffer,
active ranges partition each batch, lineage intact, journal chained), and a refused operation
must leave the journal untouched. Runs on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from mrv.errors import (
    CreditsListedError,
    InsufficientCreditsError,
    InvalidStateError,
    MissingFieldError,
    NotHolderError,
    RegistryError,
    RegistryInputError,
)
from mrv.registry.audit import audit
from mrv.registry.core import Registry
from mrv.registry.credits import cancel, report_reversal, transfer
from mrv.registry.db import make_engine, migrate
from mrv.registry.models import JournalEvent
from mrv.registry.queries import holdings
from mrv.registry.retirement import retire
from mrv.registry.trading import list_lot, settle_lot, withdraw_lot
from mrv.settings import Settings
from tests.registry.builders import issued_batch
from tests.registry.conftest import BACKENDS, Clock, pg_url

HOLDERS = ["anji-coop", "buyer-1", "h2"]
QUANTITY = st.integers(min_value=1, max_value=400)

OPS = st.one_of(
    st.tuples(st.just("transfer"), st.integers(0, 2), st.integers(0, 2), QUANTITY),
    st.tuples(st.just("list"), st.integers(0, 2), QUANTITY),
    st.tuples(st.just("withdraw"), st.integers(0, 5)),
    st.tuples(st.just("settle"), st.integers(0, 5), st.integers(0, 2)),
    st.tuples(st.just("retire"), st.integers(0, 2), QUANTITY, st.booleans()),
    st.tuples(st.just("cancel"), st.integers(0, 2), QUANTITY),
    st.tuples(st.just("reversal"), QUANTITY),
    st.tuples(st.just("bad_quantity"), st.sampled_from([0, -3, 2.5, True, "7"])),
    st.tuples(st.just("judicial_without_case"), st.integers(0, 2)),
    st.tuples(st.just("foreign_transfer"), st.integers(0, 2), st.integers(0, 2)),
)


@dataclass
class Model:
    """What the registry should contain."""

    held: dict[str, int]
    listed: dict[str, int] = field(default_factory=dict)
    retired: int = 0
    cancelled: int = 0
    buffer: int = 0
    lots: list[tuple[str, str, int, str]] = field(default_factory=list)
    """(lot code, seller, quantity, state)."""


@contextmanager
def fresh_registry(backend: str) -> Iterator[Registry]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'r.sqlite'}")
            migrate(engine)
            registry = Registry(engine, Settings(data_dir=Path(tmp)), Clock())
            yield registry
            registry.close()
        return
    schema = f"p_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(pg_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    migrate(engine)
    registry = Registry(engine, Settings(), Clock())
    try:
        yield registry
    finally:
        registry.close()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _events(registry: Registry) -> int:
    with registry.read() as conn:
        return int(conn.execute(select(func.count()).select_from(JournalEvent)).scalar_one())


def _expect_failure(registry: Registry, error: type[RegistryError], call: Any) -> None:
    before = _events(registry)
    with pytest.raises(error):
        call()
    assert _events(registry) == before, "a refused operation wrote to the journal"


def _apply(registry: Registry, model: Model, batch: str, op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind == "transfer":
        sender, recipient, q = HOLDERS[op[1]], HOLDERS[op[2]], op[3]
        call = lambda: transfer(
            registry,
            actor=sender,
            from_account=sender,
            to_account=recipient,
            batch=batch,
            quantity=q,
        )
        if sender == recipient:
            _expect_failure(registry, RegistryInputError, call)
        elif model.held[sender] >= q:
            call()
            model.held[sender] -= q
            model.held[recipient] += q
        elif model.held[sender] + model.listed.get(sender, 0) >= q:
            _expect_failure(registry, CreditsListedError, call)
        else:
            _expect_failure(registry, InsufficientCreditsError, call)
    elif kind == "list":
        seller, q = HOLDERS[op[1]], op[2]
        call = lambda: list_lot(
            registry, actor=seller, account=seller, batch=batch, quantity=q, ask_yuan_per_t="70.00"
        )
        if model.held[seller] >= q:
            lot = call().result["lot"]
            model.held[seller] -= q
            model.listed[seller] = model.listed.get(seller, 0) + q
            model.lots.append((lot, seller, q, "listed"))
        else:
            _expect_failure(registry, InsufficientCreditsError, call)
    elif kind in ("withdraw", "settle"):
        if not model.lots:
            return
        index = op[1] % len(model.lots)
        lot, seller, q, state = model.lots[index]
        if kind == "withdraw":
            call = lambda: withdraw_lot(registry, actor=seller, lot=lot)
        else:
            buyer = HOLDERS[op[2]]
            call = lambda: settle_lot(
                registry,
                actor="hz-gtc",
                lot=lot,
                buyer=buyer,
                price_yuan_per_t="71.50",
                fees_yuan="2.00",
                trade_ref=f"T-{uuid.uuid4().hex[:8]}",
            )
            if buyer == seller and state == "listed":
                _expect_failure(registry, RegistryInputError, call)
                return
        if state != "listed":
            _expect_failure(registry, InvalidStateError, call)
            return
        call()
        model.listed[seller] -= q
        model.held[seller if kind == "withdraw" else HOLDERS[op[2]]] += q
        model.lots[index] = (lot, seller, q, "withdrawn" if kind == "withdraw" else "settled")
    elif kind == "retire":
        holder, q, judicial = HOLDERS[op[1]], op[2], op[3]
        extra = (
            {
                "case_number": "(2025)浙0591刑初88号",
                "court": "湖州南太湖新区人民法院",
                "payer": "被告人张某",
                "restoration_site": "下渚湖湿地",
            }
            if judicial
            else {}
        )
        call = lambda: retire(
            registry,
            actor=holder,
            account=holder,
            batch=batch,
            quantity=q,
            purpose="judicial_restoration" if judicial else "voluntary",
            beneficiary="德清县下渚湖湿地",
            **extra,
        )
        if model.held[holder] >= q:
            call()
            model.held[holder] -= q
            model.retired += q
        else:
            _expect_failure(registry, InsufficientCreditsError, call)
    elif kind == "cancel":
        holder, q = HOLDERS[op[1]], op[2]
        call = lambda: cancel(
            registry,
            actor=holder,
            account=holder,
            batch=batch,
            quantity=q,
            reason_code="correction",
            reason="data correction",
        )
        if model.held[holder] >= q:
            call()
            model.held[holder] -= q
            model.cancelled += q
        else:
            _expect_failure(registry, InsufficientCreditsError, call)
    elif kind == "reversal":
        result = report_reversal(
            registry,
            actor="root",
            project="AJ001",
            loss_tco2e=op[1],
            kind="detected",
            description="storm damage",
        ).result
        compensated = min(op[1], model.buffer)
        assert result["compensated_tco2e"] == compensated
        model.buffer -= compensated
        model.cancelled += compensated
    elif kind == "bad_quantity":
        _expect_failure(
            registry,
            RegistryInputError,
            lambda: transfer(
                registry,
                actor="anji-coop",
                from_account="anji-coop",
                to_account="buyer-1",
                batch=batch,
                quantity=op[1],
            ),
        )
    elif kind == "judicial_without_case":
        holder = HOLDERS[op[1]]
        _expect_failure(
            registry,
            MissingFieldError,
            lambda: retire(
                registry,
                actor=holder,
                account=holder,
                batch=batch,
                quantity=1,
                purpose="judicial_restoration",
                beneficiary="x",
                court="c",
                payer="p",
                restoration_site="s",
            ),
        )
    elif kind == "foreign_transfer":
        actor, owner = HOLDERS[op[1]], HOLDERS[(op[1] + 1 + op[2] % 2) % 3]
        _expect_failure(
            registry,
            NotHolderError,
            lambda: transfer(
                registry, actor=actor, from_account=owner, to_account=actor, batch=batch, quantity=1
            ),
        )


def _check(registry: Registry, model: Model, batch: str) -> None:
    report = audit(registry)
    assert report["problems"] == []
    totals = report["totals_tco2e"]
    assert totals["retired"] == model.retired
    assert totals["cancelled"] == model.cancelled
    assert totals["buffer"] == model.buffer
    for holder in HOLDERS:
        mine = holdings(registry, holder)["total"]
        assert mine["held"] == model.held[holder], holder
        assert mine["listed"] == model.listed.get(holder, 0), holder


@pytest.mark.parametrize("backend", BACKENDS)
@settings(
    max_examples=int(os.environ.get("MRV_PROPERTY_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(ops=st.lists(OPS, min_size=1, max_size=25))
def test_random_operations_conserve_credits(backend: str, ops: list[tuple[Any, ...]]) -> None:
    with fresh_registry(backend) as registry:
        world = issued_batch(registry, verified=1_000, risk_score=20)
        from tests.registry.builders import ensure_party

        ensure_party(registry, "h2", "Holder 2", ["buyer"])
        batch = world["batch"]
        model = Model(held={"anji-coop": world["held_tco2e"], "buyer-1": 0, "h2": 0})
        model.buffer = world["buffer_tco2e"]
        assert (model.held["anji-coop"], model.buffer) == (800, 200)
        for op in ops:
            _apply(registry, model, batch, op)
            _check(registry, model, batch)
