"""``run.json``: what ran, on what, with which code — the run's record for the evidence package."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from methodologies.registry import get
from mrv.hashing import sha256_file
from pipelines.campaign.config import Campaign
from pipelines.campaign.stage import input_records

PACKAGES = (
    "huzhou-mrv", "numpy", "scipy", "pandas", "xarray", "dask", "distributed", "rasterio",
    "geopandas", "shapely", "pyproj", "scikit-learn", "lightgbm", "numba", "pystac",
)  # fmt: skip
"""Packages whose versions are recorded (those the numbers depend on)."""

NUMERIC_SUFFIXES = (".json", ".csv", ".tif")
"""Outputs compared within the declared tolerance on a re-run; others byte for byte."""


def _git() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        dirty = bool(
            subprocess.run(
                ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                check=True,
                timeout=10,
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit, "git_dirty": dirty}


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def output_records(run_dir: Path, folder: str = "outputs") -> list[dict[str, Any]]:
    """Every file under ``folder`` with sha256, size and how a re-run compares it."""
    out = []
    for path in sorted((run_dir / folder).rglob("*")):
        if path.is_file():
            out.append(
                {
                    "path": path.relative_to(run_dir).as_posix(),
                    "sha256": sha256_file(path),
                    "size": path.stat().st_size,
                    "compare": "numeric" if path.suffix in NUMERIC_SUFFIXES else "exact",
                }
            )
    return out


def run_record(
    campaign: Campaign,
    run_dir: Path,
    *,
    started: datetime,
    duration_s: float,
    scheduler: str | None,
    generated: dict[str, Any] | None,
) -> dict[str, Any]:
    """The content of ``run.json`` (see the README's "Campaigns" section)."""
    spec = campaign.spec
    methodology = get(spec.methodology.id)
    doc = run_dir / "inputs" / "methodology" / methodology.document.name
    external = []
    if spec.scenes.source == "files":
        for p in spec.scenes.paths:
            path = Path(p)
            files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
            external += [
                {"location": str(f), "sha256": sha256_file(f), "size": f.stat().st_size,
                 "role": "scenes"}
                for f in files
            ]  # fmt: skip
    return {
        "campaign_id": spec.campaign.id,
        "started_utc": started.isoformat(),
        "finished_utc": datetime.now(UTC).isoformat(),
        "duration_s": round(duration_s, 3),
        "scheduler": scheduler,
        "code_version": {"package": "huzhou-mrv", "version": _versions()["huzhou-mrv"], **_git()},
        "packages": _versions(),
        "methodology": {
            "id": methodology.id,
            "version": methodology.version,
            "document": doc.relative_to(run_dir).as_posix(),
            "document_sha256": sha256_file(doc),
        },
        "inputs": input_records(run_dir),
        "external_inputs": external,
        "generated_inputs": generated,
        "outputs": output_records(run_dir),
        "tolerance": {"rel": spec.outputs.tolerance_rel, "abs": spec.outputs.tolerance_abs},
    }


__all__ = ["NUMERIC_SUFFIXES", "output_records", "run_record"]
