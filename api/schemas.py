"""Shared API schemas: the receipt of a write and its journal event."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mrv.registry.core import Receipt


class Event(BaseModel):
    """The journal event a write produced (or found, when its idempotency key was replayed)."""

    operation: str
    id: int
    stream: str
    seq: int
    hash: str = Field(description="SHA-256 of the event, chained to the stream's previous one.")
    idempotency_key: str
    replayed: bool


class WriteResult(BaseModel):
    """What a write returns: the operation's result fields and its journal event."""

    model_config = ConfigDict(extra="allow")
    event: Event


def receipt(r: Receipt) -> dict[str, Any]:
    """A receipt as the response body of a write."""
    return r.to_dict()


__all__ = ["Event", "WriteResult", "receipt"]
