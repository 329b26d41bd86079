"""Verification of monitoring reports: ``/v1/projects/{code}/reports/{seq}/verifier``,
``…/findings``, ``…/statement``, ``…/verification`` and ``/v1/findings/{id}/response|closure``.

CCER Measures Art. 18: the verifier is neither the project's validator nor a party to it.
Corrective action requests (CAR) and clarifications (CL) must be closed before a positive
statement; forward action requests (FAR) may stay open and carry to the next period.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from api.deps import Actor, IdempotencyKey, RegistryDep
from api.openapi import PROBLEMS
from api.routers.reports import ProjectCode, ReportSeq, ReportStatus
from api.schemas import WriteResult, receipt
from mrv.registry.verification import (
    FindingKind,
    Opinion,
    assign_verifier,
    close_finding,
    get_verification,
    issue_statement,
    open_finding,
    respond_to_finding,
)

router = APIRouter(tags=["verification"], responses=PROBLEMS)

FindingId = Annotated[int, Path(gt=0, le=2**62, description="The finding's id.")]
REPORT = "/projects/{code}/reports/{seq}"


class VerifierIn(BaseModel):
    """The verifier to assign."""

    verifier: str = Field(max_length=64, examples=["verifier-1"], description="A verifier party.")


class FindingIn(BaseModel):
    """A finding of the verifier."""

    kind: FindingKind = Field(examples=["CAR"], description="CAR, CL or FAR.")
    text: str = Field(max_length=5000, examples=["parcel AJ-0007 lies partly outside the map"])


class FindingResponseIn(BaseModel):
    """The proponent's response to a finding."""

    response: str = Field(max_length=5000, examples=["the boundary was corrected; see map v2"])


class StatementIn(BaseModel):
    """The verification statement: positive with verified tonnes, or negative without."""

    opinion: Opinion = Field(examples=["positive"])
    verified_tco2e: int | None = Field(
        default=None, gt=0, le=10**12, examples=[601], description="Positive only; ≤ claimed."
    )
    statement: str = Field(max_length=20_000, examples=["Reasonable assurance: 601 t CO2e."])


class FindingOut(BaseModel):
    """A finding and its state."""

    id: int
    kind: FindingKind
    text: str
    status: Literal["open", "responded", "closed"]
    response: str | None
    opened_at: str = Field(description="UTC, ISO 8601.")
    closed_at: str | None


class ReportVerificationOut(BaseModel):
    """A report's verification with its findings."""

    project: str
    report_seq: int
    report_status: ReportStatus
    claimed_tco2e: int
    verifier: str
    status: Literal["assigned", "positive", "negative"]
    verified_tco2e: int | None
    statement: str | None
    statement_at: str | None
    assigned_at: str
    findings: list[FindingOut]


@router.post(f"{REPORT}/verifier", status_code=status.HTTP_201_CREATED, response_model=WriteResult)
def post_verifier(
    code: ProjectCode,
    seq: ReportSeq,
    body: VerifierIn,
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Assign an independent verifier to a submitted report (the bureau or an admin)."""
    return receipt(
        assign_verifier(
            registry,
            actor=actor.party,
            project=code,
            report_seq=seq,
            verifier=body.verifier,
            idempotency_key=key,
        )
    )


@router.post(f"{REPORT}/findings", status_code=status.HTTP_201_CREATED, response_model=WriteResult)
def post_finding(
    code: ProjectCode,
    seq: ReportSeq,
    body: FindingIn,
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Open a CAR, CL or FAR on a report under verification (the assigned verifier only); the
    result has the finding's ``id``."""
    return receipt(
        open_finding(
            registry,
            actor=actor.party,
            project=code,
            report_seq=seq,
            kind=body.kind,
            text=body.text,
            idempotency_key=key,
        )
    )


@router.post("/findings/{finding_id}/response", response_model=WriteResult)
def post_finding_response(
    finding_id: FindingId,
    body: FindingResponseIn,
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """The proponent's response to an open finding (the proponent only, not an admin)."""
    return receipt(
        respond_to_finding(
            registry,
            actor=actor.party,
            finding_id=finding_id,
            response=body.response,
            idempotency_key=key,
        )
    )


@router.post("/findings/{finding_id}/closure", response_model=WriteResult)
def post_finding_closure(
    finding_id: FindingId, actor: Actor, registry: RegistryDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Close a finding (the assigned verifier): a CAR or CL once responded, a FAR any time."""
    return receipt(
        close_finding(registry, actor=actor.party, finding_id=finding_id, idempotency_key=key)
    )


@router.post(f"{REPORT}/statement", response_model=WriteResult)
def post_statement(
    code: ProjectCode,
    seq: ReportSeq,
    body: StatementIn,
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """The verifier's statement: the report becomes verified (positive) or rejected (negative,
    which frees its period); open FARs are listed as ``carried_forward``."""
    return receipt(
        issue_statement(
            registry,
            actor=actor.party,
            project=code,
            report_seq=seq,
            opinion=body.opinion,
            verified_tco2e=body.verified_tco2e,
            statement=body.statement,
            idempotency_key=key,
        )
    )


@router.get(f"{REPORT}/verification", response_model=ReportVerificationOut)
def get_one_verification(
    code: ProjectCode, seq: ReportSeq, actor: Actor, registry: RegistryDep
) -> dict[str, Any]:
    """A report's verification with its findings."""
    return get_verification(registry, code, seq)
