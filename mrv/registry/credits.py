"""Moving credits between accounts, cancelling them, and compensating reversals from the buffer.

Every operation locks the journal stream of the account the credits leave, takes that account's
blocks in serial order (:func:`mrv.registry.blocks.take`) and re-homes exactly the quantity asked
for, splitting a block where needed. Only the holder moves its credits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select

from mrv.errors import (
    InvalidStateError,
    NotHolderError,
    RegistryInputError,
)
from mrv.registry import lookup
from mrv.registry.blocks import check_quantity, move, ranges_dict, take
from mrv.registry.core import Outcome, Receipt, Registry, Tx
from mrv.registry.models import (
    CANCEL_REASONS,
    REVERSAL_KINDS,
    Batch,
    Cancellation,
    CreditBlock,
    Reversal,
)


def account_stream(account: str) -> str:
    """The journal stream of an account."""
    return f"account:{account}"


def require_holder(tx: Tx, account: str) -> None:
    """Refuse unless the actor is the account's holder."""
    if tx.actor.code != account:
        raise NotHolderError(
            f"{tx.actor.code} is not the holder of account {account}",
            actor=tx.actor.code,
            account=account,
        )


def transfer(
    registry: Registry,
    *,
    actor: str,
    from_account: str,
    to_account: str,
    batch: str,
    quantity: int,
    idempotency_key: str | None = None,
) -> Receipt:
    """Transfer ``quantity`` t of ``batch`` from the actor's account to ``to_account``."""
    quantity = check_quantity(quantity)
    if from_account == to_account:
        raise RegistryInputError("sender and recipient are the same account", field="to_account")
    if to_account == lookup.BUFFER_ACCOUNT:
        raise RegistryInputError("credits cannot be transferred into the buffer pool", field="to")

    def body(tx: Tx) -> Outcome:
        require_holder(tx, from_account)
        source = lookup.account_id(registry, tx.conn, from_account, "from_account")
        target = lookup.account_id(registry, tx.conn, to_account, "to_account")
        b = lookup.batch(registry, tx.conn, batch)
        blocks = take(
            tx.conn,
            account_id=source,
            batch_id=b.id,
            quantity=quantity,
            account_code=from_account,
            batch_label=batch,
        )
        moved, _ = move(tx.conn, blocks, quantity, to_account=target, to_status="held", now=tx.now)
        return Outcome(
            "transfer",
            batch,
            before={"blocks": ranges_dict(blocks, batch)},
            after={
                "from": from_account,
                "to": to_account,
                "batch": batch,
                "quantity_tco2e": quantity,
                "blocks": ranges_dict(moved, batch),
            },
        )

    return registry.execute(
        "transfer",
        actor=actor,
        request={
            "from": from_account,
            "to": to_account,
            "batch": batch,
            "quantity": quantity,
        },
        body=body,
        stream=account_stream(from_account),
        idempotency_key=idempotency_key,
        accounts=(from_account, to_account),
    )


def _check_reason(reason_code: str, reason: str) -> None:
    if reason_code not in CANCEL_REASONS:
        raise RegistryInputError(
            f"unknown cancellation reason {reason_code!r} (known: {', '.join(CANCEL_REASONS)})",
            field="reason_code",
        )
    if not reason.strip():
        raise RegistryInputError("a cancellation needs a reason", field="reason")


def cancel(
    registry: Registry,
    *,
    actor: str,
    account: str,
    batch: str,
    quantity: int,
    reason_code: str,
    reason: str,
    idempotency_key: str | None = None,
) -> Receipt:
    """Cancel held credits (by their holder, or by an admin for fraud/correction, CCER Art. 43)."""
    quantity = check_quantity(quantity)
    _check_reason(reason_code, reason)

    def body(tx: Tx) -> Outcome:
        if tx.actor.code != account:
            tx.require_role("admin")
        source = lookup.account_id(registry, tx.conn, account)
        b = lookup.batch(registry, tx.conn, batch)
        blocks = take(
            tx.conn,
            account_id=source,
            batch_id=b.id,
            quantity=quantity,
            account_code=account,
            batch_label=batch,
        )
        cancellation = tx.conn.execute(
            insert(Cancellation)
            .values(
                account_id=source,
                batch_id=b.id,
                quantity_tco2e=quantity,
                reason_code=reason_code,
                reason=reason,
                cancelled_at=tx.now,
            )
            .returning(Cancellation.id)
        ).scalar_one()
        moved, _ = move(
            tx.conn,
            blocks,
            quantity,
            to_account=source,
            to_status="cancelled",
            cancellation_id=cancellation,
            now=tx.now,
        )
        return Outcome(
            "cancellation",
            str(cancellation),
            before={"blocks": ranges_dict(blocks, batch)},
            after={
                "cancellation_id": cancellation,
                "account": account,
                "batch": batch,
                "quantity_tco2e": quantity,
                "reason_code": reason_code,
                "blocks": ranges_dict(moved, batch),
            },
            reason=reason,
        )

    return registry.execute(
        "cancel",
        actor=actor,
        request={
            "account": account,
            "batch": batch,
            "quantity": quantity,
            "reason_code": reason_code,
            "reason": reason,
        },
        body=body,
        stream=account_stream(account),
        idempotency_key=idempotency_key,
    )


def report_reversal(
    registry: Registry,
    *,
    actor: str,
    project: str,
    loss_tco2e: int,
    kind: str,
    description: str,
    idempotency_key: str | None = None,
) -> Receipt:
    """Record a loss of stored carbon and cancel as many buffer credits (Verra AFOLU practice).

    Buffer credits of the project's own batches go first (oldest first), then the pooled buffer
    of other projects. A loss larger than the whole pool is recorded with the uncompensated rest.
    Bureau, admin or the project's proponent may report.
    """
    loss = check_quantity(loss_tco2e, "loss_tco2e")
    if kind not in REVERSAL_KINDS:
        raise RegistryInputError(
            f"unknown reversal kind {kind!r} (known: {', '.join(REVERSAL_KINDS)})", field="kind"
        )
    if not description.strip():
        raise RegistryInputError("a reversal needs a description", field="description")

    def body(tx: Tx) -> Outcome:
        proj = lookup.project(tx.conn, project)
        if tx.actor.id != proj.proponent_party_id:
            tx.require_role("admin", "bureau")
        if proj.status not in ("registered", "deregistered"):
            raise InvalidStateError(f"project {project} is {proj.status}", project=project)
        pool = lookup.account_id(registry, tx.conn, lookup.BUFFER_ACCOUNT)
        reversal = tx.conn.execute(
            insert(Reversal)
            .values(
                project_id=proj.id,
                kind=kind,
                loss_tco2e=loss,
                description=description,
                reported_at=tx.now,
            )
            .returning(Reversal.id)
        ).scalar_one()
        own_first = (Batch.project_id != proj.id).asc()
        stock = tx.conn.execute(
            select(Batch.id, Batch.serial_prefix, func.sum(CreditBlock.quantity))
            .join(CreditBlock, CreditBlock.batch_id == Batch.id)
            .where(
                CreditBlock.account_id == pool,
                CreditBlock.status == "buffer",
                CreditBlock.active == True,  # noqa: E712
            )
            .group_by(Batch.id, Batch.serial_prefix, Batch.project_id)
            .order_by(own_first, Batch.id)
        ).all()
        left = loss
        cancelled: list[dict[str, Any]] = []
        for batch_id, prefix, available in stock:
            if left == 0:
                break
            n = min(left, int(available))
            blocks = take(
                tx.conn,
                account_id=pool,
                batch_id=batch_id,
                quantity=n,
                status="buffer",
                account_code=lookup.BUFFER_ACCOUNT,
                batch_label=prefix,
            )
            cancellation = tx.conn.execute(
                insert(Cancellation)
                .values(
                    account_id=pool,
                    batch_id=batch_id,
                    quantity_tco2e=n,
                    reason_code="reversal",
                    reason=f"reversal {reversal} of project {project}: {description}",
                    reversal_id=reversal,
                    cancelled_at=tx.now,
                )
                .returning(Cancellation.id)
            ).scalar_one()
            moved, _ = move(
                tx.conn,
                blocks,
                n,
                to_account=pool,
                to_status="cancelled",
                cancellation_id=cancellation,
                now=tx.now,
            )
            cancelled.append(
                {"batch": prefix, "quantity_tco2e": n, "blocks": ranges_dict(moved, prefix)}
            )
            left -= n
        return Outcome(
            "reversal",
            str(reversal),
            after={
                "reversal_id": reversal,
                "project": project,
                "kind": kind,
                "loss_tco2e": loss,
                "compensated_tco2e": loss - left,
                "uncompensated_tco2e": left,
                "cancelled": cancelled,
            },
            reason=description,
        )

    return registry.execute(
        "report_reversal",
        actor=actor,
        request={"project": project, "loss": loss, "kind": kind, "description": description},
        body=body,
        stream=account_stream(lookup.BUFFER_ACCOUNT),
        idempotency_key=idempotency_key,
    )
