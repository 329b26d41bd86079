"""Manifest document, canonical bytes, Ed25519 signature, file checks (pure functions)."""

from __future__ import annotations

import base64
import json

import pytest

from pipelines.package import manifest as mf
from pipelines.package.keys import generate_key, public_raw

RECORD = {
    "campaign_id": "c-1",
    "methodology": {"id": "bamboo-moso", "version": "1.2", "document": "x"},
    "code_version": {"package": "huzhou-mrv", "version": "0.1.0"},
    "tolerance": {"rel": 1e-6, "abs": 0.5},
}
FILES = [mf.FileEntry("outputs/b.csv", "bb" * 32, 7), mf.FileEntry("a.json", "aa" * 32, 3)]


def _manifest() -> tuple[dict[str, object], bytes]:
    key = generate_key()
    doc = mf.build_manifest(
        FILES, run_record=RECORD, created_utc="2025-01-05T08:00:00+00:00",
        public_key=public_raw(key),
    )  # fmt: skip
    return doc, public_raw(key)


def test_manifest_content_and_canonical_bytes() -> None:
    doc, raw = _manifest()
    assert [f["path"] for f in doc["files"]] == ["a.json", "outputs/b.csv"]  # type: ignore[index]
    assert doc["methodology"] == {"id": "bamboo-moso", "version": "1.2"}
    assert doc["tolerance"] == {"rel": 1e-6, "abs": 0.5}
    data = mf.serialise(doc)
    assert data.endswith(b"}\n")
    assert list(json.loads(data)) == sorted(doc)  # keys written sorted
    assert mf.serialise(json.loads(data)) == data  # parse → serialise is the identity
    parsed = mf.parse_manifest(data)
    assert parsed.signer_public_key == raw
    assert parsed.files == tuple(sorted(FILES, key=lambda f: f.path))
    assert parsed.tolerance.rel == 1e-6 and parsed.tolerance.abs == 0.5


def test_signature_over_exact_bytes() -> None:
    key = generate_key()
    data = b'{"files": []}\n'
    sig_doc = mf.sign(data, key)
    public, signature = mf.parse_signature(mf.serialise(sig_doc))
    assert public == public_raw(key)
    assert len(signature) == 64
    assert mf.signature_valid(data, public, signature)
    assert not mf.signature_valid(data.replace(b"[]", b"[ ]"), public, signature)
    other = public_raw(generate_key())
    assert not mf.signature_valid(data, other, signature)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"algorithm": "rsa"}, "algorithm"),
        ({"signature": "!!"}, "not base64"),
        ({"signature": base64.b64encode(b"short").decode()}, "5 bytes"),
        ({"public_key": None}, "public_key missing"),
        ({"signed_file": "other.json"}, "signs 'other.json'"),
    ],
)
def test_bad_signature_documents(change: dict[str, object], message: str) -> None:
    doc = {**mf.sign(b"x", generate_key()), **change}
    with pytest.raises(ValueError, match=message):
        mf.parse_signature(json.dumps(doc).encode())


def test_bad_manifests() -> None:
    with pytest.raises(ValueError, match="not valid UTF-8 JSON"):
        mf.parse_manifest(b"{")
    with pytest.raises(ValueError, match="format"):
        mf.parse_manifest(b'{"format": "zip"}')
    doc, _ = _manifest()
    doc["files"] = [{"path": "a"}]
    with pytest.raises(ValueError, match=r"files\[0\]"):
        mf.parse_manifest(mf.serialise(doc))


def test_check_files_names_each_problem() -> None:
    listed = [
        mf.FileEntry("same.txt", "11" * 32, 1),
        mf.FileEntry("changed.txt", "22" * 32, 2),
        mf.FileEntry("gone.txt", "33" * 32, 3),
        mf.FileEntry("../escape.txt", "44" * 32, 4),
    ]
    actual = {
        "same.txt": mf.FileEntry("same.txt", "11" * 32, 1),
        "changed.txt": mf.FileEntry("changed.txt", "23" * 32, 2),
        "extra.txt": mf.FileEntry("extra.txt", "55" * 32, 5),
        mf.MANIFEST: mf.FileEntry(mf.MANIFEST, "66" * 32, 6),
        mf.SIGNATURE: mf.FileEntry(mf.SIGNATURE, "77" * 32, 7),
    }
    found = {m.file: m.reason for m in mf.check_files(listed, actual)}
    assert set(found) == {"changed.txt", "gone.txt", "../escape.txt", "extra.txt"}
    assert found["changed.txt"].startswith("content changed")
    assert found["gone.txt"].startswith("missing")
    assert found["extra.txt"].startswith("extra file")
    assert "not allowed" in found["../escape.txt"]


@pytest.mark.parametrize(
    ("path", "safe"),
    [("a/b.txt", True), ("/etc/passwd", False), ("a/../../b", False), ("a\\b", False), ("", False)],
)
def test_safe_paths(path: str, safe: bool) -> None:
    assert mf.is_safe_path(path) is safe
