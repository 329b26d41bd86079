"""``/v1/contracts``: collection (收储) contracts between a cooperative and a parcel owner, their
termination and the upfront payments of their settlement cycles (a token is needed)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field, StringConstraints

from api.deps import Actor, IdempotencyKey, RegistryDep
from api.openapi import PROBLEMS
from api.pagination import Cursor, Limit, Page, paginate
from api.schemas import WriteResult, receipt
from mrv.registry.contracts import (
    contract_payments_due,
    create_contract,
    get_contract,
    list_contracts,
    terminate_contract,
)

router = APIRouter(prefix="/contracts", tags=["contracts"], responses=PROBLEMS)

ContractCode = Annotated[str, Path(max_length=64, description="Contract code.")]
ContractStatus = Literal["active", "terminated"]
DECIMAL = r"^\d+(\.\d+)?$"
"""A decimal number as text (the registry checks its precision: li for prices, bp for shares)."""
PAYMENT = r"^\d{1,9}(\.\d+)?$"
"""Yuan per mu per year, below ¥10⁹: longer amounts lost digits in decimal arithmetic and
overflowed the 64-bit li column (a server error)."""


class ContractIn(BaseModel):
    """A collection contract over some of an owner's parcels (Anji: 30 years, ¥16.926/mu/yr paid
    upfront every 3 years, 80 % of the net proceeds to the owner)."""

    code: str = Field(max_length=64, examples=["C-AJ-0001"])
    cooperative: str = Field(max_length=64, examples=["anji-coop"])
    owner: str = Field(max_length=64, examples=["hh-0001"], description="Household or village.")
    parcels: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        min_length=1, max_length=10_000, examples=[["AJ-0001", "AJ-0002"]]
    )
    start: dt.date = Field(examples=["2026-01-01"], description="First day of the term.")
    end: dt.date = Field(
        examples=["2056-01-01"], description="Day after the term (terms are [start, end))."
    )
    annual_payment_yuan_per_mu: str = Field(
        max_length=32, pattern=PAYMENT, examples=["16.926"], description="Whole li (0.001 yuan)."
    )
    settlement_cycle_years: int = Field(gt=0, le=100, examples=[3])
    owner_share: str = Field(
        max_length=16, pattern=DECIMAL, examples=["0.8"], description="Of net proceeds, 0–1."
    )


class TerminationIn(BaseModel):
    """Why and when a contract ends."""

    reason: str = Field(max_length=1000, examples=["the household sold the land right"])
    on: dt.date | None = Field(
        default=None, examples=["2026-06-30"], description="Last day (default today; not past)."
    )


class ContractOut(BaseModel):
    """A contract with its parties, parcels, term, payment, cycle, share and areas."""

    code: str
    cooperative: str
    owner: str
    parcels: list[str]
    start: str
    end: str = Field(description="Day after the term (the termination day once terminated).")
    annual_payment_yuan_per_mu: str
    settlement_cycle_years: int
    owner_share: str = Field(description="e.g. ``0.8``.")
    owner_share_bp: int
    status: ContractStatus
    signed_at: str = Field(description="UTC, ISO 8601.")
    area_ha: float
    area_mu: float


class Cycle(BaseModel):
    """One settlement cycle and its upfront payment."""

    cycle: int
    start: str
    end: str
    due_on: str
    amount_yuan: str = Field(description="area (mu) × yuan/mu/yr × years, to the fen.")
    due: bool = Field(description="The cycle starts on or before ``as_of``.")


class PaymentsOut(BaseModel):
    """The upfront payment of every cycle and their total due by ``as_of``."""

    contract: str
    as_of: str
    status: ContractStatus
    area_mu: float
    annual_payment_yuan_per_mu: str
    settlement_cycle_years: int
    cycles: list[Cycle]
    total_due_yuan: str


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WriteResult)
def post_contract(
    body: ContractIn, actor: Actor, registry: RegistryDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Record a collection contract (the cooperative itself, or an admin)."""
    return receipt(
        create_contract(
            registry,
            actor=actor.party,
            code=body.code,
            cooperative=body.cooperative,
            owner=body.owner,
            parcels=body.parcels,
            start=body.start,
            end=body.end,
            annual_payment_yuan_per_mu=body.annual_payment_yuan_per_mu,
            settlement_cycle_years=body.settlement_cycle_years,
            owner_share=body.owner_share,
            idempotency_key=key,
        )
    )


@router.post("/{code}/termination", response_model=WriteResult)
def post_termination(
    code: ContractCode,
    body: TerminationIn,
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Terminate an active contract (its cooperative or an admin); refused while a project
    holds a parcel through it."""
    return receipt(
        terminate_contract(
            registry,
            actor=actor.party,
            code=code,
            reason=body.reason,
            on=body.on,
            idempotency_key=key,
        )
    )


@router.get("", response_model=Page[ContractOut])
def get_contracts(
    actor: Actor,
    registry: RegistryDep,
    cooperative: Annotated[str | None, Query(max_length=64, description="Only its.")] = None,
    owner: Annotated[str | None, Query(max_length=64, description="Only this owner's.")] = None,
    contract_status: Annotated[ContractStatus | None, Query(alias="status")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Contracts by code."""
    items = list_contracts(registry, cooperative=cooperative, owner=owner, status=contract_status)
    return paginate(items, lambda c: c["code"], limit=limit, cursor=cursor)


@router.get("/{code}", response_model=ContractOut)
def get_one_contract(code: ContractCode, actor: Actor, registry: RegistryDep) -> dict[str, Any]:
    """One contract."""
    return get_contract(registry, code)


@router.get("/{code}/payments", response_model=PaymentsOut)
def get_payments(
    code: ContractCode,
    actor: Actor,
    registry: RegistryDep,
    as_of: Annotated[
        dt.date | None, Query(description="Due by this day (default: today in China).")
    ] = None,
) -> dict[str, Any]:
    """The upfront collection payment of every settlement cycle and what is due by a day."""
    day = as_of or registry.today()
    return contract_payments_due(registry, code, day)
