"""Bulk create: `POST /api/{collection}` with a FeatureCollection creates each feature through
the one write path (one transaction per request, or per feature with an Idempotency-Key) and
answers one result per feature."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import incident
from tests.samples import SAMPLES, linked, needs_activation

PROBLEM = "application/problem+json"


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


async def head(client: httpx.AsyncClient) -> int:
    return int((await client.get("/api/changes", params={"limit": 1})).json()["head"])


async def changes_since(client: httpx.AsyncClient, seq: int) -> list[dict[str, Any]]:
    body = (await client.get("/api/changes", params={"since": seq, "limit": 5000})).json()
    return list(body["changes"])


async def test_valid_features_are_created_and_each_invalid_one_is_refused_with_its_problem(
    client: httpx.AsyncClient,
) -> None:
    before = await head(client)
    no_title = incident()
    del no_title["properties"]["title"]
    line = incident("Hors du monde", point=[400.0, 50.84])
    r = await client.post(
        "/api/incidents",
        json=collection(
            incident("Premier"), no_title, incident("Second", severity="grave"), line, "x"
        ),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["created"], body["existing"], body["refused"]) == (1, 0, 4)
    results = body["results"]
    assert [x["index"] for x in results] == [0, 1, 2, 3, 4]
    assert [x["status"] for x in results] == [201, 422, 422, 422, 422]

    created = results[0]
    assert created["feature"]["id"] == created["id"]
    assert created["feature"]["properties"]["title"] == "Premier"
    assert created["feature"]["properties"]["ref"].startswith("INC-")
    read = await client.get(f"/api/incidents/{created['id']}")
    assert read.status_code == 200 and read.json()["properties"]["title"] == "Premier"

    locs = [[e["loc"] for e in x["problem"]["errors"]] for x in results[1:]]
    assert ["body", "features", 1, "properties", "title"] in locs[0]
    assert ["body", "features", 2, "properties", "severity"] in locs[1]
    assert any(loc[:4] == ["body", "features", 3, "geometry"] for loc in locs[2]), locs[2]
    assert ["body", "features", 4] in locs[3]
    assert all(x["problem"]["status"] == 422 and x["problem"]["type"] for x in results[1:])

    # Only the created feature is in the feed: one `created` record, by the caller.
    records = await changes_since(client, before)
    assert [(c["op"], c["id"], c["by"]) for c in records] == [("created", created["id"], "op")]


async def test_each_created_feature_has_its_own_change_record_in_order(
    client: httpx.AsyncClient,
) -> None:
    before = await head(client)
    titles = [f"Lot {i}" for i in range(25)]
    r = await client.post("/api/incidents", json=collection(*(incident(t) for t in titles)))
    assert r.status_code == 200, r.text
    ids = [x["id"] for x in r.json()["results"]]
    records = await changes_since(client, before)
    assert [c["id"] for c in records] == ids
    assert [c["feature"]["properties"]["title"] for c in records] == titles
    assert all(c["op"] == "created" and c["version"] == 1 for c in records)
    assert [c["seq"] for c in records] == list(range(before + 1, before + 26))


async def test_more_than_a_thousand_features_is_refused_whole_and_creates_nothing(
    client: httpx.AsyncClient,
) -> None:
    before = await head(client)
    r = await client.post(
        "/api/incidents", json=collection(*(incident(f"n{i}") for i in range(1001)))
    )
    assert r.status_code == 413
    assert r.headers["content-type"].startswith(PROBLEM)
    problem = r.json()
    assert problem["max_rows"] == 1000 and "1000" in problem["detail"]
    assert await head(client) == before


async def test_a_thousand_features_are_taken(client: httpx.AsyncClient) -> None:
    before = await head(client)
    r = await client.post(
        "/api/incidents", json=collection(*(incident(f"m{i}") for i in range(1000)))
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1000
    assert await head(client) == before + 1000


async def test_an_empty_collection_creates_nothing(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/incidents", json=collection())
    assert r.status_code == 200
    assert r.json() == {"created": 0, "existing": 0, "refused": 0, "results": []}


async def test_a_malformed_collection_is_refused_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    before = await head(client)
    r = await client.post("/api/incidents", json={"type": "FeatureCollection", "items": []})
    assert r.status_code == 422
    locs = [e["loc"] for e in r.json()["errors"]]
    assert ["body", "features"] in locs and ["body", "items"] in locs
    assert await head(client) == before


async def test_a_retried_request_with_external_ids_creates_only_what_is_missing(
    client_for,
) -> None:
    dispatch = client_for("dispatch-a")
    tag = uuid.uuid4().hex[:8]
    features = [incident(f"Appel {i}", external_id=f"{tag}-{i}") for i in range(3)]
    first = await dispatch.post("/api/incidents", json=collection(*features[:2]))
    assert [x["status"] for x in first.json()["results"]] == [201, 201]

    again = await dispatch.post("/api/incidents", json=collection(*features))
    assert again.status_code == 200
    results = again.json()["results"]
    assert [x["status"] for x in results] == [200, 200, 201]
    assert [x["id"] for x in results[:2]] == [x["id"] for x in first.json()["results"]]
    assert results[2]["feature"]["properties"]["created_by"] == "key:dispatch-a"
    assert all(x["feature"]["properties"]["source"] == "dispatch-a" for x in results)


async def test_a_retried_request_with_the_same_idempotency_key_answers_the_first_objects(
    client: httpx.AsyncClient,
) -> None:
    key = {"Idempotency-Key": f"bulk-{uuid.uuid4()}"}
    body = collection(incident("Clé A"), incident("Clé B"))
    first = await client.post("/api/incidents", json=body, headers=key)
    assert [x["status"] for x in first.json()["results"]] == [201, 201]
    before = await head(client)

    again = await client.post("/api/incidents", json=body, headers=key)
    assert [x["status"] for x in again.json()["results"]] == [200, 200]
    assert [x["id"] for x in again.json()["results"]] == [x["id"] for x in first.json()["results"]]
    assert await head(client) == before

    # The same key with another feature at an index: that feature is refused, not created.
    changed = collection(incident("Clé A"), incident("Autre chose"))
    third = (await client.post("/api/incidents", json=changed, headers=key)).json()
    assert [x["status"] for x in third["results"]] == [200, 422]
    assert "Idempotency-Key" in third["results"][1]["problem"]["detail"]
    assert await head(client) == before


async def test_a_dispatch_key_may_not_write_under_another_source_feature_by_feature(
    client_for,
) -> None:
    dispatch = client_for("dispatch-a")
    r = await dispatch.post(
        "/api/incidents",
        json=collection(incident("Le sien"), incident("Pas le sien", source="dispatch-b")),
    )
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["status"] for x in results] == [201, 403]
    assert "dispatch-a" in results[1]["problem"]["detail"]


async def test_a_dispatch_key_may_not_bulk_create_what_it_may_not_create(client_for) -> None:
    r = await client_for("dispatch-a").post("/api/zones", json=collection(SAMPLES["zones"][0]))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith(PROBLEM)


async def test_a_partner_is_refused_a_bulk_create_and_nothing_is_written(
    client_for, client: httpx.AsyncClient
) -> None:
    before = await head(client)
    r = await client_for("part").post("/api/incidents", json=collection(incident("Du partenaire")))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith(PROBLEM)
    assert await head(client) == before


async def test_a_single_feature_create_answers_as_before(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/incidents", json=incident("Seul"))
    assert r.status_code == 201
    assert r.headers["content-type"].startswith("application/geo+json")
    bad = incident()
    del bad["properties"]["title"]
    r = await client.post("/api/incidents", json=bad)
    assert r.status_code == 422
    assert ["body", "properties", "title"] in [e["loc"] for e in r.json()["errors"]]


async def test_the_openapi_description_names_both_bodies(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    content = spec["paths"]["/api/incidents"]["post"]["requestBody"]["content"]
    refs = {x["$ref"].rsplit("/", 1)[1] for x in content["application/json"]["schema"]["anyOf"]}
    assert refs == {"IncidentFeature", "IncidentFeatureCollection"}
    features = spec["components"]["schemas"]["IncidentFeatureCollection"]["properties"]["features"]
    assert features["maxItems"] == 1000


async def test_the_same_external_id_twice_in_one_collection_creates_one_object(
    client_for,
) -> None:
    dispatch = client_for("dispatch-a")
    ext = f"twice-{uuid.uuid4().hex[:8]}"
    r = await dispatch.post(
        "/api/incidents",
        json=collection(incident("Une fois", external_id=ext), incident("Deux", external_id=ext)),
    )
    results = r.json()["results"]
    assert [x["status"] for x in results] == [201, 200]
    assert results[0]["id"] == results[1]["id"]
    assert results[1]["feature"]["properties"]["title"] == "Une fois"


async def test_a_kind_with_work_around_each_insert_is_created_feature_by_feature(
    client: httpx.AsyncClient,
) -> None:
    before = await head(client)
    entry = SAMPLES["logbook"][0]
    untitled = {
        **entry,
        "properties": {k: v for k, v in entry["properties"].items() if k != "title"},
    }
    r = await client.post("/api/logbook", json=collection(entry, untitled, entry))
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == [201, 422, 201]
    records = await changes_since(client, before)
    assert [c["id"] for c in records] == [results[0]["id"], results[2]["id"]]


@pytest.mark.parametrize("collection_name", list(SAMPLES))
async def test_a_bulk_created_object_is_stored_as_a_single_create_stores_it(
    client: httpx.AsyncClient, collection_name: str
) -> None:
    """The bulk statement writes each kind's values as the single create's does (its arrays,
    its JSON, its times), and answers what it stored."""
    body = SAMPLES[collection_name][0]
    if needs_activation(body):
        activation = await client.post("/api/activations", json=SAMPLES["activations"][0])
        body = linked(body, activation.json()["id"])
    single = await client.post(f"/api/{collection_name}", json=body)
    assert single.status_code == 201, single.text
    r = await client.post(f"/api/{collection_name}", json=collection(body))
    if r.status_code != 200:
        assert r.status_code < 500, r.text
        pytest.skip(f"{collection_name} takes no FeatureCollection: {r.status_code}")
    result = r.json()["results"][0]
    assert result["status"] == 201, result
    stored = (await client.get(f"/api/{collection_name}/{result['id']}")).json()
    assert result["feature"] == stored
    first = single.json()["properties"]
    for name in body["properties"]:
        assert stored["properties"][name] == first[name], name
    for name in ("municipality", "municipalities", "police_zone", "police_zones", "version"):
        assert stored["properties"][name] == first[name], name
