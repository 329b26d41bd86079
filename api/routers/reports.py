"""``/v1/projects/{code}/reports``: monitoring reports — a registered project's claimed removals
over a period, with the evidence package's SHA-256 and per-parcel removals (a token is needed)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from api.deps import Actor, IdempotencyKey, RegistryDep
from api.openapi import PROBLEMS
from api.pagination import Cursor, Limit, Page, paginate
from api.schemas import WriteResult, receipt
from mrv.registry.monitoring import get_report, list_reports, submit_report

router = APIRouter(tags=["reports"], responses=PROBLEMS)

ProjectCode = Annotated[str, Path(max_length=64, description="Project code.")]
ReportSeq = Annotated[int, Path(gt=0, le=10**6, description="The report's number in its project.")]
ReportStatus = Literal["submitted", "under_verification", "verified", "rejected", "issued"]


class ReportIn(BaseModel):
    """A monitoring report (CCER Measures Art. 17: removals after 2020-09-22, at most five years
    before today; periods of a project never overlap)."""

    period_start: dt.date = Field(examples=["2025-01-01"])
    period_end: dt.date = Field(examples=["2025-12-31"])
    evidence_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
        description="SHA-256 of the evidence package (lowercase hex).",
    )
    claimed_tco2e: int = Field(gt=0, le=10**12, examples=[601], description="Whole tonnes CO2e.")
    parcel_removals: dict[str, float] | None = Field(
        default=None,
        max_length=100_000,
        examples=[{"AJ-0001": 350.4, "AJ-0002": 251.2}],
        description="Parcel code → tCO2e (≥ 0), summing to the claim within 1 t; they share "
        "the proceeds of the credits. None: by parcel area.",
    )


class ReportOut(BaseModel):
    """A monitoring report."""

    project: str
    seq: int
    period_start: str
    period_end: str
    evidence_sha256: str
    claimed_tco2e: int
    parcel_removals: dict[str, float]
    status: ReportStatus
    submitted_at: str = Field(description="UTC, ISO 8601.")


@router.post(
    "/projects/{code}/reports", status_code=status.HTTP_201_CREATED, response_model=WriteResult
)
def post_report(
    code: ProjectCode,
    body: ReportIn,
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Submit a monitoring report of a registered project (its proponent or an admin); the
    result names its number ``seq``."""
    return receipt(
        submit_report(
            registry,
            actor=actor.party,
            project=code,
            period_start=body.period_start,
            period_end=body.period_end,
            evidence_sha256=body.evidence_sha256,
            claimed_tco2e=body.claimed_tco2e,
            parcel_removals=body.parcel_removals,
            idempotency_key=key,
        )
    )


@router.get("/projects/{code}/reports", response_model=Page[ReportOut])
def get_reports(
    code: ProjectCode,
    actor: Actor,
    registry: RegistryDep,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """A project's monitoring reports by number."""
    return paginate(list_reports(registry, code), lambda r: r["seq"], limit=limit, cursor=cursor)


@router.get("/projects/{code}/reports/{seq}", response_model=ReportOut)
def get_one_report(
    code: ProjectCode, seq: ReportSeq, actor: Actor, registry: RegistryDep
) -> dict[str, Any]:
    """One monitoring report."""
    return get_report(registry, code, seq)
