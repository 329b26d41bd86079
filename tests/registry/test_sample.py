"""The sample registry is built through the real workflow and passes the audit."""

from __future__ import annotations

from sqlalchemy import func, select

from mrv.registry.audit import audit
from mrv.registry.core import Registry
from mrv.registry.models import JournalEvent
from mrv.registry.queries import holdings
from mrv.registry.sample import build_sample


def test_sample_goes_through_every_workflow_step(registry: Registry) -> None:
    built = build_sample(registry, owners=3, verified_tco2e=1_000, holders=2, per_holder_tco2e=50)
    # risk score 10 → buffer max(10, 10) % = ceil(1000 × 10 %) = 100; 900 held, 2 × 50 moved
    assert (built["issuance"]["buffer_tco2e"], built["issuance"]["held_tco2e"]) == (100, 900)
    assert holdings(registry, "coop")["total"]["held"] == 800
    assert holdings(registry, "h0001")["total"]["held"] == 50
    with registry.read() as conn:
        operations = conn.execute(
            select(JournalEvent.operation, func.count()).group_by(JournalEvent.operation)
        ).all()
    assert dict(operations) == {
        "create_party": 6 + 3 + 2,
        "import_parcels": 1,
        "create_contract": 3,
        "create_project": 1,
        "start_public_notice": 1,
        "register_project": 1,
        "submit_report": 1,
        "assign_verifier": 1,
        "issue_statement": 1,
        "issue": 1,
        "transfer": 2,
    }
    assert audit(registry)["ok"]
