"""``make demo``: one complete season on the embedded default, checked end to end."""

from __future__ import annotations

import json
import math
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pipelines.demo import run_demo
from pipelines.package.verify import verify_package


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_demo(tmp_path_factory.mktemp("demo") / "out", progress=False)


def test_the_season_goes_from_campaign_to_audit(demo: dict[str, Any]) -> None:
    out = Path(demo["output_dir"])
    assert json.loads((out / "summary.json").read_text("utf-8")) == json.loads(
        json.dumps(demo, default=str)
    )
    c, r = demo["campaign"], demo["registry"]
    assert demo["verify"] == {
        "ok": True, "signature_ok": True, "hashes_ok": True, "recomputed_ok": True,
        "mismatches": [],
    }  # fmt: skip
    # the registry issued exactly what the campaign made claimable, 10 % (ceil) to the buffer
    assert r["issued_tco2e"] == r["verified_tco2e"] == c["claimable_tco2e"] > 0
    assert r["buffer_tco2e"] == math.ceil(r["issued_tco2e"] * 0.10)
    assert r["held_tco2e"] == r["issued_tco2e"] - r["buffer_tco2e"]
    assert r["finding"] == {"id": 1, "kind": "CAR", "status": "closed"}
    lot = r["lot"]
    gross = Decimal(lot["price_yuan_per_t"]) * lot["quantity_tco2e"]
    assert Decimal(lot["gross_yuan"]) == gross.quantize(Decimal("0.01"))
    net = gross - Decimal(lot["fees_yuan"])
    assert Decimal(lot["owners_total_yuan"]) + Decimal(lot["cooperative_retained_yuan"]) == net
    statement = pd.read_csv(r["distribution"]["statement_csv"], dtype={"due_yuan": str})
    assert sum(Decimal(x) for x in statement["due_yuan"]) == Decimal(lot["owners_total_yuan"])
    assert r["distribution"]["owners"] == r["households"] == 59
    assert r["parcels"] == 197
    ret = r["retirement"]
    assert ret["purpose"] == "judicial_restoration" and ret["certificate_verified"] is True
    assert Path(ret["certificate_pdf"]).read_bytes().startswith(b"%PDF")
    assert r["audit"]["ok"] is True and r["audit"]["problems"] == []
    for key in ("report_html", "report_pdf"):
        assert Path(c[key]).is_file()
    assert {e["methodology"] for e in demo["examples"]} >= {"bamboo-moso", "wetland"}


def test_a_changed_byte_in_the_demo_package_is_named(demo: dict[str, Any], tmp_path: Path) -> None:
    package = Path(demo["package"]["path"])
    tampered = tmp_path / "tampered.zip"
    target = "outputs/parcels.csv"
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == target:
                data = data.replace(b",", b";", 1)
            dst.writestr(info, data)
    result = verify_package(tampered, recompute=False)
    assert result["ok"] is False and result["hashes_ok"] is False
    assert [m["file"] for m in result["mismatches"]] == [target]


def test_the_demo_registry_is_browsable_with_its_tokens(demo: dict[str, Any]) -> None:
    """The printed ``mrv serve`` settings open the demo registry; the verifier's token logs in
    and the review page shows the stored package's files and maps; the cooperative sees its 197
    parcels on its map, the public home page the project."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from mrv.settings import Settings

    web = demo["web"]
    tokens = json.loads(Path(web["tokens"]).read_text("utf-8"))
    assert Path(web["tokens"]).stat().st_mode & 0o777 == 0o600
    env = dict(part.split("=", 1) for part in web["serve"].split() if "=" in part)
    settings = Settings(database_url=env["MRV_DATABASE_URL"], data_dir=Path(env["MRV_DATA_DIR"]))
    sha = demo["package"]["sha256"]
    assert (settings.data_dir / "packages" / f"{sha}.zip").is_file()
    app = create_app(settings)
    with TestClient(app, headers={"Accept": "text/html"}) as client:
        assert "AJB001" in client.get("/").text
        client.post("/login", data={"token": tokens["hz-verifier"], "next": "/"})
        review = client.get("/review/AJB001/1?lang=en")
        assert review.status_code == 200 and sha in review.text
        with zipfile.ZipFile(demo["package"]["path"]) as zf:
            members = [n for n in zf.namelist() if n.startswith("outputs/")]
        assert members and all(f">{name}<" in review.text for name in members)
        assert "/review/packages/" in review.text and ".png" in review.text
        client.cookies.clear()
        client.post("/login", data={"token": tokens["anji-coop"], "next": "/"})
        coop = client.get("/cooperative")
        assert coop.status_code == 200
        geo = coop.text.split('type="application/json"', 1)[1]
        assert geo.count('"type":"Feature"') == demo["registry"]["parcels"] == 197
