"""The change-feed listener: one per app instance, it feeds the hub every record in order.

A NOTIFY only says "read the feed": the records are always read from the `changes` table after
the last seq published, so a lost or coalesced notification, a dropped LISTEN connection or
a write through another instance costs latency at worst, never a record. A periodic poll
catches anything a missing wake-up would leave behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.service import PRINCIPALS_CHANNEL
from app.domain.changes import NOTIFY_CHANNEL, head
from app.realtime.feed import PAGE, read_after
from app.realtime.hub import Hub
from app.realtime.protocol import CloseCode
from app.realtime.retry import backoff
from app.settings import Settings, plain_url

log = logging.getLogger(__name__)

APPLICATION_NAME = "sitcen-listener"
CONNECT_TIMEOUT_SECONDS = 10.0
HEALTH_TIMEOUT_SECONDS = 5.0
# A big backlog (after an outage) is handed to the hub in slices, letting the client senders
# run in between, so that a burst does not fill every outbox at once.
PUBLISH_SLICE = 100
DB_ERRORS = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    DBAPIError,
    OperationalError,
)


@dataclass
class ListenerStatus:
    listening: bool
    reconnects: int
    reads: int


async def keep_listening(
    dsn: str,
    application_name: str,
    listen: Callable[[asyncpg.Connection], Awaitable[None]],
    label: str,
    on_lost: Callable[[], None],
) -> None:
    """Keep one LISTEN connection for ever: connect, run `listen` until the connection is lost,
    call `on_lost`, reconnect with back-off. A database restart or a killed backend is survived;
    `listen` catches up on whatever was written meanwhile."""
    delays = backoff()
    while True:
        try:
            connection = await asyncpg.connect(
                dsn,
                timeout=CONNECT_TIMEOUT_SECONDS,
                server_settings={"application_name": application_name},
            )
        except DB_ERRORS as e:
            log.warning("%s: cannot LISTEN (%s); retrying", label, e)
            await asyncio.sleep(next(delays))
            continue
        try:
            await listen(connection)
            delays = backoff()
        except DB_ERRORS as e:
            log.warning("%s: LISTEN connection failed (%s)", label, e)
        except Exception:
            log.exception("%s: LISTEN failed", label)
        finally:
            on_lost()
            connection.terminate()
        await asyncio.sleep(next(delays))


class FeedListener:
    def __init__(
        self, settings: Settings, sessions: async_sessionmaker[AsyncSession], hub: Hub
    ) -> None:
        self._dsn = plain_url(settings.database_url or "")
        self._poll_seconds = settings.feed_poll_seconds
        self._sessions = sessions
        self._hub = hub
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = False
        self.reconnects = 0
        self.reads = 0

    async def start(self) -> None:
        """Start at the current head: clients replay older records from the database."""
        async with self._sessions() as session:
            self._hub.head = await head(session)
        self._tasks = [
            asyncio.create_task(self._keep_listening(), name="feed-listen"),
            asyncio.create_task(self._read_loop(), name="feed-read"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def status(self) -> ListenerStatus:
        return ListenerStatus(self.listening, self.reconnects, self.reads)

    async def _keep_listening(self) -> None:
        await keep_listening(self._dsn, APPLICATION_NAME, self._listen, "change feed", self._lost)

    def _lost(self) -> None:
        self.listening = False
        self.reconnects += 1
        log.warning("change feed: LISTEN connection lost; reconnecting")

    def _principal_changed(self, _c: object, _pid: int, _channel: str, username: str) -> None:
        """A user was disabled or changed role: their sockets must log in again."""
        self._hub.end_where(
            lambda p: p.kind == "user" and p.name == username,
            CloseCode.UNAUTHENTICATED,
            "account changed: log in again",
        )

    async def _listen(self, connection: asyncpg.Connection) -> None:
        """Listen until the connection is lost or stops answering."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        await connection.add_listener(NOTIFY_CHANNEL, self._notified)
        await connection.add_listener(PRINCIPALS_CHANNEL, self._principal_changed)
        self.listening = True
        # Whatever was written while nobody listened is read now.
        self._wake.set()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), self._poll_seconds)
                return
            # A connection cut without a FIN (a dead peer, a firewall) is only noticed by asking.
            await asyncio.wait_for(connection.execute("SELECT 1"), HEALTH_TIMEOUT_SECONDS)

    def _notified(self, *_: Any) -> None:
        self._wake.set()

    async def _read_loop(self) -> None:
        delays = backoff()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            # Cleared before reading: a NOTIFY arriving during the read triggers one more.
            self._wake.clear()
            try:
                await self._catch_up()
            except DB_ERRORS as e:
                log.warning("change feed: read failed (%s); retrying", e)
            except Exception:
                # A bug must not silence the live picture for good: say so loudly, keep trying.
                log.exception("change feed: read failed; retrying")
            else:
                delays = backoff()
                continue
            await asyncio.sleep(next(delays))
            self._wake.set()

    async def _catch_up(self) -> None:
        while True:
            async with self._sessions() as session:
                items = await read_after(session, self._hub.head, PAGE)
            self.reads += 1
            for start in range(0, len(items), PUBLISH_SLICE):
                self._hub.publish(items[start : start + PUBLISH_SLICE])
                await asyncio.sleep(0)
            if len(items) < PAGE:
                return
