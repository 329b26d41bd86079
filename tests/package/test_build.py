"""Building a package: layout, STAC catalog, manifest, signature, zip, atomic writes."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pystac
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mrv.errors import InputError
from pipelines.package.build import build_package
from pipelines.package.keys import load_public_key
from tests.package.toyrun import (
    COMPARE,
    SCENE,
    TOLERANCE,
    data_files,
    expected_package_files,
    make_run,
)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_layout_copies_everything_but_work(built: Path, run_dir: Path) -> None:
    assert _files(built) == expected_package_files()
    assert not any(f.startswith("work/") for f in _files(built))
    for rel in data_files():
        if rel != "parameters.json":
            assert (built / rel).read_bytes() == (run_dir / rel).read_bytes(), rel
    parameters = json.loads((built / "parameters.json").read_text())
    summary = json.loads((run_dir / "outputs" / "summary.json").read_text())
    assert parameters["parameters"] == summary["parameters"]
    assert parameters["parameters"][0]["name"] == "carbon_fraction"
    assert parameters["parameters"][0]["value"] == 0.47


def test_manifest_lists_every_file_and_is_signed(
    built: Path, run_dir: Path, keys: dict[str, Path]
) -> None:
    data = (built / "manifest.json").read_bytes()
    manifest = json.loads(data)
    listed = {f["path"]: f for f in manifest["files"]}
    assert sorted(listed) == [
        f for f in expected_package_files() if f not in ("manifest.json", "manifest.sig.json")
    ]
    for rel, entry in listed.items():
        content = (built / rel).read_bytes()
        assert entry["sha256"] == hashlib.sha256(content).hexdigest(), rel
        assert entry["size"] == len(content), rel
    record = json.loads((run_dir / "run.json").read_text())
    assert manifest["campaign_id"] == "toy-2024"
    assert manifest["methodology"] == {"id": "toy-bamboo", "version": "1.0"}
    assert manifest["code_version"] == record["code_version"]
    assert manifest["tolerance"] == TOLERANCE
    assert manifest["created_utc"].endswith("+00:00")
    public = load_public_key(keys["measurer"].with_name("measurer.pub"))
    assert base64.b64decode(manifest["signer"]["public_key"]) == public
    sig = json.loads((built / "manifest.sig.json").read_text())
    # checked with cryptography directly, not through the package's own code
    Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(sig["signature"]), data)


def test_stac_catalog_describes_every_file(built: Path) -> None:
    catalog = pystac.Catalog.from_file(str(built / "catalog.json"))
    assert catalog.extra_fields["mrv:campaign_id"] == "toy-2024"
    assert [c.id for c in catalog.get_children()] == ["inputs", "outputs", "report", "run"]
    items = {i.id: i for i in catalog.get_items(recursive=True)}
    described = {}
    for item in items.values():
        for asset in item.assets.values():
            path = Path(asset.get_absolute_href() or "").resolve()
            rel = path.relative_to(built.resolve()).as_posix()
            content = path.read_bytes()
            assert (
                asset.extra_fields["file:checksum"] == "1220" + hashlib.sha256(content).hexdigest()
            )
            assert asset.extra_fields["file:size"] == len(content)
            described[rel] = item
    assert sorted(described) == data_files()
    tif = described["outputs/carbon_density.tif"]
    assert tif.properties["proj:code"] == "EPSG:32650"
    assert tif.properties["proj:shape"] == [4, 5]
    assert tif.properties["mrv:compare"] == COMPARE["outputs/carbon_density.tif"]
    west, south, east, north = tif.bbox
    assert 119.55 < west < east < 119.58 and 30.60 < south < north < 30.63  # inside the site
    doc = described["inputs/methodology/toy-bamboo.md"]
    assert doc.properties["mrv:methodology"] == {"id": "toy-bamboo", "version": "1.0"}
    assert described["inputs/survey/plots.csv"].properties["mrv:role"] == "survey"
    assert described["run.json"].properties["mrv:code_version"]["package"] == "huzhou-mrv"
    generated = items["generated-inputs"]
    assert not generated.assets
    assert generated.properties["mrv:generated"]["recipe"] == {"seed": 7, "bytes": 256}
    assert generated.properties["mrv:generated"]["files"][0]["path"] == SCENE
    assert items["external-inputs"].properties["mrv:external"][0]["size"] == 812_345_678


def test_zip_is_the_same_package_in_path_order(
    built: Path, run_dir: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    out = build_package(run_dir, keys["measurer"], tmp_path / "pkg.zip")
    assert out == tmp_path / "pkg.zip"
    with zipfile.ZipFile(out) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names) == expected_package_files()
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert zf.testzip() is None
        for name in names:
            if name not in ("manifest.json", "manifest.sig.json"):  # created time, signature
                assert zf.read(name) == (built / name).read_bytes(), name
    assert [p.name for p in tmp_path.iterdir()] == ["pkg.zip"]  # no temporary sibling left


def _siblings(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_existing_output_is_refused_and_untouched(
    run_dir: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    existing = tmp_path / "pkg"
    existing.mkdir()
    (existing / "mine.txt").write_text("keep")
    (tmp_path / "pkg.zip").write_bytes(b"old")
    for target in (existing, tmp_path / "pkg.zip"):
        with pytest.raises(InputError, match="exists"):
            build_package(run_dir, keys["measurer"], target)
    assert _siblings(tmp_path) == ["pkg", "pkg.zip"]
    assert _siblings(existing) == ["mine.txt"]
    assert (tmp_path / "pkg.zip").read_bytes() == b"old"


@pytest.mark.parametrize("name", ["pkg", "pkg.zip"])
def test_errors_leave_nothing(
    run_dir: Path, keys: dict[str, Path], tmp_path: Path, name: str
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(InputError, match="No such file"):
        build_package(run_dir, tmp_path / "no-key", out_dir / name)
    not_key = tmp_path / "not-a-key"
    not_key.write_text("hello")
    with pytest.raises(InputError, match="PEM"):
        build_package(run_dir, not_key, out_dir / name)
    with pytest.raises(InputError, match="not a run folder"):
        build_package(tmp_path / "no-run", keys["measurer"], out_dir / name)
    # an output changed after the run: refused while copying, after files were written
    changed = Path(shutil.copytree(run_dir, tmp_path / "changed"))
    (changed / "outputs" / "parcels.csv").write_text("parcel_code\nforged\n")
    with pytest.raises(InputError, match=r"does not match its run\.json") as err:
        build_package(changed, keys["measurer"], out_dir / name)
    assert [p.file for p in err.value.problems] == ["outputs/parcels.csv"]
    assert _siblings(out_dir) == []


def test_run_record_problems_are_named(keys: dict[str, Path], tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    record = json.loads((run / "run.json").read_text())
    del record["campaign_id"]
    record["outputs"] = []
    (run / "run.json").write_text(json.dumps(record))
    with pytest.raises(InputError, match="not a usable run record") as err:
        build_package(run, keys["measurer"], tmp_path / "pkg")
    assert {(p.file, p.column) for p in err.value.problems} == {
        ("run.json", "campaign_id"),
        ("run.json", "outputs"),
    }
    (run / "run.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="not a JSON object"):
        build_package(run, keys["measurer"], tmp_path / "pkg")
    assert _siblings(tmp_path) == ["run"]
