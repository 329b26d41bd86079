"""PostgreSQL statement layer for the hot path of registry writes: prepared, pipelined libpq.

SQLAlchemy spends about 100 µs of client CPU on each statement, and psycopg sends each statement
in its own packet even in pipeline mode, which made a credit transfer (eight statements and
round trips) CPU-bound in the client. On PostgreSQL :meth:`~mrv.registry.core.Registry.execute`
therefore sends its own statements and those of :func:`~mrv.registry.blocks.take` /
:func:`~mrv.registry.blocks.move` as prepared statements straight through libpq (psycopg's
``pgconn``) on the connection underneath the SQLAlchemy one — the same session and transaction —
in two round trips: ``BEGIN`` + the stream lock (with the idempotency look-up) + the block read,
then the block writes + the journal append + ``COMMIT``. The server still runs the statements
strictly in order, so at READ COMMITTED the block read takes its snapshot after the lock is
granted, exactly as when they are sent one by one; an error skips everything after it up to the
round trip's end, so nothing after a failed statement (``COMMIT`` included) runs.

Only statement execution lives here. Which blocks move, the children, the event and its hash are
computed once, in ``blocks.py`` and ``core.py``, for SQLite and PostgreSQL alike. Any SQLAlchemy
statement on the connection first completes the round trip under way (an engine event), so
operation bodies may mix both freely and everything still runs in program order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import select
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError

from mrv.errors import IntegrityViolationError
from mrv.registry.journal import HASHED_FIELDS

KEY = "mrv_fastpath"
"""Key of the active :class:`FastPath` in the SQLAlchemy connection's ``info``."""
_PREPARED = "mrv_fastpath_prepared"
"""Key of the names prepared on a connection, in its ``info`` (lives as long as the session)."""

STALE_BLOCKS = "credit blocks changed concurrently"
MAX_PARAMS = 30_000
"""Most parameters in one statement (the protocol allows 65,535)."""

_FATAL = (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.PIPELINE_ABORTED)
_SYNC = pq.ExecStatus.PIPELINE_SYNC
_IDLE = pq.TransactionStatus.IDLE
_GONE = "26000"  # invalid_sql_statement_name: a prepared statement no longer exists

_LOCK_AND_REPLAY = (
    "SELECT s.seq, s.head_hash, e.id, e.operation, e.stream, e.seq, e.hash, e.after,"
    " e.request_sha256 FROM journal_streams AS s"
    " LEFT OUTER JOIN journal_events AS e ON e.idempotency_key = $1"
    " WHERE s.stream = $2 FOR UPDATE OF s"
)
_TAKE = (
    "SELECT id, batch_id, serial_start, serial_end, account_id, status, lot_id FROM"
    " (SELECT id, batch_id, serial_start, serial_end, account_id, status, lot_id,"
    " sum(quantity) OVER (ORDER BY serial_start) - quantity AS before FROM credit_blocks"
    " WHERE account_id = $1::integer AND batch_id = $2::integer AND status = $3::varchar"
    " AND active) AS b WHERE before < $4::bigint ORDER BY serial_start"
)
_EVENT_FIELDS = (*HASHED_FIELDS, "hash")
_EVENT_TYPES = (
    "varchar",
    "bigint",
    "timestamptz",
    "varchar",
    "varchar",
    "varchar",
    "varchar",
    "json",
    "json",
    "text",
    "varchar",
    "varchar",
    "varchar",
    "varchar",
)
_APPEND = (  # the journal event and the stream's new head, in one statement
    "WITH head AS (UPDATE journal_streams SET seq = $1::bigint, head_hash = $2::varchar"
    " WHERE stream = $3::varchar)"
    f" INSERT INTO journal_events ({', '.join(_EVENT_FIELDS)}) VALUES"
    f" ({', '.join(f'${i + 4}::{t}' for i, t in enumerate(_EVENT_TYPES))}) RETURNING id"
)
BLOCK_FIELDS = (
    "batch_id",
    "serial_start",
    "serial_end",
    "quantity",
    "account_id",
    "status",
    "active",
    "parent_id",
    "lot_id",
    "retirement_id",
    "cancellation_id",
    "created_at",
)
_BLOCK_TYPES = (
    "integer",
    "bigint",
    "bigint",
    "bigint",
    "integer",
    "varchar",
    "boolean",
    "bigint",
    "integer",
    "integer",
    "integer",
    "timestamptz",
)
_SUPERSEDE: dict[tuple[int, int], tuple[bytes, bytes]] = {}


def _supersede_sql(parents: int, children: int) -> tuple[bytes, bytes]:
    """Name and text of: deactivate ``parents`` blocks, insert ``children`` rows.

    The insert joins the count of blocks deactivated, so it runs after the update (the exclusion
    constraint then no longer sees the parents) and a parent found inactive fails the statement
    before anything is inserted.
    """
    found = _SUPERSEDE.get((parents, children))
    if found is None:
        columns = ", ".join(BLOCK_FIELDS)
        width = len(BLOCK_FIELDS)
        rows = ", ".join(
            "("
            + ", ".join(f"${parents + r * width + i + 1}::{t}" for i, t in enumerate(_BLOCK_TYPES))
            + ")"
            for r in range(children)
        )
        sql = (
            "WITH gone AS (UPDATE credit_blocks SET active = false"
            f" WHERE id IN ({', '.join(f'${i + 1}::bigint' for i in range(parents))}) AND active"
            " RETURNING id), done AS (SELECT count(*) AS n FROM gone)"
            f" INSERT INTO credit_blocks ({columns}) SELECT {columns}"
            f" FROM (VALUES {rows}) AS v ({columns}), done"
            f" WHERE CASE WHEN done.n = {parents} THEN true"
            f" ELSE ('{STALE_BLOCKS}: ' || done.n)::boolean END"
        )
        found = (f"mrv_supersede_{parents}_{children}".encode(), sql.encode())
        _SUPERSEDE[parents, children] = found
    return found


_ACTOR = (
    "SELECT p.id, r.role FROM parties AS p LEFT OUTER JOIN party_roles AS r"
    " ON r.party_id = p.id WHERE p.code = $1::varchar"
)
_ACCOUNT = "SELECT id FROM accounts WHERE code = $1::varchar"
_STATEMENTS = {
    name: (name.encode(), sql.encode())
    for name, sql in (
        ("mrv_lock", _LOCK_AND_REPLAY),
        ("mrv_take", _TAKE),
        ("mrv_append", _APPEND),
        ("mrv_actor", _ACTOR),
        ("mrv_account", _ACCOUNT),
    )
}
_COMMIT = b"COMMIT"


def _begin(raw: psycopg.Connection[Any]) -> bytes:
    """The ``BEGIN`` psycopg itself would send on ``raw`` (its isolation settings included)."""
    parts = ["BEGIN"]
    if raw.isolation_level is not None:
        parts.append(f"ISOLATION LEVEL {raw.isolation_level.name.replace('_', ' ')}")
    if raw.read_only is not None:
        parts.append("READ ONLY" if raw.read_only else "READ WRITE")
    if raw.deferrable is not None:
        parts.append("DEFERRABLE" if raw.deferrable else "NOT DEFERRABLE")
    return " ".join(parts).encode()


def _text(value: Any) -> bytes | None:
    """A parameter in PostgreSQL's text format."""
    if value is None:
        return None
    kind = type(value)
    if kind is int:
        return b"%d" % value
    if kind is str:
        return value.encode()  # type: ignore[no-any-return]
    if kind is bool:
        return b"t" if value else b"f"
    if isinstance(value, dt.datetime):
        return value.isoformat().encode()
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"no text format for {type(value).__name__}")


def _int(value: bytes | None) -> int | None:
    return None if value is None else int(value)


class Replayed(Exception):  # noqa: N818 - a signal, not an error
    """The idempotency key was used before; ``event`` is that journal event's row."""

    def __init__(self, event: Sequence[Any]) -> None:
        super().__init__("replayed idempotency key")
        self.event = event


class StreamMissing(Exception):  # noqa: N818 - a signal, not an error
    """The journal stream has no head row yet (the caller creates it and starts over)."""


class FastPath:
    """The statements of one registry transaction, sent through libpq in pipeline mode.

    Statements are queued (:meth:`_send`) and go to the server together when a result is needed
    (:meth:`_round_trip`), each round trip ending with a Sync.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.raw: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
        self.pg = self.raw.pgconn
        self.head: tuple[int, str] | None = None
        self._encoding = self.raw.info.encoding
        self._prepared: set[bytes] = conn.info.setdefault(_PREPARED, set())
        self._new: list[bytes] = []  # names prepared in the round trip under way
        self._queued: list[list[pq.abc.PGresult | None]] = []  # one result slot per statement
        self._lock: list[pq.abc.PGresult | None] | None = None  # the pending lock's slot
        self._superseded: list[int] = []

    # -- wire -----------------------------------------------------------------------------------

    def _send(
        self, statement: tuple[bytes, bytes], params: Sequence[bytes | None] | None
    ) -> list[pq.abc.PGresult | None]:
        pg = self.pg
        if not self._queued:
            pg.enter_pipeline_mode()
        name, sql = statement
        if name not in self._prepared:
            pg.send_prepare(name, sql)
            self._prepared.add(name)
            self._new.append(name)
            self._queued.append([None])
        pg.send_query_prepared(name, params)
        slot: list[pq.abc.PGresult | None] = [None]
        self._queued.append(slot)
        return slot

    def _send_command(self, command: bytes) -> None:
        if not self._queued:
            self.pg.enter_pipeline_mode()
        self.pg.send_query_params(command, None)
        self._queued.append([None])

    def _wait(self, write: bool) -> None:
        fd = self.pg.socket
        readable, _, _ = select.select([fd], [fd] if write else [], [])
        if readable:
            self.pg.consume_input()

    def _round_trip(self) -> None:
        """Send what is queued with a Sync, collect every result, leave pipeline mode."""
        queued, self._queued = self._queued, []
        if not queued:
            return
        pg = self.pg
        pg.pipeline_sync()
        while pg.flush():
            self._wait(write=True)
        error: pq.abc.PGresult | None = None
        for slot in [*queued, None]:
            while True:
                while pg.is_busy():
                    self._wait(write=False)
                result = pg.get_result()
                if result is None:
                    break
                if result.status == _SYNC:
                    break
                if result.status in _FATAL and error is None:
                    error = result
                if slot is not None:
                    slot[0] = result
        pg.exit_pipeline_mode()
        new, self._new = self._new, []
        if error is not None:
            self._prepared.difference_update(new)  # a skipped Parse prepared nothing
            exc = psycopg.errors.error_from_result(error, encoding=self._encoding)
            if exc.sqlstate == _GONE:  # deallocated behind our back: prepare again next time
                self._prepared.clear()
            raise exc

    def _result(self, slot: list[pq.abc.PGresult | None]) -> pq.abc.PGresult:
        if self._queued:
            self._round_trip()
        result = slot[0]
        assert result is not None
        return result

    # -- statements -----------------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        """Whether the lock statement's result has not been looked at yet."""
        return self._lock is not None

    def flush(self) -> None:
        """Complete the round trip under way and settle the stream lock."""
        self._round_trip()
        if self._lock is not None:
            self.resolve()

    def discard(self) -> None:
        """Drop what is queued after an error (the caller rolls the transaction back)."""
        self._lock = None
        if self._queued:
            with contextlib.suppress(psycopg.Error):
                self._round_trip()

    def lock(self, stream: str, key: str) -> None:
        """Queue ``BEGIN`` and the stream's row lock combined with the look-up of ``key``."""
        if self.pg.transaction_status == _IDLE:
            self._send_command(_begin(self.raw))
        self._lock = self._send(_STATEMENTS["mrv_lock"], (key.encode(), stream.encode()))

    def resolve(self) -> tuple[int, str]:
        """The stream head ``(seq, hash)`` once locked; raises :class:`Replayed` or
        :class:`StreamMissing` instead when the lock statement found so."""
        slot, self._lock = self._lock, None
        if slot is not None:
            result = self._result(slot)
            if result.ntuples == 0:
                raise StreamMissing()
            row = [result.get_value(0, i) for i in range(9)]
            self.head = (int(row[0] or b""), bytes(row[1] or b"").decode())
            if row[2] is not None:
                after = row[7]
                raise Replayed(
                    (
                        int(row[2]),
                        bytes(row[3] or b"").decode(),
                        bytes(row[4] or b"").decode(),
                        int(row[5] or b""),
                        bytes(row[6] or b"").decode(),
                        json.loads(after) if after is not None else None,
                        bytes(row[8] or b"").decode(),
                    )
                )
        if self.head is None:
            raise RuntimeError("no journal stream locked")
        return self.head

    def lookups(
        self, actor: str | None, accounts: Sequence[str]
    ) -> tuple[tuple[int, frozenset[str]] | None, dict[str, int]]:
        """Party id and roles of ``actor`` and the ids of ``accounts`` (those that exist), read
        in the lock's round trip (after it: a replayed key still comes first)."""
        actor_slot = None
        if actor is not None:
            actor_slot = self._send(_STATEMENTS["mrv_actor"], (actor.encode(),))
        slots = [
            (code, self._send(_STATEMENTS["mrv_account"], (code.encode(),))) for code in accounts
        ]
        self.resolve()
        party = None
        if actor_slot is not None:
            result = self._result(actor_slot)
            if result.ntuples:
                roles = (result.get_value(r, 1) for r in range(result.ntuples))
                party = (
                    int(result.get_value(0, 0) or b""),
                    frozenset(bytes(role).decode() for role in roles if role is not None),
                )
        ids = {}
        for code, slot in slots:
            result = self._result(slot)
            if result.ntuples:
                ids[code] = int(result.get_value(0, 0) or b"")
        return party, ids

    def take(self, account_id: int, batch_id: int, status: str, quantity: int) -> list[Any]:
        """Rows of the :func:`~mrv.registry.blocks.take` query (sent with the pending lock)."""
        slot = self._send(
            _STATEMENTS["mrv_take"],
            (str(account_id).encode(), str(batch_id).encode(), status.encode(), b"%d" % quantity),
        )
        self.resolve()
        result = self._result(slot)
        value = result.get_value
        return [
            (
                int(value(r, 0) or b""),
                int(value(r, 1) or b""),
                int(value(r, 2) or b""),
                int(value(r, 3) or b""),
                int(value(r, 4) or b""),
                bytes(value(r, 5) or b"").decode(),
                _int(value(r, 6)),
            )
            for r in range(result.ntuples)
        ]

    def supersede(self, ids: Sequence[int], children: Sequence[dict[str, Any]]) -> bool:
        """Queue the deactivation of blocks ``ids`` and the insertion of ``children``.

        False (nothing queued) when the statement would exceed the protocol's parameter limit:
        the caller then runs its ordinary statements.
        """
        if len(ids) + len(BLOCK_FIELDS) * len(children) > MAX_PARAMS:
            return False
        self.resolve()
        self._superseded = list(ids)
        params: list[bytes | None] = [str(i).encode() for i in ids]
        params.extend([_text(row[name]) for row in children for name in BLOCK_FIELDS])
        self._send(_supersede_sql(len(ids), len(children)), params)
        return True

    def append_and_commit(self, event: dict[str, Any]) -> int:
        """Insert the journal event, move the stream head, commit; returns the event id."""
        self.resolve()
        values = [event["seq"], event["hash"], event["stream"]]
        values.extend([event[name] for name in _EVENT_FIELDS])
        values[10] = json.dumps(values[10])  # before
        values[11] = json.dumps(values[11])  # after
        slot = self._send(_STATEMENTS["mrv_append"], [_text(v) for v in values])
        self._send_command(_COMMIT)
        return int(self._result(slot).get_value(0, 0) or b"")

    def close(self) -> None:
        """Roll back what was not committed (before SQLAlchemy looks at the connection again)."""
        try:
            self.discard()
            if self.pg.transaction_status != _IDLE:
                self.raw.rollback()
        except Exception:  # a connection in doubt must not go back to the pool
            self.conn.invalidate()

    def translate(self, exc: psycopg.Error) -> Exception:
        """The exception SQLAlchemy would have raised for the driver error ``exc``."""
        if isinstance(exc, psycopg.errors.InvalidTextRepresentation) and STALE_BLOCKS in str(exc):
            return IntegrityViolationError(f"{STALE_BLOCKS}; retry", blocks=self._superseded)
        invalidated = self.conn.dialect.is_disconnect(exc, self.raw, None)  # type: ignore[arg-type]
        if invalidated:
            self.conn.invalidate(exc)
        return DBAPIError.instance(
            None, None, exc, psycopg.Error, connection_invalidated=invalidated
        )


def current(conn: Connection) -> FastPath | None:
    """The fast path active on ``conn`` (None on SQLite or outside :meth:`Registry.execute`)."""
    fast: FastPath | None = conn.info.get(KEY)
    return fast


def _before_sqlalchemy(conn: Connection, *_args: Any) -> None:
    fast = conn.info.get(KEY)
    if fast is not None:
        try:
            fast.flush()
        except psycopg.Error as exc:
            raise fast.translate(exc) from exc


def install(engine: Engine) -> None:
    """Make SQLAlchemy statements on ``engine`` first complete an active fast path's round trip."""
    if not event.contains(engine, "before_cursor_execute", _before_sqlalchemy):
        event.listen(engine, "before_cursor_execute", _before_sqlalchemy)
