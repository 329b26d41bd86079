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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, bindparam, insert, select, update
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
from mrv.registry import fastpath
from mrv.registry.db import make_engine, migrate
from mrv.registry.journal import GENESIS, event_hash, jsonable, request_hash
from mrv.registry.models import JournalEvent, JournalStream, Party, PartyRole
from mrv.settings import Settings

RETRY_SQLSTATES = frozenset({"40001", "40P01", "55P03", "26000"})
"""Serialisation failure, deadlock, lock timeout, and a prepared statement of
:mod:`mrv.registry.fastpath` deallocated behind its back (it is prepared again)."""
MAX_ATTEMPTS = 8
MAX_KEY_LENGTH = 128

Clock = Callable[[], dt.datetime]

CHINA_OFFSET = dt.timedelta(hours=8)
"""China Standard Time (UTC+8): the registry's business day."""


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
        return (self.now + CHINA_OFFSET).date()

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


# Statements are built once: executing a cached statement skips SQLAlchemy's construction cost.
_LOCK = (
    select(JournalStream.seq, JournalStream.head_hash)
    .where(JournalStream.stream == bindparam("stream"))
    .with_for_update()
)
_REPLAY_COLUMNS = (
    JournalEvent.id,
    JournalEvent.operation,
    JournalEvent.stream,
    JournalEvent.seq.label("event_seq"),
    JournalEvent.hash,
    JournalEvent.after,
    JournalEvent.request_sha256,
)
_REPLAY = select(*_REPLAY_COLUMNS).where(JournalEvent.idempotency_key == bindparam("key"))
_LOCK_AND_REPLAY = (
    select(JournalStream.seq, JournalStream.head_hash, *_REPLAY_COLUMNS)
    .outerjoin(JournalEvent, JournalEvent.idempotency_key == bindparam("key"))
    .where(JournalStream.stream == bindparam("stream"))
    .with_for_update(of=JournalStream)
)
_INSERT_EVENT = insert(JournalEvent).returning(JournalEvent.id)
_UPDATE_HEAD = (
    update(JournalStream)
    .where(JournalStream.stream == bindparam("b_stream"))
    .values(seq=bindparam("b_seq"), head_hash=bindparam("b_hash"))
)


def _lock_stream(conn: Connection, stream: str) -> tuple[int, str]:
    row = conn.execute(_LOCK, {"stream": stream}).first()
    if row is None:
        _create_stream(conn, stream)
        row = conn.execute(_LOCK, {"stream": stream}).one()
    return int(row.seq), str(row.head_hash)


def _create_stream(conn: Connection, stream: str) -> None:
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        dialect_insert(JournalStream)
        .values(stream=stream, seq=0, head_hash=GENESIS)
        .on_conflict_do_nothing()
    )


def _sqlstate(exc: DBAPIError) -> str | None:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def _retryable(exc: DBAPIError) -> bool:
    if _sqlstate(exc) in RETRY_SQLSTATES or exc.connection_invalidated:
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
        self.pipelined = engine.dialect.name == "postgresql"
        """Run writes with a journal stream through :mod:`mrv.registry.fastpath` (PostgreSQL)."""
        if self.pipelined:
            fastpath.install(engine)

    def today(self) -> dt.date:
        """Today's date in China Standard Time by the registry's clock (its business day)."""
        return (self.clock() + CHINA_OFFSET).date()

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
        with self.engine.connect().execution_options(mrv_read_only=True) as conn:
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
        accounts: Sequence[str] = (),
    ) -> Receipt:
        """Run one write operation atomically and journal it.

        ``stream`` names the journal stream (``body`` may call :meth:`Tx.lock_stream` itself when
        the stream depends on what it reads). A replayed ``idempotency_key`` with the same request
        returns the first receipt without running ``body``; with a different request it is
        refused. ``bootstrap`` lets the very first party create itself. ``accounts`` names accounts
        the body looks up: on PostgreSQL their ids (and the actor) are read with the stream lock
        when not cached yet, saving a round trip each.
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
                    operation, actor, req, fingerprint, body, stream, key, bootstrap, accounts
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
        accounts: Sequence[str] = (),
    ) -> Receipt:
        if stream is not None and self.pipelined:
            try:
                return self._attempt_pipelined(
                    operation, actor_code, fingerprint, body, stream, key, bootstrap, accounts
                )
            except fastpath.Replayed as replay:
                return _replay_receipt(*replay.event, key=key, fingerprint=fingerprint)
            except fastpath.StreamMissing:
                pass  # the stream's first event: create its head the ordinary way below
        with self.engine.begin() as conn:
            head: tuple[int, str] | None = None
            if stream is not None:  # lock the stream and look for a replay in one round trip
                row = conn.execute(_LOCK_AND_REPLAY, {"stream": stream, "key": key}).first()
                if row is None:
                    _create_stream(conn, stream)
                    row = conn.execute(_LOCK_AND_REPLAY, {"stream": stream, "key": key}).one()
                head = (int(row[0]), str(row[1]))
                if row.id is not None:
                    return _receipt_from_row(row, key, fingerprint)
            else:
                found = _find_replay(conn, key, fingerprint)
                if found is not None:
                    return found
            return self._run(
                conn, None, head, operation, actor_code, fingerprint, body, stream, key, bootstrap
            )

    def _attempt_pipelined(
        self,
        operation: str,
        actor_code: str,
        fingerprint: str,
        body: Callable[[Tx], Outcome],
        stream: str,
        key: str,
        bootstrap: bool,
        accounts: Sequence[str],
    ) -> Receipt:
        """:meth:`_attempt` on PostgreSQL: the lock is queued and read with the body's first read.

        A replayed key or a missing stream surface as :class:`fastpath.Replayed` /
        :class:`fastpath.StreamMissing` once the lock's result is read, rolling back whatever the
        body had done; an error the body raised before that yields to them.
        """
        with self.engine.begin() as conn:
            fast = fastpath.FastPath(conn)
            info = conn.info
            info[fastpath.KEY] = fast
            try:
                fast.lock(stream, key)
                self._prefetch(fast, None if bootstrap else actor_code, accounts)
                return self._run(
                    conn,
                    fast,
                    None,
                    operation,
                    actor_code,
                    fingerprint,
                    body,
                    stream,
                    key,
                    bootstrap,
                )
            except psycopg.Error as exc:
                fast.discard()
                raise fast.translate(exc) from exc
            except BaseException as exc:
                if fast.pending and not isinstance(exc, DBAPIError):
                    try:  # the replay check and the lock come before the body's own refusals
                        fast.flush()
                    except fastpath.StreamMissing:
                        pass
                    except psycopg.Error as db_exc:
                        fast.discard()
                        raise fast.translate(db_exc) from db_exc
                fast.discard()
                raise
            finally:
                info.pop(fastpath.KEY, None)
                fast.close()

    def _prefetch(
        self, fast: fastpath.FastPath, actor_code: str | None, accounts: Sequence[str]
    ) -> None:
        """Read the actor and account ids not cached yet in the lock's round trip."""
        if actor_code is not None and actor_code in self._actors:
            actor_code = None
        missing = [code for code in accounts if ("account", code) not in self.cache]
        if actor_code is None and not missing:
            return
        party, ids = fast.lookups(actor_code, missing)
        if actor_code is not None and party is not None:
            self._actors[actor_code] = Actor(id=party[0], code=actor_code, roles=party[1])
        for code, account_id in ids.items():
            self.cache["account", code] = account_id

    def _run(
        self,
        conn: Connection,
        fast: fastpath.FastPath | None,
        head: tuple[int, str] | None,
        operation: str,
        actor_code: str,
        fingerprint: str,
        body: Callable[[Tx], Outcome],
        stream: str | None,
        key: str,
        bootstrap: bool,
    ) -> Receipt:
        if bootstrap:
            actor = Actor(id=0, code=actor_code, roles=frozenset({"admin"}))
        else:
            actor = self.actor(conn, actor_code)
        tx = Tx(conn=conn, actor=actor, now=self.clock(), settings=self.settings, registry=self)
        if stream is not None:
            tx.stream, tx._head = stream, head
        outcome = body(tx)
        if fast is not None:
            tx._head = fast.resolve()
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
        if fast is not None:
            event_id = fast.append_and_commit(event)
        else:
            event_id = conn.execute(_INSERT_EVENT, event).scalar_one()
            conn.execute(
                _UPDATE_HEAD, {"b_stream": tx.stream, "b_seq": seq, "b_hash": event["hash"]}
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
    row = conn.execute(_REPLAY, {"key": key}).first()
    if row is None:
        return None
    return _receipt_from_row(row, key, fingerprint)


def _receipt_from_row(row: Any, key: str, fingerprint: str) -> Receipt:
    return _replay_receipt(
        row.id,
        row.operation,
        row.stream,
        row.event_seq,
        row.hash,
        row.after,
        row.request_sha256,
        key=key,
        fingerprint=fingerprint,
    )


def _replay_receipt(
    event_id: Any,
    operation: Any,
    stream: Any,
    seq: Any,
    hash_: Any,
    after: Any,
    request_sha256: Any,
    *,
    key: str,
    fingerprint: str,
) -> Receipt:
    if request_sha256 != fingerprint:
        raise IdempotencyConflictError(
            f"idempotency key {key!r} was already used for a different request "
            f"({operation}, event {event_id})",
            idempotency_key=key,
            event_id=int(event_id),
        )
    return Receipt(
        operation=str(operation),
        event_id=int(event_id),
        stream=str(stream),
        seq=int(seq),
        hash=str(hash_),
        idempotency_key=key,
        replayed=True,
        result=dict(after),
    )


__all__ = ["Actor", "Outcome", "Receipt", "Registry", "RegistryError", "Tx", "utc_now"]
