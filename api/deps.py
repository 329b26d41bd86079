"""Dependencies of the routes: the registry, the authenticated party, the idempotency key, and
the threads that run the blocking registry calls of the ``async`` routes.

The dependencies are ``async`` on purpose: FastAPI runs a plain ``def`` dependency in the thread
pool, which would cost every request a thread hand-off just to read ``app.state``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.tokencache import TokenCache
from mrv.registry.core import Registry
from mrv.registry.tokens import Principal, authenticate
from mrv.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="API token of a party: `Bearer mrv_…`.")

T = TypeVar("T")

DEFAULT_DB_SLOTS = 5
"""Concurrent database calls per process when the engine has no pool size (SQLite)."""


async def get_registry(request: Request) -> Registry:
    """The application's registry."""
    registry: Registry = request.app.state.registry
    return registry


async def get_settings(request: Request) -> Settings:
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
    principal = await run_db(await get_db_executor(request), authenticate, registry, token)
    cache.put(token or "", principal)
    return principal


async def maybe_principal(
    request: Request,
    registry: Annotated[Registry, Depends(get_registry)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The party of the bearer token, or None without one (a token given must be valid)."""
    if credentials is None:
        return None
    return await current_principal(request, registry, credentials)


def db_slots(registry: Registry) -> int:
    """How many database calls may run at once: the connection pool's size. Each call holds a
    connection while it runs; more threads would only open and close connections beyond the
    pool (a PostgreSQL backend each) and queue on the interpreter lock."""
    size = getattr(registry.engine.pool, "size", None)
    return int(size()) if callable(size) else DEFAULT_DB_SLOTS


async def get_db_executor(request: Request) -> ThreadPoolExecutor:
    """The application's threads for blocking registry calls (as many as :func:`db_slots`)."""
    state = request.app.state
    executor: ThreadPoolExecutor | None = getattr(state, "db_executor", None)
    if executor is None:
        executor = ThreadPoolExecutor(db_slots(state.registry), thread_name_prefix="mrv-db")
        state.db_executor = executor
    return executor


async def run_db(
    executor: ThreadPoolExecutor, func: Callable[..., T], /, *args: Any, **kwargs: Any
) -> T:
    """Run a blocking registry call on ``executor``'s threads; calls beyond its size wait in
    its queue, first come first served.

    A plain executor rather than anyio's thread pool: with many requests in flight it costs a
    third of the CPU per hand-off. A call already running finishes even when the request is
    cancelled (a write commits or rolls back as a whole either way).
    """
    call = functools.partial(func, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(executor, call)


RegistryDep = Annotated[Registry, Depends(get_registry)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
Actor = Annotated[Principal, Depends(current_principal)]
MaybeActor = Annotated[Principal | None, Depends(maybe_principal)]
DbExecutor = Annotated[ThreadPoolExecutor, Depends(get_db_executor)]
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
    "DbExecutor",
    "IdempotencyKey",
    "MaybeActor",
    "RegistryDep",
    "SettingsDep",
    "current_principal",
    "run_db",
]
