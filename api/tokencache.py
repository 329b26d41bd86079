"""A short-lived cache of checked API tokens (one database round trip saved per request).

Keys are the tokens' SHA-256; an entry lives ``ttl_s`` seconds or until the token expires,
whichever is first. A token revoked in the database is refused at the latest ``ttl_s`` later.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

from mrv.registry.tokens import Principal, token_sha256

MAX_ENTRIES = 100_000


class TokenCache:
    """Thread-safe TTL cache of token → principal."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        """The cached principal of ``token``, or None."""
        if self.ttl_s <= 0:
            return None
        key = token_sha256(token)
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[1] <= self.clock():
                del self._entries[key]
                return None
            return found[0]

    def put(self, token: str, principal: Principal) -> None:
        """Remember a checked token."""
        if self.ttl_s <= 0:
            return
        until = self.clock() + self.ttl_s
        if principal.expires_at is not None:
            left = (principal.expires_at - dt.datetime.now(dt.UTC)).total_seconds()
            until = min(until, self.clock() + left)
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[token_sha256(token)] = (principal, until)


__all__ = ["TokenCache"]
