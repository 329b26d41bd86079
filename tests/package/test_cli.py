"""``mrv package keygen|build|verify``: exit codes 0 / 1 / 2 and JSON keys."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.package import verify as verify_module
from tests.package.toyrun import compute, expected_package_files

Cli = Callable[..., tuple[int, str, str]]
VERIFY_KEYS = {"ok", "signature_ok", "hashes_ok", "recomputed_ok", "mismatches", "signer",
               "campaign_id", "methodology", "files_checked", "recompute_seconds"}  # fmt: skip


@pytest.fixture
def toy_rerun(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's default re-run is the campaign runner; here it is the toy computation."""
    monkeypatch.setattr(verify_module, "run_campaign_again", compute)


def test_keygen_build_verify(cli: Cli, run_dir: Path, tmp_path: Path, toy_rerun: None) -> None:
    key = tmp_path / "measurer.key"
    code, out, _ = cli("package", "keygen", "--out", key, "--json")
    assert code == 0
    made = json.loads(out)
    assert made["public_key_file"] == str(tmp_path / "measurer.key.pub")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    code, _, err = cli("package", "keygen", "--out", key)
    assert code == 2 and "exists" in err

    code, out, _ = cli("package", "build", run_dir, "--key", key, "--out", tmp_path / "p.zip",
                       "--json")  # fmt: skip
    assert code == 0
    built = json.loads(out)
    assert built["ok"] is True and built["campaign_id"] == "toy-2024"
    assert built["files"] == len(expected_package_files()) - 2
    assert built["signer"]["fingerprint"] == made["fingerprint"]

    code, out, _ = cli("package", "verify", tmp_path / "p.zip", "--json",
                       "--public-key", tmp_path / "measurer.key.pub")  # fmt: skip
    assert code == 0
    result = json.loads(out)
    assert VERIFY_KEYS <= set(result)
    assert result["ok"] is True and result["recomputed_ok"] is True

    code, out, _ = cli("package", "verify", tmp_path / "p.zip")
    assert code == 0 and "VERIFIED" in out and "re-run:    ok" in out


def test_verify_failures_exit_1(
    cli: Cli, package: Path, keys: dict[str, Path], tmp_path: Path, toy_rerun: None
) -> None:
    other_pub = keys["other"].with_name("other.pub")
    code, out, _ = cli("package", "verify", package, "--json", "--public-key", other_pub)
    result = json.loads(out)
    assert code == 1 and result["signature_ok"] is False and result["hashes_ok"] is True

    target = package / "outputs" / "parcels.csv"
    target.write_text(target.read_text().replace("A-002", "A-009"))
    code, out, _ = cli("package", "verify", package, "--json", "--no-recompute")
    result = json.loads(out)
    assert code == 1
    assert result["recomputed_ok"] is None and result["hashes_ok"] is False
    assert [m["file"] for m in result["mismatches"]] == ["outputs/parcels.csv"]

    code, out, _ = cli("package", "verify", package)
    assert code == 1
    assert "outputs/parcels.csv: content changed" in out and "VERIFICATION FAILED" in out


def test_bad_input_exits_2(cli: Cli, built: Path, run_dir: Path, tmp_path: Path) -> None:
    code, out, _ = cli("package", "verify", tmp_path / "missing", "--json")
    assert code == 2 and json.loads(out)["error"] == "InputError"
    bad_key = tmp_path / "bad.pub"
    bad_key.write_text("ed25519 xyz\n")
    code, _, err = cli("package", "verify", built, "--public-key", bad_key)
    assert code == 2 and "bad.pub" in err
    code, _, err = cli("package", "build", run_dir, "--key", tmp_path / "none", "--out",
                       tmp_path / "p")  # fmt: skip
    assert code == 2 and "none" in err
    assert not (tmp_path / "p").exists()
    code, _, err = cli("package", "build", run_dir, "--key", tmp_path / "none", "--out", built)
    assert code == 2 and "exists" in err
