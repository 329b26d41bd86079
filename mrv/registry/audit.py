"""Audit: re-verify every journal chain and every registry invariant from the stored rows.

Invariants (DESIGN.md core idea 5): for every batch issued = held + listed + retired +
cancelled + buffer, and its active blocks partition the serials ``1 … quantity`` (no overlap,
no gap); blocks descend from inactive parents of the same batch, inside the parent's range;
lots, retirements and cancellations hold exactly their quantity; buffer credits sit only in the
buffer pool; one issuance per report and batch quantity = verified ≤ claimed; a parcel is in at
most one active project; distributions pay out at most their net and payments at most a line.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from mrv.registry import lookup
from mrv.registry.core import Registry
from mrv.registry.journal import verify_stream
from mrv.registry.models import (
    Account,
    Batch,
    Cancellation,
    CreditBlock,
    Distribution,
    DistributionLine,
    JournalEvent,
    JournalStream,
    MonitoringReport,
    Payment,
    ProjectParcel,
    Retirement,
    TradingLot,
    Verification,
)

STATUSES = ("held", "listed", "retired", "cancelled", "buffer")
ACTIVE = CreditBlock.active == True  # noqa: E712


def audit(registry: Registry) -> dict[str, Any]:
    """Verify the journal and the invariants; ``problems`` lists every violation found."""
    with registry.read() as conn:
        journal_problems, events, streams = _journal(conn)
        invariant_problems, totals = _invariants(conn)
    return {
        "ok": not journal_problems and not invariant_problems,
        "journal_ok": not journal_problems,
        "invariants_ok": not invariant_problems,
        "events": events,
        "streams": streams,
        "batches": len(totals),
        "totals_tco2e": _sum_totals(totals),
        "problems": journal_problems + invariant_problems,
    }


def _sum_totals(totals: dict[str, dict[str, int]]) -> dict[str, int]:
    out = dict.fromkeys(("issued", *STATUSES), 0)
    for row in totals.values():
        for key, value in row.items():
            out[key] += value
    return out


def _events(conn: Connection) -> Iterator[Any]:
    result = conn.execution_options(yield_per=5000).execute(
        select(JournalEvent).order_by(JournalEvent.stream, JournalEvent.seq)
    )
    yield from result


def _journal(conn: Connection) -> tuple[list[dict[str, Any]], int, int]:
    heads = {
        s: (q, h)
        for s, q, h in conn.execute(
            select(JournalStream.stream, JournalStream.seq, JournalStream.head_hash)
        )
    }
    problems: list[dict[str, Any]] = []
    count = 0
    seen: set[str] = set()
    for stream, rows in groupby(_events(conn), key=lambda r: r.stream):
        events = [r._mapping for r in rows]
        count += len(events)
        seen.add(stream)
        head = heads.get(stream)
        if head is None:
            problems.append({"check": "journal", "stream": stream, "reason": "stream has no head"})
            continue
        for p in verify_stream(stream, events, head[0], head[1]):
            problems.append({"check": "journal", **p.to_dict()})
    for stream, (seq, _) in heads.items():
        if stream not in seen and seq != 0:
            problems.append(
                {"check": "journal", "stream": stream, "reason": f"head at {seq} but no events"}
            )
    return problems, count, len(heads)


def _invariants(conn: Connection) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    problems: list[dict[str, Any]] = []
    totals = _conservation(conn, problems)
    _partition(conn, problems)
    _lineage(conn, problems)
    _holdings(conn, problems)
    _workflow(conn, problems)
    return problems, totals


def _conservation(conn: Connection, problems: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    sums = [
        func.coalesce(func.sum(case((CreditBlock.status == s, CreditBlock.quantity), else_=0)), 0)
        for s in STATUSES
    ]
    rows = conn.execute(
        select(Batch.serial_prefix, Batch.quantity_tco2e, *sums)
        .outerjoin(CreditBlock, and_(CreditBlock.batch_id == Batch.id, ACTIVE))
        .group_by(Batch.id, Batch.serial_prefix, Batch.quantity_tco2e)
    ).all()
    totals: dict[str, dict[str, int]] = {}
    for prefix, issued, *parts in rows:
        row = {"issued": int(issued), **{s: int(v) for s, v in zip(STATUSES, parts, strict=True)}}
        totals[prefix] = row
        if sum(row[s] for s in STATUSES) != row["issued"]:
            problems.append(
                {
                    "check": "conservation",
                    "batch": prefix,
                    "reason": "issued != held + listed + retired + cancelled + buffer",
                    **row,
                }
            )
    return totals


def _partition(conn: Connection, problems: list[dict[str, Any]]) -> None:
    prev_end = func.lag(CreditBlock.serial_end).over(
        partition_by=CreditBlock.batch_id, order_by=CreditBlock.serial_start
    )
    inner = (
        select(
            CreditBlock.id,
            CreditBlock.batch_id,
            CreditBlock.serial_start,
            CreditBlock.serial_end,
            prev_end.label("prev_end"),
        )
        .where(ACTIVE)
        .subquery()
    )
    bad = conn.execute(
        select(inner.c.id, inner.c.batch_id, inner.c.serial_start, inner.c.prev_end).where(
            or_(
                and_(inner.c.prev_end.is_(None), inner.c.serial_start != 1),
                and_(inner.c.prev_end.is_not(None), inner.c.serial_start != inner.c.prev_end + 1),
            )
        )
    ).all()
    for block, batch, start, prev in bad:
        reason = (
            "overlaps the block before" if prev is not None and start <= prev else "gap in serials"
        )
        problems.append(
            {"check": "serial_ranges", "block": block, "batch_id": batch, "reason": reason}
        )
    ends = conn.execute(
        select(Batch.serial_prefix, Batch.quantity_tco2e, func.max(CreditBlock.serial_end))
        .join(CreditBlock, and_(CreditBlock.batch_id == Batch.id, ACTIVE))
        .group_by(Batch.id, Batch.serial_prefix, Batch.quantity_tco2e)
        .having(func.max(CreditBlock.serial_end) != Batch.quantity_tco2e)
    ).all()
    for prefix, quantity, end in ends:
        problems.append(
            {
                "check": "serial_ranges",
                "batch": prefix,
                "reason": f"serials end at {end}, the batch issued {quantity}",
            }
        )


def _lineage(conn: Connection, problems: list[dict[str, Any]]) -> None:
    parent = aliased(CreditBlock)
    bad = conn.execute(
        select(CreditBlock.id, parent.id)
        .join(parent, parent.id == CreditBlock.parent_id)
        .where(
            or_(
                parent.active == True,  # noqa: E712
                parent.batch_id != CreditBlock.batch_id,
                CreditBlock.serial_start < parent.serial_start,
                CreditBlock.serial_end > parent.serial_end,
            )
        )
    ).all()
    for child, par in bad:
        problems.append(
            {
                "check": "lineage",
                "block": child,
                "parent": par,
                "reason": "child outside its parent's range, other batch, or parent still active",
            }
        )


def _holdings(conn: Connection, problems: list[dict[str, Any]]) -> None:
    pool = conn.execute(select(Account.id).where(Account.code == lookup.BUFFER_ACCOUNT)).scalar()
    misplaced = conn.execute(
        select(func.count())
        .select_from(CreditBlock)
        .where(ACTIVE, (CreditBlock.status == "buffer") != (CreditBlock.account_id == pool))
        .where(CreditBlock.status.in_(("buffer", "held", "listed")))
    ).scalar_one()
    if misplaced:
        problems.append(
            {
                "check": "buffer",
                "reason": f"{misplaced} blocks: buffer credits outside the pool "
                "or tradable credits inside it",
            }
        )
    for model, fk, status, label in (
        (TradingLot, CreditBlock.lot_id, "listed", "lot"),
        (Retirement, CreditBlock.retirement_id, "retired", "retirement"),
        (Cancellation, CreditBlock.cancellation_id, "cancelled", "cancellation"),
    ):
        held = (
            select(fk.label("owner"), func.sum(CreditBlock.quantity).label("q"))
            .where(ACTIVE, CreditBlock.status == status, fk.is_not(None))
            .group_by(fk)
            .subquery()
        )
        expected = (
            case((model.status == "listed", model.quantity_tco2e), else_=literal(0))
            if model is TradingLot
            else model.quantity_tco2e
        )
        bad = conn.execute(
            select(model.id, expected, held.c.q)
            .outerjoin(held, held.c.owner == model.id)
            .where(func.coalesce(held.c.q, 0) != expected)
        ).all()
        for record, want, got in bad:
            problems.append(
                {
                    "check": label,
                    "id": record,
                    "reason": f"{label} should hold {want} t of active {status} credits, holds "
                    f"{int(got or 0)}",
                }
            )


def _workflow(conn: Connection, problems: list[dict[str, Any]]) -> None:
    doubles = conn.execute(
        select(Batch.report_id, func.count()).group_by(Batch.report_id).having(func.count() > 1)
    ).all()
    for report, n in doubles:
        problems.append({"check": "issuance", "report_id": report, "reason": f"{n} issuances"})
    bad_quantity = conn.execute(
        select(
            Batch.serial_prefix,
            Batch.quantity_tco2e,
            Verification.verified_tco2e,
            MonitoringReport.claimed_tco2e,
        )
        .join(Verification, Verification.report_id == Batch.report_id)
        .join(MonitoringReport, MonitoringReport.id == Batch.report_id)
        .where(
            or_(
                Batch.quantity_tco2e != Verification.verified_tco2e,
                Verification.verified_tco2e > MonitoringReport.claimed_tco2e,
                Verification.status != "positive",
            )
        )
    ).all()
    for prefix, quantity, verified, claimed in bad_quantity:
        problems.append(
            {
                "check": "issuance",
                "batch": prefix,
                "reason": f"issued {quantity}, verified {verified}, claimed {claimed}",
            }
        )
    shared = conn.execute(
        select(ProjectParcel.parcel_id, func.count())
        .where(ProjectParcel.active == True)  # noqa: E712
        .group_by(ProjectParcel.parcel_id)
        .having(func.count() > 1)
    ).all()
    for parcel, n in shared:
        problems.append(
            {"check": "parcels", "parcel_id": parcel, "reason": f"in {n} active projects"}
        )
    over = conn.execute(
        select(Distribution.id, Distribution.net_fen, func.sum(DistributionLine.amount_fen))
        .join(DistributionLine, DistributionLine.distribution_id == Distribution.id)
        .group_by(Distribution.id, Distribution.net_fen)
        .having(func.sum(DistributionLine.amount_fen) > Distribution.net_fen)
    ).all()
    for dist, net, paid in over:
        problems.append(
            {
                "check": "distribution",
                "id": dist,
                "reason": f"lines {paid} fen exceed net {net} fen",
            }
        )
    overpaid = conn.execute(
        select(DistributionLine.id, DistributionLine.amount_fen, func.sum(Payment.amount_fen))
        .join(Payment, Payment.line_id == DistributionLine.id)
        .group_by(DistributionLine.id, DistributionLine.amount_fen)
        .having(func.sum(Payment.amount_fen) > DistributionLine.amount_fen)
    ).all()
    for line, amount, paid in overpaid:
        problems.append(
            {"check": "payments", "line": line, "reason": f"paid {paid} fen of {amount} fen"}
        )
