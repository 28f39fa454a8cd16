"""Hardened identity: lockout, expiry, revocation, key scopes, the close action, admin and audit."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from tests.conftest import PASSWORD, Server, eventually
from tests.samples import SAMPLES


def _login(server: Server, username: str, password: str, ip: str) -> httpx.Response:
    # uvicorn trusts X-Forwarded-For from 127.0.0.1: each test gets an address of its own.
    return httpx.post(
        server.url + "/api/auth/token",
        data={"username": username, "password": password},
        headers={"X-Forwarded-For": ip},
    )


def _admin(server: Server) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {server.tokens['adm']}"}
    )


def _new_user(server: Server, role: str = "operator") -> str:
    name = f"u-{uuid.uuid4().hex[:8]}"
    with _admin(server) as admin:
        assert (
            admin.post(
                "/api/users", json={"username": name, "password": PASSWORD, "role": role}
            ).status_code
            == 201
        )
    return name


def test_repeated_failures_lock_the_user_out_with_retry_after(server: Server) -> None:
    name = _new_user(server)
    for _ in range(5):
        assert _login(server, name, "wrong password!!", "198.51.100.1").status_code == 401
    locked = _login(server, name, PASSWORD, "198.51.100.2")
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert locked.headers["content-type"] == "application/problem+json"


def test_repeated_failures_from_one_address_lock_that_address(server: Server) -> None:
    # TEST-NET-3, which no other test uses: the address this test locks must not be another's.
    ip = f"203.0.113.{uuid.uuid4().int % 200 + 20}"
    for i in range(20):
        _login(server, f"nobody-{i}", "wrong password!!", ip)
    name = _new_user(server)
    assert _login(server, name, PASSWORD, ip).status_code == 429
    assert _login(server, name, PASSWORD, "198.51.100.250").status_code == 200


def test_expired_token_is_refused(server: Server, settings: Any) -> None:
    claims = {
        "sub": str(uuid.uuid4()),
        "typ": "access",
        "exp": datetime.now(UTC) - timedelta(minutes=1),
    }
    token = jwt.encode(claims, settings.secret_key, algorithm="HS256")
    r = httpx.get(server.url + "/api/incidents", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_disabled_user_is_refused_at_once_and_cannot_refresh(server: Server) -> None:
    name = _new_user(server)
    tokens = _login(server, name, PASSWORD, "198.51.100.3").json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(server.url + "/api/incidents", headers=headers).status_code == 200
    with _admin(server) as admin:
        assert admin.patch(f"/api/users/{name}", json={"disabled": True}).json()["disabled"] is True
    assert httpx.get(server.url + "/api/incidents", headers=headers).status_code == 401
    refresh = httpx.post(
        server.url + "/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refresh.status_code == 401


def test_password_reset_and_role_change_by_admin(server: Server) -> None:
    name = _new_user(server)
    with _admin(server) as admin:
        assert admin.patch(f"/api/users/{name}", json={"password": "short"}).status_code == 422
        assert (
            admin.patch(
                f"/api/users/{name}", json={"password": "a brand new passphrase"}
            ).status_code
            == 200
        )
        assert (
            admin.patch(f"/api/users/{name}", json={"role": "partner"}).status_code == 422
        )  # needs an org
        r = admin.patch(f"/api/users/{name}", json={"role": "partner", "organisation": "stib-mivb"})
        assert r.status_code == 200 and r.json()["role"] == "partner"
    assert (
        _login(server, name, "a brand new passphrase", "198.51.100.4").json()["user"]["role"]
        == "partner"
    )


@pytest.mark.parametrize("organisation", ["", "no-such-organisation"])
def test_a_user_of_an_unknown_organisation_is_refused(server: Server, organisation: str) -> None:
    with _admin(server) as admin:
        body = {
            "username": f"u-{uuid.uuid4().hex[:8]}",
            "password": "a long enough passphrase",
            "role": "operator",
            "organisation": organisation,
        }
        r = admin.post("/api/users", json=body)
        assert r.status_code == 422, r.text
        assert ["body", "organisation"] in [e["loc"] for e in r.json()["errors"]]
        users = [u["username"] for u in admin.get("/api/users").json()["users"]]
        assert body["username"] not in users


def test_a_key_expiring_in_the_past_is_refused(server: Server) -> None:
    name = f"k-{uuid.uuid4().hex[:6]}"
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    with _admin(server) as admin:
        r = admin.post("/api/apikeys", json={"name": name, "expires_at": past})
        assert r.status_code == 422, r.text
        assert ["body", "expires_at"] in [e["loc"] for e in r.json()["errors"]]
        assert name not in [k["name"] for k in admin.get("/api/apikeys").json()["apikeys"]]


async def test_expired_and_revoked_keys_are_refused(client_for: Any, server: Server) -> None:
    admin: httpx.AsyncClient = client_for("adm")
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    name = f"k-{uuid.uuid4().hex[:6]}"
    expiring = (await admin.post("/api/apikeys", json={"name": name, "expires_at": soon})).json()
    live = (await admin.post("/api/apikeys", json={"name": f"k-{uuid.uuid4().hex[:6]}"})).json()
    listed = (await admin.get("/api/apikeys")).json()["apikeys"]
    assert "key" in live and all("key" not in k for k in listed)

    async def read(key: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=server.url, headers={"X-API-Key": key}) as c:
            return await c.get("/api/incidents")

    async def expired() -> bool:
        r = await read(expiring["key"])
        return r.status_code == 401 and "expired" in r.json()["detail"]

    await eventually(expired, "the key to expire")
    assert (await read(live["key"])).status_code == 200
    assert (await admin.post(f"/api/apikeys/{live['name']}/revoke")).status_code == 200
    assert (await read(live["key"])).status_code == 401
    listed = (await admin.get("/api/apikeys")).json()["apikeys"]
    used = next(k for k in listed if k["name"] == live["name"])
    assert used["last_used_at"] is not None and used["revoked_at"] is not None


def test_key_writes_only_its_entities_and_its_source(server: Server) -> None:
    with _admin(server) as admin:
        key = admin.post(
            "/api/apikeys",
            json={
                "name": f"stib-{uuid.uuid4().hex[:6]}",
                "role": "dispatch",
                "entities": ["incident"],
                "source": "stib-ops",
            },
        ).json()["key"]
    with httpx.Client(base_url=server.url, headers={"X-API-Key": key}) as c:
        body = copy.deepcopy(SAMPLES["incidents"][0])
        r = c.post("/api/incidents", json=body)
        assert r.status_code == 201 and r.json()["properties"]["source"] == "stib-ops"
        body["properties"]["source"] = "someone-else"
        assert c.post("/api/incidents", json=body).status_code == 403


async def test_dispatch_updates_but_does_not_close(client_for) -> None:
    dispatch = client_for("dispatch-a")
    f = (await dispatch.post("/api/incidents", json=SAMPLES["incidents"][0])).json()
    ok = await dispatch.patch(
        f"/api/incidents/{f['id']}",
        headers={"If-Match": '"1"'},
        json={"type": "Feature", "properties": {"status": "confirmed"}},
    )
    assert ok.status_code == 200
    closing = await dispatch.patch(
        f"/api/incidents/{f['id']}",
        headers={"If-Match": '"2"'},
        json={"type": "Feature", "properties": {"status": "false_alarm"}},
    )
    assert closing.status_code == 403 and closing.json()["action"] == "incident:close"


def test_audit_records_logins_failures_and_refusals(server: Server) -> None:
    name = _new_user(server)
    _login(server, name, "wrong password!!", "198.51.100.5")
    _login(server, name, PASSWORD, "198.51.100.5")
    token = _login(server, name, PASSWORD, "198.51.100.5").json()["access_token"]
    httpx.delete(
        server.url + f"/api/incidents/{uuid.uuid4()}", headers={"Authorization": f"Bearer {token}"}
    )
    with _admin(server) as admin:
        events = admin.get("/api/audit", params={"subject": name}).json()["events"]
        kinds = [e["kind"] for e in events]
        assert {"user_created", "login_failure", "login_success", "permission_refused"} <= set(
            kinds
        )
        refused = next(e for e in events if e["kind"] == "permission_refused")
        assert (
            refused["detail"]["action"] == "incident:delete"
            and refused["detail"]["method"] == "DELETE"
        )
        assert next(e for e in events if e["kind"] == "login_failure")["ip"] == "198.51.100.5"
    assert (
        httpx.get(
            server.url + "/api/audit", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 403
    )


def _refresh(server: Server, refresh_token: str) -> httpx.Response:
    return httpx.post(
        server.url + "/api/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers={"X-Forwarded-For": "198.51.100.77"},
    )


def test_reusing_a_rotated_refresh_token_ends_its_whole_family(server: Server) -> None:
    """RFC 9700 §4.14.2: a rotated token presented again is held by two parties, the user and a
    thief; the server cannot tell which, so every token of that login ends, the successor
    included, and the user is told to log in again. Another login goes on."""
    name = _new_user(server)
    first = _login(server, name, PASSWORD, "198.51.100.77").json()
    elsewhere = _login(server, name, PASSWORD, "198.51.100.78").json()
    second = _refresh(server, first["refresh_token"]).json()
    third = _refresh(server, second["refresh_token"])
    assert third.status_code == 200, "rotation goes on while each token is used once"

    replayed = _refresh(server, first["refresh_token"])
    assert replayed.status_code == 401
    assert replayed.headers["content-type"] == "application/problem+json"
    assert "log in again" in replayed.json()["detail"]
    successor = _refresh(server, third.json()["refresh_token"])
    assert successor.status_code == 401, "the family's live token is revoked too"
    assert _refresh(server, elsewhere["refresh_token"]).status_code == 200

    with _admin(server) as admin:
        events = admin.get("/api/audit", params={"subject": name, "kind": "refresh_reuse"})
    # Newest first: the replay revoked the one live token; the revoked successor, presented
    # in its turn, had nothing left to revoke.
    assert [e["detail"]["revoked"] for e in events.json()["events"]] == [0, 1]
    assert {e["ip"] for e in events.json()["events"]} == {"198.51.100.77"}


@pytest.mark.parametrize("sub", ["adm", "", "../users"])
def test_a_signed_token_naming_no_user_id_is_refused_with_401(server: Server, sub: str) -> None:
    """Signed with the server's own secret, so only the subject can be wrong."""
    now = datetime.now(UTC)
    token = jwt.encode(
        {"sub": sub, "typ": "access", "iat": now, "exp": now + timedelta(minutes=5)},
        server.env["SITCEN_SECRET_KEY"],
        algorithm="HS256",
    )
    r = httpx.get(server.url + "/api/incidents", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
