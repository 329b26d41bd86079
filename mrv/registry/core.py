"""The registry's unit of work: one write = one transaction = one journal event.

:meth:`Registry.execute` opens a transaction, answers a replayed idempotency key from the
journal, takes the write lock of the operation's journal stream, runs the operation's body,
appends the event chained to the stream's head and commits. Any :class:`~mrv.errors.RegistryError`
or database refusal rolls everything back, so a refused operation leaves neither data nor journal
changed. Deadlocks and serialisation failures on PostgreSQL are retried.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError

from mrv.errors import (
    ForbiddenError,
    IdempotencyConflictError,
    IntegrityViolationError,
    RecordNotFoundError,
    RegistryError,
    RegistryInputError,
)
from mrv.registry.db import make_engine, migrate
from mrv.registry.journal import GENESIS, event_hash, jsonable, request_hash
from mrv.registry.models import JournalEvent, JournalStream, Party, PartyRole
from mrv.settings import Settings

RETRY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
MAX_ATTEMPTS = 8
MAX_KEY_LENGTH = 128

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The current time in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Actor:
    """The party performing an operation, with its roles."""

    id: int
    code: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    """What an operation's body changed: the journal event's entity, before and after."""

    entity_type: str
    entity_id: str
    after: dict[str, Any]
    before: dict[str, Any] | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Receipt:
    """The result of a write: the journal event written (or found, for a replayed key)."""

    operation: str
    event_id: int
    stream: str
    seq: int
    hash: str
    idempotency_key: str
    replayed: bool
    result: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping: the result plus an ``event`` section."""
        return {
            **self.result,
            "event": {
                "operation": self.operation,
                "id": self.event_id,
                "stream": self.stream,
                "seq": self.seq,
                "hash": self.hash,
                "idempotency_key": self.idempotency_key,
                "replayed": self.replayed,
            },
        }


@dataclass
class Tx:
    """The transaction an operation's body runs in."""

    conn: Connection
    actor: Actor
    now: dt.datetime
    settings: Settings
    registry: Registry
    stream: str | None = None
    _head: tuple[int, str] | None = field(default=None, repr=False)

    @property
    def today(self) -> dt.date:
        """Today's date in China Standard Time (the registry's business day)."""
        return (self.now + dt.timedelta(hours=8)).date()

    def lock_stream(self, stream: str) -> None:
        """Take the write lock of ``stream``; the operation's event is appended to it."""
        if self.stream is not None:
            raise RuntimeError(f"operation already locked stream {self.stream!r}")
        self._head = _lock_stream(self.conn, stream)
        self.stream = stream

    def require_role(self, *roles: str) -> None:
        """Refuse unless the actor holds one of ``roles`` (admin always passes)."""
        if "admin" in self.actor.roles or self.actor.roles.intersection(roles):
            return
        if self.actor.id:  # roles may have been added since the actor was cached
            self.actor = self.registry.actor(self.conn, self.actor.code, refresh=True)
            if "admin" in self.actor.roles or self.actor.roles.intersection(roles):
                return
        raise ForbiddenError(
            f"{self.actor.code} may not do this: it needs the role {' or '.join(roles)}",
            actor=self.actor.code,
            required_roles=list(roles),
        )


def _lock_stream(conn: Connection, stream: str) -> tuple[int, str]:
    query = (
        select(JournalStream.seq, JournalStream.head_hash)
        .where(JournalStream.stream == stream)
        .with_for_update()
    )
    row = conn.execute(query).first()
    if row is None:
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(
            dialect_insert(JournalStream)
            .values(stream=stream, seq=0, head_hash=GENESIS)
            .on_conflict_do_nothing()
        )
        row = conn.execute(query).one()
    return int(row.seq), str(row.head_hash)


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def _retryable(exc: DBAPIError) -> bool:
    if _sqlstate(exc) in RETRY_SQLSTATES:
        return True
    return "database is locked" in str(exc.orig)


def _is_key_clash(exc: IntegrityError) -> bool:
    text = str(exc.orig)
    return "idempotency_key" in text


class Registry:
    """The registry service: a database engine, settings and a clock.

    Operations live in the modules of :mod:`mrv.registry` as functions taking the registry as
    their first argument; each runs through :meth:`execute`.
    """

    def __init__(self, engine: Engine, settings: Settings | None = None, clock: Clock = utc_now):
        self.engine = engine
        self.settings = settings or Settings()
        self.clock = clock
        self._actors: dict[str, Actor] = {}
        self.cache: dict[tuple[str, str], Any] = {}
        """Immutable lookups (account and batch ids by code); never holds mutable state."""

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        url: str | None = None,
        upgrade: bool = True,
        clock: Clock = utc_now,
        pool_size: int = 5,
    ) -> Registry:
        """Connect to ``url`` (default: the settings' registry URL) and migrate to the head."""
        settings = settings or Settings()
        engine = make_engine(url or settings.registry_url(), pool_size=pool_size)
        if upgrade:
            migrate(engine)
        return cls(engine, settings, clock)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading (one transaction, rolled back at the end)."""
        with self.engine.connect() as conn:
            try:
                yield conn
            finally:
                conn.rollback()

    def actor(self, conn: Connection, code: str, *, refresh: bool = False) -> Actor:
        """The party ``code`` with its roles (cached; roles are only ever added)."""
        cached = self._actors.get(code)
        if cached is not None and not refresh:
            return cached
        row = conn.execute(select(Party.id).where(Party.code == code)).first()
        if row is None:
            raise RecordNotFoundError(f"no party {code!r} (the actor)", party=code)
        roles = conn.execute(select(PartyRole.role).where(PartyRole.party_id == row.id)).scalars()
        actor = Actor(id=int(row.id), code=code, roles=frozenset(roles))
        self._actors[code] = actor
        return actor

    def execute(
        self,
        operation: str,
        *,
        actor: str,
        request: Mapping[str, Any],
        body: Callable[[Tx], Outcome],
        stream: str | None = None,
        idempotency_key: str | None = None,
        bootstrap: bool = False,
    ) -> Receipt:
        """Run one write operation atomically and journal it.

        ``stream`` names the journal stream (``body`` may call :meth:`Tx.lock_stream` itself when
        the stream depends on what it reads). A replayed ``idempotency_key`` with the same request
        returns the first receipt without running ``body``; with a different request it is
        refused. ``bootstrap`` lets the very first party create itself.
        """
        key = idempotency_key or str(uuid.uuid4())
        if not key or len(key) > MAX_KEY_LENGTH:
            raise RegistryInputError(
                f"idempotency key must be 1–{MAX_KEY_LENGTH} characters", field="idempotency_key"
            )
        req = jsonable(dict(request))
        fingerprint = request_hash(operation, actor, req)
        for attempt in range(MAX_ATTEMPTS):
            try:
                return self._attempt(
                    operation, actor, req, fingerprint, body, stream, key, bootstrap
                )
            except IntegrityError as exc:
                if _is_key_clash(exc):
                    replay = self._replay(key, fingerprint)
                    if replay is not None:
                        return replay
                if _sqlstate(exc) in RETRY_SQLSTATES and attempt + 1 < MAX_ATTEMPTS:
                    continue
                raise IntegrityViolationError(
                    f"the database refused {operation}: {str(exc.orig).splitlines()[0]}",
                    operation=operation,
                ) from exc
            except DBAPIError as exc:
                if _retryable(exc) and attempt + 1 < MAX_ATTEMPTS:
                    time.sleep(0.001 * 2**attempt)
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _replay(self, key: str, fingerprint: str) -> Receipt | None:
        with self.read() as conn:
            return _find_replay(conn, key, fingerprint)

    def _attempt(
        self,
        operation: str,
        actor_code: str,
        request: dict[str, Any],
        fingerprint: str,
        body: Callable[[Tx], Outcome],
        stream: str | None,
        key: str,
        bootstrap: bool,
    ) -> Receipt:
        with self.engine.begin() as conn:
            replay = _find_replay(conn, key, fingerprint)
            if replay is not None:
                return replay
            if bootstrap:
                actor = Actor(id=0, code=actor_code, roles=frozenset({"admin"}))
            else:
                actor = self.actor(conn, actor_code)
            tx = Tx(conn=conn, actor=actor, now=self.clock(), settings=self.settings, registry=self)
            if stream is not None:
                tx.lock_stream(stream)
            outcome = body(tx)
            if tx.stream is None or tx._head is None:
                raise RuntimeError(f"{operation} did not lock a journal stream")
            seq = tx._head[0] + 1
            event: dict[str, Any] = {
                "stream": tx.stream,
                "seq": seq,
                "occurred_at": tx.now,
                "actor": actor_code,
                "operation": operation,
                "entity_type": outcome.entity_type,
                "entity_id": str(outcome.entity_id),
                "before": jsonable(outcome.before) if outcome.before is not None else None,
                "after": jsonable(outcome.after),
                "reason": outcome.reason,
                "idempotency_key": key,
                "request_sha256": fingerprint,
                "prev_hash": tx._head[1],
            }
            event["hash"] = event_hash(event)
            event_id = conn.execute(
                insert(JournalEvent).values(**event).returning(JournalEvent.id)
            ).scalar_one()
            conn.execute(
                update(JournalStream)
                .where(JournalStream.stream == tx.stream)
                .values(seq=seq, head_hash=event["hash"])
            )
            return Receipt(
                operation=operation,
                event_id=int(event_id),
                stream=tx.stream,
                seq=seq,
                hash=event["hash"],
                idempotency_key=key,
                replayed=False,
                result=event["after"],
            )


def _find_replay(conn: Connection, key: str, fingerprint: str) -> Receipt | None:
    row = conn.execute(
        select(
            JournalEvent.id,
            JournalEvent.operation,
            JournalEvent.stream,
            JournalEvent.seq,
            JournalEvent.hash,
            JournalEvent.after,
            JournalEvent.request_sha256,
        ).where(JournalEvent.idempotency_key == key)
    ).first()
    if row is None:
        return None
    if row.request_sha256 != fingerprint:
        raise IdempotencyConflictError(
            f"idempotency key {key!r} was already used for a different request "
            f"({row.operation}, event {row.id})",
            idempotency_key=key,
            event_id=int(row.id),
        )
    return Receipt(
        operation=str(row.operation),
        event_id=int(row.id),
        stream=str(row.stream),
        seq=int(row.seq),
        hash=str(row.hash),
        idempotency_key=key,
        replayed=True,
        result=dict(row.after),
    )


__all__ = ["Actor", "Outcome", "Receipt", "Registry", "RegistryError", "Tx", "utc_now"]
