"""The database goes away and comes back: every request meanwhile answers 503 problem+json with
Retry-After (never a bare 500, never a hang), nothing is half-written, and the same instance
serves again, live stream included, once the database is back — without a restart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.devserver import free_port
from app.errors import PROBLEM_MEDIA_TYPE, RETRY_AFTER_SECONDS, database_unreachable
from app.settings import Settings
from tests.conftest import Server, auth, eventually, incident, start_server, stop_server
from tests.realtime.conftest import metrics, open_feed


class Relay:
    """A TCP relay between the instance and PostgreSQL that the test can cut, as a failed
    database host or a broken network would: listening stops and open connections drop."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._listening: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._listening = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self._listening is not None
        self._listening.close()
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._open |= {writer, upstream}
        await asyncio.gather(self._pipe(reader, upstream), self._pipe(upstream_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.transport.abort()
            self._open.discard(writer)


@pytest.fixture
async def relayed(settings: Settings, server: Server) -> AsyncIterator[tuple[Server, Relay]]:
    """An instance whose every database connection (pool and LISTEN) goes through a relay."""
    url = make_url(settings.database_url or "")
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    await relay.open()
    through = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    instance = await asyncio.to_thread(
        start_server,
        Settings(database_url=through, secret_key=settings.secret_key),
        None,
        # The safety-net poll is made too slow to matter: live changes after the outage can
        # only come through a LISTEN connection opened again.
        {"SITCEN_FEED_POLL_SECONDS": "600"},
        "db-outage",
    )
    instance.tokens = server.tokens
    yield instance, relay
    await asyncio.to_thread(stop_server, instance)
    await relay.cut()


def _assert_unavailable(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    problem: dict[str, Any] = response.json()
    assert problem["title"] == "Database unavailable" and problem["status"] == 503
    assert "retry" in problem["detail"]
    return problem


async def test_an_outage_answers_503_and_the_instance_recovers_by_itself(
    relayed: tuple[Server, Relay], client: httpx.AsyncClient
) -> None:
    instance, relay = relayed
    async with httpx.AsyncClient(
        base_url=instance.url, headers=auth(instance, "op"), timeout=30
    ) as c:
        assert (await c.get("/api/health")).status_code == 200
        before = (await c.get("/api/changes", params={"limit": 1})).json()["head"]
        retried = {"Idempotency-Key": f"outage-{uuid.uuid4()}"}
        feature = incident("Created after the outage")

        await relay.cut()
        _assert_unavailable(await c.get("/api/health"))
        _assert_unavailable(await c.get("/api/incidents", params={"limit": 5}))
        _assert_unavailable(await c.post("/api/incidents", json=feature, headers=retried))
        assert instance.process.poll() is None, "the instance keeps running"

        await relay.open()

        async def healthy() -> bool:
            return (await c.get("/api/health")).status_code == 200

        async def listening() -> dict[str, Any] | None:
            listener: dict[str, Any] = (await metrics(instance))["listener"]
            return listener if listener["listening"] else None

        await eventually(healthy, "the instance back with the database")
        listener = await eventually(listening, "the change feed to LISTEN again")
        assert listener["reconnects"] >= 1, "the LISTEN connection was lost and opened again"
        # The create refused during the outage was not saved: its retry creates it, once.
        first = await c.post("/api/incidents", json=feature, headers=retried)
        assert first.status_code == 201, first.text
        again = await c.post("/api/incidents", json=feature, headers=retried)
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        # Every instance sees it; a client of this one replays it, then gets a new change live.
        assert (await client.get(f"/api/incidents/{first.json()['id']}")).status_code == 200
        feed = await open_feed(instance, since=before)
        live = await c.post("/api/incidents", json=incident("Written after the outage"))
        assert live.status_code == 201
        after = (await c.get("/api/changes", params={"limit": 1})).json()["head"]
        await feed.until_seq(after)
        await feed.close()
        by_id = {ch["id"]: ch["op"] for ch in feed.changes}
        assert by_id[first.json()["id"]] == "created" and by_id[live.json()["id"]] == "created"
        assert feed.seqs() == list(range(before + 1, after + 1)), "the feed has no gap"


async def _raised(url: str, statement: str = "SELECT 1") -> BaseException:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    except Exception as e:
        return e
    finally:
        await engine.dispose()
    raise AssertionError("no error")


async def test_an_outage_is_told_from_a_wrong_statement(settings: Settings) -> None:
    """Real errors, from asyncpg and SQLAlchemy: an outage answers 503; a statement the
    database refuses is a fault of ours and stays a 500."""
    url = make_url(settings.database_url or "")
    refused = url.set(host="127.0.0.1", port=free_port())
    assert database_unreachable(await _raised(refused.render_as_string(hide_password=False)))
    good = url.render_as_string(hide_password=False)
    for wrong in ("SELECT 1/0", "SELECT 'x'::int", "SELECT * FROM no_such_table"):
        assert not database_unreachable(await _raised(good, wrong)), wrong
    assert not database_unreachable(ValueError("not a database error"))
