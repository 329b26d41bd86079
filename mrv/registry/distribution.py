"""Benefit distribution: the owners' share of each settled lot, per parcel, and its payments.

Anji's collection rule (registries.md §2.5): 80 % of the net sale proceeds go back to the
village cooperatives and households. For a settled lot, net = gross − fees; each active parcel
of the project earns ``net × parcel share × contract owner share``, where the parcel share is
its part of the verified removals of the batch's monitoring report (``parcel_removals``), or of
the project's area when the report has no per-parcel attribution (registries.md §3 anchor 7).
The cooperative keeps the rest. Money is integer fen: each line is floored, and the fen left of
the floored exact owners' total are handed out by largest remainder (ties by parcel code), so
the lines add up exactly and never exceed the net. Payments are recorded against a line with the
bank reference as proof.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import func, insert, select

from mrv.errors import (
    ConflictError,
    ForbiddenError,
    RecordNotFoundError,
    RegistryInputError,
)
from mrv.registry import lookup
from mrv.registry.core import Outcome, Receipt, Registry, Tx
from mrv.registry.models import (
    Batch,
    CollectionContract,
    Distribution,
    DistributionLine,
    MonitoringReport,
    Parcel,
    Party,
    Payment,
    Project,
    ProjectParcel,
    TradingLot,
)
from mrv.registry.money import to_fen, yuan

BP = 10_000
"""Basis points in a whole."""


@dataclass(frozen=True)
class Share:
    """One parcel's claim on a distribution: its share of the removals and the owner's share."""

    parcel: str
    parcel_share: Fraction
    owner_share_bp: int


def allocate(net_fen: int, shares: Sequence[Share]) -> list[int]:
    """Fen per share: floors of ``net × parcel_share × bp / 10000``, plus largest remainders.

    The result sums to ``floor(Σ exact)``; the leftover fen go one each to the largest
    fractional remainders, ties broken by parcel code (then position).

    >>> allocate(100, [Share("A", Fraction(1, 3), 10000), Share("B", Fraction(2, 3), 10000)])
    [33, 67]
    >>> allocate(100, [Share("B", Fraction(1, 3), 10000), Share("A", Fraction(1, 3), 10000)])
    [33, 33]
    >>> allocate(101, [Share("B", Fraction(1, 2), 10000), Share("A", Fraction(1, 2), 10000)])
    [50, 51]
    """
    exact = [net_fen * s.parcel_share * s.owner_share_bp / BP for s in shares]
    floors = [e.numerator // e.denominator for e in exact]
    total = sum(exact, Fraction(0))
    left = total.numerator // total.denominator - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - floors[i]), shares[i].parcel, i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def _exact(value: float | int) -> Fraction:
    """A stored tonnage or area as the decimal it was written as (0.1 → 1/10, not binary)."""
    return Fraction(str(value))


def _parcel_shares(
    parcels: Sequence[Any], removals: dict[str, Any]
) -> tuple[dict[str, Fraction], str]:
    """Each active parcel's share and the basis used.

    By removals, the denominator is the report's total attribution, so the part of a parcel that
    left the project since stays with the cooperative; by area, the active parcels' total area.
    """
    attributed = {code: _exact(v) for code, v in removals.items()}
    total = sum(attributed.values(), Fraction(0))
    if total > 0:
        return {p.parcel: attributed.get(p.parcel, Fraction(0)) / total for p in parcels}, (
            "parcel_removals"
        )
    areas = {p.parcel: _exact(p.area_ha) for p in parcels}
    area_total = sum(areas.values(), Fraction(0))
    return {code: a / area_total for code, a in areas.items()}, "parcel_area"


def _share_text(bp: int) -> str:
    return str((Decimal(bp) / BP).quantize(Decimal("0.0001")))


def distribute(tx: Tx, *, lot_id: int) -> dict[str, Any]:
    """Write the distribution of a just-settled lot (called inside ``settle_lot``'s transaction).

    Returns the JSON summary: gross, fees, net, owners' total, what the cooperative keeps, the
    lines and the basis of the parcel shares (``parcel_removals`` or ``parcel_area``).
    """
    lot = tx.conn.execute(
        select(
            TradingLot.code,
            TradingLot.status,
            TradingLot.quantity_tco2e,
            TradingLot.price_fen_per_t,
            TradingLot.fees_fen,
            Batch.project_id,
            MonitoringReport.parcel_removals,
        )
        .join(Batch, Batch.id == TradingLot.batch_id)
        .join(MonitoringReport, MonitoringReport.id == Batch.report_id)
        .where(TradingLot.id == lot_id)
    ).one()
    if lot.status != "settled" or lot.price_fen_per_t is None:
        raise ConflictError(f"trading lot {lot.code} is {lot.status}, not settled", lot=lot.code)
    gross = int(lot.price_fen_per_t) * int(lot.quantity_tco2e)
    fees = int(lot.fees_fen or 0)
    net = gross - fees
    parcels = tx.conn.execute(
        select(
            Parcel.id.label("parcel_id"),
            Parcel.code.label("parcel"),
            Parcel.area_ha,
            CollectionContract.id.label("contract_id"),
            CollectionContract.code.label("contract"),
            CollectionContract.owner_party_id,
            CollectionContract.owner_share_bp,
            Party.code.label("owner"),
        )
        .join(ProjectParcel, ProjectParcel.parcel_id == Parcel.id)
        .join(CollectionContract, CollectionContract.id == ProjectParcel.contract_id)
        .join(Party, Party.id == CollectionContract.owner_party_id)
        .where(ProjectParcel.project_id == lot.project_id, ProjectParcel.active == True)  # noqa: E712
        .order_by(Parcel.code)
    ).all()
    shares_by_parcel, basis = _parcel_shares(parcels, dict(lot.parcel_removals or {}))
    shares = [Share(p.parcel, shares_by_parcel[p.parcel], int(p.owner_share_bp)) for p in parcels]
    amounts = allocate(net, shares)
    distribution_id = tx.conn.execute(
        insert(Distribution)
        .values(lot_id=lot_id, gross_fen=gross, fees_fen=fees, net_fen=net, created_at=tx.now)
        .returning(Distribution.id)
    ).scalar_one()
    rows = [
        {
            "distribution_id": distribution_id,
            "contract_id": p.contract_id,
            "parcel_id": p.parcel_id,
            "owner_party_id": p.owner_party_id,
            "parcel_share": float(s.parcel_share),
            "owner_share_bp": s.owner_share_bp,
            "amount_fen": amount,
        }
        for p, s, amount in zip(parcels, shares, amounts, strict=True)
    ]
    line_ids: list[int] = []
    if rows:
        line_ids = list(
            tx.conn.execute(
                insert(DistributionLine).returning(
                    DistributionLine.id, sort_by_parameter_order=True
                ),
                rows,
            ).scalars()
        )
    owners_total = sum(amounts)
    return {
        "distribution_id": distribution_id,
        "lot": lot.code,
        "gross_yuan": yuan(gross),
        "fees_yuan": yuan(fees),
        "net_yuan": yuan(net),
        "owners_total_yuan": yuan(owners_total),
        "cooperative_retained_yuan": yuan(net - owners_total),
        "basis": basis,
        "lines": [
            {
                "line_id": line_id,
                "owner": p.owner,
                "parcel": p.parcel,
                "contract": p.contract,
                "parcel_share": row["parcel_share"],
                "owner_share": _share_text(row["owner_share_bp"]),
                "amount_yuan": yuan(row["amount_fen"]),
            }
            for line_id, p, row in zip(line_ids, parcels, rows, strict=True)
        ],
    }


def get_distribution(registry: Registry, lot: str) -> dict[str, Any]:
    """The stored distribution of a settled lot, in the shape :func:`distribute` returned."""
    with registry.read() as conn:
        head = conn.execute(
            select(
                Distribution.id,
                Distribution.gross_fen,
                Distribution.fees_fen,
                Distribution.net_fen,
                MonitoringReport.parcel_removals,
            )
            .join(TradingLot, TradingLot.id == Distribution.lot_id)
            .join(Batch, Batch.id == TradingLot.batch_id)
            .join(MonitoringReport, MonitoringReport.id == Batch.report_id)
            .where(TradingLot.code == lot)
        ).first()
        if head is None:
            raise RecordNotFoundError(f"trading lot {lot!r} has no distribution", field="lot")
        lines = conn.execute(
            select(
                DistributionLine.id,
                Party.code.label("owner"),
                Parcel.code.label("parcel"),
                CollectionContract.code.label("contract"),
                DistributionLine.parcel_share,
                DistributionLine.owner_share_bp,
                DistributionLine.amount_fen,
            )
            .join(Party, Party.id == DistributionLine.owner_party_id)
            .join(Parcel, Parcel.id == DistributionLine.parcel_id)
            .join(CollectionContract, CollectionContract.id == DistributionLine.contract_id)
            .where(DistributionLine.distribution_id == head.id)
            .order_by(Parcel.code, DistributionLine.id)
        ).all()
    removals = dict(head.parcel_removals or {})
    owners_total = sum(int(r.amount_fen) for r in lines)
    return {
        "distribution_id": head.id,
        "lot": lot,
        "gross_yuan": yuan(head.gross_fen),
        "fees_yuan": yuan(head.fees_fen),
        "net_yuan": yuan(head.net_fen),
        "owners_total_yuan": yuan(owners_total),
        "cooperative_retained_yuan": yuan(int(head.net_fen) - owners_total),
        "basis": (
            "parcel_removals"
            if sum((_exact(v) for v in removals.values()), Fraction(0)) > 0
            else "parcel_area"
        ),
        "lines": [
            {
                "line_id": r.id,
                "owner": r.owner,
                "parcel": r.parcel,
                "contract": r.contract,
                "parcel_share": r.parcel_share,
                "owner_share": _share_text(r.owner_share_bp),
                "amount_yuan": yuan(r.amount_fen),
            }
            for r in lines
        ],
    }


def _paid_fen(tx: Tx, line_id: int) -> int:
    return int(
        tx.conn.execute(
            select(func.coalesce(func.sum(Payment.amount_fen), 0)).where(Payment.line_id == line_id)
        ).scalar_one()
    )


def record_payment(
    registry: Registry,
    *,
    actor: str,
    line_id: int,
    amount_yuan: Decimal | str,
    bank_reference: str,
    paid_on: dt.date,
    idempotency_key: str | None = None,
) -> Receipt:
    """Record a payment to an owner against a distribution line (the project's cooperative).

    The amount must be positive and at most what the line still owes; the bank reference is the
    proof of payment (registries.md §3 anchor 7). Journalled on the project's stream.
    """
    if isinstance(line_id, bool) or not isinstance(line_id, int) or line_id <= 0:
        raise RegistryInputError(
            f"line_id must be a positive integer, got {line_id!r}", field="line_id"
        )
    amount = to_fen(amount_yuan, "amount_yuan", allow_zero=False)
    reference = bank_reference.strip() if isinstance(bank_reference, str) else ""
    if not reference or len(reference) > 100:
        raise RegistryInputError(
            "bank_reference must be 1–100 characters (the proof of payment)",
            field="bank_reference",
        )
    if isinstance(paid_on, dt.datetime) or not isinstance(paid_on, dt.date):
        raise RegistryInputError(f"paid_on must be a date, got {paid_on!r}", field="paid_on")

    def body(tx: Tx) -> Outcome:
        line = tx.conn.execute(  # a line's lot, project and owner never change: read, then lock
            select(
                DistributionLine.amount_fen,
                Project.code.label("project"),
                Project.proponent_party_id,
                TradingLot.code.label("lot"),
                Party.code.label("owner"),
                Parcel.code.label("parcel"),
            )
            .join(Distribution, Distribution.id == DistributionLine.distribution_id)
            .join(TradingLot, TradingLot.id == Distribution.lot_id)
            .join(Batch, Batch.id == TradingLot.batch_id)
            .join(Project, Project.id == Batch.project_id)
            .join(Party, Party.id == DistributionLine.owner_party_id)
            .join(Parcel, Parcel.id == DistributionLine.parcel_id)
            .where(DistributionLine.id == line_id)
        ).first()
        if line is None:
            raise RecordNotFoundError(f"no distribution line {line_id}", field="line_id")
        tx.lock_stream(f"project:{line.project}")
        if tx.actor.id != line.proponent_party_id:
            try:
                tx.require_role("admin")
            except ForbiddenError:
                proponent = lookup.party_code(tx.conn, line.proponent_party_id)
                raise ForbiddenError(
                    f"{tx.actor.code} may not record payments of project {line.project}: only "
                    f"its proponent {proponent} or an admin may",
                    actor=tx.actor.code,
                    project=line.project,
                ) from None
        if paid_on > tx.today:
            raise RegistryInputError(
                f"paid_on {paid_on} is in the future (today is {tx.today})", field="paid_on"
            )
        due = int(line.amount_fen)
        paid = _paid_fen(tx, line_id)
        remaining = due - paid
        if amount > remaining:
            raise ConflictError(
                f"payment of {yuan(amount)} exceeds what line {line_id} ({line.owner}, parcel "
                f"{line.parcel}, lot {line.lot}) still owes: due {yuan(due)}, paid {yuan(paid)}, "
                f"remaining {yuan(remaining)}",
                field="amount_yuan",
                line_id=line_id,
                due_yuan=yuan(due),
                paid_yuan=yuan(paid),
                remaining_yuan=yuan(remaining),
            )
        payment_id = tx.conn.execute(
            insert(Payment)
            .values(
                line_id=line_id,
                amount_fen=amount,
                bank_reference=reference,
                paid_on=paid_on,
                recorded_at=tx.now,
            )
            .returning(Payment.id)
        ).scalar_one()
        return Outcome(
            "payment",
            str(payment_id),
            before={"line_id": line_id, "paid_yuan": yuan(paid)},
            after={
                "payment_id": payment_id,
                "line_id": line_id,
                "lot": line.lot,
                "project": line.project,
                "owner": line.owner,
                "parcel": line.parcel,
                "amount_yuan": yuan(amount),
                "bank_reference": reference,
                "paid_on": paid_on.isoformat(),
                "due_yuan": yuan(due),
                "paid_yuan": yuan(paid + amount),
                "outstanding_yuan": yuan(remaining - amount),
            },
        )

    return registry.execute(
        "record_payment",
        actor=actor,
        request={
            "line_id": line_id,
            "amount": yuan(amount),
            "bank_reference": reference,
            "paid_on": paid_on,
        },
        body=body,
        idempotency_key=idempotency_key,
    )


def distribution_statement(
    registry: Registry,
    *,
    lot: str | None = None,
    owner: str | None = None,
    cooperative: str | None = None,
) -> dict[str, Any]:
    """Amounts due, paid and outstanding per owner and parcel (optionally one lot, one owner,
    and only the lines of one cooperative's contracts).

    Each parcel lists its lines (one per settled lot) so a payment can name its ``line_id``.
    """
    paid = (
        select(Payment.line_id, func.sum(Payment.amount_fen).label("paid_fen"))
        .group_by(Payment.line_id)
        .subquery()
    )
    query = (
        select(
            DistributionLine.id,
            DistributionLine.amount_fen,
            func.coalesce(paid.c.paid_fen, 0).label("paid_fen"),
            Party.code.label("owner"),
            Party.name.label("owner_name"),
            Parcel.code.label("parcel"),
            CollectionContract.code.label("contract"),
            TradingLot.code.label("lot"),
            TradingLot.settled_on,
        )
        .join(Distribution, Distribution.id == DistributionLine.distribution_id)
        .join(TradingLot, TradingLot.id == Distribution.lot_id)
        .join(Party, Party.id == DistributionLine.owner_party_id)
        .join(Parcel, Parcel.id == DistributionLine.parcel_id)
        .join(CollectionContract, CollectionContract.id == DistributionLine.contract_id)
        .outerjoin(paid, paid.c.line_id == DistributionLine.id)
        .order_by(Party.code, Parcel.code, TradingLot.settled_on, DistributionLine.id)
    )
    with registry.read() as conn:
        if lot is not None:
            if conn.execute(select(TradingLot.id).where(TradingLot.code == lot)).first() is None:
                raise RecordNotFoundError(f"no trading lot {lot!r}", field="lot", lot=lot)
            query = query.where(TradingLot.code == lot)
        if owner is not None:
            lookup.party(conn, owner, "owner")
            query = query.where(Party.code == owner)
        if cooperative is not None:
            coop = lookup.party(conn, cooperative, "cooperative")
            query = query.where(CollectionContract.cooperative_party_id == coop.id)
        rows = conn.execute(query).all()
    owners: dict[str, dict[str, Any]] = {}
    parcels: dict[tuple[str, str], dict[str, Any]] = {}
    totals = {"due": 0, "paid": 0}
    for r in rows:
        due, done = int(r.amount_fen), int(r.paid_fen)
        o = owners.setdefault(
            r.owner, {"owner": r.owner, "name": r.owner_name, "due": 0, "paid": 0, "parcels": []}
        )
        p = parcels.get((r.owner, r.parcel))
        if p is None:
            p = {"parcel": r.parcel, "due": 0, "paid": 0, "lines": []}
            parcels[(r.owner, r.parcel)] = p
            o["parcels"].append(p)
        p["lines"].append(
            {
                "line_id": r.id,
                "lot": r.lot,
                "contract": r.contract,
                "settled_on": r.settled_on.isoformat() if r.settled_on else None,
                **_money(due, done),
            }
        )
        for acc in (o, p, totals):
            acc["due"] += due
            acc["paid"] += done
    return {
        "lot": lot,
        "owner": owner,
        "owners": [
            {
                "owner": o["owner"],
                "name": o["name"],
                **_money(o["due"], o["paid"]),
                "parcels": [
                    {"parcel": p["parcel"], **_money(p["due"], p["paid"]), "lines": p["lines"]}
                    for p in o["parcels"]
                ],
            }
            for o in owners.values()
        ],
        "totals": _money(totals["due"], totals["paid"]),
    }


def _money(due: int, paid: int) -> dict[str, str | None]:
    return {"due_yuan": yuan(due), "paid_yuan": yuan(paid), "outstanding_yuan": yuan(due - paid)}
