"""Test harness: a real PostGIS database (migrated, reference layers loaded) and a real uvicorn.

The database is the project-local cluster (app.localdb) unless SITCEN_TEST_DATABASE_BASE names
another server, e.g. postgresql://postgres@127.0.0.1:5432.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import secrets
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import devserver, localdb
from app.db import make_engine, make_sessionmaker, transaction, upgrade_database
from app.devserver import free_port
from app.settings import PROJECT_ROOT, Settings

REFERENCE_DIR = PROJECT_ROOT.parent / "shared" / "data" / "brussels"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
PASSWORD = "correct horse battery staple"
# How long a test waits for what happens in the background (a delivery, a reconnect): long
# enough for a loaded CI machine, never a speed check.
TIMEOUT = 20.0
T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T | None] | T | None], what: str, within: float = TIMEOUT
) -> T:
    """Poll `check` (a function or a coroutine function) until it returns something truthy,
    or fail after `within` seconds naming `what`."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


# The deconfliction watcher (app.planning.watch) writes `conflict` records in answer to other
# tests' events, demonstrations and zones, at its own pace: "nothing was written" is checked
# without them.
WATCHER = "system:deconfliction"


async def written_since(client: httpx.AsyncClient, seq: int) -> list[dict[str, Any]]:
    """The change records appended after `seq`, but for the feed followers' (the deconfliction
    watcher's, the standard procedures' starter's): they answer other tests' writes whenever
    they step."""
    page = (await client.get("/api/changes", params={"since": seq, "limit": 1000})).json()
    return [c for c in page["changes"] if c["by"] not in (WATCHER, "system:procedures")]


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    base = os.environ.get("SITCEN_TEST_DATABASE_BASE") or localdb.ensure_cluster(
        PROJECT_ROOT / ".local", int(os.environ.get("SITCEN_LOCAL_PG_PORT", "54329"))
    )
    name = f"sitcen_test_{os.getpid()}"
    url = localdb.ensure_database(base, name)
    upgrade_database(url)
    yield url
    localdb.drop_database(base, name)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key=secrets.token_urlsafe(48))


@pytest.fixture(scope="session")
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    from app.cli import load_reference

    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    await load_reference(factory, [str(REFERENCE_DIR)])
    yield factory
    await engine.dispose()


@dataclass
class Server:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"


def start_server(
    settings: Settings,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
    name: str = "server",
    timeout: float = 120,
    log_level: str = "warning",
) -> Server:
    """`timeout`: how long it may take to answer /api/health (a second server started while
    the machine is busy with the suite's own takes longer than the first); `log_level`: "info"
    logs every request."""
    port = port or free_port()
    env = {
        **os.environ,
        "SITCEN_DATABASE_URL": settings.database_url or "",
        "SITCEN_SECRET_KEY": settings.secret_key,
        **(extra_env or {}),
    }
    env.pop("SITCEN_LOCAL_MODE", None)
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"{name}-{port}.log"
    process = devserver.start(port, env, log, timeout=timeout, log_level=log_level)
    return Server(f"http://127.0.0.1:{port}", env, process, log)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@dataclass
class Identities:
    """Users of each role and a dispatch API key, created once for the session."""

    passwords: dict[str, str]
    keys: dict[str, str]


@pytest.fixture(scope="session")
async def identities(sessions: async_sessionmaker[AsyncSession]) -> Identities:
    from app.auth.permissions import PICTURE
    from app.auth.roles import Role
    from app.auth.service import create_api_key, create_user

    users = {
        "op": Role.operator,
        "coord": Role.coordinator,
        "off": Role.official,
        "part": Role.partner,
        "part-b": Role.partner,
        "adm": Role.admin,
    }
    # Two partner organisations, so that every route is also tried across partners.
    organisations = {"part": "pz-5339", "part-b": "pz-5340"}
    keys: dict[str, str] = {}
    async with transaction(sessions) as session:
        for name, role in users.items():
            await create_user(
                session,
                name,
                PASSWORD,
                role,
                actor="tests",
                organisation=organisations.get(name),
            )
        for name in ("dispatch-a", "dispatch-b"):
            _, keys[name] = await create_api_key(session, name, Role.dispatch, actor="tests")
        # Read-only keys: a GIS workstation's (operator) and a metrics scraper's (admin).
        for name, role in (("reader-op", Role.operator), ("reader-adm", Role.admin)):
            _, keys[name] = await create_api_key(
                session, name, role, actor="tests", entities=list(PICTURE), read_only=True
            )
    return Identities({u: PASSWORD for u in users}, keys)


@pytest.fixture(scope="session")
def server(settings: Settings, sessions: Any, identities: Identities) -> Iterator[Server]:
    # The session's tokens are taken once: they must outlive the suite (15 minutes by default,
    # which a slow machine's run passes, and every later request then answered 401).
    srv = start_server(settings, extra_env={"SITCEN_ACCESS_TOKEN_MINUTES": "720"})
    for user in identities.passwords:
        r = httpx.post(srv.url + "/api/auth/token", data={"username": user, "password": PASSWORD})
        r.raise_for_status()
        srv.tokens[user] = r.json()["access_token"]
    yield srv
    stop_server(srv)


def auth(server: Server, who: str) -> dict[str, str]:
    """Headers for a user (by name) or an API key (dispatch-a, dispatch-b)."""
    if who.startswith("dispatch"):
        return {}
    return {"Authorization": f"Bearer {server.tokens[who]}"}


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    """An operator's HTTP client."""
    async with httpx.AsyncClient(base_url=server.url, headers=auth(server, "op"), timeout=120) as c:
        yield c


@pytest.fixture
async def client_for(server: Server, identities: Identities) -> AsyncIterator[Any]:
    """A factory of HTTP clients acting as a given user or API key."""
    opened: list[httpx.AsyncClient] = []

    def make(who: str) -> httpx.AsyncClient:
        headers = (
            {"X-API-Key": identities.keys[who]} if who in identities.keys else auth(server, who)
        )
        # Generous: a PDF or an export on a loaded machine takes its time; a hang still fails.
        c = httpx.AsyncClient(base_url=server.url, headers=headers, timeout=120)
        opened.append(c)
        return c

    yield make
    for c in opened:
        await c.aclose()


GRAND_PLACE = [4.3525, 50.8467]


def incident(
    title: str = "Incendie rue Haute", *, point: list[float] | None = None, **props: Any
) -> dict[str, Any]:
    """A valid incident Feature, with overrides."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": point or GRAND_PLACE},
        "properties": {"title": title, "category": "fire", "severity": "moderate", **props},
    }
