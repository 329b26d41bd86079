"""``/v1/transfers`` and ``/v1/accounts/{code}/holdings``: moving and holding credits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import Actor, IdempotencyKey, RegistryDep
from api.schemas import WriteResult, receipt
from mrv.registry.credits import transfer
from mrv.registry.queries import holdings

router = APIRouter(tags=["credits"])


class TransferIn(BaseModel):
    """Move tonnes of one batch from the actor's account to another account."""

    from_account: str = Field(max_length=64, examples=["anji-coop"])
    to_account: str = Field(max_length=64, examples=["buyer-1"])
    batch: str = Field(max_length=64, examples=["HZ-BAM-AJB001-2025-001"])
    quantity: int = Field(gt=0, le=10**12, examples=[100], description="Whole tonnes CO2e.")


class Batches(BaseModel):
    """Tonnes by status."""

    held: int
    listed: int
    retired: int
    cancelled: int
    buffer: int


class BatchHolding(Batches):
    """One batch's tonnes by status."""

    batch: str


class Holdings(BaseModel):
    """What an account holds."""

    account: str
    batches: list[BatchHolding]
    total: Batches


@router.post("/transfers", status_code=status.HTTP_201_CREATED, response_model=WriteResult)
async def post_transfer(
    body: TransferIn, actor: Actor, registry: RegistryDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Transfer credits (only the holder of ``from_account``)."""
    done = await run_in_threadpool(
        transfer,
        registry,
        actor=actor.party,
        from_account=body.from_account,
        to_account=body.to_account,
        batch=body.batch,
        quantity=body.quantity,
        idempotency_key=key,
    )
    return receipt(done)


@router.get("/accounts/{code}/holdings", response_model=Holdings)
def get_holdings(
    code: Annotated[str, Path(max_length=64)], actor: Actor, registry: RegistryDep
) -> dict[str, Any]:
    """Tonnes an account holds per batch and status (public, as in the registry explorer)."""
    return holdings(registry, code)
