"""``/v1/journal``, ``/v1/audit`` and ``/v1/exports/cadt`` (a token is needed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import Actor, RegistryDep
from api.openapi import PROBLEMS
from api.pagination import Cursor, Limit, Page, after_id, id_page
from mrv.registry.audit import audit
from mrv.registry.exports import cadt_export
from mrv.registry.queries import journal

router = APIRouter(tags=["journal"], responses=PROBLEMS)


class JournalEventOut(BaseModel):
    """One journal event: who did what to which record, hash-chained within its stream."""

    id: int
    stream: str
    seq: int
    occurred_at: str = Field(description="UTC, ISO 8601.")
    actor: str
    operation: str
    entity_type: str
    entity_id: str
    reason: str | None
    before: dict[str, Any] | None
    after: dict[str, Any]
    prev_hash: str
    hash: str


class AuditOut(BaseModel):
    """Every journal chain and registry invariant re-verified from the stored rows."""

    ok: bool
    journal_ok: bool
    invariants_ok: bool
    events: int
    streams: int
    batches: int
    totals_tco2e: dict[str, int] = Field(description="issued, held, listed, retired …")
    problems: list[dict[str, Any]] = Field(description="Each violation found (check, reason …).")


class CadtProject(BaseModel):
    """A public project in CADT's ``projects`` table."""

    warehouseProjectId: str  # noqa: N815 - CADT's field names
    projectId: str  # noqa: N815
    projectName: str  # noqa: N815
    projectDeveloper: str  # noqa: N815
    program: str
    sector: str
    projectType: str  # noqa: N815
    projectStatus: str  # noqa: N815
    projectStatusDate: str | None  # noqa: N815
    methodology: str
    validationBody: str  # noqa: N815
    unitMetric: str  # noqa: N815
    coveredByNDC: str  # noqa: N815
    currentRegistry: str  # noqa: N815


class CadtIssuance(BaseModel):
    """A batch in CADT's ``issuances`` table."""

    id: str
    warehouseProjectId: str  # noqa: N815
    startDate: str  # noqa: N815
    endDate: str  # noqa: N815
    verificationApproach: str  # noqa: N815
    verificationBody: str  # noqa: N815
    verificationReportDate: str | None  # noqa: N815


class CadtUnit(BaseModel):
    """An active credit block in CADT's ``units`` table."""

    warehouseUnitId: str  # noqa: N815
    issuanceId: str  # noqa: N815
    projectLocationId: str  # noqa: N815
    serialNumberBlock: str  # noqa: N815
    unitBlockStart: str  # noqa: N815
    unitBlockEnd: str  # noqa: N815
    unitCount: int  # noqa: N815
    vintageYear: int  # noqa: N815
    unitType: str  # noqa: N815
    unitOwner: str  # noqa: N815
    unitStatus: str  # noqa: N815
    unitStatusReason: str | None  # noqa: N815
    marketplace: str | None
    marketplaceIdentifier: str | None  # noqa: N815
    correspondingAdjustmentDeclaration: str  # noqa: N815
    correspondingAdjustmentStatus: str  # noqa: N815


class CadtLocation(BaseModel):
    """A project's location (the bounding box of its parcels)."""

    id: str
    warehouseProjectId: str  # noqa: N815
    country: str
    inCountryRegion: str  # noqa: N815
    geographicIdentifier: str = Field(description="minLon,minLat,maxLon,maxLat (WGS84).")  # noqa: N815


class CadtExport(BaseModel):
    """The registry's public data in the shape of the Climate Action Data Trust."""

    projects: list[CadtProject]
    issuances: list[CadtIssuance]
    units: list[CadtUnit]
    labels: list[dict[str, Any]]
    projectLocations: list[CadtLocation]  # noqa: N815


@router.get("/journal", response_model=Page[JournalEventOut])
def get_journal(
    actor: Actor,
    registry: RegistryDep,
    stream: Annotated[
        str | None, Query(max_length=100, description="Only this stream (``project:AJ001`` …).")
    ] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Journal events in order of their id."""
    return id_page(journal(registry, stream=stream, after_id=after_id(cursor), limit=limit))


@router.get("/audit", response_model=AuditOut)
def get_audit(actor: Actor, registry: RegistryDep) -> dict[str, Any]:
    """Re-verify every journal chain and invariant; ``ok`` is false when anything is wrong."""
    return audit(registry)


@router.get("/exports/cadt", response_model=CadtExport)
def get_cadt_export(actor: Actor, registry: RegistryDep) -> dict[str, Any]:
    """The public registry data with CADT's tables and field names."""
    return cadt_export(registry)
