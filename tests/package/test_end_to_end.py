"""The bundled Anji campaign: run → package → verify with a real re-run from the package."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from pipelines.campaign.config import load_campaign
from pipelines.campaign.run import run_campaign
from pipelines.package.build import build_package
from pipelines.package.keys import generate_key, load_public_key, save_key
from pipelines.package.verify import verify_package

EXAMPLE = Path(__file__).resolve().parents[2] / "aoi" / "anji-bamboo" / "campaign"


def _campaign(tmp_path: Path) -> Path:
    """The bundled campaign file with absolute paths and no report (the report is not compared)."""
    text = (EXAMPLE / "campaign.toml").read_text(encoding="utf-8")
    for rel in ("..", "survey/2023/survey.toml", "survey/2025/survey.toml", "labels.geojson"):
        text = text.replace(f'"{rel}"', json.dumps(str((EXAMPLE / rel).resolve())), 1)
    text = text.replace("report = true", "report = false")
    path = tmp_path / "campaign.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_campaign_package_verifies_by_re_running(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_campaign(load_campaign(_campaign(tmp_path)), out_dir=run_dir, progress=False)
    save_key(generate_key(), tmp_path / "measurer")
    package = build_package(run_dir, tmp_path / "measurer", tmp_path / "package.zip")
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    with zipfile.ZipFile(package) as zf:
        names = set(zf.namelist())
    assert {o["path"] for o in record["outputs"]} <= names
    assert {i["path"] for i in record["inputs"]} <= names
    assert not any(n.startswith("work/") for n in names)
    public = load_public_key(tmp_path / "measurer.pub")
    result = verify_package(package, public_key=public)
    assert result["mismatches"] == []
    assert result["ok"] is True and result["recomputed_ok"] is True
    assert result["campaign_id"] == record["campaign_id"]
    assert result["files_checked"] == len(names) - 2
    generated = record["generated_inputs"]["files"]
    assert generated and all(f["path"].startswith("work/scenes/") for f in generated)
