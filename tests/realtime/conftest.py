"""Realtime test helpers: a /ws client that answers pings and collects changes, and writers
that go through the HTTP API like any client."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.domain.changes import head
from tests.conftest import PASSWORD, TIMEOUT, Server, incident, start_server, stop_server

_titles = itertools.count()


_tokens: dict[str, tuple[str, float]] = {}
TOKEN_REUSE_SECONDS = 5 * 60  # well within the 15 min an access token lives


async def token_for(server: Server, who: str) -> str:
    """A recent access token (every instance accepts it: they share the secret). The session's
    tokens may have expired in a long run, and logging in costs a password hash."""
    cached = _tokens.get(who)
    if cached and time.monotonic() - cached[1] < TOKEN_REUSE_SECONDS:
        return cached[0]
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
        r = await c.post("/api/auth/token", data={"username": who, "password": PASSWORD})
        r.raise_for_status()
    _tokens[who] = (str(r.json()["access_token"]), time.monotonic())
    return _tokens[who][0]


def lines(frame: str | bytes) -> list[dict[str, Any]]:
    """The messages of one frame: one JSON object per line (split on \\n only: U+2028 and
    friends may appear raw inside JSON strings)."""
    assert isinstance(frame, str), "the server sends text frames"
    return [orjson.loads(line) for line in frame.split("\n")]


class Feed:
    """A client of /ws: says hello, answers the server's pings, keeps what it receives."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.changes: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._pending: deque[dict[str, Any]] = deque()
        self.closed: ConnectionClosed | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        token: str,
        since: int | None = None,
        filter: dict[str, Any] | None = None,
        **connect_args: Any,
    ) -> Feed:
        ws = await connect(url, compression=None, proxy=None, open_timeout=TIMEOUT, **connect_args)
        feed = cls(ws)
        await feed.send({"type": "hello", "token": token, "since": since, "filter": filter or {}})
        return feed

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else orjson.dumps(message).decode())

    async def next(self) -> dict[str, Any]:
        """The next message other than a ping (pings are answered)."""
        async with asyncio.timeout(TIMEOUT):
            return await self._next()

    async def _next(self) -> dict[str, Any]:
        while True:
            while not self._pending:
                self._pending.extend(lines(await self.ws.recv()))
            message = self._pending.popleft()
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            self._keep(message)
            return message

    def _keep(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if message["type"] == "change":
            self.changes.append(message)
        self._arrived.set()

    def read_in_background(self) -> None:
        async def read() -> None:
            try:
                while True:
                    await self._next()
            except ConnectionClosed as e:
                self.closed = e
                self._arrived.set()

        self._reader = asyncio.create_task(read())

    async def wait_for(self, predicate: Callable[[Feed], bool]) -> None:
        """Wait until what arrived satisfies `predicate` (reading in the background)."""
        async with asyncio.timeout(TIMEOUT):
            while not predicate(self):
                if self.closed is not None:
                    raise AssertionError(f"connection closed: {self.closed}")
                self._arrived.clear()
                await self._arrived.wait()

    async def until_seq(self, seq: int) -> None:
        """Read until a change with this seq (or a later one) has arrived."""
        async with asyncio.timeout(TIMEOUT):
            while not self.changes or self.changes[-1]["seq"] < seq:
                await self._next()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self.ws.close()

    def seqs(self) -> list[int]:
        return [c["seq"] for c in self.changes]


async def open_feed(server: Server, who: str = "op", **hello: Any) -> Feed:
    """A connected client past its welcome."""
    feed = await Feed.open(server.ws_url, await token_for(server, who), **hello)
    welcome = await feed.next()
    assert welcome["type"] == "welcome", welcome
    return feed


async def close_of(feed: Feed) -> tuple[int | None, str | None]:
    """Read (without answering pings) until the server closes; its close code and reason."""
    try:
        async with asyncio.timeout(TIMEOUT):
            while True:
                for message in lines(await feed.ws.recv()):
                    feed._keep(message)
    except ConnectionClosed as e:
        return (e.rcvd.code, e.rcvd.reason) if e.rcvd else (None, None)


async def write(client: httpx.AsyncClient, **props: Any) -> dict[str, Any]:
    point = props.pop("point", None)
    title = props.pop("title", f"realtime test {next(_titles)}")
    r = await client.post("/api/incidents", json=incident(title, point=point, **props))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def write_zone(
    client: httpx.AsyncClient,
    title: str = "zone",
    kind: str = "drone_ban",
    centre: tuple[float, float] = (4.352, 50.846),
    d: float = 0.001,
) -> str:
    """A square zone; its id."""
    x, y = centre
    ring = [[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]
    body = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"title": title, "kind": kind},
    }
    r = await client.post("/api/zones", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def write_many(server: Server, count: int, writers: int = 4, **props: Any) -> None:
    """`count` incident creations from `writers` concurrent HTTP clients."""
    token = await token_for(server, "op")
    todo = iter(range(count))

    async def writer() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as c:
            for _ in todo:
                await write(c, **props)

    await asyncio.gather(*(writer() for _ in range(writers)))


async def feed_head(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await head(session)


async def metrics(server: Server) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {await token_for(server, 'adm')}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as c:
        r = await c.get("/api/realtime/metrics")
        r.raise_for_status()
        return dict(r.json())


@pytest.fixture
async def extra_servers(settings: Any, server: Server) -> AsyncIterator[Callable[..., Any]]:
    """Starts more instances against the same database; stopped after the test."""
    started: list[Server] = []

    async def start(name: str, **env: str) -> Server:
        srv = await asyncio.to_thread(start_server, settings, None, env, name)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        await asyncio.to_thread(stop_server, srv)
