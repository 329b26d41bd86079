"""Benefit distribution: ``/v1/lots/{lot}/distribution``, ``/v1/distribution/statement`` and
``/v1/distribution/lines/{line_id}/payments`` (a token is needed: owners' money)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from api.deps import Actor, IdempotencyKey, RegistryDep
from api.openapi import PROBLEMS
from api.pagination import Cursor, Limit, Page, paginate
from api.schemas import WriteResult, receipt
from mrv.errors import ForbiddenError
from mrv.registry.distribution import distribution_statement, get_distribution, record_payment
from mrv.registry.tokens import Principal

router = APIRouter(tags=["distribution"], responses=PROBLEMS)


class PaymentIn(BaseModel):
    """A payment to an owner against a distribution line, with its proof."""

    amount_yuan: str = Field(  # below ¥10¹²: longer amounts overflowed decimal arithmetic (500)
        max_length=32, pattern=r"^\d{1,12}(\.\d+)?$", examples=["2887.02"]
    )
    bank_reference: str = Field(max_length=100, examples=["ABC-20260302-000123"])
    paid_on: dt.date = Field(examples=["2026-03-02"])


class DistributionLine(BaseModel):
    """One parcel's share of a settled lot."""

    line_id: int = Field(description="Name it when recording a payment.")
    owner: str
    parcel: str
    contract: str
    parcel_share: float = Field(description="The parcel's part of the removals (or area).")
    owner_share: str = Field(description="The contract's owner share, e.g. ``0.8000``.")
    amount_yuan: str


class DistributionOut(BaseModel):
    """The benefit distribution of a settled lot (net = gross − fees)."""

    distribution_id: int
    lot: str
    gross_yuan: str
    fees_yuan: str
    net_yuan: str
    owners_total_yuan: str
    cooperative_retained_yuan: str
    basis: Literal["parcel_removals", "parcel_area"]
    lines: list[DistributionLine]


class Money(BaseModel):
    """Due, paid and outstanding, in yuan."""

    due_yuan: str
    paid_yuan: str
    outstanding_yuan: str


class StatementLine(Money):
    """A distribution line of one parcel (one per settled lot)."""

    line_id: int
    lot: str
    contract: str
    settled_on: str | None


class ParcelStatement(Money):
    """An owner's parcel with its lines."""

    parcel: str
    lines: list[StatementLine]


class OwnerStatement(Money):
    """An owner with its parcels."""

    owner: str
    name: str
    parcels: list[ParcelStatement]


class Statement(Page[OwnerStatement]):
    """Owners page by page (by code); ``totals`` cover every owner of the filter."""

    lot: str | None
    owner: str | None
    totals: Money


OVERSEERS = frozenset({"admin", "bureau", "trading_centre", "cooperative"})
"""Roles that see every owner's lines; an owner household sees only its own."""


def _statement_owner(actor: Principal, owner: str | None) -> str | None:
    """The owner filter the actor may use: households are held to themselves (names and amounts
    of other households are private); parties with no such role are refused."""
    if actor.roles & OVERSEERS:
        return owner
    if "owner_household" in actor.roles and owner in (None, actor.party):
        return actor.party
    raise ForbiddenError(
        f"{actor.party} may only read its own distribution lines", actor=actor.party
    )


@router.get("/lots/{lot}/distribution", response_model=DistributionOut)
def get_lot_distribution(
    lot: Annotated[str, Path(max_length=64, description="Lot code.")],
    actor: Actor,
    registry: RegistryDep,
) -> dict[str, Any]:
    """The benefit distribution written when the lot was settled (admins, bureaus, the trading
    centre and cooperatives: it names every household)."""
    if not actor.roles & OVERSEERS:
        raise ForbiddenError(f"{actor.party} may not read whole distributions", actor=actor.party)
    return get_distribution(registry, lot)


@router.get("/distribution/statement", response_model=Statement)
def get_statement(
    actor: Actor,
    registry: RegistryDep,
    lot: Annotated[str | None, Query(max_length=64, description="Only this lot.")] = None,
    owner: Annotated[str | None, Query(max_length=64, description="Only this owner.")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Statement:
    """Due, paid and outstanding per owner and parcel, with the line ids payments name (an
    owner household sees only its own lines)."""
    owner = _statement_owner(actor, owner)
    found = distribution_statement(registry, lot=lot, owner=owner)
    page = paginate(found["owners"], lambda o: o["owner"], limit=limit, cursor=cursor)
    return Statement.model_validate(
        {
            "items": page.items,
            "next_cursor": page.next_cursor,
            "lot": lot,
            "owner": owner,
            "totals": found["totals"],
        }
    )


@router.post(
    "/distribution/lines/{line_id}/payments",
    status_code=status.HTTP_201_CREATED,
    response_model=WriteResult,
)
def post_payment(
    line_id: Annotated[int, Path(gt=0, le=2**62, description="The distribution line.")],
    body: PaymentIn,
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Record a payment to an owner (the project's proponent cooperative or an admin)."""
    return receipt(
        record_payment(
            registry,
            actor=actor.party,
            line_id=line_id,
            amount_yuan=body.amount_yuan,
            bank_reference=body.bank_reference,
            paid_on=body.paid_on,
            idempotency_key=key,
        )
    )
