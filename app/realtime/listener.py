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

from app.auth.keycache import KeyCache
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
READ_TIMEOUT_SECONDS = 10.0  # a read that hangs longer ends the connection
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
            connection.terminate()
        # Not reached when cancelled: shutting down is not a lost connection (no warning, no
        # reconnect count).
        on_lost()
        await asyncio.sleep(next(delays))


class FeedListener:
    """LISTENs for the feed's NOTIFY and reads the new records on that same connection: one
    round trip per wake-up, no pool checkout, so a write reaches the hub with as little delay
    as the event loop allows. A read that fails or hangs ends the connection; the next one
    catches up from the last seq published."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        hub: Hub,
        key_cache: KeyCache,
    ) -> None:
        self._dsn = plain_url(settings.database_url or "")
        self._poll_seconds = settings.feed_poll_seconds
        self._sessions = sessions
        self._hub = hub
        self._key_cache = key_cache
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.listening = False
        self.reconnects = 0
        self.reads = 0

    async def start(self) -> None:
        """Start at the current head: clients replay older records from the database."""
        async with self._sessions() as session:
            self._hub.head = await head(session)
        self._task = asyncio.create_task(
            keep_listening(self._dsn, APPLICATION_NAME, self._listen, "change feed", self._lost),
            name="feed-listen",
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def status(self) -> ListenerStatus:
        return ListenerStatus(self.listening, self.reconnects, self.reads)

    def _lost(self) -> None:
        self.listening = False
        self._key_cache.clear()  # revocations may go unheard until the next connection
        self.reconnects += 1
        log.warning("change feed: LISTEN connection lost; reconnecting")

    def _principal_changed(self, _c: object, _pid: int, _channel: str, payload: str) -> None:
        """A user was disabled or changed role, or an API key revoked (`kind:name`): their
        sockets must authenticate again, and a revoked key is no longer taken from the cache."""
        kind, _, name = payload.partition(":")
        if kind == "apikey":
            self._key_cache.forget(name)
        self._hub.end_where(
            lambda p: p.kind == kind and p.name == name,
            CloseCode.UNAUTHENTICATED,
            "account changed: log in again" if kind == "user" else "API key revoked",
        )

    async def _listen(self, connection: asyncpg.Connection) -> None:
        """Read after each wake-up, and at least every poll period (a NOTIFY may be lost, and
        a connection cut without a FIN is only noticed by using it), until the connection
        fails."""
        lost = False

        def terminated(_: object) -> None:
            nonlocal lost
            lost = True
            self._wake.set()  # whatever the loop waits for, it must see the loss now

        connection.add_termination_listener(terminated)
        await connection.add_listener(NOTIFY_CHANNEL, self._notified)
        await connection.add_listener(PRINCIPALS_CHANNEL, self._principal_changed)
        self._key_cache.clear()  # what was revoked while nobody listened
        self.listening = True
        while not lost:
            # Cleared before reading: a NOTIFY arriving during the read triggers one more.
            self._wake.clear()
            await self._catch_up(connection)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)

    def _notified(self, *_: Any) -> None:
        self._wake.set()

    async def _catch_up(self, connection: asyncpg.Connection) -> None:
        while True:
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                items = await read_after(connection, self._hub.head, PAGE)
            self.reads += 1
            for start in range(0, len(items), PUBLISH_SLICE):
                self._hub.publish(items[start : start + PUBLISH_SLICE])
                await asyncio.sleep(0)
            if len(items) < PAGE:
                return
