"""API fixtures: the registry fixtures of tests/registry (SQLite, and PostgreSQL when
MRV_TEST_DATABASE_URL is set), an app on that registry, and tokens per party."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
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

TokenFor = Callable[[str], dict[str, str]]


@pytest.fixture
def client(registry: Registry, settings: Settings) -> Iterator[TestClient]:  # noqa: F811
    """A TestClient of an app on the test registry (with an admin party)."""
    ensure_party(registry, ADMIN, "Registry administrator", ["admin"])
    app = create_app(settings.model_copy(update={"api_max_body_bytes": 4096}), registry=registry)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def token_for(registry: Registry) -> TokenFor:  # noqa: F811
    """``token_for(party)`` → Authorization header of a fresh token of that party."""

    def make(party: str) -> dict[str, str]:
        token, _ = create_token(registry, actor=ADMIN, party=party, name="test")
        assert token is not None
        return {"Authorization": f"Bearer {token}"}

    return make
