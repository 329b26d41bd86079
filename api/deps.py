"""Dependencies of the routes: the registry, the authenticated party, the idempotency key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.tokencache import TokenCache
from mrv.registry.core import Registry
from mrv.registry.tokens import Principal, authenticate
from mrv.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="API token of a party: `Bearer mrv_…`.")


def get_registry(request: Request) -> Registry:
    """The application's registry."""
    registry: Registry = request.app.state.registry
    return registry


def get_settings(request: Request) -> Settings:
    """The application's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def current_principal(
    request: Request,
    registry: Annotated[Registry, Depends(get_registry)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The party of the bearer token (401 problem details without a valid one)."""
    token = credentials.credentials if credentials is not None else None
    cache: TokenCache = request.app.state.token_cache
    if token is not None:
        cached = cache.get(token)
        if cached is not None:
            return cached
    principal = await run_in_threadpool(authenticate, registry, token)
    cache.put(token or "", principal)
    return principal


async def optional_principal(
    request: Request,
    registry: Annotated[Registry, Depends(get_registry)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The party of the bearer token on a public read, or None without one (a token that is
    given but invalid is still refused, 401)."""
    if credentials is None:
        return None
    return await current_principal(request, registry, credentials)


RegistryDep = Annotated[Registry, Depends(get_registry)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
Actor = Annotated[Principal, Depends(current_principal)]
MaybeActor = Annotated[Principal | None, Depends(optional_principal)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="Repeat a write safely: the same key and body return the first result; the "
        "same key with another body is refused (422).",
    ),
]

__all__ = [
    "Actor",
    "IdempotencyKey",
    "MaybeActor",
    "RegistryDep",
    "SettingsDep",
    "current_principal",
    "optional_principal",
]
