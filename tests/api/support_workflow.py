"""Helpers of the parcel, contract, project, report and verification route tests.

Parties and parcels are those of ``tests/registry/test_parcels.py`` (squares built in EPSG:4549
metres near Anji, so a 300 m square is 9 ha = 135 mu); contracts those of
``tests/registry/test_projects.py`` (2026-01-01 to 2056-01-01, ¥16.93/mu/yr, 3-year cycles).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from mrv.registry.core import Registry
from tests.registry.builders import ADMIN, ensure_party
from tests.registry.test_parcels import PARTIES, import_squares
from tests.registry.test_projects import contract

IMPORT_URL = "/v1/parcels/import"


def parties(registry: Registry) -> None:
    """The admin and the parties coop, coop2, hh1, hh2, vil, ver, ver2, bureau, buyer."""
    ensure_party(registry, ADMIN, "Registry administrator", ["admin"])
    for code, roles in PARTIES:
        ensure_party(registry, code, code.upper(), roles)


def collection(features: Sequence[dict[str, Any]]) -> bytes:
    """A GeoJSON FeatureCollection as the bytes of an upload."""
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def upload(
    client: TestClient,
    headers: dict[str, str],
    content: bytes,
    name: str = "parcels.geojson",
    **form: str,
) -> Any:
    """POST a parcel file to the import route with form fields (``key`` → Idempotency-Key)."""
    key = form.pop("key", None)
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(
        IMPORT_URL,
        files={"file": (name, content, "application/geo+json")},
        data=form,
        headers={**headers, **extra},
    )


def contracted(registry: Registry, tmp_path: Path) -> None:
    """Parcels A, B (hh1, 9 ha each), C (vil, 2 km north), E (hh2, 2 km east) and contracts
    C-AB (coop↔hh1: A, B), C-C (coop↔vil: C), C-E (coop2↔hh2: E), as the registry tests have."""
    parties(registry)
    import_squares(
        registry,
        tmp_path,
        [("A", "hh1", 0, 0), ("B", "hh1", 300, 0), ("C", "vil", 0, 2000), ("E", "hh2", 2000, 0)],
    )
    contract(registry, "C-AB", "coop", "hh1", ["A", "B"])
    contract(registry, "C-C", "coop", "vil", ["C"])
    contract(registry, "C-E", "coop2", "hh2", ["E"])


def project_body(**overrides: Any) -> dict[str, Any]:
    """The body of a draft project P1 of coop over A and B (a known methodology)."""
    return {
        "code": "P1",
        "name": "安吉毛竹林碳汇项目",
        "proponent": "coop",
        "validator": "ver",
        "methodology_id": "bamboo-moso",
        "methodology_version": "1.0.0",
        "land_type": "bamboo",
        "crediting_start": "2026-01-01",
        "crediting_end": "2045-12-31",
        "risk_score": 15,
        "parcels": [{"parcel": "A", "contract": "C-AB"}, {"parcel": "B", "contract": "C-AB"}],
        **overrides,
    }
