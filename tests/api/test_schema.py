"""Schemathesis against the OpenAPI schema: every operation, with an admin token and without.

Cases are generated from the schema (positive and negative data) and sent to the app on a
registry with realistic state (a registered project with an issued batch, a settled lot with its
distribution, and a retirement). Path parameters are generated, and — in the ``seeded`` variant
— set to the records that exist, so that reads find them and writes reach the registry's rules;
the schema's own examples are sent too (the seed uses their batch and account codes). The
module's registry is shared, so writes that succeed change the state later cases see.
Every response must not be a server error, must have a declared status code and content type,
and must match the declared schema. SQLite only: the schema, not the backend, is under test
here (the route tests run on both backends).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from mrv.registry.core import Registry
from mrv.registry.db import make_engine, migrate
from mrv.registry.distribution import get_distribution
from mrv.registry.retirement import retire
from mrv.registry.tokens import create_token
from mrv.settings import Settings
from tests.registry.builders import ADMIN, BUYER, COOPERATIVE, issued_batch, settled_lot
from tests.registry.conftest import Clock

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 10
"""Examples per operation and variant (small and derandomised: the file runs in about a minute);
half as many without a token (the answer is mostly 401, or a public read's)."""

_OPENAPI: dict[str, Any] = create_app(Settings()).openapi()
_PATHS: dict[str, Any] = _OPENAPI["paths"]
_EXAMPLED = {
    (op.method.upper(), op.path)
    for result in schemathesis.openapi.from_dict(_OPENAPI).get_all_operations()
    if (op := result.ok()).get_strategies_from_examples()
}
_MODES = {"positive": GenerationMode.POSITIVE, "negative": GenerationMode.NEGATIVE}


def _cases() -> Iterator[tuple[str, str, str, str]]:
    """(method, path, variant, mode) of every operation.

    Variants: ``examples`` (the schema's examples), ``admin`` and ``anonymous`` (generated data
    with an admin token and without), ``seeded`` (the seeded records in the path, admin token).
    Negative data with the admin token only, and only where something is left to break (not for
    /v1/health, nor for a seeded path alone).
    """
    for path, item in _PATHS.items():
        for method, op in item.items():
            params = {p["name"]: p["in"] for p in op.get("parameters", [])}
            label = method.upper(), path
            if label in _EXAMPLED:
                yield *label, "examples", "positive"
            yield *label, "anonymous", "positive"
            for variant in ("admin", "seeded") if "path" in params.values() else ("admin",):
                yield *label, variant, "positive"
                free = [n for n, at in params.items() if variant == "admin" or at != "path"]
                if free or "requestBody" in op:
                    yield *label, variant, "negative"


CASES = list(_cases())


class Seeded:
    """The schema of an app on a seeded registry, an admin's header and the records' codes."""

    def __init__(self, schema: Any, admin: dict[str, str], known: dict[str, Any]) -> None:
        self.schema = schema
        self.admin = admin
        self.known = known

    def path_parameters(self, path: str) -> dict[str, Any]:
        """The existing records a path names (its resource decides what ``code`` is)."""
        resource = path.split("/")[2]
        values = {**self.known, "code": self.known["codes"].get(resource)}
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        return {name: values[name] for name in names if values.get(name) is not None}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One registry for the module: a project with a batch, a settled lot and a retirement."""
    tmp: Path = tmp_path_factory.mktemp("schema")
    settings_ = Settings(data_dir=tmp / "data")
    engine = make_engine(f"sqlite:///{tmp / 'registry.sqlite'}")
    migrate(engine)
    registry = Registry(engine, settings_, Clock())
    # vintage 2025 and the builders' party codes: the batch and accounts of the schema's examples
    built = issued_batch(registry, period=(dt.date(2025, 1, 1), dt.date(2025, 12, 31)))
    lot = settled_lot(registry, built, quantity=100, price_yuan_per_t="58.00").result["lot"]
    retired = retire(registry, actor=BUYER, account=BUYER, batch=built["batch"], quantity=10,
                     beneficiary="Buyer Co.", purpose="voluntary")  # fmt: skip
    token, _ = create_token(registry, actor=ADMIN, party=ADMIN, name="schemathesis")
    known = {
        "codes": {
            "parties": COOPERATIVE,
            "parcels": built["parcels"][0],
            "contracts": built["contracts"][0],
            "projects": built["project"],
            "accounts": BUYER,
        },
        "seq": 1,
        "prefix": built["batch"],
        "batch": built["batch"],
        "serial": 1,
        "lot": lot,
        "number": retired.result["certificate_no"],
        "line_id": get_distribution(registry, lot)["lines"][0]["line_id"],
    }
    app = create_app(settings_.model_copy(update={"api_max_body_bytes": 4096}), registry=registry)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield Seeded(schema, {"Authorization": f"Bearer {token}"}, known)
    registry.close()


@pytest.mark.parametrize(("method", "path", "variant", "mode"), CASES)
def test_operation_conforms(
    seeded: Seeded, method: str, path: str, variant: str, mode: str
) -> None:
    operation = seeded.schema[path][method]
    headers = {} if variant == "anonymous" else seeded.admin
    fixed = seeded.path_parameters(path) if variant in ("seeded", "examples") else None
    if variant == "examples":  # the schema's own examples (an admin, the seeded records)
        strategy = st.one_of(operation.get_strategies_from_examples(path_parameters=fixed))
    else:
        strategy = operation.as_strategy(generation_mode=_MODES[mode], path_parameters=fixed)

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES // 2 if variant == "anonymous" else EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
