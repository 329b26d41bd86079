"""Pages of the forestry/agriculture bureau: monitoring reports awaiting a verifier (assigned
here, the registry refusing a verifier that validated the project or is party to it), the
verifications under way, and the campaign folders on the server with their background runs.

Assignment is :func:`mrv.registry.verification.assign_verifier` with the logged-in party as the
actor; campaign runs go through the same functions as ``/v1/campaigns`` (the file checked before
anything is queued, the job run by the API's job runner); a run's page shows its record, its log
and its files, served to the logged-in bureau (the API's ``/v1/runs/{id}`` needs a bearer token).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from api.routers.campaigns import (
    KIND,
    NAME,
    JobId,
    campaign_names,
    campaign_runs,
    jobs_of,
    run_file,
    run_log,
    run_outputs,
    start_campaign_run,
)
from api.web.forms import FormError, attempt, writer
from api.web.i18n import language, translator
from api.web.pages.review import STATES
from api.web.render import render
from api.web.session import registry_of, require_login, settings_of
from mrv.errors import RecordNotFoundError
from mrv.registry.monitoring import list_awaiting_verifier
from mrv.registry.queries import list_parties
from mrv.registry.verification import assign_verifier, list_assignments

router = APIRouter(include_in_schema=False)

ROLE = "bureau"
ProjectCode = Annotated[str, Path(max_length=32)]
Seq = Annotated[int, Path(gt=0, le=2**31)]
CampaignName = Annotated[str, Path(pattern=NAME)]
SHOWN_RUNS = 50
"""Campaign runs shown on the page (the latest; each has its page, ``/bureau/runs/{id}``)."""


def _home(
    request: Request,
    *,
    status: int = 200,
    error: FormError | None = None,
    error_at: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    registry = registry_of(request)
    settings = settings_of(request)
    tr = translator(language(request))
    runs = list(reversed(campaign_runs(request)))
    notice, notice_at = None, None
    done = request.query_params.get("done")
    if error is None and done == "assigned":
        report = request.query_params.get("report", "")
        notice, notice_at = (
            tr(f"已为报告 {report} 分配核查机构。", f"A verifier is assigned to report {report}."),
            "verifications",
        )
    elif error is None and done == "run":
        job = request.query_params.get("job", "")
        if any(r["id"] == job for r in runs):
            notice, notice_at = tr(f"已排队运行 {job}。", f"Run {job} is queued."), "runs"
    return render(
        request,
        "bureau_home.html",
        status=status,
        awaiting=list_awaiting_verifier(registry),
        assignments=list_assignments(registry),
        verifiers=[p for p in list_parties(registry) if "verifier" in p["roles"]],
        campaigns=campaign_names(settings),
        runs=runs[:SHOWN_RUNS],
        runs_total=len(runs),
        states=STATES,
        error=error,
        error_at=error_at,
        notice=notice,
        notice_at=notice_at,
        form=form or {},
    )


@router.get("/bureau")
def bureau_home(request: Request) -> Response:
    """Reports awaiting a verifier, verifications under way, campaigns and their runs."""
    require_login(request, ROLE)
    return _home(request)


@router.post("/bureau/reports/{project}/{seq}/verifier")
def post_verifier(
    request: Request,
    project: ProjectCode,
    seq: Seq,
    verifier: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Assign a verifier to a submitted report (the registry checks its independence)."""
    principal = writer(request, csrf, ROLE)
    _receipt, error = attempt(
        lambda: assign_verifier(
            registry_of(request),
            actor=principal.party,
            project=project,
            report_seq=seq,
            verifier=verifier,
        )
    )
    if error is not None:
        form = {"project": project, "seq": str(seq), "verifier": verifier}
        return _home(request, status=error.status, error=error, error_at="awaiting", form=form)
    report = quote(f"{project}/{seq}", safe="")
    return RedirectResponse(f"/bureau?done=assigned&report={report}#verifications", status_code=303)


@router.post("/bureau/campaigns/{name}/runs")
def post_run(
    request: Request,
    name: CampaignName,
    csrf: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Run a campaign in the background (its file checked first; a bad one is refused)."""
    principal = writer(request, csrf, ROLE)
    job, error = attempt(lambda: start_campaign_run(request, name, principal.party))
    if error is not None:
        form = {"campaign": name}
        return _home(request, status=error.status, error=error, error_at="campaigns", form=form)
    assert job is not None
    return RedirectResponse(f"/bureau?done=run&job={job['id']}#runs", status_code=303)


__all__ = ["router"]


@router.get("/bureau/runs/{job_id}")
def run_page(request: Request, job_id: JobId) -> Response:
    """A campaign run: status, headline figures, its log and, once it succeeded, its files."""
    require_login(request, ROLE)
    job = jobs_of(request).get(job_id, KIND)
    try:
        log: str | None = run_log(request, job_id)
    except RecordNotFoundError:
        log = None
    outputs = run_outputs(request, job_id) if job["status"] == "succeeded" else []
    return render(request, "bureau_run.html", job=job, log=log, outputs=outputs, states=STATES)


@router.get("/bureau/runs/{job_id}/files/{path:path}")
def run_file_page(request: Request, job_id: JobId, path: str) -> Response:
    """One file of a finished run (the report, the outputs, ``run.json`` …)."""
    require_login(request, ROLE)
    return run_file(request, job_id, path)
