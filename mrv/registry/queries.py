"""Read-only views of credits: holdings, batches, blocks and the journal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select

from mrv.errors import RecordNotFoundError
from mrv.registry import lookup
from mrv.registry.audit import STATUSES
from mrv.registry.blocks import serial_label
from mrv.registry.core import Registry
from mrv.registry.journal import timestamp
from mrv.registry.models import Account, Batch, CreditBlock, JournalEvent, Party, PartyRole, Project

ACTIVE = CreditBlock.active == True  # noqa: E712


def _status_sums() -> list[Any]:
    """SQL sums of active block quantities per status, in :data:`STATUSES` order."""
    return [
        func.coalesce(func.sum(case((CreditBlock.status == s, CreditBlock.quantity), else_=0)), 0)
        for s in STATUSES
    ]


MAX_PAGE = 1000


def list_parties(registry: Registry, code: str | None = None) -> list[dict[str, Any]]:
    """Every party (or the one ``code``) with its roles, by code."""
    with registry.read() as conn:
        query = select(Party.id, Party.code, Party.name, Party.credit_code).order_by(Party.code)
        if code is not None:
            query = query.where(Party.code == code)
        rows = conn.execute(query).all()
        roles: dict[int, list[str]] = {r.id: [] for r in rows}
        for party_id, role in conn.execute(
            select(PartyRole.party_id, PartyRole.role)
            .where(PartyRole.party_id.in_(list(roles)))
            .order_by(PartyRole.role)
        ):
            roles[party_id].append(role)
    return [
        {"code": r.code, "name": r.name, "credit_code": r.credit_code, "roles": roles[r.id]}
        for r in rows
    ]


def holdings(registry: Registry, account: str) -> dict[str, Any]:
    """Tonnes an account holds per batch and status (held, listed, retired, cancelled, buffer)."""
    sums = _status_sums()
    with registry.read() as conn:
        account_id = lookup.account_id(registry, conn, account)
        rows = conn.execute(
            select(Batch.serial_prefix, *sums)
            .join(CreditBlock, CreditBlock.batch_id == Batch.id)
            .where(CreditBlock.account_id == account_id, ACTIVE)
            .group_by(Batch.id, Batch.serial_prefix)
            .order_by(Batch.serial_prefix)
        ).all()
    batches = [
        {"batch": prefix, **{s: int(v) for s, v in zip(STATUSES, values, strict=True)}}
        for prefix, *values in rows
    ]
    return {
        "account": account,
        "batches": batches,
        "total": {s: sum(b[s] for b in batches) for s in STATUSES},
    }


def batch_summary(registry: Registry, prefix: str) -> dict[str, Any]:
    """A batch with its totals by status and its project."""
    sums = _status_sums()
    with registry.read() as conn:
        b = lookup.batch(registry, conn, prefix)
        project = conn.execute(select(Project.code).where(Project.id == b.project_id)).scalar_one()
        totals = conn.execute(select(*sums).where(CreditBlock.batch_id == b.id, ACTIVE)).one()
    return {
        "batch": prefix,
        "project": project,
        "vintage": b.vintage,
        "issued_tco2e": b.quantity_tco2e,
        "buffer_contribution_tco2e": b.buffer_tco2e,
        "buffer_percent": b.buffer_bp / 100,
        "issued_at": timestamp(b.issued_at),
        **{s: int(v) for s, v in zip(STATUSES, totals, strict=True)},
    }


def list_batches(registry: Registry, *, project: str | None = None) -> list[dict[str, Any]]:
    """Every batch (or a project's) with its totals by status, as ``batch_summary`` gives one."""
    sums = _status_sums()
    query = (
        select(Batch, Project.code.label("project"), *sums)
        .join(Project, Project.id == Batch.project_id)
        .outerjoin(CreditBlock, and_(CreditBlock.batch_id == Batch.id, ACTIVE))
        .group_by(Batch.id, Project.code)
        .order_by(Batch.serial_prefix)
    )
    if project is not None:
        query = query.where(Project.code == project)
    with registry.read() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "batch": r.serial_prefix,
            "project": r.project,
            "vintage": r.vintage,
            "issued_tco2e": r.quantity_tco2e,
            "buffer_contribution_tco2e": r.buffer_tco2e,
            "buffer_percent": r.buffer_bp / 100,
            "issued_at": timestamp(r.issued_at),
            **{s: int(v) for s, v in zip(STATUSES, r[-len(STATUSES) :], strict=True)},
        }
        for r in rows
    ]


def blocks(
    registry: Registry,
    *,
    batch: str | None = None,
    account: str | None = None,
    status: str | None = None,
    after_id: int = 0,
    limit: int = MAX_PAGE,
) -> dict[str, Any]:
    """Active blocks (the current state of every serial), cursor-paginated by block id."""
    limit = max(1, min(limit, MAX_PAGE))
    query = (
        select(
            CreditBlock.id,
            Batch.serial_prefix,
            CreditBlock.serial_start,
            CreditBlock.serial_end,
            CreditBlock.quantity,
            CreditBlock.status,
            Account.code,
            CreditBlock.parent_id,
        )
        .join(Batch, Batch.id == CreditBlock.batch_id)
        .join(Account, Account.id == CreditBlock.account_id)
        .where(ACTIVE, CreditBlock.id > after_id)
        .order_by(CreditBlock.id)
        .limit(limit + 1)
    )
    if batch is not None:
        query = query.where(Batch.serial_prefix == batch)
    if account is not None:
        query = query.where(Account.code == account)
    if status is not None:
        query = query.where(CreditBlock.status == status)
    with registry.read() as conn:
        rows = conn.execute(query).all()
    items = [
        {
            "block_id": r[0],
            "batch": r[1],
            "serial_start": r[2],
            "serial_end": r[3],
            "quantity": r[4],
            "status": r[5],
            "account": r[6],
            "parent_block_id": r[7],
            "serial": serial_label(r[1], r[2], r[3]),
        }
        for r in rows[:limit]
    ]
    more = len(rows) > limit
    return {"items": items, "next_cursor": items[-1]["block_id"] if more else None}


def find_serial(registry: Registry, batch: str, serial: int) -> dict[str, Any]:
    """The current block holding serial number ``serial`` of ``batch``, with its lineage."""
    with registry.read() as conn:
        b = lookup.batch(registry, conn, batch)
        row = conn.execute(
            select(CreditBlock).where(
                CreditBlock.batch_id == b.id,
                ACTIVE,
                CreditBlock.serial_start <= serial,
                CreditBlock.serial_end >= serial,
            )
        ).first()
        if row is None:
            raise RecordNotFoundError(f"{batch} has no serial {serial}", field="serial")
        lineage = []
        parent = row.parent_id
        while parent is not None:
            p = conn.execute(select(CreditBlock).where(CreditBlock.id == parent)).one()
            lineage.append(
                {
                    "block_id": p.id,
                    "serial": serial_label(batch, p.serial_start, p.serial_end),
                    "status": p.status,
                    "account": lookup.account_code(registry, conn, p.account_id),
                    "created_at": timestamp(p.created_at),
                }
            )
            parent = p.parent_id
        account = lookup.account_code(registry, conn, row.account_id)
    return {
        "batch": batch,
        "serial_number": serial,
        "block": serial_label(batch, row.serial_start, row.serial_end),
        "status": row.status,
        "account": account,
        "lineage": lineage,
    }


def journal(
    registry: Registry, *, stream: str | None = None, after_id: int = 0, limit: int = 100
) -> dict[str, Any]:
    """Journal events in order, optionally of one stream, cursor-paginated by event id."""
    limit = max(1, min(limit, MAX_PAGE))
    query = (
        select(JournalEvent)
        .where(JournalEvent.id > after_id)
        .order_by(JournalEvent.id)
        .limit(limit + 1)
    )
    if stream is not None:
        query = query.where(JournalEvent.stream == stream)
    with registry.read() as conn:
        rows = conn.execute(query).all()
    items = [
        {
            "id": r.id,
            "stream": r.stream,
            "seq": r.seq,
            "occurred_at": timestamp(r.occurred_at),
            "actor": r.actor,
            "operation": r.operation,
            "entity_type": r.entity_type,
            "entity_id": r.entity_id,
            "reason": r.reason,
            "before": r.before,
            "after": r.after,
            "prev_hash": r.prev_hash,
            "hash": r.hash,
        }
        for r in rows[:limit]
    ]
    return {"items": items, "next_cursor": items[-1]["id"] if len(rows) > limit else None}
