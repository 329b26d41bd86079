"""Test builders: a registered project with an issued batch, and a settled lot.

TEST SETUP ONLY. Parcels, contracts, the project, its monitoring report (with per-parcel
removals) and a positive verification are inserted directly with SQLAlchemy Core, bypassing the
operations that normally create them, so that tests of issuance, trading, distribution and
retirement do not depend on the whole workflow. Parties are made with the real
``create_party``; the batch, listing and settlement go through the real ``issue``,
``list_lot`` and ``settle_lot``. Several projects can be built in one registry (parties are
shared, parcel and contract codes are prefixed with the project code).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select

from mrv.registry.core import Receipt, Registry
from mrv.registry.issuance import issue
from mrv.registry.models import (
    CollectionContract,
    ContractParcel,
    MonitoringReport,
    Parcel,
    Party,
    Project,
    ProjectParcel,
    Verification,
)
from mrv.registry.parties import create_party
from mrv.registry.trading import list_lot, settle_lot

ADMIN = "root"
COOPERATIVE = "anji-coop"
VALIDATOR = "validator-1"
VERIFIER = "verifier-1"
TRADING_CENTRE = "hz-gtc"
BUYER = "buyer-1"

PARTIES: dict[str, tuple[str, list[str]]] = {
    COOPERATIVE: ("安吉两山竹林碳汇收储合作社", ["cooperative"]),
    VALIDATOR: ("Validation body", ["verifier"]),
    VERIFIER: ("Verification body", ["verifier"]),
    TRADING_CENTRE: ("湖州绿色交易中心", ["trading_centre"]),
    BUYER: ("Buyer Co.", ["buyer"]),
}

DEFAULT_PARCELS: tuple[tuple[str, float, int], ...] = (
    ("P1", 10.0, 8000),
    ("P2", 6.0, 8000),
    ("P3", 4.0, 7000),
)
"""(parcel suffix, area in ha, contract owner share in bp)."""


def ensure_party(registry: Registry, code: str, name: str, roles: Sequence[str]) -> None:
    """Create a party unless it exists (bootstraps the admin on an empty registry)."""
    with registry.read() as conn:
        if conn.execute(select(Party.id).where(Party.code == code)).first() is not None:
            return
    create_party(registry, actor=ADMIN, code=code, name=name, roles=list(roles))


def _square(index: int, offset: int) -> dict[str, Any]:
    lon, lat = 119.6 + 0.01 * index, 30.6 + 0.01 * offset
    ring = [[lon, lat], [lon + 0.005, lat], [lon + 0.005, lat + 0.005], [lon, lat + 0.005]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def issued_batch(
    registry: Registry,
    *,
    verified: int = 1000,
    removals: Mapping[str, float] | None = None,
    risk_score: int = 10,
    project: str = "AJ001",
    parcels: Sequence[tuple[str, float, int]] = DEFAULT_PARCELS,
    claimed: int | None = None,
    period: tuple[dt.date, dt.date] = (dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    land_type: str = "bamboo",
) -> dict[str, Any]:
    """Build a registered project with parcels and contracts and issue one verified report.

    ``parcels`` are ``(suffix, area_ha, owner_share_bp)``; parcel ``{project}-{suffix}`` is owned
    by ``owner-{suffix}`` (a household) under contract ``C-{project}-{suffix}``. ``removals``
    maps parcel *suffixes* to tonnes (``None``: attribution by area). Returns the codes of the
    parties, parcels, contracts, project, the batch prefix and the issuance result.
    """
    ensure_party(registry, ADMIN, "Registry administrator", ["admin"])
    for code, (name, roles) in PARTIES.items():
        ensure_party(registry, code, name, roles)
    owners = [f"owner-{suffix}" for suffix, _, _ in parcels]
    for owner in owners:
        ensure_party(registry, owner, f"农户 {owner}", ["owner_household"])
    parcel_codes = [f"{project}-{suffix}" for suffix, _, _ in parcels]
    contract_codes = [f"C-{project}-{suffix}" for suffix, _, _ in parcels]
    now = registry.clock()

    # --- TEST SETUP: rows normally written by the parcel/contract/project/MRV operations ---
    with registry.engine.begin() as conn:
        ids = dict(
            conn.execute(
                select(Party.code, Party.id).where(
                    Party.code.in_([*owners, COOPERATIVE, VALIDATOR, VERIFIER])
                )
            ).all()
        )
        offset = int(conn.execute(select(func.count()).select_from(Project)).scalar_one())
        project_id = conn.execute(
            insert(Project)
            .values(
                code=project,
                name=f"安吉毛竹林碳汇项目 {project}",
                proponent_party_id=ids[COOPERATIVE],
                validator_party_id=ids[VALIDATOR],
                methodology_id="HZ-BAMBOO-AR",
                methodology_version="1.0",
                land_type=land_type,
                crediting_start=dt.date(2021, 1, 1),
                crediting_end=dt.date(2050, 12, 31),
                risk_score=risk_score,
                status="registered",
                notice_start=dt.date(2023, 6, 1),
                notice_end=dt.date(2023, 6, 30),
                registered_at=now,
                created_at=now,
            )
            .returning(Project.id)
        ).scalar_one()
        for i, ((_suffix, area, share_bp), parcel, contract, owner) in enumerate(
            zip(parcels, parcel_codes, contract_codes, owners, strict=True)
        ):
            geometry = _square(i, offset)
            ring = geometry["coordinates"][0]
            parcel_id = conn.execute(
                insert(Parcel)
                .values(
                    code=parcel,
                    owner_party_id=ids[owner],
                    land_type=land_type,
                    land_right_certificate=f"浙(2023)安吉县林权第{i + 1:07d}号",
                    area_ha=area,
                    area_mu=area * 15,
                    geometry=geometry,
                    geometry_sha256=hashlib.sha256(
                        json.dumps(geometry, sort_keys=True).encode()
                    ).hexdigest(),
                    min_lon=ring[0][0],
                    min_lat=ring[0][1],
                    max_lon=ring[2][0],
                    max_lat=ring[2][1],
                    attributes={},
                    created_at=now,
                )
                .returning(Parcel.id)
            ).scalar_one()
            contract_id = conn.execute(
                insert(CollectionContract)
                .values(
                    code=contract,
                    cooperative_party_id=ids[COOPERATIVE],
                    owner_party_id=ids[owner],
                    start_date=dt.date(2022, 1, 1),
                    end_date=dt.date(2051, 12, 31),
                    annual_payment_li_per_mu=16926,
                    settlement_cycle_years=3,
                    owner_share_bp=share_bp,
                    status="active",
                    signed_at=now,
                )
                .returning(CollectionContract.id)
            ).scalar_one()
            conn.execute(
                insert(ContractParcel).values(contract_id=contract_id, parcel_id=parcel_id)
            )
            conn.execute(
                insert(ProjectParcel).values(
                    project_id=project_id, parcel_id=parcel_id, contract_id=contract_id, active=True
                )
            )
        attribution = {f"{project}-{k}": v for k, v in (removals or {}).items()}
        report_id = conn.execute(
            insert(MonitoringReport)
            .values(
                project_id=project_id,
                seq=1,
                period_start=period[0],
                period_end=period[1],
                evidence_sha256=hashlib.sha256(f"evidence {project}".encode()).hexdigest(),
                claimed_tco2e=claimed or verified,
                parcel_removals=attribution,
                status="verified",
                submitted_at=now,
            )
            .returning(MonitoringReport.id)
        ).scalar_one()
        conn.execute(
            insert(Verification).values(
                report_id=report_id,
                verifier_party_id=ids[VERIFIER],
                status="positive",
                verified_tco2e=verified,
                statement="Positive verification statement (test setup).",
                statement_at=now,
                assigned_at=now,
            )
        )
    # --- end of test setup: from here on, the real operations ---

    issued = issue(registry, actor=ADMIN, project=project, report_seq=1)
    return {
        "admin": ADMIN,
        "cooperative": COOPERATIVE,
        "validator": VALIDATOR,
        "verifier": VERIFIER,
        "trading_centre": TRADING_CENTRE,
        "buyer": BUYER,
        "owners": owners,
        "parcels": parcel_codes,
        "contracts": contract_codes,
        "project": project,
        "batch": issued.result["batch"],
        "held_tco2e": issued.result["held_tco2e"],
        "buffer_tco2e": issued.result["buffer_tco2e"],
        "issuance": issued.result,
    }


def settled_lot(
    registry: Registry,
    built: Mapping[str, Any],
    *,
    quantity: int,
    price_yuan_per_t: Decimal | str,
    fees_yuan: Decimal | str = "0",
    buyer: str = BUYER,
    trade_ref: str = "HZGTC-2026-0001",
    settled_on: dt.date | None = None,
) -> Receipt:
    """List ``quantity`` t of the cooperative's credits and settle them to ``buyer``."""
    listed = list_lot(
        registry,
        actor=built["cooperative"],
        account=built["cooperative"],
        batch=built["batch"],
        quantity=quantity,
        ask_yuan_per_t=price_yuan_per_t,
    )
    return settle_lot(
        registry,
        actor=built["trading_centre"],
        lot=listed.result["lot"],
        buyer=buyer,
        price_yuan_per_t=price_yuan_per_t,
        fees_yuan=fees_yuan,
        trade_ref=trade_ref,
        settled_on=settled_on,
    )
