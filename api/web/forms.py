"""Form writes of the pages: the session's party as the actor, registry errors shown on the form.

A page's POST handler calls :func:`attempt`; on a registry error it re-renders its form with
``error`` (title, detail, located problems) and the problem's HTTP status, so a refused form
looks like the page plus the reason, and nothing is written (every registry write is one
transaction).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from starlette.requests import Request

from api.problems import for_error, problem_text
from api.web.session import check_csrf, require_login
from mrv.errors import MRVError, RegistryInputError
from mrv.registry.tokens import Principal

T = TypeVar("T")


@dataclass(frozen=True)
class FormError:
    """A refused form: HTTP status, title, message and located problems."""

    status: int
    title: str
    detail: str
    problems: list[str] = field(default_factory=list)


def form_error(exc: MRVError) -> FormError:
    """The problem of a registry error, for a form."""
    body = json.loads(bytes(for_error(exc).body))
    return FormError(
        status=int(body["status"]),
        title=str(body["title"]),
        detail=str(body["detail"]),
        problems=[problem_text(p) for p in body.get("problems", [])],
    )


def writer(request: Request, csrf: str | None, *roles: str) -> Principal:
    """The logged-in party allowed to post this form (login, role and form token checked)."""
    principal = require_login(request, *roles)
    check_csrf(request, csrf)
    return principal


def attempt(call: Callable[[], T]) -> tuple[T | None, FormError | None]:
    """Run a registry write; ``(result, None)`` or ``(None, error)`` for a registry error."""
    try:
        return call(), None
    except MRVError as exc:
        return None, form_error(exc)


def parse_int(value: str, field_name: str) -> int:
    """A whole number from a form field (a clear 422 otherwise)."""
    try:
        return int(value.strip())
    except (ValueError, AttributeError):
        raise RegistryInputError(f"{field_name}: {value!r} is not a whole number") from None


__all__ = ["FormError", "attempt", "form_error", "parse_int", "writer"]
