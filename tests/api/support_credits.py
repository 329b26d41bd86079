"""Helpers of the credit, lot, retirement, distribution and journal route tests."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import func, insert, select

from mrv.registry.core import Registry
from mrv.registry.models import Base, MonitoringReport, Party, Project, Verification
from tests.registry.builders import VERIFIER


def rows(registry: Registry) -> dict[str, int]:
    """Row count of every table, the journal included (equal before and after a refusal)."""
    with registry.read() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in Base.metadata.sorted_tables
            if t.name != "api_tokens"  # tokens are made for the test's parties as it goes
        }


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    """The problem details of a refused request, checked."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["code"] == code, body
    return body


def verified_report(
    registry: Registry, project: str, seq: int, *, verified: int, year: int
) -> None:
    """TEST SETUP: a positively verified monitoring report ``seq`` of ``project`` for ``year``,
    inserted directly as :func:`tests.registry.builders.issued_batch` does for report 1."""
    now = registry.clock()
    with registry.engine.begin() as conn:
        project_id = conn.execute(select(Project.id).where(Project.code == project)).scalar_one()
        verifier = conn.execute(select(Party.id).where(Party.code == VERIFIER)).scalar_one()
        report_id = conn.execute(
            insert(MonitoringReport)
            .values(
                project_id=project_id,
                seq=seq,
                period_start=dt.date(year, 1, 1),
                period_end=dt.date(year, 12, 31),
                evidence_sha256=hashlib.sha256(f"{project} {seq}".encode()).hexdigest(),
                claimed_tco2e=verified,
                parcel_removals={},
                status="verified",
                submitted_at=now,
            )
            .returning(MonitoringReport.id)
        ).scalar_one()
        conn.execute(
            insert(Verification).values(
                report_id=report_id,
                verifier_party_id=verifier,
                status="positive",
                verified_tco2e=verified,
                statement="Positive verification statement (test setup).",
                statement_at=now,
                assigned_at=now,
            )
        )


def pages(client: Any, url: str, params: dict[str, Any], headers: Any = None) -> list[Any]:
    """Every item of a paginated list, following ``next_cursor``."""
    items: list[Any] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = client.get(url, params=query, headers=headers or {})
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= params.get("limit", 100)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
