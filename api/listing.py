"""Reads the API lists that the registry's services offer one record at a time (batches and
trading lots, as :func:`mrv.registry.queries.batch_summary` and
:func:`mrv.registry.trading.get_lot` shape them), and cursors over the registry's id-paged reads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from api.pagination import Page, decode_cursor, encode_cursor
from mrv.errors import RegistryInputError
from mrv.registry.audit import STATUSES
from mrv.registry.core import Registry
from mrv.registry.journal import timestamp
from mrv.registry.models import Account, Batch, CreditBlock, Project, TradingLot
from mrv.registry.money import yuan

ACTIVE = CreditBlock.active == True  # noqa: E712


def list_batches(registry: Registry, *, project: str | None = None) -> list[dict[str, Any]]:
    """Every batch (or a project's) with its totals by status, as ``batch_summary`` gives one."""
    sums = [
        func.coalesce(func.sum(case((CreditBlock.status == s, CreditBlock.quantity), else_=0)), 0)
        for s in STATUSES
    ]
    query = (
        select(Batch, Project.code.label("project"), *sums)
        .join(Project, Project.id == Batch.project_id)
        .outerjoin(CreditBlock, and_(CreditBlock.batch_id == Batch.id, ACTIVE))
        .group_by(Batch.id, Project.code)
        .order_by(Batch.serial_prefix)
    )
    if project is not None:
        query = query.where(Project.code == project)
    with registry.read() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "batch": r.serial_prefix,
            "project": r.project,
            "vintage": r.vintage,
            "issued_tco2e": r.quantity_tco2e,
            "buffer_contribution_tco2e": r.buffer_tco2e,
            "buffer_percent": r.buffer_bp / 100,
            "issued_at": timestamp(r.issued_at),
            **{s: int(v) for s, v in zip(STATUSES, r[-len(STATUSES) :], strict=True)},
        }
        for r in rows
    ]


def list_lots(
    registry: Registry,
    *,
    status: str | None = None,
    batch: str | None = None,
    seller: str | None = None,
) -> list[dict[str, Any]]:
    """Trading lots (optionally by status, batch or seller) in ``get_lot``'s shape, by code."""
    seller_account, buyer_account = aliased(Account), aliased(Account)
    query = (
        select(
            TradingLot,
            seller_account.code.label("seller"),
            buyer_account.code.label("buyer"),
            Batch.serial_prefix,
        )
        .join(seller_account, seller_account.id == TradingLot.seller_account_id)
        .outerjoin(buyer_account, buyer_account.id == TradingLot.buyer_account_id)
        .join(Batch, Batch.id == TradingLot.batch_id)
        .order_by(TradingLot.code)
    )
    if status is not None:
        query = query.where(TradingLot.status == status)
    if batch is not None:
        query = query.where(Batch.serial_prefix == batch)
    if seller is not None:
        query = query.where(seller_account.code == seller)
    with registry.read() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "lot": r.code,
            "status": r.status,
            "seller": r.seller,
            "buyer": r.buyer,
            "batch": r.serial_prefix,
            "quantity_tco2e": r.quantity_tco2e,
            "ask_yuan_per_t": yuan(r.ask_fen_per_t),
            "price_yuan_per_t": yuan(r.price_fen_per_t),
            "fees_yuan": yuan(r.fees_fen),
            "trade_ref": r.trade_ref,
            "settled_on": r.settled_on.isoformat() if r.settled_on else None,
        }
        for r in rows
    ]


def after_id(cursor: str | None) -> int:
    """The record id an id-paged cursor stands for (0: from the start)."""
    if cursor is None:
        return 0
    key = decode_cursor(cursor)
    if isinstance(key, bool) or not isinstance(key, int) or key < 0:
        raise RegistryInputError("invalid cursor", field="cursor")
    return key


def id_page(result: dict[str, Any]) -> Page[dict[str, Any]]:
    """A registry read's ``{"items", "next_cursor": id | None}`` as a page with an opaque cursor."""
    after = result["next_cursor"]
    return Page[dict[str, Any]](
        items=result["items"], next_cursor=None if after is None else encode_cursor(after)
    )


__all__ = ["after_id", "id_page", "list_batches", "list_lots"]
