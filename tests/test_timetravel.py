"""The picture as it stood at a past instant, rebuilt from the change feed."""

from __future__ import annotations

import httpx

from tests.samples import SAMPLES, feature, point


async def _at_of_version(client: httpx.AsyncClient, oid: str, version: int) -> str:
    history = (await client.get(f"/api/incidents/{oid}/history")).json()["changes"]
    return next(c["at"] for c in history if c["version"] == version)


async def test_state_between_two_updates_is_the_earlier_state(client: httpx.AsyncClient) -> None:
    oid = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()["id"]
    await client.patch(
        f"/api/incidents/{oid}",
        headers={"If-Match": '"1"'},
        json={"type": "Feature", "properties": {"title": "Version 2", "severity": "extreme"}},
    )
    at_v2 = await _at_of_version(client, oid, 2)
    await client.patch(
        f"/api/incidents/{oid}",
        headers={"If-Match": '"2"'},
        json={"type": "Feature", "properties": {"title": "Version 3"}},
    )

    then = (await client.get(f"/api/incidents/{oid}", params={"at": at_v2})).json()
    assert then["properties"]["version"] == 2 and then["properties"]["title"] == "Version 2"
    now = (await client.get(f"/api/incidents/{oid}")).json()
    assert now["properties"]["title"] == "Version 3"

    listed = (
        await client.get("/api/incidents", params={"at": at_v2, "q": "Version", "limit": 1000})
    ).json()
    match = [f for f in listed["features"] if f["id"] == oid]
    assert match and match[0]["properties"]["title"] == "Version 2"
    assert listed["at"]
    extreme = (
        await client.get(
            "/api/incidents",
            params={
                "at": at_v2,
                "status": "reported",
                "bbox": "4.34,50.84,4.36,50.85",
                "limit": 1000,
            },
        )
    ).json()
    assert oid in [f["id"] for f in extreme["features"]]


async def test_an_object_created_later_is_absent_and_a_deleted_one_present(
    client: httpx.AsyncClient, client_for
) -> None:
    first = (
        await client.post(
            "/api/incidents",
            json=feature(point(4.3722, 50.8275), title="Avant", category="other", severity="minor"),
        )
    ).json()
    at = await _at_of_version(client, first["id"], 1)
    later = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()
    assert (await client_for("adm").delete(f"/api/incidents/{first['id']}")).status_code == 204

    then = [
        f["id"]
        for f in (await client.get("/api/incidents", params={"at": at, "limit": 1000})).json()[
            "features"
        ]
    ]
    assert first["id"] in then and later["id"] not in then
    assert (await client.get(f"/api/incidents/{first['id']}", params={"at": at})).status_code == 200
    assert (await client.get(f"/api/incidents/{later['id']}", params={"at": at})).status_code == 404


async def test_time_travel_respects_partner_scope(client: httpx.AsyncClient, client_for) -> None:
    oid = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()["id"]
    at = await _at_of_version(client, oid, 1)
    partner = client_for("part")
    assert (await partner.get(f"/api/incidents/{oid}", params={"at": at})).status_code == 404
    ids = [
        f["id"]
        for f in (await partner.get("/api/incidents", params={"at": at, "limit": 1000})).json()[
            "features"
        ]
    ]
    assert oid not in ids
