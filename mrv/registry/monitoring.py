"""Monitoring reports: a project's claimed removals over a monitoring period, with evidence hash.

A report is submitted by the project's proponent for a period inside the crediting period; CCER
Measures Art. 17 admits only removals generated after 2020-09-22 and within five years before
the application, and the periods of one project never overlap (registries.md §3.4). The service
refuses an overlap with a named error; the database refuses it too (an exclusion constraint on
PostgreSQL, a trigger on SQLite), rejected reports excepted.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Connection, Row, func, insert, select

from mrv.errors import (
    ForbiddenError,
    InvalidStateError,
    PeriodOverlapError,
    RecordNotFoundError,
    RegistryInputError,
)
from mrv.registry import lookup
from mrv.registry.core import Outcome, Receipt, Registry, Tx
from mrv.registry.journal import jsonable
from mrv.registry.lookup import project_stream
from mrv.registry.models import MonitoringReport, Parcel, Project, ProjectParcel

CCER_CUTOFF = dt.date(2020, 9, 22)
"""Removals must be generated *after* this day (CCER Measures Art. 17): periods start later."""
LOOKBACK_YEARS = 5
"""Removals must be generated within five years before the application (CCER Measures Art. 17)."""
REMOVALS_TOLERANCE_T = 1.0
"""Largest gap between the sum of per-parcel removals and the claimed whole tonnes.

The claim is an integer while the MRV pipeline's per-parcel removals are fractional; rounding
the sum (or flooring it, as a conservative claim does) moves it by less than one tonne, so an
absolute 1 t tolerance accepts every honest rounding and refuses attributions of another claim.
"""
SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_TONNES = 10**12
"""Upper bound of a quantity (keeps absurd values away from the BIGINT columns)."""


def check_tonnes(value: object, field: str) -> int:
    """A positive whole number of tonnes: no zero, negatives, floats, booleans or strings."""
    if type(value) is not int:
        raise RegistryInputError(
            f"{field} must be a whole number of tonnes (an integer), got {value!r}", field=field
        )
    if value <= 0:
        raise RegistryInputError(f"{field} must be positive, got {value}", field=field)
    if value > MAX_TONNES:
        raise RegistryInputError(f"{field} is implausibly large: {value}", field=field)
    return value


def check_text(value: str, field: str) -> str:
    """Non-empty text (stripped)."""
    if not isinstance(value, str) or not value.strip():
        raise RegistryInputError(f"{field} must not be empty", field=field)
    return value.strip()


def _check_removals(removals: Mapping[str, float] | None, claimed: int) -> dict[str, float]:
    """Per-parcel removals: finite, >= 0, summing to ``claimed`` within 1 t."""
    if removals is None:
        return {}
    if not isinstance(removals, Mapping):
        raise RegistryInputError(
            "parcel_removals must map parcel codes to tonnes", field="parcel_removals"
        )
    clean: dict[str, float] = {}
    for parcel, value in removals.items():
        if not isinstance(parcel, str) or not parcel.strip():
            raise RegistryInputError(
                f"parcel_removals has an invalid parcel code {parcel!r}", field="parcel_removals"
            )
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise RegistryInputError(
                f"parcel_removals[{parcel!r}] must be a finite number >= 0, got {value!r}",
                field="parcel_removals",
                parcel=parcel,
            )
        clean[parcel] = float(value)
    if clean:
        total = math.fsum(clean.values())
        if abs(total - claimed) > REMOVALS_TOLERANCE_T:
            raise RegistryInputError(
                f"parcel_removals sum to {total:g} t but claimed_tco2e is {claimed} t "
                f"(they must agree within {REMOVALS_TOLERANCE_T:g} t)",
                field="parcel_removals",
                total=total,
                claimed_tco2e=claimed,
            )
    return clean


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def require_proponent(tx: Tx, project: Row[Any], *, admin: bool = True) -> None:
    """Refuse unless the actor is the project's proponent (or, with ``admin``, an admin)."""
    if tx.actor.id == project.proponent_party_id:
        return
    if admin:
        try:
            tx.require_role("admin")
            return
        except ForbiddenError:
            pass
    raise ForbiddenError(
        f"{tx.actor.code} is not the proponent of project {project.code}",
        actor=tx.actor.code,
        project=project.code,
    )


def report_row(conn: Connection, project: Row[Any], seq: int) -> Row[Any]:
    """Report ``seq`` of ``project`` (a project row)."""
    row = conn.execute(
        select(MonitoringReport).where(
            MonitoringReport.project_id == project.id, MonitoringReport.seq == seq
        )
    ).first()
    if row is None:
        raise RecordNotFoundError(
            f"project {project.code} has no monitoring report {seq}",
            field="report_seq",
            project=project.code,
            report_seq=seq,
        )
    return row


def report_dict(project_code: str, row: Row[Any]) -> dict[str, Any]:
    """A report as JSON (dates as ISO strings)."""
    return dict(
        jsonable(
            {
                "project": project_code,
                "seq": row.seq,
                "period_start": row.period_start,
                "period_end": row.period_end,
                "evidence_sha256": row.evidence_sha256,
                "claimed_tco2e": int(row.claimed_tco2e),
                "parcel_removals": dict(row.parcel_removals),
                "status": row.status,
                "submitted_at": row.submitted_at,
            }
        )
    )


def _check_period(tx: Tx, project: Row[Any], start: dt.date, end: dt.date) -> None:
    """Crediting period, no future period, CCER Art. 17 cut-off and five-year look-back."""
    if start < project.crediting_start or end > project.crediting_end:
        raise RegistryInputError(
            f"period {start}–{end} lies outside the crediting period of project {project.code} "
            f"({project.crediting_start}–{project.crediting_end})",
            field="period_start" if start < project.crediting_start else "period_end",
        )
    if end > tx.today:
        raise RegistryInputError(
            f"period_end {end} is in the future (today is {tx.today})", field="period_end"
        )
    if start <= CCER_CUTOFF:
        raise RegistryInputError(
            f"period_start {start}: removals must be generated after {CCER_CUTOFF} "
            "(CCER Measures Art. 17)",
            field="period_start",
        )
    earliest = _years_before(tx.today, LOOKBACK_YEARS)
    if start < earliest:
        raise RegistryInputError(
            f"period_start {start} is more than {LOOKBACK_YEARS} years before the application "
            f"({tx.today}); the earliest admissible start is {earliest} (CCER Measures Art. 17)",
            field="period_start",
            earliest=earliest.isoformat(),
        )


def _check_overlap(tx: Tx, project: Row[Any], start: dt.date, end: dt.date) -> None:
    earlier = tx.conn.execute(
        select(MonitoringReport.seq, MonitoringReport.period_start, MonitoringReport.period_end)
        .where(
            MonitoringReport.project_id == project.id,
            MonitoringReport.status != "rejected",
            MonitoringReport.period_start <= end,
            MonitoringReport.period_end >= start,
        )
        .order_by(MonitoringReport.seq)
    ).first()
    if earlier is not None:
        raise PeriodOverlapError(
            f"period {start}–{end} overlaps the period {earlier.period_start}–"
            f"{earlier.period_end} of report {earlier.seq} of project {project.code}",
            field="period_start",
            project=project.code,
            report_seq=int(earlier.seq),
            period=[start.isoformat(), end.isoformat()],
            earlier_period=[earlier.period_start.isoformat(), earlier.period_end.isoformat()],
        )


def _check_parcels(tx: Tx, project: Row[Any], codes: list[str]) -> None:
    if not codes:
        return
    found = set(
        tx.conn.execute(
            select(Parcel.code)
            .join(ProjectParcel, ProjectParcel.parcel_id == Parcel.id)
            .where(
                ProjectParcel.project_id == project.id,
                ProjectParcel.active.is_(True),
                Parcel.code.in_(codes),
            )
        ).scalars()
    )
    unknown = sorted(set(codes) - found)
    if unknown:
        raise RecordNotFoundError(
            f"parcel {', '.join(unknown)} is not an active parcel of project {project.code}",
            field="parcel_removals",
            parcel=unknown[0],
            parcels=unknown,
            project=project.code,
        )


def submit_report(
    registry: Registry,
    *,
    actor: str,
    project: str,
    period_start: dt.date,
    period_end: dt.date,
    evidence_sha256: str,
    claimed_tco2e: int,
    parcel_removals: Mapping[str, float] | None = None,
    idempotency_key: str | None = None,
) -> Receipt:
    """Submit a monitoring report of a registered project (its proponent or an admin).

    Rules: period inside the crediting period, not in the future, after 2020-09-22 and starting
    at most five years before today (CCER Measures Art. 17); no overlap with an earlier
    non-rejected period; evidence is the SHA-256 of the evidence package; per-parcel removals
    name active parcels of the project and sum to the claim within 1 t.
    """
    for name, value in (("period_start", period_start), ("period_end", period_end)):
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise RegistryInputError(f"{name} must be a date, got {value!r}", field=name)
    if period_end < period_start:
        raise RegistryInputError(
            f"period_end {period_end} is before period_start {period_start}", field="period_end"
        )
    if not isinstance(evidence_sha256, str) or not SHA256.fullmatch(evidence_sha256):
        raise RegistryInputError(
            "evidence_sha256 must be 64 lowercase hexadecimal characters (a SHA-256 digest)",
            field="evidence_sha256",
        )
    claimed = check_tonnes(claimed_tco2e, "claimed_tco2e")
    removals = _check_removals(parcel_removals, claimed)

    def body(tx: Tx) -> Outcome:
        row = lookup.project(tx.conn, project)
        require_proponent(tx, row)
        if row.status != "registered":
            raise InvalidStateError(
                f"project {project} is {row.status}; reports need a registered project",
                field="project",
                project=project,
                status=row.status,
            )
        _check_period(tx, row, period_start, period_end)
        _check_overlap(tx, row, period_start, period_end)
        _check_parcels(tx, row, list(removals))
        count = tx.conn.execute(
            select(func.count())
            .select_from(MonitoringReport)
            .where(MonitoringReport.project_id == row.id)
        ).scalar_one()
        seq = int(count) + 1
        tx.conn.execute(
            insert(MonitoringReport).values(
                project_id=row.id,
                seq=seq,
                period_start=period_start,
                period_end=period_end,
                evidence_sha256=evidence_sha256,
                claimed_tco2e=claimed,
                parcel_removals=removals,
                status="submitted",
                submitted_at=tx.now,
            )
        )
        after = report_dict(project, report_row(tx.conn, row, seq))
        return Outcome("monitoring_report", f"{project}/{seq}", after=after)

    return registry.execute(
        "submit_report",
        actor=actor,
        request={
            "project": project,
            "period_start": period_start,
            "period_end": period_end,
            "evidence_sha256": evidence_sha256,
            "claimed_tco2e": claimed,
            "parcel_removals": removals,
        },
        body=body,
        stream=project_stream(project),
        idempotency_key=idempotency_key,
    )


def get_report(registry: Registry, project: str, seq: int) -> dict[str, Any]:
    """Monitoring report ``seq`` of ``project``."""
    with registry.read() as conn:
        return report_dict(project, report_row(conn, lookup.project(conn, project), seq))


def list_reports(registry: Registry, project: str) -> list[dict[str, Any]]:
    """The monitoring reports of ``project`` in submission order."""
    with registry.read() as conn:
        row = lookup.project(conn, project)
        rows = conn.execute(
            select(MonitoringReport)
            .where(MonitoringReport.project_id == row.id)
            .order_by(MonitoringReport.seq)
        ).all()
    return [report_dict(project, r) for r in rows]


def list_awaiting_verifier(registry: Registry) -> list[dict[str, Any]]:
    """The submitted reports of every project (no verifier assigned yet), by project code and
    seq: each report as :func:`report_dict` with ``project_name``."""
    with registry.read() as conn:
        rows = conn.execute(
            select(
                Project.code.label("project_code"),
                Project.name.label("project_name"),
                MonitoringReport,
            )
            .join(MonitoringReport, MonitoringReport.project_id == Project.id)
            .where(MonitoringReport.status == "submitted")
            .order_by(Project.code, MonitoringReport.seq)
        ).all()
    return [
        {**report_dict(r.project_code, cast("Row[Any]", r)), "project_name": r.project_name}
        for r in rows
    ]
