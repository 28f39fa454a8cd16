"""A user's own profile: the language is kept on the server, changed by the user, audited."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import PASSWORD, Identities, Server


def _admin(server: Server) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {server.tokens['adm']}"}
    )


def _new_user(server: Server, **extra: str) -> tuple[str, httpx.Client]:
    name = f"lang-{uuid.uuid4().hex[:8]}"
    with _admin(server) as admin:
        created = admin.post(
            "/api/users", json={"username": name, "password": PASSWORD, "role": "operator", **extra}
        )
        assert created.status_code == 201, created.text
    token = httpx.post(
        server.url + "/api/auth/token", data={"username": name, "password": PASSWORD}
    ).json()["access_token"]
    return name, httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})


def test_a_new_user_has_no_language_until_they_choose_one(server: Server) -> None:
    name, me = _new_user(server)
    with me:
        answer = me.get("/api/auth/me").json()
    assert answer["name"] == name and answer["language"] is None


def test_an_admin_may_still_set_a_users_language(server: Server) -> None:
    _, me = _new_user(server, language="nl")
    with me:
        assert me.get("/api/auth/me").json()["language"] == "nl"


def test_a_user_changes_their_own_language_and_it_is_kept_and_audited(server: Server) -> None:
    name, me = _new_user(server)
    with me:
        changed = me.patch("/api/auth/me", json={"language": "nl"})
        assert changed.status_code == 200 and changed.json()["language"] == "nl"
        assert me.get("/api/auth/me").json()["language"] == "nl"
    # A new sign-in (another browser) gets it with the token.
    login = httpx.post(
        server.url + "/api/auth/token", data={"username": name, "password": PASSWORD}
    )
    assert login.json()["user"]["language"] == "nl"
    with _admin(server) as admin:
        events = admin.get("/api/audit", params={"subject": name, "kind": "user_changed"}).json()
        change = events["events"][0]
        assert change["actor"] == name and change["detail"] == {"language": "nl"}
        listed = admin.get("/api/users").json()["users"]
        assert next(u for u in listed if u["username"] == name)["language"] == "nl"


def test_a_user_changes_nothing_else_about_themselves(server: Server) -> None:
    _, me = _new_user(server)
    with me:
        for body in ({"role": "admin"}, {"language": "de"}, {"disabled": True}, {}):
            r = me.patch("/api/auth/me", json=body)
            assert r.status_code == 422, (body, r.status_code)
        assert me.get("/api/auth/me").json()["role"] == "operator"


def test_an_api_key_has_no_profile(server: Server, identities: Identities) -> None:
    headers = {"X-API-Key": identities.keys["dispatch-a"]}
    assert httpx.get(server.url + "/api/auth/me", headers=headers).json()["language"] is None
    r = httpx.patch(server.url + "/api/auth/me", headers=headers, json={"language": "fr"})
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
