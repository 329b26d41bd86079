"""A sample registry built through the real workflow (for demos, benchmarks and load tests).

Parties, parcels (a grid of squares near Anji, imported from GeoJSON), collection contracts, a
moso-bamboo project with a zero-day public notice, a monitoring report, a verification with a
positive statement and the issuance, then credits spread over holder accounts. Every step is a
service call, journaled like any other; nothing is inserted behind the registry's back.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

from mrv.registry.contracts import create_contract
from mrv.registry.core import Registry
from mrv.registry.credits import transfer
from mrv.registry.issuance import issue
from mrv.registry.monitoring import submit_report
from mrv.registry.parcels import import_parcels
from mrv.registry.parties import create_party
from mrv.registry.projects import create_project, register_project, start_public_notice
from mrv.registry.verification import assign_verifier, issue_statement

ANJI_LON, ANJI_LAT = 119.62, 30.58
SQUARE_DEG = 0.004
"""Side of a sample parcel (about 380 m × 440 m, 16.8 ha at 30.6° N)."""


def _parcels_geojson(owners: list[str], path: Path) -> None:
    features = []
    for i, owner in enumerate(owners):
        lon = ANJI_LON + (i % 10) * (SQUARE_DEG + 0.001)
        lat = ANJI_LAT + (i // 10) * (SQUARE_DEG + 0.001)
        ring = [
            [lon, lat],
            [lon + SQUARE_DEG, lat],
            [lon + SQUARE_DEG, lat + SQUARE_DEG],
            [lon, lat + SQUARE_DEG],
            [lon, lat],
        ]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": f"SAMPLE-P{i + 1:03d}",
                    "owner": owner,
                    "land_type": "bamboo",
                    "certificate": f"浙(2022)安吉县林权第{i + 1:07d}号",
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")


def build_sample(
    registry: Registry,
    *,
    methodology: tuple[str, str] = ("bamboo-moso", "1.0.0"),
    owners: int = 3,
    verified_tco2e: int = 10_000,
    holders: int = 0,
    per_holder_tco2e: int = 0,
    project: str = "SAMPLE",
) -> dict[str, Any]:
    """Build the sample on an empty registry; returns the codes and the batch prefix.

    The project's public notice is zero working days long (a sample, not a real notice); the
    monitoring period is the last full calendar year.
    """
    zero_notice = Registry(
        registry.engine,
        registry.settings.model_copy(update={"notice_working_days": 0}),
        registry.clock,
    )
    zero_notice.cache = registry.cache
    parties = {
        "root": ("Registry administrator", "admin"),
        "coop": ("安吉两山竹林碳汇收储合作社", "cooperative"),
        "validator": ("Validation body", "verifier"),
        "verifier": ("Verification body", "verifier"),
        "bureau": ("安吉县林业局", "bureau"),
        "hz-gtc": ("湖州绿色交易中心", "trading_centre"),
    }
    for code, (name, role) in parties.items():
        create_party(registry, actor="root", code=code, name=name, roles=[role])
    owner_codes = [f"owner-{i + 1:03d}" for i in range(owners)]
    for code in owner_codes:
        create_party(
            registry, actor="root", code=code, name=f"农户 {code}", roles=["owner_household"]
        )
    holder_codes = [f"h{i:04d}" for i in range(holders)]
    for code in holder_codes:
        create_party(registry, actor="root", code=code, name=f"buyer {code}", roles=["buyer"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample-parcels.geojson"
        _parcels_geojson(owner_codes, path)
        import_parcels(registry, actor="coop", path=path)
    today = registry.clock().date()
    year = today.year
    for i, owner in enumerate(owner_codes):
        create_contract(
            registry,
            actor="coop",
            code=f"SAMPLE-C{i + 1:03d}",
            cooperative="coop",
            owner=owner,
            parcels=[f"SAMPLE-P{i + 1:03d}"],
            start=dt.date(year - 3, 1, 1),
            end=dt.date(year + 27, 1, 1),
            annual_payment_yuan_per_mu="16.926",
            settlement_cycle_years=3,
            owner_share="0.8",
        )
    create_project(
        registry,
        actor="coop",
        code=project,
        name="安吉毛竹林经营碳汇 (sample)",
        proponent="coop",
        validator="validator",
        methodology_id=methodology[0],
        methodology_version=methodology[1],
        land_type="bamboo",
        crediting_start=dt.date(year - 3, 1, 1),
        crediting_end=dt.date(year + 27, 1, 1),
        risk_score=10,
        parcels=[(f"SAMPLE-P{i + 1:03d}", f"SAMPLE-C{i + 1:03d}") for i in range(owners)],
    )
    start_public_notice(zero_notice, actor="coop", project=project)
    register_project(zero_notice, actor="root", project=project)
    submit_report(
        registry,
        actor="coop",
        project=project,
        period_start=dt.date(year - 1, 1, 1),
        period_end=dt.date(year - 1, 12, 31),
        evidence_sha256="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        claimed_tco2e=verified_tco2e,
    )
    assign_verifier(registry, actor="bureau", project=project, report_seq=1, verifier="verifier")
    issue_statement(
        registry,
        actor="verifier",
        project=project,
        report_seq=1,
        opinion="positive",
        verified_tco2e=verified_tco2e,
        statement="Sample verification: positive.",
    )
    issued = issue(registry, actor="root", project=project, report_seq=1).result
    batch = str(issued["batch"])
    for code in holder_codes:
        transfer(
            registry,
            actor="coop",
            from_account="coop",
            to_account=code,
            batch=batch,
            quantity=per_holder_tco2e,
        )
    return {
        "admin": "root",
        "cooperative": "coop",
        "trading_centre": "hz-gtc",
        "verifier": "verifier",
        "owners": owner_codes,
        "holders": holder_codes,
        "project": project,
        "batch": batch,
        "issuance": issued,
    }
