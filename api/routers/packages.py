"""``/v1/packages``: evidence packages (signed zips, README "Evidence packages") uploaded,
stored by content (``data_dir/packages/<sha256>.zip``), downloaded and verified in the
background (signature, hashes, and a re-run of the campaign from the packaged inputs)."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, File, Path, Request, Response, UploadFile, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from api.deps import Actor, SettingsDep
from api.openapi import PROBLEMS
from api.routers.campaigns import Job, jobs_of, require_roles
from mrv.errors import InputError, Problem, RecordNotFoundError
from mrv.settings import Settings
from pipelines.package.verify import MARKERS, verify_package

router = APIRouter(tags=["packages"], responses=PROBLEMS)

KIND = "package-verification"
SHA256 = re.compile(r"[0-9a-f]{64}")
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the zip.")]
Verifier = Callable[[FilePath], dict[str, Any]]
"""``(package zip) → verification result``; the app's ``state.package_verifier`` overrides
:func:`verify_package` (tests inject a fast re-computation)."""


class PackageDigestError(InputError):
    """An upload that is not the package expected: its SHA-256 differs (422)."""

    def __init__(self, name: str, actual: str, expected: str) -> None:
        reason = f"its SHA-256 is {actual}, expected {expected}"
        super().__init__(
            f"{name}: not the expected package: {reason}", [Problem(reason, file=name)]
        )
        self.name, self.actual, self.expected = name, actual, expected


class Stored(BaseModel):
    """An uploaded package."""

    sha256: str = Field(description="SHA-256 of the zip: its id.")
    size: int
    files: int = Field(description="Members of the zip.")


def _folder(settings: Settings) -> FilePath:
    return settings.data_dir / "packages"


def _stored(settings: Settings, sha256: str) -> FilePath:
    path = package_path(settings, sha256)
    if path is None:
        raise RecordNotFoundError(f"no package {sha256}", package=sha256)
    return path


def _members(path: FilePath, name: str) -> int:
    """Members of an evidence package zip; anything else is refused (422)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{name}: not a zip archive", [Problem(str(exc), file=name)]) from None
    if not set(MARKERS) <= names:
        reason = f"not an evidence package (needs {', '.join(MARKERS)})"
        raise InputError(f"{name}: {reason}", [Problem(reason, file=name)])
    return len(names)


def store_package(
    settings: Settings, source: BinaryIO, filename: str | None, expected: str | None = None
) -> Stored:
    """Store the evidence package read from ``source`` under its SHA-256 (atomically: a refused
    upload leaves nothing). A file that is not a package's zip, or (with ``expected``) whose
    SHA-256 is not ``expected``, is refused (422)."""
    folder = _folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    name = os.path.basename(filename or "upload.zip")
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".tmp")
    tmp = FilePath(tmp_name)
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        sha256 = digest.hexdigest()
        if expected is not None and sha256 != expected:
            raise PackageDigestError(name, sha256, expected)
        files = _members(tmp, name)
        os.replace(tmp, folder / f"{sha256}.zip")
    finally:
        tmp.unlink(missing_ok=True)
    return Stored(sha256=sha256, size=size, files=files)


def package_path(settings: Settings, sha256: str) -> FilePath | None:
    """The stored zip of package ``sha256``, or None when it has not been uploaded."""
    path = _folder(settings) / f"{sha256}.zip"
    return path if SHA256.fullmatch(sha256) and path.is_file() else None


def start_verification(request: Request, sha256: str, submitted_by: str) -> dict[str, Any]:
    """Queue the verification of stored package ``sha256`` (not found if it is not stored);
    returns the queued job. The verifier is the app's ``state.package_verifier`` if set."""
    path = _stored(request.app.state.settings, sha256)
    verifier: Verifier = getattr(request.app.state, "package_verifier", verify_package)

    def work(job_id: str) -> dict[str, Any]:
        result = dict(verifier(path))
        result["package"] = sha256  # not the server's path
        return result

    return jobs_of(request).submit(KIND, work, submitted_by=submitted_by, subject=sha256)


def latest_verification(request: Request, sha256: str) -> dict[str, Any] | None:
    """The latest verification job of package ``sha256``, or None."""
    jobs = jobs_of(request).list(KIND, sha256)
    return jobs[-1] if jobs else None


@router.post("/packages", status_code=status.HTTP_201_CREATED, response_model=Stored)
def post_package(
    file: Annotated[UploadFile, File(description="The evidence package (zip).")],
    actor: Actor,
    settings: SettingsDep,
) -> Stored:
    """Store an evidence package (bureaus, verifiers, cooperatives, admins); its SHA-256 is its
    id (uploading the same bytes again answers the same). A file that is not a package's zip
    answers 422."""
    require_roles(actor, "bureau", "verifier", "cooperative")
    return store_package(settings, file.file, file.filename)


@router.get(
    "/packages/{sha256}",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The zip."}},
)
def get_package(sha256: Sha256, actor: Actor, settings: SettingsDep) -> FileResponse:
    """The package's zip, byte for byte as uploaded."""
    path = _stored(settings, sha256)
    return FileResponse(path, media_type="application/zip", filename=f"{sha256}.zip")


@router.post(
    "/packages/{sha256}/verification", status_code=status.HTTP_202_ACCEPTED, response_model=Job
)
def post_verification(
    sha256: Sha256, actor: Actor, request: Request, response: Response
) -> dict[str, Any]:
    """Verify the package in the background (verifiers, admins): 202 with the queued job; the
    result is at ``GET /v1/packages/{sha256}/verification``."""
    require_roles(actor, "verifier")
    job = start_verification(request, sha256, actor.party)
    response.headers["Location"] = f"/v1/packages/{sha256}/verification"
    return job


@router.get("/packages/{sha256}/verification", response_model=Job)
def get_verification(
    sha256: Sha256, actor: Actor, settings: SettingsDep, request: Request
) -> dict[str, Any]:
    """The latest verification job of the package; when it succeeded its ``result`` holds
    ``ok, signature_ok, hashes_ok, recomputed_ok, mismatches [{file, reason}]`` …"""
    _stored(settings, sha256)
    job = latest_verification(request, sha256)
    if job is None:
        raise RecordNotFoundError(f"package {sha256} has not been verified", package=sha256)
    return job


__all__ = [
    "KIND",
    "PackageDigestError",
    "Stored",
    "latest_verification",
    "package_path",
    "router",
    "start_verification",
    "store_package",
]
