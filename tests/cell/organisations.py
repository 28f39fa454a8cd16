"""Partner organisations made for one test, each with a SPOC user, through the public API: the
directory's and the plans' tests act as SITCEN and as partners of their own organisations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from tests.conftest import PASSWORD, Server


@dataclass
class Organisation:
    code: str
    spoc: httpx.AsyncClient  # a partner user of this organisation
    username: str


async def make_organisation(server: Server, opened: list[httpx.AsyncClient]) -> Organisation:
    code = f"t-{uuid.uuid4().hex[:10]}"
    username = f"spoc-{uuid.uuid4().hex[:8]}"
    admin = {"Authorization": f"Bearer {server.tokens['adm']}"}
    async with httpx.AsyncClient(base_url=server.url, headers=admin, timeout=30) as adm:
        r = await adm.post(
            "/api/organisations",
            json={"code": code, "name_fr": code, "name_nl": code, "kind": "other"},
        )
        assert r.status_code == 201, r.text
        r = await adm.post(
            "/api/users",
            json={
                "username": username,
                "password": PASSWORD,
                "role": "partner",
                "organisation": code,
                "language": "fr",
            },
        )
        assert r.status_code == 201, r.text
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as anon:
        r = await anon.post("/api/auth/token", data={"username": username, "password": PASSWORD})
        token = r.json()["access_token"]
    spoc = httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    opened.append(spoc)
    return Organisation(code, spoc, username)


async def organisations(server: Server) -> AsyncIterator[tuple[Organisation, Organisation]]:
    """Two fresh partner organisations; their directory entries are removed afterwards, so that
    no later test's reminder goes to them."""
    opened: list[httpx.AsyncClient] = []
    pair = (await make_organisation(server, opened), await make_organisation(server, opened))
    yield pair
    staff = {"Authorization": f"Bearer {server.tokens['op']}"}
    async with httpx.AsyncClient(base_url=server.url, headers=staff, timeout=30) as op:
        for org in pair:
            listed = (await op.get("/api/directory", params={"organisation": org.code})).json()
            for entry in listed["entries"]:
                await op.delete(f"/api/directory/{entry['id']}")
    for client in opened:
        await client.aclose()
