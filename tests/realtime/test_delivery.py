"""Delivery under stress: slow and silent clients, several instances, a lost LISTEN connection."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import connect

from app.realtime.listener import APPLICATION_NAME
from app.realtime.protocol import CloseCode
from app.settings import Settings, plain_url
from tests.conftest import Server
from tests.realtime.conftest import (
    Feed,
    close_of,
    feed_head,
    metrics,
    open_feed,
    token_for,
    write,
    write_many,
)

Sessions = async_sessionmaker[AsyncSession]
NORMAL_CLIENTS = 50
BIG = "x" * 9900  # big changes fill a stuck client's buffers in fewer writes
MAX_WRITES_TO_FILL = 600
BATCH = 10


async def _stuck_client(server: Server, token: str) -> Feed:
    """A client that stops reading after its welcome: a small socket receive buffer and a
    one-frame library queue, so that the server's buffers toward it fill quickly."""
    address = urlsplit(server.url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((address.hostname, address.port))
    ws = await connect(
        server.ws_url, sock=sock, max_queue=1, compression=None, proxy=None, ping_interval=None
    )
    feed = Feed(ws)
    await feed.send({"type": "hello", "token": token, "since": None})
    assert (await feed.next())["type"] == "welcome"
    assert (await feed.next())["type"] == "live"
    return feed


@pytest.mark.slow
async def test_slow_client_is_dropped_while_the_others_keep_up(
    extra_servers: Callable[..., Any], server: Server, sessions: Sessions
) -> None:
    tight = await extra_servers("tight-queue", SITCEN_WS_QUEUE_SIZE="20")
    token = await token_for(server, "op")
    start = await feed_head(sessions)
    stuck = await _stuck_client(tight, token)
    normal = [await open_feed(tight, since=start) for _ in range(NORMAL_CLIENTS)]
    admin = httpx.AsyncClient(
        base_url=tight.url,
        timeout=30,
        headers={"Authorization": f"Bearer {await token_for(server, 'adm')}"},
    )
    writer = httpx.AsyncClient(
        base_url=tight.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    )
    # Lockstep: each batch must reach all 50 normal clients before the next is written, so a
    # stuck client that delayed the others would stall this loop into its timeout.
    for _ in range(0, MAX_WRITES_TO_FILL, BATCH):
        await asyncio.gather(*(write(writer, description=BIG) for _ in range(BATCH)))
        seq = await feed_head(sessions)
        await asyncio.gather(*(feed.until_seq(seq) for feed in normal))
        if (await admin.get("/api/realtime/metrics")).json()["dropped_slow"]:
            break
    else:
        raise AssertionError(f"the stuck client was not dropped after {MAX_WRITES_TO_FILL} writes")

    # Reading again, it gets what was queued before the cut, then the documented close.
    code, reason = await close_of(stuck)
    assert (code, reason) == (CloseCode.TOO_SLOW, "too slow, resume with since")
    assert stuck.seqs(), "what was queued before the cut is delivered"
    resumed = await open_feed(tight, since=stuck.seqs()[-1])
    end = await feed_head(sessions)
    await resumed.until_seq(end)
    assert stuck.seqs() + resumed.seqs() == list(range(start + 1, end + 1)), "it can resume"
    for feed in normal:
        assert feed.seqs() == list(range(start + 1, end + 1))
        await feed.close()
    await resumed.close()
    await admin.aclose()
    await writer.aclose()


async def test_client_that_does_not_answer_pings_is_dropped(
    extra_servers: Callable[..., Any], server: Server
) -> None:
    quick = await extra_servers("quick-ping", SITCEN_WS_PING_SECONDS="1")
    token = await token_for(server, "op")
    silent = await Feed.open(quick.ws_url, token)
    answering = await open_feed(quick)
    answering.read_in_background()
    assert await close_of(silent) == (CloseCode.NO_PONG, "no pong in time, resume with since")
    assert {m["type"] for m in silent.messages} == {"welcome", "live", "ping"}
    await answering.send({"type": "ping"})
    await answering.wait_for(lambda f: f.messages[-1] == {"type": "pong"})
    assert answering.closed is None, "a client that answers pings stays connected"
    await answering.close()


@pytest.mark.slow
async def test_two_instances_deliver_each_others_writes(
    extra_servers: Callable[..., Any], server: Server, sessions: Sessions
) -> None:
    second = await extra_servers("second-instance")
    start = await feed_head(sessions)
    first_feed = await open_feed(server, since=start)
    second_feed = await open_feed(second, since=start)
    await asyncio.gather(write_many(server, 100, writers=2), write_many(second, 100, writers=2))
    end = await feed_head(sessions)
    for feed in (first_feed, second_feed):
        await feed.until_seq(end)
        assert feed.seqs() == list(range(start + 1, end + 1))
        await feed.close()


async def _listener_backends(settings: Settings) -> set[int]:
    connection = await asyncpg.connect(plain_url(settings.database_url or ""))
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = $1",
            APPLICATION_NAME,
        )
        return {row["pid"] for row in rows}
    finally:
        await connection.close()


async def _terminate(settings: Settings, pids: set[int]) -> None:
    connection = await asyncpg.connect(plain_url(settings.database_url or ""))
    try:
        for pid in pids:
            assert await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await connection.close()


@pytest.mark.slow
async def test_listener_connection_killed_during_a_burst_loses_nothing(
    extra_servers: Callable[..., Any], settings: Settings, sessions: Sessions
) -> None:
    # The safety-net poll is made too slow to rescue delivery within the test's timeouts:
    # changes written after the kill arrive through a new LISTEN connection and its catch-up.
    instance = await extra_servers("listener-kill", SITCEN_FEED_POLL_SECONDS="600")
    start = await feed_head(sessions)
    feeds = [await open_feed(instance, since=start) for _ in range(3)]
    for feed in feeds:
        feed.read_in_background()
    burst = asyncio.create_task(write_many(instance, 300, writers=4))
    await feeds[0].wait_for(lambda f: len(f.changes) >= 50)
    killed = await _listener_backends(settings)
    assert killed, "the listener is connected under its application_name"
    await _terminate(settings, killed)
    assert not burst.done(), "the connection must be lost mid-burst"
    await burst
    end = await feed_head(sessions)
    for feed in feeds:
        await feed.wait_for(lambda f: bool(f.changes) and f.changes[-1]["seq"] >= end)
        assert feed.seqs() == list(range(start + 1, end + 1))
        await feed.close()
    assert (await metrics(instance))["listener"]["reconnects"] >= 1
    assert (await _listener_backends(settings)) - killed, "listening again on a new connection"
