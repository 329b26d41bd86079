"""``verify_package``: is this evidence package what its measurer signed, and does re-running
its inputs give its outputs?

Checks, in order: the Ed25519 signature over the exact bytes of ``manifest.json`` (and, when
given, that the signer is the expected key); every file's SHA-256 and size against the manifest
(changed, missing and extra files are named); the STAC catalog's checksums against the manifest;
then re-runs the computation (:mod:`pipelines.package.rerun`) and compares outputs exactly or
within the tolerance the package declares. A zip is unpacked to a temporary folder first.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

from mrv.errors import InputError, Problem
from pipelines.package import manifest as mf
from pipelines.package.keys import fingerprint
from pipelines.package.rerun import Recompute, recompute_mismatches, run_campaign_again
from pipelines.package.tree import hash_tree

MARKERS = (mf.MANIFEST, mf.SIGNATURE, "catalog.json")


def _unzip(path: Path, dest: Path) -> list[mf.Mismatch]:
    """Extract every member safely; unreadable (e.g. CRC-failing) members are named."""
    problems = []
    seen = set()
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = info.filename
            if info.is_dir():
                continue
            if not mf.is_safe_path(name) or name in seen:
                problems.append(mf.Mismatch(name, "unsafe or duplicate member name in the zip"))
                continue
            seen.add(name)
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                target.unlink(missing_ok=True)
                problems.append(mf.Mismatch(name, f"unreadable in the zip: {exc}"))
    return problems


def _open(path: Path, work: Path) -> tuple[Path | None, list[mf.Mismatch]]:
    """The package folder to check (a zip is extracted under ``work``; None if unreadable)."""
    if path.is_dir():
        root, problems = path, []
    elif path.is_file() and (path.suffix.lower() == ".zip" or zipfile.is_zipfile(path)):
        root = work / "unpacked"
        root.mkdir()
        try:
            problems = _unzip(path, root)
        except (zipfile.BadZipFile, OSError) as exc:
            return None, [mf.Mismatch(path.name, f"not a readable zip archive: {exc}")]
    else:
        reason = "no such file or folder" if not path.exists() else "neither a folder nor a zip"
        raise InputError(f"{path}: {reason}", [Problem(reason, file=str(path))])
    if not any((root / m).is_file() for m in MARKERS):
        reason = f"not an evidence package (no {', '.join(MARKERS)})"
        raise InputError(f"{path}: {reason}", [Problem(reason, file=str(path))])
    return root, problems


def _signature(
    root: Path, manifest: mf.Manifest | None, expected: bytes | None
) -> tuple[bool, bytes | None, list[mf.Mismatch]]:
    """(signature ok, signer key, problems)."""
    sig_path, man_path = root / mf.SIGNATURE, root / mf.MANIFEST
    if not sig_path.is_file():
        return False, None, [mf.Mismatch(mf.SIGNATURE, "missing: the package is not signed")]
    if not man_path.is_file():
        return False, None, []  # reported by the caller
    try:
        key, signature = mf.parse_signature(sig_path.read_bytes())
    except ValueError as exc:
        return False, None, [mf.Mismatch(mf.SIGNATURE, f"unreadable signature: {exc}")]
    if not mf.signature_valid(man_path.read_bytes(), key, signature):
        reason = "the Ed25519 signature does not match: manifest.json or manifest.sig.json changed"
        return False, key, [mf.Mismatch(mf.MANIFEST, reason), mf.Mismatch(mf.SIGNATURE, reason)]
    if manifest is not None and manifest.signer_public_key != key:
        reason = (
            f"signed by {fingerprint(key)} but the manifest names signer "
            f"{fingerprint(manifest.signer_public_key)}"
        )
        return False, key, [mf.Mismatch(mf.SIGNATURE, reason)]
    if expected is not None and expected != key:
        reason = f"signed by {fingerprint(key)}, expected {fingerprint(expected)}"
        return False, key, [mf.Mismatch(mf.SIGNATURE, reason)]
    return True, key, []


def _catalog_mismatches(root: Path, listed: dict[str, mf.FileEntry]) -> list[mf.Mismatch]:
    """Each STAC asset's ``file:checksum`` agrees with the manifest (walks relative links)."""
    problems = []
    todo, seen = ["catalog.json"], set()
    while todo:
        rel = todo.pop()
        if rel in seen or rel not in listed:
            if rel not in listed:
                problems.append(mf.Mismatch(rel, "STAC link to a file that is not in the package"))
            continue
        seen.add(rel)
        try:
            doc = json.loads((root / rel).read_text(encoding="utf-8"))
        except ValueError as exc:
            problems.append(mf.Mismatch(rel, f"not a STAC JSON document: {exc}"))
            continue
        base = Path(rel).parent
        for link in doc.get("links", []):
            if link.get("rel") in ("child", "item"):
                todo.append(_normalise(base / link.get("href", "")))
        for asset in (doc.get("assets") or {}).values():
            target = _normalise(base / asset.get("href", ""))
            entry = listed.get(target)
            if entry is None or asset.get("file:checksum") != "1220" + entry.sha256:
                problems.append(mf.Mismatch(rel, f"STAC asset {target}: checksum disagrees"))
    return problems


def _normalise(path: Path) -> str:
    parts: list[str] = []
    for part in path.as_posix().split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def verify_package(
    path: Path, *, recompute: bool | Recompute = True, public_key: bytes | None = None
) -> dict[str, Any]:
    """Verify the package at ``path`` (folder or zip); returns the JSON-ready result.

    ``recompute`` is True (re-run the campaign), False (skip: ``recomputed_ok`` is None) or a
    callable ``(campaign file, out dir) → run dir``; ``public_key`` (32 raw bytes) must be the
    signer's when given. Raises :class:`InputError` when ``path`` is not a package at all.
    """
    result: dict[str, Any] = {"package": str(path), "recompute_seconds": None}
    with tempfile.TemporaryDirectory(prefix="mrv-verify-") as tmp:
        work = Path(tmp)
        root, unpacking = _open(Path(path), work)
        if root is None:
            return _result(result, False, None, False, None, unpacking, None)
        manifest: mf.Manifest | None = None
        mismatches = list(unpacking)
        if (root / mf.MANIFEST).is_file():
            try:
                manifest = mf.parse_manifest((root / mf.MANIFEST).read_bytes())
            except ValueError as exc:
                mismatches.append(mf.Mismatch(mf.MANIFEST, f"unreadable manifest: {exc}"))
        else:
            mismatches.append(mf.Mismatch(mf.MANIFEST, "missing: the package has no manifest"))
        signature_ok, signer, problems = _signature(root, manifest, public_key)
        mismatches += problems
        hashes_ok = False
        if manifest is not None:
            actual, refused = hash_tree(root)
            problems = refused + mf.check_files(manifest.files, actual)
            if not problems:
                problems = _catalog_mismatches(root, {f.path: f for f in manifest.files})
            hashes_ok = not problems and not unpacking
            mismatches += problems
        recomputed_ok: bool | None = None
        if recompute is False:
            result["recompute_skipped"] = "not requested"
        elif manifest is None or not (hashes_ok and signature_ok):
            result["recompute_skipped"] = "hashes or signature failed"
        else:
            record = json.loads((root / "run.json").read_text(encoding="utf-8"))
            runner = run_campaign_again if recompute is True else recompute
            t0 = time.perf_counter()
            problems = recompute_mismatches(root, record, manifest.tolerance, runner, work)
            result["recompute_seconds"] = round(time.perf_counter() - t0, 3)
            recomputed_ok = not problems
            mismatches += problems
    return _result(result, signature_ok, signer, hashes_ok, recomputed_ok, mismatches, manifest)


def _result(
    result: dict[str, Any],
    signature_ok: bool,
    signer: bytes | None,
    hashes_ok: bool,
    recomputed_ok: bool | None,
    mismatches: list[mf.Mismatch],
    manifest: mf.Manifest | None,
) -> dict[str, Any]:
    data = manifest.data if manifest else {}
    who = None
    if signer is not None:
        b64 = base64.b64encode(signer).decode("ascii")
        who = {"public_key": b64, "fingerprint": fingerprint(signer)}
    return {
        "ok": signature_ok and hashes_ok and recomputed_ok is not False,
        "signature_ok": signature_ok,
        "hashes_ok": hashes_ok,
        "recomputed_ok": recomputed_ok,
        "mismatches": [m.to_dict() for m in mismatches],
        "signer": who,
        "campaign_id": manifest.campaign_id if manifest else None,
        "methodology": dict(manifest.methodology) if manifest else None,
        "created_utc": data.get("created_utc"),
        "code_version": data.get("code_version"),
        "files_checked": len(manifest.files) if manifest else 0,
        **result,
    }
