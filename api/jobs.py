"""Background jobs of the API (campaign runs, package verifications): one worker thread, one
record per job as ``<root>/<job id>/job.json`` (written atomically), so a job's state survives
the request and is readable by any server process.

A record: ``id, kind, subject, status (queued|running|succeeded|failed), submitted_by,
created_utc, started_utc, finished_utc, error`` (problem details of the failure) ``, result``.
Jobs a previous process left queued or running are marked failed (``interrupted``) at start.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.problems import for_error
from mrv.atomic import write_text_atomic
from mrv.errors import MRVError, RecordNotFoundError

log = logging.getLogger("mrv.api.jobs")

JOB_ID = r"^[0-9]{8}T[0-9]{12}-[0-9a-f]{8}$"
"""A job id: its UTC creation time (sortable) and a random suffix."""
_JOB_ID = re.compile(JOB_ID)
STATUSES = ("queued", "running", "succeeded", "failed")
Work = Callable[[str], dict[str, Any]]
"""What a job does: ``(job id) → result`` (JSON-ready); raising fails the job."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def error_details(exc: BaseException) -> dict[str, Any]:
    """Problem details of a job's failure (the API's table for project errors)."""
    if isinstance(exc, MRVError):
        body: dict[str, Any] = json.loads(bytes(for_error(exc).body))
        return body
    return {
        "type": "/problems/internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": f"{type(exc).__name__}: {exc}",
        "code": "internal-error",
    }


class JobRunner:
    """A one-thread executor with job records under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mrv-job")
        for job in self.list():
            if job["status"] in ("queued", "running"):
                reason = "interrupted: the server stopped before the job finished"
                error = {"type": "/problems/interrupted", "title": "Interrupted", "status": 500,
                         "detail": reason, "code": "interrupted"}  # fmt: skip
                self._update(job["id"], status="failed", finished_utc=_now(), error=error)

    def _path(self, job_id: str) -> Path:
        return self.root / job_id / "job.json"

    def _write(self, job: dict[str, Any]) -> None:
        text = json.dumps(job, ensure_ascii=False, indent=2) + "\n"
        write_text_atomic(self._path(job["id"]), text)

    def _update(self, job_id: str, **changes: Any) -> dict[str, Any]:
        with self._lock:
            job = self.get(job_id)
            job.update(changes)
            self._write(job)
            return job

    def submit(self, kind: str, work: Work, *, submitted_by: str, subject: str) -> dict[str, Any]:
        """Queue ``work`` as a job of ``kind`` about ``subject``; returns the queued record."""
        now = datetime.now(UTC)
        job_id = f"{now:%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"
        job: dict[str, Any] = {
            "id": job_id, "kind": kind, "subject": subject, "status": "queued",
            "submitted_by": submitted_by, "created_utc": now.isoformat(timespec="milliseconds"),
            "started_utc": None, "finished_utc": None, "error": None, "result": None,
        }  # fmt: skip
        with self._lock:
            self._write(job)
        self._pool.submit(self._run, job_id, work)
        return job

    def _run(self, job_id: str, work: Work) -> None:
        self._update(job_id, status="running", started_utc=_now())
        try:
            result = work(job_id)
        except BaseException as exc:  # every failure is recorded on the job
            if not isinstance(exc, MRVError):
                log.exception("job %s failed", job_id)
            self._update(job_id, status="failed", finished_utc=_now(), error=error_details(exc))
            return
        self._update(job_id, status="succeeded", finished_utc=_now(), result=result)

    def get(self, job_id: str, kind: str | None = None) -> dict[str, Any]:
        """The record of a job (of ``kind`` when given); unknown ids are not found."""
        path = self._path(job_id) if _JOB_ID.match(job_id) else None
        try:
            job: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path else {}
        except FileNotFoundError:
            job = {}
        if not job or (kind is not None and job.get("kind") != kind):
            raise RecordNotFoundError(f"no {kind or 'job'} {job_id!r}", job=job_id)
        return job

    def list(self, kind: str | None = None, subject: str | None = None) -> list[dict[str, Any]]:
        """Every job (of ``kind``, about ``subject``), oldest first."""
        jobs = []
        for path in sorted(self.root.glob("*/job.json")):
            job = json.loads(path.read_text(encoding="utf-8"))
            if kind not in (None, job["kind"]) or subject not in (None, job["subject"]):
                continue
            jobs.append(job)
        return jobs

    def shutdown(self) -> None:
        """Finish the running job; queued ones stay queued (marked interrupted at next start)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["JOB_ID", "STATUSES", "JobRunner", "Work", "error_details"]
