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
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.keycache import KeyCache
from app.auth.service import PRINCIPALS_CHANNEL
from app.background import Loop
from app.domain.changes import NOTIFY_CHANNEL, head
from app.realtime.feed import PAGE, FeedItem, read_after
from app.realtime.hub import Hub
from app.realtime.protocol import CloseCode
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


class ConnectionLost(ConnectionError):
    """The LISTEN connection was cut (a database restart, a killed backend)."""


Notified = Callable[[asyncpg.Connection, int, str, str], None]


class Listening:
    """One LISTEN connection, made when a step first needs it and made again after it is lost.

    The loop that uses it (app.background.Loop) owns the back-off and the error policy: a step
    that finds the connection lost, or whose work on it fails on a database error, drops it
    (calling `on_lost`) and raises; the loop backs off, and its next step connects again and
    catches up on whatever was written meanwhile. Cancelling the loop is not a lost
    connection: `close()` ends it."""

    def __init__(
        self,
        dsn: str,
        application_name: str,
        channels: Mapping[str, Notified],
        wake: Callable[[], None],
        on_lost: Callable[[], None],
    ) -> None:
        self._dsn = dsn
        self._application_name = application_name
        self._channels = channels
        self._wake = wake
        self._on_lost = on_lost
        self._connection: asyncpg.Connection | None = None
        self._lost = False

    @contextlib.asynccontextmanager
    async def use(self) -> AsyncIterator[tuple[asyncpg.Connection, bool]]:
        """The connection, and whether it was just made (what was written while nobody
        listened must be picked up now)."""
        if self._connection is not None and self._lost:
            self._drop()
            raise ConnectionLost("LISTEN connection lost")
        fresh = self._connection is None
        if self._connection is None:
            self._connection = await self._connect()
        try:
            yield self._connection, fresh
        except DB_ERRORS:
            # A read that failed or hung: the connection cannot be trusted any more. Another
            # error (a bug of ours) leaves it as it is.
            self._drop()
            raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.terminate()
            self._connection = None

    async def _connect(self) -> asyncpg.Connection:
        connection = await asyncpg.connect(
            self._dsn,
            timeout=CONNECT_TIMEOUT_SECONDS,
            server_settings={"application_name": self._application_name},
        )
        self._lost = False

        def terminated(_: object) -> None:
            self._lost = True
            self._wake()  # whatever the loop waits for, it must see the loss now

        try:
            connection.add_termination_listener(terminated)
            for channel, callback in self._channels.items():
                await connection.add_listener(channel, callback)
        except BaseException:
            connection.terminate()
            raise
        return connection

    def _drop(self) -> None:
        self.close()
        self._on_lost()


class FeedListener:
    """LISTENs for the feed's NOTIFY and reads the new records on that same connection: one
    round trip per wake-up, no pool checkout, so a write reaches the hub with as little delay
    as the event loop allows. It reads after each wake-up and at least every poll period (a
    NOTIFY may be lost, and a connection cut without a FIN is only noticed by using it). A
    read that fails or hangs ends the connection; the next step connects again and catches up
    from the last seq published."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        hub: Hub,
        key_cache: KeyCache,
    ) -> None:
        self._sessions = sessions
        self._hub = hub
        self._key_cache = key_cache
        self.loop = Loop("feed-listen", self._step, poll_seconds=settings.feed_poll_seconds)
        self._listening = Listening(
            plain_url(settings.database_url or ""),
            APPLICATION_NAME,
            {NOTIFY_CHANNEL: self._notified, PRINCIPALS_CHANNEL: self._principal_changed},
            self.loop.wake.set,
            self._lost,
        )
        self.listening = False
        self.reconnects = 0
        self.reads = 0
        # Other consumers of the feed in this instance (the starter of standard procedures,
        # the conflict watcher): one LISTEN connection serves them all. They are woken once
        # the hub has the new records, not at the NOTIFY: the fan-out's read and its sends
        # go ahead of their transactions on the event loop and in the database.
        self.followers: list[asyncio.Event] = []
        self._heard = False  # a NOTIFY came since the followers were last woken
        # Told each slice of records once the hub has it and the senders have written it
        # (the vector tiles' cache).
        self.observers: list[Callable[[list[FeedItem]], None]] = []

    async def start(self) -> None:
        """Start at the current head: clients replay older records from the database."""
        async with self._sessions() as session:
            self._hub.head = await head(session)
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
        self._listening.close()

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

    def _notified(self, *_: Any) -> None:
        self._heard = True
        self.loop.wake.set()

    async def _step(self) -> None:
        published = 0
        try:
            async with self._listening.use() as (connection, fresh):
                if fresh:
                    self._key_cache.clear()  # what was revoked while nobody listened
                    self.listening = True
                published = await self._catch_up(connection)
        finally:
            # After the hub, even when the read failed: a follower reads the feed itself, and
            # its own poll is the safety net should this wake-up be missed.
            if published or self._heard:
                self._heard = False
                for follower in self.followers:
                    follower.set()

    async def _catch_up(self, connection: asyncpg.Connection) -> int:
        """Hand the hub every record after its head; how many there were."""
        published = 0
        while True:
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                items = await read_after(connection, self._hub.head, PAGE)
            self.reads += 1
            published += len(items)
            for start in range(0, len(items), PUBLISH_SLICE):
                chunk = items[start : start + PUBLISH_SLICE]
                self._hub.publish(chunk)
                # The clients' senders, woken by the publish, write before the observers run
                # (no socket is read in between: a client that has the change cannot ask for
                # a tile before the cache has heard of it).
                await asyncio.sleep(0)
                for observe in self.observers:
                    observe(chunk)
            if len(items) < PAGE:
                return published
