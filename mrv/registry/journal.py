"""The append-only, hash-chained journal.

Every write appends one event to a *stream* (``account:<code>``, ``project:<code>``,
``registry``) in the same transaction as the change. Within a stream events are numbered
1, 2, 3 … and each carries the SHA-256 of the previous event of the stream, so removing,
re-ordering or editing any event breaks the chain. Streams rather than one global chain let
independent accounts commit in parallel (a single chain would serialise every commit); the
``journal_streams`` row of a stream is its head and its row lock the stream's write lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

GENESIS = "0" * 64
"""``prev_hash`` of the first event of every stream."""

HASHED_FIELDS = (
    "stream",
    "seq",
    "occurred_at",
    "actor",
    "operation",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "reason",
    "idempotency_key",
    "request_sha256",
    "prev_hash",
)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """``value`` with dates as ISO strings, Decimals as strings, tuples as lists (JSON-native).

    Plain scalars, dicts and lists are recognised by their exact type first (the hot path of every
    journal event); anything else takes the general checks.
    """
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces, UTF-8) used for every hash."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def timestamp(moment: dt.datetime) -> str:
    """UTC ISO-8601 with microseconds (naive values are taken as UTC, as SQLite returns them)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def request_hash(operation: str, actor: str, request: Mapping[str, Any]) -> str:
    """Fingerprint of a write request; a replayed idempotency key must match it."""
    return sha256_hex(canonical({"operation": operation, "actor": actor, "request": request}))


def event_hash(event: Mapping[str, Any]) -> str:
    """SHA-256 over the hashed fields of an event (``occurred_at`` normalised to UTC)."""
    fields = {name: event[name] for name in HASHED_FIELDS}
    fields["occurred_at"] = timestamp(fields["occurred_at"])
    return sha256_hex(canonical(jsonable(fields)))


@dataclass(frozen=True)
class ChainProblem:
    """A break in a stream's chain."""

    stream: str
    seq: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready mapping."""
        return {"stream": self.stream, "seq": self.seq, "reason": self.reason}


def verify_stream(
    stream: str, events: Iterable[Mapping[str, Any]], head_seq: int, head_hash: str
) -> list[ChainProblem]:
    """Check a stream: numbers 1, 2, 3 …, each hash recomputed and chained, the head matching.

    ``events`` must be ordered by ``seq``. Returns every problem found (empty = intact).
    """
    problems: list[ChainProblem] = []
    prev = GENESIS
    expected = 1
    for event in events:
        seq = int(event["seq"])
        if seq != expected:
            problems.append(ChainProblem(stream, seq, f"expected event {expected}, found {seq}"))
        if event["prev_hash"] != prev:
            problems.append(ChainProblem(stream, seq, "prev_hash does not match the event before"))
        recomputed = event_hash(event)
        if recomputed != event["hash"]:
            problems.append(ChainProblem(stream, seq, "hash does not match the event's content"))
        prev = event["hash"]
        expected = seq + 1
    if expected - 1 != head_seq or prev != head_hash:
        problems.append(
            ChainProblem(
                stream,
                None,
                f"stream head (event {head_seq}) does not match the last event ({expected - 1})",
            )
        )
    return problems
