"""Background loops: the one helper every worker of an instance runs under (the feed listener,
the alert evaluator, delivery, escalation, the feed's pruning), so that no loop ends on an
exception nobody expected.

A `Loop` runs its worker's `step` at start, then on each wake-up (`loop.wake.set()`, e.g. from
a NOTIFY) and at least every `poll_seconds` (a wake-up may be lost), at most once every
`min_interval` (what arrives meanwhile joins the next step). Its error policy:

- the database cannot be reached: a warning, back off, try again (nothing is wrong with the
  work; it waits for the database);
- anything else: logged with its traceback and the loop's name, counted, back off, try again;
- a step that fails on one item says which by raising `ItemFailed`: the item is tried again,
  and after `max_attempts` failures the worker's `set_aside` takes it out of the way (records
  it as a dead letter with its error) and the loop goes on with the next.

Nothing but cancellation ends a loop. Its counters (`LoopStats`) feed `/api/metrics` and
`/api/alerts/health`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.errors import database_unreachable
from app.retry import backoff

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# An error's text as kept for health and dead letters: enough to recognise it, not a dump.
ERROR_TEXT_MAX = 1000


class ItemFailed(Exception):
    """A step failed on one item (a change, a recipient): `key` names it for the logs, the
    attempt count and the dead letter; `item` is what the worker's `set_aside` needs."""

    def __init__(self, key: str, item: Any, error: BaseException) -> None:
        super().__init__(f"{key}: {describe(error)}")
        self.key = key
        self.item = item
        self.error = error


def describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text[:ERROR_TEXT_MAX]


@dataclass
class LoopStats:
    name: str
    running: bool = False
    steps: int = 0
    unexpected: int = 0  # failed steps, not counting the database being unreachable
    unreachable: int = 0  # failed steps because the database could not be reached
    dead_letters: int = 0
    last_error: str | None = None
    last_error_at: float | None = None  # epoch seconds

    def as_dict(self) -> dict[str, Any]:
        at = self.last_error_at
        return {
            "running": self.running,
            "steps": self.steps,
            "errors": {"unexpected": self.unexpected, "database_unreachable": self.unreachable},
            "dead_letters": self.dead_letters,
            "last_error": self.last_error,
            "last_error_at": datetime.fromtimestamp(at, UTC).isoformat() if at else None,
        }


Step = Callable[[], Awaitable[float | None]]
# (item, error, attempts) -> whether it was set aside (False: another instance dealt with it).
SetAside = Callable[[Any, BaseException, int], Awaitable[bool]]


class Loop:
    """One background loop. `step` does one round of work and answers when it must run again
    at the latest: 0 at once (more is waiting), None after the poll period, or a number of
    seconds (the next retry that falls due)."""

    def __init__(
        self,
        name: str,
        step: Step,
        *,
        poll_seconds: float,
        min_interval: float = 0.0,
        set_aside: SetAside | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_cap: float = 10.0,
    ) -> None:
        self.name = name
        self.wake = asyncio.Event()
        self.stats = LoopStats(name)
        self._step = step
        self._poll = poll_seconds
        self._min_interval = min_interval
        self._set_aside = set_aside
        self._max_attempts = max_attempts
        self._backoff_cap = backoff_cap
        self._attempts: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> asyncio.Task[None]:
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name=self.name)
        return self._task

    @property
    def stopping(self) -> bool:
        """A graceful stop is under way: a step that loops over work should take no more."""
        return self._stopping

    async def stop(self, grace: float = 0.0) -> None:
        """End the loop. With a `grace` (seconds), a step under way may finish first (an alert
        being delivered is sent and recorded, not cut off halfway) and no other starts; what
        is still running after it is cancelled."""
        task = self._task
        if task is None:
            return
        if grace > 0 and not task.done():
            self._stopping = True
            self.wake.set()  # out of its wait at once
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), grace)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._task = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        delays = backoff(cap=self._backoff_cap)
        wait: float | None = 0.0
        last_start = -math.inf
        self.stats.running = True
        try:
            while not self._stopping:
                if wait != 0:
                    timeout = self._poll if wait is None else min(wait, self._poll)
                    # asyncio.timeout rather than wait_for: the loop's own task waits on the
                    # event, so a wake-up runs the step in the next turn of the event loop,
                    # without a task of its own to finish first (the live fan-out's latency).
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(timeout):
                            await self.wake.wait()
                    if self._stopping:
                        return
                    pause = last_start + self._min_interval - loop.time()
                    if pause > 0:
                        await asyncio.sleep(pause)  # what arrives meanwhile joins this step
                    last_start = loop.time()
                elif last_start == -math.inf:
                    last_start = loop.time()  # the first step, at start
                self.wake.clear()
                try:
                    wait = await self._step()
                    self.stats.steps += 1
                    delays = backoff(cap=self._backoff_cap)
                except Exception as error:
                    await self._failed(error)
                    if self._stopping:
                        return
                    with contextlib.suppress(TimeoutError):
                        # Backing off, but a stop ends the wait (it sets `wake`).
                        await asyncio.wait_for(self._stopped(), next(delays))
                    wait = 0.0
        finally:
            self.stats.running = False

    async def _stopped(self) -> None:
        while not self._stopping:
            await self.wake.wait()
            self.wake.clear()

    async def _failed(self, error: Exception) -> None:
        failed = error if isinstance(error, ItemFailed) else None
        cause = failed.error if failed else error
        where = f" on {failed.key}" if failed else ""
        self.stats.last_error = describe(cause)
        self.stats.last_error_at = time.time()
        if database_unreachable(cause):
            # Not the item's fault: no attempt counted against it.
            self.stats.unreachable += 1
            log.warning("%s: database unreachable%s (%s); retrying", self.name, where, cause)
            return
        self.stats.unexpected += 1
        if failed is None:
            log.error("%s: step failed; retrying", self.name, exc_info=cause)
            return
        attempts = self._attempts.get(failed.key, 0) + 1
        self._attempts[failed.key] = attempts
        log.error(
            "%s: failed%s (attempt %d of %d)",
            self.name,
            where,
            attempts,
            self._max_attempts,
            exc_info=cause,
        )
        if attempts < self._max_attempts or self._set_aside is None:
            return
        try:
            set_aside = await self._set_aside(failed.item, cause, attempts)
        except Exception:
            # Tried again at the next failure; the item is not lost.
            log.exception("%s: could not set %s aside", self.name, failed.key)
            return
        del self._attempts[failed.key]
        if set_aside:
            self.stats.dead_letters += 1
            log.error("%s: %s set aside after %d attempts", self.name, failed.key, attempts)


class DeadLetter(Base):
    """An item a worker could not process and set aside, with its error, so that its loop goes
    on and someone can look at it (`/api/alerts/health`, `sitcen_worker_dead_letters_total`).
    Deliveries keep their own dead letters (status `dead`): they can be sent again."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_at", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    worker: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(200))
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


async def record_dead_letter(
    session: AsyncSession,
    worker: str,
    item: str,
    error: BaseException,
    attempts: int,
    now: datetime,
) -> None:
    """In the caller's transaction, with whatever moves the item out of its worker's way."""
    await session.execute(
        insert(DeadLetter).values(
            worker=worker, item=item, error=describe(error), attempts=attempts, at=now
        )
    )


async def dead_letters(session: AsyncSession, limit: int = 20) -> dict[str, Any]:
    """How many items were set aside, and the latest of them."""
    count = await session.scalar(select(func.count()).select_from(DeadLetter))
    rows = await session.scalars(select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit))
    return {
        "count": count or 0,
        "latest": [
            {
                "id": d.id,
                "worker": d.worker,
                "item": d.item,
                "error": d.error,
                "attempts": d.attempts,
                "at": d.at.isoformat(),
            }
            for d in rows
        ],
    }
