"""Plumbing shared by the ``mrv registry`` commands: options, parsing, opening the registry.

Every command builds :class:`~mrv.settings.Settings` (``MRV_*`` environment) when it runs and
opens :meth:`Registry.open <mrv.registry.core.Registry.open>` on ``--database-url`` (default
``MRV_DATABASE_URL``, else SQLite in the data directory). Only ``init`` and ``migrate`` change
the schema; every other command refuses a database that is not at the newest revision. Values
the services take as dates, integers or file hashes are parsed here so a bad one is refused
with a :class:`~mrv.errors.RegistryInputError` naming the option (exit code 2).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.engine import make_url

from mrv.cli._common import print_json
from mrv.errors import InvalidStateError, RegistryInputError
from mrv.hashing import sha256_file
from mrv.registry.core import Receipt, Registry
from mrv.registry.db import current_revision, head_revision
from mrv.settings import Settings

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        metavar="URL",
        help="Registry database URL (overrides MRV_DATABASE_URL; default: SQLite in the data dir).",
    ),
]
ActorOpt = Annotated[
    str, typer.Option("--as", metavar="CODE", help="The party performing the operation.")
]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        metavar="KEY",
        help="Replaying a key returns the first receipt (default: a new key).",
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Errors as JSON on stdout too (results are always JSON).")
]
_INTEGER = re.compile(r"[+-]?[0-9]+")


def _field(option: str) -> str:
    return option.lstrip("-").replace("-", "_")


def settings() -> Settings:
    """Settings from the ``MRV_*`` environment, read now."""
    return Settings()


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def opened(database_url: str | None, *, upgrade: bool = False) -> Iterator[Registry]:
    """The registry at ``database_url``; without ``upgrade`` it must be at the head revision."""
    registry = Registry.open(settings(), url=database_url, upgrade=upgrade)
    try:
        if not upgrade:
            current, head = current_revision(registry.engine), head_revision()
            if current != head:
                state = "not initialised" if current is None else f"at revision {current}"
                raise InvalidStateError(
                    f"the registry database {_safe_url(str(registry.engine.url))} is {state} "
                    f"(the code needs {head}): run `mrv registry init` or `mrv registry migrate`",
                    revision=current,
                    head=head,
                )
        yield registry
    finally:
        registry.close()


def emit(data: Any) -> None:
    """Print a result as JSON on stdout."""
    print_json(data)


def emit_receipt(receipt: Receipt) -> None:
    """Print a write's receipt: its result plus the journal event (with the idempotency key)."""
    print_json(receipt.to_dict())


def parse_date(value: str, option: str) -> dt.date:
    """A ``YYYY-MM-DD`` date, or a RegistryInputError naming ``option``."""
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
            raise ValueError(value)
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise RegistryInputError(
            f"{option} must be a date YYYY-MM-DD, got {value!r}", field=_field(option)
        ) from None


def parse_opt_date(value: str | None, option: str) -> dt.date | None:
    """:func:`parse_date` for an optional option."""
    return None if value is None else parse_date(value, option)


def parse_int(value: str, option: str, what: str = "a whole number") -> int:
    """An integer written in digits (``1.5``, ``1e3``, ``ten`` are refused naming ``option``).

    Sign and size are the services' business (they refuse zero and negative quantities).
    """
    if not _INTEGER.fullmatch(value.strip()):
        raise RegistryInputError(f"{option} must be {what}, got {value!r}", field=_field(option))
    return int(value.strip())


def parse_tonnes(value: str, option: str) -> int:
    """Whole tonnes of CO2e (:func:`parse_int`)."""
    return parse_int(value, option, "a whole number of tonnes")


def file_sha256(path: Path, option: str) -> str:
    """SHA-256 (lowercase hex) of a file's bytes; a missing file is refused naming ``option``."""
    if not path.is_file():
        raise RegistryInputError(f"{option}: no file {str(path)!r}", field=_field(option))
    return sha256_file(path)
