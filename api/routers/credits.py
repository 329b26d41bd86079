"""``/v1/transfers``, ``/v1/cancellations``, ``/v1/projects/{code}/reversals`` and
``/v1/accounts/{code}/holdings``: moving, cancelling and holding credits."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from api.deps import Actor, DbExecutor, IdempotencyKey, RegistryDep, run_db
from api.openapi import PROBLEMS
from api.schemas import WriteResult, receipt
from mrv.registry.credits import cancel, report_reversal, transfer
from mrv.registry.models import CANCEL_REASONS, REVERSAL_KINDS
from mrv.registry.queries import holdings

router = APIRouter(tags=["credits"], responses=PROBLEMS)


class TransferIn(BaseModel):
    """Move tonnes of one batch from the actor's account to another account."""

    from_account: str = Field(max_length=64, examples=["anji-coop"])
    to_account: str = Field(max_length=64, examples=["buyer-1"])
    batch: str = Field(max_length=64, examples=["HZ-BAM-AJB001-2025-001"])
    quantity: int = Field(gt=0, le=10**12, examples=[100], description="Whole tonnes CO2e.")


class CancellationIn(BaseModel):
    """Cancel held credits of an account."""

    account: str = Field(max_length=64, examples=["anji-coop"])
    batch: str = Field(max_length=80, examples=["HZ-BAM-AJ001-2025-001"])
    quantity: int = Field(gt=0, le=10**12, examples=[10], description="Whole tonnes CO2e.")
    reason_code: str = Field(
        max_length=32, examples=["correction"], description=f"One of {', '.join(CANCEL_REASONS)}."
    )
    reason: str = Field(max_length=1000, examples=["double counting found in an audit"])


class ReversalIn(BaseModel):
    """A loss of stored carbon in a project (fire, pests, clearing …)."""

    loss_tco2e: int = Field(gt=0, le=10**12, examples=[50], description="Whole tonnes CO2e.")
    kind: str = Field(
        max_length=32, examples=["reported"], description=f"One of {', '.join(REVERSAL_KINDS)}."
    )
    description: str = Field(max_length=1000, examples=["snow damage in compartment 12"])


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
    body: TransferIn,
    actor: Actor,
    registry: RegistryDep,
    db: DbExecutor,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Transfer credits (only the holder of ``from_account``)."""
    done = await run_db(
        db,
        transfer,
        registry=registry,
        actor=actor.party,
        from_account=body.from_account,
        to_account=body.to_account,
        batch=body.batch,
        quantity=body.quantity,
        idempotency_key=key,
    )
    return receipt(done)


@router.post("/cancellations", status_code=status.HTTP_201_CREATED, response_model=WriteResult)
def post_cancellation(
    body: CancellationIn, actor: Actor, registry: RegistryDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Cancel held credits (their holder; admins for fraud or correction, CCER Art. 43)."""
    return receipt(
        cancel(
            registry,
            actor=actor.party,
            account=body.account,
            batch=body.batch,
            quantity=body.quantity,
            reason_code=body.reason_code,
            reason=body.reason,
            idempotency_key=key,
        )
    )


@router.post(
    "/projects/{code}/reversals", status_code=status.HTTP_201_CREATED, response_model=WriteResult
)
def post_reversal(
    code: Annotated[str, Path(max_length=64, description="Project code.")],
    body: ReversalIn,
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Record a reversal; as many buffer credits are cancelled, the project's own first.

    The project's proponent, the bureau or an admin may report.
    """
    return receipt(
        report_reversal(
            registry,
            actor=actor.party,
            project=code,
            loss_tco2e=body.loss_tco2e,
            kind=body.kind,
            description=body.description,
            idempotency_key=key,
        )
    )


@router.get("/accounts/{code}/holdings", response_model=Holdings)
def get_holdings(
    code: Annotated[str, Path(max_length=64)], actor: Actor, registry: RegistryDep
) -> dict[str, Any]:
    """Tonnes an account holds per batch and status (public, as in the registry explorer)."""
    return holdings(registry, code)
