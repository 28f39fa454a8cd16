"""A graceful shutdown, with a real `sitcen serve` process: on SIGTERM the instance stops
accepting, tells its WebSocket clients to reconnect elsewhere (1012), answers the requests in
flight, and exits; past SITCEN_SHUTDOWN_TIMEOUT_SECONDS what still runs is cancelled and it
exits all the same."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.realtime.protocol import CloseCode
from tests.conftest import TIMEOUT, Server, auth, eventually, incident
from tests.realtime.conftest import close_of, open_feed

# How long the test waits for a process to exit: generous for a loaded machine, never a
# measure of speed.
EXIT_WAIT = 90.0


@asynccontextmanager
async def writes_held(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[Callable[[], Any]]:
    """Every write's commit waits while this holds the feed counter's row (each commit numbers
    its changes there, app.domain.changes): a request that writes stays in flight, observably.
    Yields a function that lets them go."""
    async with sessions() as session:
        await session.execute(text("SELECT seq FROM feed_counter WHERE id = 1 FOR UPDATE"))
        released = False

        async def release() -> None:
            nonlocal released
            if not released:
                released = True
                await session.rollback()

        try:
            yield release
        finally:
            await release()


async def waiting_on_the_counter(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()"
                )
            )
            or 0
        )


async def exit_code(process: subprocess.Popen[bytes]) -> int:
    return await asyncio.to_thread(process.wait, EXIT_WAIT)


# uvicorn raises the signal it caught again once it has shut down: the exit status says what
# stopped the process, as a shell or Docker expects (143).
STOPPED_BY_SIGTERM = -signal.SIGTERM


async def test_sigterm_sends_websockets_elsewhere_answers_requests_in_flight_and_exits(
    extra_servers: Callable[..., Any],
    server: Server,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    instance: Server = await extra_servers("shutdown", SITCEN_SHUTDOWN_TIMEOUT_SECONDS="120")
    instance.tokens = server.tokens
    feeds = [await open_feed(instance) for _ in range(3)]
    async with (
        httpx.AsyncClient(base_url=instance.url, headers=auth(server, "op"), timeout=120) as c,
        writes_held(sessions) as release,
    ):
        posting = asyncio.create_task(c.post("/api/incidents", json=incident("In flight")))
        await eventually(
            lambda: waiting_on_the_counter(sessions), "the write to be in flight", TIMEOUT * 3
        )
        instance.process.send_signal(signal.SIGTERM)
        closes = await asyncio.gather(*(close_of(feed) for feed in feeds))
        assert closes == [
            (CloseCode.SERVER_RESTART, "server restart, reconnect elsewhere with since")
        ] * len(feeds)
        # Stopped accepting: a new connection is refused, while the request in flight waits.
        async with httpx.AsyncClient(base_url=instance.url, timeout=10) as fresh:
            try:
                refused = await fresh.get("/api/health")
            except httpx.ConnectError:
                refused = None
        assert refused is None, f"a new request was answered during the shutdown: {refused}"
        assert not posting.done() and instance.process.poll() is None
        await release()
        answered = await posting
        assert answered.status_code == 201, answered.text
        assert answered.headers.get("connection") == "close"
    assert await exit_code(instance.process) == STOPPED_BY_SIGTERM
    async with httpx.AsyncClient(base_url=server.url, headers=auth(server, "op"), timeout=30) as c:
        kept = await c.get(f"/api/incidents/{answered.json()['id']}")
        assert kept.status_code == 200, "the answered write is saved"


async def test_past_the_deadline_what_still_runs_is_cancelled_and_the_instance_exits(
    extra_servers: Callable[..., Any],
    server: Server,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    instance: Server = await extra_servers("shutdown-deadline", SITCEN_SHUTDOWN_TIMEOUT_SECONDS="2")
    async with (
        httpx.AsyncClient(base_url=instance.url, headers=auth(server, "op"), timeout=120) as c,
        writes_held(sessions),
    ):
        title = "Cut off by the deadline"
        posting = asyncio.create_task(c.post("/api/incidents", json=incident(title)))
        await eventually(
            lambda: waiting_on_the_counter(sessions), "the write to be in flight", TIMEOUT * 3
        )
        instance.process.send_signal(signal.SIGTERM)
        # The write stays blocked: the instance exits anyway, its request cancelled (whether
        # the database still commits it is the client's "may or may not": it retries with the
        # same Idempotency-Key, docs/problems.md).
        assert await exit_code(instance.process) == STOPPED_BY_SIGTERM
        try:
            outcome: Any = (await posting).status_code
        except httpx.HTTPError as e:
            outcome = type(e).__name__
        assert outcome != 201, "a request cut off cannot have been answered as done"
    assert "timeout graceful shutdown exceeded" in instance.log.read_text(errors="replace")
