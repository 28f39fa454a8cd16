"""API keys recently found valid, so that a dispatch system posting hundreds of incidents a
second is not looked up in the database for each one.

An entry lives KEY_CACHE_SECONDS at most. A revocation removes it at once: in the instance
that revoked it directly, and in every instance through `NOTIFY sitcen_principals`, heard by
the feed listener, which also empties the cache whenever its LISTEN connection is lost or
re-made (a revocation may have gone unheard meanwhile). Revoked or unknown keys are never
cached; expiry is checked on every use.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from app.auth.principal import Principal

KEY_CACHE_SECONDS = 5.0


@dataclass
class CachedKey:
    principal: Principal
    expires_at: datetime | None
    last_used_at: datetime | None
    fetched: float = 0.0  # time.monotonic() of the database read


class KeyCache:
    def __init__(self, ttl: float = KEY_CACHE_SECONDS) -> None:
        self._ttl = ttl
        self._entries: dict[str, CachedKey] = {}
        # Bumped by every revocation heard: a read that began before it may have seen the key
        # still valid, and must not be cached (see `put`).
        self.generation = 0

    def get(self, key_hash: str) -> CachedKey | None:
        entry = self._entries.get(key_hash)
        if entry is not None and time.monotonic() - entry.fetched > self._ttl:
            del self._entries[key_hash]
            return None
        return entry

    def put(self, key_hash: str, entry: CachedKey, read_at_generation: int) -> None:
        """Remember a key read from the database, unless a revocation was heard since the read
        began (`read_at_generation`): the read may predate it."""
        if read_at_generation != self.generation:
            return
        entry.fetched = time.monotonic()
        self._entries[key_hash] = entry

    def forget(self, name: str) -> None:
        """Drop the key named `name` (revoked)."""
        self.generation += 1
        for key_hash in [h for h, e in self._entries.items() if e.principal.name == name]:
            del self._entries[key_hash]

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
