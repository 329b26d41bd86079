"""``/v1/projects``: draft projects, registration, rejection and deregistration (CCER Measures
2023, Art. 16), the public notice (:mod:`api.routers.notice`, Art. 12); reads are public."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from api.deps import Actor, IdempotencyKey, MaybeActor, RegistryDep
from api.openapi import PROBLEMS
from api.pagination import Cursor, Limit, Page, paginate
from api.routers import notice
from api.routers.parcels import LandType
from api.schemas import WriteResult, receipt
from mrv.registry.catalog import check_methodology
from mrv.registry.models import LAND_TYPES
from mrv.registry.projects import (
    create_project,
    deregister_project,
    get_project,
    list_projects,
    register_project,
    reject_project,
)

router = APIRouter(prefix="/projects", tags=["projects"], responses=PROBLEMS)

ProjectCode = Annotated[str, Path(max_length=64, description="Project code.")]
ProjectStatus = Literal["draft", "public_notice", "registered", "rejected", "deregistered"]


class ParcelRef(BaseModel):
    """A parcel and the proponent's contract that covers it."""

    parcel: str = Field(max_length=64, examples=["AJ-0001"])
    contract: str = Field(max_length=64, examples=["C-AJ-0001"])


class ProjectIn(BaseModel):
    """A draft project over parcels, each through an active contract of the proponent."""

    code: str = Field(max_length=32, examples=["AJ001"])
    name: str = Field(max_length=200, examples=["安吉毛竹林碳汇项目"])
    proponent: str = Field(max_length=64, examples=["anji-coop"], description="A cooperative.")
    validator: str = Field(max_length=64, examples=["validator-1"], description="A verifier.")
    methodology_id: str = Field(max_length=64, examples=["bamboo-moso"])
    methodology_version: str = Field(max_length=32, examples=["1.0.0"])
    land_type: str = Field(max_length=32, examples=["bamboo"], description=f"{LAND_TYPES}")
    crediting_start: dt.date = Field(examples=["2026-01-01"])
    crediting_end: dt.date = Field(examples=["2045-12-31"])
    risk_score: int = Field(ge=0, le=100, examples=[15], description="Non-permanence risk.")
    parcels: list[ParcelRef] = Field(min_length=1, max_length=10_000)


class ReasonIn(BaseModel):
    """Why (kept in the journal)."""

    reason: str = Field(max_length=1000, examples=["the parcels are under another scheme"])


class ProjectBase(BaseModel):
    """What lists and single projects share."""

    code: str
    name: str
    status: ProjectStatus
    proponent: str
    validator: str
    methodology_id: str
    methodology_version: str
    land_type: LandType
    crediting_start: str
    crediting_end: str
    notice_start: str | None
    notice_end: str | None = Field(description="Last day of the notice.")
    area_ha: float
    area_mu: float


class ProjectSummary(ProjectBase):
    """A project with its held parcels counted."""

    parcel_count: int


class ProjectParcel(BaseModel):
    """A parcel the project holds (``active``) or held."""

    code: str
    owner: str | None
    land_type: LandType
    area_ha: float
    area_mu: float
    contract: str
    active: bool


class NoticeComment(BaseModel):
    """A comment of the public notice and the proponent's response."""

    id: int
    commenter: str
    comment: str
    response: str | None
    received_at: str


class ProjectOut(ProjectBase):
    """A project with its parcels and notice comments."""

    risk_score: int
    registered_at: str | None = Field(description="UTC, ISO 8601.")
    created_at: str
    parcels: list[ProjectParcel]
    comments: list[NoticeComment]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WriteResult)
def post_project(
    body: ProjectIn, actor: Actor, registry: RegistryDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Create a draft project (its proponent cooperative, or an admin); the methodology id and
    version must be known; parcels must be free and not overlap other projects or claims."""
    check_methodology(body.methodology_id, body.methodology_version)
    return receipt(
        create_project(
            registry,
            actor=actor.party,
            code=body.code,
            name=body.name,
            proponent=body.proponent,
            validator=body.validator,
            methodology_id=body.methodology_id,
            methodology_version=body.methodology_version,
            land_type=body.land_type,
            crediting_start=body.crediting_start,
            crediting_end=body.crediting_end,
            risk_score=body.risk_score,
            parcels=[(p.parcel, p.contract) for p in body.parcels],
            idempotency_key=key,
        )
    )


@router.post("/{code}/registration", response_model=WriteResult)
def post_registration(
    code: ProjectCode, actor: Actor, registry: RegistryDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Register a project once its notice has ended with every comment answered (admins)."""
    return receipt(register_project(registry, actor=actor.party, project=code, idempotency_key=key))


@router.post("/{code}/rejection", response_model=WriteResult)
def post_rejection(
    code: ProjectCode,
    body: ReasonIn,
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Reject a draft or public-notice project (admins); its parcels are released."""
    return receipt(
        reject_project(
            registry, actor=actor.party, project=code, reason=body.reason, idempotency_key=key
        )
    )


@router.post("/{code}/deregistration", response_model=WriteResult)
def post_deregistration(
    code: ProjectCode,
    body: ReasonIn,
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Deregister a registered project (admins); final (CCER Art. 16), its parcels released."""
    return receipt(
        deregister_project(
            registry, actor=actor.party, project=code, reason=body.reason, idempotency_key=key
        )
    )


@router.get("", response_model=Page[ProjectSummary])
def get_projects(
    registry: RegistryDep,
    project_status: Annotated[ProjectStatus | None, Query(alias="status")] = None,
    proponent: Annotated[str | None, Query(max_length=64, description="Only its.")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Projects by code with parcel counts and areas (public)."""
    items = list_projects(registry, status=project_status, proponent=proponent)
    return paginate(items, lambda p: p["code"], limit=limit, cursor=cursor)


OWNER_READERS = frozenset({"admin", "bureau", "verifier", "trading_centre"})
"""Roles that see who owns a project's parcels (besides the project's proponent)."""


@router.get("/{code}", response_model=ProjectOut)
def get_one_project(code: ProjectCode, registry: RegistryDep, actor: MaybeActor) -> dict[str, Any]:
    """One project with its parcels and notice comments (public; the parcels' owners only for
    the proponent, admins, bureaus, verifiers and the trading centre — ``owner`` is null for
    everyone else: households are private persons)."""
    project = get_project(registry, code)
    if actor is None or not (actor.roles & OWNER_READERS or actor.party == project["proponent"]):
        project["parcels"] = [{**p, "owner": None} for p in project["parcels"]]
    return project


router.include_router(notice.router)
