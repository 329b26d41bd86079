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
from mrv.registry.core import Registry
from mrv.registry.distribution import distribution_statement, get_distribution, record_payment
from mrv.registry.tokens import Principal
from mrv.registry.trading import get_lot

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


OVERSEERS = frozenset({"admin", "bureau", "trading_centre"})
"""Roles that see every owner's lines and every distribution. A cooperative sees the lines of
its own contracts and the distributions of its own lots; an owner household only its own lines."""


def statement_scope(actor: Principal, owner: str | None) -> tuple[str | None, str | None]:
    """``(owner, cooperative)`` filters of the statement the actor may read: overseers any,
    a cooperative its own contracts' lines, a household its own lines (names and amounts of
    other households are private); parties with none of these roles are refused."""
    if actor.roles & OVERSEERS:
        return owner, None
    if "cooperative" in actor.roles:
        return owner, actor.party
    if "owner_household" in actor.roles and owner in (None, actor.party):
        return actor.party, None
    raise ForbiddenError(
        f"{actor.party} may only read its own distribution lines", actor=actor.party
    )


def check_distribution_reader(registry: Registry, actor: Principal, lot: str) -> None:
    """A whole distribution names every household of a lot: overseers, and the cooperative
    that sold the lot, may read it."""
    if actor.roles & OVERSEERS:
        return
    if "cooperative" in actor.roles and get_lot(registry, lot)["seller"] == actor.party:
        return
    raise ForbiddenError(
        f"{actor.party} may not read the distribution of lot {lot}", actor=actor.party, lot=lot
    )


@router.get("/lots/{lot}/distribution", response_model=DistributionOut)
def get_lot_distribution(
    lot: Annotated[str, Path(max_length=64, description="Lot code.")],
    actor: Actor,
    registry: RegistryDep,
) -> dict[str, Any]:
    """The benefit distribution written when the lot was settled (admins, bureaus, the trading
    centre and the cooperative that sold the lot: it names every household)."""
    check_distribution_reader(registry, actor, lot)
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
    """Due, paid and outstanding per owner and parcel, with the line ids payments name (a
    cooperative sees the lines of its own contracts, an owner household only its own)."""
    owner, cooperative = statement_scope(actor, owner)
    found = distribution_statement(registry, lot=lot, owner=owner, cooperative=cooperative)
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
