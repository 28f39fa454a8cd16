"""Each collection of DESIGN §9: create, read, list, change, history, delete; and the
collections written once (decisions, logbook), which nobody changes or deletes."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from app.domain.registry import BY_PATH
from tests.samples import SAMPLES, feature, linked, needs_activation, point, square

COLLECTIONS = list(SAMPLES)


async def sample(client: httpx.AsyncClient, collection: str) -> dict[str, Any]:
    """The collection's sample, with the activation it belongs to created first if it needs one."""
    body = SAMPLES[collection][0]
    if not needs_activation(body):
        return body
    activation = await client.post("/api/activations", json=SAMPLES["activations"][0])
    return linked(body, activation.json()["id"])


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_create_answers_the_stored_feature(
    client: httpx.AsyncClient, collection: str
) -> None:
    body = await sample(client, collection)
    r = await client.post(f"/api/{collection}", json=body)
    assert r.status_code == 201, r.text
    f = r.json()
    assert r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["location"] == f"/api/{collection}/{f['id']}"
    assert r.headers["etag"] == '"1"'
    props = f["properties"]
    for key in ("ref", "version", "municipality", "police_zone", "created_at", "created_by"):
        assert key in props
    assert props["version"] == 1
    assert props["created_by"] == "op"
    assert props["title"] == body["properties"]["title"]
    if body["geometry"] is not None:
        assert "21004" in [m["code"] for m in props["municipalities"]]
        assert props["municipality"] in props["municipalities"]
        assert "5339" in [z["code"] for z in props["police_zones"]]


@pytest.mark.parametrize("collection", COLLECTIONS)
async def test_read_list_patch_and_history(client: httpx.AsyncClient, collection: str) -> None:
    body, change = await sample(client, collection), SAMPLES[collection][1]
    created = (await client.post(f"/api/{collection}", json=body)).json()
    oid = created["id"]

    read = await client.get(f"/api/{collection}/{oid}")
    assert read.status_code == 200 and read.json() == created

    listed = (await client.get(f"/api/{collection}", params={"limit": 1000})).json()
    assert listed["type"] == "FeatureCollection"
    assert oid in [f["id"] for f in listed["features"]]

    r = await client.patch(
        f"/api/{collection}/{oid}",
        json={"type": "Feature", "properties": change},
        headers={"If-Match": '"1"'},
    )
    if BY_PATH[collection].append_only:
        # Written once: there is no PATCH to route to, and nothing is written.
        assert r.status_code == 405, r.text
        assert (await client.get(f"/api/{collection}/{oid}")).json() == created
        history = (await client.get(f"/api/{collection}/{oid}/history")).json()["changes"]
        assert [(c["op"], c["version"]) for c in history] == [("created", 1)]
        return
    assert r.status_code == 200, r.text
    updated = r.json()["properties"]
    assert updated["version"] == 2 and r.headers["etag"] == '"2"'
    for key, value in change.items():
        assert updated[key] == value
    assert updated["updated_by"] == "op"

    history = (await client.get(f"/api/{collection}/{oid}/history")).json()["changes"]
    assert [(c["op"], c["version"]) for c in history] == [("created", 1), ("updated", 2)]
    assert all(c["by"] == "op" for c in history)
    # The create's change record (completed by its INSERT statement) is the Feature answered.
    assert history[0]["feature"] == created


async def test_unchanged_patch_writes_nothing(client: httpx.AsyncClient) -> None:
    body, _ = SAMPLES["incidents"]
    created = (await client.post("/api/incidents", json=body)).json()
    head = (await client.get("/api/changes", params={"since": 0, "limit": 1})).json()["head"]
    r = await client.patch(
        f"/api/incidents/{created['id']}",
        json={"type": "Feature", "properties": {"severity": "severe"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200 and r.json()["properties"]["version"] == 1
    assert (await client.get("/api/changes", params={"since": 0, "limit": 1})).json()[
        "head"
    ] == head


async def test_geometry_patch_recomputes_municipality(client: httpx.AsyncClient) -> None:
    created = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()
    flagey = point(4.3722, 50.8275)
    r = await client.patch(
        f"/api/incidents/{created['id']}",
        json={"type": "Feature", "geometry": flagey, "properties": {}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["properties"]["municipality"]["code"] == "21009"
    assert r.json()["geometry"]["coordinates"] == [4.3722, 50.8275]


async def test_closing_an_incident_sets_closed_at_and_closed_is_final(
    client: httpx.AsyncClient,
) -> None:
    f = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()
    url = f"/api/incidents/{f['id']}"
    for version, status in enumerate(["ongoing", "resolved", "closed"], start=1):
        r = await client.patch(
            url,
            json={"type": "Feature", "properties": {"status": status}},
            headers={"If-Match": f'"{version}"'},
        )
        assert r.status_code == 200, r.text
    assert r.json()["properties"]["closed_at"] is not None
    r = await client.patch(
        url,
        json={"type": "Feature", "properties": {"status": "reported"}},
        headers={"If-Match": '"4"'},
    )
    assert r.status_code == 409
    problem = r.json()
    assert problem["allowed"] == [] and problem["current"] == "closed"
    assert "final" in problem["detail"]


async def test_refused_transition_lists_the_allowed_ones(client: httpx.AsyncClient) -> None:
    f = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()
    await client.patch(
        f"/api/incidents/{f['id']}",
        json={"type": "Feature", "properties": {"status": "ongoing"}},
        headers={"If-Match": '"1"'},
    )
    r = await client.patch(
        f"/api/incidents/{f['id']}",
        json={"type": "Feature", "properties": {"status": "reported"}},
        headers={"If-Match": '"2"'},
    )
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["allowed"] == ["resolved"]


async def test_stale_version_is_refused_with_current_state(client: httpx.AsyncClient) -> None:
    f = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()
    url = f"/api/incidents/{f['id']}"
    await client.patch(
        url,
        json={"type": "Feature", "properties": {"title": "Incendie maîtrisé"}},
        headers={"If-Match": '"1"'},
    )
    r = await client.patch(
        url,
        json={"type": "Feature", "properties": {"title": "Autre titre"}},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 412
    assert r.json()["current"]["properties"]["title"] == "Incendie maîtrisé"
    assert r.json()["current"]["properties"]["version"] == 2
    assert r.headers["etag"] == '"2"'


async def test_patch_without_if_match_is_refused(client: httpx.AsyncClient) -> None:
    f = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()
    r = await client.patch(
        f"/api/incidents/{f['id']}", json={"type": "Feature", "properties": {"title": "x"}}
    )
    assert r.status_code == 428


async def test_zone_belongs_to_an_existing_event(client: httpx.AsyncClient) -> None:
    event = (await client.post("/api/events", json=SAMPLES["events"][0])).json()
    zone = copy.deepcopy(SAMPLES["zones"][0])
    zone["properties"].update(parent_entity="planned_event", parent_id=event["id"])
    r = await client.post("/api/zones", json=zone)
    assert r.status_code == 201, r.text
    listed = (await client.get("/api/zones", params={"subject": event["id"]})).json()["features"]
    assert [z["id"] for z in listed] == [r.json()["id"]]

    zone["properties"]["parent_id"] = "01890000-0000-7000-8000-000000000000"
    r = await client.post("/api/zones", json=zone)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == [
        "body",
        "properties",
        "parent_id",
    ]


async def test_logbook_entry_on_an_activation(client: httpx.AsyncClient) -> None:
    act = (await client.post("/api/activations", json=SAMPLES["activations"][0])).json()
    entry = feature(
        None, title="SITREP 1", kind="sitrep", subject_entity="activation", subject_id=act["id"]
    )
    r = await client.post("/api/logbook", json=entry)
    assert r.status_code == 201, r.text
    listed = (await client.get("/api/logbook", params={"subject": act["id"]})).json()["features"]
    assert [e["properties"]["title"] for e in listed] == ["SITREP 1"]


async def test_route_zone_needs_a_line(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/zones", json=feature(square(4.36, 50.84), title="Itinéraire", kind="route")
    )
    assert r.status_code == 422
    assert "LineString" in r.json()["detail"]


async def test_delete_is_for_admins_and_is_recorded(client_for, client: httpx.AsyncClient) -> None:
    f = (await client.post("/api/incidents", json=SAMPLES["incidents"][0])).json()
    assert (await client.delete(f"/api/incidents/{f['id']}")).status_code == 403
    admin = client_for("adm")
    assert (await admin.delete(f"/api/incidents/{f['id']}")).status_code == 204
    assert (await client.get(f"/api/incidents/{f['id']}")).status_code == 404
    history = (await client.get(f"/api/incidents/{f['id']}/history")).json()["changes"]
    assert history[-1]["op"] == "deleted" and history[-1]["by"] == "adm"


async def test_nobody_deletes_a_logbook_entry_not_even_an_admin(
    client_for, client: httpx.AsyncClient
) -> None:
    entry = (await client.post("/api/logbook", json=SAMPLES["logbook"][0])).json()
    admin = client_for("adm")
    r = await admin.delete(f"/api/logbook/{entry['id']}")
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/api/logbook/{entry['id']}")).json() == entry
