"""``create_app``: the FastAPI application with injected settings (and, in tests, a registry)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import problems
from api.jobs import JobRunner
from api.limits import BodyLimit
from api.routers import (
    campaigns,
    contracts,
    credits,
    distribution,
    issuance,
    journal,
    lots,
    meta,
    packages,
    parcels,
    parties,
    projects,
    reports,
    retirements,
    verification,
)
from api.tokencache import TokenCache
from api.web.router import install as install_web
from mrv.registry.core import Registry
from mrv.settings import Settings

UPLOAD_PATHS = ("/v1/parcels/import", "/v1/packages")
"""Routes that take files (their limit is ``api_max_upload_bytes``)."""
WEB_UPLOADS = re.compile(r"/review/[^/]+/[0-9]+/package")
"""Pages that take files (the review page's evidence package upload)."""


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> FastAPI:
    """The application: routers per resource, problem details, body limits.

    ``registry`` is used as given (tests); otherwise one is opened from ``settings`` at start-up
    (migrated to the head) and closed at shutdown.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = registry is None
        app.state.registry = registry if registry is not None else Registry.open(settings)
        app.state.jobs = JobRunner(settings.data_dir / "jobs")
        try:
            yield
        finally:
            app.state.jobs.shutdown()
            executor = getattr(app.state, "db_executor", None)
            if executor is not None:  # the threads of run_db (api.deps), made on first use
                executor.shutdown(wait=True)
                app.state.db_executor = None
            if own:
                app.state.registry.close()

    app = FastAPI(
        title="Huzhou carbon-sink MRV registry",
        version="1.0",
        description=(
            "Parties, parcels, collection contracts, projects, monitoring reports, verification, "
            "issuance, transfers, trading lots, retirements and benefit distribution. Every "
            "write is one journaled transaction; errors are RFC 9457 problem details."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.token_cache = TokenCache(settings.api_token_cache_seconds)
    if registry is not None:
        app.state.registry = registry
    problems.install(app)
    for module in (
        credits,  # first: routes are matched in order, and transfers are the hot path
        meta, parties, parcels, contracts, projects, reports, verification,
        issuance, lots, retirements, distribution, journal, campaigns, packages,
    ):  # fmt: skip
        router = module.router
        app.include_router(router, prefix="/v1")
    install_web(app)

    def limit_for(path: str) -> int:
        upload = any(path.startswith(p) for p in UPLOAD_PATHS) or bool(WEB_UPLOADS.fullmatch(path))
        return settings.api_max_upload_bytes if upload else settings.api_max_body_bytes

    app.add_middleware(BodyLimit, limit_for=limit_for)
    return app


__all__ = ["create_app"]
