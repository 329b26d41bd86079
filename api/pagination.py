"""Cursor pagination: ``?limit=`` (1–1000, default 100) and an opaque ``?cursor=`` from the
previous page's ``next_cursor``."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from mrv.errors import RegistryInputError

MAX_LIMIT = 1000
T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page (≤ 1000).")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="next_cursor of the previous page.")
]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: Any) -> str:
    """Opaque cursor of the last key of a page."""
    return base64.urlsafe_b64encode(json.dumps([key]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    """The key a cursor stands for; a forged or damaged cursor is bad input."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        (key,) = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise RegistryInputError("invalid cursor", field="cursor") from exc
    return key


def paginate(
    items: Sequence[T], key: Callable[[T], Any], *, limit: int, cursor: str | None
) -> Page[T]:
    """The page after ``cursor`` of ``items`` sorted by ``key`` (keys unique and comparable)."""
    ordered = sorted(items, key=key)
    if cursor is not None:
        after = decode_cursor(cursor)
        try:
            ordered = [x for x in ordered if key(x) > after]
        except TypeError as exc:
            raise RegistryInputError("invalid cursor", field="cursor") from exc
    page = ordered[:limit]
    more = len(ordered) > limit
    return Page[T](items=list(page), next_cursor=encode_cursor(key(page[-1])) if more else None)


def after_id(cursor: str | None) -> int:
    """The record id an id-paged cursor stands for (0: from the start)."""
    if cursor is None:
        return 0
    key = decode_cursor(cursor)
    if isinstance(key, bool) or not isinstance(key, int) or key < 0:
        raise RegistryInputError("invalid cursor", field="cursor")
    return key


def id_page(result: dict[str, Any]) -> Page[dict[str, Any]]:
    """A registry read's ``{"items", "next_cursor": id | None}`` as a page with an opaque cursor."""
    after = result["next_cursor"]
    return Page[dict[str, Any]](
        items=result["items"], next_cursor=None if after is None else encode_cursor(after)
    )


__all__ = [
    "MAX_LIMIT",
    "Cursor",
    "Limit",
    "Page",
    "after_id",
    "decode_cursor",
    "encode_cursor",
    "id_page",
    "paginate",
]
