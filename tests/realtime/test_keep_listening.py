"""keep_listening: a lost LISTEN connection is reported and re-made; shutting down is neither."""

from __future__ import annotations

import asyncio

import asyncpg

from app.realtime.listener import keep_listening
from app.settings import Settings, plain_url


async def test_a_lost_connection_is_reported_and_made_again(settings: Settings) -> None:
    dsn = plain_url(settings.database_url or "")
    backends: list[int] = []
    lost: list[int] = []
    second = asyncio.Event()

    async def listen(connection: asyncpg.Connection) -> None:
        backends.append(connection.get_server_pid())
        if len(backends) == 1:
            raise asyncpg.ConnectionDoesNotExistError("gone")
        second.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(
        keep_listening(dsn, "sitcen-test", listen, "test", lambda: lost.append(1))
    )
    await asyncio.wait_for(second.wait(), 10)
    assert lost == [1] and len(set(backends)) == 2
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert lost == [1], "cancelling the listener is not a lost connection"


async def test_shutting_down_is_not_a_lost_connection(settings: Settings) -> None:
    dsn = plain_url(settings.database_url or "")
    lost: list[int] = []
    listening = asyncio.Event()
    connections: list[asyncpg.Connection] = []

    async def listen(connection: asyncpg.Connection) -> None:
        connections.append(connection)
        listening.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(
        keep_listening(dsn, "sitcen-test", listen, "test", lambda: lost.append(1))
    )
    await asyncio.wait_for(listening.wait(), 10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    assert lost == []
    assert connections[0].is_closed(), "the connection is still closed on the way out"
