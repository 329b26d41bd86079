"""``build_package``: a run folder → a signed evidence package (folder or zip).

Copies ``inputs/``, ``outputs/``, ``report/``, ``run.json`` and ``run.log`` (never ``work/``),
checks the copies against the hashes ``run.json`` recorded, writes ``parameters.json`` (from
``outputs/summary.json``), the STAC catalog, ``manifest.json`` and its Ed25519 signature. The
package is assembled in a temporary sibling of ``out`` and renamed into place, so an error leaves
nothing behind; a zip has its members in path order with fixed timestamps.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mrv.errors import InputError, Problem
from mrv.hashing import sha256_file
from pipelines.package import manifest as mf
from pipelines.package.keys import load_private_key, public_raw
from pipelines.package.stac import write_catalog
from pipelines.package.tree import hash_tree

RUN_RECORD = "run.json"
CHANGED = "changed since the run (sha256 differs from run.json)"
COPIED = ("inputs", "outputs", "report", RUN_RECORD, "run.log")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Built:
    """A package written by :func:`build`: where, and its manifest."""

    path: Path
    manifest: dict[str, Any]


def _read_json(path: Path, run_dir: Path) -> dict[str, Any]:
    rel = str(path.relative_to(run_dir))
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{path}: not found", [Problem("not found", file=rel)]) from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: unreadable ({exc})", [Problem(str(exc), file=rel)]) from exc
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a JSON object", [Problem("not a JSON object", file=rel)])
    return doc


def read_run_record(run_dir: Path) -> dict[str, Any]:
    """``run.json`` of a run folder, with the keys a package needs checked."""
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: not a run folder", [Problem("no such folder", str(run_dir))])
    record = _read_json(run_dir / RUN_RECORD, run_dir)
    problems = []
    if not isinstance(record.get("campaign_id"), str):
        problems.append(Problem("missing or not a string", RUN_RECORD, column="campaign_id"))
    methodology = record.get("methodology")
    if not isinstance(methodology, dict) or not {"id", "version"} <= set(methodology):
        problems.append(Problem("needs id and version", RUN_RECORD, column="methodology"))
    for key in ("inputs", "outputs"):
        rows = record.get(key)
        if not isinstance(rows, list) or not all(
            isinstance(r, dict) and {"path", "sha256"} <= set(r) for r in rows
        ):
            problems.append(Problem("needs a list of {path, sha256}", RUN_RECORD, column=key))
    if not record.get("outputs"):
        problems.append(Problem("no outputs recorded", RUN_RECORD, column="outputs"))
    if problems:
        raise InputError(f"{run_dir / RUN_RECORD}: not a usable run record", problems)
    return record


def _check_copies(pkg: Path, record: dict[str, Any]) -> None:
    """Every input and output ``run.json`` lists is in the package with the recorded hash."""
    problems = []
    for key in ("inputs", "outputs"):
        for row in record[key]:
            rel = str(row["path"])
            path = pkg / rel
            if not mf.is_safe_path(rel) or rel.split("/", 1)[0] != key:
                problems.append(Problem(f"path outside {key}/", RUN_RECORD, column=key))
            elif not path.is_file():
                problems.append(Problem(f"listed in run.json {key} but missing", rel))
            elif sha256_file(path) != row["sha256"]:
                problems.append(Problem(CHANGED, rel))
    doc = (record.get("methodology") or {}).get("document")
    digest = (record.get("methodology") or {}).get("document_sha256")
    if isinstance(doc, str) and isinstance(digest, str):
        path = pkg / doc
        if not mf.is_safe_path(doc) or not path.is_file():
            missing = "methodology document missing"
            problems.append(Problem(missing, RUN_RECORD, column="methodology"))
        elif sha256_file(path) != digest:
            problems.append(Problem(CHANGED, doc))
    if problems:
        raise InputError("the run folder does not match its run.json", problems)


def _parameters(run_dir: Path) -> dict[str, Any]:
    summary_path = run_dir / "outputs" / "summary.json"
    summary = _read_json(summary_path, run_dir) if summary_path.is_file() else {}
    return {
        "source": "outputs/summary.json",
        "methodology": summary.get("methodology"),
        "parameters": summary.get("parameters") or [],
        "unconfirmed_parameters": summary.get("unconfirmed_parameters") or [],
    }


def _assemble(run_dir: Path, pkg: Path, key_path: Path, created: datetime) -> dict[str, Any]:
    key = load_private_key(key_path)
    record = read_run_record(run_dir)
    pkg.mkdir()
    for name in COPIED:
        src = run_dir / name
        if src.is_dir():
            shutil.copytree(src, pkg / name, symlinks=False)
        elif src.is_file():
            shutil.copy2(src, pkg / name)
    _check_copies(pkg, record)
    parameters = _parameters(run_dir)
    (pkg / "parameters.json").write_bytes(mf.serialise(parameters))
    summary_path = pkg / "outputs" / "summary.json"
    summary = _read_json(summary_path, pkg) if summary_path.is_file() else {}
    write_catalog(pkg, record, summary)
    entries, refused = hash_tree(pkg)
    if refused:
        problems = [Problem(m.reason, m.file) for m in refused]
        raise InputError("the run folder holds symbolic links", problems)
    manifest = mf.build_manifest(
        entries.values(),
        run_record=record,
        created_utc=created.astimezone(UTC).isoformat(timespec="seconds"),
        public_key=public_raw(key),
    )
    data = mf.serialise(manifest)
    (pkg / mf.MANIFEST).write_bytes(data)
    (pkg / mf.SIGNATURE).write_bytes(mf.serialise(mf.sign(data, key)))
    return manifest


def write_zip(folder: Path, target: Path) -> None:
    """Zip ``folder``'s files in path order with fixed timestamps and modes (reproducible)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            with path.open("rb") as src, zf.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def build(run_dir: Path, key_path: Path, out: Path, *, created: datetime | None = None) -> Built:
    """Build the package of ``run_dir`` signed with the key at ``key_path`` at ``out``."""
    out = Path(out).absolute()
    if out.exists() or out.is_symlink():
        raise InputError(f"{out} exists", [Problem("exists; refusing to overwrite", str(out))])
    if not out.parent.is_dir():
        raise InputError(f"{out.parent}: no such folder", [Problem("no such folder", str(out))])
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        pkg = tmp / "package"
        manifest = _assemble(Path(run_dir), pkg, Path(key_path), created or datetime.now(UTC))
        if out.suffix.lower() == ".zip":
            write_zip(pkg, tmp / "package.zip")
            os.replace(tmp / "package.zip", out)
        else:
            pkg.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Built(out, manifest)


def build_package(run_dir: Path, key_path: Path, out: Path) -> Path:
    """Build a signed evidence package; ``out`` ending in ``.zip`` writes a zip, else a folder."""
    return build(run_dir, key_path, out).path
