"""Seed a registry for the benchmarks: parties, one issued batch, credits spread over holders."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select

from mrv.registry.core import Registry
from mrv.registry.credits import transfer
from mrv.registry.issuance import issue
from mrv.registry.models import MonitoringReport, Party, Project, Verification
from mrv.registry.parties import create_party

PER_ACCOUNT_TCO2E = 2_000


def seed(registry: Registry, *, accounts: int) -> tuple[list[str], str]:
    """Create ``accounts`` holders with 2,000 t each of one batch; returns (holders, batch)."""
    for code, roles in (
        ("root", ["admin"]),
        ("coop", ["cooperative"]),
        ("validator", ["verifier"]),
        ("verifier", ["verifier"]),
    ):
        create_party(registry, actor="root", code=code, name=code, roles=roles)
    holders = [f"h{i:04d}" for i in range(accounts)]
    for code in holders:
        create_party(registry, actor="root", code=code, name=code, roles=["buyer"])
    total = PER_ACCOUNT_TCO2E * accounts
    now = registry.clock()
    with registry.engine.begin() as conn:  # project, verified report (workflow tested elsewhere)
        ids = dict(conn.execute(select(Party.code, Party.id)).all())
        project = conn.execute(
            insert(Project)
            .values(
                code="BENCH",
                name="benchmark",
                proponent_party_id=ids["coop"],
                validator_party_id=ids["validator"],
                methodology_id="bamboo-moso",
                methodology_version="1.0.0",
                land_type="bamboo",
                crediting_start=dt.date(2021, 1, 1),
                crediting_end=dt.date(2050, 12, 31),
                risk_score=10,
                status="registered",
                created_at=now,
            )
            .returning(Project.id)
        ).scalar_one()
        report = conn.execute(
            insert(MonitoringReport)
            .values(
                project_id=project,
                seq=1,
                period_start=dt.date(2023, 1, 1),
                period_end=dt.date(2025, 12, 31),
                evidence_sha256="0" * 64,
                claimed_tco2e=2 * total,
                parcel_removals={},
                status="verified",
                submitted_at=now,
            )
            .returning(MonitoringReport.id)
        ).scalar_one()
        conn.execute(
            insert(Verification).values(
                report_id=report,
                verifier_party_id=ids["verifier"],
                status="positive",
                verified_tco2e=2 * total,
                assigned_at=now,
            )
        )
    batch = str(issue(registry, actor="root", project="BENCH", report_seq=1).result["batch"])
    for code in holders:
        transfer(
            registry,
            actor="coop",
            from_account="coop",
            to_account=code,
            batch=batch,
            quantity=PER_ACCOUNT_TCO2E,
        )
    return holders, batch
