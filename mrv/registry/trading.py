"""Trading lots at the Huzhou green trading centre: list (credits locked), settle, withdraw.

Listing locks the seller's credits (status ``listed``); only the trading centre settles a lot,
from its own trade confirmation (CCER Measures Art. 26: the registry follows the trading
institution's results); settlement moves the credits to the buyer and writes the benefit
distribution in the same transaction. The reference price is the volume-weighted mean settled
price over the last 30 trading days (the Anji collection price rule, registries.md §2.5).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import aliased

from mrv.errors import InvalidStateError, RecordNotFoundError, RegistryInputError
from mrv.registry import calendar, lookup
from mrv.registry.blocks import Block, check_quantity, move, ranges_dict, take
from mrv.registry.core import Outcome, Receipt, Registry, Tx
from mrv.registry.credits import account_stream, require_holder
from mrv.registry.models import Account, Batch, CreditBlock, TradingLot
from mrv.registry.money import to_fen, yuan

REFERENCE_WINDOW_TRADING_DAYS = 30


def list_lot(
    registry: Registry,
    *,
    actor: str,
    account: str,
    batch: str,
    quantity: int,
    ask_yuan_per_t: Decimal | str,
    idempotency_key: str | None = None,
) -> Receipt:
    """List ``quantity`` t of the actor's credits of ``batch`` at an asking price; locks them."""
    quantity = check_quantity(quantity)
    ask = to_fen(ask_yuan_per_t, "ask_yuan_per_t")
    code = f"LOT-{uuid.uuid4().hex[:12].upper()}"

    def body(tx: Tx) -> Outcome:
        require_holder(tx, account)
        seller = lookup.account_id(registry, tx.conn, account)
        b = lookup.batch(registry, tx.conn, batch)
        blocks = take(
            tx.conn,
            account_id=seller,
            batch_id=b.id,
            quantity=quantity,
            account_code=account,
            batch_label=batch,
        )
        lot = tx.conn.execute(
            insert(TradingLot)
            .values(
                code=code,
                seller_account_id=seller,
                batch_id=b.id,
                quantity_tco2e=quantity,
                ask_fen_per_t=ask,
                status="listed",
                listed_at=tx.now,
            )
            .returning(TradingLot.id)
        ).scalar_one()
        moved, _ = move(
            tx.conn, blocks, quantity, to_account=seller, to_status="listed", lot_id=lot, now=tx.now
        )
        return Outcome(
            "trading_lot",
            code,
            before={"blocks": ranges_dict(blocks, batch)},
            after={
                "lot": code,
                "status": "listed",
                "seller": account,
                "batch": batch,
                "quantity_tco2e": quantity,
                "ask_yuan_per_t": yuan(ask),
                "blocks": ranges_dict(moved, batch),
            },
        )

    return registry.execute(
        "list_lot",
        actor=actor,
        request={"account": account, "batch": batch, "quantity": quantity, "ask": yuan(ask)},
        body=body,
        stream=account_stream(account),
        idempotency_key=idempotency_key,
    )


def _open_lot(registry: Registry, tx: Tx, code: str) -> tuple[Any, str, str]:
    """Lock the seller's stream, then read the lot (status read after the lock)."""
    seller_id = tx.conn.execute(  # the seller of a lot never changes: safe to read before the lock
        select(TradingLot.seller_account_id).where(TradingLot.code == code)
    ).scalar()
    if seller_id is None:
        raise RecordNotFoundError(f"no trading lot {code!r}", field="lot", lot=code)
    seller = lookup.account_code(registry, tx.conn, int(seller_id))
    tx.lock_stream(account_stream(seller))
    lot = tx.conn.execute(select(TradingLot).where(TradingLot.code == code)).one()
    if lot.status != "listed":
        raise InvalidStateError(f"trading lot {code} is {lot.status}, not listed", lot=code)
    prefix = tx.conn.execute(
        select(Batch.serial_prefix).where(Batch.id == lot.batch_id)
    ).scalar_one()
    return lot, seller, str(prefix)


def _lot_blocks(tx: Tx, lot: Any) -> list[Block]:
    rows = tx.conn.execute(
        select(
            CreditBlock.id,
            CreditBlock.batch_id,
            CreditBlock.serial_start,
            CreditBlock.serial_end,
            CreditBlock.account_id,
            CreditBlock.status,
            CreditBlock.lot_id,
        )
        .where(
            CreditBlock.lot_id == lot.id,
            CreditBlock.active == True,  # noqa: E712
            CreditBlock.status == "listed",
        )
        .order_by(CreditBlock.serial_start)
    ).all()
    blocks = [Block(*row) for row in rows]
    if sum(b.quantity for b in blocks) != lot.quantity_tco2e:
        raise InvalidStateError(f"trading lot {lot.code} does not hold its listed quantity")
    return blocks


def withdraw_lot(
    registry: Registry, *, actor: str, lot: str, idempotency_key: str | None = None
) -> Receipt:
    """Withdraw a listed lot (the seller or the trading centre); its credits are held again."""

    def body(tx: Tx) -> Outcome:
        row, seller, prefix = _open_lot(registry, tx, lot)
        if tx.actor.code != seller:
            tx.require_role("trading_centre")
        blocks = _lot_blocks(tx, row)
        moved, _ = move(
            tx.conn,
            blocks,
            row.quantity_tco2e,
            to_account=row.seller_account_id,
            to_status="held",
            now=tx.now,
        )
        tx.conn.execute(
            update(TradingLot)
            .where(TradingLot.id == row.id)
            .values(status="withdrawn", closed_at=tx.now)
        )
        return Outcome(
            "trading_lot",
            lot,
            before={"status": "listed"},
            after={
                "lot": lot,
                "status": "withdrawn",
                "seller": seller,
                "batch": prefix,
                "quantity_tco2e": row.quantity_tco2e,
                "blocks": ranges_dict(moved, prefix),
            },
        )

    return registry.execute(
        "withdraw_lot",
        actor=actor,
        request={"lot": lot},
        body=body,
        idempotency_key=idempotency_key,
    )


def settle_lot(
    registry: Registry,
    *,
    actor: str,
    lot: str,
    buyer: str,
    price_yuan_per_t: Decimal | str,
    fees_yuan: Decimal | str = "0",
    trade_ref: str,
    settled_on: dt.date | None = None,
    idempotency_key: str | None = None,
) -> Receipt:
    """Settle a lot to ``buyer`` at a price (the trading centre only) and distribute benefits."""
    from mrv.registry.distribution import distribute  # settlement writes the distribution

    price = to_fen(price_yuan_per_t, "price_yuan_per_t", allow_zero=False)
    fees = to_fen(fees_yuan, "fees_yuan")
    if not trade_ref.strip():
        raise RegistryInputError(
            "the trading centre's confirmation id is required", field="trade_ref"
        )

    def body(tx: Tx) -> Outcome:
        tx.require_role("trading_centre")
        row, seller, prefix = _open_lot(registry, tx, lot)
        buyer_id = lookup.account_id(registry, tx.conn, buyer, "buyer")
        if buyer_id == row.seller_account_id:
            raise RegistryInputError("the buyer is the seller", field="buyer")
        gross = price * row.quantity_tco2e
        if fees > gross:
            raise RegistryInputError(
                f"fees {yuan(fees)} exceed the gross proceeds {yuan(gross)}", field="fees_yuan"
            )
        blocks = _lot_blocks(tx, row)
        moved, _ = move(
            tx.conn, blocks, row.quantity_tco2e, to_account=buyer_id, to_status="held", now=tx.now
        )
        day = settled_on or tx.today
        tx.conn.execute(
            update(TradingLot)
            .where(TradingLot.id == row.id)
            .values(
                status="settled",
                buyer_account_id=buyer_id,
                price_fen_per_t=price,
                fees_fen=fees,
                trade_ref=trade_ref,
                settled_on=day,
                closed_at=tx.now,
            )
        )
        distribution = distribute(tx, lot_id=row.id)
        return Outcome(
            "trading_lot",
            lot,
            before={"status": "listed"},
            after={
                "lot": lot,
                "status": "settled",
                "seller": seller,
                "buyer": buyer,
                "batch": prefix,
                "quantity_tco2e": row.quantity_tco2e,
                "price_yuan_per_t": yuan(price),
                "gross_yuan": yuan(gross),
                "fees_yuan": yuan(fees),
                "trade_ref": trade_ref,
                "settled_on": day.isoformat(),
                "blocks": ranges_dict(moved, prefix),
                "distribution": distribution,
            },
        )

    return registry.execute(
        "settle_lot",
        actor=actor,
        request={
            "lot": lot,
            "buyer": buyer,
            "price": yuan(price),
            "fees": yuan(fees),
            "trade_ref": trade_ref,
            "settled_on": settled_on,
        },
        body=body,
        idempotency_key=idempotency_key,
    )


def _mean_price(value_fen: int, tonnes: int) -> str | None:
    """Volume-weighted mean price in yuan per tonne to the fen (half up); None without tonnes."""
    if not tonnes:
        return None
    return str(
        (Decimal(value_fen) / Decimal(tonnes) / 100).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    )


def reference_price(
    registry: Registry, on: dt.date, window: int = REFERENCE_WINDOW_TRADING_DAYS
) -> dict[str, Any]:
    """Volume-weighted mean settled price over the ``window`` trading days ending on ``on``.

    Returns the price (None without trades), the window's first and last day, the number of lots
    and tonnes. Trading days are China working days (:mod:`mrv.registry.calendar`).
    """
    days = calendar.last_working_days(on, window)
    first, last = days[0], days[-1]
    with registry.read() as conn:
        lots, tonnes, value = conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(TradingLot.quantity_tco2e), 0),
                func.coalesce(func.sum(TradingLot.quantity_tco2e * TradingLot.price_fen_per_t), 0),
            ).where(
                TradingLot.status == "settled",
                TradingLot.settled_on >= first,
                TradingLot.settled_on <= last,
            )
        ).one()
    return {
        "reference_price_yuan_per_t": _mean_price(int(value), int(tonnes)),
        "window_trading_days": window,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "lots": int(lots),
        "quantity_tco2e": int(tonnes),
    }


def price_history(
    registry: Registry, window: int = REFERENCE_WINDOW_TRADING_DAYS
) -> list[dict[str, Any]]:
    """Every day on which at least one lot settled, oldest first, with that day's trades and the
    reference price on that day (:func:`reference_price` with ``window``).

    Items: ``day``, ``trading_day`` (a China trading day; the trading centre may confirm a
    trade on another day, which then counts in the windows of the following trading days),
    ``lots``, ``quantity_tco2e``, ``price_yuan_per_t`` (the day's volume-weighted mean) and
    ``reference_price_yuan_per_t``.
    """
    with registry.read() as conn:
        rows = conn.execute(
            select(
                TradingLot.settled_on,
                func.count(),
                func.sum(TradingLot.quantity_tco2e),
                func.sum(TradingLot.quantity_tco2e * TradingLot.price_fen_per_t),
            )
            .where(TradingLot.status == "settled")
            .group_by(TradingLot.settled_on)
            .order_by(TradingLot.settled_on)
        ).all()
    out = []
    for settled_on, lots, tonnes, value in rows:
        day = cast(dt.date, settled_on)  # settle_lot always sets the day
        reference = reference_price(registry, day, window)
        out.append(
            {
                "day": day.isoformat(),
                "trading_day": calendar.is_working_day(day),
                "lots": int(lots),
                "quantity_tco2e": int(tonnes),
                "price_yuan_per_t": _mean_price(int(value), int(tonnes)),
                "reference_price_yuan_per_t": reference["reference_price_yuan_per_t"],
            }
        )
    return out


def list_lots(
    registry: Registry,
    *,
    status: str | None = None,
    batch: str | None = None,
    seller: str | None = None,
    code: str | None = None,
) -> list[dict[str, Any]]:
    """Trading lots (optionally by status, batch, seller or code) as JSON, by code."""
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
    if code is not None:
        query = query.where(TradingLot.code == code)
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


def get_lot(registry: Registry, code: str) -> dict[str, Any]:
    """A trading lot as JSON."""
    found = list_lots(registry, code=code)
    if not found:
        raise RecordNotFoundError(f"no trading lot {code!r}", field="lot", lot=code)
    return found[0]
