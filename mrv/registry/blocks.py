"""Serial-block mechanics: choosing, splitting and re-homing credit blocks.

A block is an integer serial range of one batch. Changing credits never edits a block: the
blocks involved are deactivated and children are inserted (parent → child lineage). Moving
``q`` tonnes takes an account's active blocks of a batch in serial order and splits the last
one, so the server alone decides every range (registries.md §3.1; CADT issue #127).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from mrv.errors import (
    CreditsListedError,
    InsufficientCreditsError,
    IntegrityViolationError,
    RegistryInputError,
)
from mrv.registry import fastpath
from mrv.registry.models import CreditBlock

MAX_QUANTITY = 10**12


def check_quantity(value: object, field: str = "quantity") -> int:
    """A positive whole number of tonnes (no zero, negatives, fractions, booleans or strings)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise RegistryInputError(
                f"{field} must be a whole number of tonnes, got {value!r}", field=field
            )
    quantity = int(value)
    if quantity <= 0:
        raise RegistryInputError(f"{field} must be positive, got {quantity}", field=field)
    if quantity > MAX_QUANTITY:
        raise RegistryInputError(f"{field} is implausibly large: {quantity}", field=field)
    return quantity


@dataclass(frozen=True)
class Block:
    """An active block as read for a change."""

    id: int
    batch_id: int
    serial_start: int
    serial_end: int
    account_id: int
    status: str
    lot_id: int | None

    @property
    def quantity(self) -> int:
        """Tonnes in the block."""
        return self.serial_end - self.serial_start + 1


def serial_label(prefix: str, start: int, end: int) -> str:
    """Readable serial range, e.g. ``HZ-BAM-AJ001-2025-001-000000001-000001000``."""
    return f"{prefix}-{start:09d}-{end:09d}"


def ranges_dict(blocks: Sequence[Block] | Sequence[dict[str, Any]], prefix: str) -> list[Any]:
    """``[{"serial_start", "serial_end", "quantity", "serial"}]`` for blocks or child dicts."""
    out = []
    for b in blocks:
        start, end = (
            (b.serial_start, b.serial_end)
            if isinstance(b, Block)
            else (b["serial_start"], b["serial_end"])
        )
        out.append(
            {
                "serial_start": start,
                "serial_end": end,
                "quantity": end - start + 1,
                "serial": serial_label(prefix, start, end),
            }
        )
    return out


_COLUMNS = (
    CreditBlock.id,
    CreditBlock.batch_id,
    CreditBlock.serial_start,
    CreditBlock.serial_end,
    CreditBlock.account_id,
    CreditBlock.status,
    CreditBlock.lot_id,
)


def _take_statement() -> Any:
    running = (
        func.sum(CreditBlock.quantity).over(order_by=CreditBlock.serial_start)
        - CreditBlock.quantity
    )
    inner = (
        select(*_COLUMNS, running.label("before"))
        .where(
            CreditBlock.account_id == bindparam("account_id"),
            CreditBlock.batch_id == bindparam("batch_id"),
            CreditBlock.status == bindparam("status"),
            CreditBlock.active == True,  # noqa: E712 - matches the partial index predicate
        )
        .subquery()
    )
    return (
        select(*(inner.c[c.key] for c in _COLUMNS))
        .where(inner.c.before < bindparam("quantity"))
        .order_by(inner.c.serial_start)
    )


_TAKE = _take_statement()
_DEACTIVATE = (
    update(CreditBlock)
    .where(CreditBlock.id.in_(bindparam("ids", expanding=True)), CreditBlock.active == True)  # noqa: E712
    .values(active=False)
)
_INSERT = insert(CreditBlock)


def take(
    conn: Connection,
    *,
    account_id: int,
    batch_id: int,
    quantity: int,
    status: str = "held",
    account_code: str = "",
    batch_label: str = "",
) -> list[Block]:
    """The account's active ``status`` blocks of a batch covering ``quantity``, lowest serial first.

    Only the blocks needed are returned (a running sum in SQL). The caller holds the account's
    journal-stream lock, so no other writer changes these blocks meanwhile.
    """
    fast = fastpath.current(conn)
    if fast is not None:
        rows: Sequence[Any] = fast.take(account_id, batch_id, status, quantity)
    else:
        rows = conn.execute(
            _TAKE,
            {
                "account_id": account_id,
                "batch_id": batch_id,
                "status": status,
                "quantity": quantity,
            },
        ).all()
    blocks = [Block(*row[:7]) for row in rows]
    available = sum(b.quantity for b in blocks)
    if available < quantity:
        _refuse(conn, account_id, batch_id, quantity, available, status, account_code, batch_label)
    return blocks


def _refuse(
    conn: Connection,
    account_id: int,
    batch_id: int,
    quantity: int,
    available: int,
    status: str,
    account_code: str,
    batch_label: str,
) -> None:
    detail = {"account": account_code, "batch": batch_label, "requested": quantity}
    if status == "held":
        listed = conn.execute(
            select(func.coalesce(func.sum(CreditBlock.quantity), 0)).where(
                CreditBlock.account_id == account_id,
                CreditBlock.batch_id == batch_id,
                CreditBlock.status == "listed",
                CreditBlock.active == True,  # noqa: E712
            )
        ).scalar_one()
        if available + int(listed) >= quantity:
            raise CreditsListedError(
                f"{account_code} holds {available} t of {batch_label} free to move; "
                f"{int(listed)} t more are listed in trading lots and locked until the lot is "
                f"settled or withdrawn",
                held=available,
                listed=int(listed),
                **detail,
            )
    raise InsufficientCreditsError(
        f"{account_code} holds {available} t of {batch_label} as {status}, {quantity} t requested",
        available=available,
        **detail,
    )


def move(
    conn: Connection,
    blocks: Sequence[Block],
    quantity: int,
    *,
    to_account: int,
    to_status: str,
    now: Any,
    lot_id: int | None = None,
    retirement_id: int | None = None,
    cancellation_id: int | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Supersede ``blocks`` and insert children: ``quantity`` t re-homed, the rest unchanged.

    Returns ``(moved, remainder)`` child rows (without ids). The remainder of a split block keeps
    the parent's account, status and lot.
    """
    ids = [b.id for b in blocks]
    moved: list[dict[str, Any]] = []
    remainder: list[dict[str, Any]] = []
    left = quantity
    for b in blocks:
        take_n = min(left, b.quantity)
        left -= take_n
        moved.append(
            _child(b, b.serial_start, b.serial_start + take_n - 1, now)
            | {
                "account_id": to_account,
                "status": to_status,
                "lot_id": lot_id,
                "retirement_id": retirement_id,
                "cancellation_id": cancellation_id,
            }
        )
        if take_n < b.quantity:
            remainder.append(_child(b, b.serial_start + take_n, b.serial_end, now))
    rows = moved + remainder
    fast = fastpath.current(conn)
    if fast is not None and fast.supersede(ids, rows):
        return moved, remainder  # queued, sent with the journal append; a stale parent fails it
    done = conn.execute(_DEACTIVATE, {"ids": ids}).rowcount
    if done != len(ids):
        raise IntegrityViolationError("credit blocks changed concurrently; retry", blocks=ids)
    conn.execute(_INSERT, rows)
    return moved, remainder


def _child(parent: Block, start: int, end: int, now: Any) -> dict[str, Any]:
    return {
        "batch_id": parent.batch_id,
        "serial_start": start,
        "serial_end": end,
        "quantity": end - start + 1,
        "account_id": parent.account_id,
        "status": parent.status,
        "active": True,
        "parent_id": parent.id,
        "lot_id": parent.lot_id,
        "retirement_id": None,
        "cancellation_id": None,
        "created_at": now,
    }
