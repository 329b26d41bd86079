"""Collection (收储) contracts between a cooperative and a parcel owner.

Modelled on the Anji bamboo carbon-sink collection (registries.md §2.5): a 30-year term, a
collection payment per mu per year (¥16.926 from the previous 30 trading days' ETS price), paid
upfront for each 3-year settlement cycle, and 80 % of the net sale proceeds back to the owners.
Money is kept in integer fen (prices per mu in li, 0.001 yuan) and given as decimal yuan; the
owner's share in basis points.
A contract term is the half-open interval ``[start, end)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update
from sqlalchemy.orm import aliased

from mrv.errors import (
    DuplicateError,
    ForbiddenError,
    InvalidStateError,
    PeriodOverlapError,
    RecordNotFoundError,
    RegistryInputError,
)
from mrv.registry import lookup
from mrv.registry.core import Outcome, Receipt, Registry, Tx
from mrv.registry.journal import timestamp
from mrv.registry.models import (
    CollectionContract,
    ContractParcel,
    Parcel,
    Party,
    PartyRole,
    Project,
    ProjectParcel,
)
from mrv.registry.money import BP_PER_UNIT, FEN, li_to_yuan, share_to_bp, yuan_to_li
from mrv.registry.overlaps import ACTIVE_PROJECT_STATES
from mrv.registry.parcels import OWNER_ROLES
from mrv.registry.parties import REGISTRY_STREAM, check_code

CONTRACT_STATES = ("active", "terminated")


def cycle_payment_yuan(
    area_mu: Decimal | str, yuan_per_mu_year: Decimal | str, years: Decimal | int
) -> Decimal:
    """Upfront payment of one settlement cycle: area × price per mu per year × years, to the fen.

    Anji 大里村: 5,425 mu × ¥16.926 × 3 years = ¥275,470.65 (reported: ¥275,500).
    """
    amount = Decimal(area_mu) * Decimal(yuan_per_mu_year) * Decimal(years)
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year + years, day=28)


def _years_between(start: dt.date, end: dt.date) -> Decimal:
    """Whole years from ``start`` to ``end`` plus the rest as a fraction of the next year."""
    whole = 0
    while _add_years(start, whole + 1) <= end:
        whole += 1
    anchor = _add_years(start, whole)
    rest = Decimal((end - anchor).days) / (_add_years(start, whole + 1) - anchor).days
    return whole + rest


def _contract_row(conn: Connection, code: str) -> Row[Any]:
    row = conn.execute(select(CollectionContract).where(CollectionContract.code == code)).first()
    if row is None:
        raise RecordNotFoundError(f"no contract {code!r}", field="contract", contract=code)
    return row


def _contract_dicts(conn: Connection, *where: Any) -> list[dict[str, Any]]:
    """Contracts matching ``where`` as JSON, ordered by code (two queries in all)."""
    coop = aliased(Party, name="coop")
    owner = aliased(Party, name="owner")
    rows = conn.execute(
        select(CollectionContract, coop.code.label("coop_code"), owner.code.label("owner_code"))
        .join(coop, coop.id == CollectionContract.cooperative_party_id)
        .join(owner, owner.id == CollectionContract.owner_party_id)
        .where(*where)
        .order_by(CollectionContract.code)
    ).all()
    parcels: dict[int, list[Any]] = {r.id: [] for r in rows}
    if rows:
        for p in conn.execute(
            select(ContractParcel.contract_id, Parcel.code, Parcel.area_ha, Parcel.area_mu)
            .join(Parcel, Parcel.id == ContractParcel.parcel_id)
            .where(ContractParcel.contract_id.in_(list(parcels)))
            .order_by(Parcel.code)
        ):
            parcels[p.contract_id].append(p)
    return [
        {
            "code": row.code,
            "cooperative": row.coop_code,
            "owner": row.owner_code,
            "parcels": [p.code for p in parcels[row.id]],
            "start": row.start_date.isoformat(),
            "end": row.end_date.isoformat(),
            "annual_payment_yuan_per_mu": li_to_yuan(row.annual_payment_li_per_mu),
            "settlement_cycle_years": row.settlement_cycle_years,
            "owner_share": str(Decimal(row.owner_share_bp) / BP_PER_UNIT),
            "owner_share_bp": row.owner_share_bp,
            "status": row.status,
            "signed_at": timestamp(row.signed_at),
            "area_ha": round(sum(p.area_ha for p in parcels[row.id]), 6),
            "area_mu": round(sum(p.area_mu for p in parcels[row.id]), 4),
        }
        for row in rows
    ]


def contract_dict(conn: Connection, code: str) -> dict[str, Any]:
    """A contract as JSON: parties, parcels, term, payment, cycle, share, status, areas."""
    found = _contract_dicts(conn, CollectionContract.code == code)
    if not found:
        raise RecordNotFoundError(f"no contract {code!r}", field="contract", contract=code)
    return found[0]


def require_party_role(conn: Connection, code: str, roles: Sequence[str], field: str) -> int:
    """The id of party ``code`` (named by ``field``), which must hold one of ``roles``."""
    party = lookup.party(conn, code, field)
    held = set(conn.execute(select(PartyRole.role).where(PartyRole.party_id == party.id)).scalars())
    if not held & set(roles):
        raise RegistryInputError(
            f"{field} {code!r} must have the role {' or '.join(roles)}", field=field, party=code
        )
    return int(party.id)


def _require_cooperative_actor(tx: Tx, cooperative: str) -> None:
    tx.require_role("cooperative")
    if "admin" not in tx.actor.roles and tx.actor.code != cooperative:
        raise ForbiddenError(
            f"{tx.actor.code} may not act for cooperative {cooperative!r}",
            actor=tx.actor.code,
            cooperative=cooperative,
        )


def create_contract(
    registry: Registry,
    *,
    actor: str,
    code: str,
    cooperative: str,
    owner: str,
    parcels: Sequence[str],
    start: dt.date,
    end: dt.date,
    annual_payment_yuan_per_mu: Decimal | str,
    settlement_cycle_years: int,
    owner_share: Decimal | str,
    idempotency_key: str | None = None,
) -> Receipt:
    """Record a collection contract over some of ``owner``'s parcels (the cooperative or admin).

    Every parcel must belong to ``owner`` and not be an external claim, and may be in only one
    active contract whose term overlaps (terms are ``[start, end)``). The payment must be whole
    li (0.001 yuan) and the share whole basis points (e.g. ``"0.8"`` = 8000 bp, Anji).
    """
    code = check_code(code, "code")
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise RegistryInputError("start and end must be dates", field="start")
    if end <= start:
        raise RegistryInputError(f"the term ends ({end}) before it starts ({start})", field="end")
    payment_li = yuan_to_li(annual_payment_yuan_per_mu, "annual_payment_yuan_per_mu")
    share_bp = share_to_bp(owner_share, "owner_share")
    if (
        isinstance(settlement_cycle_years, bool)
        or not isinstance(settlement_cycle_years, int)
        or settlement_cycle_years < 1
    ):
        raise RegistryInputError(
            "settlement_cycle_years must be a whole number of years ≥ 1",
            field="settlement_cycle_years",
        )
    if _add_years(start, settlement_cycle_years) > end:
        raise RegistryInputError(
            f"a {settlement_cycle_years}-year settlement cycle is longer than the term",
            field="settlement_cycle_years",
        )
    codes = [p.strip() for p in parcels]
    if not codes:
        raise RegistryInputError("a contract needs at least one parcel", field="parcels")
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise RegistryInputError(f"parcel {', '.join(dupes)} listed twice", field="parcels")

    def body(tx: Tx) -> Outcome:
        _require_cooperative_actor(tx, cooperative)
        coop_id = require_party_role(tx.conn, cooperative, ["cooperative"], "cooperative")
        owner_id = require_party_role(tx.conn, owner, OWNER_ROLES, "owner")
        if tx.conn.execute(
            select(CollectionContract.id).where(CollectionContract.code == code)
        ).first():
            raise DuplicateError(f"contract {code!r} already exists", field="code", contract=code)
        owner_party = aliased(Party)
        rows = tx.conn.execute(
            select(Parcel.id, Parcel.code, Parcel.external_scheme, owner_party.code.label("owner"))
            .outerjoin(owner_party, owner_party.id == Parcel.owner_party_id)
            .where(Parcel.code.in_(codes))
        ).all()
        missing = sorted(set(codes) - {r.code for r in rows})
        if missing:
            raise RecordNotFoundError(
                f"no parcel {', '.join(missing)}", field="parcels", parcels=missing
            )
        external = sorted(r.code for r in rows if r.external_scheme is not None)
        if external:
            raise RegistryInputError(
                f"parcel {', '.join(external)} is an external claim, not collectable",
                field="parcels",
                parcels=external,
            )
        foreign = sorted(f"{r.code} (owner {r.owner})" for r in rows if r.owner != owner)
        if foreign:
            raise RegistryInputError(
                f"parcel {', '.join(foreign)} is not owned by {owner}",
                field="parcels",
                owner=owner,
            )
        clash = tx.conn.execute(
            select(
                Parcel.code,
                CollectionContract.code.label("contract"),
                CollectionContract.start_date,
                CollectionContract.end_date,
            )
            .join(ContractParcel, ContractParcel.parcel_id == Parcel.id)
            .join(CollectionContract, CollectionContract.id == ContractParcel.contract_id)
            .where(
                Parcel.code.in_(codes),
                CollectionContract.status == "active",
                CollectionContract.start_date < end,
                CollectionContract.end_date > start,
            )
            .order_by(Parcel.code)
        ).first()
        if clash is not None:
            raise PeriodOverlapError(
                f"parcel {clash.code} is already in active contract {clash.contract} "
                f"({clash.start_date} to {clash.end_date}), which overlaps {start} to {end}",
                field="parcels",
                parcel=clash.code,
                contract=clash.contract,
            )
        contract_id = tx.conn.execute(
            insert(CollectionContract)
            .values(
                code=code,
                cooperative_party_id=coop_id,
                owner_party_id=owner_id,
                start_date=start,
                end_date=end,
                annual_payment_li_per_mu=payment_li,
                settlement_cycle_years=settlement_cycle_years,
                owner_share_bp=share_bp,
                status="active",
                signed_at=tx.now,
            )
            .returning(CollectionContract.id)
        ).scalar_one()
        tx.conn.execute(
            insert(ContractParcel),
            [{"contract_id": contract_id, "parcel_id": r.id} for r in rows],
        )
        return Outcome("contract", code, after=contract_dict(tx.conn, code))

    return registry.execute(
        "create_contract",
        actor=actor,
        request={
            "code": code,
            "cooperative": cooperative,
            "owner": owner,
            "parcels": codes,
            "start": start,
            "end": end,
            "annual_payment_li_per_mu": payment_li,
            "settlement_cycle_years": settlement_cycle_years,
            "owner_share_bp": share_bp,
        },
        body=body,
        stream=REGISTRY_STREAM,
        idempotency_key=idempotency_key,
    )


def terminate_contract(
    registry: Registry,
    *,
    actor: str,
    code: str,
    reason: str,
    on: dt.date | None = None,
    idempotency_key: str | None = None,
) -> Receipt:
    """End an active contract on ``on`` (default: today; never backdated), with a reason.

    The term's end becomes ``on`` (the original end stays in the journal event's ``before``).
    Refused while a draft, public-notice or registered project holds a parcel through it.
    """
    if not reason.strip():
        raise RegistryInputError("a termination needs a reason", field="reason")

    def body(tx: Tx) -> Outcome:
        row = _contract_row(tx.conn, code)
        _require_cooperative_actor(tx, lookup.party_code(tx.conn, row.cooperative_party_id))
        if row.status != "active":
            raise InvalidStateError(
                f"contract {code} is {row.status}; terminating needs it to be active",
                contract=code,
                current=row.status,
                required=["active"],
            )
        day = tx.today if on is None else on
        if day < tx.today:
            raise RegistryInputError(
                f"termination date {day} is before today ({tx.today})", field="on"
            )
        if day <= row.start_date:
            raise RegistryInputError(
                f"termination date {day} must be after the start ({row.start_date})", field="on"
            )
        holders = tx.conn.execute(
            select(Project.code)
            .join(ProjectParcel, ProjectParcel.project_id == Project.id)
            .where(
                ProjectParcel.contract_id == row.id,
                ProjectParcel.active.is_(True),
                Project.status.in_(ACTIVE_PROJECT_STATES),
            )
            .distinct()
            .order_by(Project.code)
        ).scalars()
        held = list(holders)
        if held:
            raise InvalidStateError(
                f"contract {code} backs parcels of project {', '.join(held)}; "
                "reject or deregister the project first",
                contract=code,
                projects=held,
            )
        before = contract_dict(tx.conn, code)
        tx.conn.execute(
            update(CollectionContract)
            .where(CollectionContract.id == row.id)
            .values(status="terminated", end_date=min(day, row.end_date))
        )
        return Outcome(
            "contract", code, before=before, after=contract_dict(tx.conn, code), reason=reason
        )

    return registry.execute(
        "terminate_contract",
        actor=actor,
        request={"code": code, "reason": reason, "on": on},
        body=body,
        stream=REGISTRY_STREAM,
        idempotency_key=idempotency_key,
    )


def get_contract(registry: Registry, code: str) -> dict[str, Any]:
    """One contract (see :func:`contract_dict`)."""
    with registry.read() as conn:
        return contract_dict(conn, code)


def list_contracts(
    registry: Registry,
    *,
    cooperative: str | None = None,
    owner: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    """Contracts ordered by code, optionally of one cooperative, owner or status."""
    with registry.read() as conn:
        where: list[Any] = []
        if cooperative is not None:
            party_id = lookup.party(conn, cooperative, "cooperative").id
            where.append(CollectionContract.cooperative_party_id == party_id)
        if owner is not None:
            party_id = lookup.party(conn, owner, "owner").id
            where.append(CollectionContract.owner_party_id == party_id)
        if status is not None:
            where.append(CollectionContract.status == status)
        return _contract_dicts(conn, *where)


def contract_payments_due(registry: Registry, code: str, as_of: dt.date) -> dict[str, Any]:
    """The upfront collection payment of every settlement cycle and what is due by ``as_of``.

    Cycle *k* starts ``k × settlement_cycle_years`` years after the start and is paid on that
    day (Anji: upfront every 3 years); its payment is area (mu) × yuan/mu/yr × cycle years; a
    last shorter cycle counts whole years plus the rest pro rata by days. ``total_due_yuan``
    sums the cycles starting on or before ``as_of`` (payments made are not recorded here).
    """
    with registry.read() as conn:
        row = _contract_row(conn, code)
        area = conn.execute(
            select(func.coalesce(func.sum(Parcel.area_mu), 0.0))
            .join(ContractParcel, ContractParcel.parcel_id == Parcel.id)
            .where(ContractParcel.contract_id == row.id)
        ).scalar_one()
    area_mu = Decimal(str(round(float(area), 4)))
    price = Decimal(row.annual_payment_li_per_mu) / 1000
    years = row.settlement_cycle_years
    cycles: list[dict[str, Any]] = []
    total = Decimal(0)
    cycle_start: dt.date = row.start_date
    while cycle_start < row.end_date:
        nominal_end = _add_years(cycle_start, years)
        cycle_end = min(nominal_end, row.end_date)
        amount = cycle_payment_yuan(area_mu, price, _years_between(cycle_start, cycle_end))
        due = cycle_start <= as_of
        if due:
            total += amount
        cycles.append(
            {
                "cycle": len(cycles) + 1,
                "start": cycle_start.isoformat(),
                "end": cycle_end.isoformat(),
                "due_on": cycle_start.isoformat(),
                "amount_yuan": str(amount),
                "due": due,
            }
        )
        cycle_start = nominal_end
    return {
        "contract": row.code,
        "as_of": as_of.isoformat(),
        "status": row.status,
        "area_mu": float(area_mu),
        "annual_payment_yuan_per_mu": li_to_yuan(row.annual_payment_li_per_mu),
        "settlement_cycle_years": years,
        "cycles": cycles,
        "total_due_yuan": str(total.quantize(FEN)),
    }
