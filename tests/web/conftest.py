"""Web-page fixtures: the registry fixtures of tests/registry (SQLite, and PostgreSQL when
MRV_TEST_DATABASE_URL is set), an app on that registry with its data folder in ``tmp_path``, and
logging in as a party (a fresh API token posted to ``/login``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.web.session import COOKIE, csrf_token
from mrv.registry.core import Registry
from mrv.registry.tokens import create_token
from mrv.settings import Settings
from tests.registry.builders import ADMIN, ensure_party
from tests.registry.conftest import (  # noqa: F401 - fixtures and the backend parametrisation
    clock,
    database_url,
    pg_admin_engine,
    pytest_generate_tests,
    registry,
    settings,
)

LogIn = Callable[[TestClient, str], str]


@pytest.fixture
def web(registry: Registry, settings: Settings, tmp_path: Path) -> Iterator[TestClient]:  # noqa: F811
    """A TestClient (asking for HTML, redirects not followed) of an app on the test registry."""
    ensure_party(registry, ADMIN, "Registry administrator", ["admin"])
    app = create_app(settings.model_copy(update={"data_dir": tmp_path}), registry=registry)
    with TestClient(
        app,
        raise_server_exceptions=False,
        follow_redirects=False,
        headers={"Accept": "text/html"},
    ) as c:
        yield c


@pytest.fixture
def log_in(registry: Registry) -> LogIn:  # noqa: F811
    """``log_in(client, party)``: log the client in as ``party``; returns the form token."""

    def make(client: TestClient, party: str) -> str:
        token, _ = create_token(registry, actor=ADMIN, party=party, name="web test")
        assert token is not None
        r = client.post("/login", data={"token": token, "next": "/"})
        assert r.status_code == 303, r.text
        assert client.cookies.get(COOKIE) == token
        return csrf_token(token)

    return make
