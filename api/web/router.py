"""The web pages' wiring: static files, logging in and out, the page routers, HTML errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.web.render import render
from api.web.session import (
    COOKIE,
    LoginRequiredError,
    check_csrf,
    registry_of,
    safe_next,
    web_principal,
)
from mrv.errors import AuthenticationError
from mrv.registry.tokens import authenticate

STATIC = Path(__file__).parent / "static"
SESSION_MAX_AGE_S = 8 * 3600

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    """The login form (an API token of the party)."""
    return render(request, "login.html", next=safe_next(next), error=None)


@router.post("/login")
def login(
    request: Request,
    token: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the token and keep it in the session cookie."""
    try:
        authenticate(registry_of(request), token.strip())
    except AuthenticationError:
        return render(
            request, "login.html", status=401, next=safe_next(next), error="invalid-token"
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        token.strip(),
        max_age=SESSION_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str | None, Form()] = None) -> Response:
    """Forget the session cookie."""
    if web_principal(request) is not None:
        check_csrf(request, csrf)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def install(app: FastAPI) -> None:
    """Mount the static files and include the page routers."""
    from api.web.pages import PAGE_ROUTERS

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)
    for page_router in PAGE_ROUTERS:
        app.include_router(page_router)

    @app.exception_handler(LoginRequiredError)
    async def _login(request: Request, exc: LoginRequiredError) -> Response:
        return RedirectResponse(exc.next_url, status_code=303)


__all__ = ["install", "router"]
