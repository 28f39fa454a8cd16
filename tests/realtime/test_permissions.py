"""The stream obeys the same scope as REST, and follows changes to a user's account."""

from __future__ import annotations

import uuid

import httpx

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
