"""Identity: every endpoint but health, the public config and login needs a token or an API key."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from tests.conftest import PASSWORD, Identities, Server
from tests.routes import api_routes
from tests.samples import SAMPLES

# The probes a load balancer calls (liveness, readiness), the dashboard's config, the login.
OPEN = {
    ("GET", "/api/health"),
    ("GET", "/api/ready"),
    ("GET", "/api/config"),
    ("POST", "/api/auth/token"),
}


def test_every_route_but_health_config_and_login_requires_authentication(
    server: Server, settings
) -> None:
    refused = []
    for method, template, _ in api_routes(settings):
        if (method, template) in OPEN:
            continue
        path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), template)
        r = httpx.request(method, server.url + path, json={})
        if r.status_code != 401 or r.headers["content-type"] != "application/problem+json":
            refused.append((method, path, r.status_code))
    assert refused == []


def test_health_and_docs_answer_without_authentication(server: Server) -> None:
    assert httpx.get(server.url + "/api/health").json()["status"] == "ok"
    assert httpx.get(server.url + "/api/openapi.json").json()["info"]["title"] == "sitcen"
    docs = httpx.get(server.url + "/api/docs")
    assert docs.status_code == 200 and "/api/docs/assets/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert httpx.get(server.url + "/api/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_a_username_with_a_control_character_is_refused_not_looked_up(server: Server) -> None:
    r = httpx.post(server.url + "/api/auth/token", data={"username": "op\x00", "password": "x"})
    assert r.status_code == 422, r.text
    assert ["body", "username"] in [e["loc"] for e in r.json()["errors"]]


def test_wrong_password_is_refused(server: Server) -> None:
    r = httpx.post(
        server.url + "/api/auth/token", data={"username": "op", "password": "wrong password!"}
    )
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


def test_refresh_token_rotates_and_logout_revokes(server: Server) -> None:
    tokens = httpx.post(
        server.url + "/api/auth/token", data={"username": "op", "password": PASSWORD}
    ).json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0
    refreshed = httpx.post(
        server.url + "/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 200
    again = httpx.post(
        server.url + "/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert again.status_code == 401, "a refresh token is used once"
    new = refreshed.json()
    headers = {"Authorization": f"Bearer {new['access_token']}"}
    assert (
        httpx.post(
            server.url + "/api/auth/logout",
            data={"refresh_token": new["refresh_token"]},
            headers=headers,
        ).status_code
        == 204
    )
    after = httpx.post(
        server.url + "/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": new["refresh_token"]},
    )
    assert after.status_code == 401


@pytest.mark.parametrize("token", ["garbage", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad"])
def test_invalid_token_is_refused(server: Server, token: str) -> None:
    r = httpx.get(server.url + "/api/incidents", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_invalid_api_key_is_refused(server: Server) -> None:
    r = httpx.get(server.url + "/api/incidents", headers={"X-API-Key": "sitcen_not-a-key"})
    assert r.status_code == 401


async def test_dispatch_key_writes_incidents_attributed_to_it_and_reads_back_only_its_own(
    client_for, identities: Identities
) -> None:
    a, b = client_for("dispatch-a"), client_for("dispatch-b")
    r = await a.post("/api/incidents", json=SAMPLES["incidents"][0])
    assert r.status_code == 201
    props = r.json()["properties"]
    assert props["created_by"] == "key:dispatch-a"
    assert props["source"] == "dispatch-a"
    oid = r.json()["id"]
    assert (await a.get(f"/api/incidents/{oid}")).status_code == 200
    assert (await b.get(f"/api/incidents/{oid}")).status_code == 404
    listed_b = (await b.get("/api/incidents", params={"limit": 1000})).json()["features"]
    assert oid not in [f["id"] for f in listed_b]
    assert all(f["properties"]["created_by"] == "key:dispatch-b" for f in listed_b)
    assert (await a.post("/api/zones", json=SAMPLES["zones"][0])).status_code == 403
    assert (await a.get("/api/changes")).status_code == 403


async def test_partner_sees_only_shared_objects(client_for, client: httpx.AsyncClient) -> None:
    internal = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()
    shared_body = {
        **SAMPLES["incidents"][0],
        "properties": {**SAMPLES["incidents"][0]["properties"], "visibility": "shared"},
    }
    shared = (await client.post("/api/incidents", json=shared_body)).json()
    partner = client_for("part")
    assert (await partner.get(f"/api/incidents/{internal['id']}")).status_code == 404
    assert (await partner.get(f"/api/incidents/{shared['id']}")).status_code == 200
    ids = [
        f["id"]
        for f in (await partner.get("/api/incidents", params={"limit": 1000})).json()["features"]
    ]
    assert shared["id"] in ids and internal["id"] not in ids
    seen = [
        c["id"]
        for c in (await partner.get("/api/changes", params={"limit": 5000})).json()["changes"]
    ]
    assert shared["id"] in seen and internal["id"] not in seen
    assert (await partner.post("/api/incidents", json=SAMPLES["incidents"][0])).status_code == 403


async def test_me_and_permission_table(client: httpx.AsyncClient) -> None:
    me = (await client.get("/api/auth/me")).json()
    assert me["role"] == "operator" and "incident:create" in me["permissions"]
    table = (await client.get("/api/auth/permissions")).json()
    assert set(table) == {"operator", "coordinator", "official", "partner", "dispatch", "admin"}
    assert "incident:delete" in table["admin"] and "incident:delete" not in table["operator"]
