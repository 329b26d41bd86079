"""Who is logged in to the web pages, and the form token that guards their writes.

A party logs in with one of its API tokens (``mrv admin create-token``); the token is kept in an
``HttpOnly``, ``SameSite=Strict`` cookie and checked like a bearer token (the app's token cache,
then the registry). Every form that writes carries ``csrf``, an HMAC of the session token, which
a cross-site page cannot read.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from starlette.requests import Request

from api.tokencache import TokenCache
from mrv.errors import AuthenticationError, ForbiddenError
from mrv.registry.core import Registry
from mrv.registry.tokens import Principal, authenticate
from mrv.settings import Settings

COOKIE = "mrv_session"
CSRF_FIELD = "csrf"


class LoginRequiredError(Exception):
    """The page needs a logged-in party; answered with a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def session_token(request: Request) -> str | None:
    """The API token of the session cookie, if any."""
    return request.cookies.get(COOKIE) or None


def registry_of(request: Request) -> Registry:
    """The application's registry."""
    registry: Registry = request.app.state.registry
    return registry


def settings_of(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


def web_principal(request: Request) -> Principal | None:
    """The logged-in party, or None (no cookie, or a token that is unknown, expired or revoked)."""
    token = session_token(request)
    if token is None:
        return None
    cache: TokenCache = request.app.state.token_cache
    cached = cache.get(token)
    if cached is not None:
        return cached
    try:
        principal = authenticate(registry_of(request), token)
    except AuthenticationError:
        return None
    cache.put(token, principal)
    return principal


def login_url(request: Request) -> str:
    """The login page, coming back to the current page."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(here, safe='')}"


def require_login(request: Request, *roles: str) -> Principal:
    """The logged-in party (else :class:`LoginRequiredError`); with ``roles``, it must hold one of
    them or be an admin (else :class:`~mrv.errors.ForbiddenError`)."""
    principal = web_principal(request)
    if principal is None:
        raise LoginRequiredError(login_url(request))
    if roles and not (principal.roles & {*roles, "admin"}):
        raise ForbiddenError(
            f"this page is for the roles {', '.join(roles)}; {principal.party} holds "
            f"{', '.join(sorted(principal.roles)) or 'none'}",
            actor=principal.party,
        )
    return principal


def csrf_token(token: str) -> str:
    """The form token of a session (HMAC-SHA256 of the session token)."""
    return hmac.new(token.encode(), b"mrv-web-form", hashlib.sha256).hexdigest()


def check_csrf(request: Request, value: str | None) -> None:
    """Refuse a form whose ``csrf`` field is not the session's (403)."""
    token = session_token(request)
    if token is None or value is None or not hmac.compare_digest(value, csrf_token(token)):
        raise ForbiddenError("the form expired or did not come from this site; reload the page")


def safe_next(value: str | None) -> str:
    """A local path to go to after logging in (anything else → ``/``)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


__all__ = [
    "COOKIE",
    "CSRF_FIELD",
    "LoginRequiredError",
    "check_csrf",
    "csrf_token",
    "registry_of",
    "require_login",
    "safe_next",
    "session_token",
    "settings_of",
    "web_principal",
]
