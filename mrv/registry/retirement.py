"""Retirement of credits for a purpose, on behalf of a beneficiary, with a certificate.

Purposes: voluntary, offsetting (ETS, event or corporate, CCER Measures Art. 28), ecological
compensation, and judicial ecological restoration (司法生态修复), which needs the case number,
the court or procuratorate, the payer and the restoration site (registries.md §3.6). The
retirement record is persisted (unlike regen-ledger, whose reason lives only in events) and
its certificate content is hashed at retirement; :mod:`mrv.registry.certificate` renders it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select

from mrv.errors import (
    ForbiddenError,
    MissingFieldError,
    RecordNotFoundError,
    RegistryInputError,
)
from mrv.registry import lookup
from mrv.registry.blocks import check_quantity, move, ranges_dict, take
from mrv.registry.core import Outcome, Receipt, Registry, Tx
from mrv.registry.credits import account_stream, require_holder
from mrv.registry.journal import canonical, jsonable, sha256_hex, timestamp
from mrv.registry.models import PURPOSES, Account, Batch, CreditBlock, Project, Retirement

JUDICIAL_FIELDS = ("case_number", "court", "payer", "restoration_site")


def check_purpose(purpose: str, judicial: dict[str, str | None]) -> dict[str, str | None]:
    """Validate the purpose and its fields; returns the judicial fields, stripped."""
    if purpose not in PURPOSES:
        raise RegistryInputError(
            f"unknown retirement purpose {purpose!r} (known: {', '.join(PURPOSES)})",
            field="purpose",
        )
    cleaned = {
        k: (v.strip() if isinstance(v, str) and v.strip() else None) for k, v in judicial.items()
    }
    if purpose == "judicial_restoration":
        for name in JUDICIAL_FIELDS:
            if cleaned.get(name) is None:
                raise MissingFieldError(
                    f"a judicial-restoration retirement needs {name.replace('_', ' ')}",
                    field=name,
                )
    return cleaned


def certificate_content(row: dict[str, Any]) -> dict[str, Any]:
    """The canonical certificate content whose SHA-256 is printed on the certificate."""
    keys = (
        "certificate_no",
        "retired_at",
        "account",
        "beneficiary",
        "purpose",
        "reason",
        "quantity_tco2e",
        "batch",
        "project",
        "vintage",
        "methodology",
        "serials",
        *JUDICIAL_FIELDS,
        "judgment_sha256",
    )
    return {k: jsonable(row.get(k)) for k in keys}


def certificate_hash(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical certificate content."""
    return sha256_hex(canonical(certificate_content(content)))


def _require_retirer(tx: Tx, account: str, purpose: str) -> None:
    """The holder retires its own credits; a court (and only a court, not even an admin) files a
    judicial-restoration retirement on behalf of the payer holding ``account`` (司法生态修复:
    the judgment orders the payer's credits retired)."""
    if tx.actor.code == account:
        return
    if purpose == "judicial_restoration":
        if "court" not in tx.actor.roles and tx.actor.id:  # roles may have been added since
            tx.actor = tx.registry.actor(tx.conn, tx.actor.code, refresh=True)
        if "court" in tx.actor.roles:
            return
        raise ForbiddenError(
            f"{tx.actor.code} is not the holder of account {account}; only a court files a "
            "judicial-restoration retirement on behalf of a payer",
            actor=tx.actor.code,
            account=account,
        )
    require_holder(tx, account)


def retire(
    registry: Registry,
    *,
    actor: str,
    account: str,
    batch: str,
    quantity: int,
    purpose: str,
    beneficiary: str,
    reason: str | None = None,
    case_number: str | None = None,
    court: str | None = None,
    payer: str | None = None,
    restoration_site: str | None = None,
    judgment_sha256: str | None = None,
    idempotency_key: str | None = None,
) -> Receipt:
    """Retire ``quantity`` t of held credits of ``batch`` in ``account`` (the actor's own, or a
    payer's when a court files a judicial restoration); returns the certificate."""
    quantity = check_quantity(quantity)
    judicial = check_purpose(
        purpose,
        {
            "case_number": case_number,
            "court": court,
            "payer": payer,
            "restoration_site": restoration_site,
        },
    )
    if not beneficiary.strip():
        raise MissingFieldError("a retirement needs a beneficiary", field="beneficiary")
    if judgment_sha256 is not None and (
        len(judgment_sha256) != 64 or set(judgment_sha256) - set("0123456789abcdef")
    ):
        raise RegistryInputError(
            "judgment_sha256 must be 64 lowercase hex", field="judgment_sha256"
        )
    certificate_no = f"HZ-RET-{uuid.uuid4().hex[:12].upper()}"

    def body(tx: Tx) -> Outcome:
        _require_retirer(tx, account, purpose)
        holder = lookup.account_id(registry, tx.conn, account)
        b = lookup.batch(registry, tx.conn, batch)
        blocks = take(
            tx.conn,
            account_id=holder,
            batch_id=b.id,
            quantity=quantity,
            account_code=account,
            batch_label=batch,
        )
        project = tx.conn.execute(select(Project).where(Project.id == b.project_id)).one()
        content = {
            "certificate_no": certificate_no,
            "retired_at": timestamp(tx.now),
            "account": account,
            "beneficiary": beneficiary.strip(),
            "purpose": purpose,
            "reason": reason,
            "quantity_tco2e": quantity,
            "batch": batch,
            "project": project.code,
            "vintage": b.vintage,
            "methodology": f"{project.methodology_id} {project.methodology_version}",
            "serials": [r["serial"] for r in _ranges_after_split(blocks, quantity, batch)],
            **judicial,
            "judgment_sha256": judgment_sha256,
        }
        digest = certificate_hash(content)
        retirement = tx.conn.execute(
            insert(Retirement)
            .values(
                certificate_no=certificate_no,
                account_id=holder,
                batch_id=b.id,
                quantity_tco2e=quantity,
                purpose=purpose,
                beneficiary=beneficiary.strip(),
                reason=reason,
                judgment_sha256=judgment_sha256,
                certificate_sha256=digest,
                retired_at=tx.now,
                **judicial,
            )
            .returning(Retirement.id)
        ).scalar_one()
        move(
            tx.conn,
            blocks,
            quantity,
            to_account=holder,
            to_status="retired",
            retirement_id=retirement,
            now=tx.now,
        )
        return Outcome(
            "retirement",
            certificate_no,
            before={"blocks": ranges_dict(blocks, batch)},
            after={**certificate_content(content), "certificate_sha256": digest},
            reason=reason,
        )

    return registry.execute(
        "retire",
        actor=actor,
        request={
            "account": account,
            "batch": batch,
            "quantity": quantity,
            "purpose": purpose,
            "beneficiary": beneficiary,
            "reason": reason,
            **judicial,
            "judgment_sha256": judgment_sha256,
        },
        body=body,
        stream=account_stream(account),
        idempotency_key=idempotency_key,
    )


def _ranges_after_split(blocks: Any, quantity: int, prefix: str) -> list[dict[str, Any]]:
    out, left = [], quantity
    for b in blocks:
        n = min(left, b.quantity)
        out.append({"serial_start": b.serial_start, "serial_end": b.serial_start + n - 1})
        left -= n
    return ranges_dict(out, prefix)


def _record(row: Any, serials: list[tuple[int, int]]) -> dict[str, Any]:
    """The record of a :func:`_retirement_query` row: certificate content, stored hash and
    ``hash_ok`` (the content still hashes to the stored hash)."""
    prefix = row.serial_prefix
    content = {
        "certificate_no": row.certificate_no,
        "retired_at": timestamp(row.retired_at),
        "account": row.account_code,
        "beneficiary": row.beneficiary,
        "purpose": row.purpose,
        "reason": row.reason,
        "quantity_tco2e": row.quantity_tco2e,
        "batch": prefix,
        "project": row.project_code,
        "vintage": row.vintage,
        "methodology": f"{row.methodology_id} {row.methodology_version}",
        "serials": [
            r["serial"]
            for r in ranges_dict([{"serial_start": s, "serial_end": e} for s, e in serials], prefix)
        ],
        "case_number": row.case_number,
        "court": row.court,
        "payer": row.payer,
        "restoration_site": row.restoration_site,
        "judgment_sha256": row.judgment_sha256,
    }
    recomputed = certificate_hash(content)
    return {
        **certificate_content(content),
        "certificate_sha256": row.certificate_sha256,
        "hash_ok": recomputed == row.certificate_sha256,
    }


def _retirement_query() -> Any:
    return (
        select(
            Retirement,
            Batch.serial_prefix,
            Batch.vintage,
            Project.code.label("project_code"),
            Project.methodology_id,
            Project.methodology_version,
            Account.code.label("account_code"),
        )
        .join(Batch, Batch.id == Retirement.batch_id)
        .join(Project, Project.id == Batch.project_id)
        .join(Account, Account.id == Retirement.account_id)
    )


def _records(conn: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
    serials: dict[int | None, list[tuple[int, int]]] = {r.id: [] for r in rows}
    for chunk in range(0, len(rows), 500):  # bounded IN lists
        ids = [r.id for r in rows[chunk : chunk + 500]]
        for retirement_id, start, end in conn.execute(
            select(CreditBlock.retirement_id, CreditBlock.serial_start, CreditBlock.serial_end)
            .where(CreditBlock.retirement_id.in_(ids), CreditBlock.active == True)  # noqa: E712
            .order_by(CreditBlock.serial_start)
        ):
            serials[retirement_id].append((start, end))
    return [_record(r, serials[r.id]) for r in rows]


def get_retirement(registry: Registry, certificate_no: str) -> dict[str, Any]:
    """A retirement's certificate content, its stored hash and whether the content still matches."""
    with registry.read() as conn:
        rows = conn.execute(
            _retirement_query().where(Retirement.certificate_no == certificate_no)
        ).all()
        if not rows:
            raise RecordNotFoundError(
                f"no retirement certificate {certificate_no!r}", field="certificate_no"
            )
        return _records(conn, rows)[0]


def list_retirements(
    registry: Registry, *, account: str | None = None, purpose: str | None = None
) -> list[dict[str, Any]]:
    """Every retirement record (optionally of one account or purpose), oldest first.

    Items are what :func:`get_retirement` gives for each certificate (content, stored hash,
    ``hash_ok``), ordered by retirement time, then certificate number. An unknown account or
    purpose matches nothing.
    """
    query = _retirement_query().order_by(Retirement.retired_at, Retirement.certificate_no)
    if account is not None:
        query = query.where(Account.code == account)
    if purpose is not None:
        query = query.where(Retirement.purpose == purpose)
    with registry.read() as conn:
        return _records(conn, conn.execute(query).all())
