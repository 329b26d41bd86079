"""Registry fixtures: SQLite always, and PostgreSQL when MRV_TEST_DATABASE_URL is set.

On PostgreSQL each test gets its own schema (dropped afterwards) in the database named by the
URL; btree_gist is created once in ``public``.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mrv.registry.core import Registry
from mrv.registry.db import make_engine, migrate
from mrv.settings import Settings

PG_URL = os.environ.get("MRV_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
START = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in China


class Clock:
    """A settable clock: ``clock()`` returns the current time, ``advance`` moves it on."""

    def __init__(self, start: dt.datetime = START) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(microseconds=1)  # distinct, increasing timestamps
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)

    def set(self, moment: dt.datetime) -> None:
        self.now = moment


def pg_url() -> str:
    assert PG_URL is not None
    url = make_url(PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_admin_engine() -> Iterator[object]:
    engine = create_engine(pg_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite'}"
        return
    admin = request.getfixturevalue("pg_admin_engine")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(pg_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", BACKENDS, indirect=True)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def registry(database_url: str, clock: Clock, settings: Settings) -> Iterator[Registry]:
    """A migrated, empty registry on each backend."""
    engine = make_engine(database_url)
    migrate(engine)
    reg = Registry(engine, settings, clock)
    yield reg
    reg.close()
