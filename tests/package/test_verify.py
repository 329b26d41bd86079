"""Verifying a package: hashes, signature, signer, and the re-run of the toy computation."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import struct
import zipfile
from functools import partial
from pathlib import Path

import pytest

from mrv.errors import InputError
from pipelines.package import manifest as mf
from pipelines.package.build import build_package
from pipelines.package.keys import load_private_key, load_public_key
from pipelines.package.verify import verify_package
from tests.package.toyrun import SCENE, compute, expected_package_files

KEYS = {"ok", "signature_ok", "hashes_ok", "recomputed_ok", "mismatches", "signer", "campaign_id",
        "methodology", "files_checked", "recompute_seconds"}  # fmt: skip


def _named(result: dict[str, object]) -> set[str]:
    return {m["file"] for m in result["mismatches"]}  # type: ignore[attr-defined]


def test_untouched_package_verifies_with_a_real_recompute(
    built: Path, keys: dict[str, Path]
) -> None:
    before = {p: p.read_bytes() for p in built.rglob("*") if p.is_file()}
    result = verify_package(built, recompute=compute)
    assert KEYS <= set(result)
    assert result["ok"] is True
    assert (result["signature_ok"], result["hashes_ok"], result["recomputed_ok"]) == (True,) * 3
    assert result["mismatches"] == []
    assert result["campaign_id"] == "toy-2024"
    assert result["methodology"] == {"id": "toy-bamboo", "version": "1.0"}
    assert result["files_checked"] == len(expected_package_files()) - 2
    assert isinstance(result["recompute_seconds"], float)
    public = load_public_key(keys["measurer"].with_name("measurer.pub"))
    assert result["signer"]["public_key"] == base64.b64encode(public).decode()
    after = {p: p.read_bytes() for p in built.rglob("*") if p.is_file()}
    assert after == before  # verifying never changes the package


def test_no_recompute_leaves_recomputed_ok_null(built: Path) -> None:
    result = verify_package(built, recompute=False)
    assert result["ok"] is True and result["recomputed_ok"] is None
    assert result["recompute_seconds"] is None


@pytest.mark.parametrize("rel", expected_package_files())
def test_any_changed_byte_fails_naming_the_file(package: Path, rel: str) -> None:
    path = package / rel
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    result = verify_package(package, recompute=compute)
    assert result["ok"] is False
    assert rel in _named(result)
    if rel in (mf.MANIFEST, mf.SIGNATURE):
        # an altered manifest may also name the file whose hash the changed byte belonged to
        assert result["signature_ok"] is False
    else:
        assert result["hashes_ok"] is False and result["signature_ok"] is True
        assert _named(result) == {rel}
        assert result["recomputed_ok"] is None  # not re-run once the hashes fail


def test_missing_and_extra_files_are_named(package: Path) -> None:
    (package / "outputs" / "parcels.csv").unlink()
    (package / "outputs" / "notes.txt").write_text("added later")
    (package / "stac" / "empty").mkdir()  # an empty folder holds no file and is ignored
    result = verify_package(package, recompute=False)
    assert result["hashes_ok"] is False and result["signature_ok"] is True
    reasons = {m["file"]: m["reason"] for m in result["mismatches"]}
    assert reasons["outputs/parcels.csv"].startswith("missing")
    assert reasons["outputs/notes.txt"].startswith("extra file")


def test_missing_signature_or_manifest(package: Path) -> None:
    (package / mf.SIGNATURE).unlink()
    result = verify_package(package, recompute=False)
    assert result["signature_ok"] is False and result["hashes_ok"] is True
    assert _named(result) == {mf.SIGNATURE}
    (package / mf.MANIFEST).unlink()
    result = verify_package(package, recompute=False)
    assert result["ok"] is False and result["hashes_ok"] is False
    assert _named(result) == {mf.MANIFEST, mf.SIGNATURE}


def test_another_keys_signature_is_refused(package: Path, keys: dict[str, Path]) -> None:
    other = load_private_key(keys["other"])
    sig = mf.sign((package / mf.MANIFEST).read_bytes(), other)
    (package / mf.SIGNATURE).write_bytes(mf.serialise(sig))
    result = verify_package(package, recompute=False)
    assert result["signature_ok"] is False and result["hashes_ok"] is True
    assert result["ok"] is False
    assert _named(result) == {mf.SIGNATURE}
    assert "but the manifest names signer" in result["mismatches"][0]["reason"]


def _forge_summary(package: Path) -> dict[str, object]:
    """Change an output, its STAC checksum and re-hash both in the manifest (as a forger would)."""
    summary = package / "outputs" / "summary.json"
    old_sha = hashlib.sha256(summary.read_bytes()).hexdigest()
    summary.write_text(summary.read_text().replace('"n_plots": 6', '"n_plots": 60'))
    new_sha = hashlib.sha256(summary.read_bytes()).hexdigest()
    item = package / "stac" / "outputs" / "outputs--summary.json.json"
    doc = json.loads(item.read_text().replace(old_sha, new_sha))
    doc["assets"]["data"]["file:size"] = summary.stat().st_size
    item.write_text(json.dumps(doc, indent=2))
    manifest = json.loads((package / mf.MANIFEST).read_text())
    for entry in manifest["files"]:
        path = package / entry["path"]
        if entry["path"] in ("outputs/summary.json", item.relative_to(package).as_posix()):
            entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
            entry["size"] = path.stat().st_size
    return manifest


def test_manifest_rehashed_but_not_resigned(package: Path) -> None:
    manifest = _forge_summary(package)
    (package / mf.MANIFEST).write_bytes(mf.serialise(manifest))
    result = verify_package(package, recompute=compute)
    assert result["hashes_ok"] is True  # the files match the forged manifest …
    assert result["signature_ok"] is False  # … which the measurer never signed
    assert result["ok"] is False
    assert mf.MANIFEST in _named(result)


def test_stale_stac_checksum_is_caught(package: Path, keys: dict[str, Path]) -> None:
    summary = package / "outputs" / "summary.json"
    summary.write_text(summary.read_text().replace('"n_plots": 6', '"n_plots": 60'))
    manifest = json.loads((package / mf.MANIFEST).read_text())
    for entry in manifest["files"]:
        if entry["path"] == "outputs/summary.json":
            entry["sha256"] = hashlib.sha256(summary.read_bytes()).hexdigest()
            entry["size"] = summary.stat().st_size
    data = mf.serialise(manifest)
    (package / mf.MANIFEST).write_bytes(data)
    measurer = load_private_key(keys["measurer"])  # even when the measurer signs it
    (package / mf.SIGNATURE).write_bytes(mf.serialise(mf.sign(data, measurer)))
    result = verify_package(package, recompute=False)
    assert result["signature_ok"] is True and result["hashes_ok"] is False
    assert result["mismatches"] == [
        {"file": "stac/outputs/outputs--summary.json.json",
         "reason": "STAC asset outputs/summary.json: checksum disagrees"}
    ]  # fmt: skip


def test_resigned_by_someone_else_fails_the_expected_signer(
    package: Path, keys: dict[str, Path]
) -> None:
    manifest = _forge_summary(package)
    forger = load_private_key(keys["other"])
    forger_public = load_public_key(keys["other"].with_name("other.pub"))
    manifest["signer"]["public_key"] = base64.b64encode(forger_public).decode()  # type: ignore[index]
    data = mf.serialise(manifest)
    (package / mf.MANIFEST).write_bytes(data)
    (package / mf.SIGNATURE).write_bytes(mf.serialise(mf.sign(data, forger)))
    # internally consistent: only the re-run or the expected key catch it
    assert verify_package(package, recompute=False)["ok"] is True
    rerun = verify_package(package, recompute=compute)
    assert rerun["recomputed_ok"] is False and _named(rerun) == {"outputs/summary.json"}
    measurer = load_public_key(keys["measurer"].with_name("measurer.pub"))
    result = verify_package(package, recompute=False, public_key=measurer)
    assert result["ok"] is False and result["signature_ok"] is False
    assert _named(result) == {mf.SIGNATURE}
    assert "expected" in result["mismatches"][0]["reason"]


def test_expected_signer_accepted(built: Path, keys: dict[str, Path]) -> None:
    measurer = load_public_key(keys["measurer"].with_name("measurer.pub"))
    assert verify_package(built, recompute=False, public_key=measurer)["ok"] is True


@pytest.mark.parametrize(
    ("scale", "ok"),
    [(1 + 1e-9, True), (1 + 1e-4, False)],  # the package declares rel 1e-6
)
def test_numeric_outputs_within_and_beyond_tolerance(built: Path, scale: float, ok: bool) -> None:
    result = verify_package(built, recompute=partial(compute, cf_scale=scale))
    assert result["ok"] is ok and result["recomputed_ok"] is ok
    if not ok:
        # the land-cover classes do not depend on the carbon fraction (exact, still equal)
        assert _named(result) == {
            "outputs/summary.json", "outputs/parcels.csv", "outputs/carbon_density.tif"
        }  # fmt: skip
        reasons = {m["file"]: m["reason"] for m in result["mismatches"]}
        assert "$.stock.mean_tc_per_ha" in reasons["outputs/summary.json"]
        assert "column carbon_tc" in reasons["outputs/parcels.csv"]
        assert "band 1: 19 cells differ" in reasons["outputs/carbon_density.tif"]


def test_exact_output_must_match_bit_for_bit(built: Path) -> None:
    def flip_cover(campaign: Path, out: Path) -> Path:
        compute(campaign, out)
        tif = out / "outputs" / "land_cover.tif"
        tif.write_bytes(tif.read_bytes() + b"\x00")  # same pixels, different bytes
        return out

    result = verify_package(built, recompute=flip_cover)
    assert result["recomputed_ok"] is False
    assert result["mismatches"] == [
        {
            "file": "outputs/land_cover.tif",
            "reason": "re-computed bytes differ (compared bit for bit)",
        }
    ]


def test_regenerated_inputs_must_match_their_hashes(built: Path) -> None:
    result = verify_package(built, recompute=partial(compute, seed_offset=1))
    assert result["recomputed_ok"] is False
    assert _named(result) == {SCENE}


def test_failed_rerun_is_a_failed_verification(built: Path) -> None:
    def broken(campaign: Path, out: Path) -> Path:
        raise RuntimeError("scene source unavailable")

    result = verify_package(built, recompute=broken)
    assert result["ok"] is False and result["recomputed_ok"] is False
    assert result["mismatches"] == [
        {"file": "inputs/campaign.toml",
         "reason": "re-run failed: RuntimeError: scene source unavailable"}
    ]  # fmt: skip


def test_zip_package_verifies(run_dir: Path, keys: dict[str, Path], tmp_path: Path) -> None:
    out = build_package(run_dir, keys["measurer"], tmp_path / "pkg.zip")
    result = verify_package(out, recompute=compute)
    assert result["ok"] is True and result["files_checked"] == len(expected_package_files()) - 2


@pytest.mark.parametrize(
    "member",
    ["manifest.json", "outputs/summary.json", "outputs/carbon_density.tif", "inputs/campaign.toml"],
)
def test_changed_byte_inside_a_zip_member_is_named(
    run_dir: Path, keys: dict[str, Path], tmp_path: Path, member: str
) -> None:
    out = build_package(run_dir, keys["measurer"], tmp_path / "pkg.zip")
    with zipfile.ZipFile(out) as zf:
        info = zf.getinfo(member)
    data = bytearray(out.read_bytes())
    name_len, extra_len = struct.unpack(
        "<HH", data[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0x01
    out.write_bytes(bytes(data))
    result = verify_package(out, recompute=compute)
    assert result["ok"] is False
    assert member in _named(result)


def test_not_a_package_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        verify_package(tmp_path / "missing", recompute=False)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="neither a folder nor a zip"):
        verify_package(tmp_path / "notes.txt", recompute=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not an evidence package"):
        verify_package(tmp_path / "empty", recompute=False)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 truncated")
    result = verify_package(tmp_path / "broken.zip", recompute=False)
    assert result["ok"] is False and _named(result) == {"broken.zip"}


def test_symlinked_file_is_refused(package: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    shutil.copy(package / "outputs" / "parcels.csv", outside)
    (package / "outputs" / "parcels.csv").unlink()
    (package / "outputs" / "parcels.csv").symlink_to(outside)
    result = verify_package(package, recompute=False)
    assert result["hashes_ok"] is False
    assert "outputs/parcels.csv" in _named(result)
