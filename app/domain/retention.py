"""Keeping the change feed to its retention (`SITCEN_FEED_RETENTION_DAYS`): what is pruned,
what is kept, and the horizon every reader is held to. docs/realtime.md §7 says it for clients.

The rule: a change older than the retention is deleted unless it is its object's last change
before the horizon (the object's *base state*), and that last change did not delete it. So

- objects and their current state are never touched: they live in their own tables;
- the picture at any time from the horizon's `at` on is exact: each object's state at such a
  time is its last change at or before it, which is either after the horizon (kept) or its
  base state (kept). `?at=` before it answers 410 (app.domain.timetravel);
- the feed from the horizon's `seq` on is complete: a `since` at or after `seq - 1` replays
  everything, an older one gets `reset` (GET /api/changes and /ws alike);
- a change the alert evaluator has not read yet is never pruned (where alerting runs), so
  pruning never costs an alert.

The horizon moves first, in a short transaction of its own; the deletion follows in batches,
each its own transaction examining at most `batch` rows in seq order, so that no lock is held
long. Writers are never blocked: they insert new changes, which pruning does not touch. Each
run that changed something is audited (`feed_pruned`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import audit
from app.background import Loop
from app.clock import Clock
from app.db import driver, transaction
from app.domain import changes

log = logging.getLogger(__name__)

BATCH = 10_000
ACTOR = "system:retention"
# pg_try_advisory_xact_lock key: "prune" in ASCII. One instance prunes at a time.
PRUNE_LOCK = 0x7072756E65

_LOCK = "SELECT pg_try_advisory_xact_lock($1)"


@dataclass(frozen=True)
class Pruned:
    deleted: int
    batches: int
    oldest: int  # every change from this seq on is kept
    oldest_at: datetime | None  # the picture is exact from this time on (None: always)


async def prune(
    sessions: async_sessionmaker[AsyncSession],
    *,
    keep: timedelta,
    now: datetime,
    keep_unevaluated: bool,
    actor: str = ACTOR,
    batch: int = BATCH,
) -> Pruned | None:
    """Prune the changes older than `now - keep`; None when another instance is pruning."""
    cutoff = now - keep
    async with transaction(sessions) as session:
        db = await driver(session)
        locked, old_seq, old_at, new_seq = await db.fetchrow(
            changes.PRUNE_PLAN, PRUNE_LOCK, cutoff, keep_unevaluated
        )
        if not locked:
            return None
        oldest, oldest_at, moved = old_seq, old_at, False
        # Changes from the old horizon on are all kept, so the one before the new one exists.
        if (
            new_seq > old_seq
            and (at := await db.fetchval(changes.PRUNE_TIME_OF, new_seq - 1)) is not None
        ):
            oldest, oldest_at, moved = new_seq, at, True
            await db.execute(changes.PRUNE_MOVE_HORIZON, oldest, oldest_at)
    # A run cut short (a restart) left some behind: each run goes through all before the
    # horizon, which past the first run are mostly the base states.
    deleted = batches = 0
    after = 0
    while oldest > 1:
        async with transaction(sessions) as session:
            db = await driver(session)
            if not await db.fetchval(_LOCK, PRUNE_LOCK):
                break
            last, count = await db.fetchrow(changes.PRUNE_BATCH, after, oldest, batch)
        if last is None:
            break
        after, deleted, batches = last, deleted + count, batches + 1
    result = Pruned(deleted, batches, oldest, oldest_at)
    if moved or deleted:
        async with transaction(sessions) as session:
            await audit.record(
                session,
                audit.AuditKind.feed_pruned,
                actor=actor,
                detail={
                    "deleted": deleted,
                    "batches": batches,
                    "oldest": oldest,
                    "oldest_at": oldest_at.isoformat() if oldest_at else None,
                    "retention_days": keep / timedelta(days=1),
                },
            )
        log.info(
            "feed: pruned %d changes in %d batches; kept from seq %d (%s)",
            deleted,
            batches,
            oldest,
            oldest_at,
        )
    return result


class FeedPruner:
    """Prunes the feed every `interval_seconds` (and at start), under the background loop's
    error policy."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        keep: timedelta,
        interval_seconds: float,
        batch: int,
        keep_unevaluated: bool,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._keep = keep
        self._batch = batch
        self._keep_unevaluated = keep_unevaluated
        self._clock = clock
        self.loop = Loop("feed-prune", self._step, poll_seconds=interval_seconds)

    async def _step(self) -> None:
        await prune(
            self._sessions,
            keep=self._keep,
            now=self._clock(),
            keep_unevaluated=self._keep_unevaluated,
            batch=self._batch,
        )
