"""Issuance and the public view of batches: ``/v1/projects/{code}/reports/{seq}/issuance``,
``/v1/batches`` with their blocks, and ``/v1/serials/{batch}/{serial}`` (serial search)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from api.deps import Actor, IdempotencyKey, RegistryDep
from api.openapi import PROBLEMS
from api.pagination import Cursor, Limit, Page, after_id, id_page, paginate
from api.schemas import WriteResult, receipt
from mrv.registry.issuance import issue
from mrv.registry.queries import batch_summary, blocks, find_serial, list_batches

router = APIRouter(tags=["issuance"], responses=PROBLEMS)

Prefix = Annotated[
    str,
    Path(
        max_length=80, description="The batch's serial prefix.", examples=["HZ-BAM-AJ001-2025-001"]
    ),
]
BlockStatus = Literal["held", "listed", "retired", "cancelled", "buffer"]


class BatchOut(BaseModel):
    """An issued batch with its tonnes by current status (they add up to ``issued_tco2e``)."""

    batch: str = Field(description="Serial prefix: programme-landtype-project-vintage-batch.")
    project: str
    vintage: int
    issued_tco2e: int
    buffer_contribution_tco2e: int = Field(description="Serials set aside in the buffer pool.")
    buffer_percent: float
    issued_at: str = Field(description="UTC, ISO 8601.")
    held: int
    listed: int
    retired: int
    cancelled: int
    buffer: int


class BlockOut(BaseModel):
    """An active credit block: the current state of a serial range."""

    block_id: int
    batch: str
    serial_start: int
    serial_end: int
    quantity: int
    status: BlockStatus
    account: str = Field(description="The holding account (``BUFFER`` for the pool).")
    parent_block_id: int | None = Field(description="The block it was split or moved from.")
    serial: str = Field(description="Readable range ``<prefix>-<start:09d>-<end:09d>``.")


class Ancestor(BaseModel):
    """An earlier (inactive) block a serial passed through, newest first."""

    block_id: int
    serial: str
    status: BlockStatus
    account: str
    created_at: str


class SerialOut(BaseModel):
    """Where one serial number is now, and the blocks it came through."""

    batch: str
    serial_number: int
    block: str
    status: BlockStatus
    account: str
    lineage: list[Ancestor]


@router.post(
    "/projects/{code}/reports/{seq}/issuance",
    status_code=status.HTTP_201_CREATED,
    response_model=WriteResult,
)
def post_issuance(
    code: Annotated[str, Path(max_length=64, description="Project code.")],
    seq: Annotated[int, Path(gt=0, le=10**6, description="The monitoring report's number.")],
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Issue the credits of a positively verified monitoring report (registry admins).

    The buffer share follows the project's risk score; the result lists the serial blocks of
    the proponent and of the buffer pool.
    """
    return receipt(
        issue(registry, actor=actor.party, project=code, report_seq=seq, idempotency_key=key)
    )


@router.get("/batches", response_model=Page[BatchOut])
def get_batches(
    registry: RegistryDep,
    project: Annotated[str | None, Query(max_length=64, description="Only this project.")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Every issued batch, by serial prefix (public)."""
    items = list_batches(registry, project=project)
    return paginate(items, lambda b: b["batch"], limit=limit, cursor=cursor)


@router.get("/batches/{prefix}", response_model=BatchOut)
def get_batch(prefix: Prefix, registry: RegistryDep) -> dict[str, Any]:
    """One batch with its tonnes by status (public)."""
    return batch_summary(registry, prefix)


@router.get("/batches/{prefix}/blocks", response_model=Page[BlockOut])
def get_batch_blocks(
    prefix: Prefix,
    registry: RegistryDep,
    account: Annotated[str | None, Query(max_length=64, description="Only this account.")] = None,
    block_status: Annotated[
        BlockStatus | None, Query(alias="status", description="Only blocks in this status.")
    ] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """The batch's active blocks by block id (public, as the CADT units are)."""
    page = blocks(
        registry,
        batch=prefix,
        account=account,
        status=block_status,
        after_id=after_id(cursor),
        limit=limit,
    )
    if not page["items"] and cursor is None:
        batch_summary(registry, prefix)  # 404 for an unknown batch rather than an empty page
    return id_page(page)


@router.get("/serials/{batch}/{serial}", response_model=SerialOut)
def get_serial(
    batch: Prefix,
    serial: Annotated[int, Path(gt=0, le=10**12, description="Serial number in the batch.")],
    registry: RegistryDep,
) -> dict[str, Any]:
    """Serial search: the block now holding a serial number, with its lineage (public)."""
    return find_serial(registry, batch, serial)
