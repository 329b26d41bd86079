"""Projects: parcels through collection contracts, public notice, registration, deregistration.

State machine (CCER Measures 2023)::

    draft ──start_public_notice──▶ public_notice ──register_project──▶ registered
      │                                 │                                  │
      └────────reject_project───────────┴──▶ rejected        deregister_project ──▶ deregistered

The public notice lasts ``settings.notice_working_days`` working days (20, Art. 12); a project is
registered only after it has ended and every comment has a response. Draft, public-notice and
registered projects hold their parcels (one active project per parcel, enforced by a partial
unique index); rejected and deregistered projects release them. A deregistered project never
re-registers (Art. 16): no transition leaves ``deregistered`` and codes are unique.

Methodology ids and versions are stored as given: :mod:`mrv` must not import
:mod:`methodologies` (dependency direction), and built-in methodologies are found by package
scan rather than entry points, so the CLI/API layer checks them against
``methodologies.registry`` before calling :func:`create_project`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, func, insert, select, update
from sqlalchemy.orm import aliased

from mrv.errors import (
    DuplicateError,
    ForbiddenError,
    InvalidStateError,
    ParcelOverlapError,
    RecordNotFoundError,
    RegistryInputError,
    VerifierConflictError,
)
from mrv.registry import lookup
from mrv.registry.calendar import add_working_days
from mrv.registry.contracts import require_party_role
from mrv.registry.core import Outcome, Receipt, Registry, Tx
from mrv.registry.journal import timestamp
from mrv.registry.lookup import project_stream
from mrv.registry.models import (
    LAND_TYPES,
    CollectionContract,
    ContractParcel,
    NoticeComment,
    Parcel,
    Party,
    Project,
    ProjectParcel,
)
from mrv.registry.overlaps import (
    ACTIVE_PROJECT_STATES,
    find_overlaps,
    lock_overlap_checks,
    overlap_error,
)
from mrv.registry.parties import check_code

MAX_PROJECT_CODE = 32
ParcelSpec = Sequence[tuple[str, str]] | Mapping[str, str]


def _opt_date(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timestamp(value)
    return value.isoformat()


def project_dict(conn: Connection, code: str) -> dict[str, Any]:
    """A project as JSON: parties, methodology, period, status, notice, parcels, comments."""
    row = lookup.project(conn, code)
    owner = aliased(Party, name="owner")
    parcels = conn.execute(
        select(
            Parcel.code,
            owner.code.label("owner"),
            Parcel.land_type,
            Parcel.area_ha,
            Parcel.area_mu,
            CollectionContract.code.label("contract"),
            ProjectParcel.active,
        )
        .join(ProjectParcel, ProjectParcel.parcel_id == Parcel.id)
        .join(CollectionContract, CollectionContract.id == ProjectParcel.contract_id)
        .outerjoin(owner, owner.id == Parcel.owner_party_id)
        .where(ProjectParcel.project_id == row.id)
        .order_by(Parcel.code)
    ).all()
    comments = conn.execute(
        select(NoticeComment).where(NoticeComment.project_id == row.id).order_by(NoticeComment.id)
    ).all()
    return {
        "code": row.code,
        "name": row.name,
        "proponent": lookup.party_code(conn, row.proponent_party_id),
        "validator": lookup.party_code(conn, row.validator_party_id),
        "methodology_id": row.methodology_id,
        "methodology_version": row.methodology_version,
        "land_type": row.land_type,
        "crediting_start": row.crediting_start.isoformat(),
        "crediting_end": row.crediting_end.isoformat(),
        "risk_score": row.risk_score,
        "status": row.status,
        "notice_start": _opt_date(row.notice_start),
        "notice_end": _opt_date(row.notice_end),
        "registered_at": _opt_date(row.registered_at),
        "created_at": timestamp(row.created_at),
        "parcels": [
            {
                "code": p.code,
                "owner": p.owner,
                "land_type": p.land_type,
                "area_ha": p.area_ha,
                "area_mu": p.area_mu,
                "contract": p.contract,
                "active": bool(p.active),
            }
            for p in parcels
        ],
        "area_ha": round(sum(p.area_ha for p in parcels), 6),
        "area_mu": round(sum(p.area_mu for p in parcels), 4),
        "comments": [
            {
                "id": c.id,
                "commenter": c.commenter,
                "comment": c.comment,
                "response": c.response,
                "received_at": timestamp(c.received_at),
            }
            for c in comments
        ],
    }


def _require_state(row: Row[Any], allowed: Sequence[str], action: str) -> None:
    if row.status not in allowed:
        raise InvalidStateError(
            f"project {row.code} is {row.status}; {action} needs it to be {' or '.join(allowed)}",
            project=row.code,
            current=row.status,
            required=list(allowed),
        )


def _require_proponent(tx: Tx, row: Row[Any]) -> None:
    """The actor must be the project's proponent (a cooperative) or an admin."""
    tx.require_role("cooperative")
    if "admin" not in tx.actor.roles and tx.actor.id != row.proponent_party_id:
        raise ForbiddenError(
            f"{tx.actor.code} is not the proponent of project {row.code}",
            actor=tx.actor.code,
            project=row.code,
        )


def _text(value: str, field: str, limit: int | None = None) -> str:
    out = value.strip() if isinstance(value, str) else ""
    if not out:
        raise RegistryInputError(f"{field} must not be empty", field=field)
    if limit is not None and len(out) > limit:
        raise RegistryInputError(f"{field} is longer than {limit} characters", field=field)
    return out


def _parcel_pairs(parcels: ParcelSpec) -> list[tuple[str, str]]:
    items = list(parcels.items()) if isinstance(parcels, Mapping) else list(parcels)
    pairs: list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise RegistryInputError(
                "parcels must be (parcel code, contract code) pairs", field="parcels"
            )
        pairs.append((_text(item[0], "parcels"), _text(item[1], "parcels")))
    if not pairs:
        raise RegistryInputError("a project needs at least one parcel", field="parcels")
    codes = [p for p, _ in pairs]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise RegistryInputError(f"parcel {', '.join(dupes)} listed twice", field="parcels")
    return pairs


def _check_parcels(
    tx: Tx,
    pairs: list[tuple[str, str]],
    *,
    proponent_id: int,
    proponent: str,
    land_type: str,
    crediting_start: dt.date,
    crediting_end: dt.date,
) -> list[dict[str, int]]:
    """Project-parcel rows after checking every parcel, contract and coverage rule."""
    codes = [p for p, _ in pairs]
    parcels = {
        r.code: r
        for r in tx.conn.execute(
            select(Parcel.id, Parcel.code, Parcel.land_type, Parcel.external_scheme).where(
                Parcel.code.in_(codes)
            )
        )
    }
    missing = sorted(set(codes) - set(parcels))
    if missing:
        raise RecordNotFoundError(f"no parcel {', '.join(missing)}", field="parcels")
    external = sorted(c for c in codes if parcels[c].external_scheme is not None)
    if external:
        raise RegistryInputError(
            f"parcel {', '.join(external)} is an external claim", field="parcels"
        )
    other_type = sorted(
        f"{c} ({parcels[c].land_type})" for c in codes if parcels[c].land_type != land_type
    )
    if other_type:
        raise RegistryInputError(
            f"parcel {', '.join(other_type)} is not {land_type} land like the project",
            field="parcels",
        )
    contract_codes = sorted({c for _, c in pairs})
    contracts = {
        r.code: r
        for r in tx.conn.execute(
            select(CollectionContract).where(CollectionContract.code.in_(contract_codes))
        )
    }
    missing = sorted(set(contract_codes) - set(contracts))
    if missing:
        raise RecordNotFoundError(f"no contract {', '.join(missing)}", field="parcels")
    for code in contract_codes:
        c = contracts[code]
        if c.status != "active":
            raise InvalidStateError(
                f"contract {code} is {c.status}; a project needs active contracts",
                contract=code,
                current=c.status,
                required=["active"],
            )
        if c.cooperative_party_id != proponent_id:
            raise ForbiddenError(
                f"contract {code} is not with the proponent {proponent}",
                contract=code,
                proponent=proponent,
            )
        if not (c.start_date < crediting_end and crediting_start < c.end_date):
            raise RegistryInputError(
                f"contract {code} ({c.start_date} to {c.end_date}) does not overlap the "
                f"crediting period {crediting_start} to {crediting_end}",
                field="parcels",
                contract=code,
            )
    covered = {
        (int(row[0]), int(row[1]))
        for row in tx.conn.execute(
            select(ContractParcel.contract_id, ContractParcel.parcel_id).where(
                ContractParcel.contract_id.in_([c.id for c in contracts.values()]),
                ContractParcel.parcel_id.in_([p.id for p in parcels.values()]),
            )
        )
    }
    uncovered = [f"{p} ({c})" for p, c in pairs if (contracts[c].id, parcels[p].id) not in covered]
    if uncovered:
        raise RegistryInputError(
            f"parcel {', '.join(uncovered)} is not covered by that contract", field="parcels"
        )
    return [{"parcel_id": parcels[p].id, "contract_id": contracts[c].id} for p, c in pairs]


def _check_free(tx: Tx, code: str, parcel_ids: list[int]) -> None:
    """Refuse parcels held by another active project or overlapping one or an external claim."""
    held = tx.conn.execute(
        select(Parcel.code, Project.code.label("project"), Project.status)
        .join(ProjectParcel, ProjectParcel.parcel_id == Parcel.id)
        .join(Project, Project.id == ProjectParcel.project_id)
        .where(
            ProjectParcel.parcel_id.in_(parcel_ids),
            ProjectParcel.active.is_(True),
            Project.status.in_(ACTIVE_PROJECT_STATES),
        )
        .order_by(Parcel.code)
    ).all()
    if held:
        named = "; ".join(f"parcel {h.code} is in project {h.project} ({h.status})" for h in held)
        raise ParcelOverlapError(
            f"project {code} is refused: {named}",
            parcels=[h.code for h in held],
            projects=sorted({h.project for h in held}),
        )
    overlaps = find_overlaps(tx.conn, parcel_ids, against="active_projects_and_claims")
    if overlaps:
        raise overlap_error(overlaps, f"project {code} is refused")


def create_project(
    registry: Registry,
    *,
    actor: str,
    code: str,
    name: str,
    proponent: str,
    validator: str,
    methodology_id: str,
    methodology_version: str,
    land_type: str,
    crediting_start: dt.date,
    crediting_end: dt.date,
    risk_score: int,
    parcels: ParcelSpec,
    idempotency_key: str | None = None,
) -> Receipt:
    """Create a draft project over parcels, each through an active contract of the proponent.

    The validator is a verifier other than the proponent (CCER Art. 18 keeps the verifier apart
    from it later). Each contract must cover its parcel and overlap the crediting period; each
    parcel must be of the project's land type, not be held by another draft, public-notice or
    registered project, and not overlap such a project's parcels or an external claim by more
    than :data:`~mrv.registry.overlaps.OVERLAP_TOLERANCE_HA` (uniqueness, Art. 10 and 48).
    """
    code = check_code(code, "code")
    if len(code) > MAX_PROJECT_CODE:
        raise RegistryInputError(
            f"project code {code!r} is longer than {MAX_PROJECT_CODE} characters", field="code"
        )
    name = _text(name, "name", 200)
    methodology_id = _text(methodology_id, "methodology_id", 64)
    methodology_version = _text(methodology_version, "methodology_version", 32)
    if land_type not in LAND_TYPES:
        raise RegistryInputError(
            f"unknown land type {land_type!r} (known: {', '.join(LAND_TYPES)})", field="land_type"
        )
    if not isinstance(crediting_start, dt.date) or not isinstance(crediting_end, dt.date):
        raise RegistryInputError("the crediting period needs dates", field="crediting_start")
    if crediting_end <= crediting_start:
        raise RegistryInputError(
            f"the crediting period ends ({crediting_end}) before it starts ({crediting_start})",
            field="crediting_end",
        )
    if (
        isinstance(risk_score, bool)
        or not isinstance(risk_score, int)
        or not 0 <= risk_score <= 100
    ):
        raise RegistryInputError("risk_score must be a whole number 0–100", field="risk_score")
    pairs = _parcel_pairs(parcels)
    if validator == proponent:
        raise VerifierConflictError(
            f"the validator {validator} cannot be the proponent", field="validator"
        )

    def body(tx: Tx) -> Outcome:
        tx.require_role("cooperative")
        if "admin" not in tx.actor.roles and tx.actor.code != proponent:
            raise ForbiddenError(
                f"{tx.actor.code} may not propose a project for {proponent}",
                actor=tx.actor.code,
                proponent=proponent,
            )
        proponent_id = require_party_role(tx.conn, proponent, ["cooperative"], "proponent")
        validator_id = require_party_role(tx.conn, validator, ["verifier"], "validator")
        if tx.conn.execute(select(Project.id).where(Project.code == code)).first():
            raise DuplicateError(f"project {code!r} already exists", field="code", project=code)
        lock_overlap_checks(tx.conn)
        rows = _check_parcels(
            tx,
            pairs,
            proponent_id=proponent_id,
            proponent=proponent,
            land_type=land_type,
            crediting_start=crediting_start,
            crediting_end=crediting_end,
        )
        _check_free(tx, code, [r["parcel_id"] for r in rows])
        project_id = tx.conn.execute(
            insert(Project)
            .values(
                code=code,
                name=name,
                proponent_party_id=proponent_id,
                validator_party_id=validator_id,
                methodology_id=methodology_id,
                methodology_version=methodology_version,
                land_type=land_type,
                crediting_start=crediting_start,
                crediting_end=crediting_end,
                risk_score=risk_score,
                status="draft",
                created_at=tx.now,
            )
            .returning(Project.id)
        ).scalar_one()
        tx.conn.execute(
            insert(ProjectParcel), [{**r, "project_id": project_id, "active": True} for r in rows]
        )
        return Outcome("project", code, after=project_dict(tx.conn, code))

    return registry.execute(
        "create_project",
        actor=actor,
        request={
            "code": code,
            "name": name,
            "proponent": proponent,
            "validator": validator,
            "methodology_id": methodology_id,
            "methodology_version": methodology_version,
            "land_type": land_type,
            "crediting_start": crediting_start,
            "crediting_end": crediting_end,
            "risk_score": risk_score,
            "parcels": [list(p) for p in pairs],
        },
        body=body,
        stream=project_stream(code),
        idempotency_key=idempotency_key,
    )


def _transition(
    registry: Registry,
    operation: str,
    *,
    actor: str,
    project: str,
    request: dict[str, Any],
    step: Any,
    reason: str | None = None,
    idempotency_key: str | None,
) -> Receipt:
    """Run ``step(tx, row)`` (checks and updates) on a project and journal before/after."""

    def body(tx: Tx) -> Outcome:
        row = lookup.project(tx.conn, project)
        before = {
            "status": row.status,
            "notice_start": _opt_date(row.notice_start),
            "notice_end": _opt_date(row.notice_end),
        }
        step(tx, row)
        return Outcome(
            "project", project, before=before, after=project_dict(tx.conn, project), reason=reason
        )

    return registry.execute(
        operation,
        actor=actor,
        request={"project": project, **request},
        body=body,
        stream=project_stream(project),
        idempotency_key=idempotency_key,
    )


def start_public_notice(
    registry: Registry,
    *,
    actor: str,
    project: str,
    start: dt.date | None = None,
    idempotency_key: str | None = None,
) -> Receipt:
    """Put a draft project on public notice from ``start`` (default today; never backdated).

    The notice ends ``settings.notice_working_days`` working days after ``start`` (CCER
    Measures Art. 12: 20 working days; see :func:`mrv.registry.calendar.add_working_days`).
    Only the proponent (or an admin) may start it.
    """

    def step(tx: Tx, row: Row[Any]) -> None:
        _require_proponent(tx, row)
        _require_state(row, ["draft"], "starting the public notice")
        day = start or tx.today
        if day < tx.today:
            raise RegistryInputError(
                f"the notice cannot start before today ({day} < {tx.today})", field="start"
            )
        end = add_working_days(day, tx.settings.notice_working_days)
        tx.conn.execute(
            update(Project)
            .where(Project.id == row.id)
            .values(status="public_notice", notice_start=day, notice_end=end)
        )

    return _transition(
        registry,
        "start_public_notice",
        actor=actor,
        project=project,
        request={"start": start},
        step=step,
        idempotency_key=idempotency_key,
    )


def add_notice_comment(
    registry: Registry,
    *,
    actor: str,
    project: str,
    comment: str,
    commenter: str | None = None,
    idempotency_key: str | None = None,
) -> Receipt:
    """Record a comment on a project during its public notice (any party may record one).

    ``commenter`` names who commented (default: the actor), e.g. a villager whose comment the
    bureau records. Comments are accepted from the first to the last day of the notice.
    """
    text = _text(comment, "comment")
    who = _text(commenter if commenter is not None else actor, "commenter", 200)

    def body(tx: Tx) -> Outcome:
        row = lookup.project(tx.conn, project)
        _require_state(row, ["public_notice"], "commenting")
        if not row.notice_start <= tx.today <= row.notice_end:
            raise InvalidStateError(
                f"the public notice of project {project} runs from {row.notice_start} to "
                f"{row.notice_end}; today is {tx.today}",
                project=project,
                notice_start=row.notice_start.isoformat(),
                notice_end=row.notice_end.isoformat(),
            )
        comment_id = tx.conn.execute(
            insert(NoticeComment)
            .values(project_id=row.id, commenter=who, comment=text, received_at=tx.now)
            .returning(NoticeComment.id)
        ).scalar_one()
        after = {"project": project, "comment_id": comment_id, "commenter": who, "comment": text}
        return Outcome("notice_comment", f"{project}#{comment_id}", after=after)

    return registry.execute(
        "add_notice_comment",
        actor=actor,
        request={"project": project, "comment": text, "commenter": who},
        body=body,
        stream=project_stream(project),
        idempotency_key=idempotency_key,
    )


def respond_to_comment(
    registry: Registry,
    *,
    actor: str,
    project: str,
    comment_id: int,
    response: str,
    idempotency_key: str | None = None,
) -> Receipt:
    """The proponent's response to a notice comment (once; needed before registration)."""
    text = _text(response, "response")
    if isinstance(comment_id, bool) or not isinstance(comment_id, int):
        raise RegistryInputError("comment_id must be an integer", field="comment_id")

    def body(tx: Tx) -> Outcome:
        row = lookup.project(tx.conn, project)
        _require_proponent(tx, row)
        _require_state(row, ["public_notice"], "responding to a comment")
        found = tx.conn.execute(
            select(NoticeComment).where(
                NoticeComment.id == comment_id, NoticeComment.project_id == row.id
            )
        ).first()
        if found is None:
            raise RecordNotFoundError(
                f"project {project} has no comment {comment_id}",
                field="comment_id",
                project=project,
            )
        if found.response is not None:
            raise InvalidStateError(
                f"comment {comment_id} of project {project} already has a response",
                project=project,
                comment_id=comment_id,
            )
        tx.conn.execute(
            update(NoticeComment).where(NoticeComment.id == comment_id).values(response=text)
        )
        after = {
            "project": project,
            "comment_id": comment_id,
            "commenter": found.commenter,
            "comment": found.comment,
            "response": text,
        }
        return Outcome("notice_comment", f"{project}#{comment_id}", after=after)

    return registry.execute(
        "respond_to_comment",
        actor=actor,
        request={"project": project, "comment_id": comment_id, "response": text},
        body=body,
        stream=project_stream(project),
        idempotency_key=idempotency_key,
    )


def register_project(
    registry: Registry, *, actor: str, project: str, idempotency_key: str | None = None
) -> Receipt:
    """Register a project (admins): after its public notice has ended, every comment answered.

    A notice of n working days ends at the end of its n-th working day, so registration is
    possible from the next day; a zero-day notice (``MRV_NOTICE_WORKING_DAYS=0``, for demos and
    pilots without a notice) allows registration on the day it started.
    """

    def step(tx: Tx, row: Row[Any]) -> None:
        tx.require_role("admin")
        _require_state(row, ["public_notice"], "registration")
        zero_day = row.notice_end == row.notice_start and tx.today >= row.notice_end
        if not (tx.today > row.notice_end or zero_day):
            raise InvalidStateError(
                f"the public notice of project {project} ends on {row.notice_end}; "
                f"registration is possible from the next day (today is {tx.today})",
                project=project,
                notice_end=row.notice_end.isoformat(),
            )
        open_ids = list(
            tx.conn.execute(
                select(NoticeComment.id)
                .where(NoticeComment.project_id == row.id, NoticeComment.response.is_(None))
                .order_by(NoticeComment.id)
            ).scalars()
        )
        if open_ids:
            raise InvalidStateError(
                f"project {project} has comments without a response: "
                f"{', '.join(str(i) for i in open_ids)}",
                project=project,
                comment_ids=open_ids,
            )
        tx.conn.execute(
            update(Project)
            .where(Project.id == row.id)
            .values(status="registered", registered_at=tx.now)
        )

    return _transition(
        registry,
        "register_project",
        actor=actor,
        project=project,
        request={},
        step=step,
        idempotency_key=idempotency_key,
    )


def _release(tx: Tx, row: Row[Any], status: str) -> None:
    tx.conn.execute(update(Project).where(Project.id == row.id).values(status=status))
    tx.conn.execute(
        update(ProjectParcel).where(ProjectParcel.project_id == row.id).values(active=False)
    )


def reject_project(
    registry: Registry,
    *,
    actor: str,
    project: str,
    reason: str,
    idempotency_key: str | None = None,
) -> Receipt:
    """Reject a draft or public-notice project (admins); its parcels are released."""
    why = _text(reason, "reason")

    def step(tx: Tx, row: Row[Any]) -> None:
        tx.require_role("admin")
        _require_state(row, ["draft", "public_notice"], "rejection")
        _release(tx, row, "rejected")

    return _transition(
        registry,
        "reject_project",
        actor=actor,
        project=project,
        request={"reason": why},
        step=step,
        reason=why,
        idempotency_key=idempotency_key,
    )


def deregister_project(
    registry: Registry,
    *,
    actor: str,
    project: str,
    reason: str,
    idempotency_key: str | None = None,
) -> Receipt:
    """Deregister a registered project (admins); final, it never re-registers (CCER Art. 16).

    Its parcels are released. Credits already issued stay where they are; cancelling them is a
    separate operation.
    """
    why = _text(reason, "reason")

    def step(tx: Tx, row: Row[Any]) -> None:
        tx.require_role("admin")
        _require_state(row, ["registered"], "deregistration")
        _release(tx, row, "deregistered")

    return _transition(
        registry,
        "deregister_project",
        actor=actor,
        project=project,
        request={"reason": why},
        step=step,
        reason=why,
        idempotency_key=idempotency_key,
    )


def get_project(registry: Registry, code: str) -> dict[str, Any]:
    """One project (see :func:`project_dict`)."""
    with registry.read() as conn:
        return project_dict(conn, code)


def list_projects(
    registry: Registry, *, status: str | None = None, proponent: str | None = None
) -> list[dict[str, Any]]:
    """Projects ordered by code with parcel counts and areas (held parcels only)."""
    proponent_party = aliased(Party, name="proponent")
    validator_party = aliased(Party, name="validator")
    held = and_(ProjectParcel.project_id == Project.id, ProjectParcel.active.is_(True))
    query = (
        select(
            Project.code,
            Project.name,
            Project.status,
            proponent_party.code.label("proponent"),
            validator_party.code.label("validator"),
            Project.methodology_id,
            Project.methodology_version,
            Project.land_type,
            Project.crediting_start,
            Project.crediting_end,
            Project.notice_start,
            Project.notice_end,
            func.count(Parcel.id).label("parcel_count"),
            func.coalesce(func.sum(Parcel.area_ha), 0.0).label("area_ha"),
            func.coalesce(func.sum(Parcel.area_mu), 0.0).label("area_mu"),
        )
        .join(proponent_party, proponent_party.id == Project.proponent_party_id)
        .join(validator_party, validator_party.id == Project.validator_party_id)
        .outerjoin(ProjectParcel, held)
        .outerjoin(Parcel, Parcel.id == ProjectParcel.parcel_id)
        .group_by(Project.id, proponent_party.code, validator_party.code)
        .order_by(Project.code)
    )
    if status is not None:
        query = query.where(Project.status == status)
    if proponent is not None:
        query = query.where(proponent_party.code == proponent)
    with registry.read() as conn:
        rows = conn.execute(query).all()
    return [
        {
            **{k: v for k, v in row._mapping.items() if k not in ("area_ha", "area_mu")},
            "crediting_start": row.crediting_start.isoformat(),
            "crediting_end": row.crediting_end.isoformat(),
            "notice_start": _opt_date(row.notice_start),
            "notice_end": _opt_date(row.notice_end),
            "area_ha": round(float(row.area_ha), 6),
            "area_mu": round(float(row.area_mu), 4),
        }
        for row in rows
    ]
