"""Exports: the credit blocks as CSV and the public data in CADT's shape.

The batch comes from :func:`tests.registry.builders.issued_batch`: 1,000 t verified, risk score
10 → 100 t buffer (serials 901–1000), 900 t held by the cooperative (1–900).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from mrv.errors import RecordNotFoundError
from mrv.registry.core import Registry
from mrv.registry.credits import cancel
from mrv.registry.exports import cadt_export, credits_csv
from mrv.registry.projects import deregister_project
from mrv.registry.retirement import retire
from mrv.registry.trading import list_lot
from tests.registry.builders import BUYER, COOPERATIVE, issued_batch, settled_lot


def test_credits_csv_lists_every_active_block(registry: Registry, tmp_path: Path) -> None:
    built = issued_batch(registry, verified=1000, risk_score=10)
    batch = built["batch"]
    settled_lot(registry, built, quantity=300, price_yuan_per_t="50.00")
    path = tmp_path / "out" / "credits.csv"
    assert credits_csv(registry, path) == 3
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [
        (r["serial_start"], r["serial_end"], r["quantity"], r["status"], r["account"]) for r in rows
    ] == [
        ("1", "300", "300", "held", BUYER),
        ("301", "900", "600", "held", COOPERATIVE),
        ("901", "1000", "100", "buffer", "BUFFER"),
    ]
    assert rows[0]["serial"] == f"{batch}-000000001-000000300"
    assert {(r["batch"], r["project"], r["vintage"], r["methodology"]) for r in rows} == {
        (batch, "AJ001", "2024", "HZ-BAMBOO-AR 1.0")
    }

    assert credits_csv(registry, path, account=BUYER) == 1
    assert credits_csv(registry, path, batch=batch, account="BUFFER") == 1
    before = path.read_bytes()
    with pytest.raises(RecordNotFoundError, match="no batch 'HZ-NOPE'"):
        credits_csv(registry, path, batch="HZ-NOPE")
    assert path.read_bytes() == before  # a refused export leaves the old file
    assert [p.name for p in path.parent.iterdir()] == ["credits.csv"]  # no temporary left


def test_cadt_export_maps_projects_issuances_units_and_locations(registry: Registry) -> None:
    built = issued_batch(registry, verified=1000, risk_score=10)
    batch = built["batch"]
    settled_lot(registry, built, quantity=300, price_yuan_per_t="50.00")
    lot = list_lot(
        registry,
        actor=COOPERATIVE,
        account=COOPERATIVE,
        batch=batch,
        quantity=20,
        ask_yuan_per_t="55.00",
    ).result["lot"]
    retire(
        registry,
        actor=BUYER,
        account=BUYER,
        batch=batch,
        quantity=40,
        purpose="voluntary",
        beneficiary="Buyer Co. 2025 travel",
    )
    cancel(
        registry,
        actor=COOPERATIVE,
        account=COOPERATIVE,
        batch=batch,
        quantity=7,
        reason_code="correction",
        reason="plot counted twice",
    )
    second = issued_batch(registry, verified=50, project="AJ002")
    deregister_project(registry, actor="root", project="AJ002", reason="land use changed")

    data = cadt_export(registry)
    assert set(data) == {"projects", "issuances", "units", "labels", "projectLocations"}
    assert data["labels"] == []
    project = data["projects"][0]
    assert project == {
        "warehouseProjectId": "AJ001",
        "projectId": "AJ001",
        "projectName": "安吉毛竹林碳汇项目 AJ001",
        "projectDeveloper": "安吉两山竹林碳汇收储合作社",
        "program": "HZ",
        "sector": "Agriculture Forestry and Other Land Use",
        "projectType": "Bamboo forest management",
        "projectStatus": "Registered",
        "projectStatusDate": project["projectStatusDate"],
        "methodology": "HZ-BAMBOO-AR 1.0",
        "validationBody": "Validation body",
        "unitMetric": "tCO2e",
        "coveredByNDC": "Unknown",
        "currentRegistry": "Huzhou Carbon Sink Registry",
    }
    assert [p["projectStatus"] for p in data["projects"]] == ["Registered", "De-registered"]
    assert data["projects"][1]["projectStatusDate"] is None

    issuance = data["issuances"][0]
    assert (issuance["id"], issuance["warehouseProjectId"]) == (batch, "AJ001")
    assert (issuance["startDate"], issuance["endDate"]) == ("2024-01-01", "2024-12-31")
    assert issuance["verificationBody"] == "Verification body"
    assert [i["id"] for i in data["issuances"]] == [batch, second["batch"]]

    units = [u for u in data["units"] if u["issuanceId"] == batch]
    spans = [(int(u["unitBlockStart"]), int(u["unitBlockEnd"])) for u in units]
    # buyer 1–300 (retired 1–40), cooperative 301–900 (listed 301–320, cancelled 321–327), buffer
    assert spans == [(1, 40), (41, 300), (301, 320), (321, 327), (328, 900), (901, 1000)]
    assert [(u["unitStatus"], u["unitOwner"], u["unitCount"]) for u in units] == [
        ("Retired", BUYER, 40),
        ("Held", BUYER, 260),
        ("Held", COOPERATIVE, 20),
        ("Cancelled", COOPERATIVE, 7),
        ("Held", COOPERATIVE, 573),
        ("Buffer", "BUFFER", 100),
    ]
    assert units[0]["unitStatusReason"] == "voluntary: Buyer Co. 2025 travel"
    assert units[3]["unitStatusReason"] == "correction: plot counted twice"
    assert (units[2]["marketplace"], units[2]["marketplaceIdentifier"]) == (
        "Huzhou Green Trading Centre",
        lot,
    )
    assert units[1]["marketplace"] is None and units[1]["unitStatusReason"] is None
    assert units[0]["serialNumberBlock"] == f"{batch}-000000001-000000040"
    assert units[0]["unitBlockStart"] == "000000001"
    assert {u["vintageYear"] for u in units} == {2024}
    assert {u["unitType"] for u in units} == {"Removal - nature"}
    assert {u["correspondingAdjustmentStatus"] for u in units} == {"Not Started"}
    assert {u["projectLocationId"] for u in units} == {"AJ001:location"}

    # builders' parcels: 0.005° squares at lon 119.60/119.61/119.62, lat 30.60 (project 1)
    assert data["projectLocations"][0] == {
        "id": "AJ001:location",
        "warehouseProjectId": "AJ001",
        "country": "China",
        "inCountryRegion": "Zhejiang, Huzhou",
        "geographicIdentifier": "119.600000,30.600000,119.625000,30.605000",
    }
    text = json.dumps(data, ensure_ascii=False)
    assert "农户" not in text and "owner-P1" not in text  # households are not exported
    assert "yuan" not in text and "50.00" not in text  # nor money
