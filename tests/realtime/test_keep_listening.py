"""A LISTEN connection under a background loop: a lost connection is reported and made again;
shutting down is neither."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg

from app.background import Loop
from app.realtime.listener import Listening
from app.settings import Settings, plain_url
from tests.conftest import eventually


def _listening(settings: Settings, lost: list[int], wake: Callable[[], None]) -> Listening:
    return Listening(
        plain_url(settings.database_url or ""),
        "sitcen-test",
        {"sitcen_test": lambda *_: None},
        wake,
        lambda: lost.append(1),
    )


async def test_a_lost_connection_is_reported_and_made_again(settings: Settings) -> None:
    backends: list[int] = []
    lost: list[int] = []
    second = asyncio.Event()
    listening = _listening(settings, lost, lambda: loop.wake.set())

    async def step() -> None:
        async with listening.use() as (connection, fresh):
            if fresh:
                backends.append(connection.get_server_pid())
            if len(backends) == 1:
                raise asyncpg.ConnectionDoesNotExistError("gone")
            second.set()

    loop = Loop("test-listen", step, poll_seconds=60)
    loop.start()
    await asyncio.wait_for(second.wait(), 10)
    assert lost == [1] and len(set(backends)) == 2
    assert loop.stats.unreachable == 1 and loop.stats.unexpected == 0
    await loop.stop()
    listening.close()
    assert lost == [1], "stopping the loop is not a lost connection"


async def test_a_backend_killed_from_outside_is_noticed_and_replaced(settings: Settings) -> None:
    backends: list[int] = []
    lost: list[int] = []
    listening = _listening(settings, lost, lambda: loop.wake.set())

    async def step() -> None:
        async with listening.use() as (connection, fresh):
            if fresh:
                backends.append(connection.get_server_pid())

    loop = Loop("test-listen", step, poll_seconds=60)
    loop.start()
    try:
        await eventually(lambda: backends, "the first connection")
        killer = await asyncpg.connect(plain_url(settings.database_url or ""))
        try:
            await killer.execute("SELECT pg_terminate_backend($1)", backends[0])
        finally:
            await killer.close()
        # The termination wakes the loop: no wait for the 60 s poll.
        await eventually(lambda: len(backends) == 2, "a new connection", within=10)
        assert lost == [1]
    finally:
        await loop.stop()
        listening.close()


async def test_shutting_down_is_not_a_lost_connection(settings: Settings) -> None:
    lost: list[int] = []
    connections: list[asyncpg.Connection] = []
    listening_now = asyncio.Event()
    listening = _listening(settings, lost, lambda: loop.wake.set())

    async def step() -> None:
        async with listening.use() as (connection, _):
            connections.append(connection)
            listening_now.set()
            await asyncio.Event().wait()

    loop = Loop("test-listen", step, poll_seconds=60)
    loop.start()
    await asyncio.wait_for(listening_now.wait(), 10)
    await loop.stop()
    listening.close()
    assert lost == []
    assert connections[0].is_closed(), "the connection is closed on the way out"
