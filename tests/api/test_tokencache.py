"""The API's short-lived cache of checked tokens."""

from __future__ import annotations

import datetime as dt

from api.tokencache import TokenCache
from mrv.registry.tokens import Principal


class Tick:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_entries_live_ttl_seconds_or_until_the_token_expires() -> None:
    tick = Tick()
    cache = TokenCache(5.0, clock=tick)
    p = Principal("buyer-1", frozenset({"buyer"}), 1)
    assert cache.get("mrv_a") is None
    cache.put("mrv_a", p)
    assert cache.get("mrv_a") == p and cache.get("mrv_b") is None
    tick.t += 4.9
    assert cache.get("mrv_a") == p
    tick.t += 0.2
    assert cache.get("mrv_a") is None  # older than 5 s: asked again
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    cache.put("mrv_c", Principal("buyer-1", frozenset(), 2, expires_at=soon))
    tick.t += 1.5
    assert cache.get("mrv_c") is None  # the token's own expiry comes first


def test_a_zero_ttl_disables_the_cache() -> None:
    cache = TokenCache(0.0)
    cache.put("mrv_a", Principal("x", frozenset(), 1))
    assert cache.get("mrv_a") is None
