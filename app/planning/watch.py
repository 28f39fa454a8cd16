"""The conflict watcher: a durable consumer of the change feed that flags a conflict as soon as
a change creates it.

It reads the changes after its cursor (`conflicts`, app.domain.changes); for every planned
event, demonstration or zone created, changed or deleted, it brings the records of that object's
conflicts in line with the picture (app.domain.conflict.reconcile: opened, re-opened, resolved),
and moves its cursor, in ONE transaction, as the procedures' starter does. Each record it writes
is a `conflict` change in the feed: the planning desk's dashboard sees it live on /ws, and the
alert evaluator raises it to the partners whose subscriptions name conflicts and who see both
objects. With several instances an advisory lock lets one read while the others skip; a change
it fails on is set aside as a dead letter after a few attempts.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.clock import Clock
from app.domain import changes as feed
from app.domain import conflict
from app.domain.actor import Actor
from app.domain.follower import FeedFollower

log = logging.getLogger(__name__)

# pg_try_advisory_xact_lock key: "cnflct" in ASCII, recognisable in pg_locks.
LOCK = 0x636E666C6374
ACTOR = Actor("system:deconfliction", "system")
WATCHED = [e.value for e in conflict.ENTITIES]


class ConflictWatcher(FeedFollower):
    """The worker: woken with the feed listener (every NOTIFY of the feed), polling as a safety
    net. `done` counts the records it wrote (tests, health)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, poll_seconds: float
    ) -> None:
        # Every change is read (and passed over unless it is of a watched kind).
        super().__init__(
            sessions,
            clock,
            poll_seconds,
            name="conflicts-watch",
            lock=LOCK,
            cursor=feed.CONFLICTS_CURSOR,
            entities=[],
        )

    async def handle(self, session: AsyncSession, rows: list[Any]) -> int:
        # Each object once per batch, as it stands now: its later changes in the batch are
        # already in the row the join reads.
        changed = list(dict.fromkeys(r["entity_id"] for r in rows if r["entity"] in WATCHED))
        written = 0
        for object_id in changed:
            written += await conflict.reconcile(session, object_id, ACTOR)
        if written:
            log.info("conflicts: %d record(s) written for %d object(s)", written, len(changed))
        return written
