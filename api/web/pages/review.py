"""Pages of the review area: a verifier's assigned reports and the review of one report.

The review page shows the report, its evidence package (manifest and files, or an upload form
taking only the bytes whose SHA-256 the report names), the package's maps side by side (its
rasters drawn by :mod:`api.web.rasters`, and the report's own PNG maps), the latest re-run of
the package's verification (started here, run by the API's job runner through the same
functions as ``/v1/packages``), the findings and the statement. Only the assigned verifier (or
an admin, who may read and re-run but not write findings, as the registry rules) sees it.
"""

from __future__ import annotations

import zipfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from api.routers.packages import (
    PackageDigestError,
    latest_verification,
    package_path,
    start_verification,
    store_package,
)
from api.web.forms import FormError, attempt, form_error, parse_int, writer
from api.web.i18n import language, translator
from api.web.rasters import NAME, drawn_map, find_map, package_maps, report_png
from api.web.render import HEADERS, render
from api.web.session import registry_of, require_login, settings_of
from mrv.errors import ForbiddenError, InvalidStateError, MRVError, RecordNotFoundError
from mrv.registry.monitoring import get_report
from mrv.registry.projects import get_project
from mrv.registry.tokens import Principal
from mrv.registry.verification import (
    BLOCKING_KINDS,
    close_finding,
    get_finding,
    get_verification,
    issue_statement,
    list_assignments,
    open_finding,
)
from pipelines.package import manifest as mf

router = APIRouter(include_in_schema=False)

ROLE = "verifier"
ProjectCode = Annotated[str, Path(max_length=32)]
Seq = Annotated[int, Path(gt=0, le=2**31)]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
MapName = Annotated[str, Path(pattern=NAME.pattern)]
STATES: dict[str, tuple[str, str]] = {
    "submitted": ("已提交", "submitted"),
    "under_verification": ("核查中", "under verification"),
    "verified": ("已核查", "verified"),
    "rejected": ("未通过", "rejected"),
    "issued": ("已签发", "issued"),
    "assigned": ("核查中", "in progress"),
    "positive": ("肯定结论", "positive"),
    "negative": ("否定结论", "negative"),
    "open": ("未关闭", "open"),
    "responded": ("已答复", "responded"),
    "closed": ("已关闭", "closed"),
    "queued": ("排队中", "queued"),
    "running": ("运行中", "running"),
    "succeeded": ("已完成", "finished"),
    "failed": ("失败", "failed"),
}
KINDS: dict[str, tuple[str, str]] = {
    "CAR": ("纠正措施要求", "corrective action request"),
    "CL": ("澄清要求", "clarification request"),
    "FAR": ("后续行动要求", "forward action request"),
}
NOTICES: dict[str, tuple[str, str]] = {
    "finding": ("已提出发现", "finding opened"),
    "closure": ("发现已关闭", "finding closed"),
    "statement": ("已出具核查声明", "statement issued"),
    "package": ("证据包已上传", "package uploaded"),
    "rerun": ("已开始复核运行", "re-run started"),
}


def _is_admin(principal: Principal) -> bool:
    return "admin" in principal.roles


def _assigned(request: Request, principal: Principal, project: str, seq: int) -> dict[str, Any]:
    """The report's verification, if ``principal`` is its verifier or an admin (else 403)."""
    registry = registry_of(request)
    get_report(registry, project, seq)  # 404 for an unknown project or report
    try:
        verification = get_verification(registry, project, seq)
    except InvalidStateError:
        if _is_admin(principal):
            raise
        raise ForbiddenError(
            f"report {project}/{seq} has no verifier assigned", actor=principal.party
        ) from None
    if verification["verifier"] != principal.party and not _is_admin(principal):
        raise ForbiddenError(
            f"{principal.party} is not the assigned verifier ({verification['verifier']}) "
            f"of report {project}/{seq}",
            actor=principal.party,
        )
    return verification


def _url(project: str, seq: int, done: str | None = None, anchor: str = "") -> str:
    return f"/review/{project}/{seq}" + (f"?done={done}" if done else "") + anchor


def _manifest(path: FilePath) -> dict[str, Any]:
    """The package's manifest as shown (its files, campaign, methodology, signer, creation)."""
    with zipfile.ZipFile(path) as zf:
        members = len(zf.namelist())
        try:
            data = zf.read(mf.MANIFEST)
        except KeyError:
            return {"error": f"{mf.MANIFEST} is missing", "members": members}
    try:
        manifest = mf.parse_manifest(data)
    except ValueError as exc:
        return {"error": str(exc), "members": members}
    signer = manifest.data.get("signer") or {}
    return {
        "error": None,
        "members": members,
        "campaign_id": manifest.campaign_id,
        "methodology": dict(manifest.methodology),
        "signer": signer.get("fingerprint") if isinstance(signer, dict) else None,
        "created_utc": manifest.data.get("created_utc"),
        "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in manifest.files],
        "size": path.stat().st_size,
    }


def _maps(request: Request, sha256: str, path: FilePath) -> list[dict[str, Any]]:
    """The package's maps: URL, title and legend of each."""
    figures = []
    for item in package_maps(path):
        figure: dict[str, Any] = {"name": item.name, "member": item.member, "kind": item.kind,
                                  "title": item.title, "legend": None, "error": None}  # fmt: skip
        if item.kind == "raster":
            figure["url"] = f"/review/packages/{sha256}/maps/{item.name}.png"
            try:
                figure["legend"] = drawn_map(settings_of(request).data_dir, sha256, path, item)[1]
            except MRVError as exc:
                figure["error"] = str(exc)
        else:
            figure["url"] = f"/review/packages/{sha256}/report-maps/{item.name}.png"
        figures.append(figure)
    return figures


def _closable(finding: dict[str, Any]) -> bool:
    allowed = ("responded",) if finding["kind"] in BLOCKING_KINDS else ("open", "responded")
    return bool(finding["status"] in allowed)


def _rerun_context(request: Request, project: str, seq: int, sha256: str) -> dict[str, Any]:
    stored = package_path(settings_of(request), sha256) is not None
    return {
        "project": project,
        "seq": seq,
        "stored": stored,
        "job": latest_verification(request, sha256) if stored else None,
        "states": STATES,
    }


def _page(
    request: Request,
    principal: Principal,
    project: str,
    seq: int,
    *,
    error: FormError | None = None,
    error_at: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    """The review page; with ``error`` (shown at the form ``error_at``) its status is the
    error's."""
    status = error.status if error is not None else 200
    registry = registry_of(request)
    verification = _assigned(request, principal, project, seq)
    report = get_report(registry, project, seq)
    sha256 = report["evidence_sha256"]
    path = package_path(settings_of(request), sha256)
    done = request.query_params.get("done")
    tr = translator(language(request))
    own = verification["verifier"] == principal.party
    findings = [{**f, "closable": own and _closable(f)} for f in verification["findings"]]
    return render(
        request,
        "review_report.html",
        status=status,
        project=get_project(registry, project),
        report=report,
        verification=verification,
        findings=findings,
        own=own,
        writable=own and verification["status"] == "assigned",
        package=_manifest(path) if path else None,
        maps=_maps(request, sha256, path) if path else [],
        rerun=_rerun_context(request, project, seq, sha256),
        states=STATES,
        kinds=KINDS,
        error=error,
        error_at=error_at,
        notice=tr(*NOTICES[done]) if done in NOTICES and error is None else None,
        form=form or {},
    )


@router.get("/review")
def review_list(request: Request) -> Response:
    """The reports assigned to the logged-in verifier (every assignment, for an admin who is
    not a verifier)."""
    principal = require_login(request, ROLE)
    mine = ROLE in principal.roles
    rows = list_assignments(registry_of(request), principal.party if mine else None)
    return render(request, "review_list.html", rows=rows, mine=mine, states=STATES)


@router.get("/review/{project}/{seq}")
def review_page(request: Request, project: ProjectCode, seq: Seq) -> Response:
    """The review of report ``seq`` of ``project``."""
    principal = require_login(request, ROLE)
    return _page(request, principal, project, seq)


@router.get("/review/{project}/{seq}/rerun")
def rerun_section(request: Request, project: ProjectCode, seq: Seq) -> Response:
    """The re-run section alone (the page's script reloads it while the job runs)."""
    principal = require_login(request, ROLE)
    _assigned(request, principal, project, seq)
    sha256 = get_report(registry_of(request), project, seq)["evidence_sha256"]
    rerun = _rerun_context(request, project, seq, sha256)
    return render(request, "review_rerun.html", rerun=rerun, error=None, error_at=None, notice=None)


@router.post("/review/{project}/{seq}/package")
def upload_package(
    request: Request,
    project: ProjectCode,
    seq: Seq,
    file: Annotated[UploadFile | None, File()] = None,
    csrf: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Store the report's evidence package: only the bytes whose SHA-256 the report names."""
    principal = writer(request, csrf, ROLE)
    _assigned(request, principal, project, seq)
    expected = get_report(registry_of(request), project, seq)["evidence_sha256"]
    tr = translator(language(request))
    if file is None or not file.filename:
        choose = tr("请选择证据包 zip 文件。", "Choose the evidence package zip.")
        error = FormError(422, tr("未选择文件", "No file"), choose)
        return _page(request, principal, project, seq, error=error, error_at="package")
    try:
        store_package(settings_of(request), file.file, file.filename, expected=expected)
    except PackageDigestError as exc:
        error = FormError(
            422,
            tr("不是本报告的证据包", "Not this report's evidence package"),
            tr(
                f"上传的文件 {exc.name} 的 SHA-256 为 {exc.actual}，而报告登记的证据包 SHA-256 为 "
                f"{exc.expected}；文件未保存。",
                f"The SHA-256 of {exc.name} is {exc.actual}, but the report names the evidence "
                f"package {exc.expected}; the file was not stored.",
            ),
        )
        return _page(request, principal, project, seq, error=error, error_at="package")
    except MRVError as exc:
        error = form_error(exc)
        return _page(request, principal, project, seq, error=error, error_at="package")
    return RedirectResponse(_url(project, seq, "package", "#package"), status_code=303)


@router.post("/review/{project}/{seq}/rerun")
def start_rerun(
    request: Request,
    project: ProjectCode,
    seq: Seq,
    csrf: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Start a verification of the report's package (signature, hashes, re-computation)."""
    principal = writer(request, csrf, ROLE)
    _assigned(request, principal, project, seq)
    sha256 = get_report(registry_of(request), project, seq)["evidence_sha256"]
    _job, error = attempt(lambda: start_verification(request, sha256, principal.party))
    if error is not None:
        return _page(request, principal, project, seq, error=error, error_at="rerun")
    return RedirectResponse(_url(project, seq, "rerun", "#rerun"), status_code=303)


@router.post("/review/{project}/{seq}/findings")
def post_finding(
    request: Request,
    project: ProjectCode,
    seq: Seq,
    kind: Annotated[str, Form(max_length=8)] = "",
    text: Annotated[str, Form(max_length=5000)] = "",
    csrf: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Open a finding (CAR, CL or FAR) on the report (the assigned verifier)."""
    principal = writer(request, csrf, ROLE)
    _assigned(request, principal, project, seq)
    _receipt, error = attempt(
        lambda: open_finding(
            registry_of(request),
            actor=principal.party,
            project=project,
            report_seq=seq,
            kind=kind,  # type: ignore[arg-type]  # the registry checks the kind
            text=text,
        )
    )
    if error is not None:
        form = {"kind": kind, "text": text}
        return _page(
            request,
            principal,
            project,
            seq,
            error=error,
            error_at="finding",
            form=form,
        )
    return RedirectResponse(_url(project, seq, "finding", "#findings"), status_code=303)


@router.post("/review/{project}/{seq}/statement")
def post_statement(
    request: Request,
    project: ProjectCode,
    seq: Seq,
    opinion: Annotated[str, Form(max_length=16)] = "",
    verified_tco2e: Annotated[str, Form(max_length=20)] = "",
    statement: Annotated[str, Form(max_length=20_000)] = "",
    csrf: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """The verification statement: positive with verified tonnes, or negative."""
    principal = writer(request, csrf, ROLE)
    _assigned(request, principal, project, seq)

    def call() -> Any:
        tonnes = parse_int(verified_tco2e, "verified_tco2e") if verified_tco2e.strip() else None
        return issue_statement(
            registry_of(request),
            actor=principal.party,
            project=project,
            report_seq=seq,
            opinion=opinion,  # type: ignore[arg-type]  # the registry checks the opinion
            verified_tco2e=tonnes,
            statement=statement,
        )

    _receipt, error = attempt(call)
    if error is not None:
        form = {"opinion": opinion, "verified_tco2e": verified_tco2e, "statement": statement}
        return _page(
            request,
            principal,
            project,
            seq,
            error=error,
            error_at="statement",
            form=form,
        )
    return RedirectResponse(_url(project, seq, "statement", "#statement"), status_code=303)


@router.post("/review/findings/{finding_id}/closure")
def post_closure(
    request: Request,
    finding_id: Annotated[int, Path(gt=0, le=2**62)],
    csrf: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Close a finding (the assigned verifier)."""
    principal = writer(request, csrf, ROLE)
    finding = get_finding(registry_of(request), finding_id)
    project, seq = finding["project"], finding["report_seq"]
    _assigned(request, principal, project, seq)
    _receipt, error = attempt(
        lambda: close_finding(registry_of(request), actor=principal.party, finding_id=finding_id)
    )
    if error is not None:
        return _page(request, principal, project, seq, error=error, error_at="closure")
    return RedirectResponse(_url(project, seq, "closure", "#findings"), status_code=303)


def _stored_package(request: Request, sha256: str) -> FilePath:
    require_login(request, ROLE)
    path = package_path(settings_of(request), sha256)
    if path is None:
        raise RecordNotFoundError(f"no package {sha256}", package=sha256)
    return path


PNG_HEADERS = {**HEADERS, "Cache-Control": "private, max-age=86400"}
"""A package never changes (its SHA-256 names it), so its maps may be kept by the browser."""


@router.get("/review/packages/{sha256}/maps/{name}.png")
def raster_map(request: Request, sha256: Sha256, name: MapName) -> Response:
    """A raster of the package (``outputs/<name>.tif``) drawn as a PNG."""
    path = _stored_package(request, sha256)
    item = find_map(path, name, "raster")
    png, _legend = drawn_map(settings_of(request).data_dir, sha256, path, item)
    return FileResponse(png, media_type="image/png", headers=PNG_HEADERS)


@router.get("/review/packages/{sha256}/report-maps/{name}.png")
def report_map(request: Request, sha256: Sha256, name: MapName) -> Response:
    """A map of the package's report (``report/maps/<name>.png``) as packaged."""
    path = _stored_package(request, sha256)
    data = report_png(path, find_map(path, name, "report"))
    return Response(data, media_type="image/png", headers=PNG_HEADERS)


__all__ = ["router"]
