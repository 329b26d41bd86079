"""Exchange formats: the credit blocks as CSV, and the public registry data in CADT's shape.

``credits_csv`` writes every active credit block (the current state of every serial number) with
its serial range, quantity, status, account, batch, project, vintage and methodology.

``cadt_export`` returns the public data in the shape of the Climate Action Data Trust
(Chia-Network/cadt, registries.md §2.1), so the registry can be mirrored or compared with other
registries. Only public data is exported: no money, no household names, no parcel owners, no
parcel geometry (a project's location is the bounding box of its parcels). Mapping:

``projects`` (one per project that has been public, i.e. reached the public notice; drafts and
drafts rejected before a notice are not public):
  warehouseProjectId, projectId = project code; projectName = name; projectDeveloper = the
  proponent cooperative's name; program = ``HZ``; sector = ``Agriculture Forestry and Other Land
  Use``; projectType = :data:`PROJECT_TYPES` by land type; projectStatus = :data:`PROJECT_STATUS`
  (public_notice → Listed, registered → Registered, deregistered → De-registered, rejected after
  its notice → Withdrawn, the nearest CADT value); projectStatusDate = notice start (Listed) or
  registration day (Registered), else null; methodology = ``"<id> <version>"``; validationBody =
  the validator's name; unitMetric = ``tCO2e``; coveredByNDC = ``Unknown``; currentRegistry =
  :data:`REGISTRY_NAME`.

``issuances`` (one per batch): id = the batch's serial prefix; warehouseProjectId; startDate /
endDate = the monitoring period; verificationApproach = :data:`VERIFICATION_APPROACH`;
verificationBody = the verifier's name; verificationReportDate = the statement's day (China).

``units`` (one per active credit block): warehouseUnitId = serialNumberBlock = the block's
serial label (``<prefix>-<start:09d>-<end:09d>``, unique among active blocks); issuanceId = the
batch prefix; projectLocationId; unitBlockStart / unitBlockEnd = the first and last serial
number as 9-digit strings (CADT keeps them as strings); unitCount; vintageYear; unitType =
``Removal - nature``; unitOwner = the holding account's code (``BUFFER`` for the pool);
unitStatus = :data:`UNIT_STATUS` (held → Held, listed → Held with marketplace
:data:`MARKETPLACE` and marketplaceIdentifier = the lot code, retired → Retired, cancelled →
Cancelled, buffer → Buffer); unitStatusReason = ``"<purpose>: <beneficiary>"`` for retired and
``"<reason code>: <reason>"`` for cancelled blocks, else null; correspondingAdjustmentDeclaration
= ``Unknown``; correspondingAdjustmentStatus = ``Not Started``.

``labels`` is empty. ``projectLocations`` (one per exported project): id = ``<project>:location``;
warehouseProjectId; country = ``China``; inCountryRegion = ``Zhejiang, Huzhou``;
geographicIdentifier = the WGS84 bounding box of every parcel the project holds or held, as the
string ``"minLon,minLat,maxLon,maxLat"`` (6 decimals; CADT takes a string).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from mrv.registry import lookup
from mrv.registry.blocks import serial_label
from mrv.registry.core import Registry
from mrv.registry.models import (
    Account,
    Batch,
    Cancellation,
    CreditBlock,
    MonitoringReport,
    Parcel,
    Party,
    Project,
    ProjectParcel,
    Retirement,
    TradingLot,
    Verification,
)

CSV_COLUMNS = (
    "serial",
    "batch",
    "serial_start",
    "serial_end",
    "quantity",
    "status",
    "account",
    "project",
    "vintage",
    "methodology",
)
PROGRAM = "HZ"
REGISTRY_NAME = "Huzhou Carbon Sink Registry"
SECTOR = "Agriculture Forestry and Other Land Use"
MARKETPLACE = "Huzhou Green Trading Centre"
UNIT_TYPE = "Removal - nature"
VERIFICATION_APPROACH = (
    "Verification of the monitoring report by an independent verifier (CCER Measures Art. 18)"
)
PROJECT_STATUS = {
    "public_notice": "Listed",
    "registered": "Registered",
    "deregistered": "De-registered",
    "rejected": "Withdrawn",
}
UNIT_STATUS = {
    "held": "Held",
    "listed": "Held",
    "retired": "Retired",
    "cancelled": "Cancelled",
    "buffer": "Buffer",
}
PROJECT_TYPES = {
    "bamboo": "Bamboo forest management",
    "forest": "Improved forest management",
    "wetland": "Wetland conservation and restoration",
    "farmland": "Farmland soil carbon",
    "tea": "Tea garden management",
}
ACTIVE = CreditBlock.active == True  # noqa: E712
_CHINA = dt.timedelta(hours=8)


@contextmanager
def _atomic(path: Path) -> Iterator[IO[str]]:
    """A text file that replaces ``path`` only when the block completes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def credits_csv(
    registry: Registry, path: Path, *, batch: str | None = None, account: str | None = None
) -> int:
    """Write every active credit block (optionally of one batch / account) to CSV, atomically.

    Columns :data:`CSV_COLUMNS`, ordered by batch and serial; returns the number of rows.
    """
    path = Path(path)
    query = (
        select(
            Batch.serial_prefix,
            CreditBlock.serial_start,
            CreditBlock.serial_end,
            CreditBlock.quantity,
            CreditBlock.status,
            Account.code,
            Project.code,
            Batch.vintage,
            Project.methodology_id,
            Project.methodology_version,
        )
        .join(Batch, Batch.id == CreditBlock.batch_id)
        .join(Account, Account.id == CreditBlock.account_id)
        .join(Project, Project.id == Batch.project_id)
        .where(ACTIVE)
        .order_by(Batch.serial_prefix, CreditBlock.serial_start)
    )
    count = 0
    with registry.read() as conn:
        if batch is not None:
            query = query.where(CreditBlock.batch_id == lookup.batch(registry, conn, batch).id)
        if account is not None:
            query = query.where(
                CreditBlock.account_id == lookup.account_id(registry, conn, account)
            )
        with _atomic(path) as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            for (
                prefix,
                start,
                end,
                qty,
                status,
                acct,
                project,
                vintage,
                mid,
                mver,
            ) in conn.execution_options(yield_per=5000).execute(query):
                writer.writerow(
                    [
                        serial_label(prefix, start, end),
                        prefix,
                        start,
                        end,
                        qty,
                        status,
                        acct,
                        project,
                        vintage,
                        f"{mid} {mver}",
                    ]
                )
                count += 1
    return count


def _china_day(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # SQLite returns naive UTC
            value = value.replace(tzinfo=dt.UTC)
        return (value.astimezone(dt.UTC) + _CHINA).date().isoformat()
    return value.isoformat()


def _status_date(row: Any) -> str | None:
    if row.status == "public_notice":
        return _china_day(row.notice_start)
    if row.status == "registered":
        return _china_day(row.registered_at)
    return None


def _location_id(project: str) -> str:
    return f"{project}:location"


def cadt_export(registry: Registry) -> dict[str, Any]:
    """The registry's public data with CADT's tables and field names (mapping: module docs)."""
    proponent = aliased(Party, name="proponent")
    validator = aliased(Party, name="validator")
    verifier = aliased(Party, name="verifier")
    public = or_(
        Project.notice_start.is_not(None), Project.status.in_(("registered", "deregistered"))
    )
    with registry.read() as conn:
        projects = conn.execute(
            select(
                Project.code,
                Project.name,
                Project.status,
                Project.land_type,
                Project.methodology_id,
                Project.methodology_version,
                Project.notice_start,
                Project.registered_at,
                proponent.name.label("developer"),
                validator.name.label("validation_body"),
            )
            .join(proponent, proponent.id == Project.proponent_party_id)
            .join(validator, validator.id == Project.validator_party_id)
            .where(public, Project.status != "draft")
            .order_by(Project.code)
        ).all()
        boxes = {
            code: (x0, y0, x1, y1)
            for code, x0, y0, x1, y1 in conn.execute(
                select(
                    Project.code,
                    func.min(Parcel.min_lon),
                    func.min(Parcel.min_lat),
                    func.max(Parcel.max_lon),
                    func.max(Parcel.max_lat),
                )
                .join(ProjectParcel, ProjectParcel.project_id == Project.id)
                .join(Parcel, Parcel.id == ProjectParcel.parcel_id)
                .group_by(Project.code)
            )
        }
        issuances = conn.execute(
            select(
                Batch.serial_prefix,
                Project.code,
                MonitoringReport.period_start,
                MonitoringReport.period_end,
                verifier.name.label("verification_body"),
                Verification.statement_at,
            )
            .join(Project, Project.id == Batch.project_id)
            .join(MonitoringReport, MonitoringReport.id == Batch.report_id)
            .join(Verification, Verification.report_id == MonitoringReport.id)
            .join(verifier, verifier.id == Verification.verifier_party_id)
            .order_by(Batch.serial_prefix)
        ).all()
        units = conn.execute(
            select(
                Batch.serial_prefix,
                Project.code.label("project"),
                Batch.vintage,
                CreditBlock.serial_start,
                CreditBlock.serial_end,
                CreditBlock.quantity,
                CreditBlock.status,
                Account.code.label("owner"),
                TradingLot.code.label("lot"),
                Retirement.purpose,
                Retirement.beneficiary,
                Cancellation.reason_code,
                Cancellation.reason,
            )
            .join(Batch, Batch.id == CreditBlock.batch_id)
            .join(Project, Project.id == Batch.project_id)
            .join(Account, Account.id == CreditBlock.account_id)
            .outerjoin(TradingLot, TradingLot.id == CreditBlock.lot_id)
            .outerjoin(Retirement, Retirement.id == CreditBlock.retirement_id)
            .outerjoin(Cancellation, Cancellation.id == CreditBlock.cancellation_id)
            .where(ACTIVE)
            .order_by(Batch.serial_prefix, CreditBlock.serial_start)
        ).all()
    return {
        "projects": [
            {
                "warehouseProjectId": p.code,
                "projectId": p.code,
                "projectName": p.name,
                "projectDeveloper": p.developer,
                "program": PROGRAM,
                "sector": SECTOR,
                "projectType": PROJECT_TYPES[p.land_type],
                "projectStatus": PROJECT_STATUS[p.status],
                "projectStatusDate": _status_date(p),
                "methodology": f"{p.methodology_id} {p.methodology_version}",
                "validationBody": p.validation_body,
                "unitMetric": "tCO2e",
                "coveredByNDC": "Unknown",
                "currentRegistry": REGISTRY_NAME,
            }
            for p in projects
        ],
        "issuances": [
            {
                "id": i.serial_prefix,
                "warehouseProjectId": i.code,
                "startDate": i.period_start.isoformat(),
                "endDate": i.period_end.isoformat(),
                "verificationApproach": VERIFICATION_APPROACH,
                "verificationBody": i.verification_body,
                "verificationReportDate": _china_day(i.statement_at),
            }
            for i in issuances
        ],
        "units": [_unit(u) for u in units],
        "labels": [],
        "projectLocations": [
            {
                "id": _location_id(p.code),
                "warehouseProjectId": p.code,
                "country": "China",
                "inCountryRegion": "Zhejiang, Huzhou",
                "geographicIdentifier": ",".join(f"{v:.6f}" for v in boxes[p.code]),
            }
            for p in projects
            if p.code in boxes
        ],
    }


def _unit(u: Any) -> dict[str, Any]:
    reason = None
    if u.status == "retired":
        reason = f"{u.purpose}: {u.beneficiary}"
    elif u.status == "cancelled":
        reason = f"{u.reason_code}: {u.reason}"
    label = serial_label(u.serial_prefix, u.serial_start, u.serial_end)
    return {
        "warehouseUnitId": label,
        "issuanceId": u.serial_prefix,
        "projectLocationId": _location_id(u.project),
        "serialNumberBlock": label,
        "unitBlockStart": f"{u.serial_start:09d}",
        "unitBlockEnd": f"{u.serial_end:09d}",
        "unitCount": int(u.quantity),
        "vintageYear": int(u.vintage),
        "unitType": UNIT_TYPE,
        "unitOwner": u.owner,
        "unitStatus": UNIT_STATUS[u.status],
        "unitStatusReason": reason,
        "marketplace": MARKETPLACE if u.status == "listed" else None,
        "marketplaceIdentifier": u.lot if u.status == "listed" else None,
        "correspondingAdjustmentDeclaration": "Unknown",
        "correspondingAdjustmentStatus": "Not Started",
    }
