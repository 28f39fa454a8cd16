"""The stream obeys the same scope as REST, and follows changes to a user's account."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from app.auth.keycache import KEY_CACHE_SECONDS
from app.auth.roles import Role
from app.auth.service import create_api_key, revoke_api_key
from app.db import transaction
from tests.conftest import PASSWORD, Server
from tests.realtime.conftest import Feed, close_of, open_feed, token_for, write


async def test_partner_receives_what_is_shared_with_its_organisation_only(
    server: Server, client: httpx.AsyncClient
) -> None:
    feed = await open_feed(server, "part")  # organisation pz-5339
    other = await write(client, shared_with=["pz-5340"])
    mine = await write(client, shared_with=["pz-5339"])
    change = await feed.next()
    while change["type"] != "change":
        change = await feed.next()
    assert change["id"] == mine["id"], f"{other['id']}, shared with pz-5340 only, leaked"
    await feed.close()


async def test_disabling_a_user_closes_their_open_socket(server: Server) -> None:
    name = f"ws-{uuid.uuid4().hex[:8]}"
    admin = {"Authorization": f"Bearer {await token_for(server, 'adm')}"}
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as c:
        r = await c.post(
            "/api/users", json={"username": name, "password": PASSWORD, "role": "operator"}
        )
        assert r.status_code == 201
        login = await c.post("/api/auth/token", data={"username": name, "password": PASSWORD})
        feed = await Feed.open(server.ws_url, login.json()["access_token"])
        assert (await feed.next())["type"] == "welcome"
        assert (await c.patch(f"/api/users/{name}", json={"disabled": True})).status_code == 200
        code, reason = await close_of(feed)
    assert code == 4001 and reason and "log in again" in reason


async def test_revoking_an_api_key_closes_the_streams_opened_with_it(
    server: Server, sessions: Any
) -> None:
    name = f"wall-{uuid.uuid4().hex[:8]}"
    async with transaction(sessions) as session:
        _, key = await create_api_key(session, name, Role.operator, actor="tests")
    feed = await Feed.open(server.ws_url, key)
    assert (await feed.next())["type"] == "welcome"
    admin = {"Authorization": f"Bearer {await token_for(server, 'adm')}"}
    async with httpx.AsyncClient(base_url=server.url, headers=admin) as c:
        assert (await c.post(f"/api/apikeys/{name}/revoke")).status_code == 200
    code, reason = await close_of(feed)
    assert code == 4001 and reason and "revoked" in reason


async def test_a_key_revoked_elsewhere_is_refused_at_once_despite_the_key_cache(
    server: Server, sessions: Any
) -> None:
    """Revoked from another process (the CLI, another instance): this server only hears the
    NOTIFY, and must refuse the key well before its cached entry would have expired."""
    name = f"dispatch-{uuid.uuid4().hex[:8]}"
    async with transaction(sessions) as session:
        _, key = await create_api_key(session, name, Role.dispatch, actor="tests")
    async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}) as c:
        cached_at = time.monotonic()  # the entry is read after this, so it lives past it + TTL
        assert (await c.get("/api/incidents", params={"limit": 1})).status_code == 200
        async with transaction(sessions) as session:
            await revoke_api_key(session, name, actor="tests")
        status = 200
        while status == 200 and time.monotonic() - cached_at < KEY_CACHE_SECONDS - 1:
            status = (await c.get("/api/incidents", params={"limit": 1})).status_code
            await asyncio.sleep(0.02)
        assert status == 401, "the revoked key was still accepted from the cache"


async def test_an_unshared_object_is_removed_from_the_partners_that_had_it(
    server: Server, client: httpx.AsyncClient
) -> None:
    shared = await write(client, visibility="shared")
    feed = await open_feed(server, "part", since=None)
    r = await client.patch(
        f"/api/incidents/{shared['id']}",
        headers={"If-Match": '"1"'},
        json={"type": "Feature", "properties": {"visibility": "internal", "title": "secret now"}},
    )
    assert r.status_code == 200
    change = await feed.next()
    while change["type"] != "change":
        change = await feed.next()
    assert change["op"] == "removed" and change["id"] == shared["id"]
    assert change["feature"] is None and "secret now" not in str(change)
    await feed.close()


async def test_the_rest_feed_also_tells_a_partner_of_the_removal(
    server: Server, client: httpx.AsyncClient, client_for
) -> None:
    shared = await write(client, visibility="shared")
    since = (await client.get("/api/changes", params={"limit": 1})).json()["head"]
    await client.patch(
        f"/api/incidents/{shared['id']}",
        headers={"If-Match": '"1"'},
        json={"type": "Feature", "properties": {"visibility": "internal"}},
    )
    page = (await client_for("part").get("/api/changes", params={"since": since})).json()
    mine = [c for c in page["changes"] if c["id"] == shared["id"]]
    assert [(c["op"], c["feature"]) for c in mine] == [("removed", None)]
