"""The API key cache on its own: what it remembers, and what a revocation makes it forget."""

from __future__ import annotations

import uuid

from app.auth.keycache import CachedKey, KeyCache
from app.auth.principal import Principal
from app.auth.roles import Role


def entry(name: str) -> CachedKey:
    return CachedKey(Principal("apikey", uuid.uuid4(), name, Role.dispatch), None, None)


def test_a_key_read_is_remembered_until_it_is_revoked() -> None:
    cache = KeyCache()
    cache.put("h1", entry("dispatch-a"), cache.generation)
    cache.put("h2", entry("dispatch-b"), cache.generation)
    assert cache.get("h1") is not None
    cache.forget("dispatch-a")
    assert cache.get("h1") is None and cache.get("h2") is not None
    cache.clear()
    assert cache.get("h2") is None


def test_a_read_that_began_before_a_revocation_is_not_remembered() -> None:
    """The database may have answered from before the revocation's commit."""
    cache = KeyCache()
    began = cache.generation
    cache.forget("dispatch-a")  # the NOTIFY arrives while the read is under way
    cache.put("h1", entry("dispatch-a"), began)
    assert cache.get("h1") is None
    began = cache.generation
    cache.clear()  # the LISTEN connection was lost meanwhile
    cache.put("h1", entry("dispatch-a"), began)
    assert cache.get("h1") is None


def test_an_entry_expires() -> None:
    cache = KeyCache(ttl=-1.0)
    cache.put("h1", entry("dispatch-a"), cache.generation)
    assert cache.get("h1") is None
