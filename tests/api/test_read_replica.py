"""SITCEN_READ_DATABASE_URL: the OGC API Features items and the exports are read on the read
database, everything else on the primary (docs/deploy.md, "Reads from a replica").

The "replica" is a copy of the test database taken at one moment (`sitcen backup`, then
`sitcen restore` into a new database): what is written after it is on the primary only, and
what is changed on the copy alone shows which database a read came from."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app import backup, localdb
from app.db import make_engine, make_sessionmaker
from app.settings import Settings, plain_url
from tests.conftest import Server, auth, incident, start_server, stop_server

ITEMS = "/api/features/collections/incidents/items"


def _base(url: str) -> str:
    return plain_url(url).rsplit("/", 1)[0]


@pytest.fixture(scope="module")
async def made(server: Server) -> dict[str, Any]:
    """Incidents on the primary before the copy: one internal, one shared with partners."""
    tag = f"replica-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=server.url, headers=auth(server, "op"), timeout=120) as c:
        internal = await c.post("/api/incidents", json=incident(f"{tag} internal"))
        shared = await c.post("/api/incidents", json=incident(f"{tag} shared", visibility="shared"))
    assert internal.status_code == 201 and shared.status_code == 201, internal.text
    return {"tag": tag, "internal": internal.json(), "shared": shared.json()}


@pytest.fixture(scope="module")
async def replica_url(
    settings: Settings, made: dict[str, Any], tmp_path_factory: Any
) -> AsyncIterator[str]:
    """A copy of the test database as it stood once `made` was written."""
    assert settings.database_url
    path: Path = tmp_path_factory.mktemp("replica") / "sitcen.backup"
    name = f"sitcen_replica_{os.getpid()}"
    base = _base(settings.database_url)
    # backup/restore run their own event loops: in a thread, off this one.
    await asyncio.to_thread(backup.backup, settings.database_url, path)
    url = await asyncio.to_thread(localdb.ensure_database, base, name)
    await asyncio.to_thread(backup.restore, url, path)
    yield url
    await asyncio.to_thread(localdb.drop_database, base, name)


@pytest.fixture(scope="module")
def replicated(settings: Settings, server: Server, replica_url: str) -> Iterator[Server]:
    """An instance on the primary with the copy as its read database (the session server's
    tokens hold: same secret, same users on the primary, where sign-in is checked)."""
    srv = start_server(
        settings,
        extra_env={"SITCEN_READ_DATABASE_URL": replica_url},
        name="replicated",
    )
    srv.tokens.update(server.tokens)
    yield srv
    stop_server(srv)


def _client(server: Server, who: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, headers=auth(server, who), timeout=120)


async def test_ogc_items_and_exports_are_read_on_the_replica(
    replicated: Server, replica_url: str, made: dict[str, Any]
) -> None:
    tag, before = made["tag"], made["internal"]
    async with _client(replicated, "op") as c:
        r = await c.post("/api/incidents", json=incident(f"{tag} after the copy"))
        assert r.status_code == 201, r.text
        after = r.json()
        # The REST list and detail (operators edit from them) read the primary: the new one is
        # there, read-your-writes.
        listed = (await c.get("/api/incidents", params={"q": tag, "limit": 100})).json()
        assert after["id"] in [f["id"] for f in listed["features"]]
        assert (await c.get(f"/api/incidents/{after['id']}")).status_code == 200

        # The OGC items and the export read the copy, which never saw it.
        assert (await c.get(f"{ITEMS}/{after['id']}")).status_code == 404
        items = (await c.get(ITEMS, params={"q": tag, "limit": 100})).json()
        ids = {f["id"] for f in items["features"]}
        assert before["id"] in ids and after["id"] not in ids, ids
        export = await c.get("/api/exports/incidents", params={"q": tag, "format": "geojson"})
        assert export.status_code == 200, export.text
        exported = {f["id"] for f in json.loads(export.content)["features"]}
        assert before["id"] in exported and after["id"] not in exported, exported

        # What both hold is served by OGC from the copy: changed there alone, OGC shows it.
        conn = await asyncpg.connect(plain_url(replica_url))
        try:
            changed = await conn.execute(
                "UPDATE incidents SET title = $1 WHERE id = $2",
                f"{tag} as on the replica",
                uuid.UUID(before["id"]),
            )
        finally:
            await conn.close()
        assert changed == "UPDATE 1"
        one = (await c.get(f"{ITEMS}/{before['id']}")).json()
        assert one["properties"]["title"] == f"{tag} as on the replica"
        primary = (await c.get(f"/api/incidents/{before['id']}")).json()
        assert primary["properties"]["title"] == f"{tag} internal"


async def test_a_partner_reads_on_the_replica_only_what_is_shared_with_it(
    replicated: Server, made: dict[str, Any]
) -> None:
    tag = made["tag"]
    async with _client(replicated, "part") as partner:
        items = (await partner.get(ITEMS, params={"q": tag, "limit": 100})).json()
        assert [f["id"] for f in items["features"]] == [made["shared"]["id"]]
        hidden = await partner.get(f"{ITEMS}/{made['internal']['id']}")
        assert hidden.status_code == 404
        unknown = await partner.get(f"{ITEMS}/{uuid.uuid4()}")
        assert unknown.status_code == 404
        assert hidden.json()["type"] == unknown.json()["type"], "hidden reads as unknown"
        export = await partner.get("/api/exports/incidents", params={"q": tag})
        assert export.status_code == 200, export.text
        exported = [f["id"] for f in json.loads(export.content)["features"]]
        assert exported == [made["shared"]["id"]]


async def test_a_write_on_a_read_session_fails(replica_url: str) -> None:
    settings = Settings(read_database_url=replica_url, secret_key="x" * 48)
    engine = make_engine(settings, read_only=True)
    try:
        async with make_sessionmaker(engine)() as session:
            assert (await session.execute(text("SHOW transaction_read_only"))).scalar() == "on"
            await session.rollback()
            with pytest.raises(DBAPIError, match="read-only transaction"):
                await session.execute(
                    text("UPDATE incidents SET title = title WHERE id = :id"),
                    {"id": uuid.uuid4()},
                )
    finally:
        await engine.dispose()


async def test_not_ready_while_the_read_database_cannot_be_reached(
    settings: Settings, server: Server
) -> None:
    assert settings.database_url
    missing = f"{_base(settings.database_url)}/sitcen_no_such_replica_{uuid.uuid4().hex[:8]}"
    srv = start_server(settings, extra_env={"SITCEN_READ_DATABASE_URL": missing}, name="noread")
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=120) as anonymous:
            r = await anonymous.get("/api/ready")
        assert r.status_code == 503, r.text
        assert "read database" in r.json()["detail"]
        # The primary still serves what it serves.
        async with httpx.AsyncClient(
            base_url=srv.url, headers=auth(server, "op"), timeout=120
        ) as c:
            assert (await c.get("/api/incidents", params={"limit": 1})).status_code == 200
    finally:
        stop_server(srv)
