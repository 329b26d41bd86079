"""Issuance: one batch of serial-numbered credits per verified monitoring report.

The buffer share follows the project's non-permanence risk score, as in Verra's AFOLU
Non-Permanence Risk Tool: buffer % = max(minimum, score), a score above the fail threshold
refuses issuance. The minimum (10 %) and threshold (60) are NPRT v4.0 values recalled in
registries.md §2.3 and not confirmed against NPRT v4.2 (which raised the minimum): every
issuance result carries them under ``unconfirmed_parameters``. The buffer is rounded up,
``ceil(verified × buffer %)``; the serials ``1 … verified`` are split into the proponent's
block followed by the buffer block.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update

from mrv.errors import DoubleIssuanceError, InvalidStateError, RecordNotFoundError
from mrv.registry import lookup
from mrv.registry.blocks import ranges_dict
from mrv.registry.core import Outcome, Receipt, Registry, Tx
from mrv.registry.models import Batch, CreditBlock, MonitoringReport, Verification

PROGRAMME = "HZ"
"""Serial prefix of the Huzhou programme."""
LAND_TYPE_CODES = {
    "bamboo": "BAM",
    "forest": "FOR",
    "wetland": "WET",
    "farmland": "FRM",
    "tea": "TEA",
}


def buffer_percent(risk_score: int, minimum: int, fail_score: int) -> int:
    """Buffer share in % for a risk score (NPRT style): ``max(minimum, score)``.

    >>> buffer_percent(15, 10, 60), buffer_percent(4, 10, 60)
    (15, 10)
    """
    if risk_score > fail_score:
        raise InvalidStateError(
            f"risk score {risk_score} exceeds the fail threshold {fail_score}: not issuable",
            risk_score=risk_score,
            fail_score=fail_score,
        )
    return max(minimum, risk_score)


def buffer_tonnes(verified_tco2e: int, percent: int) -> int:
    """``ceil(verified × percent / 100)`` in exact integer arithmetic.

    >>> buffer_tonnes(1234, 15), buffer_tonnes(1000, 10)
    (186, 100)
    """
    return -(-verified_tco2e * percent // 100)


def serial_prefix(land_type: str, project: str, vintage: int, batch_no: int) -> str:
    """``programme-landtype-project-vintage-batch``, e.g. ``HZ-BAM-AJ001-2025-001``."""
    return f"{PROGRAMME}-{LAND_TYPE_CODES[land_type]}-{project}-{vintage}-{batch_no:03d}"


def issue(
    registry: Registry,
    *,
    actor: str,
    project: str,
    report_seq: int,
    idempotency_key: str | None = None,
) -> Receipt:
    """Issue the credits of a positively verified monitoring report (registry admin only)."""

    def body(tx: Tx) -> Outcome:
        tx.require_role("admin")
        proj = lookup.project(tx.conn, project)
        if proj.status != "registered":
            raise InvalidStateError(
                f"project {project} is {proj.status}, not registered", project=project
            )
        report = tx.conn.execute(
            select(MonitoringReport).where(
                MonitoringReport.project_id == proj.id, MonitoringReport.seq == report_seq
            )
        ).first()
        if report is None:
            raise RecordNotFoundError(
                f"project {project} has no monitoring report {report_seq}", field="report_seq"
            )
        existing = tx.conn.execute(
            select(Batch.serial_prefix).where(Batch.report_id == report.id)
        ).scalar()
        if existing is not None:
            raise DoubleIssuanceError(
                f"monitoring report {project}/{report_seq} was already issued as {existing}",
                batch=existing,
            )
        verification = tx.conn.execute(
            select(Verification).where(Verification.report_id == report.id)
        ).first()
        if report.status != "verified" or verification is None or verification.status != "positive":
            raise InvalidStateError(
                f"monitoring report {project}/{report_seq} is {report.status}; only a report with "
                "a positive verification statement can be issued",
                status=report.status,
            )
        verified = int(verification.verified_tco2e)
        percent = buffer_percent(
            int(proj.risk_score),
            tx.settings.buffer_min_percent,
            tx.settings.buffer_fail_score,
        )
        buffer = buffer_tonnes(verified, percent)
        batch_no = (
            1
            + tx.conn.execute(
                select(func.count()).select_from(Batch).where(Batch.project_id == proj.id)
            ).scalar_one()
        )
        vintage = report.period_end.year
        prefix = serial_prefix(proj.land_type, project, vintage, batch_no)
        batch_id = tx.conn.execute(
            insert(Batch)
            .values(
                report_id=report.id,
                project_id=proj.id,
                batch_no=batch_no,
                serial_prefix=prefix,
                vintage=vintage,
                quantity_tco2e=verified,
                buffer_tco2e=buffer,
                buffer_bp=percent * 100,
                risk_score=proj.risk_score,
                issued_at=tx.now,
            )
            .returning(Batch.id)
        ).scalar_one()
        proponent = lookup.party_code(tx.conn, proj.proponent_party_id)
        holder = lookup.account_id(registry, tx.conn, proponent)
        pool = lookup.account_id(registry, tx.conn, lookup.BUFFER_ACCOUNT)
        blocks: list[dict[str, Any]] = []
        if verified > buffer:
            blocks.append(_block(batch_id, 1, verified - buffer, holder, "held", tx))
        if buffer:
            blocks.append(_block(batch_id, verified - buffer + 1, verified, pool, "buffer", tx))
        tx.conn.execute(insert(CreditBlock), blocks)
        tx.conn.execute(
            update(MonitoringReport).where(MonitoringReport.id == report.id).values(status="issued")
        )
        after = {
            "batch": prefix,
            "project": project,
            "report_seq": report_seq,
            "vintage": vintage,
            "quantity_tco2e": verified,
            "buffer_tco2e": buffer,
            "buffer_percent": percent,
            "risk_score": int(proj.risk_score),
            "holder": proponent,
            "held_tco2e": verified - buffer,
            "blocks": {
                "held": ranges_dict(blocks[:1], prefix) if verified > buffer else [],
                "buffer": ranges_dict(blocks[-1:], prefix) if buffer else [],
            },
            "unconfirmed_parameters": [
                {
                    "name": "buffer_min_percent",
                    "value": tx.settings.buffer_min_percent,
                    "source": "Verra AFOLU NPRT v4.0 minimum, recalled (registries.md §2.3 [U])",
                },
                {
                    "name": "buffer_fail_score",
                    "value": tx.settings.buffer_fail_score,
                    "source": "Verra AFOLU NPRT v4.0 fail threshold, recalled [U]",
                },
            ],
        }
        return Outcome("batch", prefix, after=after, before={"report_status": report.status})

    return registry.execute(
        "issue",
        actor=actor,
        request={"project": project, "report_seq": report_seq},
        body=body,
        stream=lookup.project_stream(project),
        idempotency_key=idempotency_key,
    )


def _block(
    batch_id: int, start: int, end: int, account: int, status: str, tx: Tx
) -> dict[str, Any]:
    return {
        "batch_id": batch_id,
        "serial_start": start,
        "serial_end": end,
        "quantity": end - start + 1,
        "account_id": account,
        "status": status,
        "active": True,
        "parent_id": None,
        "lot_id": None,
        "retirement_id": None,
        "cancellation_id": None,
        "created_at": tx.now,
    }
