"""A partner sees what is shared with all partners or with its organisation, by every path."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Server
from tests.samples import SAMPLES


def _incident(**props: Any) -> dict[str, Any]:
    body = copy.deepcopy(SAMPLES["incidents"][0])
    body["properties"].update(props)
    return body


@pytest.fixture(scope="module")
async def partner_b(server: Server) -> httpx.AsyncClient:
    """A SPOC of another organisation (police zone 5340), created through the admin API."""
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {server.tokens['adm']}"}
    ) as admin:
        r = await admin.post(
            "/api/users",
            json={
                "username": "spoc-5340",
                "password": PASSWORD,
                "role": "partner",
                "organisation": "pz-5340",
            },
        )
        assert r.status_code == 201, r.text
        r = await admin.post(
            "/api/auth/token", data={"username": "spoc-5340", "password": PASSWORD}
        )
        token = r.json()["access_token"]
    return httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"})


async def test_partner_of_a_never_sees_what_is_shared_only_with_b(
    client: httpx.AsyncClient, client_for, partner_b: httpx.AsyncClient
) -> None:
    a = client_for("part")  # organisation pz-5339
    only_b = (
        await client.post(
            "/api/incidents", json=_incident(title="Pour 5340", shared_with=["pz-5340"])
        )
    ).json()
    only_a = (
        await client.post(
            "/api/incidents", json=_incident(title="Pour 5339", shared_with=["pz-5339"])
        )
    ).json()
    everyone = (
        await client.post("/api/incidents", json=_incident(title="Pour tous", visibility="shared"))
    ).json()
    at = (await client.get(f"/api/incidents/{everyone['id']}/history")).json()["changes"][0]["at"]

    async def visible(partner: httpx.AsyncClient) -> dict[str, set[str]]:
        paths = {
            "list": (await partner.get("/api/incidents", params={"limit": 1000})).json()[
                "features"
            ],
            "bbox": (
                await partner.get(
                    "/api/incidents", params={"bbox": "4.34,50.84,4.36,50.85", "limit": 1000}
                )
            ).json()["features"],
            "at": (await partner.get("/api/incidents", params={"at": at, "limit": 1000})).json()[
                "features"
            ],
        }
        seen = {k: {f["id"] for f in v} for k, v in paths.items()}
        seen["changes"] = {
            c["id"]
            for c in (await partner.get("/api/changes", params={"limit": 5000})).json()["changes"]
        }
        seen["get"] = {
            oid
            for oid in (only_a["id"], only_b["id"], everyone["id"])
            if (await partner.get(f"/api/incidents/{oid}")).status_code == 200
        }
        seen["history"] = {
            oid
            for oid in (only_a["id"], only_b["id"], everyone["id"])
            if (await partner.get(f"/api/incidents/{oid}/history")).status_code == 200
        }
        return seen

    for path, ids in (await visible(a)).items():
        assert only_b["id"] not in ids, path
        assert only_a["id"] in ids or path == "at", path
        assert everyone["id"] in ids, path
    for path, ids in (await visible(partner_b)).items():
        assert only_a["id"] not in ids, path
        assert only_b["id"] in ids or path == "at", path


async def test_hidden_objects_answer_404_not_403(client: httpx.AsyncClient, client_for) -> None:
    internal = (await client.post("/api/incidents", json=_incident())).json()
    partner = client_for("part")
    for r in (
        await partner.get(f"/api/incidents/{internal['id']}"),
        await partner.get(f"/api/incidents/{internal['id']}/history"),
        await partner.get(
            f"/api/incidents/{internal['id']}", params={"at": "2100-01-01T00:00:00Z"}
        ),
    ):
        assert r.status_code == 404
        assert internal["properties"]["title"] not in r.text


async def test_sharing_with_an_unknown_organisation_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/incidents", json=_incident(shared_with=["nope"]))
    assert r.status_code == 422
    assert ["body", "properties", "shared_with"] in [e["loc"] for e in r.json()["errors"]]


async def test_partner_cannot_write(client_for) -> None:
    partner = client_for("part")
    assert (await partner.post("/api/incidents", json=_incident())).status_code == 403
    assert (
        await partner.post(
            "/api/logbook", json={"type": "Feature", "geometry": None, "properties": {"title": "x"}}
        )
    ).status_code == 403


async def test_partner_gets_no_change_of_a_type_it_may_not_read(
    client: httpx.AsyncClient, client_for
) -> None:
    since = (await client.get("/api/changes", params={"limit": 1})).json()["head"]
    entry = {
        "type": "Feature",
        "geometry": None,
        "properties": {"title": "Note partagée", "visibility": "shared"},
    }
    assert (await client.post("/api/logbook", json=entry)).status_code == 201
    page = (await client_for("part").get("/api/changes", params={"since": since})).json()
    assert [c for c in page["changes"] if c["entity"] == "logbook_entry"] == []
