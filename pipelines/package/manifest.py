"""The package manifest and its signature, as pure functions on bytes and mappings.

``manifest.json`` lists every file of the package except itself and ``manifest.sig.json`` with
its SHA-256 and size, plus the campaign, methodology, code version, creation time, the numeric
tolerance outputs are re-computed to, and the signer's public key. It is serialised canonically
(sorted keys, 2-space indent, UTF-8, final newline); ``manifest.sig.json`` carries an Ed25519
signature (RFC 8032) over exactly those bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pipelines.package.compare import Tolerance
from pipelines.package.keys import ALGORITHM, PUBLIC_KEY_BYTES, fingerprint, public_raw

FORMAT = "huzhou-mrv-evidence-package"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig.json"
UNLISTED = frozenset({MANIFEST, SIGNATURE})


@dataclass(frozen=True)
class FileEntry:
    """One file of the package: POSIX path relative to the package root, SHA-256 hex, bytes."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Mismatch:
    """A file that fails a check, and why."""

    file: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready ``{file, reason}``."""
        return {"file": self.file, "reason": self.reason}


@dataclass(frozen=True)
class Manifest:
    """A parsed manifest."""

    files: tuple[FileEntry, ...]
    signer_public_key: bytes
    campaign_id: str | None
    methodology: Mapping[str, Any]
    tolerance: Tolerance
    data: Mapping[str, Any]
    """The whole document as read."""


def is_safe_path(path: str) -> bool:
    """A relative POSIX path that stays inside the package (no ``..``, no absolute, no ``\\``)."""
    p = PurePosixPath(path)
    return bool(path) and not p.is_absolute() and ".." not in p.parts and "\\" not in path


def build_manifest(
    files: Iterable[FileEntry],
    *,
    run_record: Mapping[str, Any],
    created_utc: str,
    public_key: bytes,
) -> dict[str, Any]:
    """The manifest document for ``files`` of the run described by ``run_record`` (run.json)."""
    methodology = run_record.get("methodology") or {}
    tolerance = Tolerance.from_mapping(run_record.get("tolerance"))
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "campaign_id": run_record.get("campaign_id"),
        "methodology": {"id": methodology.get("id"), "version": methodology.get("version")},
        "code_version": run_record.get("code_version"),
        "created_utc": created_utc,
        "tolerance": {"rel": tolerance.rel, "abs": tolerance.abs},
        "signer": {
            "algorithm": ALGORITHM,
            "public_key": base64.b64encode(public_key).decode("ascii"),
            "fingerprint": fingerprint(public_key),
        },
        "files": [
            {"path": f.path, "sha256": f.sha256, "size": f.size}
            for f in sorted(files, key=lambda f: f.path)
        ],
    }


def serialise(document: Mapping[str, Any]) -> bytes:
    """Canonical JSON bytes (sorted keys, indent 2, UTF-8, trailing newline, no NaN)."""
    text = json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def sign(manifest_bytes: bytes, key: Ed25519PrivateKey) -> dict[str, Any]:
    """The signature document for the exact bytes of ``manifest.json``."""
    raw = public_raw(key)
    return {
        "algorithm": ALGORITHM,
        "signed_file": MANIFEST,
        "public_key": base64.b64encode(raw).decode("ascii"),
        "fingerprint": fingerprint(raw),
        "signature": base64.b64encode(key.sign(manifest_bytes)).decode("ascii"),
    }


def _b64(value: Any, what: str, length: int) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{what} missing or not a string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{what} is not base64") from exc
    if len(raw) != length:
        raise ValueError(f"{what} has {len(raw)} bytes, expected {length}")
    return raw


def _object(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{what} is not valid UTF-8 JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"{what} is not a JSON object")
    return doc


def parse_signature(data: bytes) -> tuple[bytes, bytes]:
    """``(public key, signature)`` raw bytes from ``manifest.sig.json``; ValueError names why."""
    doc = _object(data, "the signature file")
    if doc.get("algorithm") != ALGORITHM:
        raise ValueError(f"algorithm is {doc.get('algorithm')!r}, expected {ALGORITHM!r}")
    if doc.get("signed_file", MANIFEST) != MANIFEST:
        raise ValueError(f"signs {doc.get('signed_file')!r}, expected {MANIFEST!r}")
    return (
        _b64(doc.get("public_key"), "public_key", PUBLIC_KEY_BYTES),
        _b64(doc.get("signature"), "signature", 64),
    )


def signature_valid(manifest_bytes: bytes, public_key: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature of ``manifest_bytes``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, manifest_bytes)
    except (InvalidSignature, ValueError):
        return False
    return True


def parse_manifest(data: bytes) -> Manifest:
    """Read ``manifest.json``; ValueError names what is wrong with it."""
    doc = _object(data, MANIFEST)
    if doc.get("format") != FORMAT:
        raise ValueError(f"format is {doc.get('format')!r}, expected {FORMAT!r}")
    signer = doc.get("signer")
    if not isinstance(signer, dict):
        raise ValueError("no signer")
    key = _b64(signer.get("public_key"), "signer.public_key", PUBLIC_KEY_BYTES)
    files = doc.get("files")
    if not isinstance(files, list):
        raise ValueError("no file list")
    entries = []
    for i, f in enumerate(files):
        ok = isinstance(f, dict) and isinstance(f.get("path"), str)
        ok = ok and isinstance(f.get("sha256"), str) and isinstance(f.get("size"), int)
        if not ok:
            raise ValueError(f"files[{i}] is not {{path, sha256, size}}")
        entries.append(FileEntry(f["path"], f["sha256"], f["size"]))
    methodology = doc.get("methodology")
    return Manifest(
        files=tuple(entries),
        signer_public_key=key,
        campaign_id=doc.get("campaign_id"),
        methodology=methodology if isinstance(methodology, dict) else {},
        tolerance=Tolerance.from_mapping(doc.get("tolerance")),
        data=doc,
    )


def check_files(expected: Iterable[FileEntry], actual: Mapping[str, FileEntry]) -> list[Mismatch]:
    """Every listed file present with its hash and size, and no file that is not listed."""
    problems = []
    listed = set()
    for entry in expected:
        listed.add(entry.path)
        found = actual.get(entry.path)
        if not is_safe_path(entry.path) or entry.path in UNLISTED:
            problems.append(Mismatch(entry.path, "path not allowed in a manifest"))
        elif found is None:
            problems.append(Mismatch(entry.path, "missing: listed in the manifest"))
        elif found.sha256 != entry.sha256 or found.size != entry.size:
            problems.append(
                Mismatch(
                    entry.path,
                    f"content changed: sha256 {found.sha256} ({found.size} bytes), "
                    f"manifest says {entry.sha256} ({entry.size} bytes)",
                )
            )
    problems += [
        Mismatch(path, "extra file: not in the manifest")
        for path in sorted(set(actual) - listed - UNLISTED)
    ]
    return problems
