"""Files of a folder as manifest entries (relative POSIX path → SHA-256 and size)."""

from __future__ import annotations

from pathlib import Path

from mrv.hashing import sha256_file
from pipelines.package.manifest import FileEntry, Mismatch


def hash_tree(root: Path) -> tuple[dict[str, FileEntry], list[Mismatch]]:
    """Every regular file under ``root``; symbolic links are refused (they could point outside)."""
    entries: dict[str, FileEntry] = {}
    refused: list[Mismatch] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            refused.append(Mismatch(rel, "symbolic link: a package holds regular files only"))
        elif path.is_file():
            entries[rel] = FileEntry(rel, sha256_file(path), path.stat().st_size)
    return entries, refused
