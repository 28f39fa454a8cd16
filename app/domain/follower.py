"""A durable consumer of the change feed: the shape the procedures' starter and the conflict
watcher share.

It reads the changes after a cursor of its own (app.domain.changes), hands them to `handle`, and
moves the cursor, in ONE transaction: a crash before the commit leaves nothing and the batch is
read again; after it, never again. With several instances an advisory lock lets one read while
the others skip. A batch that fails is read again one change at a time up to where it failed,
so that the change at fault, and only it, is set aside as a dead letter after a few attempts
(app.background) while the others go on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.background import ItemFailed, Loop, record_dead_letter
from app.clock import Clock
from app.db import driver
from app.domain import changes as feed
from app.errors import database_unreachable

BATCH = 200
# At most one step this often: under a stream of writes the changes that arrive meanwhile are
# handled together in one transaction instead of one each, which leaves the event loop and the
# database to the live fan-out (docs/performance.md). After a quiet spell a change is handled
# at once.
MIN_INTERVAL_SECONDS = 0.2


class FeedFollower:
    """Subclasses say what to do with a batch of change rows (`handle`, returning how many
    things it did: `done` counts them, for tests and health)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        poll_seconds: float,
        *,
        name: str,
        lock: int,
        cursor: str,
        entities: list[str],
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._lock = lock
        self._cursor = cursor
        self._entities = entities  # empty: every change
        self.loop = Loop(
            name,
            self._step,
            poll_seconds=poll_seconds,
            min_interval=MIN_INTERVAL_SECONDS,
            set_aside=self._set_aside,
        )
        self.wake = self.loop.wake
        self.done = 0
        # Up to this seq, changes are read one at a time: a batch failed among them.
        self._isolate_until = 0

    async def handle(self, session: AsyncSession, rows: list[Any]) -> int:
        raise NotImplementedError

    async def _step(self) -> float | None:
        return 0.0 if await self.step() else None

    async def step(self) -> bool:
        """Handle one batch; True when a full batch was read (more may wait)."""
        async with self._sessions() as session, session.begin():
            db = await driver(session)
            cursor = await feed.locked_cursor(db, self._lock, self._cursor)
            if cursor is None:
                return False  # another instance is reading
            limit = 1 if cursor < self._isolate_until else BATCH
            rows = await feed.follower_batch(db, cursor, limit, list(self._entities))
            if not rows:
                return False
            try:
                done = await self.handle(session, rows)
            except Exception as error:
                if database_unreachable(error):
                    raise
                if len(rows) == 1:
                    raise ItemFailed(f"change {rows[0]['seq']}", rows[0]["seq"], error) from error
                self._isolate_until = rows[-1]["seq"]
                raise
            await feed.advance_cursor(db, self._cursor, rows[-1]["seq"])
        self.done += done
        return len(rows) == limit

    async def _set_aside(self, seq: int, error: BaseException, attempts: int) -> bool:
        """Record the change as a dead letter and move the cursor past it, if the cursor still
        stands just before it."""
        async with self._sessions() as session, session.begin():
            db = await driver(session)
            cursor = await feed.locked_cursor(db, self._lock, self._cursor)
            if cursor is None or cursor != seq - 1:
                return False
            await record_dead_letter(
                session, self.loop.name, f"change {seq}", error, attempts, self._clock()
            )
            await feed.advance_cursor(db, self._cursor, seq)
        return True
