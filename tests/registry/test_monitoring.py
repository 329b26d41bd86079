"""Monitoring reports: submission rules (CCER Art. 17), period overlap in service and database."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from mrv.errors import (
    ForbiddenError,
    InvalidStateError,
    PeriodOverlapError,
    RecordNotFoundError,
    RegistryError,
    RegistryInputError,
)
from mrv.registry.core import Registry
from mrv.registry.models import (
    CollectionContract,
    ContractParcel,
    Finding,
    JournalEvent,
    JournalStream,
    MonitoringReport,
    Parcel,
    Party,
    Project,
    ProjectParcel,
    Verification,
)
from mrv.registry.monitoring import get_report, list_reports, submit_report
from mrv.registry.parties import create_party

HASH = "0123456789abcdef" * 4
D = dt.date
UTC = dt.UTC


# --- test setup only -------------------------------------------------------------------------
# Parties go through the real create_party; parcels, contracts, projects and project_parcels are
# inserted directly with SQLAlchemy Core because their operations (parcels.py, contracts.py,
# projects.py) are written in parallel. This is TEST SETUP ONLY: it bypasses every rule and the
# journal. Replace it with the real project functions once they exist.

PARTIES: list[tuple[str, list[str]]] = [
    ("coop", ["cooperative"]),  # proponent of PRJ, cooperative of contract C1
    ("val", ["verifier"]),  # validator of PRJ
    ("ver", ["verifier"]),  # an independent verifier
    ("hh1", ["owner_household", "verifier"]),  # owns parcel P1 (contract C1)
    ("hh2", ["owner_household"]),  # owns parcels P2 and P3
    ("coop2", ["cooperative", "verifier"]),  # cooperative of contract C2 (covers P2)
    ("bureau", ["bureau"]),
    ("buyer", ["buyer"]),
]


def _square(lon: float, lat: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def setup_world(registry: Registry) -> None:
    """Parties (real operation), then project rows inserted directly (test setup only).

    PRJ: registered, proponent coop, validator val, crediting 2020-01-01 – 2049-12-31, active
    parcels P1 (owner hh1, contract C1 coop↔hh1) and P2 (owner hh2, contract C2 coop2↔hh2).
    P3 (owner hh2) is in no project. DRAFT: a project still in draft, no parcels.
    """
    create_party(registry, actor="root", code="root", name="Registry", roles=["admin"])
    for code, roles in PARTIES:
        create_party(registry, actor="root", code=code, name=code.upper(), roles=roles)
    with registry.engine.begin() as conn:
        ids = {r.code: r.id for r in conn.execute(select(Party.code, Party.id))}
        parcel_ids = {}
        for i, (code, owner) in enumerate([("P1", "hh1"), ("P2", "hh2"), ("P3", "hh2")]):
            lon, lat = 119.6 + 0.02 * i, 30.6
            parcel_ids[code] = conn.execute(
                insert(Parcel)
                .values(
                    code=code,
                    owner_party_id=ids[owner],
                    land_type="bamboo",
                    area_ha=10.0,
                    area_mu=150.0,
                    geometry=_square(lon, lat),
                    geometry_sha256=f"{i}" * 64,
                    min_lon=lon,
                    min_lat=lat,
                    max_lon=lon + 0.01,
                    max_lat=lat + 0.01,
                    attributes={},
                )
                .returning(Parcel.id)
            ).scalar_one()
        contract_ids = {}
        for code, coop, owner, parcel in [
            ("C1", "coop", "hh1", "P1"),
            ("C2", "coop2", "hh2", "P2"),
        ]:
            contract_ids[code] = conn.execute(
                insert(CollectionContract)
                .values(
                    code=code,
                    cooperative_party_id=ids[coop],
                    owner_party_id=ids[owner],
                    start_date=D(2020, 1, 1),
                    end_date=D(2049, 12, 31),
                    annual_payment_li_per_mu=16926,
                    settlement_cycle_years=3,
                    owner_share_bp=8000,
                    status="active",
                )
                .returning(CollectionContract.id)
            ).scalar_one()
            conn.execute(
                insert(ContractParcel).values(
                    contract_id=contract_ids[code], parcel_id=parcel_ids[parcel]
                )
            )
        project_ids = {}
        for code, status in [("PRJ", "registered"), ("DRAFT", "draft")]:
            project_ids[code] = conn.execute(
                insert(Project)
                .values(
                    code=code,
                    name=f"{code} bamboo",
                    proponent_party_id=ids["coop"],
                    validator_party_id=ids["val"],
                    methodology_id="CCER-14-001",
                    methodology_version="V01",
                    land_type="bamboo",
                    crediting_start=D(2020, 1, 1),
                    crediting_end=D(2049, 12, 31),
                    risk_score=20,
                    status=status,
                    registered_at=dt.datetime(2025, 6, 1, tzinfo=UTC)
                    if status == "registered"
                    else None,
                )
                .returning(Project.id)
            ).scalar_one()
        conn.execute(
            insert(ProjectParcel),
            [
                {
                    "project_id": project_ids["PRJ"],
                    "parcel_id": parcel_ids[p],
                    "contract_id": contract_ids[c],
                    "active": True,
                }
                for p, c in [("P1", "C1"), ("P2", "C2")]
            ],
        )


# --- helpers ---------------------------------------------------------------------------------


def snapshot(registry: Registry) -> dict[str, Any]:
    """Row counts of the journal and the verification tables, and every status."""
    with registry.read() as conn:
        counts = {
            m.__tablename__: conn.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (JournalEvent, JournalStream, MonitoringReport, Verification, Finding)
        }
        counts["report_status"] = conn.execute(
            select(MonitoringReport.seq, MonitoringReport.status).order_by(MonitoringReport.id)
        ).all()
        counts["verification_status"] = conn.execute(
            select(Verification.id, Verification.status).order_by(Verification.id)
        ).all()
        counts["finding_status"] = conn.execute(
            select(Finding.id, Finding.status).order_by(Finding.id)
        ).all()
    return counts


def report_args(**override: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "actor": "coop",
        "project": "PRJ",
        "period_start": D(2024, 1, 1),
        "period_end": D(2024, 12, 31),
        "evidence_sha256": HASH,
        "claimed_tco2e": 1200,
        "parcel_removals": {"P1": 700.4, "P2": 499.9},
    }
    args.update(override)
    return args


@pytest.fixture
def world(registry: Registry) -> Registry:
    setup_world(registry)
    return registry


# --- tests -----------------------------------------------------------------------------------


def test_submit_report_and_read_it_back(world: Registry, clock: Any) -> None:
    clock.set(dt.datetime(2026, 3, 2, 3, 0, tzinfo=UTC))  # 11:00 in China
    receipt = submit_report(world, **report_args())
    expected = {
        "project": "PRJ",
        "seq": 1,
        "period_start": "2024-01-01",
        "period_end": "2024-12-31",
        "evidence_sha256": HASH,
        "claimed_tco2e": 1200,
        "parcel_removals": {"P1": 700.4, "P2": 499.9},
        "status": "submitted",
        "submitted_at": "2026-03-02T03:00:00.000001Z",
    }
    assert receipt.result == expected
    assert (receipt.stream, receipt.seq, receipt.operation) == ("project:PRJ", 1, "submit_report")
    assert get_report(world, "PRJ", 1) == expected
    # an admin may submit too; no attribution = by parcel area; the sum 700.5 + 500.5 = 1201.0 t
    # is exactly 1 t above a claim of 1200 t: the edge of the tolerance, accepted
    second = submit_report(
        world,
        **report_args(
            actor="root",
            period_start=D(2025, 1, 1),
            period_end=D(2025, 6, 30),
            claimed_tco2e=1200,
            parcel_removals={"P1": 700.5, "P2": 500.5},
        ),
    )
    third = submit_report(
        world,
        **report_args(
            period_start=D(2025, 7, 1),
            period_end=D(2026, 3, 2),  # ends today (China date): allowed
            claimed_tco2e=333,
            parcel_removals=None,
        ),
    )
    assert (second.result["seq"], second.seq, third.result["seq"]) == (2, 2, 3)
    assert [
        (r["seq"], r["period_end"], r["parcel_removals"]) for r in list_reports(world, "PRJ")
    ] == [
        (1, "2024-12-31", {"P1": 700.4, "P2": 499.9}),
        (2, "2025-06-30", {"P1": 700.5, "P2": 500.5}),
        (3, "2026-03-02", {}),
    ]
    with world.read() as conn:
        events = conn.execute(
            select(JournalEvent.actor, JournalEvent.entity_type, JournalEvent.entity_id)
            .where(JournalEvent.stream == "project:PRJ")
            .order_by(JournalEvent.seq)
        ).all()
    assert [tuple(e) for e in events] == [
        ("coop", "monitoring_report", "PRJ/1"),
        ("root", "monitoring_report", "PRJ/2"),
        ("coop", "monitoring_report", "PRJ/3"),
    ]


def test_idempotent_submission(world: Registry) -> None:
    a = submit_report(world, **report_args(), idempotency_key="mr-1")
    b = submit_report(world, **report_args(), idempotency_key="mr-1")
    assert b.replayed and b.event_id == a.event_id and b.result == a.result
    assert len(list_reports(world, "PRJ")) == 1


def test_five_year_lookback_boundary(world: Registry) -> None:
    # today is 2026-03-02 in China: the earliest admissible start is 2021-03-02
    with pytest.raises(RegistryInputError, match="earliest admissible start is 2021-03-02") as e:
        submit_report(world, **report_args(period_start=D(2021, 3, 1), period_end=D(2021, 12, 31)))
    assert e.value.detail["field"] == "period_start"
    ok = submit_report(world, **report_args(period_start=D(2021, 3, 2), period_end=D(2021, 12, 31)))
    assert ok.result["period_start"] == "2021-03-02"


def test_removals_must_be_generated_after_2020_09_22(world: Registry, clock: Any) -> None:
    clock.set(dt.datetime(2024, 6, 1, 2, 0, tzinfo=UTC))  # look-back reaches back to 2019-06-01
    with pytest.raises(RegistryInputError, match="after 2020-09-22") as e:
        submit_report(world, **report_args(period_start=D(2020, 9, 22), period_end=D(2020, 12, 31)))
    assert e.value.detail["field"] == "period_start"
    ok = submit_report(
        world, **report_args(period_start=D(2020, 9, 23), period_end=D(2020, 12, 31))
    )
    assert ok.result["seq"] == 1


def test_every_refusal_writes_nothing(world: Registry) -> None:
    submit_report(world, **report_args())  # report 1: 2024-01-01 – 2024-12-31
    before = snapshot(world)
    cases: list[tuple[dict[str, Any], type[RegistryError], str, str | None]] = [
        # overlap with report 1 (one shared day)
        (
            {"period_start": D(2024, 12, 31), "period_end": D(2025, 3, 31)},
            PeriodOverlapError,
            r"2024-12-31–2025-03-31 overlaps the period 2024-01-01–2024-12-31 of report 1",
            "period_start",
        ),
        # future period: today is 2026-03-02 in China
        (
            {"period_start": D(2026, 1, 1), "period_end": D(2026, 3, 3)},
            RegistryInputError,
            "in the future",
            "period_end",
        ),
        # more than five years old
        (
            {"period_start": D(2020, 10, 1), "period_end": D(2020, 12, 31)},
            RegistryInputError,
            "more than 5 years",
            "period_start",
        ),
        (
            {"period_start": D(2019, 1, 1), "period_end": D(2019, 12, 31)},
            RegistryInputError,
            "outside the crediting period",
            "period_start",
        ),
        (
            {"period_start": D(2025, 6, 1), "period_end": D(2025, 5, 31)},
            RegistryInputError,
            "before period_start",
            "period_end",
        ),
        ({"evidence_sha256": HASH.upper()}, RegistryInputError, "64 lowercase", "evidence_sha256"),
        ({"evidence_sha256": HASH[:63]}, RegistryInputError, "64 lowercase", "evidence_sha256"),
        ({"evidence_sha256": "g" * 64}, RegistryInputError, "64 lowercase", "evidence_sha256"),
        ({"claimed_tco2e": 0}, RegistryInputError, "positive", "claimed_tco2e"),
        ({"claimed_tco2e": -5}, RegistryInputError, "positive", "claimed_tco2e"),
        ({"claimed_tco2e": 1200.5}, RegistryInputError, "whole number", "claimed_tco2e"),
        ({"claimed_tco2e": 1200.0}, RegistryInputError, "whole number", "claimed_tco2e"),
        ({"claimed_tco2e": True}, RegistryInputError, "whole number", "claimed_tco2e"),
        ({"claimed_tco2e": "1200"}, RegistryInputError, "whole number", "claimed_tco2e"),
        ({"claimed_tco2e": 10**13}, RegistryInputError, "implausibly large", "claimed_tco2e"),
        # 700.0 + 498.9 = 1198.9 t: 1.1 t short of the claim
        (
            {"parcel_removals": {"P1": 700.0, "P2": 498.9}},
            RegistryInputError,
            "sum to 1198.9 t but claimed_tco2e is 1200 t",
            "parcel_removals",
        ),
        (
            {"parcel_removals": {"P1": math.nan, "P2": 1200.0}},
            RegistryInputError,
            "finite",
            "parcel_removals",
        ),
        (
            {"parcel_removals": {"P1": -1.0, "P2": 1201.0}},
            RegistryInputError,
            "finite number >= 0",
            "parcel_removals",
        ),
        ({"parcel_removals": {"P1": True}}, RegistryInputError, "finite", "parcel_removals"),
        # P9 does not exist; P3 exists but is in no project
        (
            {
                "period_start": D(2025, 1, 1),
                "period_end": D(2025, 6, 30),
                "parcel_removals": {"P1": 600.0, "P9": 600.0},
            },
            RecordNotFoundError,
            "parcel P9 is not an active parcel of project PRJ",
            "parcel_removals",
        ),
        (
            {
                "period_start": D(2025, 1, 1),
                "period_end": D(2025, 6, 30),
                "parcel_removals": {"P3": 1200},
            },
            RecordNotFoundError,
            "parcel P3 is not an active parcel",
            "parcel_removals",
        ),
        ({"actor": "buyer"}, ForbiddenError, "buyer is not the proponent of project PRJ", None),
        ({"actor": "val"}, ForbiddenError, "val is not the proponent", None),
        ({"project": "DRAFT"}, InvalidStateError, "project DRAFT is draft", "project"),
        ({"project": "NOPE"}, RecordNotFoundError, "no project 'NOPE'", "project"),
    ]
    for override, error, message, field in cases:
        with pytest.raises(error, match=message) as excinfo:
            submit_report(world, **report_args(**override))
        assert excinfo.type is error, override
        if field is not None:
            assert excinfo.value.detail["field"] == field, override
        assert snapshot(world) == before, override
    with pytest.raises(PeriodOverlapError) as overlap:
        submit_report(world, **report_args(period_start=D(2024, 6, 1), period_end=D(2024, 6, 30)))
    assert overlap.value.detail["report_seq"] == 1
    assert overlap.value.detail["earlier_period"] == ["2024-01-01", "2024-12-31"]
    assert snapshot(world) == before


def _raw_report(conn: Any, seq: int, start: dt.date, end: dt.date, status: str) -> None:
    project_id = conn.execute(select(Project.id).where(Project.code == "PRJ")).scalar_one()
    conn.execute(
        insert(MonitoringReport).values(
            project_id=project_id,
            seq=seq,
            period_start=start,
            period_end=end,
            evidence_sha256=HASH,
            claimed_tco2e=10,
            parcel_removals={},
            status=status,
            submitted_at=dt.datetime(2026, 3, 2, tzinfo=UTC),
        )
    )


def test_database_refuses_an_overlapping_period(world: Registry) -> None:
    submit_report(world, **report_args())  # 2024-01-01 – 2024-12-31
    # a direct insert bypassing the service is refused: PostgreSQL's exclusion constraint, or
    # SQLite's trigger
    with pytest.raises(IntegrityError), world.engine.begin() as conn:
        _raw_report(conn, 2, D(2024, 12, 31), D(2025, 1, 31), "submitted")
    assert [r["seq"] for r in list_reports(world, "PRJ")] == [1]
    # the same direct insert without overlap passes, as does an overlapping *rejected* report
    with world.engine.begin() as conn:
        _raw_report(conn, 2, D(2025, 1, 1), D(2025, 1, 31), "submitted")
        _raw_report(conn, 3, D(2024, 6, 1), D(2024, 6, 30), "rejected")
    assert [(r["seq"], r["status"]) for r in list_reports(world, "PRJ")] == [
        (1, "submitted"),
        (2, "submitted"),
        (3, "rejected"),
    ]
