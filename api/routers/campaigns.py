"""``/v1/campaigns`` and ``/v1/runs``: seasons run in the background from the campaign folders
the bureau prepared on the server (``data_dir/campaigns/<name>/campaign.toml``); each run's
folder is ``data_dir/runs/<job id>`` (layout in the README's "Campaigns" section)."""

from __future__ import annotations

import dataclasses
import json
import mimetypes
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel, Field

from api.deps import Actor, SettingsDep
from api.jobs import JOB_ID, JobRunner
from api.openapi import PROBLEMS
from api.pagination import Cursor, Limit, Page, paginate
from mrv.errors import ForbiddenError, InputError, InvalidStateError, RecordNotFoundError
from mrv.registry.tokens import Principal
from mrv.settings import Settings
from pipelines.campaign.config import load_campaign
from pipelines.campaign.run import run_campaign
from pipelines.package.manifest import is_safe_path

router = APIRouter(tags=["campaigns"], responses=PROBLEMS)

KIND = "campaign-run"
NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
CampaignName = Annotated[str, Path(pattern=NAME, description="Campaign folder name.")]
REMOVALS = (
    "removals_tco2e",
    "ci90_half_width_tco2e",
    "conservative_removals_tco2e",
    "claimable_tco2e",
)
JobId = Annotated[str, Path(pattern=JOB_ID, description="Job id.")]


def require_roles(actor: Principal, *roles: str) -> None:
    """Refuse (403) unless the token's party holds one of ``roles`` (admin always passes)."""
    if "admin" in actor.roles or actor.roles.intersection(roles):
        return
    raise ForbiddenError(
        f"{actor.party} may not do this: it needs the role {' or '.join(roles)}",
        actor=actor.party,
        required_roles=list(roles),
    )


def jobs_of(request: Request) -> JobRunner:
    """The application's job runner."""
    runner: JobRunner = request.app.state.jobs
    return runner


class Job(BaseModel):
    """A background job and, once finished, its result or its error (problem details)."""

    id: str
    kind: str = Field(examples=["campaign-run", "package-verification"])
    subject: str = Field(description="Campaign name or package SHA-256.")
    status: str = Field(examples=["queued", "running", "succeeded", "failed"])
    submitted_by: str
    created_utc: str
    started_utc: str | None
    finished_utc: str | None
    error: dict[str, Any] | None
    result: dict[str, Any] | None


class Campaign(BaseModel):
    """A campaign folder available to run."""

    name: str


class OutputFile(BaseModel):
    """One output of a run (from its ``run.json``)."""

    path: str = Field(examples=["outputs/summary.json"])
    size: int
    sha256: str


def _campaigns(settings: Settings) -> FilePath:
    return settings.data_dir / "campaigns"


def _run_dir(settings: Settings, job_id: str) -> FilePath:
    return settings.data_dir / "runs" / job_id


def headline(summary: dict[str, Any]) -> dict[str, Any]:
    """The figures of a run's ``summary.json`` shown with its job."""
    removals = summary.get("removals") or {}
    site = summary.get("site") or {}
    return {
        "campaign_id": (summary.get("campaign") or {}).get("id"),
        "period_start": (summary.get("campaign") or {}).get("period_start"),
        "period_end": (summary.get("campaign") or {}).get("period_end"),
        "parcels_n": site.get("parcels_n"),
        "parcels_area_ha": site.get("parcels_area_ha"),
        "overall_accuracy": (summary.get("classification") or {}).get("overall_accuracy"),
        **{k: removals.get(k) for k in REMOVALS},
    }


def campaign_names(settings: Settings) -> list[str]:
    """The campaign folders on the server that hold a ``campaign.toml``, by name."""
    root = _campaigns(settings)
    names = [p.parent.name for p in root.glob("*/campaign.toml")] if root.is_dir() else []
    return sorted(n for n in names if n[0] != ".")


def start_campaign_run(request: Request, name: str, submitted_by: str) -> dict[str, Any]:
    """Queue a run of campaign ``name`` (not found without its ``campaign.toml``); returns the
    queued job. The file is checked first: a bad one raises :class:`InputError` with every
    problem's line and key (the file named ``<name>/campaign.toml``) and nothing is queued."""
    settings: Settings = request.app.state.settings
    path = _campaigns(settings) / name / "campaign.toml"
    if not path.is_file():
        raise RecordNotFoundError(f"no campaign {name!r}", campaign=name)
    try:
        campaign = load_campaign(path)
    except InputError as exc:  # name the file as the client knows it, not the server path
        file = f"{name}/campaign.toml"
        problems = [dataclasses.replace(p, file=file) for p in exc.problems]
        raise InputError(f"{file}: {len(problems)} problem(s)", problems) from None

    def work(job_id: str) -> dict[str, Any]:
        out = _run_dir(settings, job_id)
        summary = run_campaign(campaign, out_dir=out, settings=settings, progress=False)
        return {"campaign": name, "summary": headline(summary)}

    return jobs_of(request).submit(KIND, work, submitted_by=submitted_by, subject=name)


def campaign_runs(request: Request) -> list[dict[str, Any]]:
    """Every campaign-run job, oldest first."""
    return jobs_of(request).list(KIND)


@router.get("/campaigns", response_model=Page[Campaign])
def list_campaigns(
    actor: Actor, settings: SettingsDep, limit: Limit = 100, cursor: Cursor = None
) -> Page[Campaign]:
    """The campaign folders on the server that hold a ``campaign.toml``."""
    items = [Campaign(name=n) for n in campaign_names(settings)]
    return paginate(items, lambda c: c.name, limit=limit, cursor=cursor)


@router.post("/campaigns/{name}/runs", status_code=status.HTTP_202_ACCEPTED, response_model=Job)
def post_run(
    name: CampaignName, actor: Actor, request: Request, response: Response
) -> dict[str, Any]:
    """Run the campaign in the background (bureaus, admins): 202 with the queued job and its
    ``Location``. The file is checked first: a bad one answers 422 with every problem's line and
    key, and nothing is queued."""
    require_roles(actor, "bureau")
    job = start_campaign_run(request, name, actor.party)
    response.headers["Location"] = f"/v1/runs/{job['id']}"
    return job


@router.get("/runs/{id}", response_model=Job)
def get_run(id: JobId, actor: Actor, request: Request) -> dict[str, Any]:
    """A run: its status, timings and, when done, the headline figures of ``summary.json``."""
    return jobs_of(request).get(id, KIND)


def run_log(request: Request, job_id: str) -> str:
    """A campaign run's ``run.log`` (while it runs: the log so far)."""
    jobs_of(request).get(job_id, KIND)
    run_dir = _run_dir(request.app.state.settings, job_id)
    logs = [run_dir / "run.log", *sorted(run_dir.parent.glob(f".{job_id}.partial-*/run.log"))]
    for path in logs:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
    raise RecordNotFoundError(f"run {job_id} has no log (yet)", job=job_id)


@router.get("/runs/{id}/log", response_class=PlainTextResponse)
def get_run_log(id: JobId, actor: Actor, request: Request) -> str:
    """The run's ``run.log`` (while it runs: the log so far)."""
    return run_log(request, id)


def run_outputs(request: Request, job_id: str) -> list[dict[str, Any]]:
    """The files of a finished run (``path``, ``size``, ``sha256``, from its ``run.json``)."""
    job = jobs_of(request).get(job_id, KIND)
    if job["status"] != "succeeded":
        raise InvalidStateError(f"run {job_id} is {job['status']}", job=job_id)
    record: dict[str, Any] = json.loads(
        (_run_dir(request.app.state.settings, job_id) / "run.json").read_text(encoding="utf-8")
    )
    outputs: list[dict[str, Any]] = record["outputs"]
    return outputs


def run_file(request: Request, job_id: str, path: str) -> FileResponse:
    """One file of a finished run's folder (``outputs/…``, ``report/…``, ``run.json`` …; not
    ``work/``)."""
    run_outputs(request, job_id)
    if not is_safe_path(path) or path.split("/", 1)[0] == "work":
        raise InputError(f"{path!r}: not a path inside the run folder")
    run_dir = _run_dir(request.app.state.settings, job_id).resolve()
    target = (run_dir / path).resolve()
    if not target.is_relative_to(run_dir) or not target.is_file():
        raise RecordNotFoundError(f"run {job_id} has no file {path!r}", job=job_id, path=path)
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=media, filename=target.name)


@router.get("/runs/{id}/outputs", response_model=Page[OutputFile])
def list_outputs(
    id: JobId,
    actor: Actor,
    request: Request,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[OutputFile]:
    """The outputs of a finished run with size and SHA-256 (from its ``run.json``)."""
    rows = run_outputs(request, id)
    items = [OutputFile(path=r["path"], size=r["size"], sha256=r["sha256"]) for r in rows]
    return paginate(items, lambda f: f.path, limit=limit, cursor=cursor)


@router.get("/runs/{id}/outputs/{path:path}", response_class=FileResponse)
def get_output(id: JobId, path: str, actor: Actor, request: Request) -> FileResponse:
    """One file of a finished run's folder (``outputs/…``, ``report/…``, ``run.json`` …)."""
    return run_file(request, id, path)


__all__ = [
    "KIND",
    "NAME",
    "Job",
    "campaign_names",
    "campaign_runs",
    "headline",
    "jobs_of",
    "require_roles",
    "router",
    "run_file",
    "run_log",
    "run_outputs",
    "start_campaign_run",
]
