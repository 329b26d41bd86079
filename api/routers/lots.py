"""``/v1/lots``: trading lots at the Huzhou green trading centre, ``/v1/price`` and
``/v1/price/history``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from api.deps import Actor, IdempotencyKey, RegistryDep
from api.openapi import PROBLEMS
from api.pagination import Cursor, Limit, Page, paginate
from api.schemas import WriteResult, receipt
from mrv.registry.trading import (
    REFERENCE_WINDOW_TRADING_DAYS,
    get_lot,
    list_lot,
    list_lots,
    price_history,
    reference_price,
    settle_lot,
    withdraw_lot,
)

router = APIRouter(tags=["lots"], responses=PROBLEMS)

LotCode = Annotated[
    str, Path(max_length=64, description="Lot code.", examples=["LOT-1A2B3C4D5E6F"])
]
YUAN = r"^\d{1,12}(\.\d+)?$"
"""Decimal yuan as text, below ¥10¹² (at most 2 decimals, checked by the registry); longer
amounts passed the 28 digits of decimal arithmetic and failed as a server error."""
PRICE = r"^\d{1,9}(\.\d+)?$"
"""Yuan per tonne, below ¥10⁹ (so that a lot's gross proceeds stay within 64-bit fen)."""


class LotIn(BaseModel):
    """Credits of the actor's account to list for sale (they are locked while listed)."""

    account: str = Field(max_length=64, examples=["anji-coop"])
    batch: str = Field(max_length=80, examples=["HZ-BAM-AJ001-2025-001"])
    quantity: int = Field(gt=0, le=10**12, examples=[500], description="Whole tonnes CO2e.")
    ask_yuan_per_t: str = Field(
        max_length=32, pattern=PRICE, examples=["75.00"], description="Yuan per tonne."
    )


class SettlementIn(BaseModel):
    """The trading centre's confirmation of a trade."""

    buyer: str = Field(max_length=64, examples=["buyer-1"], description="The buyer's account.")
    price_yuan_per_t: str = Field(
        max_length=32, pattern=PRICE, examples=["73.41"], description="Yuan per tonne."
    )
    fees_yuan: str = Field(default="0", max_length=32, pattern=YUAN, examples=["1234.50"])
    trade_ref: str = Field(
        max_length=100, examples=["HZGTC-2026-0001"], description="The centre's confirmation id."
    )
    settled_on: dt.date | None = Field(
        default=None, examples=["2026-03-02"], description="Day of the trade (default today)."
    )


class LotOut(BaseModel):
    """A trading lot (price, fees, buyer and trade reference once settled)."""

    lot: str
    status: Literal["listed", "settled", "withdrawn"]
    seller: str
    buyer: str | None
    batch: str
    quantity_tco2e: int
    ask_yuan_per_t: str
    price_yuan_per_t: str | None
    fees_yuan: str | None
    trade_ref: str | None
    settled_on: str | None


class PriceOut(BaseModel):
    """Volume-weighted mean settled price over a window of trading days."""

    reference_price_yuan_per_t: str | None = Field(description="None without trades.")
    window_trading_days: int
    from_: str = Field(alias="from", description="First trading day of the window.")
    to: str = Field(description="Last trading day of the window.")
    lots: int
    quantity_tco2e: int


class PriceDay(BaseModel):
    """A day on which lots settled: its trades and the reference price on that day."""

    day: str = Field(description="Settlement day (ISO date).")
    trading_day: bool = Field(description="A China trading (working) day.")
    lots: int
    quantity_tco2e: int
    price_yuan_per_t: str = Field(description="The day's volume-weighted mean price.")
    reference_price_yuan_per_t: str | None = Field(
        description="The reference price on that day (None if its window has no trades)."
    )


class PriceHistoryOut(BaseModel):
    """Settled trades per day and the reference price over time, oldest first."""

    window_trading_days: int
    days: list[PriceDay]


@router.post("/lots", status_code=status.HTTP_201_CREATED, response_model=WriteResult)
def post_lot(
    body: LotIn, actor: Actor, registry: RegistryDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """List held credits for sale (their holder); returns the lot code."""
    return receipt(
        list_lot(
            registry,
            actor=actor.party,
            account=body.account,
            batch=body.batch,
            quantity=body.quantity,
            ask_yuan_per_t=body.ask_yuan_per_t,
            idempotency_key=key,
        )
    )


@router.post("/lots/{lot}/settlement", response_model=WriteResult)
def post_settlement(
    lot: LotCode,
    body: SettlementIn,
    actor: Actor,
    registry: RegistryDep,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Settle a lot to a buyer from the trade confirmation (the trading centre only).

    The credits move to the buyer and the benefit distribution is written in the same step.
    """
    return receipt(
        settle_lot(
            registry,
            actor=actor.party,
            lot=lot,
            buyer=body.buyer,
            price_yuan_per_t=body.price_yuan_per_t,
            fees_yuan=body.fees_yuan,
            trade_ref=body.trade_ref,
            settled_on=body.settled_on,
            idempotency_key=key,
        )
    )


@router.post("/lots/{lot}/withdrawal", response_model=WriteResult)
def post_withdrawal(
    lot: LotCode, actor: Actor, registry: RegistryDep, key: IdempotencyKey = None
) -> dict[str, Any]:
    """Withdraw a listed lot (its seller or the trading centre); its credits are held again."""
    return receipt(withdraw_lot(registry, actor=actor.party, lot=lot, idempotency_key=key))


@router.get("/lots", response_model=Page[LotOut])
def get_lots(
    registry: RegistryDep,
    lot_status: Annotated[
        Literal["listed", "settled", "withdrawn"] | None, Query(alias="status")
    ] = None,
    batch: Annotated[str | None, Query(max_length=80, description="Only this batch.")] = None,
    seller: Annotated[str | None, Query(max_length=64, description="Only this seller.")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[dict[str, Any]]:
    """Trading lots by code (public)."""
    items = list_lots(registry, status=lot_status, batch=batch, seller=seller)
    return paginate(items, lambda x: x["lot"], limit=limit, cursor=cursor)


@router.get("/lots/{lot}", response_model=LotOut)
def get_one_lot(lot: LotCode, registry: RegistryDep) -> dict[str, Any]:
    """One trading lot (public)."""
    return get_lot(registry, lot)


@router.get("/price", response_model=PriceOut)
def get_price(
    registry: RegistryDep,
    on: Annotated[
        dt.date | None, Query(description="Last day of the window (default: today in China).")
    ] = None,
    window: Annotated[int, Query(ge=1, le=1000, description="Trading days.")] = (
        REFERENCE_WINDOW_TRADING_DAYS
    ),
) -> dict[str, Any]:
    """The reference price: volume-weighted mean of settled lots over N trading days (public)."""
    day = on or registry.today()
    return reference_price(registry, day, window)


@router.get("/price/history", response_model=PriceHistoryOut)
def get_price_history(
    registry: RegistryDep,
    window: Annotated[int, Query(ge=1, le=1000, description="Trading days.")] = (
        REFERENCE_WINDOW_TRADING_DAYS
    ),
) -> dict[str, Any]:
    """Every day with settled lots: lots, tonnes, the day's volume-weighted price and the
    reference price on that day (public)."""
    return {"window_trading_days": window, "days": price_history(registry, window)}
