"""RFC 9457 problem details for every error, from one table (``application/problem+json``).

The ``type`` of a problem is ``/problems/<code>`` (the error class's stable slug); ``title`` is the
class's short description, ``detail`` the message, and the registry's structured detail (the
records involved) is added as extension members.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.web.render import error_page, wants_html
from mrv.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    IdempotencyConflictError,
    InputError,
    MRVError,
    RecordNotFoundError,
    RegistryInputError,
)

log = logging.getLogger("mrv.api")

MEDIA_TYPE = "application/problem+json"

STATUS: tuple[tuple[type[MRVError], int, str], ...] = (
    (AuthenticationError, 401, "Not authenticated"),
    (ForbiddenError, 403, "Forbidden"),
    (RecordNotFoundError, 404, "Not found"),
    (IdempotencyConflictError, 422, "Idempotency key reused with another request"),
    (ConflictError, 409, "Conflict with the registry's state"),
    (RegistryInputError, 422, "Invalid input"),
    (InputError, 422, "Invalid input"),
    (MRVError, 400, "Bad request"),
)
"""Error class → HTTP status and title; the first matching row wins (most specific first)."""


def problem(
    status: int, title: str, detail: str, code: str, instance: str | None = None, **extra: Any
) -> JSONResponse:
    """A problem-details response."""
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        **({"instance": instance} if instance else {}),
        "code": code,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def for_error(exc: MRVError, instance: str | None = None) -> JSONResponse:
    """The problem response of a project error (by :data:`STATUS`)."""
    status, title = next((s, t) for cls, s, t in STATUS if isinstance(exc, cls))
    code = str(getattr(exc, "code", "invalid-input" if isinstance(exc, InputError) else "error"))
    extra: dict[str, Any] = {}
    detail = getattr(exc, "detail", None)
    records = dict(detail) if isinstance(detail, dict) else {}
    listed = records.pop("problems", None)  # the registry's located problems, one shape for all
    if records:
        extra["records"] = records
    problems = getattr(exc, "problems", ())
    if problems:
        extra["problems"] = [p.to_dict() for p in problems]
    elif isinstance(listed, list):
        extra["problems"] = listed
    message = str(exc).split("\n", 1)[0]
    return problem(status, title, message, code, instance, **extra)


def problem_text(item: dict[str, Any]) -> str:
    """``file x, row 3, column y: reason`` of a located problem."""
    where = ", ".join(
        f"{key} {item[key]}"
        for key in ("file", "row", "feature", "column", "field")
        if item.get(key) is not None
    )
    reason = str(item.get("reason", ""))
    return f"{where}: {reason}" if where else reason


def _as_page(request: Request, response: JSONResponse, detail: str | None = None) -> Response:
    """The problem as an HTML page for a browser on a web page, else unchanged."""
    if not wants_html(request):
        return response
    body = json.loads(bytes(response.body))
    return error_page(
        request, response.status_code, body["title"], detail or body["detail"],
        [problem_text(p) for p in body.get("problems", [])],
    )  # fmt: skip


def install(app: FastAPI) -> None:
    """Register the handlers: project errors, request validation, HTTP errors, anything else.
    On the web pages (a browser asking for HTML outside ``/v1``) the same problem is a page."""

    @app.exception_handler(MRVError)
    async def _mrv(request: Request, exc: MRVError) -> Response:
        return _as_page(request, for_error(exc, request.url.path))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": [str(x) for x in e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        if any(e["type"] == "json_invalid" for e in errors):
            return problem(400, "Malformed JSON", "the request body is not valid JSON",
                           "malformed-json", request.url.path, errors=errors)  # fmt: skip
        fields = "; ".join(f"{'.'.join(e['loc'][1:]) or e['loc'][0]}: {e['msg']}" for e in errors)
        return _as_page(request, problem(422, "Invalid input",
                        f"{len(errors)} invalid field(s)", "invalid-input", request.url.path,
                        errors=errors), fields)  # fmt: skip

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(
            exc.status_code, "http-error"
        )
        found = problem(exc.status_code, str(exc.detail), str(exc.detail), code, request.url.path)
        return _as_page(request, found)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _as_page(request, problem(500, "Internal error",
                        "the server failed; nothing was written", "internal-error",
                        request.url.path))  # fmt: skip


__all__ = ["MEDIA_TYPE", "STATUS", "for_error", "install", "problem", "problem_text"]
