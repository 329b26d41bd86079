"""Verification of a monitoring report: verifier assignment, findings and the statement.

CCER Measures Art. 18: the verifier (核查机构) must not be the body that validated the project;
we also refuse any party to the project — its proponent, an owner of one of its parcels, or a
cooperative or owner of a contract covering them (registries.md §3.3). Findings follow the
VVB practice: corrective action requests (CAR) and clarifications (CL) must be closed before
the statement; forward action requests (FAR) may stay open and carry to the next period.
A positive statement makes the report 'verified' with at most the claimed tonnes; a negative
one makes it 'rejected', which frees its period for a new report.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Connection, Row, func, insert, or_, select, update

from mrv.errors import (
    ForbiddenError,
    InvalidStateError,
    RecordNotFoundError,
    RegistryInputError,
    VerifierConflictError,
)
from mrv.registry import lookup
from mrv.registry.core import Outcome, Receipt, Registry, Tx
from mrv.registry.journal import jsonable
from mrv.registry.lookup import project_stream
from mrv.registry.models import (
    FINDING_KINDS,
    CollectionContract,
    ContractParcel,
    Finding,
    MonitoringReport,
    Parcel,
    Party,
    PartyRole,
    Project,
    ProjectParcel,
    Verification,
)
from mrv.registry.monitoring import (
    check_text,
    check_tonnes,
    report_row,
    require_proponent,
)

FindingKind = Literal["CAR", "CL", "FAR"]
Opinion = Literal["positive", "negative"]
AnyRow = Row[*tuple[Any, ...]]
BLOCKING_KINDS = ("CAR", "CL")
"""Finding kinds that must be closed before a statement; FARs carry to the next period."""


def _finding_dict(row: Row[Any]) -> dict[str, Any]:
    return dict(
        jsonable(
            {
                "id": row.id,
                "kind": row.kind,
                "text": row.text,
                "status": row.status,
                "response": row.response,
                "opened_at": row.opened_at,
                "closed_at": row.closed_at,
            }
        )
    )


def _verification_row(conn: Connection, report: Row[Any], project: str) -> AnyRow:
    row = conn.execute(
        select(Verification, Party.code.label("verifier"))
        .join(Party, Party.id == Verification.verifier_party_id)
        .where(Verification.report_id == report.id)
    ).first()
    if row is None:
        raise InvalidStateError(
            f"report {project}/{report.seq} has no verifier assigned",
            field="report_seq",
            project=project,
            report_seq=int(report.seq),
        )
    return row


def _verification_dict(conn: Connection, project: str, report_seq: int) -> dict[str, Any]:
    proj = lookup.project(conn, project)
    report = report_row(conn, proj, report_seq)
    row = _verification_row(conn, report, project)
    findings = conn.execute(
        select(Finding).where(Finding.verification_id == row.id).order_by(Finding.id)
    ).all()
    return dict(
        jsonable(
            {
                "project": project,
                "report_seq": report_seq,
                "report_status": report.status,
                "claimed_tco2e": int(report.claimed_tco2e),
                "verifier": row.verifier,
                "status": row.status,
                "verified_tco2e": row.verified_tco2e,
                "statement": row.statement,
                "statement_at": row.statement_at,
                "assigned_at": row.assigned_at,
                "findings": [_finding_dict(f) for f in findings],
            }
        )
    )


def _conflict(tx: Tx, project: Row[Any], verifier: Row[Any]) -> str | None:
    """Why ``verifier`` may not verify ``project`` (CCER Art. 18 and independence), or None."""
    if verifier.id == project.validator_party_id:
        return f"{verifier.code} validated project {project.code} (CCER Measures Art. 18)"
    if verifier.id == project.proponent_party_id:
        return f"{verifier.code} is the proponent of project {project.code}"
    project_parcels = select(ProjectParcel.parcel_id).where(ProjectParcel.project_id == project.id)
    owned = (
        tx.conn.execute(
            select(Parcel.code)
            .where(Parcel.id.in_(project_parcels), Parcel.owner_party_id == verifier.id)
            .order_by(Parcel.code)
        )
        .scalars()
        .all()
    )
    if owned:
        return f"{verifier.code} owns parcel {', '.join(owned)} of project {project.code}"
    contract_ids = select(ProjectParcel.contract_id).where(ProjectParcel.project_id == project.id)
    covering = select(ContractParcel.contract_id).where(
        ContractParcel.parcel_id.in_(project_parcels)
    )
    contracts = (
        tx.conn.execute(
            select(CollectionContract.code)
            .where(
                or_(CollectionContract.id.in_(contract_ids), CollectionContract.id.in_(covering)),
                or_(
                    CollectionContract.cooperative_party_id == verifier.id,
                    CollectionContract.owner_party_id == verifier.id,
                ),
            )
            .order_by(CollectionContract.code)
        )
        .scalars()
        .all()
    )
    if contracts:
        return (
            f"{verifier.code} is a party to collection contract {', '.join(contracts)} "
            f"of project {project.code}"
        )
    return None


def assign_verifier(
    registry: Registry,
    *,
    actor: str,
    project: str,
    report_seq: int,
    verifier: str,
    idempotency_key: str | None = None,
) -> Receipt:
    """Assign an independent verifier to a submitted report (admin or bureau).

    The verifier must hold the role 'verifier' and be neither the project's validator (CCER
    Measures Art. 18) nor a party to the project; the report goes 'under_verification'.
    """
    seq = _check_seq(report_seq)

    def body(tx: Tx) -> Outcome:
        tx.require_role("bureau")
        proj = lookup.project(tx.conn, project)
        report = report_row(tx.conn, proj, seq)
        if report.status != "submitted":
            raise InvalidStateError(
                f"report {project}/{seq} is {report.status}; a verifier is assigned to a "
                "submitted report only",
                field="report_seq",
                status=report.status,
            )
        party = lookup.party(tx.conn, verifier, field="verifier")
        roles = set(
            tx.conn.execute(select(PartyRole.role).where(PartyRole.party_id == party.id)).scalars()
        )
        if "verifier" not in roles:
            raise RegistryInputError(
                f"{verifier} is not a verifier (roles: {', '.join(sorted(roles)) or 'none'})",
                field="verifier",
                verifier=verifier,
            )
        reason = _conflict(tx, proj, party)
        if reason is not None:
            raise VerifierConflictError(
                f"{verifier} may not verify report {project}/{seq}: {reason}",
                field="verifier",
                verifier=verifier,
                project=project,
                reason=reason,
            )
        tx.conn.execute(
            insert(Verification).values(
                report_id=report.id,
                verifier_party_id=party.id,
                status="assigned",
                assigned_at=tx.now,
            )
        )
        tx.conn.execute(
            update(MonitoringReport)
            .where(MonitoringReport.id == report.id)
            .values(status="under_verification")
        )
        return Outcome(
            "verification",
            f"{project}/{seq}",
            before={"report_status": "submitted"},
            after=_verification_dict(tx.conn, project, seq),
        )

    return registry.execute(
        "assign_verifier",
        actor=actor,
        request={"project": project, "report_seq": seq, "verifier": verifier},
        body=body,
        stream=project_stream(project),
        idempotency_key=idempotency_key,
    )


def _check_seq(value: object) -> int:
    if type(value) is not int or value <= 0:
        raise RegistryInputError(
            f"report_seq must be a positive integer, got {value!r}", field="report_seq"
        )
    return value


def _require_verifier(tx: Tx, verification: Row[Any], what: str) -> None:
    """Only the assigned verifier acts on its verification (not even an admin)."""
    if tx.actor.id != verification.verifier_party_id:
        raise ForbiddenError(
            f"{tx.actor.code} is not the assigned verifier ({verification.verifier}) of {what}",
            actor=tx.actor.code,
            verifier=verification.verifier,
        )


def _require_open_verification(verification: Row[Any], what: str) -> None:
    if verification.status != "assigned":
        raise InvalidStateError(
            f"the verification of {what} is concluded ({verification.status})",
            status=verification.status,
        )


def open_finding(
    registry: Registry,
    *,
    actor: str,
    project: str,
    report_seq: int,
    kind: FindingKind,
    text: str,
    idempotency_key: str | None = None,
) -> Receipt:
    """Open a CAR, CL or FAR on a report under verification (the assigned verifier only)."""
    seq = _check_seq(report_seq)
    if kind not in FINDING_KINDS:
        raise RegistryInputError(
            f"finding kind must be one of {', '.join(FINDING_KINDS)}, got {kind!r}", field="kind"
        )
    body_text = check_text(text, "text")

    def body(tx: Tx) -> Outcome:
        proj = lookup.project(tx.conn, project)
        report = report_row(tx.conn, proj, seq)
        verification = _verification_row(tx.conn, report, project)
        _require_verifier(tx, verification, f"report {project}/{seq}")
        _require_open_verification(verification, f"report {project}/{seq}")
        finding_id = tx.conn.execute(
            insert(Finding)
            .values(
                verification_id=verification.id,
                kind=kind,
                text=body_text,
                status="open",
                opened_at=tx.now,
            )
            .returning(Finding.id)
        ).scalar_one()
        row = tx.conn.execute(select(Finding).where(Finding.id == finding_id)).one()
        after = {"project": project, "report_seq": seq, **_finding_dict(row)}
        return Outcome("finding", str(finding_id), after=after)

    return registry.execute(
        "open_finding",
        actor=actor,
        request={"project": project, "report_seq": seq, "kind": kind, "text": body_text},
        body=body,
        stream=project_stream(project),
        idempotency_key=idempotency_key,
    )


def _locked_finding(tx: Tx, finding_id: int) -> tuple[AnyRow, AnyRow, AnyRow, str]:
    """Finding, its verification, its project and the report label; locks the project stream."""
    ref = tx.conn.execute(
        select(Project.code)
        .select_from(Finding)
        .join(Verification, Verification.id == Finding.verification_id)
        .join(MonitoringReport, MonitoringReport.id == Verification.report_id)
        .join(Project, Project.id == MonitoringReport.project_id)
        .where(Finding.id == finding_id)
    ).first()
    if ref is None:
        raise RecordNotFoundError(
            f"no finding {finding_id}", field="finding_id", finding_id=finding_id
        )
    tx.lock_stream(project_stream(ref.code))  # then read the current state under the lock
    finding = tx.conn.execute(select(Finding).where(Finding.id == finding_id)).one()
    verification = tx.conn.execute(
        select(Verification, Party.code.label("verifier"), MonitoringReport.seq.label("seq"))
        .join(Party, Party.id == Verification.verifier_party_id)
        .join(MonitoringReport, MonitoringReport.id == Verification.report_id)
        .where(Verification.id == finding.verification_id)
    ).one()
    project = lookup.project(tx.conn, ref.code)
    return finding, verification, project, f"{ref.code}/{verification.seq}"


def _check_finding_id(value: object) -> int:
    if type(value) is not int or value <= 0:
        raise RegistryInputError(
            f"finding_id must be a positive integer, got {value!r}", field="finding_id"
        )
    return value


def respond_to_finding(
    registry: Registry,
    *,
    actor: str,
    finding_id: int,
    response: str,
    idempotency_key: str | None = None,
) -> Receipt:
    """The proponent's response to an open finding; it becomes 'responded'."""
    fid = _check_finding_id(finding_id)
    answer = check_text(response, "response")

    def body(tx: Tx) -> Outcome:
        finding, _verification, project, label = _locked_finding(tx, fid)
        require_proponent(tx, project, admin=False)
        if finding.status != "open":
            raise InvalidStateError(
                f"finding {fid} ({finding.kind}) of report {label} is {finding.status}; "
                "only an open finding takes a response",
                field="finding_id",
                status=finding.status,
            )
        tx.conn.execute(
            update(Finding).where(Finding.id == fid).values(status="responded", response=answer)
        )
        row = tx.conn.execute(select(Finding).where(Finding.id == fid)).one()
        return Outcome(
            "finding",
            str(fid),
            before=_finding_dict(finding),
            after={"report": label, **_finding_dict(row)},
        )

    return registry.execute(
        "respond_to_finding",
        actor=actor,
        request={"finding_id": fid, "response": answer},
        body=body,
        idempotency_key=idempotency_key,
    )


def close_finding(
    registry: Registry, *, actor: str, finding_id: int, idempotency_key: str | None = None
) -> Receipt:
    """Close a finding (the assigned verifier): a CAR or CL once responded, a FAR at any time."""
    fid = _check_finding_id(finding_id)

    def body(tx: Tx) -> Outcome:
        finding, verification, _project, label = _locked_finding(tx, fid)
        _require_verifier(tx, verification, f"report {label}")
        allowed = ("responded",) if finding.kind in BLOCKING_KINDS else ("open", "responded")
        if finding.status not in allowed:
            raise InvalidStateError(
                f"finding {fid} ({finding.kind}) of report {label} is {finding.status}; "
                f"a {finding.kind} is closed from {' or '.join(allowed)} only",
                field="finding_id",
                status=finding.status,
            )
        tx.conn.execute(
            update(Finding).where(Finding.id == fid).values(status="closed", closed_at=tx.now)
        )
        row = tx.conn.execute(select(Finding).where(Finding.id == fid)).one()
        return Outcome(
            "finding",
            str(fid),
            before=_finding_dict(finding),
            after={"report": label, **_finding_dict(row)},
        )

    return registry.execute(
        "close_finding",
        actor=actor,
        request={"finding_id": fid},
        body=body,
        idempotency_key=idempotency_key,
    )


def issue_statement(
    registry: Registry,
    *,
    actor: str,
    project: str,
    report_seq: int,
    opinion: Opinion,
    verified_tco2e: int | None,
    statement: str,
    idempotency_key: str | None = None,
) -> Receipt:
    """The verifier's statement (CCER Measures Art. 18): positive with verified tonnes or negative.

    A positive opinion is refused while a CAR or CL is not closed; it verifies 0 < tonnes <=
    claimed and makes the report 'verified'. A negative one (no tonnes) makes it 'rejected' and
    may be given with findings still open (often the reason for it). Open FARs carry to the next
    period and are listed in the result.
    """
    seq = _check_seq(report_seq)
    if opinion not in ("positive", "negative"):
        raise RegistryInputError(
            f"opinion must be positive or negative, got {opinion!r}", field="opinion"
        )
    if opinion == "positive":
        verified: int | None = check_tonnes(verified_tco2e, "verified_tco2e")
    elif verified_tco2e is not None:
        raise RegistryInputError(
            "a negative opinion verifies no tonnes: verified_tco2e must be None",
            field="verified_tco2e",
        )
    else:
        verified = None
    words = check_text(statement, "statement")

    def body(tx: Tx) -> Outcome:
        proj = lookup.project(tx.conn, project)
        report = report_row(tx.conn, proj, seq)
        verification = _verification_row(tx.conn, report, project)
        label = f"report {project}/{seq}"
        _require_verifier(tx, verification, label)
        _require_open_verification(verification, label)
        blocking = tx.conn.execute(
            select(Finding.id, Finding.kind, Finding.status)
            .where(
                Finding.verification_id == verification.id,
                Finding.kind.in_(BLOCKING_KINDS),
                Finding.status != "closed",
            )
            .order_by(Finding.id)
        ).all()
        if blocking and opinion == "positive":
            names = ", ".join(f"{f.kind} {f.id} ({f.status})" for f in blocking)
            raise InvalidStateError(
                f"{label} has findings not closed: {names}; close every CAR and CL first",
                field="opinion",
                findings=[int(f.id) for f in blocking],
            )
        claimed = int(report.claimed_tco2e)
        if verified is not None and verified > claimed:
            raise RegistryInputError(
                f"verified_tco2e {verified} exceeds claimed_tco2e {claimed} of {label}",
                field="verified_tco2e",
                verified_tco2e=verified,
                claimed_tco2e=claimed,
            )
        before = _verification_dict(tx.conn, project, seq)
        before.pop("findings")
        tx.conn.execute(
            update(Verification)
            .where(Verification.id == verification.id)
            .values(status=opinion, verified_tco2e=verified, statement=words, statement_at=tx.now)
        )
        tx.conn.execute(
            update(MonitoringReport)
            .where(MonitoringReport.id == report.id)
            .values(status="verified" if opinion == "positive" else "rejected")
        )
        after = _verification_dict(tx.conn, project, seq)
        after["carried_forward"] = [
            f for f in after["findings"] if f["kind"] == "FAR" and f["status"] != "closed"
        ]
        return Outcome("verification", f"{project}/{seq}", before=before, after=after)

    return registry.execute(
        "issue_statement",
        actor=actor,
        request={
            "project": project,
            "report_seq": seq,
            "opinion": opinion,
            "verified_tco2e": verified,
            "statement": words,
        },
        body=body,
        stream=project_stream(project),
        idempotency_key=idempotency_key,
    )


def get_verification(registry: Registry, project: str, report_seq: int) -> dict[str, Any]:
    """The verification of report ``report_seq`` of ``project``, with its findings."""
    with registry.read() as conn:
        return _verification_dict(conn, project, report_seq)


def list_assignments(registry: Registry, verifier: str | None = None) -> list[dict[str, Any]]:
    """The reports with a verifier assigned (to ``verifier`` when given), by project and seq:
    ``project, project_name, seq, period_start, period_end, claimed_tco2e, evidence_sha256,
    report_status, verifier, status`` (of the verification)``, assigned_at, open_findings``
    (findings not closed)."""
    open_findings = (
        select(func.count())
        .select_from(Finding)
        .where(Finding.verification_id == Verification.id, Finding.status != "closed")
        .scalar_subquery()
    )
    query = (
        select(
            Project.code.label("project"),
            Project.name.label("project_name"),
            MonitoringReport,
            Party.code.label("verifier"),
            Verification.status.label("verification_status"),
            Verification.assigned_at,
            open_findings.label("open_findings"),
        )
        .join(MonitoringReport, MonitoringReport.project_id == Project.id)
        .join(Verification, Verification.report_id == MonitoringReport.id)
        .join(Party, Party.id == Verification.verifier_party_id)
        .order_by(Project.code, MonitoringReport.seq)
    )
    with registry.read() as conn:
        if verifier is not None:
            party = lookup.party(conn, verifier, field="verifier")
            query = query.where(Verification.verifier_party_id == party.id)
        rows = conn.execute(query).all()
    return [
        dict(
            jsonable(
                {
                    "project": r.project,
                    "project_name": r.project_name,
                    "seq": r.seq,
                    "period_start": r.period_start,
                    "period_end": r.period_end,
                    "claimed_tco2e": int(r.claimed_tco2e),
                    "evidence_sha256": r.evidence_sha256,
                    "report_status": r.status,
                    "verifier": r.verifier,
                    "status": r.verification_status,
                    "assigned_at": r.assigned_at,
                    "open_findings": int(r.open_findings),
                }
            )
        )
        for r in rows
    ]


def get_finding(registry: Registry, finding_id: int) -> dict[str, Any]:
    """Finding ``finding_id`` with its report (``project``, ``report_seq``) and ``verifier``."""
    fid = _check_finding_id(finding_id)
    with registry.read() as conn:
        row: AnyRow | None = conn.execute(
            select(
                Finding,
                Project.code.label("project"),
                MonitoringReport.seq.label("report_seq"),
                Party.code.label("verifier"),
            )
            .join(Verification, Verification.id == Finding.verification_id)
            .join(MonitoringReport, MonitoringReport.id == Verification.report_id)
            .join(Project, Project.id == MonitoringReport.project_id)
            .join(Party, Party.id == Verification.verifier_party_id)
            .where(Finding.id == fid)
        ).first()
    if row is None:
        raise RecordNotFoundError(f"no finding {fid}", field="finding_id", finding_id=fid)
    return {
        "project": row.project,
        "report_seq": int(row.report_seq),
        "verifier": row.verifier,
        **_finding_dict(row),
    }
